"""Protocol and cipher settings per server and virtual host (issue 3): TLSProtocol,
TLSCiphersPrefer / TLSCiphersSuppress (and the TLSCipher* aliases), TLSHonorClientOrder; several
setups on one address; the startup warnings and failures they cause; every refused value.

Clients: Python's ssl for versions and TLS 1.2 suites, `openssl s_client` where TLS 1.3 suites or
their order must be chosen (Python cannot). The tests of a class share one server.

The wording of messages is tentative: the expected fragments (regular expressions) are in EXPECT."""

import os
import re

import pytest

from modtls.env import REPO_ROOT, TLS12_ECDSA_SUITES, TLS12_RSA_SUITES, TLS13_SUITES
from test_02_conf import assert_mentions
from test_02_conf import refused as conf_refused

EXPECT = {
    # added by httpd to errors returned from directive handlers
    "syntax": r"Syntax error on line {line} of {conf}",
    # TLSProtocol: a bad spelling lists what is accepted
    "protocol_forms": [r"default", r"TLSv1\.2\+", r"TLSv1\.3\+"],
    # TLSProtocol: a version above TLS 1.3 names what rustls has
    "protocol_too_new": [r"TLS ?1\.2", r"TLS ?1\.3"],
    # TLSOptions with an option it does not know
    "unknown_option": r"unknown option",
    # startup failures and warnings, by log tag
    "prefer_lacking": r"MTLS0103",  # TLSCiphersPrefer names a suite rustls lacks (warning)
    "suppress_all": r"MTLS0104",  # TLSCiphersSuppress leaves no suite at all
    "suppress_version": r"MTLS0105",  # no suite left for the versions TLSProtocol allows
}

AES256_13, AES128_13, CHACHA_13 = "TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"
assert set(TLS13_SUITES) == {AES256_13, AES128_13, CHACHA_13}
# TLS 1.2 ECDSA suites, OpenSSL names (what the clients take and report)
AES256_12, AES128_12, CHACHA_12 = list(TLS12_ECDSA_SUITES)
assert (AES256_12, AES128_12, CHACHA_12) == ("ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256",
                                             "ECDHE-ECDSA-CHACHA20-POLY1305")
ALL_IANA = list(TLS13_SUITES) + list(TLS12_ECDSA_SUITES.values()) + list(TLS12_RSA_SUITES.values())
# known to the IANA registry, not implemented by rustls 0.23
LACKING = ("TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256")


# ------------------------------------------------------------------ helpers

def names_cert(env, name, hosts):
    """One ECDSA certificate for all host names of a class (so that only the TLS settings differ)."""
    return env.certs.get(name, "ec256", domains=hosts)


def tls13(env, sni, *suites, port=None):
    """(version, suite) an openssl client offering only TLS 1.3 and `suites` in this order gets,
    or None if the handshake fails."""
    args = ["-tls1_3"] + (["-ciphersuites", ":".join(suites)] if suites else [])
    s = env.s_client(port or env.tls_port, *args, sni=sni)
    return (s.protocol, s.cipher) if s.handshake_ok else None


def tls12(env, sni, *ciphers, port=None):
    """The same for TLS 1.2 and OpenSSL cipher names."""
    args = ["-tls1_2"] + (["-cipher", ":".join(ciphers)] if ciphers else [])
    s = env.s_client(port or env.tls_port, *args, sni=sni)
    return (s.protocol, s.cipher) if s.handshake_ok else None


def version_of(env, sni, version, port=None):
    """The version a Python client limited to `version` negotiates, or None if refused."""
    try:
        return env.tls_handshake(port or env.tls_port, sni=sni, min_version=version, max_version=version).version
    except (OSError, ValueError):
        return None


def version_of_suite12(env, sni, suite):
    """The TLS 1.2 suite a Python client offering only `suite` gets, or None."""
    try:
        info = env.tls_handshake(env.tls_port, sni=sni, max_version="TLSv1.2", ciphers=suite)
    except (OSError, ValueError):
        return None
    return info.cipher if info.version == "TLSv1.2" else None


def assert_no_errors_logged(env, mark):
    errors = env.log_errors(mark)
    assert errors == [], "peer-caused events must not be logged at error level:\n" + "\n".join(errors)


def line_of(env, text):
    """1-based number of the first line of the written httpd.conf that contains `text`."""
    with open(env.conf_file) as f:
        for n, ln in enumerate(f, 1):
            if text in ln:
                return n
    raise AssertionError(f"{text!r} is not in {env.conf_file}")


def syntax_error(env, line_text):
    return EXPECT["syntax"].format(line=line_of(env, line_text), conf=re.escape(env.conf_file))


def as_word(value):
    """A regex for `value` standing alone (so "TLSv1.3" is not found inside "TLSv1.3+")."""
    return rf"(?<![\w.+]){re.escape(value)}(?![\w.+])"


def refused(env, body, *, configtest_fails=True, **config):
    """test_02's refused(), for errors found while parsing by default, and the directive must be
    one httpd knows (so a missing directive does not pass for a refused value)."""
    text = conf_refused(env, body, configtest_fails=configtest_fails, **config)
    assert "Invalid command" not in text, text[-3000:]
    return text


# ------------------------------------------------------------------ TLSProtocol

# host -> TLSProtocol line (None: no directive), and whether TLS 1.2 is still accepted
PROTOCOL_HOSTS = {
    "p-none.example.org": (None, True),
    "p-default.example.org": ("TLSProtocol default", True),
    "p-default-case.example.org": ("TLSProtocol DEFAULT", True),
    "p-12.example.org": ("TLSProtocol TLSv1.2+", True),
    "p-v12.example.org": ("TLSProtocol v1.2+", True),
    "p-hex12.example.org": ("TLSProtocol TLSv0x0303+", True),
    "p-hex10.example.org": ("TLSProtocol TLSv0x0301+", True),  # below 1.2: all rustls has
    "p-13.example.org": ("TLSProtocol TLSv1.3+", False),
    "p-v13.example.org": ("TLSProtocol v1.3+", False),
    "p-case13.example.org": ("TLSProtocol tlsV1.3+", False),
    "p-vcase13.example.org": ("TLSProtocol V1.3+", False),
    "p-hex13.example.org": ("TLSProtocol TLSv0x0304+", False),
    "p-hexcase13.example.org": ("TLSProtocol TLSV0X0304+", False),
}


class TestProtocol:
    """Every accepted spelling of TLSProtocol in a virtual host, without any cipher directive."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        cred = names_cert(env, "protocol.example.org", list(PROTOCOL_HOSTS))
        body = f"TLSEngine {env.tls_port}\n" + "".join(
            env.vhost(h, env.tls_port, *([line] if line else []), certs=[cred])
            for h, (line, _) in PROTOCOL_HOSTS.items())
        env.serve(body, listen=[env.tls_port])

    @pytest.mark.parametrize("host", list(PROTOCOL_HOSTS))
    def test_10_protocol_spelling(self, env, host):
        line, tls12_ok = PROTOCOL_HOSTS[host]
        mark = env.log_mark()
        assert version_of(env, host, "TLSv1.3") == "TLSv1.3", line
        assert version_of(env, host, "TLSv1.2") == ("TLSv1.2" if tls12_ok else None), line
        # a client offering both gets the highest
        assert env.tls_handshake(env.tls_port, sni=host).version == "TLSv1.3"
        assert_no_errors_logged(env, mark)

    def test_10_protocol_openssl(self, env):
        # the same with openssl forcing the versions
        assert tls12(env, "p-12.example.org") is not None
        assert tls12(env, "p-13.example.org") is None
        assert tls13(env, "p-13.example.org") is not None

    def test_10_protocol_request_served(self, env):
        resp, info = env.http_request(env.tls_port, sni="p-13.example.org")
        assert resp.status == 200 and resp.text == "p-13.example.org\n"
        assert info.version == "TLSv1.3"


class TestServerLevelSettings:
    """Settings of the main server hold in virtual hosts that do not set them; a virtual host
    overrides them (also back to the defaults)."""

    HOSTS = ["s-inherit.example.org", "s-override.example.org", "s-default.example.org"]

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        cred = names_cert(env, "server-level.example.org", self.HOSTS)
        body = f"""
TLSEngine {env.tls_port}
TLSProtocol TLSv1.3+
TLSCiphersSuppress {CHACHA_13}
TLSCiphersPrefer {AES128_13}
TLSHonorClientOrder off
{env.vhost("s-inherit.example.org", env.tls_port, certs=[cred])}
{env.vhost("s-override.example.org", env.tls_port, "TLSProtocol TLSv1.2+", "TLSCiphersSuppress none",
           "TLSCiphersPrefer default", "TLSHonorClientOrder on", certs=[cred])}
{env.vhost("s-default.example.org", env.tls_port, "TLSProtocol default", certs=[cred])}
"""
        env.serve(body, listen=[env.tls_port])

    def test_10_server_level_inherited(self, env):
        sni = "s-inherit.example.org"
        assert version_of(env, sni, "TLSv1.2") is None
        assert tls13(env, sni, CHACHA_13) is None
        assert tls13(env, sni, AES256_13, AES128_13) == ("TLSv1.3", AES128_13)  # preferred, server order

    def test_10_vhost_overrides_server_level(self, env):
        sni = "s-override.example.org"
        assert version_of(env, sni, "TLSv1.2") == "TLSv1.2"
        assert tls13(env, sni, CHACHA_13) == ("TLSv1.3", CHACHA_13)
        assert tls13(env, sni, AES256_13, AES128_13) == ("TLSv1.3", AES256_13)  # client order

    def test_10_vhost_protocol_default_overrides(self, env):
        # `TLSProtocol default` in the vhost undoes the main server's TLSv1.3+; the rest of the
        # main server's settings stay (the vhost does not change them)
        sni = "s-default.example.org"
        assert version_of(env, sni, "TLSv1.2") == "TLSv1.2"
        assert tls13(env, sni, CHACHA_13) is None
        assert tls13(env, sni, AES256_13) == ("TLSv1.3", AES256_13)
        assert tls13(env, sni, AES256_13, AES128_13) == ("TLSv1.3", AES128_13)


# ------------------------------------------------------------------ TLSCiphersSuppress

# host -> its lines, the TLS 1.3 suites and TLS 1.2 ECDSA suites (OpenSSL names) that still work
SUPPRESS_HOSTS = {
    "x-none.example.org": ([], TLS13_SUITES, TLS12_ECDSA_SUITES),
    "x-iana.example.org": ([f"TLSCiphersSuppress {AES256_13}"], [AES128_13, CHACHA_13], TLS12_ECDSA_SUITES),
    "x-lower.example.org": ([f"TLSCiphersSuppress {AES256_13.lower()}"], [AES128_13, CHACHA_13],
                            TLS12_ECDSA_SUITES),
    "x-tls13.example.org": (["TLSCiphersSuppress TLS13_AES_256_GCM_SHA384"], [AES128_13, CHACHA_13],
                            TLS12_ECDSA_SUITES),
    "x-hex.example.org": (["TLSCiphersSuppress TLS_CIPHER_0x1302"], [AES128_13, CHACHA_13], TLS12_ECDSA_SUITES),
    "x-hexcase.example.org": (["TLSCiphersSuppress tls_cipher_0XC02C"], TLS13_SUITES, [AES128_12, CHACHA_12]),
    "x-openssl.example.org": ([f"TLSCiphersSuppress {AES256_12}"], TLS13_SUITES, [AES128_12, CHACHA_12]),
    "x-iana12.example.org": (["TLSCiphersSuppress TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"], TLS13_SUITES,
                             [AES128_12, CHACHA_12]),
    "x-colon.example.org": ([f"TLSCiphersSuppress {AES256_13}:{CHACHA_13}:{CHACHA_12}"], [AES128_13],
                            [AES256_12, AES128_12]),
    "x-spaces.example.org": ([f"TLSCiphersSuppress {AES256_13} {CHACHA_13}  {CHACHA_12}"], [AES128_13],
                             [AES256_12, AES128_12]),
    "x-lines.example.org": ([f"TLSCiphersSuppress {AES256_13}", f"TLSCiphersSuppress {CHACHA_13}:{CHACHA_12}"],
                            [AES128_13], [AES256_12, AES128_12]),
    "x-alias.example.org": ([f"TLSCipherSuppress {AES256_13}"], [AES128_13, CHACHA_13], TLS12_ECDSA_SUITES),
    "x-cleared.example.org": ([f"TLSCiphersSuppress {AES256_13} {AES256_12}", "TLSCiphersSuppress none"],
                              TLS13_SUITES, TLS12_ECDSA_SUITES),
    "x-lacking.example.org": ([f"TLSCiphersSuppress {LACKING[0]}"], TLS13_SUITES, TLS12_ECDSA_SUITES),
    # every suite of a version: that version is gone
    "x-no13.example.org": ([f"TLSCiphersSuppress {':'.join(TLS13_SUITES)}"], [], TLS12_ECDSA_SUITES),
    "x-no12.example.org": ([f"TLSCiphersSuppress {' '.join(ALL_IANA[len(TLS13_SUITES):])}"], TLS13_SUITES, []),
}


class TestSuppress:

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        cred = names_cert(env, "suppress.example.org", list(SUPPRESS_HOSTS))
        body = f"TLSEngine {env.tls_port}\n" + "".join(
            env.vhost(h, env.tls_port, *lines, certs=[cred]) for h, (lines, _, _) in SUPPRESS_HOSTS.items())
        env.serve(body, listen=[env.tls_port])

    @pytest.mark.parametrize("host", list(SUPPRESS_HOSTS))
    def test_10_suppress(self, env, host):
        lines, ok13, ok12 = SUPPRESS_HOSTS[host]
        got13 = [s for s in TLS13_SUITES if tls13(env, host, s) == ("TLSv1.3", s)]
        got12 = [s for s in TLS12_ECDSA_SUITES if version_of_suite12(env, host, s) == s]
        assert (got13, got12) == (list(ok13), list(ok12)), lines

    def test_10_suppress_all_tls13_disables_tls13(self, env):
        sni = "x-no13.example.org"
        mark = env.log_mark()
        assert tls13(env, sni) is None
        assert version_of(env, sni, "TLSv1.3") is None
        assert env.tls_handshake(env.tls_port, sni=sni).version == "TLSv1.2"
        resp, info = env.http_request(env.tls_port, sni=sni)
        assert resp.status == 200 and info.version == "TLSv1.2"
        assert_no_errors_logged(env, mark)

    def test_10_suppress_all_tls12_disables_tls12(self, env):
        sni = "x-no12.example.org"
        assert tls12(env, sni) is None
        assert version_of(env, sni, "TLSv1.2") is None
        assert env.tls_handshake(env.tls_port, sni=sni).version == "TLSv1.3"


# ------------------------------------------------------------------ TLSCiphersPrefer, TLSHonorClientOrder

# host -> lines; the client offers AES-128, AES-256, ChaCha20 in that order unless a test says so
ORDER_HOSTS = {
    "o-plain.example.org": [],
    "o-prefer.example.org": [f"TLSCiphersPrefer {CHACHA_13} TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"],
    "o-on.example.org": [f"TLSCiphersPrefer {CHACHA_13} TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                         "TLSHonorClientOrder on"],
    "o-off.example.org": [f"TLSCiphersPrefer {CHACHA_13} TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                          "TLSHonorClientOrder off"],
    "o-off-only.example.org": ["TLSHonorClientOrder off"],
    "o-forms.example.org": [f"TLSCipherPrefer tls13_chacha20_poly1305_sha256:{CHACHA_12}",
                            "TLSHonorClientOrder off"],
    "o-hex.example.org": ["TLSCiphersPrefer TLS_CIPHER_0x1303 TLS_CIPHER_0xCCA9", "TLSHonorClientOrder off"],
    "o-lines.example.org": [f"TLSCiphersPrefer {CHACHA_13}", f"TLSCiphersPrefer {AES128_13}",
                            "TLSHonorClientOrder off"],
    "o-cleared.example.org": [f"TLSCiphersPrefer {CHACHA_13}", "TLSCiphersPrefer default",
                              "TLSHonorClientOrder off"],
    "o-suppressed.example.org": [f"TLSCiphersPrefer {CHACHA_13}", f"TLSCiphersSuppress {CHACHA_13}",
                                 "TLSHonorClientOrder off"],
}
CLIENT13 = (AES128_13, AES256_13, CHACHA_13)
CLIENT12 = (AES128_12, AES256_12, CHACHA_12)


class TestPreferAndOrder:

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        cred = names_cert(env, "order.example.org", list(ORDER_HOSTS))
        body = f"TLSEngine {env.tls_port}\n" + "".join(
            env.vhost(h, env.tls_port, *lines, certs=[cred]) for h, lines in ORDER_HOSTS.items())
        env.serve(body, listen=[env.tls_port])

    @pytest.mark.parametrize("host", ["o-plain.example.org", "o-prefer.example.org", "o-on.example.org"])
    def test_10_client_order_honored(self, env, host):
        # the default (and `on`): the client's first suite wins, whatever the server prefers
        assert tls13(env, host, *CLIENT13) == ("TLSv1.3", AES128_13)
        assert tls13(env, host, CHACHA_13, AES256_13) == ("TLSv1.3", CHACHA_13)
        assert tls12(env, host, *CLIENT12) == ("TLSv1.2", AES128_12)

    @pytest.mark.parametrize("host", ["o-off.example.org", "o-forms.example.org", "o-hex.example.org"])
    def test_10_server_preference_decides(self, env, host):
        assert tls13(env, host, *CLIENT13) == ("TLSv1.3", CHACHA_13), ORDER_HOSTS[host]
        assert tls12(env, host, *CLIENT12) == ("TLSv1.2", CHACHA_12), ORDER_HOSTS[host]
        # the preferred suite is not forced on clients without it
        assert tls13(env, host, AES128_13) == ("TLSv1.3", AES128_13)

    def test_10_server_order_without_prefer(self, env):
        # honor off, nothing preferred: rustls' order, AES-256-GCM first
        host = "o-off-only.example.org"
        assert tls13(env, host, *CLIENT13) == ("TLSv1.3", AES256_13)
        assert tls12(env, host, *CLIENT12) == ("TLSv1.2", AES256_12)

    def test_10_prefer_lines_add_up(self, env):
        host = "o-lines.example.org"
        assert tls13(env, host, *CLIENT13) == ("TLSv1.3", CHACHA_13)  # first line
        assert tls13(env, host, AES256_13, AES128_13) == ("TLSv1.3", AES128_13)  # second line

    def test_10_prefer_default_clears(self, env):
        assert tls13(env, "o-cleared.example.org", *CLIENT13) == ("TLSv1.3", AES256_13)

    def test_10_suppress_beats_prefer(self, env):
        host = "o-suppressed.example.org"
        assert tls13(env, host, *CLIENT13) == ("TLSv1.3", AES256_13)
        assert tls13(env, host, CHACHA_13) is None


# ------------------------------------------------------------------ several setups on one address

PV_HOSTS = ["pv-a.example.org", "pv-b.example.org", "pv-a-twin.example.org"]


class TestPerVhostOnOneAddress:
    """Two hosts with the same certificate on one address, different minimum versions and
    suppressed suites: SNI picks the host and its settings; a Host header naming the other
    setup gets 421, one naming a host with the same setup is served."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        cred = names_cert(env, "pervhost.example.org", PV_HOSTS)
        a_lines = ["TLSProtocol TLSv1.2+", f"TLSCiphersSuppress {AES256_13} {AES256_12}"]
        body = f"""
TLSEngine {env.tls_port}
{env.vhost("pv-a.example.org", env.tls_port, *a_lines, certs=[cred])}
{env.vhost("pv-b.example.org", env.tls_port, "TLSProtocol TLSv1.3+", f"TLSCiphersSuppress {CHACHA_13}",
           certs=[cred])}
{env.vhost("pv-a-twin.example.org", env.tls_port, *a_lines, certs=[cred])}
"""
        env.serve(body, listen=[env.tls_port])

    def test_10_host_a(self, env):
        sni = "pv-a.example.org"
        assert tls12(env, sni) is not None
        assert tls12(env, sni, AES256_12) is None
        assert tls12(env, sni, CHACHA_12) == ("TLSv1.2", CHACHA_12)
        assert tls13(env, sni, AES256_13) is None
        assert tls13(env, sni, CHACHA_13) == ("TLSv1.3", CHACHA_13)

    def test_10_host_b(self, env):
        sni = "pv-b.example.org"
        assert tls12(env, sni) is None
        assert tls12(env, sni, CHACHA_12) is None
        assert tls13(env, sni, CHACHA_13) is None
        assert tls13(env, sni, AES256_13) == ("TLSv1.3", AES256_13)

    @pytest.mark.parametrize("sni,host,version", [
        ("pv-a.example.org", "pv-b.example.org", "TLSv1.3"),
        ("pv-a.example.org", "pv-b.example.org", "TLSv1.2"),
        ("pv-b.example.org", "pv-a.example.org", "TLSv1.3"),
    ])
    def test_10_host_of_other_setup_421(self, env, sni, host, version):
        resp, info = env.http_request(env.tls_port, sni=sni, host=host, max_version=version)
        assert info.version == version
        assert resp.status == 421

    def test_10_host_of_same_setup_served(self, env):
        resp, _ = env.http_request(env.tls_port, sni="pv-a.example.org", host="pv-a-twin.example.org")
        assert resp.status == 200 and resp.text == "pv-a-twin.example.org\n"

    @pytest.mark.parametrize("host", ["pv-a.example.org", "pv-b.example.org"])
    def test_10_host_of_own_setup_served(self, env, host):
        resp, _ = env.http_request(env.tls_port, sni=host)
        assert resp.status == 200 and resp.text == f"{host}\n"


# ------------------------------------------------------------------ startup warnings and failures

class TestStartupWarnings:
    """Preferring a suite rustls lacks: one warning per suite at startup, however many hosts name
    it, never per connection. Suppressing one: silent."""

    HOSTS = ["w-one.example.org", "w-two.example.org", "w-three.example.org"]

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env):
        cred = names_cert(env, "warn.example.org", self.HOSTS)
        body = f"""
TLSEngine {env.tls_port}
{env.vhost("w-one.example.org", env.tls_port, f"TLSCiphersPrefer {LACKING[0]} {AES128_13}",
           "TLSHonorClientOrder off", certs=[cred])}
{env.vhost("w-two.example.org", env.tls_port, f"TLSCiphersPrefer {LACKING[0]}:{LACKING[1]}", certs=[cred])}
{env.vhost("w-three.example.org", env.tls_port, f"TLSCiphersSuppress TLS_RSA_WITH_AES_256_CBC_SHA {LACKING[1]}",
           certs=[cred])}
"""
        env.serve(body, listen=[env.tls_port])
        return env.last_start_mark

    def test_10_one_warning_per_lacking_suite(self, env, server):
        lines = env.log_lines(server, EXPECT["prefer_lacking"])
        for name in LACKING:
            mine = [ln for ln in lines if re.search(rf"\b{name}\b", ln)]
            assert len(mine) == 1, f"{name}: {len(mine)} warnings at startup:\n" + "\n".join(lines)
            assert re.search(r"\[tls:warn\]", mine[0]), mine[0]
        assert len(lines) == len(LACKING), "\n".join(lines)

    def test_10_no_warning_per_connection(self, env, server):
        assert env.log_lines(server, EXPECT["prefer_lacking"]), "no warning at startup"
        mark = env.log_mark()
        for _ in range(3):
            for host in ("w-one.example.org", "w-two.example.org"):
                resp, _ = env.http_request(env.tls_port, sni=host)
                assert resp.status == 200
                assert tls12(env, host) is not None
        assert env.log_lines(mark, EXPECT["prefer_lacking"]) == []
        assert env.log_lines(mark, "|".join(LACKING)) == []

    def test_10_suppress_lacking_silent(self, env, server):
        assert env.log_lines(server, EXPECT["prefer_lacking"]), "no warning at startup"
        assert env.log_lines(server, r"TLS_RSA_WITH_AES_256_CBC_SHA\b") == []
        assert tls13(env, "w-three.example.org", AES256_13) == ("TLSv1.3", AES256_13)

    def test_10_known_preferred_suite_still_applies(self, env):
        # the lacking suite is skipped, the next preferred one is used
        assert tls13(env, "w-one.example.org", AES256_13, AES128_13) == ("TLSv1.3", AES128_13)


class TestStartupFailures:

    def test_10_suppress_everything_fails(self, env):
        cred = env.certs.get("fail.example.org", "ec256")
        body = f"TLSEngine {env.tls_port}\n" + env.vhost(
            "fail.example.org", env.tls_port, f"TLSCiphersSuppress {' '.join(ALL_IANA)}", certs=[cred])
        text = refused(env, body, configtest_fails=False, listen=[env.tls_port])
        assert_mentions(text, [EXPECT["suppress_all"], "fail.example.org"])

    def test_10_tls13_only_without_tls13_suites_fails(self, env):
        cred = env.certs.get("fail.example.org", "ec256")
        body = f"TLSEngine {env.tls_port}\n" + env.vhost(
            "fail.example.org", env.tls_port, "TLSProtocol TLSv1.3+", f"TLSCiphersSuppress {':'.join(TLS13_SUITES)}",
            certs=[cred])
        text = refused(env, body, configtest_fails=False, listen=[env.tls_port])
        assert_mentions(text, [EXPECT["suppress_version"], "fail.example.org"])

    def test_10_suppress_everything_in_main_server_fails(self, env):
        cred = env.certs.get("fail.example.org", "ec256")
        body = (f"TLSEngine {env.tls_port}\nTLSCiphersSuppress {' '.join(ALL_IANA)}\n"
                + env.vhost("fail.example.org", env.tls_port, certs=[cred]))
        text = refused(env, body, configtest_fails=False, listen=[env.tls_port])
        assert_mentions(text, [EXPECT["suppress_all"]])


# ------------------------------------------------------------------ refused values

BAD_PROTOCOLS = ["TLSv1.3", "TLSv1.2", "v1.3", "TLSv0x0304", "TLSv1.4+", "TLSv1.1+", "SSLv3+", "1.3+", "all",
                 "+TLSv1.3", "TLSv1.3++", "TLSv0x304+", "TLSv0x00304+", "TLSv0xgggg+", "TLSv0x0000+", "TLSv1.3-"]
TOO_NEW_PROTOCOLS = ["TLSv0x0305+", "TLSv0xFFFF+", "tlsv0x0400+"]


class TestConfigErrors:

    @pytest.mark.parametrize("value", BAD_PROTOCOLS)
    def test_10_protocol_bad_spelling(self, env, value):
        line = f"TLSProtocol {value}"
        text = refused(env, line + "\n")
        assert_mentions(text, ["TLSProtocol", as_word(value), syntax_error(env, line)] + EXPECT["protocol_forms"])

    @pytest.mark.parametrize("value", TOO_NEW_PROTOCOLS)
    def test_10_protocol_too_new(self, env, value):
        line = f"TLSProtocol {value}"
        text = refused(env, line + "\n")
        assert_mentions(text, ["TLSProtocol", as_word(value), syntax_error(env, line)] + EXPECT["protocol_too_new"])

    def test_10_protocol_bad_in_vhost(self, env):
        cred = env.certs.get("bad.example.org", "ec256")
        line = "TLSProtocol TLSv1.3"
        body = f"TLSEngine {env.tls_port}\n" + env.vhost("bad.example.org", env.tls_port, line, certs=[cred])
        text = refused(env, body, listen=[env.tls_port])
        assert_mentions(text, ["TLSProtocol", syntax_error(env, line)] + EXPECT["protocol_forms"])

    @pytest.mark.parametrize("args", ["", "TLSv1.2+ TLSv1.3+"])
    def test_10_protocol_argument_count(self, env, args):
        line = f"TLSProtocol {args}".rstrip()
        text = refused(env, line + "\n")
        assert_mentions(text, ["TLSProtocol", syntax_error(env, line)])

    @pytest.mark.parametrize("directive,arg,name", [
        ("TLSCiphersPrefer", "TLS_NO_SUCH_SUITE", "TLS_NO_SUCH_SUITE"),
        ("TLSCiphersSuppress", "ECDHE-FOO-SHA", "ECDHE-FOO-SHA"),
        ("TLSCipherPrefer", f"{AES128_13}:NOPE-CIPHER", "NOPE-CIPHER"),
        ("TLSCipherSuppress", "TLS13_AES_512_GCM_SHA512", "TLS13_AES_512_GCM_SHA512"),
        ("TLSCiphersPrefer", f"{AES128_13} TLS_AES_128_GCM_SHA999", "TLS_AES_128_GCM_SHA999"),
        ("TLSCiphersPrefer", f"{AES128_13},{AES256_13}", f"{AES128_13},{AES256_13}"),
        ("TLSCiphersSuppress", "TLS_CIPHER_0x130", "TLS_CIPHER_0x130"),
        ("TLSCiphersSuppress", "TLS_CIPHER_0x13021", "TLS_CIPHER_0x13021"),
        ("TLSCiphersSuppress", "TLS_CIPHER_0xZZZZ", "TLS_CIPHER_0xZZZZ"),
        ("TLSCiphersPrefer", "none", "none"),  # the clearing word of the other directive
        ("TLSCiphersSuppress", "default", "default"),
    ])
    def test_10_cipher_unknown_name(self, env, directive, arg, name):
        line = f"{directive} {arg}"
        text = refused(env, line + "\n")
        assert_mentions(text, [re.escape(directive), re.escape(name), syntax_error(env, line)])

    @pytest.mark.parametrize("arg", [f"{AES128_13}::{AES256_13}", f"{AES128_13}:", f":{AES128_13}"])
    def test_10_cipher_empty_name(self, env, arg):
        line = f"TLSCiphersSuppress {arg}"
        text = refused(env, line + "\n")
        assert_mentions(text, ["TLSCiphersSuppress", syntax_error(env, line)])

    def test_10_cipher_unknown_name_in_vhost(self, env):
        cred = env.certs.get("bad.example.org", "ec256")
        line = "TLSCiphersSuppress TLS_AES_128_GCM_SHA256 TLS_BOGUS_SUITE"
        body = f"TLSEngine {env.tls_port}\n" + env.vhost("bad.example.org", env.tls_port, line, certs=[cred])
        text = refused(env, body, listen=[env.tls_port])
        assert_mentions(text, ["TLS_BOGUS_SUITE", syntax_error(env, line)])

    @pytest.mark.parametrize("directive", ["TLSCiphersPrefer", "TLSCiphersSuppress"])
    def test_10_cipher_without_argument(self, env, directive):
        text = refused(env, directive + "\n")
        assert_mentions(text, [directive, syntax_error(env, directive)])

    @pytest.mark.parametrize("line", ["TLSCiphersPrefer default TLS_AES_128_GCM_SHA256",
                                      "TLSCiphersSuppress TLS_AES_128_GCM_SHA256 none"])
    def test_10_cipher_clear_word_not_alone(self, env, line):
        text = refused(env, line + "\n")
        assert_mentions(text, [line.split()[0], syntax_error(env, line)])

    @pytest.mark.parametrize("value", ["maybe", "1", "client"])
    def test_10_honor_client_order_bad_value(self, env, value):
        line = f"TLSHonorClientOrder {value}"
        text = refused(env, line + "\n")
        assert_mentions(text, ["TLSHonorClientOrder", re.escape(value), syntax_error(env, line)])

    @pytest.mark.parametrize("line", ["TLSProtocol TLSv1.3+", f"TLSCiphersPrefer {AES128_13}",
                                      f"TLSCiphersSuppress {AES128_13}", f"TLSCipherSuppress {AES128_13}",
                                      "TLSHonorClientOrder off"])
    @pytest.mark.parametrize("section", ["Directory", "Location"])
    def test_10_not_allowed_in_sections(self, env, line, section):
        where = f'"{env.docroot}"' if section == "Directory" else "/x"
        body = f"<{section} {where}>\n    {line}\n</{section}>\n"
        text = refused(env, body)
        assert_mentions(text, [re.escape(line.split()[0]), r"not allowed", syntax_error(env, line)])

    @pytest.mark.parametrize("args,name", [
        ("StdEnvVar", "StdEnvVar"),
        ("+StdEnvVars +Bogus", "Bogus"),
        ("-FakeCertData", "FakeCertData"),
        ("StdEnvVars,ExportCertData", "StdEnvVars,ExportCertData"),
        ("OptRenegotiate", "OptRenegotiate"),  # a mod_ssl option mod_tls does not have
    ])
    def test_10_options_unknown(self, env, args, name):
        line = f"TLSOptions {args}"
        text = refused(env, line + "\n")
        assert_mentions(text, ["TLSOptions", re.escape(name), EXPECT["unknown_option"], syntax_error(env, line)])

    def test_10_options_unknown_in_location(self, env):
        line = "TLSOptions +StdEnvVars +NoSuchOption"
        text = refused(env, f"<Location /x>\n    {line}\n</Location>\n")
        assert_mentions(text, ["NoSuchOption", EXPECT["unknown_option"], syntax_error(env, line)])

    @pytest.mark.parametrize("args", ["", "+Defaults", "-Defaults"])
    def test_10_options_other_refusals(self, env, args):
        line = f"TLSOptions {args}".rstrip()
        text = refused(env, line + "\n")
        assert_mentions(text, ["TLSOptions", syntax_error(env, line)])


# ------------------------------------------------------------------ the whole registry

def registry():
    """(id, IANA name, OpenSSL name or None) of every suite in src/tls_proto.c's registry table."""
    src = os.path.join(REPO_ROOT, "src", "tls_proto.c")
    with open(src) as f:
        text = f.read()
    rows = re.findall(r'\{0x([0-9a-f]{4}), "([A-Za-z0-9_]+)", (NULL|"[^"]*"), (?:NULL|"[^"]*")\}', text)
    assert len(rows) > 300, f"{src}: registry table not found"
    return [(int(i, 16), name, None if ossl == "NULL" else ossl.strip('"')) for i, name, ossl in rows]




class TestWholeRegistry:
    """Every suite of the cipher registry, under each of its names, given to each cipher directive,
    starts or is refused with a message, never crashes httpd: `TLSCiphersPrefer
    TLS_NULL_WITH_NULL_NULL` (id 0, a registry entry without an OpenSSL name) made post_config
    segfault. Each start puts all names of one kind into one directive of one virtual host (a
    crash on any name stops that start); a second host on the same port checks that the server
    still answers."""

    HOST, OTHER = "reg.example.org", "reg-other.example.org"

    def serve_with(self, env, line):
        cred = names_cert(env, "reg", [self.HOST, self.OTHER])
        env.serve(f"TLSEngine {env.tls_port}\n"
                  + env.vhost(self.HOST, env.tls_port, line, certs=[cred])
                  + env.vhost(self.OTHER, env.tls_port, certs=[cred]), listen=[env.tls_port])

    @pytest.mark.parametrize("form", ["iana", "hex", "openssl", "lower"])
    @pytest.mark.parametrize("directive", ["TLSCiphersPrefer", "TLSCipherPrefer"])
    def test_10_prefer_every_registry_name(self, env, directive, form):
        suites = registry()
        names = {"iana": [n for _, n, _ in suites],
                 "hex": [f"TLS_CIPHER_0x{i:04x}" for i, _, _ in suites],
                 "openssl": [o for _, _, o in suites if o],
                 "lower": [n.lower() for _, n, _ in suites]}[form]
        mark = env.log_mark()
        self.serve_with(env, f"{directive} {':'.join(names)}")
        warned = env.log_lines(mark, r"MTLS0103")
        lacking = {i for i, n, o in suites if n not in ALL_IANA and (form != "openssl" or o)}
        # one warning per suite rustls lacks, each naming it (never "(null)")
        assert len(warned) == len(lacking), f"{len(warned)} warnings for {len(lacking)} missing suites"
        assert not [w for w in warned if "(null)" in w], warned[:3]
        assert "TLS_NULL_WITH_NULL_NULL" in "\n".join(warned) or form == "openssl"
        for host in (self.HOST, self.OTHER):
            assert tls13(env, host) is not None, f"{host} does not answer after {directive} ({form})"

    @pytest.mark.parametrize("directive", ["TLSCiphersSuppress", "TLSCipherSuppress"])
    def test_10_suppress_every_lacking_suite(self, env, directive):
        lacking = [n for _, n, _ in registry() if n not in ALL_IANA]
        mark = env.log_mark()
        self.serve_with(env, f"{directive} {':'.join(lacking)}")
        assert env.log_lines(mark, r"MTLS010[345]") == []
        assert tls13(env, self.HOST) is not None

    @pytest.mark.parametrize("directive", ["TLSCiphersSuppress", "TLSCipherSuppress"])
    def test_10_suppress_the_whole_registry_is_refused(self, env, directive):
        cred = names_cert(env, "reg", [self.HOST, self.OTHER])
        env.stop()
        env.write_config(f"TLSEngine {env.tls_port}\n"
                         + env.vhost(self.HOST, env.tls_port, f"{directive} "
                                     + ":".join(n for _, n, _ in registry()), certs=[cred]),
                         listen=[env.tls_port])
        text = env.start_expect_failure()
        assert re.search(r"MTLS010[45]", text), text[-2000:]
