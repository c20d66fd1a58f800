"""TLSEngine: exactly the connections arriving on a matching local address and port are TLS."""

import pytest

NAME = "engine.example.org"


def speaks_tls(env, addr, port):
    """TLS handshake and a request over it work."""
    try:
        resp, _ = env.http_request(port, "/", sni=NAME, addr=addr, timeout=5)
    except Exception:  # handshake refused, reset, timeout: not TLS
        return False
    return resp.status == 200 and resp.text == f"{NAME}\n"


def speaks_plain(env, addr, port):
    try:
        resp, _ = env.http_request(port, "/", tls=False, host=NAME, addr=addr, timeout=5)
    except Exception:
        return False
    return resp.status == 200 and resp.text == f"{NAME}\n"


def assert_endpoint(env, addr, port, tls):
    if tls:
        assert speaks_tls(env, addr, port), f"{addr}:{port} does not speak TLS"
        assert not speaks_plain(env, addr, port), f"{addr}:{port} serves plain HTTP"
    else:
        assert speaks_plain(env, addr, port), f"{addr}:{port} does not speak plain HTTP"
        assert env.tls_handshake_error(port, sni=NAME, host=addr, timeout=5) is not None, \
            f"{addr}:{port} speaks TLS"


class TestAddressMatching:
    """Ports A (TLSEngine 127.0.0.1:A), B (TLSEngine B), C (TLSEngine [::1]:C), D (none)."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        A, B, C, D = env.tls_port, env.tls_port2, env.spare_ports[0], env.plain_port
        cred = env.certs.get(NAME, "ec256")
        body = f"""
TLSEngine 127.0.0.1:{A}
TLSEngine {B}
TLSEngine [::1]:{C}
<VirtualHost *:{A} *:{B} *:{C} *:{D}>
    ServerName {NAME}
    DocumentRoot "{env.vhost_docroot(NAME)}"
    {cred.tls_line()}
</VirtualHost>
"""
        env.serve(body, listen=[f"127.0.0.1:{A}", f"127.0.0.2:{A}", f"[::1]:{A}",
                                f"127.0.0.1:{B}", f"127.0.0.2:{B}", f"[::1]:{B}",
                                f"127.0.0.1:{C}", f"[::1]:{C}",
                                f"127.0.0.1:{D}"])

    @pytest.mark.parametrize("addr,port_name,tls", [
        ("127.0.0.1", "A", True),
        ("127.0.0.2", "A", False),
        ("::1", "A", False),
        ("127.0.0.1", "B", True),
        ("127.0.0.2", "B", True),
        ("::1", "B", True),
        ("127.0.0.1", "C", False),
        ("::1", "C", True),
        ("127.0.0.1", "D", False),
    ])
    def test_07_endpoint(self, env, addr, port_name, tls):
        port = {"A": env.tls_port, "B": env.tls_port2, "C": env.spare_ports[0], "D": env.plain_port}[port_name]
        assert_endpoint(env, addr, port, tls)

    def test_07_main_server_port_stays_plain(self, env):
        # regression: the original treated connections to the main server as TLS as soon as any
        # TLSEngine existed
        resp, _ = env.http_request(env.http_port, "/", tls=False, host="main.example.org")
        assert resp.status == 200 and b"mod_tls test server" in resp.body
        assert env.tls_handshake_error(env.http_port, sni="main.example.org", timeout=5) is not None


class TestNoEngine:
    """mod_tls loaded, but no TLSEngine: everything is plain, no certificate is needed."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        body = env.vhost(NAME, env.tls_port)
        env.serve(body, listen=[env.tls_port])

    def test_07_no_engine_is_plain(self, env):
        assert_endpoint(env, "127.0.0.1", env.tls_port, False)
        resp, _ = env.http_request(env.http_port, "/", tls=False, host="main.example.org")
        assert resp.status == 200


class TestEngineOnMainServer:
    """A TLSEngine port without any VirtualHost: the main server answers it over TLS."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        cred = env.certs.get("main.example.org", "ec256")
        env.serve(f"TLSEngine {env.tls_port}\n{cred.tls_line()}\n", listen=[env.tls_port])
        return cred

    def test_07_main_server_over_tls(self, env, server):
        resp, info = env.http_request(env.tls_port, "/", sni="main.example.org")
        assert resp.status == 200 and b"mod_tls test server" in resp.body
        assert info.cert_der == server.cert_der

    def test_07_main_server_other_port_plain(self, env):
        resp, _ = env.http_request(env.http_port, "/", tls=False, host="main.example.org")
        assert resp.status == 200 and b"mod_tls test server" in resp.body
