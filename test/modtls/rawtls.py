"""TLS records and handshake messages built and read byte by byte, for what no TLS library sends:
a ClientHello with exactly the extensions a test chooses (or lacks), records cut or ordered in
odd ways. Nothing here encrypts: it covers the clear-text start of a handshake (ClientHello out;
ServerHello, HelloRetryRequest, the TLS 1.2 server flight or an alert back).

    hello = tls12_client_hello("one.example.org", ec_point_formats=None)
    reply = exchange("127.0.0.1", port, record(HANDSHAKE, hello))
    assert reply.alert is None and reply.server_hello is not None

Wire formats: RFC 8446 (TLS 1.3) section 4 and RFC 5246 (TLS 1.2) section 7.4; extension code
points from IANA's TLS ExtensionType registry.
"""

import os
import socket
import time
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

# --------------------------------------------------------------- code points

# record content types
CHANGE_CIPHER_SPEC = 20
ALERT = 21
HANDSHAKE = 22
APPLICATION_DATA = 23

# handshake message types
HS_CLIENT_HELLO = 1
HS_SERVER_HELLO = 2
HS_NEW_SESSION_TICKET = 4
HS_ENCRYPTED_EXTENSIONS = 8
HS_CERTIFICATE = 11
HS_SERVER_KEY_EXCHANGE = 12
HS_CERTIFICATE_REQUEST = 13
HS_SERVER_HELLO_DONE = 14
HS_CERTIFICATE_STATUS = 22
HS_FINISHED = 20
HANDSHAKE_NAMES = {1: "client_hello", 2: "server_hello", 4: "new_session_ticket", 8: "encrypted_extensions",
                   11: "certificate", 12: "server_key_exchange", 13: "certificate_request",
                   14: "server_hello_done", 15: "certificate_verify", 16: "client_key_exchange",
                   20: "finished", 22: "certificate_status"}

# extensions
EXT_SERVER_NAME = 0
EXT_STATUS_REQUEST = 5
EXT_SUPPORTED_GROUPS = 10
EXT_EC_POINT_FORMATS = 11
EXT_SIGNATURE_ALGORITHMS = 13
EXT_ALPN = 16
EXT_SCT = 18
EXT_EXTENDED_MASTER_SECRET = 23
EXT_SESSION_TICKET = 35
EXT_PRE_SHARED_KEY = 41
EXT_SUPPORTED_VERSIONS = 43
EXT_PSK_KEY_EXCHANGE_MODES = 45
EXT_KEY_SHARE = 51
EXT_RENEGOTIATION_INFO = 0xFF01

TLS1_0 = 0x0301
TLS1_2 = 0x0303
TLS1_3 = 0x0304

GROUPS = {"secp256r1": 0x0017, "secp384r1": 0x0018, "secp521r1": 0x0019, "x25519": 0x001D, "x448": 0x001E,
          "ffdhe2048": 0x0100, "ffdhe3072": 0x0101}

# cipher suites by OpenSSL name (TLS 1.3 suites have the same name everywhere)
SUITES = {
    "ECDHE-ECDSA-AES128-GCM-SHA256": 0xC02B,
    "ECDHE-ECDSA-AES256-GCM-SHA384": 0xC02C,
    "ECDHE-RSA-AES128-GCM-SHA256": 0xC02F,
    "ECDHE-RSA-AES256-GCM-SHA384": 0xC030,
    "ECDHE-ECDSA-CHACHA20-POLY1305": 0xCCA9,
    "ECDHE-RSA-CHACHA20-POLY1305": 0xCCA8,
    "TLS_AES_128_GCM_SHA256": 0x1301,
    "TLS_AES_256_GCM_SHA384": 0x1302,
    "TLS_CHACHA20_POLY1305_SHA256": 0x1303,
}
SUITE_NAMES = {v: k for k, v in SUITES.items()}
TLS13_SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
TLS12_ECDHE_GCM = ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                   "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384")

SIGNATURE_SCHEMES = {
    "ecdsa_secp256r1_sha256": 0x0403, "ecdsa_secp384r1_sha384": 0x0503, "ecdsa_secp521r1_sha512": 0x0603,
    "ed25519": 0x0807,
    "rsa_pss_rsae_sha256": 0x0804, "rsa_pss_rsae_sha384": 0x0805, "rsa_pss_rsae_sha512": 0x0806,
    "rsa_pkcs1_sha256": 0x0401, "rsa_pkcs1_sha384": 0x0501, "rsa_pkcs1_sha512": 0x0601,
}
DEFAULT_SIGNATURE_SCHEMES = tuple(SIGNATURE_SCHEMES)

ALERT_NAMES = {0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 22: "record_overflow",
               40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate",
               46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca", 50: "decode_error",
               51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
               86: "inappropriate_fallback", 90: "user_canceled", 109: "missing_extension",
               110: "unsupported_extension", 112: "unrecognized_name", 116: "certificate_required",
               120: "no_application_protocol"}

# the random of a HelloRetryRequest (RFC 8446 4.1.3): SHA-256 of "HelloRetryRequest"
HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")


# --------------------------------------------------------------- encoding

def u8(n: int) -> bytes:
    return n.to_bytes(1, "big")


def u16(n: int) -> bytes:
    return n.to_bytes(2, "big")


def u24(n: int) -> bytes:
    return n.to_bytes(3, "big")


def vec8(data: bytes) -> bytes:
    return u8(len(data)) + data


def vec16(data: bytes) -> bytes:
    return u16(len(data)) + data


def vec24(data: bytes) -> bytes:
    return u24(len(data)) + data


def _codes(names: Iterable, table: Dict[str, int]) -> List[int]:
    """Names (looked up in table) or numbers, as numbers."""
    return [table[n] if isinstance(n, str) else int(n) for n in names]


def extension(etype: int, data: bytes = b"") -> bytes:
    return u16(etype) + vec16(data)


def ext_server_name(name: str) -> bytes:
    return extension(EXT_SERVER_NAME, vec16(u8(0) + vec16(name.encode("idna"))))


def ext_supported_groups(groups: Sequence) -> bytes:
    return extension(EXT_SUPPORTED_GROUPS, vec16(b"".join(u16(g) for g in _codes(groups, GROUPS))))


def ext_ec_point_formats(formats: Sequence[int] = (0,)) -> bytes:
    """0 is uncompressed, the only format RFC 8422 leaves."""
    return extension(EXT_EC_POINT_FORMATS, vec8(bytes(formats)))


def ext_signature_algorithms(schemes: Sequence = DEFAULT_SIGNATURE_SCHEMES) -> bytes:
    return extension(EXT_SIGNATURE_ALGORITHMS,
                     vec16(b"".join(u16(s) for s in _codes(schemes, SIGNATURE_SCHEMES))))


def ext_extended_master_secret() -> bytes:
    return extension(EXT_EXTENDED_MASTER_SECRET)


def ext_alpn(protocols: Sequence[str]) -> bytes:
    return extension(EXT_ALPN, vec16(b"".join(vec8(p.encode()) for p in protocols)))


def ext_session_ticket(ticket: bytes = b"") -> bytes:
    return extension(EXT_SESSION_TICKET, ticket)


def ext_renegotiation_info() -> bytes:
    return extension(EXT_RENEGOTIATION_INFO, vec8(b""))


def ext_supported_versions(versions: Sequence[int] = (TLS1_3, TLS1_2)) -> bytes:
    return extension(EXT_SUPPORTED_VERSIONS, vec8(b"".join(u16(v) for v in versions)))


def ext_psk_key_exchange_modes(modes: Sequence[int] = (1,)) -> bytes:
    return extension(EXT_PSK_KEY_EXCHANGE_MODES, vec8(bytes(modes)))


def ext_key_share(shares: Sequence[Tuple]) -> bytes:
    """shares: (group, key_exchange bytes) pairs; group by name or number."""
    body = b"".join(u16(_codes([g], GROUPS)[0]) + vec16(k) for g, k in shares)
    return extension(EXT_KEY_SHARE, vec16(body))


def handshake(msg_type: int, body: bytes) -> bytes:
    """A handshake message: type, 24-bit length, body."""
    return u8(msg_type) + vec24(body)


def client_hello(suites: Sequence, extensions: Sequence[bytes], *, session_id: bytes = b"",
                 random: Optional[bytes] = None, legacy_version: int = TLS1_2,
                 compression_methods: bytes = b"\x00") -> bytes:
    """A ClientHello handshake message with exactly these suites (names or numbers) and these
    encoded extensions, in this order (none at all if the list is empty)."""
    body = (u16(legacy_version) + (random if random is not None else os.urandom(32)) + vec8(session_id)
            + vec16(b"".join(u16(s) for s in _codes(suites, SUITES))) + vec8(compression_methods))
    if extensions:
        body += vec16(b"".join(extensions))
    return handshake(HS_CLIENT_HELLO, body)


def tls12_client_hello(sni: Optional[str], *, suites: Sequence = TLS12_ECDHE_GCM,
                       groups: Sequence = ("x25519", "secp256r1"),
                       signature_schemes: Sequence = DEFAULT_SIGNATURE_SCHEMES,
                       ec_point_formats: Optional[Sequence[int]] = (0,), extended_master_secret: bool = True,
                       renegotiation_info: bool = True, extra: Sequence[bytes] = (),
                       session_id: bytes = b"") -> bytes:
    """A TLS 1.2-only ClientHello (no supported_versions): SNI (unless None), supported_groups,
    ec_point_formats (left out when None), signature_algorithms, extended_master_secret,
    renegotiation_info, then `extra`."""
    exts = []
    if sni is not None:
        exts.append(ext_server_name(sni))
    exts.append(ext_supported_groups(groups))
    if ec_point_formats is not None:
        exts.append(ext_ec_point_formats(ec_point_formats))
    exts.append(ext_signature_algorithms(signature_schemes))
    if extended_master_secret:
        exts.append(ext_extended_master_secret())
    if renegotiation_info:
        exts.append(ext_renegotiation_info())
    exts += list(extra)
    return client_hello(suites, exts, session_id=session_id)


def x25519_key_share() -> Tuple[object, bytes]:
    """A fresh X25519 key pair for a key_share a server can use: (private key, 32-byte public key).
    Needs python3-cryptography (imported here, so the rest of this module works without it)."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    private = X25519PrivateKey.generate()
    return private, private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def tls13_client_hello(sni: Optional[str], *, suites: Sequence = TLS13_SUITES,
                       groups: Sequence = ("x25519", "secp256r1", "secp384r1"),
                       key_shares: Optional[Sequence[Tuple]] = None,
                       signature_schemes: Sequence = DEFAULT_SIGNATURE_SCHEMES,
                       alpn: Optional[Sequence[str]] = None, versions: Sequence[int] = (TLS1_3,),
                       session_id: Optional[bytes] = None, random: Optional[bytes] = None,
                       extra: Sequence[bytes] = ()) -> bytes:
    """A TLS 1.3 ClientHello as OpenSSL's clients send one: SNI (unless None), supported_versions,
    supported_groups, key_share (default: one fresh X25519 share, see x25519_key_share; pass
    (group, public key) pairs for others, or () for none), signature_algorithms,
    psk_key_exchange_modes (psk_dhe_ke), ALPN (if given), then `extra`; a random 32-byte legacy
    session id (middlebox compatibility mode) unless one is given (b"" for none)."""
    if key_shares is None:
        key_shares = [("x25519", x25519_key_share()[1])]
    exts = []
    if sni is not None:
        exts.append(ext_server_name(sni))
    exts += [ext_supported_versions(versions), ext_supported_groups(groups), ext_key_share(key_shares),
             ext_signature_algorithms(signature_schemes), ext_psk_key_exchange_modes()]
    if alpn:
        exts.append(ext_alpn(alpn))
    exts += list(extra)
    return client_hello(suites, exts, session_id=os.urandom(32) if session_id is None else session_id,
                        random=random)


def record(content_type: int, payload: bytes, version: int = TLS1_0) -> bytes:
    """One or more plaintext records carrying payload (fragments of at most 2^14 bytes). The
    record version of a first ClientHello is 0x0301 by custom (RFC 8446 5.1)."""
    out = b""
    for i in range(0, max(len(payload), 1), 1 << 14):
        chunk = payload[i:i + (1 << 14)]
        out += u8(content_type) + u16(version) + vec16(chunk)
    return out


# --------------------------------------------------------------- decoding

class DecodeError(Exception):
    pass


class Reader:
    """Reads big-endian fields from bytes; DecodeError when they run out."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise DecodeError(f"need {n} bytes at {self.pos}, have {len(self.data) - self.pos}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def vec(self, len_bytes: int) -> bytes:
        return self.take(self.uint(len_bytes))

    @property
    def left(self) -> int:
        return len(self.data) - self.pos


def parse_extensions(r: Reader) -> List[Tuple[int, bytes]]:
    """The extensions block at r (absent: empty list), in order."""
    if r.left == 0:
        return []
    block = Reader(r.vec(2))
    out = []
    while block.left:
        out.append((block.uint(2), block.vec(2)))
    return out


@dataclass
class Record:
    content_type: int
    version: int
    payload: bytes


@dataclass
class Handshake:
    msg_type: int
    body: bytes

    @property
    def name(self) -> str:
        return HANDSHAKE_NAMES.get(self.msg_type, f"handshake_{self.msg_type}")


@dataclass
class Alert:
    level: int
    description: int

    @property
    def name(self) -> str:
        return ALERT_NAMES.get(self.description, f"alert_{self.description}")

    def __str__(self) -> str:
        return f"{'fatal' if self.level == 2 else 'warning'} {self.name} ({self.description})"


@dataclass
class Hello:
    """A ClientHello or ServerHello (a HelloRetryRequest is a ServerHello with HRR_RANDOM)."""

    msg_type: int
    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suites: List[int]  # the ServerHello's one suite, or the ClientHello's list
    compression_methods: bytes
    extensions: List[Tuple[int, bytes]] = field(default_factory=list)

    @property
    def cipher_suite(self) -> int:
        return self.cipher_suites[0]

    @property
    def extension_types(self) -> List[int]:
        return [t for t, _ in self.extensions]

    def extension(self, etype: int) -> Optional[bytes]:
        for t, data in self.extensions:
            if t == etype:
                return data
        return None

    @property
    def is_hello_retry_request(self) -> bool:
        return self.msg_type == HS_SERVER_HELLO and self.random == HRR_RANDOM

    @property
    def selected_version(self) -> int:
        """A ServerHello's version: supported_versions if there, else legacy_version."""
        sv = self.extension(EXT_SUPPORTED_VERSIONS)
        return int.from_bytes(sv, "big") if sv is not None and len(sv) == 2 else self.legacy_version


def parse_hello(msg: bytes) -> Hello:
    """A ClientHello or ServerHello handshake message (with its 4-byte header)."""
    r = Reader(msg)
    msg_type = r.uint(1)
    body = Reader(r.vec(3))
    if msg_type not in (HS_CLIENT_HELLO, HS_SERVER_HELLO):
        raise DecodeError(f"not a hello: handshake type {msg_type}")
    version, random, sid = body.uint(2), body.take(32), body.vec(1)
    if msg_type == HS_CLIENT_HELLO:
        raw = body.vec(2)
        suites = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]
        comp = body.vec(1)
    else:
        suites = [body.uint(2)]
        comp = body.take(1)
    return Hello(msg_type, version, random, sid, suites, comp, parse_extensions(body))


def parse_named_curve_kx(body: bytes) -> Optional[int]:
    """The group of a TLS 1.2 ServerKeyExchange for ECDHE (curve_type named_curve), or None."""
    if len(body) >= 3 and body[0] == 3:
        return int.from_bytes(body[1:3], "big")
    return None


@dataclass
class ServerReply:
    """What came back for what was sent, until the exchange stopped (see `exchange`)."""

    records: List[Record] = field(default_factory=list)
    handshakes: List[Handshake] = field(default_factory=list)
    alert: Optional[Alert] = None
    eof: bool = False
    timed_out: bool = False
    undecodable: Optional[str] = None

    @property
    def server_hello(self) -> Optional[Hello]:
        for h in self.handshakes:
            if h.msg_type == HS_SERVER_HELLO:
                return parse_hello(handshake(h.msg_type, h.body))
        return None

    def first(self, msg_type: int) -> Optional[Handshake]:
        return next((h for h in self.handshakes if h.msg_type == msg_type), None)

    def summary(self) -> str:
        parts = [h.name for h in self.handshakes]
        if any(r.content_type == CHANGE_CIPHER_SPEC for r in self.records):
            parts.append("change_cipher_spec")
        if any(r.content_type == APPLICATION_DATA for r in self.records):
            parts.append("application_data (encrypted)")
        if self.alert:
            parts.append(f"alert {self.alert}")
        if self.undecodable:
            parts.append(f"undecodable: {self.undecodable}")
        if self.eof:
            parts.append("EOF")
        if self.timed_out:
            parts.append("timeout")
        return ", ".join(parts) or "nothing"


def _recv_exact(sock: socket.socket, n: int, deadline: float) -> Optional[bytes]:
    """n bytes, or None on EOF before them; socket.timeout past the deadline."""
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("deadline")
        sock.settimeout(left)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_record(sock: socket.socket, deadline: float) -> Optional[Record]:
    """The next record (None on EOF); socket.timeout past the deadline."""
    head = _recv_exact(sock, 5, deadline)
    if head is None:
        return None
    length = int.from_bytes(head[3:5], "big")
    if length > (1 << 14) + 2048:
        raise DecodeError(f"record of {length} bytes: not TLS ({head!r})")
    payload = _recv_exact(sock, length, deadline)
    if payload is None:
        return None
    return Record(head[0], int.from_bytes(head[1:3], "big"), payload)


def read_reply(sock: socket.socket, timeout: float = 5, until: Sequence[int] = (HS_SERVER_HELLO_DONE,)) -> ServerReply:
    """Read records until an alert, EOF, a handshake message of a type in `until`, the first
    encrypted record (ChangeCipherSpec or application data: what follows cannot be read here), or
    the timeout. Handshake messages spanning records are put together."""
    reply = ServerReply()
    deadline = time.monotonic() + timeout
    hs_buf = b""
    try:
        while True:
            rec = read_record(sock, deadline)
            if rec is None:
                reply.eof = True
                return reply
            reply.records.append(rec)
            if rec.content_type == ALERT:
                if len(rec.payload) >= 2:
                    reply.alert = Alert(rec.payload[0], rec.payload[1])
                    return reply
                reply.undecodable = f"alert record of {len(rec.payload)} bytes"
                return reply
            if rec.content_type in (CHANGE_CIPHER_SPEC, APPLICATION_DATA):
                return reply
            if rec.content_type != HANDSHAKE:
                reply.undecodable = f"record type {rec.content_type}"
                return reply
            hs_buf += rec.payload
            while len(hs_buf) >= 4:
                length = int.from_bytes(hs_buf[1:4], "big")
                if len(hs_buf) < 4 + length:
                    break
                h = Handshake(hs_buf[0], hs_buf[4:4 + length])
                hs_buf = hs_buf[4 + length:]
                reply.handshakes.append(h)
                if h.msg_type in until:
                    return reply
    except (socket.timeout, TimeoutError):
        reply.timed_out = True
    except ConnectionResetError:
        reply.eof = True
    except DecodeError as e:
        reply.undecodable = str(e)
    return reply


def exchange(host: str, port: int, data: bytes, timeout: float = 5,
             until: Sequence[int] = (HS_SERVER_HELLO_DONE,)) -> ServerReply:
    """Connect, send `data` (e.g. record(HANDSHAKE, client_hello(...))), read the reply (see
    read_reply), close."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        return read_reply(sock, timeout, until)
