"""SNI selects the virtual host and its certificate; TLSStrictSNI; the request checks (403 without
SNI, 421 for a Host with another TLS setup); choice among several certificates; TLS versions and
cipher suites."""

import pytest

from modtls.env import TLS12_ECDSA_SUITES, TLS12_RSA_SUITES, TLS13_SUITES

RSA_ONLY_SIGALGS = "rsa_pss_rsae_sha256:rsa_pkcs1_sha256"


@pytest.fixture(scope="module")
def creds(env):
    c = env.certs
    return {
        "main": c.get("main.example.org", "ec256"),
        "one": c.get("one.example.org", "ec256", domains=[
            "one.example.org", "one-alias.example.org", "*.wild.example.org", "one-twin.example.org"]),
        "two": c.get("two.example.org", "rsa2048"),
        "three-ec": c.get("three.example.org", "ec256", domains=["three.example.org", "*.three-wild.example.org"]),
        "three-rsa": c.get("three.example.org", "rsa2048", domains=["three.example.org", "*.three-wild.example.org"]),
        "four": c.get("four.example.org", "ec256"),
        "five": c.get("five.example.org", "rsa2048"),
    }


@pytest.fixture(scope="module", autouse=True)
def server(env, creds):
    P, P2 = env.tls_port, env.tls_port2
    body = f"""
TLSEngine {P}
TLSEngine {P2}
# the main server's certificate is inherited by vhosts without one
{creds["main"].tls_line()}

# port P: strict SNI (the default). one.example.org is the default vhost.
{env.vhost("one.example.org", P, certs=[creds["one"]], aliases=["one-alias.example.org", "*.wild.example.org"])}
{env.vhost("one-twin.example.org", P, certs=[creds["one"]])}
{env.vhost("two.example.org", P, "# not the default vhost: no effect on the port", "TLSStrictSNI off",
           certs=[creds["two"]])}
{env.vhost("three.example.org", P, certs=[creds["three-ec"], creds["three-rsa"]],
           aliases=["*.three-wild.example.org"])}
{env.vhost("inherit.example.org", P)}

# port P2: the default vhost turns strict SNI off
{env.vhost("four.example.org", P2, "TLSStrictSNI off", certs=[creds["four"]])}
{env.vhost("five.example.org", P2, certs=[creds["five"]])}
"""
    env.serve(body, listen=[P, P2])


def get(env, port, sni, host=None, path="/", **kw):
    return env.http_request(port, path, sni=sni, host=host, **kw)


def assert_no_errors_logged(env, mark):
    errors = env.log_errors(mark)
    assert errors == [], "peer-caused events must not be logged at error level:\n" + "\n".join(errors)


class TestSniSelection:

    @pytest.mark.parametrize("sni,cred,docname", [
        ("one.example.org", "one", "one.example.org"),
        ("one-twin.example.org", "one", "one-twin.example.org"),
        ("two.example.org", "two", "two.example.org"),
        ("three.example.org", "three-ec", "three.example.org"),
        ("inherit.example.org", "main", "inherit.example.org"),
    ])
    def test_03_sni_selects_vhost(self, env, creds, sni, cred, docname):
        resp, info = get(env, env.tls_port, sni)
        assert info.cert_der == creds[cred].cert_der, f"{sni} got the certificate of {info.dns_names}"
        assert resp.status == 200 and resp.text == f"{docname}\n"

    @pytest.mark.parametrize("name", ["one.example.org", "two.example.org", "three.example.org"])
    def test_03_curl_verifies_each_vhost(self, env, name):
        # full verification against our CA and the host name, over h1 and h2
        for proto in ("--http1.1", "--http2"):
            r = env.curl(env.url(name, env.tls_port), proto)
            assert r.rc == 0, str(r)
            assert r.response.status == 200 and r.response.text == f"{name}\n"

    def test_03_sni_is_case_insensitive(self, env, creds):
        resp, info = get(env, env.tls_port, "ONE.Example.ORG")
        assert info.cert_der == creds["one"].cert_der
        assert resp.status == 200 and resp.text == "one.example.org\n"

    def test_03_sni_matches_server_alias(self, env, creds):
        resp, info = get(env, env.tls_port, "one-alias.example.org")
        assert info.cert_der == creds["one"].cert_der
        assert resp.status == 200 and resp.text == "one.example.org\n"

    @pytest.mark.parametrize("sni", ["a.wild.example.org", "B.Wild.Example.Org"])
    def test_03_sni_matches_wildcard_alias(self, env, creds, sni):
        resp, info = get(env, env.tls_port, sni)
        assert info.cert_der == creds["one"].cert_der
        assert resp.status == 200 and resp.text == "one.example.org\n"

    def test_03_wildcard_alias_without_exact_aliases(self, env, creds):
        # regression: the original only looked at wildcard aliases if a vhost also had exact ones
        resp, info = get(env, env.tls_port, "x.three-wild.example.org")
        assert info.cert_der == creds["three-ec"].cert_der
        assert resp.status == 200 and resp.text == "three.example.org\n"


class TestStrictSni:

    @pytest.mark.parametrize("sni", ["unknown.example.org", "wild.example.org", "two.example.org.invalid"])
    def test_03_unknown_sni_refused_when_strict(self, env, sni):
        # also checks that TLSStrictSNI off on a non-default vhost (two) does not relax the port
        mark = env.log_mark()
        err = env.tls_handshake_error(env.tls_port, sni=sni)
        assert err is not None, f"handshake with unknown SNI {sni} succeeded"
        s = env.s_client(env.tls_port, sni=sni)
        assert not s.handshake_ok and s.cert is None, str(s)
        assert_no_errors_logged(env, mark)

    def test_03_unknown_sni_gets_default_vhost_when_relaxed(self, env, creds):
        resp, info = get(env, env.tls_port2, "unknown.example.org")
        assert info.cert_der == creds["four"].cert_der
        assert resp.status == 200 and resp.text == "four.example.org\n"

    def test_03_known_sni_on_relaxed_port(self, env, creds):
        resp, info = get(env, env.tls_port2, "five.example.org")
        assert info.cert_der == creds["five"].cert_der
        assert resp.status == 200 and resp.text == "five.example.org\n"

    def test_03_no_sni_gets_default_cert_then_403_when_strict(self, env, creds):
        resp, info = get(env, env.tls_port, None, host="one.example.org")
        assert info.cert_der == creds["one"].cert_der
        assert resp.status == 403

    def test_03_no_sni_openssl(self, env, creds):
        s = env.s_client(env.tls_port, sni=None)
        assert s.handshake_ok, str(s)
        assert s.cert_der == creds["one"].cert_der

    def test_03_no_sni_served_when_relaxed(self, env, creds):
        resp, info = get(env, env.tls_port2, None, host="four.example.org")
        assert info.cert_der == creds["four"].cert_der
        assert resp.status == 200 and resp.text == "four.example.org\n"


class TestHostVersusSni:

    def test_03_host_with_other_certificate_421(self, env):
        resp, _ = get(env, env.tls_port, "one.example.org", host="two.example.org")
        assert resp.status == 421

    def test_03_host_with_other_certificate_421_curl(self, env):
        for proto in ("--http1.1", "--http2"):
            r = env.curl(env.url("one.example.org", env.tls_port), proto,
                         "-H", f"Host: three.example.org:{env.tls_port}")
            assert r.rc == 0, str(r)
            assert r.response.status == 421, f"{proto}: {r.response.status}"

    def test_03_host_with_same_certificate_served(self, env):
        # one-twin uses the very same certificate files as one
        resp, _ = get(env, env.tls_port, "one.example.org", host="one-twin.example.org")
        assert resp.status == 200 and resp.text == "one-twin.example.org\n"

    def test_03_host_with_same_certificate_served_h2(self, env):
        r = env.curl(env.url("one.example.org", env.tls_port), "--http2",
                     "-H", f"Host: one-twin.example.org:{env.tls_port}")
        assert r.rc == 0, str(r)
        assert r.response.status == 200 and r.response.text == "one-twin.example.org\n"

    def test_03_host_alias_of_sni_vhost_served(self, env):
        resp, _ = get(env, env.tls_port, "one.example.org", host="ONE-ALIAS.example.org")
        assert resp.status == 200 and resp.text == "one.example.org\n"

    def test_03_host_matching_sni_served(self, env):
        resp, _ = get(env, env.tls_port, "two.example.org", host="two.example.org")
        assert resp.status == 200 and resp.text == "two.example.org\n"


class TestCertificateChoice:
    """three.example.org has an ECDSA certificate, then an RSA one: the first the client can use wins."""

    def test_03_default_client_gets_first_cert(self, env, creds):
        info = env.tls_handshake(env.tls_port, sni="three.example.org")
        assert info.cert_der == creds["three-ec"].cert_der

    @pytest.mark.parametrize("version", ["-tls1_3", "-tls1_2"])
    def test_03_rsa_only_sigalgs_get_rsa_cert(self, env, creds, version):
        s = env.s_client(env.tls_port, version, "-sigalgs", RSA_ONLY_SIGALGS, sni="three.example.org")
        assert s.handshake_ok, str(s)
        assert s.key_type == "rsa2048", str(s)
        assert s.protocol == {"-tls1_3": "TLSv1.3", "-tls1_2": "TLSv1.2"}[version]

    def test_03_rsa_only_tls12_suite_gets_rsa_cert(self, env, creds):
        # the client accepts ECDSA signatures but only an ECDHE-RSA suite: the certificate must fit
        # the suite, not only the signature schemes
        info = env.tls_handshake(env.tls_port, sni="three.example.org", max_version="TLSv1.2",
                                 ciphers="ECDHE-RSA-AES128-GCM-SHA256")
        assert info.version == "TLSv1.2"
        assert info.cert_der == creds["three-rsa"].cert_der

    def test_03_ecdsa_tls12_suite_gets_ecdsa_cert(self, env, creds):
        info = env.tls_handshake(env.tls_port, sni="three.example.org", max_version="TLSv1.2",
                                 ciphers="ECDHE-ECDSA-AES128-GCM-SHA256")
        assert info.cert_der == creds["three-ec"].cert_der

    def test_03_no_usable_cert_fails_handshake(self, env):
        # one.example.org has only ECDSA; a client that only does RSA cannot be served
        mark = env.log_mark()
        s = env.s_client(env.tls_port, "-sigalgs", RSA_ONLY_SIGALGS, sni="one.example.org")
        assert not s.handshake_ok, str(s)
        err = env.tls_handshake_error(env.tls_port, sni="one.example.org", max_version="TLSv1.2",
                                      ciphers="ECDHE-RSA-AES128-GCM-SHA256")
        assert err is not None
        assert_no_errors_logged(env, mark)


class TestVersionsAndSuites:

    @pytest.mark.parametrize("suite", TLS13_SUITES)
    def test_03_tls13_suite(self, env, suite):
        s = env.s_client(env.tls_port, "-tls1_3", "-ciphersuites", suite, sni="one.example.org")
        assert s.handshake_ok, str(s)
        assert (s.protocol, s.cipher) == ("TLSv1.3", suite)

    @pytest.mark.parametrize("sni,suite", [("one.example.org", s) for s in TLS12_ECDSA_SUITES]
                             + [("two.example.org", s) for s in TLS12_RSA_SUITES])
    def test_03_tls12_suite(self, env, sni, suite):
        info = env.tls_handshake(env.tls_port, sni=sni, max_version="TLSv1.2", ciphers=suite)
        assert (info.version, info.cipher) == ("TLSv1.2", suite)

    @pytest.mark.parametrize("args,version", [
        (["--tlsv1.2", "--tls-max", "1.2"], "TLSv1.2"),
        (["--tlsv1.3"], "TLSv1.3"),
    ])
    def test_03_curl_versions(self, env, args, version):
        r = env.curl(env.url("one.example.org", env.tls_port), "--http1.1", "-v", *args)
        assert r.rc == 0, str(r)
        assert r.response.status == 200
        assert f"SSL connection using {version}" in r.exec.stderr, str(r)

    def test_03_openssl_versions(self, env):
        for flag, version in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
            s = env.s_client(env.tls_port, flag, sni="two.example.org")
            assert s.handshake_ok and s.protocol == version, str(s)

    @pytest.mark.parametrize("flag", ["-tls1_1", "-tls1"])
    def test_03_old_versions_refused(self, env, flag):
        mark = env.log_mark()
        s = env.s_client(env.tls_port, flag, "-cipher", "DEFAULT@SECLEVEL=0", sni="one.example.org")
        assert not s.handshake_ok, str(s)
        assert_no_errors_logged(env, mark)

    def test_03_no_common_suite_refused(self, env):
        # rustls has no static-RSA or CBC suites
        mark = env.log_mark()
        err = env.tls_handshake_error(env.tls_port, sni="two.example.org", max_version="TLSv1.2",
                                      ciphers="AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA")
        assert err is not None
        assert_no_errors_logged(env, mark)

    def test_03_ip_literal_sni_does_not_hurt(self, env):
        # an IP address as SNI is not allowed (RFC 6066); whatever the handshake does, the server
        # keeps working and logs nothing at error level
        mark = env.log_mark()
        env.s_client(env.tls_port2, sni="127.0.0.1")
        resp, _ = get(env, env.tls_port2, "four.example.org")
        assert resp.status == 200
        assert_no_errors_logged(env, mark)
