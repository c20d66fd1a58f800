"""The two private httpd instances of the benchmark, their certificates and their documents.

Both instances run Debian's /usr/sbin/apache2 with the same configuration apart from the TLS
module: the same event MPM settings, modules, documents, certificates, protocols (TLS 1.2 + 1.3,
h2 + http/1.1) and cipher suites (rustls' defaults; mod_ssl is given the same list). Each listens
on three loopback ports: base + 0 presents the ECDSA P-256 certificate, base + 1 the RSA-2048 one
(a client picks the certificate by port, whatever its TLS options), base + 2 is plain HTTP (the
baseline of the memory scenario).

An instance is started pinned to one CPU (`taskset` on the parent before it forks: the children
inherit the affinity) and stopped through the pid in its own PidFile, never by process name.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from typing import Dict, List, Optional

from . import procs

APACHE2 = "/usr/sbin/apache2"
MODULES_DIR = "/usr/lib/apache2/modules"

# rustls 0.23.26's default suites (ring provider), in its order. mod_ssl gets the same, in OpenSSL's names.
TLS13_SUITES = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"
TLS12_SUITES = ("ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
                "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305")
# rustls' "safe default" key exchange groups, in its order.
GROUPS = "X25519:P-256:P-384"

# Certificate kinds; each instance serves kind i on port base + i.
CERT_KINDS = ("ecdsa", "rsa")

# What is logged (only for the /hs/ and /bulk/ documents, see LOG_CONDITION): the keep-alive
# request number (0 = first request on its connection), protocol, suite, resumption, status,
# size and the query string, which carries the run's tag.
LOG_FORMAT = '%k %{SSL_PROTOCOL}x %{SSL_CIPHER}x %{SSL_SESSION_RESUMED}x %>s %B %U%q'
LOG_CONDITION = '"expr=%{REQUEST_URI} =~ m#^/(hs|bulk)/#"'

KA_NAME = "ka/1k.bin"
HS_NAME = "hs/index.html"


class BenchError(Exception):
    pass


def run(cmd: List[str], timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout, **kw)


# ---- certificates ------------------------------------------------------------------------

def make_certs(cert_dir: str) -> Dict[str, Dict[str, str]]:
    """ECDSA P-256 and RSA-2048 leaf certificates for "localhost" / 127.0.0.1, each issued by
    its own CA of the same key type (made with openssl). Kept between runs."""
    os.makedirs(cert_dir, exist_ok=True)
    out = {}
    newkey = {"ecdsa": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], "rsa": ["-newkey", "rsa:2048"]}
    ext = os.path.join(cert_dir, "leaf.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for kind in CERT_KINDS:
        files = {n: os.path.join(cert_dir, f"{kind}.{n}") for n in ("pem", "key", "ca.pem", "ca.key", "csr")}
        if not (os.path.exists(files["pem"]) and os.path.exists(files["key"])):
            steps = [
                ["openssl", "req", "-x509", *newkey[kind], "-nodes", "-keyout", files["ca.key"], "-out",
                 files["ca.pem"], "-days", "3650", "-subj", f"/CN=mod_tls benchmark {kind} CA"],
                ["openssl", "req", "-new", *newkey[kind], "-nodes", "-keyout", files["key"], "-out", files["csr"],
                 "-subj", "/CN=localhost"],
                ["openssl", "x509", "-req", "-in", files["csr"], "-CA", files["ca.pem"], "-CAkey", files["ca.key"],
                 "-CAcreateserial", "-days", "3650", "-extfile", ext, "-out", files["pem"]],
            ]
            for cmd in steps:
                r = run(cmd)
                if r.returncode != 0:
                    raise BenchError(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
            os.chmod(files["key"], 0o644)  # read by the parent only, but keep it simple for User daemon
        out[kind] = {"cert": files["pem"], "key": files["key"], "ca": files["ca.pem"]}
    return out


# ---- documents ---------------------------------------------------------------------------

def bulk_name(mib: int) -> str:
    return f"bulk/{mib}m.bin"


def make_docroot(docroot: str, bulk_mib: int) -> None:
    for d in ("hs", "ka", "bulk"):
        os.makedirs(os.path.join(docroot, d), exist_ok=True)
    with open(os.path.join(docroot, HS_NAME), "w") as f:
        f.write("<html><body>mod_tls benchmark</body></html>\n")
    with open(os.path.join(docroot, KA_NAME), "wb") as f:
        f.write(bytes((i * 7 + 3) % 256 for i in range(1024)))
    bulk = os.path.join(docroot, bulk_name(bulk_mib))
    size = bulk_mib * 1024 * 1024
    if not os.path.exists(bulk) or os.path.getsize(bulk) != size:
        block = os.urandom(1024 * 1024)  # content is irrelevant to TLS (no compression)
        with open(bulk + ".tmp", "wb") as f:
            for _ in range(bulk_mib):
                f.write(block)
        os.replace(bulk + ".tmp", bulk)


# ---- instances ---------------------------------------------------------------------------

def _mpm_conf(threads: int) -> str:
    # Two children that never change during a run: StartServers = ServerLimit, spare-thread
    # limits that neither add nor remove children, no child replacement after N connections.
    # AsyncRequestWorkerFactor and KeepAliveTimeout let 1000+ idle keep-alive connections wait
    # in the listener without a worker each.
    return f"""<IfModule mpm_event_module>
    StartServers 2
    ServerLimit 2
    ThreadLimit {threads}
    ThreadsPerChild {threads}
    MaxRequestWorkers {2 * threads}
    MinSpareThreads 1
    MaxSpareThreads {2 * threads}
    MaxConnectionsPerChild 0
    AsyncRequestWorkerFactor 32
</IfModule>"""


class Instance:
    """One httpd under `root` (a directory of its own), serving TLS on ports base, base + 1."""

    def __init__(self, name: str, root: str, port_base: int, docroot: str, certs: Dict[str, Dict[str, str]],
                 mod_tls_so: Optional[str], cpu: Optional[int], threads: int = 64):
        self.name = name
        self.root = root
        self.ports = {kind: port_base + i for i, kind in enumerate(CERT_KINDS)}
        self.ports["plain"] = port_base + len(CERT_KINDS)  # plain HTTP: the memory baseline
        self.docroot = docroot
        self.certs = certs
        self.mod_tls_so = mod_tls_so  # None: this is the mod_ssl instance
        self.cpu = cpu
        self.threads = threads
        self.conf = os.path.join(root, "conf", "httpd.conf")
        self.run_dir = os.path.join(root, "run")
        self.logs = os.path.join(root, "logs")
        self.pid_file = os.path.join(self.run_dir, "httpd.pid")
        self.error_log = os.path.join(self.logs, "error.log")
        self.access_log = os.path.join(self.logs, "access.log")
        self.pid: Optional[int] = None

    @property
    def is_tls(self) -> bool:
        return self.mod_tls_so is not None

    # -- configuration

    def _tls_conf(self) -> str:
        if self.is_tls:
            lines = [f"LoadModule tls_module {self.mod_tls_so}"]
            lines += [f"TLSEngine 127.0.0.1:{self.ports[kind]}" for kind in CERT_KINDS]
            lines.append("TLSStrictSNI off")
            for kind in CERT_KINDS:
                port, c = self.ports[kind], self.certs[kind]
                lines += [f"<VirtualHost 127.0.0.1:{port}>", "    ServerName localhost",
                          f"    TLSCertificate {c['cert']} {c['key']}", "</VirtualHost>"]
            return "\n".join(lines)
        lines = [f"LoadModule ssl_module {MODULES_DIR}/mod_ssl.so",
                 # Debian's ssl.conf defaults, as an admin would run mod_ssl
                 f"SSLSessionCache shmcb:{self.run_dir}/ssl_scache(512000)",
                 "SSLSessionCacheTimeout 300",
                 "SSLProtocol -all +TLSv1.2 +TLSv1.3",
                 f"SSLCipherSuite {TLS12_SUITES}",
                 f"SSLCipherSuite TLSv1.3 {TLS13_SUITES}",
                 "SSLHonorCipherOrder off"]
        for kind in CERT_KINDS:
            port, c = self.ports[kind], self.certs[kind]
            lines += [f"<VirtualHost 127.0.0.1:{port}>", "    ServerName localhost", "    SSLEngine on",
                      f"    SSLCertificateFile {c['cert']}", f"    SSLCertificateKeyFile {c['key']}",
                      f"    SSLOpenSSLConfCmd Groups {GROUPS}", "</VirtualHost>"]
        return "\n".join(lines)

    def write_conf(self) -> None:
        for d in (os.path.dirname(self.conf), self.run_dir, self.logs):
            os.makedirs(d, exist_ok=True)
        user = ""
        if os.geteuid() == 0:
            user = "User daemon\nGroup daemon"
        listen = "\n".join(f"Listen 127.0.0.1:{p}" for p in self.ports.values())
        text = f"""# generated by bench/run.sh: the {self.name} instance of the mod_tls benchmark
ServerRoot "{self.root}"
DefaultRuntimeDir "{self.run_dir}"
PidFile "{self.pid_file}"
Mutex file:{self.run_dir} default
LoadModule mpm_event_module {MODULES_DIR}/mod_mpm_event.so
LoadModule authz_core_module {MODULES_DIR}/mod_authz_core.so
LoadModule mime_module {MODULES_DIR}/mod_mime.so
LoadModule http2_module {MODULES_DIR}/mod_http2.so
# the session cache provider of mod_ssl here, and of mod_tls' default TLSSessionCache
LoadModule socache_shmcb_module {MODULES_DIR}/mod_socache_shmcb.so
{user}
ServerName localhost
{listen}
ErrorLog "{self.error_log}"
LogLevel warn
LogFormat "{LOG_FORMAT}" bench
CustomLog "{self.access_log}" bench {LOG_CONDITION}
TypesConfig /etc/mime.types
Timeout 30
KeepAlive On
KeepAliveTimeout 120
MaxKeepAliveRequests 0
{_mpm_conf(self.threads)}
Protocols h2 http/1.1
H2MinWorkers 16
H2MaxWorkers 16
DocumentRoot "{self.docroot}"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{self.docroot}">
    Require all granted
</Directory>

{self._tls_conf()}
"""
        with open(self.conf, "w") as f:
            f.write(text)

    # -- process control

    def _ours(self, pid: Optional[int]) -> bool:
        """Is `pid` an apache2 running our configuration (and not a recycled pid)?"""
        if not pid:
            return False
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            return False
        return b"apache2" in cmd and self.conf.encode() in cmd

    def _pid_from_file(self) -> Optional[int]:
        try:
            with open(self.pid_file) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        return pid if self._ours(pid) else None

    def stop_stale(self) -> None:
        if self._pid_from_file():
            self.stop()

    def start(self, timeout: float = 20) -> None:
        cmd = [APACHE2, "-d", self.root, "-f", self.conf, "-k", "start"]
        if self.cpu is not None:
            cmd = ["taskset", "-c", str(self.cpu)] + cmd
        self.err_mark = os.path.getsize(self.error_log) if os.path.exists(self.error_log) else 0
        r = run(cmd, timeout=timeout)
        if r.returncode != 0:
            raise BenchError(f"{self.name}: '{' '.join(cmd)}' failed ({r.returncode}): {r.stderr.strip()} "
                             f"{self.error_tail()}")
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.pid = self._pid_from_file()
            if (self.pid and len(procs.children_of(self.pid)) >= 2
                    and all(self._accepts(p) for p in self.ports.values())):
                break
            time.sleep(0.1)
        else:
            raise BenchError(f"{self.name} did not come up within {timeout}s. {self.error_tail()}")
        self.wait_stable()
        if self.cpu is not None:
            for pid in procs.instance_pids(self.pid):
                aff = procs.affinity(pid)
                if aff != [self.cpu]:
                    raise BenchError(f"{self.name}: process {pid} runs on CPUs {aff}, expected [{self.cpu}]")

    def wait_stable(self, timeout: float = 10) -> None:
        """Wait until both children have started all their threads (so that no thread is
        started during a measurement)."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            s = procs.cpu_sample(self.pid)
            key = (s.pids, s.tids)
            if key == last and len(s.pids) == 3:
                return
            last = key
            time.sleep(0.5)

    @staticmethod
    def _accepts(port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self, timeout: float = 20) -> None:
        pid = self._pid_from_file() or (self.pid if self._ours(self.pid) else None)
        if not pid:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self._ours(pid):  # gone (a zombie has no command line either)
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
        self.pid = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def alive(self) -> bool:
        return self._ours(self.pid)

    # -- logs

    def log_mark(self) -> int:
        return os.path.getsize(self.access_log) if os.path.exists(self.access_log) else 0

    def log_lines(self, mark: int, tag: str) -> List[List[str]]:
        """Access log lines written since `mark` whose query string carries `tag`, split."""
        if not os.path.exists(self.access_log):
            return []
        with open(self.access_log) as f:
            f.seek(mark)
            text = f.read()
        needle = f"r={tag}"
        return [line.split() for line in text.splitlines() if line.endswith(needle)]

    def error_tail(self, lines: int = 8) -> str:
        if not os.path.exists(self.error_log):
            return ""
        with open(self.error_log, errors="replace") as f:
            f.seek(getattr(self, "err_mark", 0))
            tail = f.read().splitlines()[-lines:]
        return ("error log: " + " | ".join(tail)) if tail else ""

    def errors_since(self, mark: int) -> List[str]:
        if not os.path.exists(self.error_log):
            return []
        with open(self.error_log, errors="replace") as f:
            f.seek(mark)
            return [l for l in f.read().splitlines() if ":error]" in l or ":crit]" in l or ":emerg]" in l
                    or "exit signal" in l]

    def error_mark(self) -> int:
        return os.path.getsize(self.error_log) if os.path.exists(self.error_log) else 0


def wipe(path: str) -> None:
    if os.path.isdir(path):
        shutil.rmtree(path)
