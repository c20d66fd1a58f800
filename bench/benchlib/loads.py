"""Load generators: one class per kind of client, each run on the client CPU against one
instance, returning how much work the server did (`units`), checked against what the server
logged or the client saw.

- HandshakeLoad: bench/hsload (a rustls client): one connection, one
  handshake, one request, for a number of seconds. Full handshakes unless asked to resume;
  with tls "plain", the same connections without TLS on the plain HTTP port.
- KeepAliveLoad: h2load, 1 KiB responses over a few keep-alive connections (HTTP/1.1 or h2).
- BulkLoad: curl processes, each downloading the large file over its own connection.
- Idle connections (memory) are held by bench/idle_client.py, driven from bench.py.

Every run carries a tag in the query string of the URL, so the access log lines of exactly
this run can be found and counted (the log only records /hs/ and /bulk/ requests).
"""

import re
import subprocess
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .httpd import HS_NAME, KA_NAME, Instance, bulk_name


@dataclass
class LoadResult:
    units: float  # work done, counted on the server side where possible
    wall: float  # seconds the client ran
    client_units: Optional[float] = None
    problems: List[str] = field(default_factory=list)  # the run does not measure what it claims
    notes: List[str] = field(default_factory=list)  # worth knowing, does not invalidate
    info: Dict[str, object] = field(default_factory=dict)


def suite_family(name: str) -> str:
    n = name.upper().replace("-", "_")
    if "CHACHA20" in n:
        return "chacha20"
    if "AES_128_GCM" in n or "AES128_GCM" in n:
        return "aes128gcm"
    if "AES_256_GCM" in n or "AES256_GCM" in n:
        return "aes256gcm"
    return name


TLS13_NAMES = {"aes128gcm": "TLS_AES_128_GCM_SHA256", "aes256gcm": "TLS_AES_256_GCM_SHA384",
               "chacha20": "TLS_CHACHA20_POLY1305_SHA256"}


class Env:
    """What a load needs from the run: binaries, the client CPU, the run's sizes."""

    def __init__(self, hsload: Optional[str], client_cpu: Optional[int], bulk_mib: int):
        self.hsload = hsload
        self.client_cpu = client_cpu
        self.bulk_mib = bulk_mib

    def pinned(self, cmd: List[str]) -> List[str]:
        return (["taskset", "-c", str(self.client_cpu)] if self.client_cpu is not None else []) + cmd


def check_log(lines: List[List[str]], tls: str, suite: str, resumed: Optional[bool],
              fresh_clients: int = 0) -> Tuple[List[str], List[str]]:
    """Check access log lines (LOG_FORMAT fields) of one run: protocol, suite family, one request
    per connection, full or resumed handshakes. Returns (problems, notes). tls "plain": no TLS
    at all (the TLS fields are "-"). With resumption, every connection must resume except the
    first of each of the `fresh_clients` client threads (they start with no session)."""
    problems, notes = [], []
    if tls == "plain":
        suite, resumed = "-", None
    want_proto = {"13": "TLSv1.3", "12": "TLSv1.2", "plain": "-"}[tls]
    bad_proto = [l for l in lines if l[1] != want_proto]
    bad_suite = [l for l in lines if suite_family(l[2]) != suite]  # "-" stays "-" (plain)
    not_first = [l for l in lines if l[0] != "0"]
    not_ok = [l for l in lines if l[4] != "200"]
    if bad_proto:
        problems.append(f"{len(bad_proto)} requests not over {'plain HTTP' if tls == 'plain' else want_proto} "
                        f"(e.g. {bad_proto[0][1]})")
    if bad_suite:
        problems.append(f"{len(bad_suite)} requests not with {suite} (e.g. {bad_suite[0][2]})")
    if not_first:
        problems.append(f"{len(not_first)} requests were not the first on their connection")
    if not_ok:
        problems.append(f"{len(not_ok)} requests answered {not_ok[0][4]}")
    if resumed is not None and lines:
        marks = {l[3] for l in lines}
        if marks <= {"Initial", "Resumed"}:
            n_res = sum(1 for l in lines if l[3] == "Resumed")
            if resumed and n_res < len(lines) - fresh_clients:
                problems.append(f"only {n_res} of {len(lines)} handshakes were resumed "
                                f"({fresh_clients} client threads start without a session)")
            if not resumed and n_res:
                problems.append(f"{n_res} of {len(lines)} handshakes were resumed, expected full ones")
        else:
            notes.append("the server does not log SSL_SESSION_RESUMED: "
                         + ("resumption not verified" if resumed else "full handshakes guaranteed by the client "
                                                                         "(it keeps no session)"))
    return problems, notes


class HandshakeLoad:
    """hsload on the client CPU: `threads` threads, each connecting, handshaking, doing one
    request and closing, for `seconds`."""

    def __init__(self, cert: str, tls: str, suite: str = "aes128gcm", resume: str = "never", threads: int = 2):
        self.cert, self.tls, self.suite, self.resume, self.threads = cert, tls, suite, resume, threads

    def describe(self) -> str:
        if self.tls == "plain":
            return f"hsload --tls plain --threads {self.threads} (the plain HTTP port)"
        return (f"hsload --tls {self.tls} --suite {self.suite} --resume {self.resume} "
                f"--threads {self.threads} (port: {self.cert} certificate)")

    def run(self, env: Env, inst: Instance, tag: str, seconds: float) -> LoadResult:
        if not env.hsload:
            raise RuntimeError("hsload is not built (see the build error above)")
        mark = inst.log_mark()
        cmd = env.pinned([env.hsload, "--connect", f"127.0.0.1:{inst.ports[self.cert]}", "--path",
                          f"/{HS_NAME}?r={tag}", "--tls", self.tls, "--suite", self.suite, "--resume",
                          self.resume, "--threads", str(self.threads), "--seconds", str(seconds)])
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=seconds + 60)
        m = re.search(r"connections=(\d+) failed=(\d+) seconds=([\d.]+)(?: first_error=(.*))?", r.stdout)
        if r.returncode != 0 or not m:
            raise RuntimeError(f"hsload failed ({r.returncode}): {r.stderr.strip() or r.stdout.strip()}")
        ok, failed, secs = int(m.group(1)), int(m.group(2)), float(m.group(3))
        time.sleep(0.1)  # the last log lines
        lines = inst.log_lines(mark, tag)
        res = LoadResult(units=len(lines), wall=secs, client_units=ok)
        res.problems, res.notes = check_log(lines, self.tls, self.suite, self.resume != "never", self.threads)
        if failed:
            res.problems.append(f"{failed} connections failed, first: {m.group(4)}")
        if abs(len(lines) - ok) > max(2, 0.01 * ok):
            res.problems.append(f"client counted {ok} connections, server logged {len(lines)}")
        res.info = {"client_connections": ok, "failed": failed}
        return res


class KeepAliveLoad:
    """h2load: `requests` requests for a 1 KiB document over `clients` keep-alive connections,
    HTTP/1.1 one request at a time per connection, or h2 with `streams` concurrent streams."""

    def __init__(self, h2: bool, clients: int = 8, streams: int = 10, suite: str = "aes128gcm"):
        self.h2, self.clients, self.streams, self.suite = h2, clients, streams if h2 else 1, suite

    def describe(self) -> str:
        return (f"h2load {'' if self.h2 else '--h1 '}-c {self.clients} -m {self.streams} "
                f"--tls13-ciphers {TLS13_NAMES[self.suite]} (ECDSA port)")

    def run(self, env: Env, inst: Instance, tag: str, requests: int) -> LoadResult:
        port = inst.ports["ecdsa"]
        cmd = ["h2load", "-n", str(requests), "-c", str(self.clients), "-m", str(self.streams), "-t", "1",
               "--tls13-ciphers", TLS13_NAMES[self.suite], "--connect-to", f"127.0.0.1:{port}"]
        if not self.h2:
            cmd.append("--h1")
        cmd.append(f"https://localhost:{port}/{KA_NAME}?r={tag}")
        t0 = time.time()
        r = subprocess.run(env.pinned(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=300)
        wall = time.time() - t0
        out = r.stdout
        m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                      r"(\d+) errored, (\d+) timeout", out)
        if not m:
            raise RuntimeError(f"h2load failed ({r.returncode}): {r.stderr.strip()[-300:] or out[-300:]}")
        succeeded = int(m.group(4))
        fin = re.search(r"finished in ([\d.]+)(m?s)", out)
        secs = float(fin.group(1)) / (1000 if fin and fin.group(2) == "ms" else 1) if fin else wall
        res = LoadResult(units=succeeded, wall=secs, client_units=succeeded)
        if succeeded != requests:
            res.problems.append(f"{succeeded} of {requests} requests succeeded "
                                f"({m.group(5)} failed, {m.group(6)} errored, {m.group(7)} timeout)")
        proto = re.search(r"TLS Protocol: (\S+)", out)
        cipher = re.search(r"Cipher: (\S+)", out)
        app = re.search(r"Application protocol: (\S+)", out)
        want_app = "h2" if self.h2 else "http/1.1"
        if not proto or proto.group(1) != "TLSv1.3":
            res.problems.append(f"protocol {proto.group(1) if proto else '?'}, expected TLSv1.3")
        if not cipher or suite_family(cipher.group(1)) != self.suite:
            res.problems.append(f"cipher {cipher.group(1) if cipher else '?'}, expected {self.suite}")
        if not app or app.group(1) != want_app:
            res.problems.append(f"application protocol {app.group(1) if app else '?'}, expected {want_app}")
        return res


class BulkLoad:
    """`conns` curl processes at once, each downloading the bulk file (100 MiB, --quick 32 MiB;
    TLS 1.3, one AEAD) over its own HTTP/1.1 connection and discarding it."""

    def __init__(self, conns: int, suite: str):
        self.conns, self.suite = conns, suite

    def describe(self) -> str:
        return f"{self.conns} x curl --http1.1 --tls13-ciphers {TLS13_NAMES[self.suite]} (ECDSA port)"

    def run(self, env: Env, inst: Instance, tag: str, _size: int = 0) -> LoadResult:
        port = inst.ports["ecdsa"]
        mark = inst.log_mark()
        url = f"https://localhost:{port}/{bulk_name(env.bulk_mib)}?r={tag}"
        cmd = env.pinned(["curl", "-sS", "-k", "--http1.1", "--tlsv1.3", "--tls13-ciphers", TLS13_NAMES[self.suite],
                          "--resolve", f"localhost:{port}:127.0.0.1", "-o", "/dev/null", "-w",
                          "%{http_code} %{size_download}\\n", url])
        t0 = time.time()
        ps = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(self.conns)]
        outs = [p.communicate(timeout=600) for p in ps]
        wall = time.time() - t0
        want = env.bulk_mib * 1024 * 1024
        total = 0
        res = LoadResult(units=0, wall=wall)
        for p, (out, err) in zip(ps, outs):
            parts = out.split()
            if p.returncode != 0 or len(parts) != 2 or parts[0] != "200" or int(parts[1]) != want:
                res.problems.append(f"curl ({p.returncode}) got {out.strip() or '-'} {err.strip()[:200]}")
            if len(parts) == 2 and parts[1].isdigit():
                total += int(parts[1])
        time.sleep(0.1)
        lines = inst.log_lines(mark, tag)
        probs, notes = check_log(lines, "13", self.suite, None)
        res.problems += probs
        res.notes += notes
        if len(lines) != self.conns:
            res.problems.append(f"server logged {len(lines)} downloads, expected {self.conns}")
        res.units = total / (1024 * 1024)
        res.client_units = res.units
        return res
