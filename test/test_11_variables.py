"""The SSL_* variables of issue 3: their values in a CGI, through ap_ssl_var_lookup (mod_rewrite
%{SSL:...}, mod_headers %{...}s, mod_log_config %{...}x), the server certificate's fields compared
with what `openssl x509` says of the same file, and which of them TLSOptions puts into the request
environment (server, virtual host, <Directory>, <Location>, <Files>, .htaccess).

The CGI used is /cgi-bin/envjson.py: it prints the environment as JSON, so multi-line values
(SSL_SERVER_CERT) and non-ASCII bytes survive."""

import datetime
import json
import os
import re
import shutil

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from modtls.certs import CertOptions, cert_pem
from modtls.env import TLS12_ECDSA_SUITES, TLS12_RSA_SUITES, TLS13_SUITES, iana_cipher_name, run

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RSA_ONLY_SIGALGS = "rsa_pss_rsae_sha256:rsa_pkcs1_sha256"

ALWAYS = ("HTTPS", "SSL_TLS_SNI", "SSL_PROTOCOL", "SSL_CIPHER")
# with StdEnvVars, on every connection (the certificate's fields come on top)
STD_FIXED = ("SSL_VERSION_INTERFACE", "SSL_VERSION_LIBRARY", "SSL_SECURE_RENEG", "SSL_COMPRESS_METHOD",
             "SSL_CIPHER_EXPORT", "SSL_CIPHER_USEKEYSIZE", "SSL_CIPHER_ALGKEYSIZE", "SSL_CLIENT_VERIFY",
             "SSL_SESSION_RESUMED")
STD_CERT = ("SSL_SERVER_M_VERSION", "SSL_SERVER_M_SERIAL", "SSL_SERVER_S_DN", "SSL_SERVER_S_DN_CN",
            "SSL_SERVER_I_DN", "SSL_SERVER_I_DN_CN", "SSL_SERVER_V_START", "SSL_SERVER_V_END",
            "SSL_SERVER_A_SIG", "SSL_SERVER_A_KEY", "SSL_SERVER_SAN_DNS_0")
NEVER = ("SSL_SESSION_ID",)

# the DN attributes of the issue, as mod_ssl names them
DN_ATTRS = {NameOID.COMMON_NAME: "CN", NameOID.ORGANIZATION_NAME: "O", NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
            NameOID.COUNTRY_NAME: "C", NameOID.STATE_OR_PROVINCE_NAME: "ST", NameOID.LOCALITY_NAME: "L",
            NameOID.EMAIL_ADDRESS: "Email"}


def module_version():
    with open(os.path.join(REPO, "src", "tls_version.h")) as f:
        return re.search(r'#define MOD_TLS_VERSION "([^"]+)"', f.read()).group(1)


def library_version():
    """<binding>/<version>/rustls/<rustls version>, from the crate's manifest and lock file."""
    with open(os.path.join(REPO, "rtls", "Cargo.toml")) as f:
        rtls = re.search(r'^\[package\][^\[]*?^version = "([^"]+)"', f.read(), re.M | re.S).group(1)
    with open(os.path.join(REPO, "rtls", "Cargo.lock")) as f:
        rustls = re.search(r'^name = "rustls"\nversion = "([^"]+)"', f.read(), re.M).group(1)
    return f"rtls/{rtls}/rustls/{rustls}"


# ------------------------------------------------------------------ what openssl says

_VIEWS = {}


def openssl_view(cred):
    """The SSL_SERVER_* variables of a credential's certificate as mod_ssl would set them, taken
    from `openssl x509` (DNs, serial, dates, algorithms, SAN) and, for single DN attributes,
    from the parsed certificate."""
    key = (cred.cert_file, cred.cert_der)
    if key not in _VIEWS:
        _VIEWS[key] = _openssl_view(cred)
    return dict(_VIEWS[key])


def _openssl_view(cred):
    r = run(["openssl", "x509", "-in", cred.cert_file, "-noout", "-serial", "-subject", "-issuer", "-dates",
             "-nameopt", "RFC2253,-esc_msb"])
    assert r.rc == 0, str(r)
    fields = dict(ln.split("=", 1) for ln in r.stdout.splitlines())
    t = run(["openssl", "x509", "-in", cred.cert_file, "-noout", "-text"])
    assert t.rc == 0, str(t)
    text = t.stdout
    v = {
        "SSL_SERVER_M_VERSION": re.search(r"^\s*Version: (\d+) ", text, re.M).group(1),
        "SSL_SERVER_M_SERIAL": fields["serial"],
        "SSL_SERVER_S_DN": fields["subject"],
        "SSL_SERVER_I_DN": fields["issuer"],
        "SSL_SERVER_V_START": fields["notBefore"],
        "SSL_SERVER_V_END": fields["notAfter"],
        "SSL_SERVER_A_SIG": re.search(r"^\s*Signature Algorithm: (\S+)", text, re.M).group(1),
        "SSL_SERVER_A_KEY": re.search(r"^\s*Public Key Algorithm: (\S+)", text, re.M).group(1),
    }
    m = re.search(r"X509v3 Subject Alternative Name:.*\n\s*(.+)", text)
    san = [e.strip() for e in m.group(1).split(",")] if m else []
    for kind, prefix in (("DNS", "DNS:"), ("Email", "email:")):
        for i, e in enumerate([e[len(prefix):] for e in san if e.startswith(prefix)]):
            v[f"SSL_SERVER_SAN_{kind}_{i}"] = e
    for which, name in (("S", cred.cert.subject), ("I", cred.cert.issuer)):
        seen = {}
        for attr in name:
            short = DN_ATTRS.get(attr.oid)
            if short is None:
                continue
            n = seen.get(short, 0)
            seen[short] = n + 1
            v[f"SSL_SERVER_{which}_DN_{short}" + (f"_{n}" if n else "")] = attr.value
    v["SSL_SERVER_CERT"] = cert_pem(cred.cert).decode()
    return v


def decoded(env):
    """CGI environment values as text (the CGI's Python hands undecodable bytes over escaped)."""
    return {k: v.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for k, v in env.items()}


def json_env(resp):
    assert resp.status == 200, f"{resp.status} {resp.text[:500]}"
    return decoded(json.loads(resp.text))


def s_client_request(env, sni, path, *args, port=None):
    """A GET over `openssl s_client` (for what Python's ssl cannot choose: TLS 1.3 suites,
    signature algorithms, sessions). Returns (s_client stdout, "New"/"Reused", protocol, cipher,
    the CGI env or None)."""
    port = port or env.tls_port
    req = f"GET {path} HTTP/1.1\r\nHost: {sni}:{port}\r\nConnection: close\r\n\r\n".encode()
    s = env.s_client(port, "-ign_eof", *args, sni=sni, input=req)
    out = s.exec.stdout
    m = re.search(r"^(New|Reused), (\S+), Cipher is (\S+)", out, re.M)
    body = re.search(r"^\{.*\}$", out, re.M)
    return (out, m.group(1) if m else None, m.group(2) if m else None, m.group(3) if m else None,
            decoded(json.loads(body.group(0))) if body else None)


def assert_always(e, sni, version, iana_cipher):
    assert (e.get("HTTPS"), e.get("SSL_TLS_SNI"), e.get("SSL_PROTOCOL"), e.get("SSL_CIPHER")) == (
        "on", sni, version, iana_cipher)


def rewrite_lookups(names, prefix="RW_"):
    """mod_rewrite rules copying %{SSL:NAME} into the env as RW_NAME when it has a value."""
    out = ["RewriteEngine on"]
    for n in names:
        out += [rf"RewriteCond %{{SSL:{n}}} (?s)^(.+)$", rf"RewriteRule ^ - [E={prefix}{n}:%1]"]
    return "\n".join(out)


# ------------------------------------------------------------------ the certificates

RICH_DOMAINS = ["rich.example.org", "www.rich.example.org", "alt.rich.example.org"]
RICH_EC = CertOptions(
    subject=((NameOID.COUNTRY_NAME, "DE"), (NameOID.STATE_OR_PROVINCE_NAME, "Bavaria"),
             (NameOID.LOCALITY_NAME, "München"), (NameOID.ORGANIZATION_NAME, "Example, Inc."),
             (NameOID.ORGANIZATIONAL_UNIT_NAME, "Web"), (NameOID.ORGANIZATIONAL_UNIT_NAME, "TLS"),
             (NameOID.COMMON_NAME, "rich.example.org"), (NameOID.EMAIL_ADDRESS, "hostmaster@example.org")),
    emails=("hostmaster@example.org", "webmaster@example.org"))
RICH_RSA = CertOptions(
    subject=((NameOID.COUNTRY_NAME, "CH"), (NameOID.STATE_OR_PROVINCE_NAME, "Zurich"),
             (NameOID.LOCALITY_NAME, "Zurich"), (NameOID.ORGANIZATION_NAME, "Example+Co"),
             (NameOID.ORGANIZATIONAL_UNIT_NAME, "Ops; Infra"), (NameOID.COMMON_NAME, "rich.example.org"),
             (NameOID.EMAIL_ADDRESS, "tls@example.org")),
    emails=("tls@example.org",),
    serial=0xFF01,  # DER needs a leading 00 byte, openssl prints FF01
    # a single-digit day (mod_ssl pads it with a space), and an end after 2049 (GeneralizedTime)
    not_before=datetime.datetime(2026, 1, 5, 1, 2, 3), not_after=datetime.datetime(2051, 2, 3, 4, 5, 6))
SELF_SIGNED = CertOptions(self_signed=True)


@pytest.fixture(scope="module")
def creds(env):
    c = env.certs
    return {
        "rich-ec": c.get("rich.example.org", "ec256", domains=RICH_DOMAINS, options=RICH_EC),
        "rich-rsa": c.get("rich.example.org", "rsa2048", domains=RICH_DOMAINS, options=RICH_RSA),
        "self-ec": c.get("selfsigned.example.org", "ec384", options=SELF_SIGNED),
        "self-ed": c.get("ed.example.org", "ed25519", options=SELF_SIGNED),
        "plain": c.get("opts.example.org", "ec256", domains=["opts.example.org", "opts-std.example.org",
                                                             "opts-off.example.org", "opts-defaults.example.org",
                                                             "opts-replace.example.org", "opts-add.example.org"]),
    }


# ------------------------------------------------------------------ certificate variables

# every name looked up through mod_rewrite in TestCertificateVariables
LOOKUP_NAMES = (list(ALWAYS) + list(STD_FIXED) + list(STD_CERT) + list(NEVER)
                + [f"SSL_SERVER_S_DN_{a}" for a in ("O", "OU", "OU_1", "C", "ST", "L", "Email", "OU_0", "SP")]
                + [f"SSL_SERVER_I_DN_{a}" for a in ("O", "C")]
                + ["SSL_SERVER_SAN_DNS_1", "SSL_SERVER_SAN_DNS_2", "SSL_SERVER_SAN_DNS_3",
                   "SSL_SERVER_SAN_Email_0", "SSL_SERVER_SAN_Email_1", "SSL_SERVER_CERT"])
# in response headers and a log line (ASCII values without '\' or '"', which the log escapes)
HEADER_NAMES = ("SSL_SERVER_M_SERIAL", "SSL_SERVER_V_START", "SSL_SERVER_V_END", "SSL_SERVER_A_SIG",
                "SSL_SERVER_A_KEY", "SSL_SERVER_S_DN_CN", "SSL_SERVER_I_DN", "SSL_SERVER_SAN_DNS_0",
                "SSL_VERSION_LIBRARY", "SSL_CIPHER_USEKEYSIZE", "SSL_SESSION_RESUMED")
LOG_NAMES = HEADER_NAMES + ("SSL_SESSION_ID",)
CERT_LOG = "cert_vars_log"

# how each case connects: SNI, the credential the server must present, client arguments (Python
# ssl) or None for s_client with RSA-only signature algorithms over TLS 1.3
CASES = {
    "rich-ec-tls13": ("rich.example.org", "rich-ec", dict()),
    "rich-ec-tls12": ("rich.example.org", "rich-ec", dict(max_version="TLSv1.2",
                                                          ciphers="ECDHE-ECDSA-AES128-GCM-SHA256")),
    "rich-rsa-tls12": ("rich.example.org", "rich-rsa", dict(max_version="TLSv1.2",
                                                            ciphers="ECDHE-RSA-AES256-GCM-SHA384")),
    "rich-rsa-tls13": ("rich.example.org", "rich-rsa", None),
    "self-ec": ("selfsigned.example.org", "self-ec", dict(verify=False)),
    "self-ed": ("ed.example.org", "self-ed", dict(verify=False)),
}


def header_lines(names):
    return "\n".join(f'Header always set X-{n.replace("_", "-")} "%{{{n}}}s"' for n in names)


class TestCertificateVariables:

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env, creds):
        lines = ["TLSOptions +StdEnvVars +ExportCertData", rewrite_lookups(LOOKUP_NAMES), header_lines(HEADER_NAMES)]
        fmt = "|".join(f"%{{{n}}}x" for n in LOG_NAMES)
        body = f"""
TLSEngine {env.tls_port}
LogFormat "{fmt}|%U%q" certvars
CustomLog logs/{CERT_LOG} certvars
{env.vhost("rich.example.org", env.tls_port, *lines, certs=[creds["rich-ec"], creds["rich-rsa"]],
           aliases=RICH_DOMAINS[1:])}
{env.vhost("selfsigned.example.org", env.tls_port, *lines, certs=[creds["self-ec"]])}
{env.vhost("ed.example.org", env.tls_port, *lines, certs=[creds["self-ed"]])}
"""
        env.serve(body, listen=[env.tls_port])

    @pytest.fixture(scope="class")
    def results(self, env, creds):
        """case -> (expected variables, CGI env, response headers or None, TLS version, IANA cipher)"""
        out = {}
        for case, (sni, cred_key, args) in CASES.items():
            cred = creds[cred_key]
            path = f"/cgi-bin/envjson.py?{case}"
            if args is None:
                stdout, _, version, cipher, e = s_client_request(env, sni, path, "-tls1_3", "-sigalgs",
                                                                 RSA_ONLY_SIGALGS)
                assert e is not None, stdout[-3000:]
                cert = x509.load_pem_x509_certificate(
                    re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", stdout, re.S)
                    .group(0).encode())
                assert cert.public_bytes(serialization.Encoding.DER) == cred.cert_der, case
                headers = {k.lower(): v for k, v in re.findall(r"^(X-SSL-[\w-]+): (.*?)\r?$", stdout, re.M)}
            else:
                resp, info = env.http_request(env.tls_port, path, sni=sni, **args)
                assert info.cert_der == cred.cert_der, case
                e = json_env(resp)
                version, cipher = info.version, iana_cipher_name(info.cipher)
                headers = {k.lower(): v for k, v in resp.headers}
            out[case] = (openssl_view(cred), e, headers, version, cipher)
        return out

    @pytest.fixture(params=list(CASES))
    def case(self, request):
        return request.param

    def test_11_cert_vars_in_env(self, results, case):
        expected, e, _, _, _ = results[case]
        got = {k: e.get(k) for k in expected}
        assert got == expected
        # attributes and SAN entries the certificate does not have are not made up
        extra = sorted(k for k in e if k.startswith("SSL_SERVER_") and k not in expected)
        assert extra == []

    def test_11_cert_vars_through_rewrite(self, results, case):
        expected, e, _, _, _ = results[case]
        want = dict(expected)
        want["SSL_SERVER_S_DN_OU_0"] = expected.get("SSL_SERVER_S_DN_OU")  # _0: the first
        want["SSL_SERVER_S_DN_SP"] = expected.get("SSL_SERVER_S_DN_ST")  # SP: mod_ssl's alias of ST
        names = [n for n in LOOKUP_NAMES if n.startswith("SSL_SERVER_")]
        got = {n: e.get("RW_" + n) for n in names}
        assert got == {n: want.get(n) for n in names}

    def test_11_cert_vars_in_headers(self, results, case):
        expected, e, headers, _, _ = results[case]
        for n in HEADER_NAMES:
            want = expected.get(n, e.get(n))
            assert want, n
            assert headers.get(f"x-{n.replace('_', '-')}".lower()) == want, n

    def test_11_cert_vars_in_log(self, env, creds, results):
        # the requests of `results` are in the log, one line each
        log = os.path.join(env.logs_dir, CERT_LOG)
        for case in CASES:
            expected, e, _, _, _ = results[case]
            lines = env.wait_log(rf"\|/cgi-bin/envjson\.py\?{re.escape(case)}$", 0, path=log)
            assert len(lines) == 1, lines
            want = [expected.get(n, e.get(n)) or "-" for n in LOG_NAMES]
            assert lines[0].split("|")[:-1] == want, case

    def test_11_connection_vars(self, results, case):
        sni = CASES[case][0]
        expected, e, _, version, cipher = results[case]
        assert_always(e, sni, version, cipher)
        assert e.get("SSL_VERSION_INTERFACE") == f"mod_tls/{module_version()}"
        assert e.get("SSL_VERSION_LIBRARY") == library_version()
        assert (e.get("SSL_SECURE_RENEG"), e.get("SSL_COMPRESS_METHOD"), e.get("SSL_CIPHER_EXPORT"),
                e.get("SSL_CLIENT_VERIFY"), e.get("SSL_SESSION_RESUMED")) == ("false", "NULL", "false", "NONE",
                                                                              "Initial")
        for n in STD_FIXED:
            assert e.get("RW_" + n) == e.get(n), n
        # the session id is never exported, not even looked up
        assert not any("SESSION_ID" in k for k in e), sorted(e)

    def test_11_version_vars_match_module(self, env):
        # the library version is what the module announces at startup
        lines = env.log_lines(env.last_start_mark, r"MTLS0001")
        assert lines and lines[-1].endswith(f"mod_tls/{module_version()} ({library_version()}) initialized"), lines
        assert re.fullmatch(r"rtls/\d+\.\d+\.\d+/rustls/" + re.escape(env.rustls_version), library_version())

    def test_11_cert_vars_over_h2(self, env, creds):
        # h2 requests run on secondary connections; the variables are those of the TLS connection
        r = env.curl(env.url("rich.example.org", env.tls_port, "/cgi-bin/envjson.py"), "--http2")
        assert r.rc == 0, str(r)
        assert r.response.http_version == "2"
        e = decoded(json.loads(r.response.text))
        expected = openssl_view(creds["rich-ec"])
        assert {k: e.get(k) for k in expected} == expected
        assert {k: e.get("RW_" + k) for k in STD_CERT} == {k: expected[k] for k in STD_CERT}
        assert e.get("SSL_SESSION_RESUMED") == "Initial"

    def test_11_expected_formats(self, results):
        # the openssl-derived expectations themselves look like mod_ssl's values
        rich_ec, rich_rsa = results["rich-ec-tls13"][0], results["rich-rsa-tls12"][0]
        assert rich_ec["SSL_SERVER_S_DN"] == ("emailAddress=hostmaster@example.org,CN=rich.example.org,OU=TLS,"
                                              "OU=Web,O=Example\\, Inc.,L=München,ST=Bavaria,C=DE")
        assert rich_ec["SSL_SERVER_A_KEY"] == "id-ecPublicKey"
        assert rich_rsa["SSL_SERVER_A_SIG"] == "sha256WithRSAEncryption"
        assert rich_rsa["SSL_SERVER_A_KEY"] == "rsaEncryption"
        assert rich_rsa["SSL_SERVER_M_SERIAL"] == "FF01"
        assert rich_rsa["SSL_SERVER_V_START"] == "Jan  5 01:02:03 2026 GMT"
        assert rich_rsa["SSL_SERVER_V_END"] == "Feb  3 04:05:06 2051 GMT"
        assert results["self-ec"][0]["SSL_SERVER_A_SIG"] == "ecdsa-with-SHA256"
        assert results["self-ed"][0]["SSL_SERVER_A_SIG"] == results["self-ed"][0]["SSL_SERVER_A_KEY"] == "ED25519"
        assert rich_ec["SSL_SERVER_I_DN"] == "CN=mod_tls test CA,O=mod_tls tests"


# ------------------------------------------------------------------ ap_expr

class TestApExpr:
    """ap_expr (<If>, Require expr, mod_headers expr=...) sees the variables through
    ap_ssl_var_lookup, as mod_ssl's `%{SSL:NAME}` function and its `%{NAME}` variables. Each test
    starts its own server: a config ap_expr cannot parse is refused."""

    @staticmethod
    def serve_expr(env, creds, ref, mod_ssl=False):
        lines = [f'Header always set X-Expr-Cipher "expr={ref("SSL_CIPHER")}"',
                 f'Header always set X-Expr-Key "expr={ref("SSL_SERVER_A_KEY")}"',
                 f'<If "{ref("SSL_PROTOCOL")} == \'TLSv1.3\'">',
                 "    Header always set X-Expr-If tls13",
                 "</If>",
                 "<Location /expr-denied>",
                 f'    Require expr "{ref("SSL_PROTOCOL")} == \'TLSv1.0\'"',
                 "</Location>"]
        env.serve(f"TLSEngine {env.tls_port}\n" + env.vhost("rich.example.org", env.tls_port, *lines,
                                                            certs=[creds["rich-ec"], creds["rich-rsa"]]),
                  listen=[env.tls_port], mod_ssl=mod_ssl)

    @staticmethod
    def check(env):
        for args in (dict(), dict(max_version="TLSv1.2", ciphers="ECDHE-RSA-CHACHA20-POLY1305")):
            resp, info = env.http_request(env.tls_port, "/index.html", sni="rich.example.org", **args)
            assert resp.status == 200
            assert resp.header("X-Expr-Cipher") == iana_cipher_name(info.cipher)
            assert resp.header("X-Expr-Key") == ("rsaEncryption" if args else "id-ecPublicKey")
            assert resp.header("X-Expr-If") == ("tls13" if info.version == "TLSv1.3" else None)
        resp, _ = env.http_request(env.tls_port, "/expr-denied", sni="rich.example.org")
        assert resp.status == 403

    def test_11_ap_expr_ssl_function(self, env, creds):
        # the form docs/variables.md shows: %{SSL:SSL_CIPHER}
        self.serve_expr(env, creds, lambda n: f"%{{SSL:{n}}}")
        self.check(env)

    def test_11_ap_expr_ssl_variable(self, env, creds):
        # mod_ssl's ap_expr variables: %{SSL_CIPHER}
        self.serve_expr(env, creds, lambda n: f"%{{{n}}}")
        self.check(env)

    def test_11_ap_expr_with_mod_ssl_loaded(self, env, creds):
        # mod_ssl loaded (it knows both forms), the connection is mod_tls's
        self.serve_expr(env, creds, lambda n: f"%{{SSL:{n}}}", mod_ssl=True)
        self.check(env)


# ------------------------------------------------------------------ key sizes per suite

KEYSIZE = {"TLS_AES_128_GCM_SHA256": "128", "TLS_AES_256_GCM_SHA384": "256", "TLS_CHACHA20_POLY1305_SHA256": "256",
           "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "128", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "256",
           "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "256",
           "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "128", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "256",
           "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "256"}


class TestCipherVariables:
    """SSL_CIPHER and the key sizes for every suite rustls has; the RSA suites also pick the RSA
    certificate, which the certificate variables follow."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env, creds):
        body = f"TLSEngine {env.tls_port}\n" + env.vhost(
            "rich.example.org", env.tls_port, "TLSOptions +StdEnvVars",
            rewrite_lookups(["SSL_CIPHER_USEKEYSIZE", "SSL_CIPHER_ALGKEYSIZE", "SSL_CIPHER"]),
            certs=[creds["rich-ec"], creds["rich-rsa"]])
        env.serve(body, listen=[env.tls_port])

    @pytest.mark.parametrize("suite", TLS13_SUITES)
    def test_11_tls13_suite_vars(self, env, suite):
        stdout, _, version, cipher, e = s_client_request(env, "rich.example.org", "/cgi-bin/envjson.py",
                                                         "-tls1_3", "-ciphersuites", suite)
        assert (version, cipher) == ("TLSv1.3", suite), stdout[-2000:]
        assert_always(e, "rich.example.org", "TLSv1.3", suite)
        assert e.get("SSL_CIPHER_USEKEYSIZE") == e.get("SSL_CIPHER_ALGKEYSIZE") == KEYSIZE[suite]
        assert e.get("RW_SSL_CIPHER_USEKEYSIZE") == e.get("RW_SSL_CIPHER_ALGKEYSIZE") == KEYSIZE[suite]
        assert e.get("SSL_SERVER_A_KEY") == "id-ecPublicKey"

    @pytest.mark.parametrize("suite", list(TLS12_ECDSA_SUITES) + list(TLS12_RSA_SUITES))
    def test_11_tls12_suite_vars(self, env, creds, suite):
        resp, info = env.http_request(env.tls_port, "/cgi-bin/envjson.py", sni="rich.example.org",
                                      max_version="TLSv1.2", ciphers=suite)
        e = json_env(resp)
        iana = iana_cipher_name(suite)
        assert (info.version, info.cipher) == ("TLSv1.2", suite)
        assert_always(e, "rich.example.org", "TLSv1.2", iana)
        assert e.get("RW_SSL_CIPHER") == iana
        assert e.get("SSL_CIPHER_USEKEYSIZE") == e.get("SSL_CIPHER_ALGKEYSIZE") == KEYSIZE[iana]
        assert e.get("RW_SSL_CIPHER_USEKEYSIZE") == KEYSIZE[iana]
        assert e.get("SSL_SERVER_A_KEY") == ("rsaEncryption" if "RSA" in suite else "id-ecPublicKey")
        cred = creds["rich-rsa" if "RSA" in suite else "rich-ec"]
        assert info.cert_der == cred.cert_der
        assert e.get("SSL_SERVER_M_SERIAL") == openssl_view(cred)["SSL_SERVER_M_SERIAL"]


# ------------------------------------------------------------------ TLSOptions

OPT_DIR = "cgi-opts"  # below the server root: a <Directory> with TLSOptions +ExportCertData
HT_DIR = "ht-opts"  # below the server root: .htaccess files, AllowOverride Options
HTACCESS = {"std": "TLSOptions +StdEnvVars", "replace": "TLSOptions ExportCertData", "minus": "TLSOptions -StdEnvVars",
            "plain": None, "bad": "TLSOptions +StdEnvVars +Bogus", "fileinfo": "TLSOptions +StdEnvVars"}
# lookups in every options vhost: they answer whatever TLSOptions says
OPTION_LOOKUPS = ("SSL_VERSION_INTERFACE", "SSL_SESSION_RESUMED", "SSL_CIPHER_USEKEYSIZE", "SSL_SERVER_S_DN_CN",
                  "SSL_SERVER_M_SERIAL", "SSL_SERVER_CERT", "SSL_SESSION_ID")
# URL prefixes (all map to the CGI directory) and the TLSOptions of their <Location>
LOCATIONS = ["/std/", "/cert/", "/both/less/", "/both/", "/minus/", "/defaults/", "/replace/", "/noop/", "/mixed/"]


def make_option_dirs(env):
    src = os.path.join(env.cgi_dir, "envjson.py")
    opt = os.path.join(env.server_root, OPT_DIR)
    os.makedirs(opt, mode=0o755, exist_ok=True)
    for name in ("envjson.py", "envfiles.py"):
        shutil.copy(src, os.path.join(opt, name))
        os.chmod(os.path.join(opt, name), 0o755)
    for sub, line in HTACCESS.items():
        d = os.path.join(env.server_root, HT_DIR, sub)
        os.makedirs(d, mode=0o755, exist_ok=True)
        os.chmod(os.path.dirname(d), 0o755)
        shutil.copy(src, os.path.join(d, "envjson.py"))
        os.chmod(os.path.join(d, "envjson.py"), 0o755)
        ht = os.path.join(d, ".htaccess")
        if line:
            with open(ht, "w") as f:
                f.write(line + "\n")
            os.chmod(ht, 0o644)
        elif os.path.exists(ht):
            os.unlink(ht)


def options_vhost(env, name, creds, *lines, locations=None):
    aliases = [f'ScriptAlias {p} "{env.cgi_dir}/"' for p in LOCATIONS]
    aliases += [f'Alias /dir/ "{env.server_root}/{OPT_DIR}/"', f'Alias /ht/ "{env.server_root}/{HT_DIR}/"']
    locs = [f"<Location {p}>\n    TLSOptions {opts}\n</Location>" for p, opts in (locations or {}).items()]
    return env.vhost(name, env.tls_port, *lines, *aliases, *locs, rewrite_lookups(OPTION_LOOKUPS),
                     certs=[creds["plain"]])


def options_common(env):
    return f"""
TLSEngine {env.tls_port}
<Directory "{env.server_root}/{OPT_DIR}">
    Options +ExecCGI
    SetHandler cgi-script
    Require all granted
    TLSOptions +ExportCertData
</Directory>
<Files "envfiles.py">
    TLSOptions -StdEnvVars
</Files>
<Directory "{env.server_root}/{HT_DIR}">
    Options +ExecCGI
    AllowOverride Options
    SetHandler cgi-script
    Require all granted
</Directory>
<Directory "{env.server_root}/{HT_DIR}/fileinfo">
    AllowOverride FileInfo
</Directory>
"""


def get_env(env, host, path):
    resp, info = env.http_request(env.tls_port, path, sni=host)
    e = json_env(resp)
    assert_always(e, host, info.version, iana_cipher_name(info.cipher))
    return e


def options_in_effect(e):
    """(StdEnvVars, ExportCertData) as the environment shows them; checks that each option brings
    all or none of its variables."""
    std_names = STD_FIXED + STD_CERT
    std = [n for n in std_names if n in e]
    assert std in ([], list(std_names)), f"only some StdEnvVars variables: {std}"
    if not std:
        others = sorted(k for k in e if k.startswith("SSL_") and k not in ALWAYS and k != "SSL_SERVER_CERT")
        assert others == [], f"set without StdEnvVars: {others}"
    cert = "SSL_SERVER_CERT" in e
    if cert:
        assert e["SSL_SERVER_CERT"].startswith("-----BEGIN CERTIFICATE-----\n"), e["SSL_SERVER_CERT"][:100]
    for n in NEVER:
        assert n not in e
    return bool(std), cert


def assert_lookups_regardless(e, cred):
    """The lookups answer every variable, whatever TLSOptions says."""
    assert e.get("RW_SSL_VERSION_INTERFACE") == f"mod_tls/{module_version()}"
    assert e.get("RW_SSL_SESSION_RESUMED") == "Initial"
    assert e.get("RW_SSL_CIPHER_USEKEYSIZE") in ("128", "256")
    assert e.get("RW_SSL_SERVER_S_DN_CN") == cred.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert e.get("RW_SSL_SERVER_M_SERIAL") == openssl_view(cred)["SSL_SERVER_M_SERIAL"]
    assert x509.load_pem_x509_certificate(e.get("RW_SSL_SERVER_CERT", "").encode()) == cred.cert
    assert "RW_SSL_SESSION_ID" not in e


NONE, STD, CERT, BOTH = (False, False), (True, False), (False, True), (True, True)


class TestOptionsInSections:
    """opts.example.org sets no TLSOptions itself, opts-std.example.org sets +StdEnvVars; their
    sections change that."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env, creds):
        make_option_dirs(env)
        body = options_common(env) + options_vhost(env, "opts.example.org", creds, locations={
            "/std/": "+StdEnvVars",
            "/cert/": "+ExportCertData",
            "/both/": "StdEnvVars ExportCertData",
            "/both/less/": "-ExportCertData",
            "/minus/": "-StdEnvVars",
            "/defaults/": "Defaults",
        }) + options_vhost(env, "opts-std.example.org", creds, "TLSOptions +StdEnvVars", locations={
            "/cert/": "+ExportCertData",
            "/minus/": "-StdEnvVars",
            "/defaults/": "Defaults",
            "/replace/": "ExportCertData",
            "/noop/": "-ExportCertData",
            "/mixed/": "-StdEnvVars +ExportCertData",
        })
        env.serve(body, listen=[env.tls_port])

    @pytest.mark.parametrize("host,path,want", [
        # no TLSOptions anywhere: the four variables only
        ("opts.example.org", "/cgi-bin/envjson.py", NONE),
        ("opts.example.org", "/std/envjson.py", STD),
        ("opts.example.org", "/cert/envjson.py", CERT),
        ("opts.example.org", "/both/envjson.py", BOTH),  # a list without +/-
        ("opts.example.org", "/both/less/envjson.py", STD),  # -X in a nested section
        ("opts.example.org", "/minus/envjson.py", NONE),
        ("opts.example.org", "/defaults/envjson.py", NONE),
        # the vhost's +StdEnvVars holds in sections that do not change it
        ("opts-std.example.org", "/cgi-bin/envjson.py", STD),
        ("opts-std.example.org", "/cert/envjson.py", BOTH),
        ("opts-std.example.org", "/minus/envjson.py", NONE),
        ("opts-std.example.org", "/defaults/envjson.py", NONE),
        ("opts-std.example.org", "/replace/envjson.py", CERT),
        ("opts-std.example.org", "/noop/envjson.py", STD),
        ("opts-std.example.org", "/mixed/envjson.py", CERT),
        # <Directory> +ExportCertData, and <Files envfiles.py> -StdEnvVars in it
        ("opts.example.org", "/dir/envjson.py", CERT),
        ("opts.example.org", "/dir/envfiles.py", CERT),
        ("opts-std.example.org", "/dir/envjson.py", BOTH),
        ("opts-std.example.org", "/dir/envfiles.py", CERT),
        # .htaccess (AllowOverride Options)
        ("opts.example.org", "/ht/plain/envjson.py", NONE),
        ("opts.example.org", "/ht/std/envjson.py", STD),
        ("opts.example.org", "/ht/replace/envjson.py", CERT),
        ("opts.example.org", "/ht/minus/envjson.py", NONE),
        ("opts-std.example.org", "/ht/plain/envjson.py", STD),
        ("opts-std.example.org", "/ht/std/envjson.py", STD),
        ("opts-std.example.org", "/ht/replace/envjson.py", CERT),
        ("opts-std.example.org", "/ht/minus/envjson.py", NONE),
    ])
    def test_11_options(self, env, creds, host, path, want):
        e = get_env(env, host, path)
        assert options_in_effect(e) == want
        assert_lookups_regardless(e, creds["plain"])

    def test_11_std_values_with_option(self, env, creds):
        e = get_env(env, "opts.example.org", "/both/envjson.py")
        view = openssl_view(creds["plain"])
        assert {k: e.get(k) for k in view} == view
        assert e.get("SSL_VERSION_INTERFACE") == f"mod_tls/{module_version()}"

    def test_11_htaccess_unknown_option(self, env):
        mark = env.log_mark()
        resp, _ = env.http_request(env.tls_port, "/ht/bad/envjson.py", sni="opts.example.org")
        assert resp.status == 500
        lines = env.wait_log(r"Bogus", mark)
        assert lines and re.search(r"unknown option", lines[0]) and re.search(r"\.htaccess", lines[0]), lines

    def test_11_htaccess_needs_allowoverride_options(self, env):
        mark = env.log_mark()
        resp, _ = env.http_request(env.tls_port, "/ht/fileinfo/envjson.py", sni="opts.example.org")
        assert resp.status == 500
        lines = env.wait_log(r"TLSOptions", mark)
        assert lines and re.search(r"not allowed here", lines[0]), lines


class TestOptionsInServerConfig:
    """TLSOptions of the main server hold in virtual hosts and their sections unless changed."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env, creds):
        make_option_dirs(env)
        body = (options_common(env) + "TLSOptions +StdEnvVars\n"
                + options_vhost(env, "opts.example.org", creds, locations={"/cert/": "+ExportCertData",
                                                                           "/minus/": "-StdEnvVars"})
                + options_vhost(env, "opts-off.example.org", creds, "TLSOptions -StdEnvVars")
                + options_vhost(env, "opts-defaults.example.org", creds, "TLSOptions Defaults")
                + options_vhost(env, "opts-replace.example.org", creds, "TLSOptions ExportCertData")
                + options_vhost(env, "opts-add.example.org", creds, "TLSOptions +ExportCertData",
                                locations={"/minus/": "-StdEnvVars"}))
        env.serve(body, listen=[env.tls_port])

    @pytest.mark.parametrize("host,path,want", [
        ("opts.example.org", "/cgi-bin/envjson.py", STD),
        ("opts.example.org", "/cert/envjson.py", BOTH),
        ("opts.example.org", "/minus/envjson.py", NONE),
        ("opts.example.org", "/ht/plain/envjson.py", STD),
        ("opts.example.org", "/ht/replace/envjson.py", CERT),
        ("opts.example.org", "/dir/envjson.py", BOTH),
        ("opts-off.example.org", "/cgi-bin/envjson.py", NONE),
        ("opts-off.example.org", "/dir/envjson.py", CERT),
        ("opts-off.example.org", "/ht/std/envjson.py", STD),
        ("opts-defaults.example.org", "/cgi-bin/envjson.py", NONE),
        ("opts-replace.example.org", "/cgi-bin/envjson.py", CERT),
        ("opts-add.example.org", "/cgi-bin/envjson.py", BOTH),
        ("opts-add.example.org", "/minus/envjson.py", CERT),
    ])
    def test_11_server_options(self, env, creds, host, path, want):
        e = get_env(env, host, path)
        assert options_in_effect(e) == want
        assert_lookups_regardless(e, creds["plain"])


# ------------------------------------------------------------------ SSL_SESSION_RESUMED

RESUME_LOG = "resume_log"
# one child process: sessions are (for now) only resumed in the child that made them
SINGLE_CHILD = """
<IfModule mpm_event_module>
    StartServers 1
    ServerLimit 1
    MaxRequestWorkers 25
    MinSpareThreads 5
    MaxSpareThreads 25
</IfModule>
"""


class TestOneHost:
    """A port with a single host and a single child process: session resumption (sessions are, for
    now, only resumed by the child that made them) and connections without SNI."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env, creds):
        body = f"""{SINGLE_CHILD}
TLSEngine {env.tls_port}
LogFormat "%{{SSL_SESSION_RESUMED}}x %{{SSL_PROTOCOL}}x %U%q" resumed
CustomLog logs/{RESUME_LOG} resumed
{env.vhost("opts.example.org", env.tls_port, "TLSOptions +StdEnvVars", rewrite_lookups(["SSL_SESSION_RESUMED"]),
           'Header always set X-Resumed "%{SSL_SESSION_RESUMED}s"', certs=[creds["plain"]])}
"""
        env.serve(body, listen=[env.tls_port])

    @pytest.mark.parametrize("flag,version", [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")])
    def test_11_session_resumed(self, env, flag, version):
        sess = os.path.join(env.tmp_dir, f"session{flag}.pem")
        if os.path.exists(sess):
            os.unlink(sess)
        log = os.path.join(env.logs_dir, RESUME_LOG)
        host = "opts.example.org"
        out, how, proto, _, e = s_client_request(env, host, f"/cgi-bin/envjson.py?first{flag}", flag,
                                                 "-sess_out", sess)
        assert (how, proto) == ("New", version), out[-3000:]
        assert e is not None, out[-3000:]
        assert (e.get("SSL_SESSION_RESUMED"), e.get("RW_SSL_SESSION_RESUMED")) == ("Initial", "Initial")
        assert re.search(r"^X-Resumed: Initial\r?$", out, re.M), out[-2000:]
        assert os.path.getsize(sess) > 0

        out, how, proto, _, e = s_client_request(env, host, f"/cgi-bin/envjson.py?second{flag}", flag,
                                                 "-sess_in", sess)
        assert (how, proto) == ("Reused", version), out[-3000:]
        assert e is not None, out[-3000:]
        assert (e.get("SSL_SESSION_RESUMED"), e.get("RW_SSL_SESSION_RESUMED")) == ("Resumed", "Resumed")
        assert re.search(r"^X-Resumed: Resumed\r?$", out, re.M), out[-2000:]
        assert "SSL_SESSION_ID" not in e

        assert env.wait_log(rf"\?first{flag}$", 0, path=log) == [
            f"Initial {version} /cgi-bin/envjson.py?first{flag}"]
        assert env.wait_log(rf"\?second{flag}$", 0, path=log) == [
            f"Resumed {version} /cgi-bin/envjson.py?second{flag}"]

    def test_11_no_sni(self, env, creds):
        # without SNI there is no SSL_TLS_SNI; the rest is there
        resp, info = env.http_request(env.tls_port, "/cgi-bin/envjson.py", sni=None, host="opts.example.org")
        e = json_env(resp)
        assert (e.get("HTTPS"), e.get("SSL_PROTOCOL"), e.get("SSL_CIPHER")) == (
            "on", info.version, iana_cipher_name(info.cipher))
        assert "SSL_TLS_SNI" not in e
        assert e.get("SSL_SERVER_S_DN_CN") == "opts.example.org"
