"""Certificates from mod_md through mod_tls: fallback certificate and 503, ACME orders against
pebble (tls-alpn-01, http-01), renewal on a graceful restart, md-status, a mixed server
(TLSCertificate, mod_md and mod_ssl hosts), and OCSP stapling from mod_md (MDStapling,
MDStapleOthers) with an `openssl ocsp` responder.

pebble, pebble-challtestsrv and the responder run on loopback, on ports env.port_base+300..319
(modtls/acme.py); waits are bounded polls of mod_md's store, never sleeps."""

import os
import re
import time

import pytest
from cryptography import x509

from modtls.acme import OcspResponder, Pebble
from modtls.certs import CertOptions
from modtls.env import run

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

    def test_17_fallback_then_tls_alpn_01(self, env, pebble):
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
