"""Certificates for the test suite, made with python3-cryptography.

One RSA-2048 test CA issues leaf certificates with the key types rustls 0.23 can serve
(ECDSA P-256 / P-384, RSA-2048, Ed25519). Files live under SERVER_ROOT/certs so the httpd
configuration can name them relative to the ServerRoot.
"""

import datetime
import ipaddress
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_TYPES = ("ec256", "ec384", "rsa2048", "ed25519")


def new_private_key(key_type: str):
    if key_type == "ec256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ec384":
        return ec.generate_private_key(ec.SECP384R1())
    if key_type == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if key_type == "ec521":  # not supported by rustls 0.23: for negative tests
        return ec.generate_private_key(ec.SECP521R1())
    raise ValueError(f"unknown key type {key_type!r}, use one of {KEY_TYPES}")


def key_type_of(cert: x509.Certificate) -> str:
    """The KEY_TYPES name of a certificate's public key."""
    pub = cert.public_key()
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return {"secp256r1": "ec256", "secp384r1": "ec384", "secp521r1": "ec521"}.get(pub.curve.name, pub.curve.name)
    if isinstance(pub, rsa.RSAPublicKey):
        return f"rsa{pub.key_size}"
    if isinstance(pub, ed25519.Ed25519PublicKey):
        return "ed25519"
    return type(pub).__name__


def dns_names_of(cert: x509.Certificate) -> List[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return san.get_values_for_type(x509.DNSName)


def key_pem(key, encryption: Optional[str] = None, password: bytes = b"secret") -> bytes:
    """PEM of a private key: PKCS#8 (default), "traditional" (SEC1 / PKCS#1), or encrypted as
    "pkcs8-encrypted" (BEGIN ENCRYPTED PRIVATE KEY) or "traditional-encrypted" (Proc-Type: 4,ENCRYPTED)."""
    if encryption in (None, "pkcs8"):
        fmt, enc = serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    elif encryption == "traditional":
        fmt, enc = serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    elif encryption == "pkcs8-encrypted":
        fmt, enc = serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(password)
    elif encryption == "traditional-encrypted":
        fmt, enc = serialization.PrivateFormat.TraditionalOpenSSL, serialization.BestAvailableEncryption(password)
    else:
        raise ValueError(f"unknown key encoding {encryption!r}")
    return key.private_bytes(serialization.Encoding.PEM, fmt, enc)


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


# The key usage of every test CA (certificates and CRLs are signed with it).
CA_KEY_USAGE = x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                             content_commitment=False, key_encipherment=False, data_encipherment=False,
                             key_agreement=False, encipher_only=False, decipher_only=False)


@dataclass(frozen=True)
class CertOptions:
    """Optional details of a leaf certificate (CertStore.get): the whole subject as (NameOID,
    value) pairs in order (default: CN=first domain), e-mail addresses for the SAN, a fixed serial
    number, fixed validity dates, or signed by its own key instead of the test CA."""

    subject: Tuple[Tuple[x509.ObjectIdentifier, str], ...] = ()
    emails: Tuple[str, ...] = ()
    serial: Optional[int] = None
    self_signed: bool = False
    not_before: Optional[datetime.datetime] = None  # UTC; default: a day ago
    not_after: Optional[datetime.datetime] = None  # UTC; default: in valid_days
    ocsp_url: Optional[str] = None  # an OCSP responder in the Authority Information Access
    acme_identifier: Optional[bytes] = None  # RFC 8737's critical acmeIdentifier (tls-alpn-01)


@dataclass
class Credential:
    """A certificate and its key as files below the server root."""

    name: str
    key_type: str
    domains: Tuple[str, ...]
    cert_file: str  # absolute
    key_file: str  # absolute
    server_root: str
    cert: x509.Certificate
    key: object

    @property
    def rel_cert(self) -> str:
        return os.path.relpath(self.cert_file, self.server_root)

    @property
    def rel_key(self) -> str:
        return os.path.relpath(self.key_file, self.server_root)

    @property
    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    def tls_line(self) -> str:
        """The TLSCertificate directive for this credential, paths relative to the ServerRoot."""
        return f"TLSCertificate {self.rel_cert} {self.rel_key}"

    def ssl_lines(self) -> str:
        """The mod_ssl equivalent."""
        return f"SSLCertificateFile {self.cert_file}\nSSLCertificateKeyFile {self.key_file}"


class CertStore:
    """Makes and caches credentials; everything is generated on first use."""

    def __init__(self, server_root: str, valid_days: int = 30):
        self.server_root = server_root
        self.dir = os.path.join(server_root, "certs")
        os.makedirs(self.dir, mode=0o755, exist_ok=True)
        self.valid_days = valid_days
        self._creds: Dict[Tuple[str, str], Credential] = {}
        self.ca = self._make_ca()

    @property
    def ca_file(self) -> str:
        return self.ca.cert_file

    def _path(self, name: str, key_type: str, what: str) -> str:
        return os.path.join(self.dir, f"{name}.{key_type}.{what}.pem")

    def _validity(self, builder, opts: Optional["CertOptions"] = None):
        now = datetime.datetime.utcnow()
        opts = opts or CertOptions()
        return (builder.not_valid_before(opts.not_before or now - datetime.timedelta(days=1))
                .not_valid_after(opts.not_after or now + datetime.timedelta(days=self.valid_days)))

    def _make_ca(self) -> Credential:
        key = new_private_key("rsa2048")
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mod_tls tests"),
                             x509.NameAttribute(NameOID.COMMON_NAME, "mod_tls test CA")])
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .add_extension(CA_KEY_USAGE, critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
        cert = self._validity(builder).sign(key, hashes.SHA256())
        cred = Credential("ca", "rsa2048", ("mod_tls test CA",), self._path("ca", "rsa2048", "cert"),
                          self._path("ca", "rsa2048", "key"), self.server_root, cert, key)
        self._write(cred)
        return cred

    def _issue(self, domains: Sequence[str], key, opts: Optional["CertOptions"] = None) -> x509.Certificate:
        opts = opts or CertOptions()
        sans = []
        for d in domains:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(d)))
            except ValueError:
                sans.append(x509.DNSName(d))
        sans += [x509.RFC822Name(e) for e in opts.emails]
        subject = x509.Name([x509.NameAttribute(oid, value) for oid, value in opts.subject]
                            if opts.subject else [x509.NameAttribute(NameOID.COMMON_NAME, domains[0])])
        signer = key if opts.self_signed else self.ca.key
        builder = (x509.CertificateBuilder()
                   .subject_name(subject)
                   .issuer_name(subject if opts.self_signed else self.ca.cert.subject).public_key(key.public_key())
                   .serial_number(opts.serial or x509.random_serial_number())
                   .add_extension(x509.SubjectAlternativeName(sans), critical=False)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
                                  critical=False))
        if opts.ocsp_url:
            builder = builder.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
                x509.oid.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(opts.ocsp_url))]),
                critical=False)
        if opts.acme_identifier is not None:
            # DER OCTET STRING of the key authorization's SHA-256
            value = bytes([0x04, len(opts.acme_identifier)]) + opts.acme_identifier
            builder = builder.add_extension(x509.UnrecognizedExtension(
                x509.ObjectIdentifier("1.3.6.1.5.5.7.1.31"), value), critical=True)
        # Ed25519 signs without a separate hash
        digest = None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()
        return self._validity(builder, opts).sign(signer, digest)

    @staticmethod
    def _write(cred: Credential) -> None:
        with open(cred.cert_file, "wb") as f:
            f.write(cert_pem(cred.cert))
        fd = os.open(cred.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key_pem(cred.key))

    def get(self, name: str, key_type: str = "ec256", domains: Optional[Sequence[str]] = None,
            options: Optional["CertOptions"] = None) -> Credential:
        """The credential called `name` with that key type (made on first use). `domains` (default:
        [name]) go into the SAN; the first one is also the CN unless `options` give a subject."""
        ck = (name, key_type)
        if ck not in self._creds:
            doms = tuple(domains) if domains else (name,)
            key = new_private_key(key_type)
            cred = Credential(name, key_type, doms, self._path(name, key_type, "cert"),
                              self._path(name, key_type, "key"), self.server_root,
                              self._issue(doms, key, options), key)
            self._write(cred)
            self._creds[ck] = cred
        return self._creds[ck]

    def renew(self, cred: Credential) -> Credential:
        """A new key and certificate for `cred`, written over the same files."""
        key = new_private_key(cred.key_type)
        new = Credential(cred.name, cred.key_type, cred.domains, cred.cert_file, cred.key_file,
                         cred.server_root, self._issue(cred.domains, key), key)
        self._write(new)
        self._creds[(cred.name, cred.key_type)] = new
        return new

    def write_file(self, filename: str, data: bytes) -> str:
        """Write arbitrary (e.g. broken) PEM data to certs/filename; returns the path relative to the
        server root."""
        path = os.path.join(self.dir, filename)
        with open(path, "wb") as f:
            f.write(data)
        return os.path.relpath(path, self.server_root)
