"""mod_ssl and mod_tls in one server, each on its own port. The first class runs mod_ssl alone: it
needs no mod_tls and checks the test framework itself."""

import pytest

from modtls.env import iana_cipher_name

SSL_NAME = "ssl.example.org"
TLS_NAME = "tls.example.org"
TLS_LOG = "tls_log"

LOOKUPS = r"""
RewriteEngine on
RewriteCond %{SSL:SSL_PROTOCOL} ^(.+)$
RewriteRule ^ - [E=RW_PROTO:%1]
RewriteCond %{HTTPS} ^(.+)$
RewriteRule ^ - [E=RW_HTTPS:%1]
Header always set X-Proto "%{SSL_PROTOCOL}s"
"""


def ssl_vhost(env, cred):
    return env.vhost(SSL_NAME, env.ssl_port, "SSLEngine on", cred.ssl_lines(), "SSLOptions +StdEnvVars",
                     LOOKUPS)


def check_port(env, port, name, cred, iana_names):
    """A request over TLS 1.2 and one over TLS 1.3 on `port`: the right certificate, HTTPS=on and
    SSL_PROTOCOL in the CGI env, the lookups of mod_rewrite and mod_headers agree with the client."""
    for args in (dict(max_version="TLSv1.2", ciphers="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"),
                 dict(min_version="TLSv1.3")):
        resp, info = env.http_request(port, "/cgi-bin/env.py", sni=name, **args)
        assert info.cert_der == cred.cert_der
        assert resp.status == 200
        e = resp.env()
        assert e.get("HTTPS") == "on"
        assert e.get("SSL_PROTOCOL") == info.version
        assert e.get("RW_PROTO") == info.version
        assert e.get("RW_HTTPS") == "on"
        assert resp.header("X-Proto") == info.version
        if iana_names:
            assert e.get("SSL_CIPHER") == iana_cipher_name(info.cipher)
        else:  # mod_ssl reports OpenSSL's names
            assert e.get("SSL_CIPHER") == info.cipher


class TestModSslAlone:

    @pytest.fixture(scope="class", autouse=True)
    def cred(self, env):
        cred = env.certs.get(SSL_NAME, "rsa2048")
        env.serve(ssl_vhost(env, cred), mod_tls=False, mod_ssl=True, listen=[env.ssl_port])
        return cred

    def test_08_modssl_serves(self, env, cred):
        check_port(env, env.ssl_port, SSL_NAME, cred, iana_names=False)

    def test_08_modssl_curl_h1_h2(self, env):
        for proto, version in (("--http1.1", "1.1"), ("--http2", "2")):
            r = env.curl(env.url(SSL_NAME, env.ssl_port), proto)
            assert r.rc == 0, str(r)
            assert (r.response.status, r.response.http_version) == (200, version)
            assert r.response.text == f"{SSL_NAME}\n"

    def test_08_modssl_openssl_alpn(self, env):
        s = env.s_client(env.ssl_port, "-alpn", "h2,http/1.1", sni=SSL_NAME)
        assert s.handshake_ok and s.alpn == "h2", str(s)


class TestSideBySide:

    @pytest.fixture(scope="class", autouse=True)
    def creds(self, env):
        ssl_cred = env.certs.get(SSL_NAME, "rsa2048")
        tls_cred = env.certs.get(TLS_NAME, "ec256")
        body = f"""
TLSEngine {env.tls_port}
LogFormat "%{{SSL_PROTOCOL}}x %U" tlslog
CustomLog logs/{TLS_LOG} tlslog
{ssl_vhost(env, ssl_cred)}
{env.vhost(TLS_NAME, env.tls_port, LOOKUPS, certs=[tls_cred])}
"""
        env.serve(body, mod_ssl=True, listen=[env.ssl_port, env.tls_port])
        return {"ssl": ssl_cred, "tls": tls_cred}

    def test_08_modssl_port(self, env, creds):
        check_port(env, env.ssl_port, SSL_NAME, creds["ssl"], iana_names=False)

    def test_08_modtls_port(self, env, creds):
        check_port(env, env.tls_port, TLS_NAME, creds["tls"], iana_names=True)

    @pytest.mark.parametrize("which", ["ssl", "tls"])
    def test_08_curl_both(self, env, creds, which):
        name, port = (SSL_NAME, env.ssl_port) if which == "ssl" else (TLS_NAME, env.tls_port)
        for proto, version in (("--http1.1", "1.1"), ("--http2", "2")):
            r = env.curl(env.url(name, port), proto)
            assert r.rc == 0, str(r)
            assert (r.response.status, r.response.http_version) == (200, version)
            assert r.response.text == f"{name}\n"

    def test_08_log_lines_both(self, env):
        log = f"{env.logs_dir}/{TLS_LOG}"
        for name, port in ((SSL_NAME, env.ssl_port), (TLS_NAME, env.tls_port)):
            mark = env.log_mark(log)
            _, info = env.http_request(port, "/index.html", sni=name)
            assert env.wait_log(r"/index\.html$", mark, path=log) == [f"{info.version} /index.html"], name

    def test_08_plain_port_is_neither(self, env):
        resp, _ = env.http_request(env.http_port, "/cgi-bin/env.py", tls=False, host="main.example.org")
        e = resp.env()
        assert e.get("HTTPS") in (None, "off")
        assert "SSL_PROTOCOL" not in e
