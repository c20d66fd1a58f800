#!/usr/bin/python3
"""Open N TLS connections to a server, each with one completed HTTP/1.1 keep-alive request,
and hold them idle until told to close them (memory-per-connection scenario of bench/run.sh).

    idle_client.py --port PORT --count N [--path /ka/1k.bin] [--window 64] [--timeout 60] [--plain]

Each connection: TCP connect, TLS handshake (SNI localhost, no certificate check), one
`GET PATH HTTP/1.1` read to its end (Content-Length), then nothing: httpd's event MPM keeps it
in its keep-alive queue, without a worker thread. At most `window` connections are being set up
at a time. When all are established the client prints `READY <n>` and waits for a line on
stdin (or EOF), then closes them all and prints `CLOSED`. Failures are printed as
`FAILED <count> <first error>` before READY. With --plain the connections are plain HTTP (the
baseline of what httpd itself keeps per connection). Standard library only (selectors, ssl).
"""

import argparse
import selectors
import socket
import ssl
import sys
import time
from typing import Optional


class Conn:
    def __init__(self, ctx: Optional[ssl.SSLContext], port: int, request: bytes):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ctx:
            # wrap first: the SSLSocket replaces (detaches) the plain one
            raw = ctx.wrap_socket(raw, server_hostname="localhost", do_handshake_on_connect=False)
        self.sock = self.tls = raw
        self.plain = ctx is None
        self.tls.setblocking(False)
        self.tls.connect_ex(("127.0.0.1", port))
        self.fd = self.tls.fileno()
        self.request = request
        self.state = "connect"
        self.sent = 0
        self.buf = b""
        self.need = None  # total response length once the head is in

    def step(self) -> int:
        """Advance as far as possible; return the selector events to wait for (0 = done)."""
        while True:
            try:
                if self.state == "connect":
                    err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise OSError(err, "connect failed")
                    self.state = "handshake"
                elif self.state == "handshake":
                    if not self.plain:
                        self.tls.do_handshake()
                    self.state = "send"
                elif self.state == "send":
                    self.sent += self.tls.send(self.request[self.sent:])
                    if self.sent == len(self.request):
                        self.state = "recv"
                elif self.state == "recv":
                    data = self.tls.recv(65536)
                    if not data:
                        raise OSError("server closed the connection")
                    self.buf += data
                    if self.need is None and b"\r\n\r\n" in self.buf:
                        head, _, _ = self.buf.partition(b"\r\n\r\n")
                        if not head.startswith(b"HTTP/1.1 200"):
                            raise OSError(f"unexpected response {head[:40]!r}")
                        length = 0
                        for line in head.split(b"\r\n")[1:]:
                            name, _, value = line.partition(b":")
                            if name.strip().lower() == b"content-length":
                                length = int(value)
                        self.need = len(head) + 4 + length
                    if self.need is not None and len(self.buf) >= self.need:
                        self.state = "idle"
                        self.buf = b""
                        return 0
                else:
                    return 0
            except ssl.SSLWantReadError:
                return selectors.EVENT_READ
            except ssl.SSLWantWriteError:
                return selectors.EVENT_WRITE
            except BlockingIOError:
                return selectors.EVENT_WRITE if self.state == "connect" else selectors.EVENT_READ

    def close(self) -> None:
        try:
            self.tls.close()
        except OSError:
            pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--path", default="/ka/1k.bin")
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--plain", action="store_true", help="plain HTTP, no TLS (the baseline)")
    args = ap.parse_args()

    ctx = None
    if not args.plain:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    request = f"GET {args.path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()

    sel = selectors.DefaultSelector()
    idle, failed, first_error = [], 0, None
    started = 0
    busy = {}
    deadline = time.time() + args.timeout
    while (started < args.count or busy) and time.time() < deadline:
        while started < args.count and len(busy) < args.window:
            c = Conn(ctx, args.port, request)
            started += 1
            busy[c.fd] = c
            sel.register(c.sock, selectors.EVENT_WRITE, c)
        for key, _ in sel.select(timeout=1.0):
            c = key.data
            try:
                events = c.step()
            except (OSError, ssl.SSLError) as e:
                failed += 1
                first_error = first_error or f"{type(e).__name__}: {e}"
                sel.unregister(c.sock)
                del busy[c.fd]
                c.close()
                continue
            if events == 0:
                sel.unregister(c.sock)
                del busy[c.fd]
                idle.append(c)
            else:
                sel.modify(c.sock, events, c)
    if busy:
        failed += len(busy)
        first_error = first_error or f"{len(busy)} connections not done after {args.timeout}s"
    if failed:
        print(f"FAILED {failed} {first_error}", flush=True)
    print(f"READY {len(idle)}", flush=True)
    sys.stdin.readline()
    for c in idle:
        c.close()
    print("CLOSED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
