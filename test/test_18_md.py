"""Certificates from mod_md through mod_tls: fallback certificate and 503, ACME orders against
pebble (tls-alpn-01, http-01), renewal on a graceful restart, md-status, a mixed server
(TLSCertificate, mod_md and mod_ssl hosts), and OCSP stapling from mod_md (MDStapling,
MDStapleOthers) with an OCSP responder on loopback.

pebble, pebble-challtestsrv and the responder run on loopback, on ports env.port_base+300..319
(modtls/acme.py); waits are bounded polls of mod_md's store, never sleeps."""

import os
import re
import time

import pytest
from cryptography import x509

from modtls.acme import OcspResponder, Pebble
from modtls.certs import CertOptions

MD_TIMEOUT = 60  # seconds a whole ACME order may take (they take one to three)
FALLBACK_BODY = "being obtained"


def md_config(env, pebble, challenges: str, domains, *extra: str) -> str:
    """mod_md's server-wide lines: pebble as CA, the store in the server root, the test ports as
    80/443, and one MDomain per name in `domains`."""
    lines = [
        f'MDStoreDir "{md_store(env)}"',
        f"MDCertificateAuthority {pebble.url}",
        f'MDCACertificateFile "{pebble.ca_file}"',
        "MDCertificateAgreement accepted",
        "MDContactEmail admin@example.org",
        f"MDPortMap http:{env.http_port} https:{env.tls_port}",
        f"MDCAChallenges {challenges}",
        "MDRetryDelay 1s",
        *extra,
    ]
    lines += [f"MDomain {d}" for d in domains]
    return "\n".join(lines) + "\n"


def md_store(env) -> str:
    return os.path.join(env.server_root, "md")


def staged(env, domain: str) -> str:
    return os.path.join(md_store(env), "staging", domain, "pubcert.pem")


def wait_staged(env, pebble, domain: str, timeout: float = MD_TIMEOUT) -> None:
    """Poll (bounded) until mod_md has staged a certificate for `domain`, as it does before it
    asks for a graceful restart."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(staged(env, domain)):
        if time.monotonic() > deadline:
            md_lines = "\n".join(env.log_lines(env.last_start_mark, r"\[md:")[-30:])
            pytest.fail(f"mod_md staged no certificate for {domain} within {timeout}s\n{md_lines}\n"
                        f"--- pebble\n{pebble.log()[-3000:]}")
        time.sleep(0.1)


def tls_vhost(env, name: str, *lines: str, certs=()) -> str:
    return env.vhost(name, env.tls_port, *lines, certs=certs)


def served_cert(env, name: str) -> x509.Certificate:
    info = env.tls_handshake(env.tls_port, sni=name, verify=False)
    return info.cert


@pytest.fixture(scope="module")
def pebble(env):
    p = Pebble(env, env.http_port, env.tls_port)
    p.start()
    yield p
    env.stop()
    p.stop()


class TestMdTlsAlpn01:
    """tls-alpn-01 only: fallback and 503 first, then pebble's certificate after the restart."""

    DOMAIN = "alpn.mdtest.org"

    def test_18_fallback_then_tls_alpn_01(self, env, pebble):
        conf = md_config(env, pebble, "tls-alpn-01", [self.DOMAIN])
        conf += f"TLSEngine {env.tls_port}\nLogLevel tls:debug md:debug\n"
        conf += tls_vhost(env, self.DOMAIN)
        env.serve(conf, listen=[env.tls_port], modules=["md"], protocols="h2 http/1.1 acme-tls/1")
        # no certificate yet: mod_md's fallback, and 503 saying why
        fallback = served_cert(env, self.DOMAIN)
        assert self.DOMAIN in [d for d in fallback.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)]
        resp, _ = env.http_request(env.tls_port, "/", sni=self.DOMAIN, verify=False)
        assert resp.status == 503
        assert FALLBACK_BODY in resp.body.decode()
        assert env.log_lines(env.last_start_mark, r"MTLS1402: .*alpn\.mdtest\.org")
        # mod_md orders; pebble validates through our acme-tls/1 answer
        wait_staged(env, pebble, self.DOMAIN)
        assert env.log_lines(env.last_start_mark, r"MTLS1423: answering the acme-tls/1 challenge for "
                                                  r"'alpn\.mdtest\.org'")
        env.graceful()
        cert = served_cert(env, self.DOMAIN)
        assert cert.issuer == pebble.intermediate().subject
        resp, _ = env.http_request(env.tls_port, "/", sni=self.DOMAIN, verify=False)
        assert resp.status == 200
        assert resp.body.decode().strip() == self.DOMAIN

    def test_18_acme_tls_1_without_challenge_gets_no_challenge_cert(self, env, pebble):
        """With the order done, a client offering only acme-tls/1 is no ACME server: it never gets
        a challenge certificate (mod_md has none to give), and normal clients are served."""
        err = None
        try:
            info = env.tls_handshake(env.tls_port, sni=self.DOMAIN, verify=False, alpn=["acme-tls/1"])
            assert info.cert.issuer == pebble.intermediate().subject
        except (OSError, ValueError) as e:  # refusing the protocol is fine too
            err = e
        assert not env.log_lines(env.last_start_mark, r"MTLS1423"), err
        resp, _ = env.http_request(env.tls_port, "/", sni=self.DOMAIN, verify=False)
        assert resp.status == 200

    def test_18_challenge_connection_serves_nothing_else(self, env, pebble):
        """A challenge mod_md has in its store (made here, as mod_md makes them during an order) is
        answered on acme-tls/1 connections only, with that certificate alone, and such a
        connection gets 503 for any request; other clients of the host go on as before."""
        cred = env.certs.get("challenge." + self.DOMAIN, "rsa2048", domains=[self.DOMAIN],
                             options=CertOptions(self_signed=True, acme_identifier=b"\x00" * 32))
        chdir = os.path.join(md_store(env), "challenges", self.DOMAIN)
        os.makedirs(chdir, exist_ok=True)
        files = [os.path.join(chdir, f"acme-tls-alpn-01-{n}.pem") for n in ("pubcert", "privkey")]
        for src, dst in zip((cred.cert_file, cred.key_file), files):
            with open(src, "rb") as f, open(dst, "wb") as g:
                g.write(f.read())
            os.chmod(dst, 0o644)
        try:
            mark = env.log_mark()
            with env.tls_connect(env.tls_port, sni=self.DOMAIN, verify=False, alpn=["acme-tls/1"]) as sock:
                assert sock.selected_alpn_protocol() == "acme-tls/1"
                assert sock.getpeercert(binary_form=True) == cred.cert_der
                sock.sendall(f"GET / HTTP/1.1\r\nHost: {self.DOMAIN}\r\nConnection: close\r\n\r\n".encode())
                answer = b""
                while len(answer) < 100000:
                    data = sock.recv(4096)
                    if not data:
                        break
                    answer += data
            assert answer.startswith(b"HTTP/1.1 503 "), answer[:200]
            assert env.log_lines(mark, r"MTLS1423: answering the acme-tls/1 challenge for 'alpn\.mdtest\.org'")
            # everybody else: the real certificate, and content
            resp, info = env.http_request(env.tls_port, "/", sni=self.DOMAIN, verify=False)
            assert resp.status == 200 and info.cert.issuer == pebble.intermediate().subject
            resp, info = env.http_request(env.tls_port, "/", sni=self.DOMAIN, verify=False,
                                          alpn=["acme-tls/2", "http/1.1"])
            assert resp.status == 200 and info.cert.issuer == pebble.intermediate().subject
            r = env.curl(env.url(self.DOMAIN, env.tls_port), "--http2", "-k")
            assert r.rc == 0 and r.response.status == 200 and r.response.http_version == "2", r
        finally:
            for f in files:
                os.unlink(f)


SSL_NAME = "ssl.mdtest.org"
TLS_NAME = "tls.mdtest.org"


class TestMdMixedHttp01:
    """One server, three hosts: one with TLSCertificate, one from mod_md (http-01 only) on
    mod_tls, one on mod_ssl. Then a renewal forced by MDRenewWindow."""

    DOMAIN = "http.mdtest.org"

    @pytest.fixture(scope="class", autouse=True)
    def without_leak_checks(self, env):
        """Against the sanitizer build, LeakSanitizer's own tracer now and then crashes (signal 11
        in its stop-the-world at process exit: "LeakSanitizer has encountered a fatal error") in
        httpd processes that load mod_ssl and mod_md together, failing `apache2 -k start`. This
        class's servers run without leak checks (ASan and UBSan stay on); mod_tls' code paths of
        mod_md are leak-checked by the other classes here, which load no mod_ssl."""
        env.leak_checks = False
        try:
            yield
            env.stop()
        finally:
            env.leak_checks = True

    def config(self, env, pebble, *md_extra: str) -> str:
        tls_cred = env.certs.get(TLS_NAME)
        ssl_cred = env.certs.get(SSL_NAME, "rsa2048")
        conf = md_config(env, pebble, "http-01", [self.DOMAIN], *md_extra)
        conf += f"TLSEngine {env.tls_port}\nLogLevel md:debug\n"
        conf += "<Location /md-status>\n    SetHandler md-status\n</Location>\n"
        conf += "<Location /server-status>\n    SetHandler server-status\n</Location>\n"
        conf += tls_vhost(env, self.DOMAIN)
        conf += tls_vhost(env, TLS_NAME, certs=[tls_cred])
        conf += env.vhost(SSL_NAME, env.ssl_port, "SSLEngine on", ssl_cred.ssl_lines())
        return conf

    def check_fixed_hosts(self, env):
        for name, port, cred in ((TLS_NAME, env.tls_port, env.certs.get(TLS_NAME)),
                                 (SSL_NAME, env.ssl_port, env.certs.get(SSL_NAME, "rsa2048"))):
            resp, info = env.http_request(port, "/", sni=name)
            assert resp.status == 200 and resp.body.decode().strip() == name
            assert info.cert_der == cred.cert_der

    def test_18_mixed_http_01(self, env, pebble):
        env.stop()
        env.write_config(self.config(env, pebble), listen=[env.tls_port, env.ssl_port], modules=["md", "status"],
                         mod_ssl=True)
        access_mark = env.log_mark(env.access_log)
        env.start()
        resp, _ = env.http_request(env.tls_port, "/", sni=self.DOMAIN, verify=False)
        assert resp.status == 503 and FALLBACK_BODY in resp.body.decode()
        self.check_fixed_hosts(env)
        wait_staged(env, pebble, self.DOMAIN)
        # pebble fetched the token from mod_md's handler on the plain port
        assert env.log_lines(access_mark, r'"GET /\.well-known/acme-challenge/\S+ HTTP/1\.1" 200',
                             path=env.access_log)
        env.graceful()
        cert = served_cert(env, self.DOMAIN)
        assert cert.issuer == pebble.intermediate().subject
        resp, _ = env.http_request(env.tls_port, "/", sni=self.DOMAIN, verify=False)
        assert resp.status == 200 and resp.body.decode().strip() == self.DOMAIN
        self.check_fixed_hosts(env)
        # mod_md's status knows the domain mod_tls serves, with the certificate it serves
        r = env.curl(env.url("127.0.0.1", env.http_port, "/md-status", scheme="http"))
        assert r.rc == 0 and r.response.status == 200, r
        status = r.response.body.decode()
        assert self.DOMAIN in status
        assert format(cert.serial_number, "x") in status.lower()
        # and its section of mod_status' page
        r = env.curl(env.url("127.0.0.1", env.http_port, "/server-status", scheme="http"))
        assert r.rc == 0 and r.response.status == 200, r
        assert self.DOMAIN in r.response.body.decode()

    def test_18_renewal_swaps_on_graceful(self, env, pebble):
        before = served_cert(env, self.DOMAIN)
        # a window longer than any certificate's life: renew now
        env.write_config(self.config(env, pebble, "MDRenewWindow 3650d"), listen=[env.tls_port, env.ssl_port],
                         modules=["md", "status"], mod_ssl=True)
        env.graceful()
        assert served_cert(env, self.DOMAIN).serial_number == before.serial_number
        wait_staged(env, pebble, self.DOMAIN)
        # staged, not served: the swap waits for the restart
        assert served_cert(env, self.DOMAIN).serial_number == before.serial_number
        env.graceful()
        after = served_cert(env, self.DOMAIN)
        assert after.serial_number != before.serial_number
        assert after.issuer == pebble.intermediate().subject
        self.check_fixed_hosts(env)


class TestMdNoCertificate:
    """With mod_md loaded, a host that neither has a TLSCertificate nor belongs to an MDomain
    stops the start, and the message names it."""

    def test_18_host_without_any_certificate_refused(self, env, pebble):
        conf = md_config(env, pebble, "http-01", ["other.mdtest.org"])
        conf += f"TLSEngine {env.tls_port}\n"
        conf += tls_vhost(env, "other.mdtest.org")
        conf += tls_vhost(env, "nocert.mdtest.org")
        env.write_config(conf, listen=[env.tls_port], modules=["md"])
        out = env.start_expect_failure()
        assert re.search(r"MTLS0101: nocert\.mdtest\.org.* has no certificate", out), out
        assert not re.search(r"MTLS0101: other\.mdtest\.org", out), out


def s_client_status(env, name: str, *args: str) -> str:
    """`openssl s_client -status` against the TLS port: what it says about the staple."""
    r = env.s_client(env.tls_port, "-status", *args, sni=name, input=b"", timeout=10)
    assert r.handshake_ok, r
    return r.exec.stdout


def staple_of(env, name: str, *args: str) -> str:
    """"none", or the certificate status of the stapled response ("good", "revoked")."""
    out = s_client_status(env, name, *args)
    if "OCSP response: no response sent" in out:
        return "none"
    assert "OCSP Response Status: successful" in out, out
    m = re.search(r"Cert Status: (\w+)", out)
    assert m, out
    return m.group(1)


def wait_staple(env, name: str, want: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        got = staple_of(env, name)
        if got == want:
            return
        if time.monotonic() > deadline:
            md_lines = "\n".join(env.log_lines(env.last_start_mark, r"\[md:")[-30:])
            pytest.fail(f"{name}: staple is {got!r}, not {want!r} after {timeout}s\n{md_lines}")
        time.sleep(0.2)


class TestOcspStapling:
    """MDStapling on, MDStapleOthers on: mod_md fetches OCSP responses for TLSCertificate files
    whose certificates name a responder, and mod_tls staples them per handshake."""

    @pytest.fixture(scope="class")
    def responder(self, env):
        r = OcspResponder(env)
        yield r
        env.stop()
        r.stop()

    def chain_cred(self, env, name: str, ocsp_url: str):
        """A leaf naming `ocsp_url`, in a file followed by its issuer (mod_md needs both)."""
        cred = env.certs.get(name, options=CertOptions(ocsp_url=ocsp_url))
        with open(cred.cert_file, "rb") as f, open(env.ca_file, "rb") as ca:
            chain = env.certs.write_file(f"{name}.chain.pem", f.read() + ca.read())
        return cred, f"TLSCertificate {chain} {cred.rel_key}"

    def test_18_ocsp_good_revoked_down(self, env, responder):
        dead_url = f"http://127.0.0.1:{env.port_base + 311}/"  # nothing listens there
        good, good_line = self.chain_cred(env, "good.mdtest.org", responder.url)
        revoked, revoked_line = self.chain_cred(env, "revoked.mdtest.org", responder.url)
        down, down_line = self.chain_cred(env, "down.mdtest.org", dead_url)
        responder.set_status([(good, False), (revoked, True)])
        responder.start()
        conf = (f'MDStoreDir "{md_store(env)}"\nMDStapling on\nMDStapleOthers on\n'
                f"MDStaplingRenewWindow 1d\nMDRetryDelay 1s\n"
                f"TLSEngine {env.tls_port}\nLogLevel md:debug tls:debug\n")
        conf += tls_vhost(env, "good.mdtest.org", good_line)
        conf += tls_vhost(env, "revoked.mdtest.org", revoked_line)
        conf += tls_vhost(env, "down.mdtest.org", down_line)
        env.serve(conf, listen=[env.tls_port], modules=["md"])
        wait_staple(env, "good.mdtest.org", "good")
        wait_staple(env, "revoked.mdtest.org", "revoked")
        # TLS 1.2 carries it in its own message (CertificateStatus), TLS 1.3 in the Certificate
        assert staple_of(env, "good.mdtest.org", "-tls1_2") == "good"
        # a responder nobody answers at: no staple, and the handshake does not wait for one
        t0 = time.monotonic()
        assert staple_of(env, "down.mdtest.org") == "none"
        assert time.monotonic() - t0 < 3
        resp, _ = env.http_request(env.tls_port, "/", sni="down.mdtest.org")
        assert resp.status == 200
        # clients that do not ask get no staple, and are served as always
        resp, _ = env.http_request(env.tls_port, "/", sni="good.mdtest.org")
        assert resp.status == 200

        # the CA revokes the good one: the staple follows once mod_md refreshes it
        responder.stop()
        responder.set_status([(good, True), (revoked, True)])
        responder.start()
        wait_staple(env, "good.mdtest.org", "revoked", timeout=90)

        # the responder goes away: handshakes go on without waiting
        responder.stop()
        t0 = time.monotonic()
        for name in ("good.mdtest.org", "revoked.mdtest.org", "down.mdtest.org"):
            resp, _ = env.http_request(env.tls_port, "/", sni=name)
            assert resp.status == 200
        assert time.monotonic() - t0 < 5
        # a response is attached per handshake: the setups were never rebuilt
        assert not env.log_lines(env.last_start_mark, r"\[tls:(error|crit|alert|emerg)\]")
