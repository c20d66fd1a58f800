"""A minimal HTTP/1.1 client over any (TLS or plain) socket, for what curl cannot do: pipelining,
exact control of SNI vs Host, and looking at the TLS session the request went over."""

import socket
import time
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple


class HttpError(Exception):
    pass


@dataclass
class HttpResponse:
    version: str
    status: int
    reason: str
    headers: List[Tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> Optional[str]:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def env(self) -> dict:
        """The body of the env.py CGI as a dict."""
        env = {}
        for line in self.text.splitlines():
            k, sep, v = line.partition("=")
            if sep:
                env[k] = v
        return env


def build_request(path: str = "/", host: Optional[str] = None, method: str = "GET",
                  headers: Sequence[Tuple[str, str]] = (), body: Optional[bytes] = None,
                  close: bool = False) -> bytes:
    lines = [f"{method} {path} HTTP/1.1"]
    if host is not None:
        lines.append(f"Host: {host}")
    for k, v in headers:
        lines.append(f"{k}: {v}")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


class HttpConnection:
    """HTTP/1.1 over a connected socket; reads responses one after the other (so pipelined
    requests can be sent in one write and their responses read in order)."""

    def __init__(self, sock: socket.socket, timeout: float = 10.0):
        self.sock = sock
        self.timeout = timeout
        self.buf = b""
        self.eof = False
        sock.settimeout(timeout)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> None:
        if self.eof:
            raise HttpError("connection closed by peer")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise HttpError("timeout reading response")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout as e:
            raise HttpError("timeout reading response") from e
        if not data:
            self.eof = True
            raise HttpError("connection closed by peer")
        self.buf += data

    def _read_until(self, sep: bytes, deadline: float) -> bytes:
        while sep not in self.buf:
            self._fill(deadline)
        head, _, self.buf = self.buf.partition(sep)
        return head

    def _read_exact(self, n: int, deadline: float) -> bytes:
        while len(self.buf) < n:
            self._fill(deadline)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _read_to_eof(self, deadline: float) -> bytes:
        try:
            while True:
                self._fill(deadline)
        except HttpError:
            if not self.eof:
                raise
        data, self.buf = self.buf, b""
        return data

    def read_response(self, method: str = "GET") -> HttpResponse:
        deadline = time.monotonic() + self.timeout
        head = self._read_until(b"\r\n\r\n", deadline).decode("latin-1")
        status_line, *header_lines = head.split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise HttpError(f"not an HTTP response: {status_line!r}")
        resp = HttpResponse(parts[0], int(parts[1]), parts[2] if len(parts) > 2 else "")
        for line in header_lines:
            k, _, v = line.partition(":")
            resp.headers.append((k.strip(), v.strip()))
        if method == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200:
            return resp
        te = (resp.header("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                size = int(self._read_until(b"\r\n", deadline).split(b";")[0], 16)
                if size == 0:
                    self._read_until(b"\r\n", deadline)  # no trailers expected
                    break
                chunks.append(self._read_exact(size, deadline))
                self._read_exact(2, deadline)
            resp.body = b"".join(chunks)
        elif resp.header("Content-Length") is not None:
            resp.body = self._read_exact(int(resp.header("Content-Length")), deadline)
        else:
            resp.body = self._read_to_eof(deadline)
        return resp

    def request(self, path: str = "/", host: Optional[str] = None, **kw) -> HttpResponse:
        self.send(build_request(path, host, **kw))
        return self.read_response(kw.get("method", "GET"))
