"""Robustness against what peers do and what administrators do to a running server.

1. Stalled handshakes are bounded: mod_reqtimeout's handshake stage (`RequestReadTimeout
   handshake=N[-M],MinRate=R`) closes a connection that stops or trickles during the TLS handshake
   at the same moment for mod_tls as for mod_ssl (both in one server, measured side by side), and
   without mod_reqtimeout httpd's `Timeout` bounds every wait of the handshake. Before, mod_tls ran
   its handshake in a process_connection hook ordered before mod_reqtimeout's, which had not yet
   put its filter on the connection: handshakes stalled until `Timeout` (30 s here, 3 s asked).
   Idle keep-alive connections still follow `KeepAliveTimeout`.
2. Stopping and restarting: connections left idle, half-handshaken, after the handshake without a
   request, kept alive, or by `openssl s_client -tls1_2 -reconnect`, must not keep a child from
   exiting. A worker blocked in a socket read does not notice that its child stops (the MPM
   closes the socket under it; that does not wake a poll() on Linux), so the parent logged
   AH00045 three times and killed the child (AH00046) ten seconds later.
3. Log hygiene: nothing a peer sends produces an error-level line, nor more than one mod_tls line
   per connection, at the default LogLevel and at info.

The times measured here are in docs/reliability.md ("Handshake timeouts, restarts and logs").
"""

import os
import random
import re
import select
import socket
import subprocess
import threading
import time
from typing import Callable, Dict, List, Optional

import pytest

from modtls import rawtls
from modtls.env import client_hello_bytes

TLS_NAME = "tls.example.org"
SSL_NAME = "ssl.example.org"
SERVERS = ("mod_tls", "mod_ssl")

HANDSHAKE = 3      # RequestReadTimeout handshake=HANDSHAKE-HANDSHAKE_MAX,MinRate=MIN_RATE
HANDSHAKE_MAX = 6
MIN_RATE = 1000    # bytes/s: each byte received moves the deadline by 1 ms (up to HANDSHAKE_MAX)
CORE_TIMEOUT = 4   # httpd's Timeout where mod_reqtimeout is not loaded
KEEPALIVE = 5      # KeepAliveTimeout of the generated configuration
SLACK = 1.0        # the +-1 s a close may be off the configured time

PADDING = 21       # the padding extension (RFC 7685), to make long ClientHellos


def side_by_side(env, *extra: str) -> str:
    tls = env.certs.get(TLS_NAME, "ec256")
    ssl_ = env.certs.get(SSL_NAME, "ec256")
    return "\n".join([f"TLSEngine {env.tls_port}", *extra,
                      env.vhost(TLS_NAME, env.tls_port, certs=[tls]),
                      env.vhost(SSL_NAME, env.ssl_port, "SSLEngine on", ssl_.ssl_lines())])


def tls_only(env, *extra: str) -> str:
    return "\n".join([f"TLSEngine {env.tls_port}", *extra,
                      env.vhost(TLS_NAME, env.tls_port, certs=[env.certs.get(TLS_NAME, "ec256")])])


def target(env, which: str):
    return (env.tls_port, TLS_NAME) if which == "mod_tls" else (env.ssl_port, SSL_NAME)


def tls12_hello(name: str, padding: int = 0) -> bytes:
    extra = [rawtls.extension(PADDING, bytes(padding))] if padding else []
    return rawtls.record(rawtls.HANDSHAKE, rawtls.tls12_client_hello(name, extra=extra))


def wait_closed(sock: socket.socket, limit: float, trickle: Optional[Callable[[], Optional[bytes]]] = None,
                every: float = 0.25) -> Optional[float]:
    """Seconds until the server closed `sock` (EOF or reset), reading and discarding what it sends;
    None if still open after `limit`. `trickle` gives the next bytes to send every `every` seconds
    (None: nothing more)."""
    start = time.monotonic()
    next_send = start
    while True:
        now = time.monotonic()
        if now - start > limit:
            return None
        if trickle and now >= next_send:
            data = trickle()
            if data:
                try:
                    sock.sendall(data)
                except (BrokenPipeError, ConnectionResetError):
                    return time.monotonic() - start
            next_send += every
        wait = min(every, max(0.0, start + limit - now))
        if trickle:
            wait = max(0.0, min(wait, next_send - time.monotonic()))
        ready, _, _ = select.select([sock], [], [], wait)
        if ready:
            try:
                if not sock.recv(65536):
                    return time.monotonic() - start
            except (ConnectionResetError, ConnectionAbortedError):
                return time.monotonic() - start


def chunks(data: bytes, size: int):
    """A trickle source: `data` in pieces of `size` bytes, then None."""
    pos = [0]

    def nxt() -> Optional[bytes]:
        piece = data[pos[0]:pos[0] + size]
        pos[0] += size
        return piece or None
    return nxt


# What a stalling client does: (bytes sent at once, what it reads before waiting, trickle, every)
def case_record_header(name):
    return tls12_hello(name)[:3], None, None, 0.25


def case_partial_hello(name):
    hello = tls12_hello(name)
    return hello[:len(hello) // 2], None, None, 0.25


def case_tls12_first_flight(name):
    # the whole ClientHello; the server answers (ServerHello .. ServerHelloDone) and waits for
    # the client's second flight, which never comes
    return tls12_hello(name), None, None, 0.25


def case_tls13_first_flight(name):
    # a real TLS 1.3 ClientHello (key shares); the server sends its whole flight and waits for
    # the client's Finished
    return client_hello_bytes(name), None, None, 0.25


def case_slow_trickle(name):
    # 4 bytes/s, far below MinRate: the deadline hardly moves (4 ms/s)
    hello = tls12_hello(name)
    return b"", None, chunks(hello, 1), 0.25


def case_fast_trickle(name):
    # a 14 kB ClientHello at 2000 bytes/s, twice MinRate: the deadline moves ahead until
    # HANDSHAKE_MAX holds it (after 1.5 s), the hello would take 7 s
    hello = tls12_hello(name, padding=14000)
    return b"", None, chunks(hello, 100), 0.05


STALLS = {
    "record_header": case_record_header,
    "partial_hello": case_partial_hello,
    "tls12_first_flight": case_tls12_first_flight,
    "tls13_first_flight": case_tls13_first_flight,
    "slow_trickle": case_slow_trickle,
    "fast_trickle": case_fast_trickle,
}


def expected_close(stall_name: str) -> float:
    """When mod_reqtimeout's handshake stage ends a stall: HANDSHAKE seconds after the first
    read, plus 1/MIN_RATE s per byte received, at most HANDSHAKE_MAX."""
    first, _, trickle, every = STALLS[stall_name](TLS_NAME)
    if stall_name == "fast_trickle":
        return HANDSHAKE_MAX
    sent = len(first) if first else HANDSHAKE / every  # the slow trickle: one byte per `every`
    return min(HANDSHAKE + sent / MIN_RATE, HANDSHAKE_MAX)


def stall(env, which: str, case, limit: float) -> Optional[float]:
    """Run one stalling client against mod_tls or mod_ssl; seconds from its first byte to the
    server's close (None: not closed within `limit`)."""
    port, name = target(env, which)
    first, _, trickle, every = case(name)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        if first:
            sock.sendall(first)
        elif trickle:
            sock.sendall(trickle())
        return wait_closed(sock, limit, trickle, every)


def stall_both(env, case, limit: float, during: Optional[Callable[[], None]] = None) -> Dict[str, Optional[float]]:
    """The same stall against mod_tls and mod_ssl at the same time; `during` runs meanwhile."""
    results: Dict[str, Optional[float]] = {}
    errors: List[BaseException] = []

    def run(which):
        try:
            results[which] = stall(env, which, case, limit)
        except BaseException as e:  # reported below
            errors.append(e)
    threads = [threading.Thread(target=run, args=(w,)) for w in SERVERS]
    for t in threads:
        t.start()
    if during:
        time.sleep(1)
        during()
    for t in threads:
        t.join(limit + 10)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    return results


def served_meanwhile(env) -> None:
    """A normal client is served, quickly, by both modules while others stall."""
    for which in SERVERS:
        port, name = target(env, which)
        start = time.monotonic()
        resp, _ = env.http_request(port, "/", sni=name, timeout=5)
        assert resp.status == 200, which
        assert time.monotonic() - start < 2, f"{which} was slow to serve a normal client meanwhile"


def assert_closed_near(results, expected: float, what: str):
    for which in SERVERS:
        t = results[which]
        assert t is not None, f"{which}: {what} still open after {expected + 10} s ({results})"
        assert expected - SLACK <= t <= expected + SLACK, \
            f"{which}: {what} closed after {t:.2f} s, expected {expected} s +-{SLACK} ({results})"


def no_error_lines(env, mark):
    errors = env.log_errors(mark)
    assert errors == [], "peer-caused events must not be logged at error level:\n" + "\n".join(errors)


# ------------------------------------------------------------- 1. handshake timeouts


class TestHandshakeTimeout:
    """mod_reqtimeout's handshake stage bounds mod_tls handshakes as it does mod_ssl's."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        env.serve(side_by_side(env, f"RequestReadTimeout handshake={HANDSHAKE}-{HANDSHAKE_MAX},"
                                    f"MinRate={MIN_RATE}"),
                  mod_ssl=True, listen=[env.tls_port, env.ssl_port])

    @pytest.mark.parametrize("stall_name", list(STALLS))
    def test_16_stalled_handshake_closed_by_reqtimeout(self, env, stall_name):
        case, expected = STALLS[stall_name], expected_close(stall_name)
        mark = env.log_mark()
        results = stall_both(env, case, expected + 10, during=lambda: served_meanwhile(env))
        print(f"\n{stall_name} (expected {expected:.2f} s): " + ", ".join(f"{w} {results[w]:.2f} s" if results[w] is not None
                                              else f"{w} open" for w in SERVERS))
        assert_closed_near(results, expected, stall_name)
        # mod_reqtimeout said why, once per module
        assert len(env.log_lines(mark, r"AH01382: Request handshake read timeout")) >= 2
        no_error_lines(env, mark)

    def test_16_keepalive_follows_keepalivetimeout(self, env):
        # after a request, an idle connection waits KeepAliveTimeout (5 s), not the handshake stage
        results = {}

        def run(which):
            port, name = target(env, which)
            with env.tls_connect(port, sni=name, timeout=KEEPALIVE + 10) as s:
                s.sendall(f"GET / HTTP/1.1\r\nHost: {name}\r\n\r\n".encode())
                head = s.recv(65536)
                assert head.startswith(b"HTTP/1.1 200"), head[:100]
                start = time.monotonic()
                try:
                    while s.recv(65536):
                        pass
                except (ConnectionResetError, OSError):
                    pass
                results[which] = time.monotonic() - start
        threads = [threading.Thread(target=run, args=(w,)) for w in SERVERS]
        for t in threads:
            t.start()
        for t in threads:
            t.join(KEEPALIVE + 15)
        print(f"\nkeep-alive: {results}")
        for which in SERVERS:
            assert which in results, f"{which}: keep-alive client failed"
            assert KEEPALIVE - SLACK <= results[which] <= KEEPALIVE + SLACK, results


class TestHandshakeCoreTimeout:
    """Without mod_reqtimeout, httpd's Timeout bounds each wait of the handshake."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        env.stop()
        conf = env.write_config(side_by_side(env), mod_ssl=True, listen=[env.tls_port, env.ssl_port],
                                timeout=CORE_TIMEOUT)
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(re.sub(r"^LoadModule reqtimeout_module .*$", "", text, flags=re.M))
        env.start()
        yield
        env.stop()

    @pytest.mark.parametrize("stall_name", ["partial_hello", "tls12_first_flight"])
    def test_16_stalled_handshake_closed_at_timeout(self, env, stall_name):
        case = STALLS[stall_name]
        mark = env.log_mark()
        results = stall_both(env, case, CORE_TIMEOUT + 10, during=lambda: served_meanwhile(env))
        print(f"\n{stall_name} (Timeout {CORE_TIMEOUT}): {results}")
        assert_closed_near(results, CORE_TIMEOUT, stall_name)
        assert env.log_lines(mark, r"AH01382") == []  # really without mod_reqtimeout
        no_error_lines(env, mark)


# ------------------------------------------------------------- 2. stop and restart


class OpenConnections:
    """Connections to mod_tls in every state a client can leave one in."""

    def __init__(self, env, count: int = 2):
        port, name = env.tls_port, TLS_NAME
        self.socks: List[socket.socket] = []
        self.procs: List[subprocess.Popen] = []
        hello = tls12_hello(name)
        for _ in range(count):
            # idle: connected, nothing sent (held by the kernel's deferred accept)
            self.socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            # half a ClientHello
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(hello[:40])
            self.socks.append(s)
            # the whole first flight, the server's answer unread
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(hello)
            self.socks.append(s)
            # handshake done, no request
            self.socks.append(env.tls_connect(port, sni=name, timeout=5))
            # kept alive after a request
            s = env.tls_connect(port, sni=name, timeout=5)
            s.sendall(f"GET / HTTP/1.1\r\nHost: {name}\r\n\r\n".encode())
            assert s.recv(65536).startswith(b"HTTP/1.1 200")
            self.socks.append(s)
            # openssl s_client -tls1_2 -reconnect, its last connection left open (stdin open)
            self.procs.append(subprocess.Popen(
                ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", name,
                 "-tls1_2", "-reconnect", "-CAfile", env.ca_file],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1.5)  # the reconnects are done, every connection has reached its worker

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait(10)
        for s in self.socks:
            s.close()


def assert_children_exited(env, mark, what):
    lines = env.log_lines(mark, r"AH0004[56]")
    assert lines == [], f"{what}: children had to be signalled again or killed:\n" + "\n".join(lines)
    no_error_lines(env, mark)


class TestStopRestart:
    """No child of mod_tls needs a second SIGTERM or SIGKILL to exit, and stopping is quick.

    With the sanitizer build these servers run without LeakSanitizer: their children exit on
    purpose while they hold connections, whose pools httpd then never clears (the memory goes with
    the process), and LSan would report every such connection. ASan and UBSan stay on."""

    QUICK = 2.0  # seconds; the parent's first reminder (AH00045) comes after 3 s

    @pytest.fixture(autouse=True)
    def server(self, env):
        env.leak_checks = False
        try:
            env.serve(tls_only(env), listen=[env.tls_port])
            yield
            env.stop()
        finally:
            env.leak_checks = True

    def test_16_stop_with_open_connections(self, env):
        conns = OpenConnections(env)
        try:
            mark = env.log_mark()
            start = time.monotonic()
            env.stop(timeout=20, open_connections=True)
            took = time.monotonic() - start
        finally:
            conns.close()
        print(f"\nstop: {took:.2f} s")
        assert_children_exited(env, mark, "stop")
        assert took < self.QUICK, f"stopping took {took:.2f} s"

    def test_16_restart_with_open_connections(self, env):
        conns = OpenConnections(env)
        try:
            mark = env.log_mark()
            start = time.monotonic()
            r = env.apache2("-k", "restart")
            assert r.rc == 0, r
            env.wait_ready(mark, 20)
            took = time.monotonic() - start
        finally:
            conns.close()
        print(f"\nrestart: {took:.2f} s")
        assert_children_exited(env, mark, "restart")
        assert took < self.QUICK, f"restarting took {took:.2f} s"
        resp, _ = env.http_request(env.tls_port, "/", sni=TLS_NAME)
        assert resp.status == 200

    def test_16_graceful_then_stop_with_open_connections(self, env):
        # a graceful restart lets the old children finish their connections; the stop that
        # follows must not wait for them either
        conns = OpenConnections(env)
        try:
            mark = env.log_mark()
            env.graceful()
            resp, _ = env.http_request(env.tls_port, "/", sni=TLS_NAME)
            assert resp.status == 200
            start = time.monotonic()
            env.stop(timeout=20, open_connections=True)
            took = time.monotonic() - start
        finally:
            conns.close()
        print(f"\ngraceful, then stop: {took:.2f} s")
        assert_children_exited(env, mark, "graceful + stop")
        assert took < self.QUICK, f"stopping took {took:.2f} s"


# ------------------------------------------------------------- 3. log hygiene


def junk_hello(name: str) -> bytes:
    """A ClientHello with unknown extensions full of junk (legal: they must be ignored)."""
    rnd = random.Random(16)
    extra = [rawtls.extension(t, bytes(rnd.randrange(256) for _ in range(n)))
             for t, n in ((0x1234, 40), (0xFAFA, 0), (0x7F00, 300))]
    return rawtls.record(rawtls.HANDSHAKE, rawtls.tls12_client_hello(name, extra=extra))


def bad_extension_hello(name: str) -> bytes:
    """A ClientHello whose supported_groups extension does not parse."""
    extra = [rawtls.extension(rawtls.EXT_SUPPORTED_GROUPS, b"\x00\x03\x00\x1d\x00")]
    msg = rawtls.client_hello(rawtls.TLS12_ECDHE_GCM, [rawtls.ext_server_name(name), *extra,
                                                        rawtls.ext_signature_algorithms()])
    return rawtls.record(rawtls.HANDSHAKE, msg)


def garbage_cases(name: str):
    """name -> (bytes to send, then: 'close' or 'wait' for the server to close)."""
    rnd = random.Random(8)
    hello = tls12_hello(name)
    return {
        "random_bytes": (bytes(rnd.randrange(256) for _ in range(600)), "wait"),
        "http_on_tls_port": (f"GET / HTTP/1.1\r\nHost: {name}\r\n\r\n".encode(), "wait"),
        "truncated_record": (hello[:60], "close"),
        "oversized_record": (b"\x16\x03\x01\xff\xff" + bytes(300), "wait"),
        "oversized_plaintext": (rawtls.record(rawtls.HANDSHAKE, bytes(20000))[:5] + bytes(18000), "wait"),
        "wrong_content_type": (b"\x63\x03\x03\x00\x10" + bytes(16), "wait"),
        "alert_first": (rawtls.record(rawtls.ALERT, b"\x02\x28"), "wait"),
        "ccs_first": (rawtls.record(rawtls.CHANGE_CIPHER_SPEC, b"\x01"), "wait"),
        "sslv2_hello": (bytes.fromhex("802e0103010015000000100700c00500800300800100800600400400800200800"
                                      "2a3f0c1d3a6d8e0c9d7a6e6f9b8f7a0c3"), "wait"),
        "empty_handshake_records": (b"\x16\x03\x01\x00\x00" * 50, "wait"),
        "junk_extensions": (junk_hello(name), "close"),
        "malformed_extension": (bad_extension_hello(name), "wait"),
        "half_handshake_close": (hello, "close"),
        "hello_twice": (hello + hello, "wait"),
        "stall_record_header": (hello[:3], "wait"),
        "stall_first_flight": (hello, "wait"),
    }


def after_handshake_cases(env, name: str):
    """Garbage after a completed handshake: name -> function(ssl socket's raw socket)."""
    return {
        "bad_record_after_handshake": lambda raw: raw.sendall(rawtls.record(rawtls.APPLICATION_DATA,
                                                                           bytes(64), rawtls.TLS1_2)),
        "plaintext_hello_after_handshake": lambda raw: raw.sendall(tls12_hello(name)),
        "close_without_notify": lambda raw: raw.close(),
    }


class TestLogHygiene:
    """Per connection of a misbehaving peer: no error-level line and at most one mod_tls line."""

    STALL = 2  # handshake stage for the stalling cases

    @pytest.fixture(scope="class", params=["warn", "info"], autouse=True)
    def server(self, env, request):
        env.serve(tls_only(env, f"RequestReadTimeout handshake={self.STALL}"),
                  listen=[env.tls_port], log_level=request.param)
        return request.param

    def test_16_garbage_logs_little(self, env, server):
        mark = env.log_mark()
        ports: Dict[str, int] = {}
        socks = []
        for case, (data, then) in garbage_cases(TLS_NAME).items():
            s = socket.create_connection(("127.0.0.1", env.tls_port), timeout=5)
            ports[case] = s.getsockname()[1]
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            if then == "close":
                s.close()
            else:
                socks.append((case, s))
        for case, fn in after_handshake_cases(env, TLS_NAME).items():
            tls = env.tls_connect(env.tls_port, sni=TLS_NAME, timeout=5)
            ports[case] = tls.getsockname()[1]
            # the raw socket beneath: what is sent and read there bypasses the client's TLS
            raw = socket.socket(fileno=os.dup(tls.fileno()))
            tls.close()
            try:
                fn(raw)
            except OSError:
                pass
            if raw.fileno() >= 0:
                socks.append((case, raw))
        # every connection the server is to close is closed within the stall time and a bit
        still_open = [case for case, s in socks if wait_closed(s, self.STALL + 5) is None]
        for _, s in socks:
            s.close()
        assert still_open == [], f"the server kept these open: {still_open}"
        time.sleep(0.5)
        no_error_lines(env, mark)
        tls_lines = env.log_lines(mark, r"\[tls:")
        per_case = {case: [ln for ln in tls_lines if f"127.0.0.1:{port}]" in ln] for case, port in ports.items()}
        print(f"\nLogLevel {server}: mod_tls lines per connection: "
              + ", ".join(f"{c} {len(v)}" for c, v in per_case.items()))
        too_many = {c: v for c, v in per_case.items() if len(v) > 1}
        assert too_many == {}, "more than one mod_tls line for one connection:\n" + "\n".join(
            f"{c}:\n  " + "\n  ".join(v) for c, v in too_many.items())
        # and nothing of mod_tls without a client (all of it is per connection)
        untagged = [ln for ln in tls_lines if "[client " not in ln]
        assert untagged == [], untagged
