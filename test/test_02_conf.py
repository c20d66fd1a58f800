"""Configuration errors: every one stops the server from starting, with a message that names the
directive, the offending file or argument, and the cause.

The wording is tentative: all expected message fragments (regular expressions) are in EXPECT."""

import os
import re

import pytest

from modtls.certs import cert_pem, key_pem

EXPECT = {
    # TLSCertificate problems
    "cannot_read": r"cannot read",  # missing file, directory, ...
    "no_match": r"does not match",  # key is not the certificate's
    "encrypted": [r"encrypted", r"not supported"],  # PKCS#8 encrypted / Proc-Type: 4,ENCRYPTED
    "no_certificate": r"no certificate",  # file without any CERTIFICATE block
    "no_key": r"no private key",  # single-file form without a key in it
    "unsupported_key": r"not supported",  # e.g. ECDSA P-521, which rustls 0.23 lacks
    # a TLS vhost without certificate (and none to inherit), logged at startup
    "vhost_no_cert": r"has no certificate",
    # added by httpd to errors returned from directive handlers
    "syntax": r"Syntax error on line \d+ of {conf}",
}


def patterns(*keys):
    out = []
    for k in keys:
        v = EXPECT[k]
        out += v if isinstance(v, list) else [v]
    return out


def assert_mentions(text, regexes):
    missing = [rx for rx in regexes if not re.search(rx, text)]
    assert not missing, f"message lacks {missing}:\n{text[-3000:]}"


def refused(env, body, *, configtest_fails=False, **config):
    """Write the config, check that httpd refuses to start (and, for errors found while parsing
    the config, that `apache2 -t` fails too); returns everything httpd said."""
    env.stop()
    env.write_config(body, **config)
    if configtest_fails:
        r = env.configtest()
        assert r.rc != 0, f"apache2 -t accepted the config\n{r}"
    return env.start_expect_failure()


def tls_vhost(env, cert_args, name="bad.example.org"):
    """A TLS port with one vhost whose TLSCertificate has the given arguments."""
    return f"TLSEngine {env.tls_port}\n" + env.vhost(
        name, env.tls_port, f"TLSCertificate {cert_args}")


@pytest.fixture(scope="module")
def good(env):
    return env.certs.get("good.example.org", "ec256")


class TestBaseline:
    """The config the negative tests break, unbroken: it must start and serve."""

    def test_02_valid_config_starts(self, env, good):
        env.serve(tls_vhost(env, f"{good.rel_cert} {good.rel_key}", "good.example.org"),
                  listen=[env.tls_port])
        assert env.configtest().rc == 0
        resp, info = env.http_request(env.tls_port, sni="good.example.org")
        assert resp.status == 200
        assert info.cert_der == good.cert_der
        env.stop()

    def test_02_absolute_paths_accepted(self, env, good):
        env.serve(tls_vhost(env, f"{good.cert_file} {good.key_file}", "good.example.org"),
                  listen=[env.tls_port])
        resp, info = env.http_request(env.tls_port, sni="good.example.org")
        assert resp.status == 200 and info.cert_der == good.cert_der
        env.stop()

    def test_02_key_in_cert_file(self, env, good):
        rel = env.certs.write_file("good-combined.pem", cert_pem(good.cert) + key_pem(good.key))
        env.serve(tls_vhost(env, rel, "good.example.org"), listen=[env.tls_port])
        resp, info = env.http_request(env.tls_port, sni="good.example.org")
        assert resp.status == 200 and info.cert_der == good.cert_der
        env.stop()

    @pytest.mark.parametrize("key_type,encoding", [
        ("ec256", "pkcs8"), ("ec256", "traditional"),  # PKCS#8, SEC1
        ("ec384", "pkcs8"), ("ec384", "traditional"),
        ("rsa2048", "pkcs8"), ("rsa2048", "traditional"),  # PKCS#8, PKCS#1
        ("ed25519", "pkcs8"),  # Ed25519 keys exist only as PKCS#8
    ])
    def test_02_key_types_and_encodings(self, env, key_type, encoding):
        cred = env.certs.get(f"kt-{key_type}.example.org", key_type)
        rel_key = env.certs.write_file(f"kt-{key_type}-{encoding}.key", key_pem(cred.key, encoding))
        env.serve(tls_vhost(env, f"{cred.rel_cert} {rel_key}", cred.name), listen=[env.tls_port])
        info = env.tls_handshake(env.tls_port, sni=cred.name)
        assert info.cert_der == cred.cert_der
        env.stop()

    def test_02_vhost_without_cert_on_plain_port_is_fine(self, env, good):
        # only vhosts reachable over TLS need a certificate
        body = (f"TLSEngine {env.tls_port}\n"
                + env.vhost("good.example.org", env.tls_port, certs=[good])
                + env.vhost("plain.example.org", env.plain_port))
        env.serve(body, listen=[env.tls_port, env.plain_port])
        resp, _ = env.http_request(env.plain_port, tls=False, host="plain.example.org")
        assert resp.status == 200 and resp.text == "plain.example.org\n"
        env.stop()

    def test_02_vhost_inherits_main_server_cert(self, env, good):
        main = env.certs.get("main.example.org", "ec256")
        body = (f"TLSEngine {env.tls_port}\n{main.tls_line()}\n"
                + env.vhost("nocert.example.org", env.tls_port))
        env.serve(body, listen=[env.tls_port])
        resp, info = env.http_request(env.tls_port, sni="nocert.example.org")
        assert resp.status == 200 and resp.text == "nocert.example.org\n"
        assert info.cert_der == main.cert_der
        env.stop()


class TestCertificateErrors:

    def test_02_cert_file_missing(self, env, good):
        text = refused(env, tls_vhost(env, f"certs/missing.pem {good.rel_key}"), configtest_fails=True,
                       listen=[env.tls_port])
        assert_mentions(text, ["TLSCertificate", re.escape("certs/missing.pem")] + patterns("cannot_read"))

    def test_02_cert_file_missing_in_main_server(self, env):
        text = refused(env, f"TLSEngine {env.tls_port}\nTLSCertificate certs/missing-main.pem\n",
                       configtest_fails=True, listen=[env.tls_port])
        assert_mentions(text, ["TLSCertificate", re.escape("certs/missing-main.pem")] + patterns("cannot_read"))

    def test_02_cert_file_is_a_directory(self, env, good):
        os.makedirs(os.path.join(env.certs.dir, "a-directory.pem"), exist_ok=True)
        text = refused(env, tls_vhost(env, f"certs/a-directory.pem {good.rel_key}"), listen=[env.tls_port])
        assert_mentions(text, ["TLSCertificate", re.escape("certs/a-directory.pem")] + patterns("cannot_read"))

    def test_02_key_file_missing(self, env, good):
        text = refused(env, tls_vhost(env, f"{good.rel_cert} certs/missing.key"), configtest_fails=True,
                       listen=[env.tls_port])
        assert_mentions(text, ["TLSCertificate", re.escape("certs/missing.key")] + patterns("cannot_read"))

    def test_02_key_does_not_match(self, env, good):
        other = env.certs.get("other.example.org", "ec256")
        text = refused(env, tls_vhost(env, f"{good.rel_cert} {other.rel_key}"), listen=[env.tls_port])
        assert_mentions(text, ["TLSCertificate", re.escape(other.rel_key)] + patterns("no_match"))

    def test_02_key_of_other_type_does_not_match(self, env, good):
        other = env.certs.get("other.example.org", "rsa2048")
        text = refused(env, tls_vhost(env, f"{good.rel_cert} {other.rel_key}"), listen=[env.tls_port])
        assert_mentions(text, ["TLSCertificate", re.escape(other.rel_key)] + patterns("no_match"))

    @pytest.mark.parametrize("key_type,encoding", [
        ("ec256", "pkcs8-encrypted"),
        ("ec256", "traditional-encrypted"),
        ("rsa2048", "pkcs8-encrypted"),
        ("rsa2048", "traditional-encrypted"),
    ])
    def test_02_key_encrypted(self, env, key_type, encoding):
        cred = env.certs.get(f"enc-{key_type}.example.org", key_type)
        data = key_pem(cred.key, encoding)
        assert (b"ENCRYPTED PRIVATE KEY" if encoding.startswith("pkcs8") else b"Proc-Type: 4,ENCRYPTED") in data
        rel = env.certs.write_file(f"enc-{key_type}-{encoding}.key", data)
        text = refused(env, tls_vhost(env, f"{cred.rel_cert} {rel}"), listen=[env.tls_port])
        assert_mentions(text, ["TLSCertificate", re.escape(rel)] + patterns("encrypted"))

    def test_02_key_encrypted_in_cert_file(self, env, good):
        rel = env.certs.write_file("enc-combined.pem",
                                   cert_pem(good.cert) + key_pem(good.key, "traditional-encrypted"))
        text = refused(env, tls_vhost(env, rel), listen=[env.tls_port])
        assert_mentions(text, ["TLSCertificate", re.escape(rel)] + patterns("encrypted"))

    def test_02_cert_file_holds_only_a_key(self, env, good):
        text = refused(env, tls_vhost(env, f"{good.rel_key} {good.rel_key}"), listen=[env.tls_port])
        assert_mentions(text, ["TLSCertificate", re.escape(good.rel_key)] + patterns("no_certificate"))

    def test_02_cert_file_holds_no_pem(self, env, good):
        rel = env.certs.write_file("not-pem.pem", b"this is not a certificate\n" * 10)
        text = refused(env, tls_vhost(env, f"{rel} {good.rel_key}"), listen=[env.tls_port])
        assert_mentions(text, ["TLSCertificate", re.escape(rel)] + patterns("no_certificate"))

    def test_02_cert_file_empty(self, env, good):
        # the wording is open (empty file / no certificate); the file must be named
        rel = env.certs.write_file("empty.pem", b"")
        text = refused(env, tls_vhost(env, f"{rel} {good.rel_key}"), listen=[env.tls_port])
        assert_mentions(text, ["TLSCertificate", re.escape(rel)])

    def test_02_cert_pem_garbage(self, env, good):
        rel = env.certs.write_file("garbage.pem", b"-----BEGIN CERTIFICATE-----\nMIIBbroken!!\n"
                                                  b"-----END CERTIFICATE-----\n")
        text = refused(env, tls_vhost(env, f"{rel} {good.rel_key}"), listen=[env.tls_port])
        assert_mentions(text, ["TLSCertificate", re.escape(rel)])

    def test_02_cert_der_garbage(self, env, good):
        # valid base64, but not a certificate inside
        rel = env.certs.write_file("bad-der.pem", b"-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n"
                                                  b"-----END CERTIFICATE-----\n")
        text = refused(env, tls_vhost(env, f"{rel} {good.rel_key}"), listen=[env.tls_port])
        assert_mentions(text, ["TLSCertificate", re.escape(rel)])

    def test_02_single_file_without_key(self, env, good):
        text = refused(env, tls_vhost(env, good.rel_cert), listen=[env.tls_port])
        assert_mentions(text, ["TLSCertificate", re.escape(good.rel_cert)] + patterns("no_key"))

    def test_02_key_type_unsupported(self, env):
        cred = env.certs.get("p521.example.org", "ec521")
        text = refused(env, tls_vhost(env, f"{cred.rel_cert} {cred.rel_key}"), listen=[env.tls_port])
        assert_mentions(text, ["TLSCertificate", re.escape(cred.rel_key)] + patterns("unsupported_key"))

    def test_02_tls_vhost_without_any_certificate(self, env, good):
        body = (f"TLSEngine {env.tls_port}\n"
                + env.vhost("good.example.org", env.tls_port, certs=[good])
                + env.vhost("nocert.example.org", env.tls_port))
        text = refused(env, body, listen=[env.tls_port])
        assert_mentions(text, patterns("vhost_no_cert") + [re.escape("nocert.example.org"),
                                                           re.escape(env.conf_file)])

    def test_02_tls_port_without_vhost_or_certificate(self, env):
        # the main server itself is reached over TLS and has nothing to serve
        text = refused(env, f"TLSEngine {env.tls_port}\n", listen=[env.tls_port])
        assert_mentions(text, patterns("vhost_no_cert") + [re.escape("main.example.org")])


class TestDirectiveErrors:

    @pytest.mark.parametrize("arg", ["notaport", "127.0.0.1:", "1.2.3.4.5:80", "70000", "0", "-1",
                                     "127.0.0.1:http", "[::1]:99999"])
    def test_02_tls_engine_bad_argument(self, env, arg):
        text = refused(env, f"TLSEngine {arg}\n", configtest_fails=True)
        assert_mentions(text, ["TLSEngine", re.escape(arg),
                               EXPECT["syntax"].format(conf=re.escape(env.conf_file))])

    def test_02_tls_engine_without_argument(self, env):
        text = refused(env, "TLSEngine\n", configtest_fails=True)
        assert_mentions(text, ["TLSEngine"])

    def test_02_tls_engine_is_global(self, env, good):
        body = env.vhost("good.example.org", env.tls_port, f"TLSEngine {env.tls_port}", certs=[good])
        text = refused(env, body, configtest_fails=True, listen=[env.tls_port])
        assert_mentions(text, ["TLSEngine", EXPECT["syntax"].format(conf=re.escape(env.conf_file))])

    @pytest.mark.parametrize("value", ["maybe", "1", "yes"])
    def test_02_strict_sni_bad_value(self, env, value):
        text = refused(env, f"TLSStrictSNI {value}\n", configtest_fails=True)
        assert_mentions(text, ["TLSStrictSNI", re.escape(value),
                               EXPECT["syntax"].format(conf=re.escape(env.conf_file))])

    def test_02_certificate_too_many_arguments(self, env, good):
        text = refused(env, f"TLSCertificate {good.rel_cert} {good.rel_key} extra\n", configtest_fails=True)
        assert_mentions(text, ["TLSCertificate"])

    @pytest.mark.parametrize("directive", ["TLSCertificate {cert} {key}", "TLSStrictSNI off"])
    def test_02_not_allowed_in_directory(self, env, good, directive):
        line = directive.format(cert=good.rel_cert, key=good.rel_key)
        body = f'<Directory "{env.docroot}">\n    {line}\n</Directory>\n'
        text = refused(env, body, configtest_fails=True)
        assert_mentions(text, [re.escape(line.split()[0]),
                               EXPECT["syntax"].format(conf=re.escape(env.conf_file))])
