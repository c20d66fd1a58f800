"""Client certificates (issue 13): TLSClientCertificate none/optional/required, TLSClientCA (file,
hashed directory), TLSClientCRL (PEM, DER, directory), each failure's alert and log line, the
SSL_CLIENT_* variables (also against mod_ssl for the same certificate), TLSUserName, access
control through ap_expr / Require / <If> / mod_rewrite, 421 and no resumption across hosts with
different settings, resumed sessions keeping the identity, CRL updates on graceful restart.

Ports: env.port_base + 200 .. 202 (the range of this feature)."""

import json
import os
import re
import socket
import ssl
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from modtls.clientpki import ClientPki
from modtls.http import HttpConnection

REQ = "req.example.org"
OPT = "opt.example.org"
NONE = "none.example.org"
OTHER = "other.example.org"   # required as well, but another CA: a different TLS setup
SSL_HOST = "ssl.example.org"

ENV_OPTS = "TLSOptions +StdEnvVars +ExportCertData"

ALICE_SUBJECT = [(NameOID.COUNTRY_NAME, "DE"), (NameOID.STATE_OR_PROVINCE_NAME, "Hessen"),
                 (NameOID.LOCALITY_NAME, "Frankfurt am Main"), (NameOID.ORGANIZATION_NAME, "Example"),
                 (NameOID.ORGANIZATIONAL_UNIT_NAME, "IT"), (NameOID.ORGANIZATIONAL_UNIT_NAME, "Admins, \"Ops\""),
                 (NameOID.COMMON_NAME, "alice"), (NameOID.EMAIL_ADDRESS, "alice@example.org")]

# looked up one by one through ap_ssl_var_lookup (mod_headers %{...}s), on both modules
LOOKUPS = ["SSL_CLIENT_VERIFY", "SSL_CLIENT_M_VERSION", "SSL_CLIENT_M_SERIAL", "SSL_CLIENT_S_DN",
           "SSL_CLIENT_S_DN_CN", "SSL_CLIENT_S_DN_CN_0", "SSL_CLIENT_S_DN_OU", "SSL_CLIENT_S_DN_OU_1",
           "SSL_CLIENT_S_DN_SP", "SSL_CLIENT_S_DN_ST", "SSL_CLIENT_S_DN_Email", "SSL_CLIENT_I_DN",
           "SSL_CLIENT_I_DN_CN", "SSL_CLIENT_V_START", "SSL_CLIENT_V_END", "SSL_CLIENT_V_REMAIN",
           "SSL_CLIENT_A_SIG", "SSL_CLIENT_A_KEY", "SSL_CLIENT_SAN_Email_0", "SSL_CLIENT_SAN_Email_1",
           "SSL_CLIENT_SAN_DNS_0", "SSL_CLIENT_SAN_OTHER_msUPN_0", "SSL_CLIENT_S_DN_UID"]
# mod_ssl has it, mod_tls does not (docs/client-certificates.md)
NOT_IN_MOD_TLS = {"SSL_CLIENT_CERT_RFC4523_CEA"}


def lookup_headers():
    return "\n".join(f'Header always set X-{n} "%{{{n}}}s"' for n in LOOKUPS)


def ports(env):
    return env.port_base + 200, env.port_base + 201, env.port_base + 202


@pytest.fixture(scope="module")
def pki(env):
    p = ClientPki(env.server_root)
    p.client("alice", subject=ALICE_SUBJECT, emails=["alice@example.org", "a.l@example.org"],
             upns=["alice@corp.example.org"], dns=["alice.example.org"])
    p.client("bob", p.root)                            # directly below the root
    p.client("expired", days_valid=(-30, -1))
    p.client("notyet", days_valid=(2, 30))
    p.client("stranger", p.wrong)
    p.client("revoked")
    # carol's CA is revoked by the root: the CRL file holds both CRLs
    p.client("carol", p.intermediate("inter2", "mod_tls revoked intermediate CA"))
    p.write("inter.crl.pem", p.crl(p.inter, [p.clients["revoked"]])
            + p.crl(p.root, [p.clients["carol"].issuer]))
    p.write("root.crl.pem", p.crl(p.root, []))
    return p


def client_ctx(env, client=None, **kw):
    ctx = env.tls_context(**kw)
    if client is not None:
        ctx.load_cert_chain(client.chain_file, client.key_file)
    return ctx


def request(env, port, sni, path="/cgi-bin/env.py", client=None, host=None, session=None, ctx=None, **kw):
    """One GET on a new connection with `client`'s certificate (None: none). Returns
    (response, ssl socket info dict); raises ssl.SSLError / OSError when the server refuses."""
    ctx = ctx or client_ctx(env, client, **kw)
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    with ctx.wrap_socket(sock, server_hostname=sni, session=session) as s:
        conn = HttpConnection(s, 10)
        resp = conn.request(path, f"{host or sni}:{port}", close=True)
        return resp, {"session": s.session, "reused": s.session_reused, "version": s.version()}


def failure(env, port, sni, client=None, **kw):
    """The error of a request the server must refuse (the handshake alert as the client saw it)."""
    try:
        resp, _ = request(env, port, sni, "/", client=client, **kw)
    except (ssl.SSLError, OSError) as e:
        return str(e)
    pytest.fail(f"request with {client and client.name} to {sni} succeeded: {resp.status}")


def vhost_lines(pki, mode, *extra, ca=None, crl=True):
    lines = [f"TLSClientCertificate {mode}"]
    if mode != "none" or ca:
        lines.append(f"TLSClientCA {ca or pki.root.cert_file}")
    if crl:
        lines.append(f"TLSClientCRL {pki.path('inter.crl.pem')}")
    return lines + [ENV_OPTS] + list(extra)


class TestVerify:
    """required / optional / none on one port, chains through the intermediate, each failure."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env, pki):
        p, _, _ = ports(env)
        certs = {n: env.certs.get(n) for n in (REQ, OPT, NONE)}
        body = f"TLSEngine {p}\n"
        body += env.vhost(REQ, p, *vhost_lines(pki, "required"), certs=[certs[REQ]])
        body += env.vhost(OPT, p, *vhost_lines(pki, "optional"), certs=[certs[OPT]])
        body += env.vhost(NONE, p, ENV_OPTS, certs=[certs[NONE]])
        env.serve(body, listen=[p])

    @pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
    @pytest.mark.parametrize("who", ["alice", "bob"])
    def test_21_required_valid(self, env, pki, version, who):
        p, _, _ = ports(env)
        c = pki.clients[who]
        resp, info = request(env, p, REQ, client=c, min_version=version, max_version=version)
        assert resp.status == 200
        e = resp.env()
        assert e["SSL_CLIENT_VERIFY"] == "SUCCESS"
        assert e["SSL_CLIENT_S_DN_CN"] == who
        assert e["SSL_CLIENT_I_DN_CN"] == c.issuer.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        assert info["version"] == version

    def test_21_required_no_cert_tls13(self, env, pki):
        p, _, _ = ports(env)
        mark = env.log_mark()
        err = failure(env, p, REQ, min_version="TLSv1.3")
        assert "CERTIFICATE_REQUIRED" in err.upper().replace(" ", "_"), err
        lines = env.wait_log(r"MTLS0301", mark)
        assert len(lines) == 1 and "[tls:info]" in lines[0], lines
        assert not env.log_errors(mark, "tls")

    def test_21_required_no_cert_tls12(self, env, pki):
        p, _, _ = ports(env)
        mark = env.log_mark()
        err = failure(env, p, REQ, max_version="TLSv1.2")
        # rustls sends certificate_required (116, a TLS 1.3 alert) in TLS 1.2 too; OpenSSL
        # clients take it (mod_ssl sends handshake_failure there)
        assert "CERTIFICATE_REQUIRED" in err.upper().replace(" ", "_"), err
        env.wait_log(r"MTLS0301", mark)
        assert not env.log_errors(mark, "tls")

    @pytest.mark.parametrize("who,alert,cause", [
        ("expired", "CERTIFICATE_EXPIRED", "Expired"),
        ("notyet", "CERTIFICATE_EXPIRED", "NotValidYet"),
        ("stranger", "UNKNOWN_CA", "UnknownIssuer"),
        ("revoked", "CERTIFICATE_REVOKED", "Revoked"),
        ("carol", "CERTIFICATE_REVOKED", "Revoked"),   # her intermediate is revoked
    ])
    @pytest.mark.parametrize("host", [REQ, OPT])
    def test_21_refused(self, env, pki, who, alert, cause, host):
        p, _, _ = ports(env)
        mark = env.log_mark()
        err = failure(env, p, host, client=pki.clients[who], min_version="TLSv1.3")
        assert alert in err.upper().replace(" ", "_"), err
        lines = env.wait_log(r"MTLS0301", mark)
        assert len(lines) == 1, lines
        assert "[tls:info]" in lines[0] and cause in lines[0], lines
        assert not env.log_errors(mark, "tls")

    def test_21_refused_tls12(self, env, pki):
        p, _, _ = ports(env)
        err = failure(env, p, REQ, client=pki.clients["revoked"], max_version="TLSv1.2")
        assert "CERTIFICATE_REVOKED" in err.upper().replace(" ", "_"), err

    def test_21_optional_without_cert(self, env, pki):
        p, _, _ = ports(env)
        resp, _ = request(env, p, OPT)
        assert resp.status == 200
        e = resp.env()
        assert e["SSL_CLIENT_VERIFY"] == "NONE"
        assert e.get("SSL_CLIENT_CERT") == ""  # as mod_ssl with ExportCertData
        assert not [k for k in e if k.startswith("SSL_CLIENT_") and k not in ("SSL_CLIENT_VERIFY", "SSL_CLIENT_CERT")]

    def test_21_optional_with_cert(self, env, pki):
        p, _, _ = ports(env)
        resp, _ = request(env, p, OPT, client=pki.clients["alice"])
        assert resp.env()["SSL_CLIENT_S_DN_CN"] == "alice"

    def test_21_none_does_not_ask(self, env, pki):
        p, _, _ = ports(env)
        s = env.s_client(p, "-cert", pki.clients["alice"].cert_file, "-key", pki.clients["alice"].key_file,
                         sni=NONE, input=b"")
        assert s.handshake_ok, str(s)
        assert "Acceptable client certificate CA names" not in s.exec.output
        resp, _ = request(env, p, NONE, client=pki.clients["alice"])
        assert resp.env()["SSL_CLIENT_VERIFY"] == "NONE"

    def test_21_ca_names_sent(self, env, pki):
        """The CertificateRequest names the CAs of TLSClientCA."""
        p, _, _ = ports(env)
        s = env.s_client(p, "-tls1_3", sni=REQ, input=b"")
        out = s.exec.output
        assert "Acceptable client certificate CA names" in out, out
        assert "mod_tls client root CA" in out, out

    def test_21_s_client_chain(self, env, pki):
        """openssl s_client sending leaf + intermediate (-cert_chain)."""
        p, _, _ = ports(env)
        a = pki.clients["alice"]
        s = env.s_client(p, "-cert", a.cert_file, "-key", a.key_file, "-cert_chain", pki.inter.cert_file,
                         "-tls1_3", "-ign_eof", sni=REQ,
                         input=f"GET /cgi-bin/env.py HTTP/1.1\r\nHost: {REQ}\r\nConnection: close\r\n\r\n".encode())
        assert "SSL_CLIENT_S_DN_CN=alice" in s.exec.output, s.exec.output
        # without the intermediate the chain cannot be built: refused
        s = env.s_client(p, "-cert", a.cert_file, "-key", a.key_file, "-tls1_3", "-ign_eof", sni=REQ,
                         input=f"GET / HTTP/1.1\r\nHost: {REQ}\r\nConnection: close\r\n\r\n".encode())
        assert "unknown ca" in s.exec.output.lower(), s.exec.output

    def test_21_http2(self, env, pki):
        """HTTP/2 streams see the connection's client certificate (from other threads)."""
        p, _, _ = ports(env)
        a = pki.clients["alice"]
        urls = [env.url(REQ, p, f"/cgi-bin/env.py?{i}") for i in range(4)]
        r = env.curl(urls, "--http2", "--cert", a.chain_file, "--key", a.key_file)
        assert r.rc == 0, str(r)
        assert [x.http_version for x in r.responses] == ["2"] * 4
        assert r.responses[0].num_connects == 1
        for x in r.responses:
            assert "SSL_CLIENT_S_DN_CN=alice" in x.text and "SSL_CLIENT_VERIFY=SUCCESS" in x.text

    def test_21_curl(self, env, pki):
        p, _, _ = ports(env)
        a = pki.clients["alice"]
        r = env.curl(env.url(REQ, p, "/cgi-bin/env.py"), "--cert", a.chain_file, "--key", a.key_file)
        assert r.rc == 0, str(r)
        assert "SSL_CLIENT_S_DN_CN=alice" in r.response.text
        r = env.curl(env.url(REQ, p, "/"))
        assert r.rc != 0


class TestConfigErrors:

    @pytest.fixture(scope="class", autouse=True)
    def stop(self, env):
        env.stop()

    def start_fails(self, env, pki, *lines, name=REQ):
        p, _, _ = ports(env)
        env.write_config(f"TLSEngine {p}\n" + env.vhost(name, p, *lines, certs=[env.certs.get(name)]),
                         listen=[p])
        return env.start_expect_failure()

    def test_21_required_without_ca(self, env, pki):
        out = self.start_fails(env, pki, "TLSClientCertificate required")
        assert "TLSClientCertificate required needs TLSClientCA" in out, out

    def test_21_optional_without_ca(self, env, pki):
        out = self.start_fails(env, pki, "TLSClientCertificate optional")
        assert "TLSClientCertificate optional needs TLSClientCA" in out, out

    def test_21_bad_mode(self, env, pki):
        out = self.start_fails(env, pki, "TLSClientCertificate require")
        assert "TLSClientCertificate: 'require' is not one of none, optional, required" in out, out

    def test_21_ca_missing(self, env, pki):
        out = self.start_fails(env, pki, "TLSClientCertificate required", "TLSClientCA clientpki/nope.pem")
        assert "TLSClientCA: cannot access" in out and "nope.pem" in out, out

    def test_21_ca_not_a_cert(self, env, pki):
        f = pki.write("not-a-ca.pem", pki.crl(pki.root))
        out = self.start_fails(env, pki, "TLSClientCertificate required", f"TLSClientCA {f}")
        assert "holds no CA certificate" in out, out

    def test_21_crl_garbage(self, env, pki):
        f = pki.write("garbage.crl", b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n")
        out = self.start_fails(env, pki, "TLSClientCertificate required", f"TLSClientCA {pki.root.cert_file}",
                               f"TLSClientCRL {f}")
        assert "TLSClientCRL" in out and "garbage.crl" in out, out

    def test_21_crl_der_garbage(self, env, pki):
        f = pki.write("garbage.der", b"\x30\x03\x02\x01\x01")
        out = self.start_fails(env, pki, "TLSClientCertificate required", f"TLSClientCA {pki.root.cert_file}",
                               f"TLSClientCRL {f}")
        assert "cannot be parsed" in out and "garbage.der" in out, out

    def test_21_crl_without_extensions(self, env, pki):
        """What `openssl ca -gencrl` makes without a crlnumber file: rustls-webpki refuses it."""
        f = pki.write("v1.crl", pki.crl(pki.inter, extensions=False))
        out = self.start_fails(env, pki, "TLSClientCertificate required", f"TLSClientCA {pki.root.cert_file}",
                               f"TLSClientCRL {f}")
        assert "v1.crl" in out and "version 2 CRLs with extensions" in out, out

    def test_21_crl_unreadable(self, env, pki):
        out = self.start_fails(env, pki, "TLSClientCertificate required", f"TLSClientCA {pki.root.cert_file}",
                               "TLSClientCRL clientpki/missing.crl")
        assert "TLSClientCRL: cannot access" in out, out

    def test_21_crl_not_a_crl(self, env, pki):
        out = self.start_fails(env, pki, "TLSClientCertificate required", f"TLSClientCA {pki.root.cert_file}",
                               f"TLSClientCRL {pki.root.cert_file}")
        assert "holds no CRL" in out, out

    def test_21_not_in_directory(self, env, pki):
        out = self.start_fails(env, pki, "<Location /x>", "TLSClientCertificate required", "</Location>")
        assert "TLSClientCertificate" in out and "not allowed" in out, out


JSON_CGI = """#!/usr/bin/python3
import json, os
print("Content-Type: application/json")
print()
print(json.dumps({k: v for k, v in os.environ.items()
                  if k.startswith("SSL_CLIENT_CERT") and k != "SSL_CLIENT_CERT_RFC4523_CEA"}))
"""


def json_env(env, port, sni, client, prefix="/cgi-bin", **kw):
    """SSL_CLIENT_CERT and SSL_CLIENT_CERT_CHAIN_n from the request environment, in full."""
    path = os.path.join(env.cgi_dir, "certenv.py")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(JSON_CGI)
        os.chmod(path, 0o755)
    resp, _ = request(env, port, sni, f"{prefix}/certenv.py", client=client, **kw)
    assert resp.status == 200
    return json.loads(resp.body)


def client_env(resp):
    return {k: v for k, v in resp.env().items() if k.startswith("SSL_CLIENT_")}


class TestVariables:
    """Every SSL_CLIENT_* variable for the same client certificate from mod_tls and mod_ssl."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env, pki):
        p, _, p_ssl = ports(env)
        ssl_cred = env.certs.get(SSL_HOST)
        body = f"TLSEngine {p}\n"
        body += env.vhost(REQ, p, *vhost_lines(pki, "optional"), lookup_headers(), certs=[env.certs.get(REQ)])
        body += env.vhost(SSL_HOST, p_ssl, "SSLEngine on", ssl_cred.ssl_lines(), "SSLVerifyClient optional",
                          f"SSLCACertificateFile {pki.root.cert_file}", "SSLVerifyDepth 5",
                          "SSLOptions +StdEnvVars +ExportCertData", lookup_headers())
        env.serve(body, listen=[p, p_ssl], mod_ssl=True)

    @pytest.mark.parametrize("who", ["alice", "bob"])
    @pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
    def test_21_same_as_mod_ssl(self, env, pki, who, version):
        p, _, p_ssl = ports(env)
        c = pki.clients[who]
        kw = dict(min_version=version, max_version=version)
        tls, _ = request(env, p, REQ, client=c, **kw)
        mod_ssl, _ = request(env, p_ssl, SSL_HOST, client=c, **kw)
        assert tls.status == mod_ssl.status == 200
        want = {k: v for k, v in client_env(mod_ssl).items() if k not in NOT_IN_MOD_TLS}
        have = client_env(tls)
        assert have == want
        assert have["SSL_CLIENT_S_DN_CN"] == who
        for n in LOOKUPS:
            assert tls.header(f"X-{n}") == mod_ssl.header(f"X-{n}"), n
        # the certificates in full (env.py prints only their first line)
        tls_pem = json_env(env, p, REQ, c, **kw)
        assert tls_pem == json_env(env, p_ssl, SSL_HOST, c, **kw)
        assert tls_pem["SSL_CLIENT_CERT"].encode() == c.cert.public_bytes(serialization.Encoding.PEM)
        if who == "alice":
            assert have["SSL_CLIENT_SAN_OTHER_msUPN_0"] == "alice@corp.example.org"
            assert have["SSL_CLIENT_SAN_Email_1"] == "a.l@example.org"
            assert tls.header("X-SSL_CLIENT_S_DN_OU_1") == 'Admins, "Ops"'
            assert tls_pem["SSL_CLIENT_CERT_CHAIN_0"].encode() == pki.inter.cert.public_bytes(
                serialization.Encoding.PEM)
            assert "SSL_CLIENT_CERT_CHAIN_1" not in tls_pem
        else:
            assert "SSL_CLIENT_CERT_CHAIN_0" not in tls_pem

    def test_21_without_cert_same_as_mod_ssl(self, env, pki):
        p, _, p_ssl = ports(env)
        tls, _ = request(env, p, REQ)
        mod_ssl, _ = request(env, p_ssl, SSL_HOST)
        # with ExportCertData both set SSL_CLIENT_CERT, empty
        assert client_env(tls) == client_env(mod_ssl) == {"SSL_CLIENT_VERIFY": "NONE", "SSL_CLIENT_CERT": ""}
        for n in LOOKUPS:
            assert tls.header(f"X-{n}") == mod_ssl.header(f"X-{n}"), n


class TestExport:
    """Which SSL_CLIENT_* go into the environment with which TLSOptions."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env, pki):
        p, _, _ = ports(env)
        base = [f"TLSClientCertificate required", f"TLSClientCA {pki.root.cert_file}"]
        body = f"TLSEngine {p}\n"
        body += env.vhost(REQ, p, *base, "<Location /cgi-bin/std>", "TLSOptions StdEnvVars", "</Location>",
                          "<Location /cgi-bin/cert>", "TLSOptions ExportCertData", "</Location>",
                          'ScriptAlias /cgi-bin/std/ "%s/"' % env.cgi_dir,
                          'ScriptAlias /cgi-bin/cert/ "%s/"' % env.cgi_dir,
                          certs=[env.certs.get(REQ)])
        env.serve(body, listen=[p])

    def test_21_export(self, env, pki):
        p, _, _ = ports(env)
        a = pki.clients["alice"]
        plain = client_env(request(env, p, REQ, client=a)[0])
        assert plain == {}
        std = client_env(request(env, p, REQ, "/cgi-bin/std/env.py", client=a)[0])
        assert std["SSL_CLIENT_S_DN_CN"] == "alice" and std["SSL_CLIENT_VERIFY"] == "SUCCESS"
        assert "SSL_CLIENT_V_REMAIN" in std
        assert not [k for k in std if k.startswith("SSL_CLIENT_CERT")]
        cert = client_env(request(env, p, REQ, "/cgi-bin/cert/env.py", client=a)[0])
        assert set(cert) == {"SSL_CLIENT_CERT", "SSL_CLIENT_CERT_CHAIN_0"}
        cert = json_env(env, p, REQ, a, prefix="/cgi-bin/cert")
        assert cert["SSL_CLIENT_CERT"].encode() == a.cert.public_bytes(serialization.Encoding.PEM)
        assert cert["SSL_CLIENT_CERT_CHAIN_0"].encode() == pki.inter.cert.public_bytes(serialization.Encoding.PEM)


class TestResume:
    """A resumed session keeps the client's identity; a session never resumes on a setup with
    other client-certificate settings (same SNI name on another port: rustls itself refuses
    sessions of another name)."""

    TICKETS = "on"

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env, pki):
        p, p2, _ = ports(env)
        cred = env.certs.get(REQ)
        resumed = 'Header always set X-Resumed "%{SSL_SESSION_RESUMED}s"'
        body = f"TLSSessionTickets {self.TICKETS}\nTLSEngine {p}\nTLSEngine {p2}\n"
        body += env.vhost(REQ, p, *vhost_lines(pki, "optional"), resumed, certs=[cred])
        body += env.vhost(REQ, p2, "TLSClientCertificate none", ENV_OPTS, resumed, certs=[cred],
                          docroot=env.vhost_docroot(REQ))
        env.serve(body, listen=[p, p2], modules=["socache_shmcb"])

    @pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
    def test_21_resumed_keeps_identity(self, env, pki, version):
        p, _, _ = ports(env)
        ctx = client_ctx(env, pki.clients["alice"], min_version=version, max_version=version)
        first, info = request(env, p, REQ, ctx=ctx)
        assert first.header("X-Resumed") == "Initial"
        assert first.env()["SSL_CLIENT_S_DN_CN"] == "alice"
        again, info2 = request(env, p, REQ, ctx=ctx, session=info["session"])
        assert info2["reused"] and again.header("X-Resumed") == "Resumed"
        assert client_env(again) == client_env(first)

    @pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
    def test_21_no_resumption_across_settings(self, env, pki, version):
        p, p2, _ = ports(env)
        ctx = client_ctx(env, pki.clients["alice"], min_version=version, max_version=version)
        first, info = request(env, p, REQ, ctx=ctx)
        assert first.env()["SSL_CLIENT_VERIFY"] == "SUCCESS"
        other, info2 = request(env, p2, REQ, ctx=ctx, session=info["session"])
        assert not info2["reused"] and other.header("X-Resumed") == "Initial"
        assert other.env()["SSL_CLIENT_VERIFY"] == "NONE"
        # and the other way round: a session without a certificate does not resume where one is asked
        plain_ctx = client_ctx(env, None, min_version=version, max_version=version)
        _, info3 = request(env, p2, REQ, ctx=plain_ctx)
        back, info4 = request(env, p, REQ, ctx=plain_ctx, session=info3["session"])
        assert not info4["reused"] and back.header("X-Resumed") == "Initial"



class TestResumeFromCache(TestResume):
    """The same without tickets: sessions (and their client certificates) come from the
    session cache (TLS 1.2 session ids, TLS 1.3 stateful sessions)."""

    TICKETS = "off"

ACCESS_CONF = r"""TLSUserName SSL_CLIENT_S_DN_CN
<Location /admin>
    Require expr %{SSL_CLIENT_VERIFY} == 'SUCCESS'
</Location>
<Location /example>
    <If "%{SSL_CLIENT_S_DN_O} == 'Example' && %{SSL:SSL_CLIENT_S_DN_CN} == 'alice'">
        Require all granted
    </If>
    <Else>
        Require all denied
    </Else>
</Location>
<Location /sslrequire>
    # what mod_ssl's SSLRequire did, as ap_expr
    Require expr "%{SSL_CLIENT_S_DN_OU} in {'IT', 'Sales'} && %{SSL_CLIENT_I_DN_CN} =~ /intermediate/"
</Location>
<Location /user>
    Require expr %{SSL_CLIENT_S_DN_CN} == 'bob'
</Location>
RewriteEngine on
RewriteCond %{SSL:SSL_CLIENT_S_DN_CN} ^bob$
RewriteRule ^/rewrite/ - [F]
"""


class TestAccess:
    """TLSUserName and access control through ap_expr, Require, <If> and mod_rewrite."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env, pki):
        p, _, _ = ports(env)
        docroot = env.vhost_docroot(REQ)
        for d in ("admin", "example", "sslrequire", "user", "rewrite"):
            env.write_doc(f"{d}/index.html", f"{d}\n".encode(), docroot=docroot)
        body = f"TLSEngine {p}\n"
        body += env.vhost(REQ, p, *vhost_lines(pki, "optional"), ACCESS_CONF, certs=[env.certs.get(REQ)])
        env.serve(body, listen=[p])

    def status(self, env, pki, path, who):
        p, _, _ = ports(env)
        resp, _ = request(env, p, REQ, path, client=pki.clients[who] if who else None)
        return resp.status

    @pytest.mark.parametrize("path,allowed", [
        ("/admin/", {"alice", "bob"}),
        ("/example/", {"alice"}),
        ("/sslrequire/", {"alice"}),
        ("/user/", {"bob"}),
        ("/rewrite/", {"alice", None}),
        ("/", {"alice", "bob", None}),
    ])
    def test_21_access(self, env, pki, path, allowed):
        for who in ("alice", "bob", None):
            want = 200 if who in allowed else 403
            assert self.status(env, pki, path, who) == want, (path, who)

    def test_21_user_name(self, env, pki):
        p, _, _ = ports(env)
        mark = env.log_mark(env.access_log)
        resp, _ = request(env, p, REQ, "/cgi-bin/env.py?user", client=pki.clients["alice"])
        assert resp.env()["REMOTE_USER"] == "alice"
        lines = env.wait_log(r"/cgi-bin/env.py\?user", mark, path=env.access_log)
        assert re.match(r"^\S+ \S+ alice \[", lines[0]), lines
        resp, _ = request(env, p, REQ, "/cgi-bin/env.py?nouser")
        assert "REMOTE_USER" not in resp.env()
        lines = env.wait_log(r"/cgi-bin/env.py\?nouser", mark, path=env.access_log)
        assert re.match(r"^\S+ \S+ - \[", lines[0]), lines


class TestHostsAndFiles:
    """421 between hosts with other client-certificate settings; CA and CRL directories made
    by `openssl rehash`, DER CRLs; CRL updates on graceful restart; expired CRLs."""

    @pytest.fixture(scope="class", autouse=True)
    def server(self, env, pki):
        p, _, _ = ports(env)
        ca_dir = pki.rehash_dir("cadir", {"root.pem": pki.root.cert.public_bytes(serialization.Encoding.PEM)})
        crl_dir = pki.rehash_dir("crldir", {"inter.crl": pki.crl(pki.inter, [pki.clients["revoked"]])})
        pki.write("live.crl.der", pki.crl(pki.inter, [], der=True))
        body = f"TLSEngine {p}\n"
        body += env.vhost(REQ, p, "TLSClientCertificate required", f"TLSClientCA {ca_dir}",
                          f"TLSClientCRL {crl_dir}", ENV_OPTS, certs=[env.certs.get(REQ)])
        body += env.vhost(OPT, p, "TLSClientCertificate required", f"TLSClientCA {pki.root.cert_file}",
                          f"TLSClientCRL {pki.path('live.crl.der')}", ENV_OPTS, certs=[env.certs.get(OPT)])
        body += env.vhost(NONE, p, ENV_OPTS, certs=[env.certs.get(OPT)])   # same certificate as OPT
        env.serve(body, listen=[p])

    def test_21_directories(self, env, pki):
        p, _, _ = ports(env)
        assert sorted(os.listdir(pki.path("cadir")))[0].endswith(".0")
        assert [f for f in os.listdir(pki.path("crldir")) if re.match(r"^[0-9a-f]{8}\.r0$", f)]
        resp, _ = request(env, p, REQ, client=pki.clients["alice"])
        assert resp.env()["SSL_CLIENT_S_DN_CN"] == "alice"
        err = failure(env, p, REQ, client=pki.clients["revoked"], min_version="TLSv1.3")
        assert "CERTIFICATE_REVOKED" in err.upper().replace(" ", "_"), err

    def test_21_misdirected(self, env, pki):
        """Same server certificate, other client-certificate settings: 421 both ways."""
        p, _, _ = ports(env)
        a = pki.clients["alice"]
        resp, _ = request(env, p, OPT, "/", client=a, host=NONE)
        assert resp.status == 421
        resp, _ = request(env, p, NONE, "/", host=OPT)
        assert resp.status == 421
        resp, _ = request(env, p, OPT, "/", client=a, host=REQ)
        assert resp.status == 421
        resp, _ = request(env, p, OPT, "/", client=a)
        assert resp.status == 200

    def test_21_crl_update_on_graceful(self, env, pki):
        p, _, _ = ports(env)
        a = pki.clients["alice"]
        ctx = client_ctx(env, a, min_version="TLSv1.3")
        resp, info = request(env, p, OPT, ctx=ctx)
        assert resp.status == 200
        pki.write("live.crl.der", pki.crl(pki.inter, [a], der=True, number=2))
        try:
            env.graceful()
            err = failure(env, p, OPT, client=a, min_version="TLSv1.3")
            assert "CERTIFICATE_REVOKED" in err.upper().replace(" ", "_"), err
            # nor does her session from before the update resume
            try:
                resp, info2 = request(env, p, OPT, ctx=ctx, session=info["session"])
                pytest.fail(f"revoked client's session resumed: {resp.status} reused={info2['reused']}")
            except (ssl.SSLError, OSError):
                pass
        finally:
            pki.write("live.crl.der", pki.crl(pki.inter, [], der=True, number=3))
            env.graceful()
        resp, _ = request(env, p, OPT, client=a)
        assert resp.status == 200

    def test_21_expired_crl_warning(self, env, pki):
        p, _, _ = ports(env)
        f = pki.write("expired.crl.pem", pki.crl(pki.inter, [pki.clients["revoked"]], next_update_days=-1))
        body = f"TLSEngine {p}\n" + env.vhost(REQ, p, "TLSClientCertificate required",
                                               f"TLSClientCA {pki.root.cert_file}", f"TLSClientCRL {f}",
                                               certs=[env.certs.get(REQ)])
        mark = env.log_mark()
        env.serve(body, listen=[p])
        lines = env.log_lines(mark, r"MTLS1301")
        assert len(lines) == 1 and "[tls:warn]" in lines[0] and "expired.crl.pem" in lines[0], lines
        # still applied
        err = failure(env, p, REQ, client=pki.clients["revoked"], min_version="TLSv1.3")
        assert "CERTIFICATE_REVOKED" in err.upper().replace(" ", "_"), err
        resp, _ = request(env, p, REQ, client=pki.clients["alice"])
        assert resp.status == 200
