"""Backend TLS for mod_proxy through mod_tls (issue 12): TLSProxy* directives, verification of
backends by name and IP address, SNI, 502 with one log line on failures, machine certificates,
protocol and cipher settings as the backend sees them, resumption, h2 backends, mixed mod_ssl and
mod_tls proxying.

The frontend is the session's server (env), proxying from its plain port. The backends run in a
second httpd (its own server root, CA and ports: env.port_base + 100 and up), with mod_ssl and
mod_tls each serving some ports. All ports are env.port_base + 100 .. + 199."""

import datetime
import os
import socket
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from modtls.certs import CertOptions, cert_pem, key_pem, new_private_key
from modtls.clients import c_module
from modtls.env import TlsTestEnv, iana_cipher_name

LEVELS = r"\[(?:[a-z_]+:)?(warn|error)\]"


def ports(env):
    base = env.port_base + 100
    return dict(
        b_http=base,         # the backend's plain port (not TLS: "closed during the handshake")
        b_tls=base + 1,      # mod_tls
        b_ssl=base + 3,      # mod_ssl (h2 and http/1.1)
        b_client=base + 5,   # mod_ssl, requires a client certificate
        b_self=base + 6,     # mod_ssl, self-signed certificate
        b_wrong=base + 7,    # mod_ssl, certificate for another name
        b_expired=base + 8,  # mod_ssl, expired certificate
        b_tls12=base + 9,    # mod_ssl, TLS 1.2 only
    )


def foreign_ca():
    """A CA of another name than the suite's (whose CAs all share one name): (cert, key)."""
    key = new_private_key("ec256")
    now = datetime.datetime.utcnow()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "foreign test CA")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert, key


def machine_cert(b, name="machine.example.org", ca=None):
    """A client certificate (clientAuth) issued by `ca` (cert, key), default the CA of env `b`:
    cert and key files (in b's certs directory)."""
    ca_cert, ca_key = ca or (b.certs.ca.cert, b.certs.ca.key)
    key = new_private_key("ec256")
    now = datetime.datetime.utcnow()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_file = os.path.join(b.certs.dir, f"{name}.cert.pem")
    key_file = os.path.join(b.certs.dir, f"{name}.key.pem")
    with open(cert_file, "wb") as f:
        f.write(cert_pem(cert))
    with open(key_file, "wb") as f:
        f.write(key_pem(key))
    return cert_file, key_file


@pytest.fixture(scope="module")
def backend(env):
    """The backend httpd: mod_ssl and mod_tls ports, each with its own certificate situation."""
    b = TlsTestEnv(os.path.join(env.server_root, "backend"), port_base=env.port_base + 100,
                   mod_tls_so=env.mod_tls_so, preload=env.preload, sanitizer_dir=env.sanitizer_dir)
    b.setup()
    p = ports(env)
    good = b.certs.get("localhost", "ec256", domains=["localhost", "127.0.0.1", "::1"])
    selfsigned = b.certs.get("selfsigned", "ec256", domains=["localhost", "127.0.0.1"],
                             options=CertOptions(self_signed=True))
    wrong = b.certs.get("other.example.org", "ec256")
    past = datetime.datetime.utcnow() - datetime.timedelta(days=10)
    expired = b.certs.get("expired", "ec256", domains=["localhost"],
                          options=CertOptions(not_before=past - datetime.timedelta(days=30), not_after=past))
    b.self_cred = selfsigned

    def ssl_vhost(port, cred, *lines):
        return b.vhost("localhost", port, "SSLEngine on", cred.ssl_lines(), "SSLOptions +StdEnvVars", *lines,
                       addr="*")

    body = "\n".join([
        "SSLSessionCache shmcb:" + os.path.join(b.run_dir, "sslcache(512000)"),
        "TLSEngine %d" % p["b_tls"],
        b.vhost("localhost", p["b_tls"], "TLSOptions +StdEnvVars", certs=[good]),
        ssl_vhost(p["b_ssl"], good),
        ssl_vhost(p["b_client"], good, "SSLVerifyClient require", f"SSLCACertificateFile {b.ca_file}",
                  "SSLVerifyDepth 2"),
        ssl_vhost(p["b_self"], selfsigned),
        ssl_vhost(p["b_wrong"], wrong),
        ssl_vhost(p["b_expired"], expired),
        ssl_vhost(p["b_tls12"], good, "SSLProtocol -all +TLSv1.2"),
    ])
    listen = [p[k] for k in ("b_tls", "b_ssl", "b_client", "b_self", "b_wrong", "b_expired", "b_tls12")]
    listen += [f"[::1]:{p['b_ssl']}", f"[::1]:{p['b_client']}"]
    b.serve(body, mod_ssl=True, listen=listen, modules=("socache_shmcb",))
    yield b
    b.stop()


class Misbehaving:
    """A TCP server that reads the ClientHello and closes (`close`), or never answers (`silent`)."""

    def __init__(self, port, mode):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.mode, self.stop, self.held = mode, threading.Event(), []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            if self.mode == "close":
                conn.settimeout(2)
                try:
                    conn.recv(4096)
                except OSError:
                    pass
                conn.close()
            else:
                self.held.append(conn)

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        for c in self.held:
            c.close()
        self.sock.close()


@pytest.fixture(scope="module")
def misbehaving(env):
    servers = [Misbehaving(env.port_base + 130, "close"), Misbehaving(env.port_base + 131, "silent")]
    yield
    for m in servers:
        m.close()


PROXY_MODULES = ("proxy", "proxy_http", "proxy_http2", "proxy_wstunnel", "socache_shmcb")


def frontend_body(env, b, *extra, engine_line="TLSProxyEngine on", ca=None):
    """The frontend: ProxyPass prefixes /NAME/ to each backend port, trusting the backend's CA."""
    p = ports(env)
    lines = [engine_line, f"TLSProxyCA {ca or b.ca_file}", "ProxyTimeout 10"]
    routes = {
        "tls": f"https://localhost:{p['b_tls']}/",
        "ssl": f"https://localhost:{p['b_ssl']}/",
        "ip": f"https://127.0.0.1:{p['b_ssl']}/",
        "ip6": f"https://[::1]:{p['b_ssl']}/",
        "client": f"https://localhost:{p['b_client']}/",
        "self": f"https://localhost:{p['b_self']}/",
        "wrong": f"https://localhost:{p['b_wrong']}/",
        "expired": f"https://localhost:{p['b_expired']}/",
        "tls12": f"https://localhost:{p['b_tls12']}/",
        "plain": f"https://localhost:{p['b_http']}/",
    }
    for name, url in routes.items():
        lines.append(f"ProxyPass /{name}/ {url}")
    lines += list(extra)
    return "\n".join(lines)


def ca_dir(env, b):
    """A directory with the backend's CA, another CA and a file that is no PEM at all."""
    d = os.path.join(env.server_root, "proxy-ca-dir")
    os.makedirs(d, exist_ok=True)
    with open(b.ca_file, "rb") as f, open(os.path.join(d, "backend-ca.pem"), "wb") as o:
        o.write(f.read())
    with open(env.ca_file, "rb") as f, open(os.path.join(d, "other-ca.crt"), "wb") as o:
        o.write(f.read())
    with open(os.path.join(d, "README"), "w") as o:
        o.write("not a certificate\n")
    return d


def get(env, path, **kw):
    resp, _ = env.http_request(env.http_port, path, tls=False, timeout=20, **kw)
    return resp


def fail_lines(env, mark, backend_name="localhost"):
    return env.log_lines(mark, r"MTLS1208: TLS to backend " + backend_name)


class TestProxyBasics:
    """One frontend with TLSProxyEngine on at server level, trusting the backend's CA."""

    @pytest.fixture(scope="class", autouse=True)
    def frontend(self, env, backend, misbehaving):
        p = ports(env)
        mc, mk = machine_cert(backend)
        extra = [
            f'<Proxy "https://localhost:{p["b_client"]}/">',
            f"    TLSProxyMachineCertificate {mc} {mk}",
            "</Proxy>",
            # the self-signed backend: pinned by naming its certificate
            f'<Proxy "https://localhost:{p["b_self"]}/">',
            f"    TLSProxyCA {backend.self_cred.cert_file}",
            "</Proxy>",
            # the mod_tls backend by IP address, trusting the wrong CA (the frontend's)
            f"ProxyPass /unknown/ https://127.0.0.1:{p['b_tls']}/",
            f'<Proxy "https://127.0.0.1:{p["b_tls"]}/">',
            f"    TLSProxyCA {env.ca_file}",
            "</Proxy>",
            # two machine certificates: the first from a CA the backend does not accept, the
            # second from its own: the one the backend names as acceptable is presented
            f"ProxyPass /client2/ https://127.0.0.1:{p['b_client']}/",
            f'<Proxy "https://127.0.0.1:{p["b_client"]}/">',
            "    TLSProxyMachineCertificate {} {}".format(*machine_cert(backend, "foreign.example.org", foreign_ca())),
            "    TLSProxyMachineCertificate {} {}".format(*machine_cert(backend, "second.example.org")),
            "</Proxy>",
            # the client-certificate backend without a machine certificate
            f"ProxyPass /nocert/ https://[::1]:{p['b_client']}/",
            # the name verified and sent is mod_proxy's: here the client's Host
            f"ProxyPass /preserve/ https://127.0.0.1:{p['b_ssl']}/",
            '<Location "/preserve/">', "    ProxyPreserveHost On", "</Location>",
            # a backend that closes after the ClientHello, one that never answers
            f"ProxyPass /closes/ https://localhost:{env.port_base + 130}/",
            f"ProxyPass /silent/ https://localhost:{env.port_base + 131}/ timeout=2",
            # a CA directory: the backend's CA among other files
            f'<Proxy "https://127.0.0.1:{p["b_ssl"]}/">',
            f"    TLSProxyCA {ca_dir(env, backend)}",
            "</Proxy>",
        ]
        env.serve(frontend_body(env, backend, *extra), modules=PROXY_MODULES, http2=True)
        yield
        env.stop()

    @pytest.mark.parametrize("route", ["ssl", "tls"])
    def test_17_proxy_to_backend(self, env, route):
        resp = get(env, f"/{route}/cgi-bin/env.py")
        assert resp.status == 200, resp.text
        e = resp.env()
        assert e.get("HTTPS") == "on"
        assert e.get("SSL_PROTOCOL") == "TLSv1.3"
        # a name: SNI sent
        assert e.get("SSL_TLS_SNI") == "localhost"

    @pytest.mark.parametrize("route", ["ip", "ip6"])
    def test_17_ip_address_no_sni(self, env, route):
        resp = get(env, f"/{route}/cgi-bin/env.py")
        assert resp.status == 200, resp.text
        e = resp.env()
        assert e.get("HTTPS") == "on"
        assert not e.get("SSL_TLS_SNI"), e.get("SSL_TLS_SNI")

    def test_17_preserve_host_name_verified_and_sent(self, env):
        resp = get(env, "/preserve/cgi-bin/env.py", host="localhost")
        assert resp.status == 200, resp.text
        assert resp.env().get("SSL_TLS_SNI") == "localhost"
        mark = env.log_mark()
        assert get(env, "/preserve/cgi-bin/env.py", host="other.example.org").status == 502
        lines = fail_lines(env, mark, "other.example.org")
        assert len(lines) == 1 and "not valid for the name" in lines[0], env.log_since(mark)

    def test_17_pinned_self_signed(self, env):
        resp = get(env, "/self/cgi-bin/env.py")
        assert resp.status == 200, resp.text
        assert resp.env().get("HTTPS") == "on"

    def test_17_machine_certificate(self, env):
        resp = get(env, "/client/cgi-bin/env.py")
        assert resp.status == 200, resp.text
        assert resp.env().get("SSL_CLIENT_S_DN_CN") == "machine.example.org"

    def test_17_machine_certificate_the_backend_accepts(self, env):
        resp = get(env, "/client2/cgi-bin/env.py")
        assert resp.status == 200, resp.text
        assert resp.env().get("SSL_CLIENT_S_DN_CN") == "second.example.org"

    @pytest.mark.parametrize("route,name,reason", [
        ("wrong", "localhost", "not valid for the name"),
        ("expired", "localhost", "validity period"),
        ("plain", "localhost", "a TLS server on that port"),
        ("unknown", "127.0.0.1", "add its CA (or the backend's own certificate) to TLSProxyCA"),
        ("nocert", "::1", "TLSProxyMachineCertificate"),
        ("closes", "localhost", "closed during the TLS handshake"),
    ])
    def test_17_failure_502_one_line(self, env, route, name, reason):
        mark = env.log_mark()
        t0 = time.monotonic()
        resp = get(env, f"/{route}/")
        assert resp.status == 502, resp.text
        assert time.monotonic() - t0 < 8
        lines = fail_lines(env, mark, name)
        assert len(lines) == 1, env.log_since(mark)
        assert "[tls:warn]" in lines[0]
        assert reason in lines[0], lines[0]
        assert "127.0.0.1" in lines[0] or "::1" in lines[0]
        # the server still serves
        assert get(env, "/ssl/").status == 200

    def test_17_silent_backend_times_out(self, env):
        mark = env.log_mark()
        t0 = time.monotonic()
        resp = get(env, "/silent/")
        assert resp.status in (502, 504), resp.text
        assert time.monotonic() - t0 < 6
        lines = fail_lines(env, mark)
        assert len(lines) == 1 and "did not answer in time" in lines[0], env.log_since(mark)
        assert get(env, "/ssl/").status == 200

    def test_17_h2_backend(self, env):
        p = ports(env)
        env.stop()
        body = frontend_body(env, env_backend_of(env), f"ProxyPass /h2/ h2://localhost:{p['b_ssl']}/")
        env.serve(body, modules=PROXY_MODULES, http2=True)
        resp = get(env, "/h2/cgi-bin/env.py")
        assert resp.status == 200, resp.text
        e = resp.env()
        assert e.get("SERVER_PROTOCOL") == "HTTP/2.0", e
        assert e.get("SSL_PROTOCOL") == "TLSv1.3"


class TestProxySettings:
    """Protocol and cipher settings, each on its own, as the backend sees them; resumption;
    mod_ssl proxying next to mod_tls proxying in one server."""

    @pytest.fixture(scope="class", autouse=True)
    def frontend(self, env, backend):
        p = ports(env)
        extra = [
            # a section without TLSProxy* lines matches every backend: the sections below merge
            # with it and still find the setups made for them at startup
            "<Proxy *>", "    Require all granted", "</Proxy>",
            f"ProxyPass /chacha12/ https://localhost:{p['b_tls12']}/",
            f'<Proxy "https://localhost:{p["b_tls12"]}/">',
            "    TLSProxyCiphersPrefer TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "</Proxy>",
            f"ProxyPass /only13/ https://127.0.0.1:{p['b_tls12']}/",
            f'<Proxy "https://127.0.0.1:{p["b_tls12"]}/">',
            "    TLSProxyProtocol TLSv1.3+",
            "</Proxy>",
            f"ProxyPass /suppress/ https://127.0.0.1:{p['b_ssl']}/",
            f'<Proxy "https://127.0.0.1:{p["b_ssl"]}/">',
            "    TLSProxyCiphersSuppress TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256",
            "</Proxy>",
            # a new backend connection for every request (here and for /viassl/, /clear/)
            f"ProxyPass /resume-tls/ https://localhost:{p['b_tls']}/cgi-bin/",
            f"ProxyPass /resume-ssl/ https://localhost:{p['b_ssl']}/cgi-bin/",
            '<LocationMatch "^/(resume-|viassl/|clear/)">', "    SetEnv proxy-nokeepalive 1", "</LocationMatch>",
            # mod_ssl takes this backend: TLSProxyEngine off in its section
            f"ProxyPass /viassl/ https://localhost:{p['b_self']}/",
            f'<Proxy "https://localhost:{p["b_self"]}/">',
            "    TLSProxyEngine off",
            "    SSLProxyEngine on",
            f"    SSLProxyCACertificateFile {backend.self_cred.cert_file}",
            "</Proxy>",
            # a preferred suite rustls lacks: one warning at startup, none per connection
            "TLSProxyCiphersPrefer TLS_RSA_WITH_AES_128_GCM_SHA256",
            f"ProxyPass /clear/ http://127.0.0.1:{backend.http_port}/",
            # logs what ap_ssl_conn_is_ssl/ap_ssl_var_lookup say of each backend connection
            f"LoadModule backend_probe_module {c_module(env, 'mod_backend_probe')}",
        ]
        env.serve(frontend_body(env, backend, *extra), modules=PROXY_MODULES, mod_ssl=True,
                  log_level="info tls:debug")
        yield
        env.stop()

    def test_17_prefer_alone_tls12_backend(self, env):
        e = get(env, "/chacha12/cgi-bin/env.py").env()
        assert e.get("SSL_PROTOCOL") == "TLSv1.2", e
        assert e.get("SSL_CIPHER") == "ECDHE-ECDSA-CHACHA20-POLY1305"

    def test_17_protocol_alone_no_common_version(self, env):
        mark = env.log_mark()
        assert get(env, "/only13/").status == 502
        lines = fail_lines(env, mark, "127.0.0.1")
        assert len(lines) == 1 and "TLSProxyProtocol" in lines[0], env.log_since(mark)

    def test_17_suppress_alone(self, env):
        e = get(env, "/suppress/cgi-bin/env.py").env()
        assert e.get("SSL_PROTOCOL") == "TLSv1.3", e
        assert e.get("SSL_CIPHER") == "TLS_CHACHA20_POLY1305_SHA256"

    @pytest.mark.parametrize("route", ["resume-tls", "resume-ssl"])
    def test_17_backend_sessions_resume(self, env, route):
        # each request a new backend connection (disablereuse); the frontend has two children,
        # each with its own client session cache: among six, the later ones resume
        seen = [get(env, f"/{route}/env.py").env().get("SSL_SESSION_RESUMED") for _ in range(6)]
        assert seen[0] == "Initial", seen
        assert "Resumed" in seen, seen

    def test_17_warned_once(self, env):
        for _ in range(3):
            assert get(env, "/ssl/").status == 200
        lines = env.log_lines(env.last_start_mark, r"MTLS1201:")
        assert len(lines) == 1, lines
        assert "TLS_RSA_WITH_AES_128_GCM_SHA256" in lines[0]

    def test_17_mixed_mod_ssl_and_mod_tls(self, env):
        mark = env.log_mark()
        resp = get(env, "/viassl/cgi-bin/env.py")
        assert resp.status == 200, resp.text
        assert resp.env().get("HTTPS") == "on"
        assert env.log_lines(mark, r"MTLS1211:") == []
        # a new backend connection (no keep-alive on this route), mod_tls' own
        resp = get(env, "/resume-ssl/env.py")
        assert resp.status == 200
        assert len(env.log_lines(mark, r"MTLS1211: TLS to backend localhost")) == 1


    def probe(self, env, path):
        """What the probe module logged for the backend connection of one request to `path`."""
        mark = env.log_mark()
        resp = get(env, path)
        assert resp.status == 200, resp.text
        lines = env.log_lines(mark, r"backend-probe: ")
        assert len(lines) == 1, env.log_since(mark)
        fields = lines[0].split("backend-probe: ", 1)[1].split()
        return dict(f.split("=", 1) for f in fields)

    def test_17_ap_ssl_api_on_backend_connections(self, env, backend):
        """httpd's ap_ssl_conn_is_ssl and ap_ssl_var_lookup answer for a backend connection of
        mod_tls as they do for one of mod_ssl; a plain backend connection is not TLS."""
        # new backend connections (no keep-alive on these routes): mod_tls' and mod_ssl's
        via_tls = self.probe(env, "/resume-ssl/env.py")
        via_ssl = self.probe(env, "/viassl/cgi-bin/env.py")
        for seen in (via_tls, via_ssl):
            assert seen["is_ssl"] == "1", seen
            assert seen["HTTPS"] == "on", seen
            assert seen["SSL_PROTOCOL"] == "TLSv1.3", seen
            assert seen["SSL_CIPHER"].startswith("TLS_"), seen
        assert via_tls["SSL_TLS_SNI"] == via_ssl["SSL_TLS_SNI"] == "localhost", (via_tls, via_ssl)
        # a backend spoken to in clear text
        clear = self.probe(env, "/clear/")
        assert clear["is_ssl"] == "0" and clear["HTTPS"] == "off" and clear["SSL_PROTOCOL"] == "-", clear


class TestProxyGraceful:
    """Graceful restarts while requests are proxied over mod_tls' backend connections."""

    @pytest.fixture(scope="class", autouse=True)
    def frontend(self, env, backend):
        env.serve(frontend_body(env, backend), modules=PROXY_MODULES)
        yield
        env.stop()

    def test_17_graceful_under_proxied_load_loses_nothing(self, env):
        stop = threading.Event()
        results, errors = [], []

        def worker(route):
            while not stop.is_set():
                try:
                    resp = get(env, f"/{route}/cgi-bin/env.py")
                    results.append(resp.status)
                except Exception as e:  # noqa: BLE001 - every failure counts as a lost request
                    errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(r,)) for r in ("ssl", "tls", "ssl", "tls")]
        for t in threads:
            t.start()
        try:
            time.sleep(1)
            for _ in range(2):
                env.graceful()
                time.sleep(1)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
        assert errors == [], errors[:5]
        assert len(results) > 20
        assert set(results) == {200}, [r for r in results if r != 200][:5]


class TestProxyHealthCheck:
    """mod_proxy_hcheck's checks of a TLS backend: connections made without a request (the
    server's scope applies)."""

    def test_17_health_checks_over_mod_tls(self, env, backend):
        p = ports(env)
        env.serve("\n".join([
            "TLSProxyEngine on", f"TLSProxyCA {backend.ca_file}",
            # mod_proxy_hcheck checks balancer members only
            '<Proxy "balancer://hc">',
            f"    BalancerMember https://localhost:{p['b_tls']} hcmethod=GET hcuri=/hc-probe.html hcinterval=1",
            "</Proxy>",
            "ProxyPass /hc/ balancer://hc/",
        ]), modules=("proxy", "proxy_http", "proxy_hcheck", "proxy_balancer", "lbmethod_byrequests", "slotmem_shm"))
        backend.write_doc("hc-probe.html", b"ok\n", docroot=backend.vhost_docroot("localhost"))
        try:
            deadline = time.monotonic() + 10
            probes = []
            while time.monotonic() < deadline and len(probes) < 2:
                time.sleep(0.5)
                with open(backend.access_log) as f:
                    probes = [ln for ln in f if "GET /hc-probe.html" in ln and '" 200 ' in ln]
            assert len(probes) >= 2, probes
            assert env.log_lines(env.last_start_mark, r"MTLS1208") == []
        finally:
            env.stop()


class TestProxyConfig:
    """Directive errors, startup errors, the system trust store, TLSProxyEngine off."""

    @pytest.mark.parametrize("lines,msg", [
        (["TLSProxyEngine maybe"], "TLSProxyEngine: value must be 'on' or 'off'"),
        (["TLSProxyCA /nonexistent/ca.pem"], "is neither a file nor a directory"),
        (["TLSProxyProtocol TLSv1.4+"], "TLSProxyProtocol"),
        (["TLSProxyCiphersPrefer NO_SUCH_SUITE"], "TLSProxyCiphersPrefer"),
        (["TLSProxyCiphersSuppress none TLS_AES_128_GCM_SHA256"], "must be the only argument"),
        (["TLSProxyMachineCertificate /nonexistent/cert.pem"], "TLSProxyMachineCertificate"),
        (['<Location "/x">', "TLSProxyEngine on", "</Location>"], "not in <Location"),
        (['<Directory "/tmp">', "TLSProxyCA /tmp", "</Directory>"], "not in <Directory"),
    ])
    def test_17_directive_errors(self, env, backend, lines, msg):
        env.stop()
        env.write_config("\n".join(lines), modules=PROXY_MODULES)
        r = env.configtest()
        assert r.rc != 0
        assert msg in r.output, r.output

    def test_17_in_proxy_and_vhost_accepted(self, env, backend):
        env.stop()
        env.write_config("\n".join([
            env.vhost("v.example.org", env.plain_port, "TLSProxyEngine on", f"TLSProxyCA {backend.ca_file}"),
            '<Proxy "https://localhost:1/">', "TLSProxyEngine on", "TLSProxyProtocol TLSv1.3+",
            "TLSProxyCiphersPrefer TLS_AES_256_GCM_SHA384", "TLSProxyCiphersSuppress none", "</Proxy>",
        ]), modules=PROXY_MODULES, listen=[env.plain_port])
        r = env.configtest()
        assert r.rc == 0, r.output

    @pytest.mark.parametrize("lines,msg", [
        (["TLSProxyEngine on", "TLSProxyCA {junk}"], "gives no trust anchor"),
        (["TLSProxyEngine on", "TLSProxyCA {ca}",
          "TLSProxyCiphersSuppress TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"
          ":ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305"
          ":ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305"],
         "suppresses every cipher suite"),
        (["TLSProxyEngine on", "TLSProxyCA {ca}", "TLSProxyProtocol TLSv1.3+",
          "TLSProxyCiphersSuppress TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"],
         "no cipher suite is left"),
        (['<Proxy "https://localhost:1/">', "TLSProxyEngine on", "TLSProxyCA {junk}", "</Proxy>"],
         "a <Proxy> section of"),
    ])
    def test_17_startup_errors(self, env, backend, lines, msg):
        junk = env.certs.write_file("proxy-junk.pem", b"no certificate here\n")
        body = "\n".join(lines).format(junk=junk, ca=backend.ca_file)
        env.write_config(body, modules=PROXY_MODULES)
        out = env.start_expect_failure()
        assert msg in out, out

    def test_17_system_store_by_default(self, env, backend):
        p = ports(env)
        env.serve("\n".join(["TLSProxyEngine on", f"ProxyPass /ssl/ https://localhost:{p['b_ssl']}/"]),
                  modules=PROXY_MODULES, log_level="info tls:debug")
        mark = env.log_mark()
        assert get(env, "/ssl/").status == 502
        assert env.log_lines(mark, r"MTLS1211: .*trusting the system's trust store")
        lines = fail_lines(env, mark)
        assert len(lines) == 1 and "not issued by a trusted CA" in lines[0], lines

    def test_17_no_common_cipher(self, env, backend):
        # the TLS 1.2-only backend has an ECDSA certificate: without the ECDSA suites nothing fits
        p = ports(env)
        env.serve("\n".join([
            "TLSProxyEngine on", f"TLSProxyCA {backend.ca_file}",
            "TLSProxyCiphersSuppress ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256"
            ":ECDHE-ECDSA-CHACHA20-POLY1305",
            f"ProxyPass /tls12/ https://localhost:{p['b_tls12']}/",
            f"ProxyPass /ssl/ https://localhost:{p['b_ssl']}/",
        ]), modules=PROXY_MODULES)
        mark = env.log_mark()
        assert get(env, "/tls12/").status == 502
        lines = fail_lines(env, mark)
        assert len(lines) == 1 and "no protocol version or cipher suite in common" in lines[0], lines
        # TLS 1.3 backends are not affected
        assert get(env, "/ssl/").status == 200

    def test_17_engine_off_declines(self, env, backend):
        p = ports(env)
        env.serve("\n".join([f"TLSProxyCA {backend.ca_file}", f"ProxyPass /ssl/ https://localhost:{p['b_ssl']}/"]),
                  modules=PROXY_MODULES, log_level="info tls:debug")
        mark = env.log_mark()
        # nobody does TLS for mod_proxy then: it refuses (500), mod_tls stays out of it
        assert get(env, "/ssl/").status == 500
        assert env.log_lines(mark, r"MTLS12") == []
        env.stop()


_BACKEND = {}


def env_backend_of(env):
    return _BACKEND["b"]


@pytest.fixture(scope="module", autouse=True)
def _remember_backend(backend):
    _BACKEND["b"] = backend
    yield
    _BACKEND.clear()
