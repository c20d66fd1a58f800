"""TLSSessionCache memcache:HOST:PORT (httpd's mod_socache_memcache) against a real memcached from
Debian's package: sessions shared by the children, kept across a graceful restart, shown in
server-status, and what happens when memcached goes away under the running server. Modelled on
TestRedisCache in test_12_sessions.py, whose helpers it uses. memcached runs in the foreground as
our child on a loopback port of the test env and is stopped by its own pid."""

import os
import socket
import subprocess
import time
import urllib.parse
from typing import Dict, List, Optional

import pytest

from test_12_sessions import (CACHE_MODES, HOST, MODES, check_backend_down, check_reconnects, free_port,
                              graceful_restart, read_sessions_log, reconnects, session_server, status, visit,
                              warnings_by_pid, worker_pids)

MEMCACHED = "/usr/bin/memcached"
# the key prefix mod_socache_memcache puts before the hex of the id (mod_tls' cache name)
KEY_PREFIX = "mod_tls-sess:"
# apr_memcache tries a server it marked dead again after this many seconds (apr_memcache.c)
APR_MEMCACHE_RETRY = 5


class Memcached:
    """A memcached on 127.0.0.1:port (TCP only), in the foreground as our child; stop() ends it by
    its pid. memcached refuses to run as root without -u: then it drops to `daemon`."""

    def __init__(self, port: int, workdir: str):
        self.port = port
        self.workdir = workdir
        self.log = os.path.join(workdir, f"memcached-{port}.log")
        self.proc: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 10) -> "Memcached":
        """Start it and wait (bounded) until it answers; `stats` must name our child's pid, so that
        another memcached on the port is never taken for ours."""
        assert self.proc is None or self.proc.poll() is not None, "memcached is already running"
        free_port(self.port)
        os.makedirs(self.workdir, exist_ok=True)
        args = [MEMCACHED, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0"]
        if os.geteuid() == 0:
            args += ["-u", "daemon"]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.stats().get("pid") == str(self.proc.pid):
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                with open(self.log) as f:
                    pytest.fail(f"memcached on port {self.port} did not come up:\n{f.read()[-2000:]}")
            time.sleep(0.05)

    def command(self, line: str) -> List[str]:
        """One text-protocol command; the reply's lines (as str) up to `END`, or the one line
        `BUSY ...` (lru_crawler while memcached's own crawler runs)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(line.encode() + b"\r\n")
            out = []
            with s.makefile("rb") as f:
                while True:
                    ln = f.readline()
                    if not ln.endswith(b"\n"):
                        raise OSError(f"memcached: reply cut short after {out[-3:]}")
                    ln = ln.rstrip(b"\r\n")
                    if ln == b"END":
                        return out
                    if ln.startswith(b"BUSY"):
                        return [ln.decode()]
                    if ln == b"ERROR" or ln.startswith((b"CLIENT_ERROR", b"SERVER_ERROR")):
                        raise OSError(f"memcached: {line!r}: {ln!r}")
                    out.append(ln.decode())

    def stats(self) -> Dict[str, str]:
        """`stats` as a dict (its lines are `STAT name value`)."""
        out = {}
        for ln in self.command("stats"):
            parts = ln.split(" ", 2)
            if len(parts) == 3 and parts[0] == "STAT":
                out[parts[1]] = parts[2]
        return out

    def curr_items(self) -> int:
        return int(self.stats()["curr_items"])

    def keys(self, timeout: float = 10) -> Dict[str, int]:
        """key -> absolute expiry (unix seconds, -1: none), from `lru_crawler metadump all` (retried,
        bounded, while memcached's own crawler is busy)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.command("lru_crawler metadump all")
            if not (lines and lines[0].startswith("BUSY")):
                break
            assert time.monotonic() < deadline, f"memcached: {lines[0]}"
            time.sleep(0.1)
        out = {}
        for ln in lines:
            fields = dict(f.split("=", 1) for f in ln.split(" ") if "=" in f)
            if "key" in fields:
                out[urllib.parse.unquote(fields["key"])] = int(fields.get("exp", "-1"))
        return out

    def stop(self, timeout: float = 10) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture(scope="module")
def memcached_port(env):
    return free_port(env.spare_ports[4])


class TestMemcacheCache:
    """The cache in memcached (tickets off): shared by the children, entries expire, sessions
    survive a graceful restart. Then memcached is stopped under the running server: handshakes go
    on as full handshakes, httpd keeps running, and mod_tls warns once per child process."""

    @pytest.fixture(scope="class", autouse=True)
    def memcached(self, env, memcached_port):
        mc = Memcached(memcached_port, os.path.join(env.tmp_dir, "memcached")).start()
        type(self).start_mark = env.log_mark()  # the error log is the session's: this server's part
        try:
            session_server(env, "TLSSessionTickets off", f"TLSSessionCache memcache:127.0.0.1:{memcached_port}",
                           modules=("socache_memcache", "status"))
            yield mc
        finally:
            env.stop()
            mc.stop()

    @pytest.mark.parametrize("mode", CACHE_MODES)
    def test_13_resumes_across_children(self, env, memcached, mode):
        m = MODES[mode]
        check_reconnects(env, m, reconnects(env, env.tls_port, m, f"memc-{mode}"))
        assert memcached.curr_items() > 0

    def test_13_entries_expire(self, env, memcached):
        # mod_socache_memcache hands memcached an absolute expiry: 300 s from the handshake
        before = set(memcached.keys())
        visit(env, env.tls_port, MODES["tls12-id"], "memc-ttl")
        now = time.time()
        new = {k: exp for k, exp in memcached.keys().items() if k not in before}
        assert len(new) == 1, new
        (key, exp), = new.items()
        assert key.startswith(KEY_PREFIX), key
        assert 250 <= exp - now <= 301, (key, exp, now)

    def test_13_status(self, env, memcached_port):
        st = status(env, env.tls_port)
        assert (st.get("TLSSessionCache"), st.get("TLSSessionTickets")) == (
            f"memcache:127.0.0.1:{memcached_port}", "off"), st
        resp, _ = env.http_request(env.tls_port, "/server-status", sni=HOST)
        assert resp.status == 200
        assert f"TLSSessionCache: memcache:127.0.0.1:{memcached_port}" in resp.text, resp.text[-3000:]

    @pytest.fixture(scope="class")
    def graceful_sessions(self, env):
        """Sessions made before a graceful restart; the pids of the children before it."""
        made = {mode: visit(env, env.tls_port, MODES[mode], f"memc-before-graceful-{mode}") for mode in CACHE_MODES}
        pids_before = worker_pids(env)
        graceful_restart(env, pids_before)
        return made, pids_before

    @pytest.mark.parametrize("mode", CACHE_MODES)
    def test_13_resume_after_graceful(self, env, graceful_sessions, mode):
        made, pids_before = graceful_sessions
        m = MODES[mode]
        # then reconnects: the new generation's children share memcached as the old ones did
        visits = reconnects(env, env.tls_port, m, f"memc-after-graceful-{mode}", 50, resume=made[mode])
        assert (visits[0].status, visits[0].reused, visits[0].x_resumed) == (200, True, "Resumed"), \
            "a session made before the graceful restart did not resume after it"
        log = read_sessions_log(env, [v.tag for v in visits])
        assert log[visits[0].tag][0] not in pids_before, "served by a child of the old generation"
        check_reconnects(env, m, visits)

    def test_13_memcached_stopped(self, env, memcached):
        # last but one in the class: memcached stays down until test_13_memcached_back
        check_backend_down(env, memcached.stop, "memc-down", since=self.start_mark)

    def test_13_memcached_back(self, env, memcached):
        # after test_13_memcached_stopped: memcached comes back on its port. apr_memcache (below
        # mod_socache_memcache) retries a server it marked dead once that was APR_MEMCACHE_RETRY
        # ago, in each child on its own: a first session resumes again, and once every child's
        # interval has passed, sessions resume across all children without a restart of httpd
        m = MODES["tls12-id"]
        memcached.stop()  # if test_13_memcached_stopped did not get to it
        memcached.start()
        mark = env.log_mark()
        deadline = time.monotonic() + 20
        i = 0
        while True:
            first = visit(env, env.tls_port, m, f"memc-back-probe.{i}.0")
            if visit(env, env.tls_port, m, f"memc-back-probe.{i}.1", first).reused:
                break
            assert time.monotonic() < deadline, "no session resumed within 20 s after memcached came back"
            i += 1
            time.sleep(0.25)
        time.sleep(APR_MEMCACHE_RETRY + 0.5)  # the other children's intervals end
        check_reconnects(env, m, reconnects(env, env.tls_port, m, "memc-back"))
        assert memcached.curr_items() > 0
        assert env.log_errors(mark, "tls") == []
        # the children that had warned say it works again (once each), so a later outage warns anew
        again = warnings_by_pid(env, mark, "MTLS0409")
        assert again, "no 'works again' line"
        assert all(n == 1 for n in again.values()), again
