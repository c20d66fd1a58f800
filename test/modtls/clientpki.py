"""A client-certificate PKI for the tests of TLSClientCertificate (test_17): a root CA, an
intermediate CA below it, another unrelated root ("wrong CA"), client certificates (valid through
the intermediate or directly from the root, expired, not yet valid, from the wrong CA, revoked)
and CRLs, made with python3-cryptography under SERVER_ROOT/clientpki.

Client credential files: NAME.key (PKCS#8), NAME.crt (the leaf alone), NAME.chain.pem (leaf, then
the intermediate when it has one: what curl --cert sends)."""

import datetime
import os
import subprocess
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .certs import CA_KEY_USAGE

MS_UPN = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _der_utf8(text: str) -> bytes:
    data = text.encode()
    assert len(data) < 128
    return bytes([0x0c, len(data)]) + data


@dataclass
class Ca:
    name: str
    cert: x509.Certificate
    key: object
    cert_file: str


@dataclass
class Client:
    name: str
    cert: x509.Certificate
    key: object
    key_file: str
    cert_file: str
    chain_file: str
    issuer: Ca

    @property
    def serial(self) -> int:
        return self.cert.serial_number


class ClientPki:

    def __init__(self, server_root: str):
        self.dir = os.path.join(server_root, "clientpki")
        os.makedirs(self.dir, mode=0o755, exist_ok=True)
        self.root = self._ca("root", "mod_tls client root CA", None)
        self.inter = self._ca("inter", "mod_tls client intermediate CA", self.root)
        self.wrong = self._ca("wrong", "mod_tls unrelated CA", None)
        self.clients: Dict[str, Client] = {}

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def _write(self, name: str, data: bytes, mode: int = 0o644) -> str:
        p = self.path(name)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return p

    def _ca(self, name: str, cn: str, parent: Optional[Ca]) -> Ca:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example"),
                             x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        now = _now()
        b = (x509.CertificateBuilder().subject_name(subject)
             .issuer_name(parent.cert.subject if parent else subject)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(days=30)).not_valid_after(now + datetime.timedelta(days=365))
             .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
             .add_extension(CA_KEY_USAGE, critical=True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
        if parent:
            b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(parent.key.public_key()),
                                critical=False)
        cert = b.sign(parent.key if parent else key, hashes.SHA256())
        f = self._write(f"{name}-ca.crt", cert.public_bytes(serialization.Encoding.PEM))
        return Ca(name, cert, key, f)

    def client(self, name: str, issuer: Optional[Ca] = None, *, days_valid=(-1, 30),
               subject: Optional[Sequence] = None, emails: Sequence[str] = (), upns: Sequence[str] = (),
               dns: Sequence[str] = ()) -> Client:
        """The client certificate NAME (made on first use) issued by `issuer` (default: the
        intermediate), valid from now+days_valid[0] days to now+days_valid[1] days and 12 hours."""
        if name in self.clients:
            return self.clients[name]
        issuer = issuer or self.inter
        key = ec.generate_private_key(ec.SECP256R1())
        attrs = subject or [(NameOID.COUNTRY_NAME, "DE"), (NameOID.ORGANIZATION_NAME, "Example"),
                            (NameOID.COMMON_NAME, name)]
        now = _now()
        sans: List[x509.GeneralName] = [x509.RFC822Name(e) for e in emails]
        sans += [x509.DNSName(d) for d in dns]
        sans += [x509.OtherName(MS_UPN, _der_utf8(u)) for u in upns]
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(o, v) for o, v in attrs]))
             .issuer_name(issuer.cert.subject).public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(now + datetime.timedelta(days=days_valid[0]))
             # half a day more: SSL_CLIENT_V_REMAIN (whole days) then stays the same for two
             # requests made in consecutive seconds right after the certificate is made
             .not_valid_after(now + datetime.timedelta(days=days_valid[1], hours=12))
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
                            critical=False))
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = b.sign(issuer.key, hashes.SHA256())
        pem = cert.public_bytes(serialization.Encoding.PEM)
        below_root = issuer.cert.issuer != issuer.cert.subject
        chain = pem + (issuer.cert.public_bytes(serialization.Encoding.PEM) if below_root else b"")
        key_file = self._write(f"{name}.key", key.private_bytes(serialization.Encoding.PEM,
                                                                 serialization.PrivateFormat.PKCS8,
                                                                 serialization.NoEncryption()), 0o600)
        c = Client(name, cert, key, key_file, self._write(f"{name}.crt", pem),
                   self._write(f"{name}.chain.pem", chain), issuer)
        self.clients[name] = c
        return c

    def intermediate(self, name: str, cn: str) -> Ca:
        """Another intermediate CA below the root."""
        return self._ca(name, cn, self.root)

    def crl(self, ca: Ca, revoked: Sequence = (), *, next_update_days: float = 7,
            der: bool = False, extensions: bool = True, number: int = 1) -> bytes:
        """A CRL of `ca` listing `revoked` (Clients or Cas), PEM (or DER). With `extensions` (the default) it has a
        CRL number and an authority key identifier, as RFC 5280 requires (rustls-webpki refuses
        CRLs without extensions)."""
        now = _now()
        b = (x509.CertificateRevocationListBuilder().issuer_name(ca.cert.subject)
             .last_update(now - datetime.timedelta(days=max(2, -next_update_days + 2)))
             .next_update(now + datetime.timedelta(days=next_update_days)))
        if extensions:
            b = (b.add_extension(x509.CRLNumber(number), critical=False)
                 .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                                critical=False))
        for c in revoked:
            b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(c.cert.serial_number)
                                          .revocation_date(now - datetime.timedelta(hours=1)).build())
        crl = b.sign(ca.key, hashes.SHA256())
        return crl.public_bytes(serialization.Encoding.DER if der else serialization.Encoding.PEM)

    def write(self, name: str, data: bytes) -> str:
        return self._write(name, data)

    def rehash_dir(self, name: str, files: Dict[str, bytes]) -> str:
        """A directory NAME holding `files`, hashed with `openssl rehash` (as for mod_ssl's
        SSLCACertificatePath / SSLCARevocationPath); returns its path."""
        d = self.path(name)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        for fname, data in files.items():
            with open(os.path.join(d, fname), "wb") as f:
                f.write(data)
        subprocess.run(["openssl", "rehash", d], check=True, timeout=30, capture_output=True)
        return d
