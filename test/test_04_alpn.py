"""ALPN: httpd chooses the protocol (Protocols, ProtocolsHonorOrder), mod_tls answers exactly that."""

import re

import pytest

from modtls.http import HttpConnection, build_request


@pytest.fixture(scope="module", autouse=True)
def server(env):
    P = env.tls_port
    creds = {n: env.certs.get(n, "ec256") for n in
             ("localhost", "h1only.example.org", "clientorder.example.org")}
    body = f"""
TLSEngine {P}
{env.vhost("localhost", P, "Protocols h2 http/1.1", certs=[creds["localhost"]])}
{env.vhost("h1only.example.org", P, "Protocols http/1.1", certs=[creds["h1only.example.org"]])}
{env.vhost("clientorder.example.org", P, "Protocols h2 http/1.1", "ProtocolsHonorOrder off",
           certs=[creds["clientorder.example.org"]])}
"""
    env.serve(body, listen=[P])


class TestAlpn:

    def test_04_curl_h2(self, env):
        r = env.curl(env.url("localhost", env.tls_port), "--http2")
        assert r.rc == 0, str(r)
        assert (r.response.status, r.response.http_version) == (200, "2")
        assert r.response.text == "localhost\n"

    def test_04_curl_http11(self, env):
        r = env.curl(env.url("localhost", env.tls_port), "--http1.1")
        assert r.rc == 0, str(r)
        assert (r.response.status, r.response.http_version) == (200, "1.1")

    def test_04_curl_h2_over_tls12(self, env):
        r = env.curl(env.url("localhost", env.tls_port), "--http2", "--tlsv1.2", "--tls-max", "1.2")
        assert r.rc == 0, str(r)
        assert (r.response.status, r.response.http_version) == (200, "2")

    def test_04_curl_h2_refused_by_vhost(self, env):
        r = env.curl(env.url("h1only.example.org", env.tls_port), "--http2")
        assert r.rc == 0, str(r)
        assert (r.response.status, r.response.http_version) == (200, "1.1")

    def test_04_h2_streams_share_connection(self, env):
        urls = [env.url("localhost", env.tls_port, p) for p in ("/", "/index.html", "/index.html?2")]
        r = env.curl(urls, "--http2")
        assert r.rc == 0, str(r)
        assert [x.status for x in r.responses] == [200, 200, 200]
        assert [x.http_version for x in r.responses] == ["2"] * 3
        assert sum(x.num_connects for x in r.responses) == 1

    def test_04_nghttp(self, env):
        r = env.nghttp(env.url("localhost", env.tls_port), "-v", "-n")
        assert r.rc == 0, str(r)
        assert "The negotiated protocol: h2" in r.stdout, str(r)
        assert ":status: 200" in r.stdout, str(r)

    def test_04_nghttp_several_streams(self, env):
        urls = [env.url("localhost", env.tls_port, p) for p in ("/", "/index.html", "/index.html?2")]
        r = env.nghttp(urls[0], "-n", "-s", *urls[1:])
        assert r.rc == 0, str(r)
        # the statistics table has one line per stream: id, times, status code, size, path
        done = re.findall(r"^\s*\d+\s+\+\S+\s+\+\S+\s+\S+\s+200\s", r.stdout, re.M)
        assert len(done) == 3, str(r)

    @pytest.mark.parametrize("sni,offer,answer", [
        ("localhost", "h2,http/1.1", "h2"),
        ("localhost", "http/1.1,h2", "h2"),  # server order wins (ProtocolsHonorOrder on)
        ("localhost", "http/1.1", "http/1.1"),
        ("localhost", "h2", "h2"),
        ("localhost", "foo/1,http/1.1", "http/1.1"),
        ("h1only.example.org", "h2,http/1.1", "http/1.1"),
        ("clientorder.example.org", "http/1.1,h2", "http/1.1"),  # client order wins
        ("clientorder.example.org", "h2,http/1.1", "h2"),
    ])
    def test_04_openssl_alpn(self, env, sni, offer, answer):
        s = env.s_client(env.tls_port, "-alpn", offer, sni=sni)
        assert s.handshake_ok, str(s)
        assert s.alpn == answer, str(s)

    def test_04_h1only_vhost_offering_only_h2(self, env):
        # the vhost cannot speak the only protocol offered: as for an unknown protocol, no ALPN
        # answer (never one the client did not offer) and HTTP/1.1
        with env.tls_connect(env.tls_port, sni="h1only.example.org", alpn=["h2"]) as sock:
            assert sock.selected_alpn_protocol() is None
            resp = HttpConnection(sock).request("/", f"h1only.example.org:{env.tls_port}")
            assert resp.status == 200 and resp.text == "h1only.example.org\n"

    def test_04_no_alpn_gets_http11(self, env):
        with env.tls_connect(env.tls_port, sni="localhost") as sock:
            assert sock.selected_alpn_protocol() is None
            resp = HttpConnection(sock).request("/", f"localhost:{env.tls_port}")
            assert resp.status == 200 and resp.version == "HTTP/1.1"

    def test_04_unknown_alpn_only_gets_http11(self, env):
        # no ALPN answer (answering a protocol the client did not offer would abort its
        # handshake), then plain HTTP/1.1
        with env.tls_connect(env.tls_port, sni="localhost", alpn=["foo/1", "bar/2"]) as sock:
            assert sock.selected_alpn_protocol() is None
            resp = HttpConnection(sock).request("/", f"localhost:{env.tls_port}")
            assert resp.status == 200 and resp.version == "HTTP/1.1"

    def test_04_h2_selected_then_http11_spoken(self, env):
        # a client that negotiated h2 but talks HTTP/1.1 gets no HTTP/1.1 answer, and the
        # server survives it
        mark = env.log_mark()
        with env.tls_connect(env.tls_port, sni="localhost", alpn=["h2"]) as sock:
            assert sock.selected_alpn_protocol() == "h2"
            sock.sendall(build_request("/", "localhost"))
            sock.settimeout(5)
            data = b""
            try:
                while len(data) < 100000:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            assert not data.startswith(b"HTTP/1.1")
        r = env.curl(env.url("localhost", env.tls_port), "--http2")
        assert r.response.status == 200
        assert env.log_errors(mark, "tls") == []
