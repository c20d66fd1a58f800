"""Interoperability with clients that mod_ssl serves: four ways real clients were turned away or
lost their sessions with mod_tls on rustls 0.20.8, each checked against mod_tls and, in the same
server, against mod_ssl (to show that the check is fair: OpenSSL's server does what the test asks).

1. A TLS 1.2 ClientHello without the ec_point_formats extension (RFC 8422 5.1.2: absent means
   uncompressed) was refused with handshake_failure. A raw-socket client (modtls/rawtls.py) sends
   exactly such a hello.
2. A TLS 1.3 client in middlebox-compatibility mode whose key shares are all for groups the server
   lacks gets a HelloRetryRequest, which must echo its session id (RFC 8446 4.1.4); rustls 0.20.8
   did not and OpenSSL aborted with "invalid session id" (`openssl s_client -groups ffdhe2048:X25519`).
3. An OpenSSL client keeping its sessions in an external cache, as curl does (clients/resume_client.c:
   no internal store, the newest session from the new-session callback offered on each connection),
   resumed TLS 1.2 tickets on every other reconnect only.
4. `openssl s_client -tls1_2 -reconnect` saw a new Session-ID on every reconnect (each resumption
   sent a new ticket, and OpenSSL names a session by its ticket's hash); with mod_ssl the id stays.

Both modules serve the same key types (an ECDSA P-256 and an RSA 2048 certificate per virtual host),
with the same key exchange groups (mod_ssl is limited to the groups rustls has) and a shmcb session
cache each, tickets on (the defaults of mod_tls; SSLSessionCache for mod_ssl)."""

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

import pytest

from modtls import rawtls
from modtls.clients import c_client
from modtls.env import run

TLS_NAME = "tls.example.org"
SSL_NAME = "ssl.example.org"
KEY_TYPES = ("ec256", "rsa2048")
# rustls' groups (X25519, P-256, P-384), so that both servers answer the same key shares the same way
SSL_GROUPS = "X25519:P-256:P-384"
SERVERS = ["mod_tls", "mod_ssl"]
RECONNECTS = 20


def side_by_side_config(env) -> str:
    """mod_tls on env.tls_port (TLS_NAME) and mod_ssl on env.ssl_port (SSL_NAME), each with an
    ECDSA and an RSA certificate and a shmcb session cache."""
    tls_creds = [env.certs.get(TLS_NAME, k) for k in KEY_TYPES]
    ssl_creds = [env.certs.get(SSL_NAME, k) for k in KEY_TYPES]
    return f"""
TLSEngine {env.tls_port}
SSLSessionCache shmcb:{env.run_dir}/ssl-sessions(512000)
{env.vhost(TLS_NAME, env.tls_port, certs=tls_creds)}
{env.vhost(SSL_NAME, env.ssl_port, "SSLEngine on", *[c.ssl_lines() for c in ssl_creds],
           f"SSLOpenSSLConfCmd Groups {SSL_GROUPS}")}
"""


def serve_side_by_side(env) -> None:
    env.serve(side_by_side_config(env), mod_ssl=True, listen=[env.tls_port, env.ssl_port],
              modules=["socache_shmcb"])


def target(env, which: str) -> Tuple[int, str]:
    """(port, server name) of mod_tls or mod_ssl."""
    return (env.tls_port, TLS_NAME) if which == "mod_tls" else (env.ssl_port, SSL_NAME)


def assert_no_errors_logged(env, mark):
    errors = env.log_errors(mark)
    assert errors == [], "peer-caused events must not be logged at error level:\n" + "\n".join(errors)


# ------------------------------------------------------------------ 1. ec_point_formats

SUITE_FAMILIES = {
    "ecdsa": ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384"),
    "rsa": ("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"),
}
HELLO_GROUPS = ("x25519", "secp256r1")


class TestNoEcPointFormats:
    """A TLS 1.2 ClientHello without ec_point_formats must be answered with a ServerHello. RFC 8422
    5.1.2: a client that leaves the extension out supports uncompressed points only, which is all
    that TLS 1.2 with ECDHE uses. Some embedded and older clients send no such extension; OpenSSL's
    server (mod_ssl) goes on with the handshake, rustls 0.20.8 answered handshake_failure ("client
    didn't describe ec points"). The same hello with ec_point_formats is the control: it shows the
    hand-made hello is sound and that only the missing extension makes the difference."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        serve_side_by_side(env)

    @pytest.mark.parametrize("point_formats", ["absent", "uncompressed"])
    @pytest.mark.parametrize("family", list(SUITE_FAMILIES))
    @pytest.mark.parametrize("which", SERVERS)
    def test_14_tls12_hello_without_ec_point_formats(self, env, which, family, point_formats):
        port, name = target(env, which)
        suites = SUITE_FAMILIES[family]
        hello_msg = rawtls.tls12_client_hello(name, suites=suites, groups=HELLO_GROUPS,
                                              ec_point_formats=None if point_formats == "absent" else (0,))
        hello = rawtls.parse_hello(hello_msg)
        assert (rawtls.EXT_EC_POINT_FORMATS in hello.extension_types) == (point_formats != "absent")
        mark = env.log_mark()
        reply = rawtls.exchange("127.0.0.1", port, rawtls.record(rawtls.HANDSHAKE, hello_msg))
        # the server's first answer is a ServerHello (handshake type 2), not an alert
        assert reply.alert is None, f"{which} refused the ClientHello ({point_formats} ec_point_formats): " \
                                    f"{reply.summary()}"
        sh = reply.server_hello
        assert sh is not None, f"no ServerHello from {which}: {reply.summary()}"
        assert reply.handshakes[0].msg_type == rawtls.HS_SERVER_HELLO, reply.summary()
        assert sh.selected_version == rawtls.TLS1_2, hex(sh.selected_version)
        assert rawtls.SUITE_NAMES.get(sh.cipher_suite) in suites, hex(sh.cipher_suite)
        # a server sends no extension the client did not offer (RFC 5246 7.4.1.4)
        unasked = set(sh.extension_types) - set(hello.extension_types)
        assert not unasked, f"ServerHello has extensions the client did not offer: {sorted(unasked)}"
        # and it goes on: certificate, an ECDHE key exchange on an offered group, ServerHelloDone
        assert reply.first(rawtls.HS_SERVER_HELLO_DONE) is not None, reply.summary()
        kx = reply.first(rawtls.HS_SERVER_KEY_EXCHANGE)
        assert kx is not None, reply.summary()
        assert rawtls.parse_named_curve_kx(kx.body) in [rawtls.GROUPS[g] for g in HELLO_GROUPS]
        assert_no_errors_logged(env, mark)


# ------------------------------------------------------------------ 2. HelloRetryRequest

# s_client's group names -> code points
S_CLIENT_GROUPS = {"ffdhe2048": 0x0100, "X25519": 0x001D, "P-256": 0x0017, "P-521": 0x0019}


@dataclass
class MsgHandshake:
    """A handshake message from `openssl s_client -msg`."""

    sent: bool  # >>> (by the client) or <<< (by the server)
    name: str  # OpenSSL's name: ClientHello, ServerHello (a HelloRetryRequest too), ...
    data: bytes  # the message with its 4-byte header (clear-text messages only are complete)


def msg_handshakes(out: str) -> List[MsgHandshake]:
    """The handshake messages of `s_client -msg` output, in order."""
    found = []
    for m in re.finditer(r"^(>>>|<<<) [^\n]*Handshake \[length [0-9a-f]+\], (\w+)\n((?:    [0-9a-f ]+\n)+)",
                         out, re.M):
        found.append(MsgHandshake(m.group(1) == ">>>", m.group(2), bytes.fromhex(m.group(3).replace("\n", " "))))
    return found


def without_hex_dumps(text: str) -> str:
    """s_client -msg output without its hex dump lines (for failure messages)."""
    return re.sub(r"^    [0-9a-f]{2}(?: [0-9a-f]{2})*\n", "", text, flags=re.M)


def hello_story(client_hellos: List[rawtls.Hello], server_hellos: List[rawtls.Hello]) -> str:
    """The hellos of a handshake in one line each: who, which kind, the session id, the key share."""
    lines = []
    for who, hellos in (("client", client_hellos), ("server", server_hellos)):
        for h in hellos:
            kind = "HelloRetryRequest" if h.is_hello_retry_request else ("ClientHello" if who == "client"
                                                                           else "ServerHello")
            lines.append(f"  {who} {kind}: session id {h.session_id.hex() or '(empty)'}")
    return "hellos:\n" + "\n".join(lines)


def key_share_group(hello: rawtls.Hello) -> Optional[int]:
    """The group of a ServerHello's key_share (in a HelloRetryRequest: the group asked for)."""
    ks = hello.extension(rawtls.EXT_KEY_SHARE)
    return int.from_bytes(ks[:2], "big") if ks and len(ks) >= 2 else None


class TestHelloRetryRequest:
    """A TLS 1.3 client whose first key share is for a group the server lacks (ffdhe2048, P-521:
    neither rustls nor the restricted mod_ssl has them) and which also supports one the server has
    gets a HelloRetryRequest, then completes the handshake with its second ClientHello. OpenSSL
    clients (s_client, curl) are in middlebox-compatibility mode: they send a 32-byte legacy session
    id, and RFC 8446 4.1.4 says the HelloRetryRequest must echo it; they abort the handshake with
    "invalid session id" when it does not (rustls issue 1373, fixed in rustls 0.21.7). Checked with
    the client the issue names, `openssl s_client -groups FIRST:SECOND`, and a request over the
    connection."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        serve_side_by_side(env)

    @pytest.mark.parametrize("groups", ["ffdhe2048:X25519", "P-521:P-256"])
    @pytest.mark.parametrize("which", SERVERS)
    def test_14_hello_retry_request(self, env, which, groups):
        port, name = target(env, which)
        mark = env.log_mark()
        req = f"GET / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode()
        s = env.s_client(port, "-groups", groups, "-msg", "-ign_eof", sni=name, input=req)
        out = s.exec.stdout
        msgs = msg_handshakes(out)
        client_hellos = [rawtls.parse_hello(m.data) for m in msgs if m.sent and m.name == "ClientHello"]
        server_hellos = [rawtls.parse_hello(m.data) for m in msgs if not m.sent and m.name == "ServerHello"]
        tail = f"\n{hello_story(client_hellos, server_hellos)}\n{without_hex_dumps(str(s))[-3000:]}"
        # the handshake completes: TLS 1.3, a cipher, the certificate verified, the request served
        assert s.handshake_ok and s.protocol == "TLSv1.3", f"{which}: handshake failed{tail}"
        assert s.cipher in ("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"), tail
        assert re.search(r"^\s*Verify return code: 0 \(ok\)", out, re.M), tail
        assert re.search(r"^HTTP/1\.1 200 ", out, re.M), tail
        assert f"{name}\n" in out, tail
        # and it went the way this test is about: a HelloRetryRequest that echoed the session id
        assert len(client_hellos) == 2 and server_hellos, f"no HelloRetryRequest: {[m.name for m in msgs]}{tail}"
        first, second = groups.split(":")
        hrr = server_hellos[0]
        assert hrr.is_hello_retry_request, "the server took the first key share: this test needs a first group " \
                                           f"the server lacks ({first})"
        assert len(client_hellos[0].session_id) == 32, "s_client not in middlebox-compatibility mode"
        assert hrr.session_id == client_hellos[0].session_id, "HelloRetryRequest did not echo the session id"
        assert key_share_group(hrr) == S_CLIENT_GROUPS[second]
        assert key_share_group(server_hellos[1]) == S_CLIENT_GROUPS[second]
        assert_no_errors_logged(env, mark)


# ------------------------------------------------------------------ 3. external session cache

@dataclass
class ResumeRun:
    result: object  # ExecResult
    lines: List[Tuple[int, str, str]]  # (n, resumed|full|error, session id or error text)
    summary: dict

    def pattern(self) -> str:
        return " ".join(how for _, how, _ in self.lines)


def resume_client(env, port: int, sni: str, version: str, mode: str, count: int = RECONNECTS,
                  seconds: int = 30) -> ResumeRun:
    """Run clients/resume_client (built on first use) and parse its output."""
    exe = c_client(env, "resume_client")
    r = run([exe, "127.0.0.1", str(port), sni, version, mode, str(count), str(seconds), env.ca_file],
            timeout=seconds + 15)
    lines = []
    summary = {}
    for line in r.stdout.splitlines():
        m = re.match(r"^(\d+) (resumed|full|error) (.*)$", line)
        if m:
            lines.append((int(m.group(1)), m.group(2), m.group(3)))
        elif line.startswith("summary "):
            summary = dict(kv.split("=", 1) for kv in line.split()[1:])
    return ResumeRun(r, lines, summary)


class TestExternalSessionCache:
    """Resumption as curl does it with OpenSSL: the SSL_CTX stores no sessions itself
    (SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE), the new-session callback keeps the
    newest session and each new connection offers it (SSL_set_session). When a server renews a
    TLS 1.2 ticket on resumption, OpenSSL makes a new session object for it; with mod_tls on rustls
    0.20.8 the session so handed over did not resume, so that every other reconnect was a full
    handshake. Every reconnect after the first must resume, for TLS 1.2 tickets, TLS 1.2 session ids
    (SSL_OP_NO_TICKET) and TLS 1.3 (tickets, the default); RECONNECTS connections each, one request
    per connection read to EOF (TLS 1.3 tickets arrive after the handshake)."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        serve_side_by_side(env)

    @pytest.mark.parametrize("version,mode", [("1.2", "ticket"), ("1.2", "id"), ("1.3", "ticket")],
                             ids=["tls12-ticket", "tls12-id", "tls13-ticket"])
    @pytest.mark.parametrize("which", SERVERS)
    def test_14_every_reconnect_resumes(self, env, which, version, mode):
        port, name = target(env, which)
        mark = env.log_mark()
        res = resume_client(env, port, name, version, mode)
        show = f"\n{res.result}"
        errors = [ln for ln in res.lines if ln[1] == "error"]
        assert res.result.rc == 0 and not errors, f"connections failed: {errors[:5]}{show}"
        assert res.summary.get("connections") == str(RECONNECTS), show
        assert len(res.lines) == RECONNECTS, show
        assert res.lines[0][1] == "full", show
        not_resumed = [n for n, how, _ in res.lines[1:] if how != "resumed"]
        assert not not_resumed, f"{which} TLS {version} {mode}: reconnects {not_resumed} not resumed " \
                                f"({res.pattern()})"
        assert_no_errors_logged(env, mark)


# ------------------------------------------------------------------ 4. s_client -reconnect

class TestSClientReconnect:
    """`openssl s_client -tls1_2 -reconnect` connects once and then five times more offering the
    first connection's session. Each reconnect must be "Reused" with the first connection's
    Session-ID: a TLS 1.2 session is named by its id, and a server that resumes it keeps that name
    (mod_ssl does). mod_tls on rustls 0.20.8 sent a new ticket with every ticket resumption, and
    OpenSSL then names the session after the new ticket: every reconnect showed another Session-ID.
    With -no_ticket the session id and the server's cache are used; it is checked too."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        serve_side_by_side(env)

    @pytest.mark.parametrize("tickets", ["tickets", "no_ticket"])
    @pytest.mark.parametrize("which", SERVERS)
    def test_14_reconnect_keeps_session_id(self, env, which, tickets):
        port, name = target(env, which)
        mark = env.log_mark()
        args = ["-tls1_2", "-reconnect"] + (["-no_ticket"] if tickets == "no_ticket" else [])
        s = env.s_client(port, *args, sni=name, timeout=30)
        out = s.exec.stdout
        tail = f"\n{str(s)[-3000:]}"
        hows = re.findall(r"^(New|Reused), (\S+), Cipher is (\S+)", out, re.M)
        ids = re.findall(r"^\s*Session-ID: ([0-9A-F]*)\s*$", out, re.M)
        assert s.exec.rc == 0, tail
        assert len(hows) == 6 and len(ids) == 6, f"expected 1 + 5 connections: {hows}, {ids}{tail}"
        assert [h[1] for h in hows] == ["TLSv1.2"] * 6, hows
        assert [h[0] for h in hows] == ["New"] + ["Reused"] * 5, f"reconnects not resumed: {hows}"
        assert ids[0], f"the first connection has no session id{tail}"
        changed = [(i, sid) for i, sid in enumerate(ids[1:], start=1) if sid != ids[0]]
        assert not changed, f"{which}: Session-ID of connection 0 is {ids[0]}, reconnects differ: {changed}"
        assert_no_errors_logged(env, mark)


class TestCloseNotify:
    """The server ends a TLS connection with close_notify, as mod_ssl does: after a response with
    `Connection: close` and when an idle keep-alive connection times out. mod_tls queued it but
    passed it down in one brigade with httpd's end-of-connection bucket, and the core output
    filter never wrote it: OpenSSL clients reported "unexpected eof while reading" (curl ignores
    that; clients that do not would take the response as truncated)."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        env.serve(side_by_side_config(env) + "KeepAliveTimeout 1\n", mod_ssl=True,
                  listen=[env.tls_port, env.ssl_port], modules=["socache_shmcb"])

    @pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
    @pytest.mark.parametrize("ending", ["connection-close", "keepalive-timeout"])
    @pytest.mark.parametrize("which", SERVERS)
    def test_14_close_notify_at_the_end(self, env, which, ending, version):
        port, name = target(env, which)
        close = "Connection: close\r\n" if ending == "connection-close" else ""
        request = f"GET / HTTP/1.1\r\nHost: {name}\r\n{close}\r\n".encode()
        r = run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", name,
                 "-CAfile", env.ca_file, version, "-ign_eof", "-msg"], timeout=15, input=request)
        out = r.stdout + r.stderr
        assert "HTTP/1.1 200" in out, out[-2000:]
        assert re.search(r"^<<< TLS 1\.[23], ?Alert \[length 0002\], warning close_notify", out, re.M), \
            f"{which}: no close_notify from the server ({ending}):\n{out[-2000:]}"
        assert "unexpected eof" not in out, out[-2000:]
