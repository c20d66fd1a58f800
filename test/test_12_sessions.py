"""Session resumption across httpd children and across servers (issue 4): TLSSessionCache (httpd's
socache: shmcb, dbm, memcache, redis), TLSSessionTickets, TLSSessionTicketKeyFile, the setup digest
that keeps sessions from crossing to virtual hosts with other certificates or settings, the cache in
server-status, SSL_SESSION_RESUMED, and what happens when the cache backend fails.

Most classes run httpd with CHILDREN child processes and check from the log (%P) that several of
them served. The long reconnect runs use Python's ssl (about 2 ms per connection; `openssl s_client`
takes some 25 ms) and a few `openssl s_client -sess_out/-sess_in` runs check the same with the
client the issue names. Cross-server tests start a second httpd (its own server root and ports)
and a redis-server from Debian's package; both are stopped by their own pids."""

import collections
import math
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import pytest

from modtls.env import TlsTestEnv
from modtls.http import HttpConnection

REDIS_SERVER = "/usr/bin/redis-server"
RECONNECTS = 200
MIN_RESUMED_SHARE = 0.99
CHILDREN = 3
# ServerLimit leaves room for a second generation while the first one exits (graceful restart).
# ListenCoresBucketsRatio 1: one SO_REUSEPORT listener per CPU, the children spread over them, and
# the kernel spreads connections over the listeners by their address hash. With one shared
# listener, the child that happens to wait in accept() takes every sequential connection: once
# all 200 reconnects of a test went to one child, which tests nothing about sharing.
MULTI_CHILD = f"""
ListenCoresBucketsRatio 1
<IfModule mpm_event_module>
    StartServers {CHILDREN}
    ServerLimit {2 * CHILDREN}
    ThreadsPerChild 4
    MaxRequestWorkers {4 * CHILDREN}
    MinSpareThreads 4
    MaxSpareThreads {4 * CHILDREN}
</IfModule>
"""
SESS_LOG = "sessions_log"
# every request carries a unique query string (its tag): which child served it, and what it said
LOG_LINES = (f'LogFormat "%P %{{SSL_SESSION_RESUMED}}x %{{SSL_PROTOCOL}}x %q" sessions\n'
             f"CustomLog logs/{SESS_LOG} sessions")
RESUMED_HEADER = 'Header always set X-Resumed "%{SSL_SESSION_RESUMED}s"'
STATUS_LOCATION = """<Location /server-status>
    SetHandler server-status
    Require all granted
</Location>"""
SHMCB_STATUS_FIELDS = ("CacheCurrentEntries", "CacheRetrieveHitCount", "CacheRetrieveMissCount",
                       "CacheExpireCount")
HOST = "one.example.org"


def min_resumed(n: int) -> int:
    return math.ceil(n * MIN_RESUMED_SHARE)


# ------------------------------------------------------------------ clients

@dataclass(frozen=True)
class Mode:
    """How a client resumes: protocol version, whether it takes TLS 1.2 tickets, and whether each
    reconnect must use the session of the connection before (TLS 1.3 stateful sessions are
    single-use) instead of the first connection's."""

    name: str
    version: str
    client_tickets: bool
    chain: bool

    def context(self, env) -> ssl.SSLContext:
        ctx = env.tls_context(min_version=self.version, max_version=self.version)
        if not self.client_tickets:
            ctx.options |= ssl.OP_NO_TICKET
        return ctx

    @property
    def s_client_args(self) -> List[str]:
        if self.version == "TLSv1.2":
            return ["-tls1_2"] + ([] if self.client_tickets else ["-no_ticket"])
        return ["-tls1_3"]


MODES = {m.name: m for m in (
    Mode("tls12-id", "TLSv1.2", client_tickets=False, chain=False),  # session ids (the cache)
    Mode("tls12-ticket", "TLSv1.2", client_tickets=True, chain=False),
    Mode("tls13-ticket", "TLSv1.3", client_tickets=True, chain=False),  # stateless (tickets on)
    Mode("tls13-stateful", "TLSv1.3", client_tickets=True, chain=True),  # the cache (tickets off)
)}
TICKET_MODES = ["tls12-ticket", "tls13-ticket"]
CACHE_MODES = ["tls12-id", "tls13-stateful"]


@dataclass
class Visit:
    """One connection with one request, as the client saw it."""

    tag: str
    status: int
    version: str
    reused: bool  # the client's view of the handshake
    x_resumed: Optional[str]  # SSL_SESSION_RESUMED, via mod_headers
    session: ssl.SSLSession
    ctx: ssl.SSLContext  # a session resumes only with the context that made it
    body: bytes


def visit(env, port: int, mode: Mode, tag: str, resume: Optional[Visit] = None, *,
          ctx: Optional[ssl.SSLContext] = None, sni: str = HOST, host: Optional[str] = None,
          path: str = "/") -> Visit:
    """Connect (offering the session of `resume`), GET path?tag, read the response to the end:
    TLS 1.3 tickets come after the handshake and are in the session afterwards."""
    ctx = ctx or (resume.ctx if resume else mode.context(env))
    session = resume.session if resume else None
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    # without this each TLS 1.2 reconnect waits ~40 ms (Nagle vs. delayed ACK on the client side)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        s = ctx.wrap_socket(sock, server_hostname=sni, session=session)
    except BaseException:
        sock.close()
        raise
    with s:
        resp = HttpConnection(s, 10).request(f"{path}?{tag}", f"{host or sni}:{port}", close=True)
        return Visit(tag, resp.status, s.version(), s.session_reused, resp.header("X-Resumed"), s.session, ctx,
                     resp.body)


def reconnects(env, port: int, mode: Mode, prefix: str, n: int = RECONNECTS, *,
               resume: Optional[Visit] = None) -> List[Visit]:
    """A first connection (resuming `resume` if given) and n reconnects with a saved session:
    the first connection's, or, for chained modes, the one before's."""
    visits = [visit(env, port, mode, f"{prefix}.0", resume)]
    saved = visits[0]
    for i in range(1, n + 1):
        v = visit(env, port, mode, f"{prefix}.{i}", saved)
        visits.append(v)
        if mode.chain:
            saved = v
    return visits


def read_sessions_log(env, tags: List[str], timeout: float = 10) -> Dict[str, Tuple[str, str, str]]:
    """tag -> (pid, SSL_SESSION_RESUMED, SSL_PROTOCOL) from the sessions log (waits, bounded,
    until every tag is there: httpd logs after it has answered)."""
    path = os.path.join(env.logs_dir, SESS_LOG)
    deadline = time.monotonic() + timeout
    while True:
        found = {}
        for line in env.log_lines(0, None, path):
            parts = line.split(" ")
            if len(parts) == 4 and parts[3].startswith("?"):
                found[parts[3][1:]] = (parts[0], parts[1], parts[2])
        missing = [t for t in tags if t not in found]
        if not missing or time.monotonic() > deadline:
            assert not missing, f"not in {SESS_LOG}: {missing[:10]}"
            return found
        time.sleep(0.05)


def check_reconnects(env, mode: Mode, visits: List[Visit], *, min_children: int = 2) -> Dict[str, int]:
    """The checks of a reconnect run (see the assertions); returns the counts."""
    log = read_sessions_log(env, [v.tag for v in visits])
    rest = visits[1:]
    bad = [(v.tag, v.status, v.version) for v in visits if v.status != 200 or v.version != mode.version]
    assert not bad, f"failed requests or wrong versions: {bad[:10]}"
    # SSL_SESSION_RESUMED says what really happened, in the header and in the log
    wrong = [(v.tag, v.reused, v.x_resumed, log[v.tag]) for v in visits
             if v.x_resumed != ("Resumed" if v.reused else "Initial")
             or log[v.tag][1:] != (v.x_resumed, mode.version)]
    assert not wrong, f"SSL_SESSION_RESUMED disagrees with the client (tag, reused, header, log): {wrong[:10]}"
    pids = [log[v.tag][0] for v in visits]
    # the child that made the session a reconnect offers, and the reconnects that reached another
    maker = [pids[i - 1] if mode.chain else pids[0] for i in range(len(visits))]
    elsewhere = [i for i in range(1, len(visits)) if pids[i] != maker[i]]
    resumed = [i for i in range(1, len(visits)) if visits[i].reused]
    counts = {"reconnects": len(rest), "resumed": len(resumed), "children": len(set(pids)),
              "in_other_child": len(elsewhere), "resumed_in_other_child": len(set(elsewhere) & set(resumed))}
    not_resumed = [v.tag for v in rest if not v.reused]
    assert len(resumed) >= min_resumed(len(rest)), f"{counts}; not resumed: {not_resumed[:20]}"
    # without reconnects landing in other children than the session's, the run proves nothing
    assert counts["children"] >= min_children, f"served by too few children: {counts}"
    if min_children > 1:
        assert len(elsewhere) >= 3, f"too few reconnects reached another child: {counts}"
    return counts


@dataclass
class SVisit:
    """One `openssl s_client` connection with one request."""

    out: str
    how: Optional[str]  # New / Reused
    protocol: Optional[str]
    cipher: Optional[str]
    status: Optional[int]
    x_resumed: Optional[str]
    body: str
    offered: Dict[str, bool]  # what the ClientHello offered (see client_hello_offers)


def s_visit(env, port: int, mode: Mode, *, sess_in: Optional[str] = None, sess_out: Optional[str] = None,
            sni: str = HOST, host: Optional[str] = None, path: str = "/") -> SVisit:
    """GET path over `openssl s_client` (sess_in: offer that session; sess_out: save the one
    received); its handshake messages go to a file, for client_hello_offers."""
    msgfile = os.path.join(env.tmp_dir, "s_client.msg")
    if os.path.exists(msgfile):
        os.unlink(msgfile)
    args = ["-ign_eof", "-msg", "-msgfile", msgfile] + mode.s_client_args
    if sess_in:
        args += ["-sess_in", sess_in]
    if sess_out:
        if os.path.exists(sess_out):
            os.unlink(sess_out)
        args += ["-sess_out", sess_out]
    req = f"GET {path} HTTP/1.1\r\nHost: {host or sni}:{port}\r\nConnection: close\r\n\r\n".encode()
    out = env.s_client(port, *args, sni=sni, input=req).exec.stdout
    msgs = ""
    if os.path.exists(msgfile):
        with open(msgfile) as f:
            msgs = f.read()
    m = re.search(r"^(New|Reused), (\S+), Cipher is (\S+)", out, re.M)
    st = re.search(r"^HTTP/1\.1 (\d+)", out, re.M)
    xr = re.search(r"^X-Resumed: (\S+)\r?$", out, re.M)
    body = ""
    head = re.search(r"^HTTP/1\.1 .*?\r\n\r\n", out, re.M | re.S)
    clen = re.search(r"^Content-Length: (\d+)\r?$", head.group(0), re.M) if head else None
    if head:  # without Content-Length (a CGI, Connection: close): the rest
        body = out[head.end():head.end() + int(clen.group(1))] if clen else out[head.end():]
    return SVisit(out, m.group(1) if m else None, m.group(2) if m else None, m.group(3) if m else None,
                  int(st.group(1)) if st else None, xr.group(1) if xr else None, body, client_hello_offers(msgs))


def client_hello_offers(s_client_out: str) -> Dict[str, bool]:
    """From `s_client -msg`: did the (first) ClientHello offer a TLS 1.2 session id, a TLS 1.2
    ticket (non-empty session_ticket extension) or a TLS 1.3 PSK (pre_shared_key extension)?"""
    m = re.search(r"^>>> [^\n]*Handshake \[length [0-9a-f]+\], ClientHello\n((?:    [0-9a-f ]+\n)+)", s_client_out,
                  re.M)
    if not m:
        return {}
    b = bytes.fromhex(m.group(1).replace("\n", " "))
    pos = 4 + 2 + 32  # handshake header, legacy_version, random
    sid_len = b[pos]
    pos += 1 + sid_len
    pos += 2 + int.from_bytes(b[pos:pos + 2], "big")  # cipher suites
    pos += 1 + b[pos]  # compression methods
    end = pos + 2 + int.from_bytes(b[pos:pos + 2], "big")
    pos += 2
    exts = {}
    while pos + 4 <= end:
        etype, elen = int.from_bytes(b[pos:pos + 2], "big"), int.from_bytes(b[pos + 2:pos + 4], "big")
        exts[etype] = b[pos + 4:pos + 4 + elen]
        pos += 4 + elen
    return {"session_id": sid_len > 0, "ticket": len(exts.get(35, b"")) > 0, "psk": 41 in exts}


def offered_session(mode: Mode, offers: Dict[str, bool]) -> bool:
    if mode.version == "TLSv1.3":
        return offers.get("psk", False)
    return offers.get("ticket" if mode.client_tickets else "session_id", False)


def s_resumes(env, port, mode: Mode, sess_in: str, **kw) -> SVisit:
    """An s_client reconnect with sess_in that must resume and answer 200."""
    v = s_visit(env, port, mode, sess_in=sess_in, **kw)
    assert offered_session(mode, v.offered), f"s_client offered no session: {v.offered}\n{v.out[-2000:]}"
    assert (v.how, v.protocol, v.status, v.x_resumed) == ("Reused", mode.version, 200, "Resumed"), v.out[-3000:]
    return v


def s_new(env, port, mode: Mode, sess_out: str, **kw) -> SVisit:
    """An s_client connection without a session that saves the session."""
    v = s_visit(env, port, mode, sess_out=sess_out, **kw)
    assert (v.how, v.protocol, v.status, v.x_resumed) == ("New", mode.version, 200, "Initial"), v.out[-3000:]
    assert os.path.getsize(sess_out) > 0, v.out[-3000:]
    return v


# ------------------------------------------------------------------ server state

def status(env, port: int, sni: str = HOST) -> Dict[str, str]:
    """server-status?auto as a dict (the last value of a repeated key wins)."""
    resp, _ = env.http_request(port, "/server-status?auto", sni=sni)
    assert resp.status == 200, resp.text[:500]
    out = {}
    for line in resp.text.splitlines():
        k, sep, v = line.partition(": ")
        if sep:
            out[k] = v
    return out


def parent_pid(env) -> int:
    pid = env.read_pid()
    assert pid is not None and env.is_running(), "httpd is not running"
    return pid


def worker_pids(env) -> set:
    """The pids (as str, like %P) of the MPM's child processes: the parent's multi-threaded
    children (the cgid daemon, also a child, has one thread and outlives graceful restarts)."""
    out = set()
    for pid in TlsTestEnv._children(parent_pid(env)):
        try:
            with open(f"/proc/{pid}/status") as f:
                threads = int(re.search(r"^Threads:\s+(\d+)", f.read(), re.M).group(1))
        except (OSError, AttributeError):
            continue
        if threads > 1:
            out.add(str(pid))
    return out


def graceful_restart(env, pids_before, timeout: float = 15) -> None:
    """env.graceful(), then wait (bounded) until the children of the old generation are gone, so
    that only new children can serve what follows."""
    parent = parent_pid(env)
    env.graceful()
    assert parent_pid(env) == parent, "the parent process changed"
    deadline = time.monotonic() + timeout
    while any(TlsTestEnv._alive(int(p)) for p in pids_before):
        assert time.monotonic() < deadline, f"old children {pids_before} still there after {timeout}s"
        time.sleep(0.05)


def warnings_by_pid(env, mark: int, tag: str) -> Dict[str, int]:
    lines = env.log_lines(mark, re.escape(tag))
    return dict(collections.Counter(re.search(r"\[pid (\d+)", ln).group(1) for ln in lines))


def free_port(port: int) -> int:
    """`port` on 127.0.0.1, after checking that nothing listens there."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            pytest.fail(f"port {port} is taken ({e}): choose another MODTLS_TEST_PORT_BASE")
    return port


class Redis:
    """A redis-server on a loopback port, in the foreground as our child; stop() ends it by its pid."""

    def __init__(self, port: int, workdir: str):
        self.port = port
        self.workdir = workdir
        self.log = os.path.join(workdir, f"redis-{port}.log")
        self.proc: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 10) -> "Redis":
        os.makedirs(self.workdir, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--daemonize", "no", "--dir", self.workdir],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                # ours, not another redis that happens to answer on the port
                if self.command("PING") == "PONG" and self.pid_reported() == self.proc.pid:
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                with open(self.log) as f:
                    pytest.fail(f"redis-server on port {self.port} did not come up:\n{f.read()[-2000:]}")
            time.sleep(0.05)

    def command(self, *words: str):
        """One inline command; the reply as str (simple and bulk strings), int or None."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall((" ".join(words) + "\r\n").encode())
            with s.makefile("rb") as f:
                line = f.readline().rstrip(b"\r\n")
                kind, rest = line[:1], line[1:].decode()
                if kind == b"$":
                    return None if int(rest) < 0 else f.read(int(rest) + 2)[:-2].decode()
                if kind == b":":
                    return int(rest)
                if kind == b"+":
                    return rest
                raise OSError(f"redis: {line!r}")

    def dbsize(self) -> int:
        return self.command("DBSIZE")

    def pid_reported(self) -> Optional[int]:
        """The process_id line of `INFO server`."""
        m = re.search(r"^process_id:(\d+)", self.command("INFO", "server") or "", re.M)
        return int(m.group(1)) if m else None

    def stop(self, timeout: float = 10) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def check_resumes_after_graceful(env, mode: Mode, tag: str) -> None:
    """A session made before a graceful restart resumes on a child of the new generation."""
    made = visit(env, env.tls_port, mode, f"{tag}-before-graceful")
    pids_before = worker_pids(env)
    graceful_restart(env, pids_before)
    v = visit(env, env.tls_port, mode, f"{tag}-after-graceful", made)
    assert read_sessions_log(env, [v.tag])[v.tag][0] not in pids_before
    assert (v.status, v.reused, v.x_resumed) == (200, True, "Resumed")


def write_key_file(env, name: str, data: bytes, mode: int = 0o600) -> str:
    """A ticket key file below SERVER_ROOT/keys; returns its absolute path."""
    d = os.path.join(env.server_root, "keys")
    os.makedirs(d, mode=0o755, exist_ok=True)
    path = os.path.join(d, name)
    if os.path.exists(path):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


@dataclass
class CertFiles:
    """A certificate and key file pair (what cert_line needs of a Credential)."""

    cert_file: str
    key_file: str


def cert_line(cred) -> str:
    """TLSCertificate with absolute paths: a second server names the same files."""
    return f"TLSCertificate {cred.cert_file} {cred.key_file}"


def session_config(env, *lines, cred=None, tls: bool = True) -> str:
    """The body of session_server's config; tls=False: the same without the TLS port."""
    cred = cred or env.certs.get(HOST, "ec256")
    tls_lines = [f"TLSEngine {env.tls_port}",
                 env.vhost(HOST, env.tls_port, "TLSOptions +StdEnvVars", RESUMED_HEADER, cert_line(cred))]
    return "\n".join([MULTI_CHILD, *lines, LOG_LINES, STATUS_LOCATION, *(tls_lines if tls else [])])


def session_server(env, *lines, cred=None, modules=("socache_shmcb", "status")):
    """(Re)start env's httpd: CHILDREN children, `lines`, the sessions log, server-status, and on
    env.tls_port one vhost HOST with SSL_SESSION_RESUMED in a header and (StdEnvVars) in CGI
    environments."""
    env.serve(session_config(env, *lines, cred=cred), listen=[env.tls_port], modules=list(modules))


def sess_file(env, name: str) -> str:
    return os.path.join(env.tmp_dir, f"sess-{name}.pem")


# ------------------------------------------------------------------ across children

class TestTicketsAcrossChildren:
    """The defaults with mod_socache_shmcb loaded: tickets on, the shmcb cache."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        session_server(env)

    @pytest.mark.parametrize("mode", TICKET_MODES)
    def test_12_reconnects_resume(self, env, mode):
        m = MODES[mode]
        visits = reconnects(env, env.tls_port, m, f"tickets-{mode}")
        assert visits[0].session.has_ticket, "no ticket issued"
        check_reconnects(env, m, visits)

    @pytest.mark.parametrize("mode", TICKET_MODES)
    def test_12_s_client_reconnects_resume(self, env, mode):
        m = MODES[mode]
        sess = sess_file(env, f"tickets-{mode}")
        s_new(env, env.tls_port, m, sess, path="/cgi-bin/envjson.py")
        for _ in range(10):
            v = s_resumes(env, env.tls_port, m, sess, path="/cgi-bin/envjson.py")
            assert re.search(r'"SSL_SESSION_RESUMED": "Resumed"', v.body), v.body[-2000:]

    def test_12_status_shows_cache(self, env):
        st = status(env, env.tls_port)
        assert st.get("TLSSessionCache") == f"shmcb:{env.run_dir}/mod_tls-sessions(512000)", st
        assert st.get("TLSSessionTickets") == "on", st
        assert st.get("CacheType") == "SHMCB", st
        assert [f for f in SHMCB_STATUS_FIELDS if f not in st] == [], st
        resp, _ = env.http_request(env.tls_port, "/server-status", sni=HOST)
        assert resp.status == 200
        assert f"TLSSessionCache: shmcb:{env.run_dir}/mod_tls-sessions(512000)" in resp.text, resp.text[-3000:]
        assert "TLSSessionTickets: on" in resp.text, resp.text[-3000:]

    @pytest.fixture(scope="class")
    def graceful_sessions(self, env):
        """Sessions made before a graceful restart; the pids of the children before it."""
        made = {mode: visit(env, env.tls_port, MODES[mode], f"tickets-before-graceful-{mode}")
                for mode in TICKET_MODES}
        pids_before = worker_pids(env)
        graceful_restart(env, pids_before)
        return made, pids_before

    @pytest.mark.parametrize("mode", TICKET_MODES)
    def test_12_resume_after_graceful(self, env, graceful_sessions, mode):
        made, pids_before = graceful_sessions
        m = MODES[mode]
        visits = reconnects(env, env.tls_port, m, f"tickets-after-graceful-{mode}", resume=made[mode])
        assert visits[0].reused, "a session made before the graceful restart did not resume after it"
        log = read_sessions_log(env, [v.tag for v in visits])
        assert log[visits[0].tag][0] not in pids_before, "served by a child of the old generation"
        check_reconnects(env, m, visits)


class TestCacheAcrossChildren:
    """Tickets off: TLS 1.2 session ids and TLS 1.3 stateful (single-use) sessions in an explicit
    shmcb cache, its mutex configured with `Mutex file:`."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        session_server(env, "TLSSessionTickets off", f"TLSSessionCache shmcb:{env.run_dir}/tls-sessions(1024000)",
                       f"Mutex file:{env.run_dir} tls-session-cache")

    @pytest.mark.parametrize("mode", CACHE_MODES)
    def test_12_reconnects_resume(self, env, mode):
        m = MODES[mode]
        visits = reconnects(env, env.tls_port, m, f"cache-{mode}")
        check_reconnects(env, m, visits)

    @pytest.mark.parametrize("mode", CACHE_MODES)
    def test_12_s_client_reconnects_resume(self, env, mode):
        m = MODES[mode]
        sess = sess_file(env, f"cache-{mode}-0")
        s_new(env, env.tls_port, m, sess, path="/cgi-bin/envjson.py")
        for i in range(1, 11):
            nxt = sess_file(env, f"cache-{mode}-{i}")
            v = s_resumes(env, env.tls_port, m, sess, sess_out=nxt if m.chain else None, path="/cgi-bin/envjson.py")
            assert re.search(r'"SSL_SESSION_RESUMED": "Resumed"', v.body), v.body[-2000:]
            if m.chain:
                sess = nxt

    def test_12_tls13_session_single_use(self, env):
        m = MODES["tls13-stateful"]
        first = visit(env, env.tls_port, m, "single-use.0")
        again = [visit(env, env.tls_port, m, f"single-use.{i}", first) for i in (1, 2)]
        assert [(v.status, v.reused, v.x_resumed) for v in again] == [(200, True, "Resumed"), (200, False, "Initial")]

    def test_12_tls12_id_reusable(self, env):
        # TLS 1.2 sessions are not single-use: the same id resumes again and again
        m = MODES["tls12-id"]
        first = visit(env, env.tls_port, m, "id-reuse.0")
        again = [visit(env, env.tls_port, m, f"id-reuse.{i}", first) for i in (1, 2, 3)]
        assert [(v.status, v.reused) for v in again] == [(200, True)] * 3

    def test_12_no_ticket_when_off(self, env):
        # a TLS 1.2 client asking for a ticket gets none, and resumes by session id
        m = MODES["tls12-ticket"]
        first = visit(env, env.tls_port, m, "no-ticket.0")
        assert not first.session.has_ticket
        assert first.session.id
        assert visit(env, env.tls_port, m, "no-ticket.1", first).reused

    def test_12_status_counts(self, env):
        st0 = status(env, env.tls_port)
        assert st0.get("TLSSessionCache") == f"shmcb:{env.run_dir}/tls-sessions(1024000)", st0
        assert st0.get("TLSSessionTickets") == "off", st0
        assert [f for f in SHMCB_STATUS_FIELDS if f not in st0] == [], st0
        m = MODES["tls13-stateful"]
        first = visit(env, env.tls_port, m, "status-count.0")
        assert visit(env, env.tls_port, m, "status-count.1", first).reused  # a hit
        assert not visit(env, env.tls_port, m, "status-count.2", first).reused  # a miss: used up
        st1 = status(env, env.tls_port)
        assert int(st1["CacheCurrentEntries"]) > 0, st1
        assert int(st1["CacheRetrieveHitCount"]) >= int(st0["CacheRetrieveHitCount"]) + 1, (st0, st1)
        assert int(st1["CacheRetrieveMissCount"]) >= int(st0["CacheRetrieveMissCount"]) + 1, (st0, st1)

    @pytest.fixture(scope="class")
    def graceful_sessions(self, env):
        made = {mode: visit(env, env.tls_port, MODES[mode], f"cache-before-graceful-{mode}") for mode in CACHE_MODES}
        pids_before = worker_pids(env)
        mark = env.log_mark()
        graceful_restart(env, pids_before)
        return made, pids_before, mark

    @pytest.mark.parametrize("mode", CACHE_MODES)
    def test_12_resume_after_graceful(self, env, graceful_sessions, mode):
        # shmcb is made anew with each configuration generation; the parent carries the entries
        # of the old one over into the new one (MTLS0408), so a session cached before a graceful
        # restart resumes on a child of the new generation, and the reconnects after it do too
        made, pids_before, _ = graceful_sessions
        m = MODES[mode]
        visits = reconnects(env, env.tls_port, m, f"cache-after-graceful-{mode}", resume=made[mode])
        assert visits[0].reused, "a session cached before the graceful restart did not resume after it"
        log = read_sessions_log(env, [v.tag for v in visits])
        assert log[visits[0].tag][0] not in pids_before, "served by a child of the old generation"
        check_reconnects(env, m, visits)

    def test_12_graceful_carry_logged(self, env, graceful_sessions):
        lines = env.log_lines(graceful_sessions[2], "MTLS0408")
        assert lines, "no MTLS0408 line about the carried sessions"
        carried = [int(n) for n in re.findall(r"(\d+) session\(s\) carried over", lines[-1])]
        assert carried and carried[0] >= len(CACHE_MODES), lines[-1]


class TestDbmCache:
    """dbm is not safe across processes: the module's global mutex guards it (`Mutex flock:DIR`
    puts its lock file into DIR)."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        mutex_dir = os.path.join(env.run_dir, "dbm-mutex")
        os.makedirs(mutex_dir, exist_ok=True)
        for f in os.listdir(mutex_dir):
            os.unlink(os.path.join(mutex_dir, f))
        session_server(env, "TLSSessionTickets off", f"TLSSessionCache dbm:{env.run_dir}/tls-sessions-dbm",
                       f"Mutex flock:{mutex_dir} tls-session-cache", modules=("socache_dbm", "status"))

    @pytest.mark.parametrize("mode", CACHE_MODES)
    def test_12_reconnects_resume(self, env, mode):
        m = MODES[mode]
        check_reconnects(env, m, reconnects(env, env.tls_port, m, f"dbm-{mode}"))

    def test_12_mutex_file(self, env):
        names = os.listdir(os.path.join(env.run_dir, "dbm-mutex"))
        assert [n for n in names if n.startswith("tls-session-cache")], names

    def test_12_status(self, env):
        st = status(env, env.tls_port)
        assert (st.get("TLSSessionCache"), st.get("TLSSessionTickets"), st.get("CacheType")) == (
            f"dbm:{env.run_dir}/tls-sessions-dbm", "off", "DBM"), st
        assert int(st.get("CacheCurrentEntries", 0)) > 0, st

    @pytest.mark.parametrize("mode", CACHE_MODES)
    def test_12_resume_after_graceful(self, env, mode):
        # dbm, too, is made anew per generation and carried over by the parent
        check_resumes_after_graceful(env, MODES[mode], f"dbm-{mode}")


class TestNoCache:
    """TLSSessionCache none: session ids never resume; tickets still do (they need no cache)."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        session_server(env, "TLSSessionCache none")

    def test_12_ids_do_not_resume(self, env):
        m = MODES["tls12-id"]
        visits = reconnects(env, env.tls_port, m, "none-id", 10)
        assert [(v.status, v.reused, v.x_resumed) for v in visits] == [(200, False, "Initial")] * 11

    @pytest.mark.parametrize("mode", TICKET_MODES)
    def test_12_tickets_resume(self, env, mode):
        m = MODES[mode]
        check_reconnects(env, m, reconnects(env, env.tls_port, m, f"none-{mode}"))

    def test_12_status(self, env):
        st = status(env, env.tls_port)
        assert (st.get("TLSSessionCache"), st.get("TLSSessionTickets")) == ("none", "on"), st


class TestNoCacheNoTickets:
    """Nothing to resume from: every handshake is a full one, for every mode."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        session_server(env, "TLSSessionCache none", "TLSSessionTickets off")

    @pytest.mark.parametrize("mode", list(MODES))
    def test_12_nothing_resumes(self, env, mode):
        m = MODES[mode]
        visits = reconnects(env, env.tls_port, m, f"nothing-{mode}", 10)
        assert [(v.status, v.reused, v.x_resumed) for v in visits] == [(200, False, "Initial")] * 11


def crashes(env, mark: int) -> List[str]:
    return env.log_lines(mark, r"Segmentation fault|exit signal|AH00060|AH00052")


class TestCacheNotSetUp:
    """A TLSSessionCache whose cache was never set up (no TLSEngine, or its initialization failed)
    is never touched: server-status, and a graceful restart from a configuration with sessions in
    the cache to one without TLS ports or with a cache that cannot be set up, crashed httpd (a
    child, or the parent) before."""

    MODULES = ["socache_shmcb", "status"]

    @staticmethod
    def cache_line(env, path: str = "tls-sessions-nsu") -> str:
        return f"TLSSessionCache shmcb:{env.run_dir}/{path}(512000)"

    def test_12_status_without_tls_ports(self, env):
        mark = env.log_mark()
        env.serve(session_config(env, self.cache_line(env), tls=False), modules=self.MODULES)
        for path in ("/server-status?auto", "/server-status"):
            resp, _ = env.http_request(env.http_port, path, tls=False)
            assert resp.status == 200, resp.text[:500]
            assert "TLSSessionCache: not in use (no TLSEngine)" in resp.text, resp.text[-2000:]
        time.sleep(0.2)
        assert crashes(env, mark) == []

    def test_12_graceful_to_no_tls_ports_and_back(self, env):
        mode = MODES["tls12-id"]
        session_server(env, self.cache_line(env), "TLSSessionTickets off", modules=self.MODULES)
        made = visit(env, env.tls_port, mode, "nsu-before")
        assert visit(env, env.tls_port, mode, "nsu-before-2", made).reused  # in the cache
        mark, parent = env.log_mark(), parent_pid(env)
        env.write_config(session_config(env, self.cache_line(env), "TLSSessionTickets off", tls=False),
                         modules=self.MODULES)
        graceful_restart(env, worker_pids(env))
        resp, _ = env.http_request(env.http_port, "/server-status?auto", tls=False)
        assert resp.status == 200 and "TLSSessionCache: not in use (no TLSEngine)" in resp.text, resp.text[-2000:]
        # and back: TLS and the cache work again
        env.write_config(session_config(env, self.cache_line(env), "TLSSessionTickets off"), listen=[env.tls_port],
                         modules=self.MODULES)
        graceful_restart(env, worker_pids(env))
        assert parent_pid(env) == parent
        first = visit(env, env.tls_port, mode, "nsu-after")
        v = visit(env, env.tls_port, mode, "nsu-after-2", first)
        assert (first.status, v.status, v.reused, v.x_resumed) == (200, 200, True, "Resumed")
        time.sleep(0.2)
        assert crashes(env, mark) == []

    def test_12_graceful_to_cache_that_fails(self, env):
        """The new generation's cache cannot be set up (here: its mutex): httpd says so and exits
        cleanly; the entries carried from the old cache are dropped, not stored into it."""
        mode = MODES["tls12-id"]
        session_server(env, self.cache_line(env), "TLSSessionTickets off", modules=self.MODULES)
        made = visit(env, env.tls_port, mode, "nsu-fail-before")
        assert visit(env, env.tls_port, mode, "nsu-fail-before-2", made).reused
        parent, mark, children = parent_pid(env), env.log_mark(), worker_pids(env)
        # the cache's mutex file in /proc: the directive accepts the directory, but no lock file can be made there
        env.write_config(session_config(env, self.cache_line(env), "TLSSessionTickets off",
                                        "Mutex file:/proc tls-session-cache"),
                         listen=[env.tls_port], modules=self.MODULES)
        r = env.apache2("-k", "graceful")
        assert r.rc == 0, r
        deadline = time.monotonic() + 15
        while TlsTestEnv._alive(parent):
            assert time.monotonic() < deadline, "httpd did not exit on a cache it cannot set up"
            time.sleep(0.05)
        # the old generation's children notice that the parent is gone and end: wait for that
        # (bounded), so that the ports are free for what follows
        deadline = time.monotonic() + 15
        while any(TlsTestEnv._alive(int(p)) for p in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = [int(p) for p in children if TlsTestEnv._alive(int(p))]
        for p in left:
            os.kill(p, signal.SIGKILL)
        assert left == [], f"children {left} outlived their parent by 15 s"
        assert env.log_lines(mark, r"MTLS0404.*cannot create the mutex"), env.log_since(mark)
        # the parent ended through httpd's own exit path, not a crash
        assert env.wait_log(r"AH00020: Configuration Failed", mark), env.log_since(mark)[-3000:]


class TestDefaultWithoutShmcb:
    """TLSSessionCache default without mod_socache_shmcb: a per-process cache and an info line;
    tickets are shared by all children all the same."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        type(self).mark = env.log_mark()
        session_server(env, modules=("status",))

    def test_12_info_line(self, env):
        lines = env.wait_log(r"MTLS0402", self.mark)
        assert lines and "[tls:info]" in lines[0] and "mod_socache_shmcb" in lines[0], lines

    def test_12_status(self, env):
        st = status(env, env.tls_port)
        assert (st.get("TLSSessionCache"), st.get("TLSSessionTickets")) == ("per process", "on"), st

    @pytest.mark.parametrize("mode", TICKET_MODES)
    def test_12_tickets_resume(self, env, mode):
        m = MODES[mode]
        check_reconnects(env, m, reconnects(env, env.tls_port, m, f"default-noshmcb-{mode}"))


class TestCacheFull:
    """A cache too small for the sessions: handshakes go on, old sessions are dropped, new ones
    resume."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        session_server(env, "TLSSessionTickets off", f"TLSSessionCache shmcb:{env.run_dir}/tls-tiny(8192)")

    def test_12_full_cache(self, env):
        mark = env.log_mark()
        m = MODES["tls12-id"]
        ctx = m.context(env)
        made = [visit(env, env.tls_port, m, f"full.{i}", ctx=ctx) for i in range(150)]
        assert [(v.status, v.reused) for v in made] == [(200, False)] * 150
        st = status(env, env.tls_port)
        assert int(st["CacheCurrentEntries"]) < 150, st
        oldest = visit(env, env.tls_port, m, "full-oldest", made[0])
        assert (oldest.status, oldest.reused, oldest.x_resumed) == (200, False, "Initial")
        newest = visit(env, env.tls_port, m, "full-newest", made[-1])
        assert (newest.status, newest.reused, newest.x_resumed) == (200, True, "Resumed")
        assert env.log_errors(mark) == []


# ------------------------------------------------------------------ boundaries

def cross_host_server(env, *lines):
    """a/b.example.org on tls_port (different certificates); same.example.org on tls_port2 (the
    origin), on spare port 0 with the same setup, on spare port 1 with another certificate of the
    same type for the same name, and on spare port 2 with the origin's certificate but other
    settings (TLSHonorClientOrder)."""
    a = env.certs.get("a.example.org", "ec256")
    b = env.certs.get("b.example.org", "ec256")
    same = env.certs.get("same.example.org", "ec256")
    same2 = env.certs.get("same2.example.org", "ec256", domains=["same.example.org"])
    p_same, p_cert, p_set = env.spare_ports[:3]
    vh = [env.vhost("a.example.org", env.tls_port, RESUMED_HEADER, certs=[a]),
          env.vhost("b.example.org", env.tls_port, RESUMED_HEADER, certs=[b]),
          env.vhost("same.example.org", env.tls_port2, RESUMED_HEADER, certs=[same]),
          env.vhost("same.example.org", p_same, RESUMED_HEADER, certs=[same],
                    docroot=env.vhost_docroot("same.example.org")),
          env.vhost("same.example.org", p_cert, RESUMED_HEADER, certs=[same2],
                    docroot=env.vhost_docroot("same.example.org")),
          env.vhost("same.example.org", p_set, RESUMED_HEADER, "TLSHonorClientOrder off", certs=[same],
                    docroot=env.vhost_docroot("same.example.org"))]
    ports = [env.tls_port, env.tls_port2, p_same, p_cert, p_set]
    body = "\n".join([MULTI_CHILD, *lines] + [f"TLSEngine {p}" for p in ports] + vh)
    env.serve(body, listen=ports, modules=["socache_shmcb"])


class CrossHostChecks:
    """A session never resumes on a host with other certificates or settings; the client gets a
    full handshake and its request is served. (rustls itself refuses a session made for another
    SNI name, so the same-name cases on other ports are where the setup digest must act.) The
    classes below supply the server and the `mode` fixture."""

    def test_12_other_host_full_handshake(self, env, mode):
        m = MODES[mode]
        sess = sess_file(env, f"xhost-{type(self).__name__}-{mode}")
        s_new(env, env.tls_port, m, sess, sni="a.example.org")
        v = s_visit(env, env.tls_port, m, sess_in=sess, sni="b.example.org")
        assert offered_session(m, v.offered), f"s_client offered no session: {v.offered}"
        assert (v.how, v.status, v.x_resumed, v.body) == ("New", 200, "Initial", "b.example.org\n"), v.out[-3000:]
        # the session itself was good (and, if single-use, not used up by b): it resumes on a
        s_resumes(env, env.tls_port, m, sess, sni="a.example.org")

    def same_name(self, env, mode, port, expect_resumed):
        m = MODES[mode]
        sess = sess_file(env, f"xport-{type(self).__name__}-{mode}-{port}")
        origin = s_new(env, env.tls_port2, m, sess, sni="same.example.org")
        v = s_visit(env, port, m, sess_in=sess, sni="same.example.org")
        assert offered_session(m, v.offered), f"s_client offered no session: {v.offered}"
        want = ("Reused", "Resumed") if expect_resumed else ("New", "Initial")
        assert (v.how, v.status, v.x_resumed, v.body) == (want[0], 200, want[1], "same.example.org\n"), v.out[-3000:]
        assert (v.protocol, v.cipher) == (origin.protocol, origin.cipher)
        if not expect_resumed:
            s_resumes(env, env.tls_port2, m, sess, sni="same.example.org")

    def test_12_same_setup_other_port_resumes(self, env, mode):
        self.same_name(env, mode, env.spare_ports[0], True)

    def test_12_other_certificate_full_handshake(self, env, mode):
        self.same_name(env, mode, env.spare_ports[1], False)

    def test_12_other_settings_full_handshake(self, env, mode):
        self.same_name(env, mode, env.spare_ports[2], False)


class TestCrossHost(CrossHostChecks):
    """Tickets on: TLS 1.2 session ids (the cache), TLS 1.2 tickets, TLS 1.3 tickets."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        cross_host_server(env)

    @pytest.fixture(params=["tls12-id", "tls12-ticket", "tls13-ticket"])
    def mode(self, request):
        return request.param


class TestCrossHostStateful(CrossHostChecks):
    """Tickets off: TLS 1.2 session ids and TLS 1.3 stateful sessions, both in the cache."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        cross_host_server(env, "TLSSessionTickets off")

    @pytest.fixture(params=CACHE_MODES)
    def mode(self, request):
        return request.param


# ------------------------------------------------------------------ across servers

@pytest.fixture(scope="module")
def redis_port(env):
    return free_port(env.spare_ports[4])


@pytest.fixture(scope="module")
def env_b(env):
    """A second httpd: its own server root and ports (its port base is the first spare port of
    the session's env: B's http_port and tls_port are that port and the next)."""
    b = TlsTestEnv(os.path.join(env.server_root, "instance-b"), port_base=env.spare_ports[0],
                   mod_tls_so=env.mod_tls_so, preload=env.preload, sanitizer_dir=env.sanitizer_dir)
    b.setup()
    yield b
    b.stop()


def cluster_config(env, redis_port, key_file):
    return [f"TLSSessionCache redis:127.0.0.1:{redis_port}", f"TLSSessionTicketKeyFile {key_file}"]


class TestCrossServer:
    """Two httpd instances sharing a redis session cache and a ticket key file: a session from
    one resumes on the other. Both name the same certificate files."""

    @pytest.fixture(scope="class", autouse=True)
    def cluster(self, env, env_b, redis_port):
        redis = Redis(redis_port, os.path.join(env.tmp_dir, "redis-cluster")).start()
        key = write_key_file(env, "cluster.key", os.urandom(48))
        type(self).cluster_key = key
        cred = env.certs.get(HOST, "ec256")
        try:
            for e in (env, env_b):
                session_server(e, *cluster_config(env, redis_port, key), cred=cred,
                               modules=("socache_redis", "status"))
            yield redis
        finally:
            env_b.stop()
            env.stop()
            redis.stop()

    def key_file(self, env):
        return type(self).cluster_key

    @pytest.mark.parametrize("mode", ["tls12-id", "tls12-ticket", "tls13-ticket"])
    def test_12_session_from_a_resumes_on_b(self, env, env_b, mode):
        m = MODES[mode]
        sess_a, sess_b = sess_file(env, f"cluster-a-{mode}"), sess_file(env, f"cluster-b-{mode}")
        # the clients run with env: its CA issued the certificate both servers use
        s_new(env, env.tls_port, m, sess_a)
        s_resumes(env, env_b.tls_port, m, sess_a)
        s_new(env, env_b.tls_port, m, sess_b)
        s_resumes(env, env.tls_port, m, sess_b)

    @pytest.mark.parametrize("mode", ["tls12-id", "tls12-ticket", "tls13-ticket"])
    def test_12_alternating_servers(self, env, env_b, mode):
        m = MODES[mode]
        ctx = m.context(env)
        first = visit(env, env.tls_port, m, f"alt-{mode}.0", ctx=ctx)
        assert not first.reused
        got = [visit(env, e.tls_port, m, f"alt-{mode}.{i}", first).reused
               for i, e in enumerate([env_b, env] * 20, start=1)]
        assert sum(got) >= min_resumed(len(got)), got

    def test_12_ids_are_in_redis(self, env, cluster):
        before = cluster.dbsize()
        visit(env, env.tls_port, MODES["tls12-id"], "cluster-id-in-redis")
        assert cluster.dbsize() > before

    def test_12_status(self, env, env_b, redis_port):
        for port in (env.tls_port, env_b.tls_port):
            st = status(env, port)
            assert (st.get("TLSSessionCache"), st.get("TLSSessionTickets")) == (
                f"redis:127.0.0.1:{redis_port}", "on"), st

    def test_12_same_certificate_other_path(self, env, env_b, redis_port):
        # B serves the same certificate and key from copies in its own server root: the setup is
        # the same (certificates and settings), so sessions must still cross
        cred = env.certs.get(HOST, "ec256")
        d = os.path.join(env_b.server_root, "certs-copy")
        os.makedirs(d, exist_ok=True)
        copy = CertFiles(os.path.join(d, "cert.pem"), os.path.join(d, "key.pem"))
        shutil.copy(cred.cert_file, copy.cert_file)
        shutil.copy(cred.key_file, copy.key_file)
        session_server(env_b, *cluster_config(env, redis_port, self.key_file(env)), cred=copy,
                       modules=("socache_redis", "status"))
        got = {}
        for mode in ("tls12-id", "tls12-ticket", "tls13-ticket"):
            m = MODES[mode]
            first = visit(env, env.tls_port, m, f"copy-{mode}.0")
            v = visit(env, env_b.tls_port, m, f"copy-{mode}.1", first)
            assert (v.status, v.x_resumed) == (200, "Resumed" if v.reused else "Initial")
            got[mode] = v.reused
        assert got == {"tls12-id": True, "tls12-ticket": True, "tls13-ticket": True}

    def test_12_other_key_file_no_tickets(self, env, env_b, redis_port):
        # B with another secret: A's tickets do not open there; session ids (redis) still resume
        other = write_key_file(env, "other.key", os.urandom(48))
        session_server(env_b, *cluster_config(env, redis_port, other), cred=env.certs.get(HOST, "ec256"),
                       modules=("socache_redis", "status"))
        for mode in ("tls12-ticket", "tls13-ticket"):
            m = MODES[mode]
            sess = sess_file(env, f"cluster-other-{mode}")
            s_new(env, env.tls_port, m, sess)
            v = s_visit(env, env_b.tls_port, m, sess_in=sess)
            assert offered_session(m, v.offered)
            assert (v.how, v.status, v.x_resumed) == ("New", 200, "Initial"), v.out[-3000:]
        sess = sess_file(env, "cluster-other-id")
        s_new(env, env.tls_port, MODES["tls12-id"], sess)
        s_resumes(env, env_b.tls_port, MODES["tls12-id"], sess)


def check_backend_down(env, stop_backend, tag: str, since: int) -> None:
    """The session cache's backend (redis, memcached) goes away under the running server, stopped
    by `stop_backend`: every handshake goes on as a full one (status 200, Initial), the parent
    stays, each child that served warns once (MTLS0407), no tls error is logged, and it keeps
    serving. `since`: error-log mark from which no MTLS0407 may be seen before the stop."""
    m12, m13 = MODES["tls12-id"], MODES["tls13-stateful"]
    saved12 = visit(env, env.tls_port, m12, f"{tag}-before.12")
    saved13 = visit(env, env.tls_port, m13, f"{tag}-before.13")
    parent = parent_pid(env)
    assert warnings_by_pid(env, since, "MTLS0407") == {}
    mark = env.log_mark()
    stop_backend()
    visits = []
    for i in range(30):
        visits.append(visit(env, env.tls_port, m12, f"{tag}.12.{i}", saved12))  # lookup, then store
        visits.append(visit(env, env.tls_port, m13, f"{tag}.13.{i}", saved13))
        saved13 = visits[-1]
    assert [(v.status, v.reused, v.x_resumed) for v in visits] == [(200, False, "Initial")] * len(visits)
    assert parent_pid(env) == parent
    log = read_sessions_log(env, [v.tag for v in visits])
    served_by = {log[v.tag][0] for v in visits}
    assert len(served_by) >= 2, served_by
    warned = warnings_by_pid(env, mark, "MTLS0407")
    assert set(warned) == served_by, (warned, served_by)
    assert all(n == 1 for n in warned.values()), \
        f"MTLS0407 per child pid: {warned} (for {len(visits)} connections)\n" + \
        "\n".join(env.log_lines(mark, "MTLS0407"))
    assert env.log_errors(mark, "tls") == []
    # and it keeps serving
    assert visit(env, env.tls_port, m12, f"{tag}-after").status == 200


class TestRedisCache:
    """The cache in redis (tickets off): shared by the children, entries expire, sessions survive a
    graceful restart. Then redis is stopped under the running server: handshakes go on as full
    handshakes, httpd keeps running, and the warning comes once per child process, not per
    connection."""

    @pytest.fixture(scope="class", autouse=True)
    def redis(self, env, redis_port):
        redis = Redis(redis_port, os.path.join(env.tmp_dir, "redis-down")).start()
        type(self).start_mark = env.log_mark()
        try:
            session_server(env, "TLSSessionTickets off", f"TLSSessionCache redis:127.0.0.1:{redis_port}",
                           modules=("socache_redis", "status"))
            yield redis
        finally:
            env.stop()
            redis.stop()

    @pytest.mark.parametrize("mode", CACHE_MODES)
    def test_12_redis_resumes_across_children(self, env, redis, mode):
        m = MODES[mode]
        check_reconnects(env, m, reconnects(env, env.tls_port, m, f"redis-{mode}"))
        assert redis.dbsize() > 0

    def test_12_entries_expire(self, env, redis):
        visit(env, env.tls_port, MODES["tls12-id"], "redis-ttl")
        key = redis.command("RANDOMKEY")
        assert key and key.startswith("mod_tls-sess:"), key
        assert 250 <= redis.command("TTL", key) <= 300

    @pytest.mark.parametrize("mode", CACHE_MODES)
    def test_12_resume_after_graceful(self, env, mode):
        check_resumes_after_graceful(env, MODES[mode], f"redis-{mode}")

    def test_12_redis_stopped(self, env, redis):
        check_backend_down(env, redis.stop, "down", since=self.start_mark)


# ------------------------------------------------------------------ configuration

class TestConfig:
    """Directive errors (the server must not start) and accepted provider specs."""

    def tls_body(self, env, *lines, vhost_lines=()):
        cred = env.certs.get(HOST, "ec256")
        return "\n".join([*lines, f"TLSEngine {env.tls_port}", STATUS_LOCATION,
                          env.vhost(HOST, env.tls_port, *vhost_lines, certs=[cred])])

    def refused(self, env, body, modules=("socache_shmcb",)):
        env.stop()
        env.write_config(body, listen=[env.tls_port], modules=list(modules))
        return env.start_expect_failure()

    @staticmethod
    def assert_mentions(text, *regexes):
        missing = [rx for rx in regexes if not re.search(rx, text)]
        assert not missing, f"message lacks {missing}:\n{text[-3000:]}"

    def test_12_key_file_missing(self, env):
        path = os.path.join(env.server_root, "keys", "missing.key")
        text = self.refused(env, self.tls_body(env, f"TLSSessionTicketKeyFile {path}"))
        self.assert_mentions(text, "TLSSessionTicketKeyFile", re.escape(path), "cannot read")

    @pytest.mark.parametrize("size", [0, 16, 31])
    def test_12_key_file_too_short(self, env, size):
        secret = b"SHORTSECRETxyzSHORTSECRETxyz0123"[:size]
        path = write_key_file(env, f"short{size}.key", secret)
        text = self.refused(env, self.tls_body(env, f"TLSSessionTicketKeyFile {path}"))
        self.assert_mentions(text, "TLSSessionTicketKeyFile", re.escape(path), "32 bytes")
        if size >= 8:
            assert secret.decode() not in text

    @pytest.mark.parametrize("mode", [0o644, 0o604, 0o602, 0o666, 0o620])
    def test_12_key_file_permissions(self, env, mode):
        path = write_key_file(env, f"mode{mode:o}.key", os.urandom(48), mode)
        text = self.refused(env, self.tls_body(env, f"TLSSessionTicketKeyFile {path}"))
        self.assert_mentions(text, "TLSSessionTicketKeyFile", re.escape(path), "others")

    @pytest.mark.parametrize("mode,size", [(0o600, 32), (0o400, 48), (0o640, 64)])
    def test_12_key_file_accepted(self, env, mode, size):
        # an ASCII secret, so that it could be found in the log: it must never be there
        secret = (b"TicketSecretNeverLogged-" * 4)[:size]
        path = write_key_file(env, f"good{mode:o}-{size}.key", secret, mode)
        mark = env.log_mark()
        env.serve(self.tls_body(env, f"TLSSessionTicketKeyFile {path}"), listen=[env.tls_port],
                  modules=["socache_shmcb", "status"], log_level="debug tls:trace8")
        m = MODES["tls13-ticket"]
        first = visit(env, env.tls_port, m, "keyfile.0")
        assert visit(env, env.tls_port, m, "keyfile.1", first).reused
        env.stop()
        text = env.log_since(mark)
        for needle in (secret.decode(), secret[:16].decode(), secret.hex(), secret[:16].hex()):
            assert needle not in text

    def test_12_global_only(self, env):
        path = write_key_file(env, "global-only.key", os.urandom(48))
        for line in ("TLSSessionCache default", "TLSSessionTickets off", f"TLSSessionTicketKeyFile {path}"):
            text = self.refused(env, self.tls_body(env, vhost_lines=[line]))
            self.assert_mentions(text, line.split()[0], "cannot occur within <VirtualHost>")

    def test_12_tickets_bad_value(self, env):
        text = self.refused(env, self.tls_body(env, "TLSSessionTickets maybe"))
        self.assert_mentions(text, "TLSSessionTickets", "maybe")

    @pytest.mark.parametrize("spec", ["shmcb", "dbm:/tmp/x", "memcache:127.0.0.1:11211", "redis:127.0.0.1:6379"])
    def test_12_provider_not_loaded(self, env, spec):
        name = spec.split(":")[0]
        text = self.refused(env, self.tls_body(env, f"TLSSessionCache {spec}"), modules=())
        self.assert_mentions(text, "TLSSessionCache", rf"LoadModule socache_{name}_module")

    def test_12_unknown_provider(self, env):
        text = self.refused(env, self.tls_body(env, "TLSSessionCache bogus:whatever"))
        self.assert_mentions(text, "TLSSessionCache", "bogus")

    def test_12_mutex_type_registered(self, env):
        # httpd refuses a Mutex line for a type nobody registered
        env.write_config(self.tls_body(env, f"Mutex file:{env.run_dir} tls-session-cache"),
                         listen=[env.tls_port], modules=["socache_shmcb"])
        r = env.configtest()
        assert r.rc == 0, str(r)
        env.write_config(self.tls_body(env, f"Mutex file:{env.run_dir} tls-session-cache-bogus"),
                         listen=[env.tls_port], modules=["socache_shmcb"])
        assert env.configtest().rc != 0

    @pytest.mark.parametrize("spec,module,shown", [
        ("default", "socache_shmcb", "shmcb:{run}/mod_tls-sessions(512000)"),
        ("shmcb:{run}/explicit(600000)", "socache_shmcb", "shmcb:{run}/explicit(600000)"),
        ("dbm:{run}/explicit-dbm", "socache_dbm", "dbm:{run}/explicit-dbm"),
        ("memcache:127.0.0.1:{port}", "socache_memcache", "memcache:127.0.0.1:{port}"),
        ("redis:127.0.0.1:{port}", "socache_redis", "redis:127.0.0.1:{port}"),
    ])
    def test_12_provider_specs(self, env, spec, module, shown):
        # memcache/redis: nothing listens there; the server starts and serves all the same
        fill = dict(run=env.run_dir, port=env.spare_ports[3])
        env.serve(self.tls_body(env, f"TLSSessionCache {spec.format(**fill)}"), listen=[env.tls_port],
                  modules=[module, "status"])
        st = status(env, env.tls_port)
        assert st.get("TLSSessionCache") == shown.format(**fill), st
        m = MODES["tls12-id"]
        assert visit(env, env.tls_port, m, f"spec-{module}").status == 200
        env.stop()
