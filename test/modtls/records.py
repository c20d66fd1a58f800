"""Counting the TLS records a response travels in.

A Python ssl client over a plain socket and memory BIOs: the bytes the server sends are cut into
records here and given to OpenSSL one record at a time, so each record is seen on its own. A
record that decrypts to application data belongs to the response; records that decrypt to nothing
(TLS 1.3 NewSessionTicket and other post-handshake messages, which look like application data on
the wire) are not counted. This works the same for TLS 1.2 and 1.3 and for any server.

`fetch_h1` and `fetch_h2` send one GET on a fresh connection and return a `RecordCount`: the
plaintext length of each record that carried part of the response (for h2: of everything the
server sent after the request, up to the END_STREAM of the request's stream)."""

import socket
import ssl
import struct
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

RECORD_HEADER = 5
PLAINTEXT_MAX = 16384


class RecordError(Exception):
    pass


@dataclass
class RecordCount:
    records: List[int] = field(default_factory=list)  # plaintext bytes of each counted record
    plaintext: bytes = b""  # the response as received
    version: str = ""

    @property
    def count(self) -> int:
        return len(self.records)

    @property
    def total(self) -> int:
        return sum(self.records)

    @property
    def fewest(self) -> int:
        """The fewest records that could carry this plaintext."""
        return -(-self.total // PLAINTEXT_MAX)

    def __str__(self) -> str:
        return f"{self.count} records {self.records} ({self.total} bytes, {self.version})"


class RecordClient:
    """One TLS connection whose incoming records are taken apart one by one."""

    def __init__(self, ctx: ssl.SSLContext, host: str, port: int, sni: Optional[str], timeout: float = 10):
        self.deadline = time.monotonic() + timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.incoming, self.outgoing, server_side=False, server_hostname=sni)
        self.raw = b""  # bytes from the socket not yet given to OpenSSL
        self._handshake()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "RecordClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _flush(self) -> None:
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _next_record(self) -> bytes:
        """The next whole record from the server, header included."""
        while True:
            if len(self.raw) >= RECORD_HEADER:
                length = struct.unpack("!H", self.raw[3:5])[0]
                if len(self.raw) >= RECORD_HEADER + length:
                    rec, self.raw = self.raw[:RECORD_HEADER + length], self.raw[RECORD_HEADER + length:]
                    return rec
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise RecordError("timed out waiting for a record")
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise RecordError("the server closed the connection")
            self.raw += data

    def _handshake(self) -> None:
        while True:
            try:
                self.obj.do_handshake()
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                self.incoming.write(self._next_record())

    def send(self, data: bytes) -> None:
        self.obj.write(data)
        self._flush()

    def read_record(self) -> bytes:
        """Feed the next record; the application data it carried (b"" for none)."""
        self.incoming.write(self._next_record())
        out = b""
        while True:
            try:
                chunk = self.obj.read(PLAINTEXT_MAX + 1024)
            except ssl.SSLWantReadError:
                break
            if not chunk:
                raise RecordError("the server closed the TLS connection")
            out += chunk
        self._flush()  # anything OpenSSL answers (key updates)
        return out

    def count_until(self, done: Callable[[bytes], bool]) -> RecordCount:
        """Read records until done(plaintext so far) says the response is complete."""
        rc = RecordCount(version=self.obj.version() or "")
        while not done(rc.plaintext):
            data = self.read_record()
            if data:
                rc.records.append(len(data))
                rc.plaintext += data
        return rc


# ---- HTTP/1.1

def h1_complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    raise RecordError(f"no Content-Length in {head!r}")


def fetch_h1(ctx: ssl.SSLContext, host: str, port: int, sni: str, path: str) -> RecordCount:
    with RecordClient(ctx, host, port, sni) as c:
        c.send(f"GET {path} HTTP/1.1\r\nHost: {sni}:{port}\r\n\r\n".encode())
        rc = c.count_until(h1_complete)
        if not rc.plaintext.startswith(b"HTTP/1.1 200 "):
            raise RecordError(f"unexpected response: {rc.plaintext[:200]!r}")
        return rc


# ---- HTTP/2 (just enough for one GET)

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_DATA, H2_HEADERS, H2_SETTINGS = 0, 1, 4
H2_END_STREAM, H2_ACK = 0x1, 0x1


def h2_frame(ftype: int, flags: int, stream: int, payload: bytes) -> bytes:
    return struct.pack("!I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack("!I", stream) + payload


def h2_frames(data: bytes) -> List[Tuple[int, int, int, bytes]]:
    """(type, flags, stream, payload) of each complete frame in data."""
    frames = []
    while len(data) >= 9:
        length = struct.unpack("!I", b"\0" + data[:3])[0]
        if len(data) < 9 + length:
            break
        stream = struct.unpack("!I", data[5:9])[0] & 0x7FFFFFFF
        frames.append((data[3], data[4], stream, data[9:9 + length]))
        data = data[9 + length:]
    return frames


def h2_literal(index: int, value: str) -> bytes:
    """A header field without indexing, name from the static table, value < 127 bytes."""
    v = value.encode()
    return bytes([index, len(v)]) + v


def fetch_h2(ctx: ssl.SSLContext, host: str, port: int, sni: str, path: str) -> RecordCount:
    """Settings are exchanged first, so that only the response is counted."""
    with RecordClient(ctx, host, port, sni) as c:
        if c.obj.selected_alpn_protocol() != "h2":
            raise RecordError(f"ALPN chose {c.obj.selected_alpn_protocol()!r}, not h2")
        c.send(H2_PREFACE + h2_frame(H2_SETTINGS, 0, 0, b""))
        seen = b""
        while True:
            seen += c.read_record()
            kinds = [(t, fl & H2_ACK) for t, fl, _, _ in h2_frames(seen)]
            if (H2_SETTINGS, 0) in kinds and (H2_SETTINGS, H2_ACK) in kinds:
                break
        # :method GET, :scheme https (static table 2 and 7), :path, :authority
        block = b"\x82\x87" + h2_literal(4, path) + h2_literal(1, f"{sni}:{port}")
        c.send(h2_frame(H2_SETTINGS, H2_ACK, 0, b"")
               + h2_frame(H2_HEADERS, 0x4 | H2_END_STREAM, 1, block))  # END_HEADERS

        def done(data: bytes) -> bool:
            return any(s == 1 and t in (H2_DATA, H2_HEADERS) and fl & H2_END_STREAM
                       for t, fl, s, _ in h2_frames(data))
        rc = c.count_until(done)
        heads = [p for t, _, s, p in h2_frames(rc.plaintext) if t == H2_HEADERS and s == 1]
        if not heads or heads[0][:1] != b"\x88":  # :status 200, static table 8
            raise RecordError(f"no 200 response: {rc.plaintext[:200]!r}")
        return rc
