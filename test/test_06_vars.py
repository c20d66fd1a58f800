"""TLS variables: in the request environment (CGI), through ap_ssl_var_lookup (mod_rewrite
%{SSL:...}, mod_headers %{...}s, mod_log_config %{...}x), %{HTTPS}, and the https scheme."""

import re

import pytest

from modtls.env import iana_cipher_name
from modtls.http import HttpConnection

NAME = "vars.example.org"
TLS_LOG = "tls_log"

# the same lookups in the main server (plain port) and the TLS vhost
LOOKUPS = r"""
RewriteEngine on
RewriteCond %{SSL:SSL_PROTOCOL} ^(.+)$
RewriteRule ^ - [E=RW_PROTO:%1]
RewriteCond %{SSL:SSL_CIPHER} ^(.+)$
RewriteRule ^ - [E=RW_CIPHER:%1]
RewriteCond %{SSL:SSL_TLS_SNI} ^(.+)$
RewriteRule ^ - [E=RW_SNI:%1]
RewriteCond %{HTTPS} ^(.+)$
RewriteRule ^ - [E=RW_HTTPS:%1]
RewriteCond %{SSL:SSL_PROTOCOL} !=TLSv1.3
RewriteRule ^/only-tls13$ - [R=404]
RewriteRule ^/only-tls13$ /index.html [PT]
Header always set X-Proto "%{SSL_PROTOCOL}s"
Header always set X-Cipher "%{SSL_CIPHER}s"
Header always set X-SNI "%{SSL_TLS_SNI}s"
Redirect /old /new-place
"""

# how the client connects: Python ssl context arguments
CONNECTIONS = {
    "tls13": dict(),
    "tls12-ecdsa-aes128": dict(max_version="TLSv1.2", ciphers="ECDHE-ECDSA-AES128-GCM-SHA256"),
    "tls12-ecdsa-chacha": dict(max_version="TLSv1.2", ciphers="ECDHE-ECDSA-CHACHA20-POLY1305"),
    "tls12-rsa-aes256": dict(max_version="TLSv1.2", ciphers="ECDHE-RSA-AES256-GCM-SHA384"),
}
EXPECTED_VERSION = {"tls13": "TLSv1.3", "tls12-ecdsa-aes128": "TLSv1.2",
                    "tls12-ecdsa-chacha": "TLSv1.2", "tls12-rsa-aes256": "TLSv1.2"}


@pytest.fixture(scope="module", autouse=True)
def server(env):
    creds = [env.certs.get(NAME, "ec256"), env.certs.get(NAME, "rsa2048")]
    body = f"""
TLSEngine {env.tls_port}
LogFormat "%{{SSL_PROTOCOL}}x %{{SSL_CIPHER}}x %{{SSL_TLS_SNI}}x %U%q" tlslog
CustomLog logs/{TLS_LOG} tlslog
{LOOKUPS}
{env.vhost(NAME, env.tls_port, LOOKUPS, certs=creds, docroot=env.docroot)}
"""
    env.serve(body, listen=[env.tls_port])


def tls_log(env):
    return env.logs_dir + "/" + TLS_LOG


@pytest.fixture(params=list(CONNECTIONS))
def conn_kind(request):
    return request.param


def request_env(env, kind, path="/cgi-bin/env.py"):
    resp, info = env.http_request(env.tls_port, path, sni=NAME, **CONNECTIONS[kind])
    assert info.version == EXPECTED_VERSION[kind]
    return resp, info


class TestRequestEnv:

    def test_06_cgi_env(self, env, conn_kind):
        resp, info = request_env(env, conn_kind)
        assert resp.status == 200
        e = resp.env()
        assert e.get("HTTPS") == "on"
        assert e.get("SSL_TLS_SNI") == NAME
        assert e.get("SSL_PROTOCOL") == info.version
        assert e.get("SSL_CIPHER") == iana_cipher_name(info.cipher)
        assert e.get("REQUEST_SCHEME") == "https"

    def test_06_rewrite_lookups(self, env, conn_kind):
        resp, info = request_env(env, conn_kind)
        e = resp.env()
        assert e.get("RW_PROTO") == info.version
        assert e.get("RW_CIPHER") == iana_cipher_name(info.cipher)
        assert e.get("RW_SNI") == NAME
        assert e.get("RW_HTTPS") == "on"

    def test_06_rewrite_condition_on_protocol(self, env, conn_kind):
        resp, info = request_env(env, conn_kind, "/only-tls13")
        assert resp.status == (200 if info.version == "TLSv1.3" else 404)

    def test_06_header_lookups(self, env, conn_kind):
        resp, info = request_env(env, conn_kind, "/index.html")
        assert resp.header("X-Proto") == info.version
        assert resp.header("X-Cipher") == iana_cipher_name(info.cipher)
        assert resp.header("X-SNI") == NAME

    def test_06_log_line(self, env, conn_kind):
        mark = env.log_mark(tls_log(env))
        path = f"/index.html?{conn_kind}"
        _, info = request_env(env, conn_kind, path)
        expected = f"{info.version} {iana_cipher_name(info.cipher)} {NAME} {path}"
        # the request's own line: a line is written after the response went out, so an earlier
        # test's request for /index.html can still be logged after this test's mark
        lines = env.wait_log(rf"{re.escape(path)}$", mark, path=tls_log(env))
        assert lines == [expected]

    def test_06_vars_on_every_keepalive_request(self, env):
        with env.tls_connect(env.tls_port, sni=NAME) as sock:
            conn = HttpConnection(sock)
            for _ in range(3):
                e = conn.request("/cgi-bin/env.py", f"{NAME}:{env.tls_port}").env()
                assert e.get("HTTPS") == "on"
                assert e.get("SSL_PROTOCOL") == sock.version()

    @pytest.mark.parametrize("args,version,cipher", [
        (["--tlsv1.3"], "TLSv1.3", None),
        (["--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384"], "TLSv1.2",
         "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    ])
    def test_06_h2_request_env(self, env, args, version, cipher):
        # h2 requests run on secondary connections: the variables come from the TLS one
        r = env.curl(env.url(NAME, env.tls_port, "/cgi-bin/env.py"), "--http2", *args)
        assert r.rc == 0, str(r)
        assert r.response.http_version == "2"
        e = r.response.env()
        assert e.get("HTTPS") == "on"
        assert e.get("SSL_PROTOCOL") == version
        assert e.get("SSL_TLS_SNI") == NAME
        assert e.get("RW_PROTO") == version
        if cipher:
            assert e.get("SSL_CIPHER") == cipher
        assert r.response.header("x-proto") == version


class TestScheme:

    def test_06_dir_redirect_is_https(self, env):
        resp, _ = env.http_request(env.tls_port, "/dir", sni=NAME)
        assert resp.status == 301
        assert resp.header("Location") == f"https://{NAME}:{env.tls_port}/dir/"

    def test_06_redirect_is_https(self, env):
        resp, _ = env.http_request(env.tls_port, "/old", sni=NAME)
        assert resp.status == 302
        assert resp.header("Location") == f"https://{NAME}:{env.tls_port}/new-place"

    def test_06_h2_dir_redirect_is_https(self, env):
        r = env.curl(env.url(NAME, env.tls_port, "/dir"), "--http2")
        assert r.response.status == 301
        assert r.response.header("location") == f"https://{NAME}:{env.tls_port}/dir/"


class TestPlainPort:
    """The same lookups on a plain port (with mod_tls loaded) see no TLS."""

    def test_06_plain_env_has_no_tls(self, env):
        resp, _ = env.http_request(env.http_port, "/cgi-bin/env.py", tls=False, host="main.example.org")
        assert resp.status == 200
        e = resp.env()
        assert e.get("HTTPS") in (None, "off")
        assert not any(k.startswith("SSL_") for k in e), [k for k in e if k.startswith("SSL_")]
        assert e.get("RW_HTTPS") == "off"
        assert "RW_PROTO" not in e
        assert e.get("REQUEST_SCHEME") == "http"

    def test_06_plain_headers_and_log(self, env):
        mark = env.log_mark(tls_log(env))
        resp, _ = env.http_request(env.http_port, "/index.html?plain", tls=False, host="main.example.org")
        assert resp.header("X-Proto") in (None, "", "(null)")
        assert env.wait_log(r"/index\.html\?plain$", mark, path=tls_log(env)) == ["- - - /index.html?plain"]

    def test_06_plain_redirect_is_http(self, env):
        resp, _ = env.http_request(env.http_port, "/dir", tls=False, host="main.example.org")
        assert resp.status == 301
        assert re.match(rf"http://main\.example\.org:{env.http_port}/dir/$", resp.header("Location"))
