"""Hardening: records a remote peer can send that a TLS server must refuse, each checked against
mod_tls and, in the same server, against mod_ssl (to show that the check is fair: OpenSSL's server
refuses what the test expects refused and answers the control case).

1. Record alignment at a key change (RFC 8446 5.1): "Handshake messages MUST NOT span key changes.
   Implementations MUST verify that all messages immediately preceding a key change align with a
   record boundary; if not, then they MUST terminate the connection with an 'unexpected_message'
   alert." A TLS 1.3 ClientHello precedes such a change (what the client sends next is protected
   with handshake keys), so a record holding a ClientHello and anything more of the handshake must
   be refused with unexpected_message (10) before any ServerHello; mod_ssl (OpenSSL: "not on record
   boundary") does so. Sent with a raw socket (modtls/rawtls.py): a TLS 1.3 ClientHello with a real
   X25519 key share, followed in the same record by a plaintext Finished (a complete message) or by
   the first bytes of one (a fragment). The same ClientHello alone, in its own record, gets a
   ServerHello (the control).

Log hygiene for all of them: what a peer causes is never logged at error level (both modules), and
mod_tls logs at most one line per connection (a remote peer must not be able to flood the log).
The servers are the ones of test_14_interop (an ECDSA P-256 and an RSA certificate per virtual
host, the same key exchange groups)."""

import socket
import time
from dataclasses import dataclass
from typing import List

import pytest

from modtls import rawtls
from test_14_interop import SERVERS, assert_no_errors_logged, serve_side_by_side, target

MOD_TLS_LOG_MODULE = "tls"
# after the server's last byte, how long its log line may take to appear
LOG_SETTLE_SECONDS = 2


@dataclass
class Attempt:
    """One connection: what was sent, what came back, the client's port (to find its log lines)."""

    sent: bytes
    reply: rawtls.ServerReply
    client_port: int
    closed_by_server: bool

    def story(self) -> str:
        return (f"sent {len(self.sent)} bytes: {self.sent.hex()}\n"
                f"server answered: {self.reply.summary()}"
                f"{', then closed' if self.closed_by_server else ''}")


def wait_eof(sock: socket.socket, timeout: float) -> bool:
    """Read and discard until the server closes (True) or the timeout (False)."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            if not sock.recv(4096):
                return True
    except (socket.timeout, TimeoutError):
        return False
    except ConnectionResetError:
        return True
    return False


def attempt(port: int, data: bytes, timeout: float = 5) -> Attempt:
    """Connect, send data, read the reply up to the ServerHello or an alert; after an alert, wait
    (bounded) until the server closes, so that it is done with the connection when its log is read."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        client_port = sock.getsockname()[1]
        sock.sendall(data)
        reply = rawtls.read_reply(sock, timeout, until=(rawtls.HS_SERVER_HELLO,))
        closed = reply.eof or (reply.alert is not None and wait_eof(sock, timeout))
    return Attempt(data, reply, client_port, closed)


def connection_log_lines(env, mark: int, client_port: int, module: str = MOD_TLS_LOG_MODULE) -> List[str]:
    """The lines `module` logged for the connection from client_port since mark, once the log has
    settled (bounded wait for the first one)."""
    pattern = rf"\[{module}:\w+\] .*\[client 127\.0\.0\.1:{client_port}\]"
    env.wait_log(pattern, mark, timeout=LOG_SETTLE_SECONDS)
    time.sleep(0.2)  # a second line would follow at once
    return env.log_lines(mark, pattern)


def assert_log_hygiene(env, which: str, mark: int, att: Attempt) -> None:
    assert_no_errors_logged(env, mark)
    if which == "mod_tls":
        lines = connection_log_lines(env, mark, att.client_port)
        assert len(lines) <= 1, f"mod_tls logged {len(lines)} lines for one connection (at most 1):\n" + \
                                "\n".join(lines)


def hello_record(sni: str) -> bytes:
    return rawtls.tls13_client_hello(sni)


# a Finished message (RFC 8446 4.4.4: verify_data, 32 bytes for SHA-256 suites) that nobody could
# have computed yet: in the clear, right after the ClientHello
BOGUS_FINISHED = rawtls.handshake(rawtls.HS_FINISHED, bytes(32))
FOLLOWERS = {
    "finished": BOGUS_FINISHED,  # a complete handshake message
    "fragment": BOGUS_FINISHED[:6],  # the start of one (its header says 32 bytes, 2 are there)
}


class TestRecordAlignment:
    """A TLS 1.3 ClientHello must end its record (RFC 8446 5.1, see the module docstring)."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        serve_side_by_side(env)

    @pytest.mark.parametrize("which", SERVERS)
    def test_15_client_hello_alone_gets_server_hello(self, env, which):
        port, name = target(env, which)
        mark = env.log_mark()
        att = attempt(port, rawtls.record(rawtls.HANDSHAKE, hello_record(name)))
        refused = att.reply.alert is not None
        assert not refused, f"{which} refused a sound TLS 1.3 ClientHello\n{att.story()}"
        sh = att.reply.server_hello
        answered = sh is not None
        assert answered, f"no ServerHello from {which}\n{att.story()}"
        assert not sh.is_hello_retry_request, f"{which} asked for another key share\n{att.story()}"
        assert sh.selected_version == rawtls.TLS1_3, f"{which}: version {sh.selected_version:#06x}"
        assert_log_hygiene(env, which, mark, att)

    @pytest.mark.parametrize("follower", list(FOLLOWERS))
    @pytest.mark.parametrize("which", SERVERS)
    def test_15_client_hello_sharing_its_record_is_refused(self, env, which, follower):
        port, name = target(env, which)
        mark = env.log_mark()
        data = rawtls.record(rawtls.HANDSHAKE, hello_record(name) + FOLLOWERS[follower])
        att = attempt(port, data)
        story = f"\n{att.story()}"
        answered = att.reply.server_hello is not None
        assert not answered, f"{which} answered a ClientHello followed by a {follower} in the same record " \
                             f"with a ServerHello instead of refusing it (RFC 8446 5.1){story}"
        alert = att.reply.alert
        assert alert is not None, f"{which} sent no alert{story}"
        assert (alert.level, alert.description) == (2, 10), \
            f"{which}: expected a fatal unexpected_message (10), got {alert}{story}"
        assert att.closed_by_server, f"{which} kept the connection open after its fatal alert{story}"
        assert_log_hygiene(env, which, mark, att)
