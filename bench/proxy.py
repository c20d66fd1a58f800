#!/usr/bin/python3
"""bench/proxy.py: mod_tls as mod_proxy's TLS client next to mod_ssl's SSLProxyEngine (issue 12).

A benchmark, not a test. Two frontends, identical apart from the module that makes their backend
TLS connections (mod_tls `TLSProxyEngine on` / mod_ssl `SSLProxyEngine on`), proxy plain HTTP
requests to one backend httpd (mod_ssl, TLS 1.3 AES-128-GCM, a 1 KiB file). Figures: the
frontend's CPU time (all its processes and threads) per request

  proxy-ka:       keep-alive requests, backend connections reused (h2load --h1 -c 8, 20000 req)
  proxy-newconn:  every request on a new backend connection (SetEnv proxy-nokeepalive 1), which
                  with mod_tls resumes the session of an earlier one (h2load --h1 -c 4, 4000 req);
                  mod_ssl's proxy keeps no client sessions, so it makes a full handshake each time

Frontends run on CPU 0, the backend and h2load on CPU 1. Runs alternate (mod_ssl first in even
rounds); the figure is the median of --reps runs per frontend. Every run checks that all
requests succeeded and, for proxy-newconn, that the backend resumed the sessions.

  /usr/bin/python3 bench/proxy.py --root DIR --port-base N [--reps 5] [--json FILE]

Needs build/mod_tls.so, Debian's apache2 with mod_ssl, mod_proxy, h2load, openssl.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MODULES = "/usr/lib/apache2/modules"
SUITE = "TLS_AES_128_GCM_SHA256"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=kw.pop("timeout", 120), **kw)


def make_certs(d):
    os.makedirs(d, exist_ok=True)
    ca_key, ca, key, csr, cert = (os.path.join(d, n) for n in ("ca.key", "ca.pem", "be.key", "be.csr", "be.pem"))
    if not os.path.exists(cert):
        sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", ca_key, "-out", ca, "-days", "30", "-subj", "/CN=bench proxy CA"])
        sh(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
            "-out", csr, "-subj", "/CN=localhost"])
        ext = os.path.join(d, "ext.cnf")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        sh(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
            "-days", "30", "-extfile", ext])
    return ca, cert, key


class Httpd:
    def __init__(self, name, root, port, cpu, body, modules):
        self.name, self.root, self.port, self.cpu = name, root, port, cpu
        self.conf = os.path.join(root, "httpd.conf")
        self.pid_file = os.path.join(root, "httpd.pid")
        self.log = os.path.join(root, "error.log")
        os.makedirs(os.path.join(root, "htdocs"), exist_ok=True)
        with open(os.path.join(root, "htdocs", "1k.txt"), "wb") as f:
            f.write(b"x" * 1024)
        loads = "\n".join(f"LoadModule {m}_module {MODULES}/mod_{m}.so" for m in
                          ("mpm_event", "authz_core", "mime", "env") + tuple(modules))
        user = "User daemon\nGroup daemon\n" if os.geteuid() == 0 else ""
        with open(self.conf, "w") as f:
            f.write(f"""ServerRoot "{root}"
DefaultRuntimeDir "{root}"
PidFile "{self.pid_file}"
Mutex file:{root} default
{loads}
{user}ServerName localhost
Listen 127.0.0.1:{port}
ErrorLog "{self.log}"
LogLevel warn
TypesConfig /etc/mime.types
KeepAlive On
KeepAliveTimeout 60
MaxKeepAliveRequests 0
<IfModule mpm_event_module>
    StartServers 2
    ServerLimit 2
    ThreadsPerChild 32
    MaxRequestWorkers 64
    MinSpareThreads 1
    MaxSpareThreads 64
    MaxConnectionsPerChild 0
</IfModule>
DocumentRoot "{root}/htdocs"
<Directory "{root}/htdocs">
    Require all granted
</Directory>
{body}
""")

    def start(self):
        sh(["taskset", "-c", str(self.cpu), "/usr/sbin/apache2", "-d", self.root, "-f", self.conf, "-k", "start"])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        time.sleep(0.5)
        with open(self.pid_file) as f:
            self.pid = int(f.read())

    def stop(self):
        try:
            with open(self.pid_file) as f:
                pid = int(f.read())
        except (OSError, ValueError):
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.1)

    def pids(self):
        found = [self.pid]
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as f:
                        if int(f.read().rsplit(")", 1)[1].split()[2]) == self.pid:
                            found.append(int(d))
                except (OSError, ValueError, IndexError):
                    pass
        return found

    def cpu_ns(self):
        """CPU time of every thread of every process (schedstat, ns); and the process set."""
        total, pids = 0, sorted(self.pids())
        for pid in pids:
            try:
                for tid in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                        total += int(f.read().split()[0])
            except OSError:
                pass
        return total, pids


def h2load(url, conns, requests):
    r = sh(["taskset", "-c", "1", "h2load", "--h1", "-c", str(conns), "-m", "1", "-n", str(requests), url],
           timeout=300)
    m = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed", r.stdout)
    status = re.search(r"status codes: (\d+) 2xx", r.stdout)
    rate = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", r.stdout)
    return (int(m.group(1)), int(m.group(2)), int(status.group(1)) if status else 0,
            float(rate.group(1)) if rate else 0.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-base", type=int, required=True)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    if os.path.exists(root):
        shutil.rmtree(root)
    os.makedirs(root)
    os.chmod(root, 0o755)
    ca, cert, key = make_certs(os.path.join(root, "certs"))
    for fn in (ca, cert, key):
        os.chmod(fn, 0o644)
    pb = args.port_base
    backend = Httpd("backend", os.path.join(root, "backend"), pb, 1, f"""
Listen 127.0.0.1:{pb + 1}
SSLSessionCache shmcb:{root}/backend/scache(512000)
<VirtualHost 127.0.0.1:{pb + 1}>
    ServerName localhost
    SSLEngine on
    SSLCertificateFile {cert}
    SSLCertificateKeyFile {key}
    SSLCipherSuite TLSv1.3 {SUITE}
    CustomLog "{root}/backend/access.log" "%{{SSL_SESSION_RESUMED}}x %{{SSL_CIPHER}}x %>s"
</VirtualHost>""", ("ssl", "socache_shmcb", "alias"))
    route = f"""ProxyPass /ka/ https://localhost:{pb + 1}/
ProxyPass /new/ https://localhost:{pb + 1}/nc/
<Location /new/>
    SetEnv proxy-nokeepalive 1
</Location>"""
    backend_alias = f"\nAlias /nc/ {root}/backend/htdocs/\n"
    with open(backend.conf, "a") as f:
        f.write(backend_alias)
    mod_tls_so = os.path.join(REPO, "build", "mod_tls.so")
    fronts = {
        "mod_ssl": Httpd("mod_ssl", os.path.join(root, "front-ssl"), pb + 10, 0, f"""
SSLProxyEngine on
SSLProxyCACertificateFile {ca}
SSLSessionCache shmcb:{root}/front-ssl/scache(512000)
{route}""", ("ssl", "socache_shmcb", "proxy", "proxy_http")),
        "mod_tls": Httpd("mod_tls", os.path.join(root, "front-tls"), pb + 20, 0, f"""
LoadModule tls_module {mod_tls_so}
TLSProxyEngine on
TLSProxyCA {ca}
{route}""", ("socache_shmcb", "proxy", "proxy_http")),
    }
    scenarios = {"proxy-ka": ("/ka/1k.txt", 8, 20000), "proxy-newconn": ("/new/1k.txt", 4, 4000)}
    results = {s: {n: [] for n in fronts} for s in scenarios}
    rates = {s: {n: [] for n in fronts} for s in scenarios}
    backend.start()
    try:
        for f in fronts.values():
            f.start()
        for name, (path, conns, n) in scenarios.items():
            for f in fronts.values():  # warm-up: connections, session caches
                h2load(f"http://127.0.0.1:{f.port}{path}", conns, 500)
            for rep in range(args.reps):
                order = list(fronts) if rep % 2 == 0 else list(reversed(list(fronts)))
                for fname in order:
                    f = fronts[fname]
                    blog = os.path.join(root, "backend", "access.log")
                    bmark = os.path.getsize(blog) if os.path.exists(blog) else 0
                    cpu0, pids0 = f.cpu_ns()
                    ok, failed, st2xx, rate = h2load(f"http://127.0.0.1:{f.port}{path}", conns, n)
                    cpu1, pids1 = f.cpu_ns()
                    problems = []
                    if ok != n or failed or st2xx != n:
                        problems.append(f"{ok} succeeded, {failed} failed, {st2xx} 2xx of {n}")
                    if pids0 != pids1:
                        problems.append("process set changed")
                    with open(blog) as fh:
                        fh.seek(bmark)
                        lines = fh.read().splitlines()
                    resumed = sum(1 for ln in lines if ln.startswith("Resumed"))
                    # mod_ssl's proxy never resumes a backend session (it keeps no client
                    # sessions): its figure is that of full handshakes, said in the output
                    if name == "proxy-newconn" and fname == "mod_tls" and resumed < 0.9 * n:
                        problems.append(f"only {resumed} of {n} backend connections resumed")
                    us = (cpu1 - cpu0) / 1000 / n
                    print(f"{name:14} {fname:8} rep {rep}: {us:7.1f} µs CPU/request, {rate:7.0f} req/s, "
                          f"{resumed} backend connections resumed"
                          f"{'  INVALID: ' + '; '.join(problems) if problems else ''}", flush=True)
                    if not problems:
                        results[name][fname].append(us)
                        rates[name][fname].append(rate)
    finally:
        for f in fronts.values():
            f.stop()
        backend.stop()
    summary = {}
    for name in scenarios:
        med = {fn: statistics.median(v) if v else None for fn, v in results[name].items()}
        ratio = med["mod_tls"] / med["mod_ssl"] if med["mod_tls"] and med["mod_ssl"] else None
        rate = {fn: statistics.median(v) if v else None for fn, v in rates[name].items()}
        summary[name] = {"median_us_per_request": med, "ratio_tls_to_ssl": ratio, "runs": results[name],
                         "median_requests_per_s": rate}
        print(f"{name:14} mod_ssl {med['mod_ssl']:.1f}  mod_tls {med['mod_tls']:.1f}  ratio {ratio:.2f}  "
              f"req/s mod_ssl {rate['mod_ssl']:.0f} mod_tls {rate['mod_tls']:.0f}"
              if ratio else f"{name}: no valid runs")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
