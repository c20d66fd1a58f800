#!/usr/bin/python3
"""Seeds for fuzz_conn and fuzz_client that are not recorded rtls sessions (those come from
mkcorpus.c): what real clients and OpenSSL's server send, and hand-made records.

    /usr/bin/python3 fuzz/seeds.py              (re)write corpus-conn/hello-* and corpus-client/openssl-*
    /usr/bin/python3 fuzz/seeds.py --new-cert   make a new testcert.pem/testkey.pem first (then also
                                                `make -C fuzz corpus`: the recorded sessions carry the
                                                certificate and its signatures)

- openssl s_client and curl talk to `openssl s_server` (the test certificate, 127.0.0.1, a free
  port) through a relay here that records both directions: the clients' bytes become fuzz_conn
  seeds, s_server's flights (TLS 1.3 and 1.2) fuzz_client seeds. They do not replay into a
  finished handshake (the randoms differ), but they bring the encodings of another TLS stack.
- Python's ssl (OpenSSL) ClientHello, made without a network (modtls.env.client_hello_bytes).
- test/modtls/rawtls.py: TLS 1.2 and 1.3 hellos with chosen extensions, a hello split over three
  records, a HelloRetryRequest round (first share for a group rustls lacks, then a second
  ClientHello), a TLS 1.3 hello with a pre_shared_key (a ticket the ticketer cannot open), a hello
  sharing its record with a Finished (RFC 8446 5.1, test_15_hardening), an SSLv2-style hello.

Each file starts with the 8-byte plan of fuzz_tls.h; its randoms and key shares are new on every
run, so rerunning this rewrites the files (commit them only when the set changes).
"""

import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "test"))

from modtls import rawtls  # noqa: E402
from modtls.env import client_hello_bytes  # noqa: E402

CONN_DIR = os.path.join(HERE, "corpus-conn")
CLIENT_DIR = os.path.join(HERE, "corpus-client")
CERT = os.path.join(HERE, "testcert.pem")
KEY = os.path.join(HERE, "testkey.pem")
NAME = "fuzz.test"

# plan bytes (fuzz_tls.h): flags, arg, chunk sizes x4, read buffer, extra
WHOLE = (0, 0, 0, 0)
SPLIT = (5, 200, 1, 0)  # odd chunk sizes: a record header cut, a byte at a time, the rest


def server_plan(config: int = 0, hello: int = 0, arg: int = 0, chunks=WHOLE, flags: int = 0) -> bytes:
    return bytes([config | (hello << 2) | flags, arg, *chunks, 0, 0])


def client_plan(alpn: int = 1, name: int = 0, config: int = 0, chunks=WHOLE, flags: int = 0) -> bytes:
    return bytes([alpn | (name << 2) | flags, config, *chunks, 0, 0])


def write(directory: str, name: str, data: bytes) -> None:
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(data)
    print(f"  {os.path.relpath(path, HERE)} ({len(data)} bytes)")


# ------------------------------------------------------------------ real clients via s_server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def relay_once(listener: socket.socket, server_port: int, seconds: float):
    """Accept one client, connect it to s_server, pass bytes both ways for `seconds` or until
    either side closes; returns (client bytes, server bytes)."""
    up, down = b"", b""
    try:
        client, _ = listener.accept()
    except OSError:  # the client never came
        return up, down
    with client, socket.create_connection(("127.0.0.1", server_port), timeout=5) as server:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([client, server], [], [], 0.05)
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return up, down
                if s is client:
                    up += data
                    server.sendall(data)
                else:
                    down += data
                    client.sendall(data)
    return up, down


def capture(args, seconds: float = 1.0):
    """Run a client command (with {port} in its args) against s_server through the relay."""
    server_port, relay_port = free_port(), free_port()
    srv = subprocess.Popen(["openssl", "s_server", "-quiet", "-accept", f"127.0.0.1:{server_port}",
                            "-cert", CERT, "-key", KEY, "-www", "-alpn", "h2,http/1.1"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", server_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        with socket.create_server(("127.0.0.1", relay_port)) as listener:
            listener.settimeout(10)
            result = {}
            t = threading.Thread(target=lambda: result.update(r=relay_once(listener, server_port, seconds)),
                                 daemon=True)
            t.start()
            cmd = [a.format(port=relay_port) for a in args]
            subprocess.run(cmd, input=b"", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
            t.join(10)
            return result.get("r", (b"", b""))
    finally:
        srv.kill()
        srv.wait()


S_CLIENT = ["openssl", "s_client", "-connect", "127.0.0.1:{port}", "-servername", NAME]
CURL = ["curl", "-sk", "-m", "2", "--resolve", f"{NAME}:{{port}}:127.0.0.1", f"https://{NAME}:{{port}}/"]

REAL_CLIENTS = {
    # name: (command, plan for fuzz_conn)
    "s_client-tls13-alpn": (S_CLIENT + ["-alpn", "h2,http/1.1"], server_plan()),
    "s_client-tls13-chacha": (S_CLIENT + ["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"],
                              server_plan(config=2)),
    "s_client-hrr": (S_CLIENT + ["-groups", "ffdhe2048:X25519"], server_plan(chunks=SPLIT)),
    "s_client-p384": (S_CLIENT + ["-groups", "P-384"], server_plan(config=1)),
    "s_client-tls12": (S_CLIENT + ["-tls1_2", "-alpn", "http/1.1"], server_plan(config=3)),
    "s_client-tls12-rsa-only": (S_CLIENT + ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"],
                                server_plan()),
    "s_client-status-nosni": (S_CLIENT[:4] + ["-status", "-noservername"], server_plan(hello=2)),
    "curl-h2": (CURL + ["--http2"], server_plan()),
    "curl-tls12": (CURL + ["--http1.1", "--tlsv1.2", "--tls-max", "1.2"], server_plan(config=3, chunks=SPLIT)),
}

# s_server's flights as fuzz_client seeds: (client seed name, the capture, plan)
SERVER_FLIGHTS = {
    "openssl-tls13": ("s_client-tls13-alpn", client_plan(alpn=1)),
    "openssl-tls12": ("s_client-tls12", client_plan(alpn=2, config=2)),
}


def real_clients() -> None:
    captured = {}
    for name, (cmd, plan) in REAL_CLIENTS.items():
        up, down = capture(cmd)
        if not up:
            print(f"  {name}: nothing captured (is {cmd[0]} installed?)")
            continue
        captured[name] = (up, down)
        write(CONN_DIR, f"hello-{name}", plan + up)
    for name, (source, plan) in SERVER_FLIGHTS.items():
        if source in captured and captured[source][1]:
            write(CLIENT_DIR, name, plan + captured[source][1])


# ------------------------------------------------------------------ hand-made records

def psk_extension(identity: bytes, binder: bytes) -> bytes:
    """pre_shared_key (RFC 8446 4.2.11): one identity with age 0, one binder. Must come last."""
    identities = rawtls.vec16(rawtls.vec16(identity) + struct.pack(">I", 0))
    binders = rawtls.vec16(rawtls.vec8(binder))
    return rawtls.extension(rawtls.EXT_PRE_SHARED_KEY, identities + binders)


def hand_made() -> None:
    hs, rec = rawtls.HANDSHAKE, rawtls.record
    tls13 = rawtls.tls13_client_hello(NAME, alpn=["h2", "http/1.1"])
    write(CONN_DIR, "hello-rawtls-tls13", server_plan() + rec(hs, tls13))
    write(CONN_DIR, "hello-rawtls-tls12", server_plan(config=3) + rec(hs, rawtls.tls12_client_hello(NAME)))
    write(CONN_DIR, "hello-rawtls-tls12-no-point-formats",
          server_plan() + rec(hs, rawtls.tls12_client_hello(None, ec_point_formats=None)))
    # RFC 8446 5.1: the hello shares its record with a Finished / with the start of one
    finished = rawtls.handshake(rawtls.HS_FINISHED, bytes(32))
    write(CONN_DIR, "hello-rawtls-with-finished", server_plan() + rec(hs, tls13 + finished))
    write(CONN_DIR, "hello-rawtls-with-fragment", server_plan() + rec(hs, tls13 + finished[:6]))
    # one hello in three records
    third = len(tls13) // 3
    write(CONN_DIR, "hello-rawtls-three-records", server_plan(chunks=SPLIT) + b"".join(
        rec(hs, tls13[i:j]) for i, j in ((0, third), (third, 2 * third), (2 * third, len(tls13)))))
    # HelloRetryRequest: the first share is for P-521 (rustls lacks it), then a CCS and the second
    # hello with an X25519 share, everything else the same
    random, sid = os.urandom(32), os.urandom(32)
    first = rawtls.tls13_client_hello(NAME, groups=("secp521r1", "x25519"), random=random, session_id=sid,
                                      key_shares=[("secp521r1", b"\x04" + os.urandom(132))])
    second = rawtls.tls13_client_hello(NAME, groups=("secp521r1", "x25519"), random=random, session_id=sid)
    write(CONN_DIR, "hello-rawtls-hrr", server_plan(config=1) + rec(hs, first)
          + rec(rawtls.CHANGE_CIPHER_SPEC, b"\x01", rawtls.TLS1_2) + rec(hs, second))
    # a PSK the ticketer of configuration 1 must refuse to open (rtls' ticket format: slot,
    # nonce, ChaCha20-Poly1305 ciphertext)
    psk = rawtls.tls13_client_hello(NAME, extra=[psk_extension(os.urandom(120), os.urandom(32))])
    write(CONN_DIR, "hello-rawtls-psk", server_plan(config=1) + rec(hs, psk))
    # an SSLv2-compatible ClientHello (RFC 5246 E.2) offering TLS 1.2
    v2 = bytes([0x01, 0x03, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x10]) + bytes.fromhex("00c02f00c030") \
        + os.urandom(16)
    write(CONN_DIR, "hello-sslv2", server_plan() + bytes([0x80 | (len(v2) >> 8), len(v2) & 0xFF]) + v2)
    # Python's ssl, rejected with unrecognized_name
    write(CONN_DIR, "hello-python-reject", server_plan(hello=3, arg=112) + client_hello_bytes(NAME))


def new_cert() -> None:
    """The test certificate: ECDSA P-256, self-signed, an end-entity certificate (webpki takes it as
    its own trust anchor) for fuzz.test, *.fuzz.test and 127.0.0.1, valid 2020-2120 so that
    recorded sessions verify whatever the clock says. Test data, not a secret."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mod_tls fuzz test data (not a secret)")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(datetime.datetime(2020, 1, 1)).not_valid_after(datetime.datetime(2120, 1, 1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName(NAME), x509.DNSName(f"*.{NAME}"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    with open(CERT, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(KEY, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    print(f"  {os.path.relpath(CERT, HERE)}, {os.path.relpath(KEY, HERE)}")


def main() -> None:
    if "--new-cert" in sys.argv[1:]:
        new_cert()
    os.makedirs(CONN_DIR, exist_ok=True)
    os.makedirs(CLIENT_DIR, exist_ok=True)
    hand_made()
    real_clients()


if __name__ == "__main__":
    main()
