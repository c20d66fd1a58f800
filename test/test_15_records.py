"""TLS records per response: data that reaches mod_tls' output filter before a flush goes out in
as few records as fit (16 KiB of plaintext each).

httpd hands a response to the connection's filters in several calls: the status line and headers
in one, the body (with EOS) in the next, then the end-of-request bucket; HTTP/2 passes its frames
in one brigade and a FLUSH. mod_tls used to encrypt what each call brought before returning, so a
small HTTP/1.1 response became two records (headers, body) and larger ones a short record more.
mod_ssl's coalescing filter keeps small writes until something other than data follows; it is
here, in the same server, to show what clients are used to.

Holding plaintext must delay nothing that has to go out: the streaming tests of test_05 (CGI output
with FLUSH, HTTP/1.1 and h2) and the tunnel test here (an upgraded connection through mod_proxy, as
websockets use it: each message must come back at once) check that.

The client (modtls/records.py) counts the records that carry application data after the request,
for HTTP/1.1 and HTTP/2, TLS 1.2 and 1.3; post-handshake messages (TLS 1.3 tickets) are not counted."""

import socket
import threading
import time

import pytest

from modtls import records

TLS_NAME = "tls.example.org"
SSL_NAME = "ssl.example.org"
SMALL = 1024  # ka-h1-1k of the benchmark
LARGER = 30000  # needs two records, however it is cut
VERSIONS = ["TLSv1.2", "TLSv1.3"]
SERVERS = ["mod_tls", "mod_ssl"]


@pytest.fixture(scope="module")
def files(env):
    return {size: env.data_file(size)[0] for size in (SMALL, LARGER)}


class EchoBackend:
    """A backend that answers any request with 101 Switching Protocols and then echoes every byte
    it gets: what mod_proxy's tunnel (websockets) forwards."""

    def __init__(self, port: int):
        self.sock = socket.create_server(("127.0.0.1", port))
        self.sock.settimeout(0.5)
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket):
        with conn:
            conn.settimeout(20)
            try:
                head = b""
                while b"\r\n\r\n" not in head:
                    data = conn.recv(4096)
                    if not data:
                        return
                    head += data
                conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             b"Connection: Upgrade\r\n\r\n")
                while True:
                    data = conn.recv(4096)
                    if not data:
                        return
                    conn.sendall(data)
            except OSError:
                return

    def stop(self):
        self.stopped = True
        self.thread.join(5)
        self.sock.close()


@pytest.fixture(scope="module")
def backend(env):
    b = EchoBackend(env.spare_ports[0])
    yield b
    b.stop()


@pytest.fixture(scope="module", autouse=True)
def server(env, files, backend):
    tls_cred = env.certs.get(TLS_NAME, "ec256")
    ssl_cred = env.certs.get(SSL_NAME, "ec256")
    tunnel = f"ProxyPass /tunnel/ http://127.0.0.1:{env.spare_ports[0]}/ upgrade=websocket"
    env.serve(f"TLSEngine {env.tls_port}\n"
              + env.vhost(TLS_NAME, env.tls_port, tunnel, certs=[tls_cred], docroot=env.docroot)
              + env.vhost(SSL_NAME, env.ssl_port, "SSLEngine on", ssl_cred.ssl_lines(), tunnel,
                          docroot=env.docroot),
              mod_ssl=True, listen=[env.tls_port, env.ssl_port], modules=["proxy", "proxy_http"])


def target(env, which: str):
    return (env.tls_port, TLS_NAME) if which == "mod_tls" else (env.ssl_port, SSL_NAME)


def fetch(env, which: str, proto: str, version: str, path: str) -> records.RecordCount:
    port, name = target(env, which)
    ctx = env.tls_context(alpn=[proto], min_version=version, max_version=version)
    get = records.fetch_h2 if proto == "h2" else records.fetch_h1
    rc = get(ctx, "127.0.0.1", port, name, path)
    assert rc.version == version
    return rc


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("proto", ["http/1.1", "h2"])
class TestRecordsPerResponse:

    def test_15_small_response_one_record(self, env, files, proto, version):
        rc = fetch(env, "mod_tls", proto, version, files[SMALL])
        assert rc.total > SMALL
        assert rc.count == 1, f"mod_tls: {rc}"

    def test_15_larger_response_fewest_records(self, env, files, proto, version):
        rc = fetch(env, "mod_tls", proto, version, files[LARGER])
        assert rc.total > LARGER
        assert rc.count == rc.fewest, f"mod_tls: {rc}"

    def test_15_small_response_mod_ssl(self, env, files, proto, version):
        """The comparison: mod_ssl in the same server sends a small response in one record too."""
        rc = fetch(env, "mod_ssl", proto, version, files[SMALL])
        assert rc.count == 1, f"mod_ssl: {rc}"


@pytest.mark.parametrize("which", SERVERS)
def test_15_tunnel_messages_not_held(env, which):
    """Through an upgraded connection (mod_proxy's tunnel, as websockets use it) each small
    message comes back at once: the tunnel's output must not wait in a buffer for more."""
    port, name = target(env, which)
    with env.tls_connect(port, sni=name, alpn=["http/1.1"]) as sock:
        sock.settimeout(5)
        sock.sendall(f"GET /tunnel/ HTTP/1.1\r\nHost: {name}:{port}\r\nUpgrade: websocket\r\n"
                     f"Connection: Upgrade\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            data = sock.recv(4096)
            assert data, f"closed after {head!r}"
            head += data
        assert head.startswith(b"HTTP/1.1 101 "), head
        rest = head.partition(b"\r\n\r\n")[2]
        assert rest == b""
        for i in range(5):
            msg = f"message {i}\n".encode()
            start = time.monotonic()
            sock.sendall(msg)
            got = b""
            while len(got) < len(msg):
                data = sock.recv(4096)  # times out after 5 s
                assert data, f"closed after {got!r}"
                got += data
            took = time.monotonic() - start
            assert got == msg
            assert took < 1, f"{which}: message {i} came back after {took:.1f}s"
