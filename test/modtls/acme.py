"""pebble (an ACME server) with pebble-challtestsrv as its DNS, and an OCSP responder
(ocsp_responder.py), on loopback for the mod_md tests (test_18_md.py).

Ports come from the session's port base, +300..+319 (env.port_base). Every process is started
by the test and stopped by its own pid.
"""

import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from typing import List, Optional

from cryptography import x509

# offsets from env.port_base (the range +300..+399 is this feature's)
PEBBLE_DIR_OFFSET = 300
PEBBLE_MGMT_OFFSET = 301
DNS_OFFSET = 302
CHALLTEST_MGMT_OFFSET = 303
OCSP_OFFSET = 310


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{proc.args[0]}: nothing accepts on port {port}")
            time.sleep(0.05)


def stop_proc(proc: Optional[subprocess.Popen], timeout: float = 5) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout)


class Pebble:
    """pebble validating against httpd's plain port (http-01) and TLS port (tls-alpn-01), its DNS
    answered by pebble-challtestsrv with 127.0.0.1 for every name."""

    def __init__(self, env, http_port: int, tls_port: int):
        self.env = env
        self.dir_port = env.port_base + PEBBLE_DIR_OFFSET
        self.mgmt_port = env.port_base + PEBBLE_MGMT_OFFSET
        self.dns_port = env.port_base + DNS_OFFSET
        self.challtest_mgmt_port = env.port_base + CHALLTEST_MGMT_OFFSET
        self.http_port, self.tls_port = http_port, tls_port
        self.dir = os.path.join(env.server_root, "pebble")
        self.procs: List[subprocess.Popen] = []
        # pebble's own HTTPS: a certificate of the suite's test CA, which mod_md trusts through
        # MDCACertificateFile
        self.cred = env.certs.get("localhost", "ec256", domains=["localhost", "127.0.0.1"])

    @property
    def url(self) -> str:
        return f"https://localhost:{self.dir_port}/dir"

    @property
    def ca_file(self) -> str:
        """What mod_md must trust to talk to pebble."""
        return self.env.ca_file

    def start(self) -> None:
        os.makedirs(self.dir, exist_ok=True)
        conf = os.path.join(self.dir, "pebble-config.json")
        with open(conf, "w") as f:
            json.dump({"pebble": {
                "listenAddress": f"127.0.0.1:{self.dir_port}",
                "managementListenAddress": f"127.0.0.1:{self.mgmt_port}",
                "certificate": self.cred.cert_file,
                "privateKey": self.cred.key_file,
                "httpPort": self.http_port,
                "tlsPort": self.tls_port,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": False,
            }}, f)
        environ = dict(os.environ)
        # validate at once, and never turn nonces down at random (pebble's default: 5%)
        environ.update(PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0")
        environ.pop("PEBBLE_VA_ALWAYS_VALID", None)
        with open(os.path.join(self.dir, "challtestsrv.log"), "ab") as log:
            cts = subprocess.Popen(["pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
                                    "-dns01", f"127.0.0.1:{self.dns_port}", "-http01", "", "-https01", "",
                                    "-tlsalpn01", "", "-management", f"127.0.0.1:{self.challtest_mgmt_port}"],
                                   stdout=log, stderr=subprocess.STDOUT, env=environ)
        self.procs.append(cts)
        wait_port(self.challtest_mgmt_port, cts)
        with open(os.path.join(self.dir, "pebble.log"), "ab") as log:
            peb = subprocess.Popen(["pebble", "-config", conf, "-dnsserver", f"127.0.0.1:{self.dns_port}"],
                                   stdout=log, stderr=subprocess.STDOUT, env=environ)
        self.procs.append(peb)
        wait_port(self.dir_port, peb)

    def stop(self) -> None:
        for p in reversed(self.procs):
            stop_proc(p)
        self.procs = []

    def log(self) -> str:
        try:
            with open(os.path.join(self.dir, "pebble.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _mgmt_get(self, path: str) -> bytes:
        ctx = ssl.create_default_context(cafile=self.ca_file)
        with urllib.request.urlopen(f"https://localhost:{self.mgmt_port}{path}", context=ctx, timeout=10) as r:
            return r.read()

    def intermediate(self) -> x509.Certificate:
        """The intermediate pebble issues with (it changes with every pebble start)."""
        return x509.load_pem_x509_certificate(self._mgmt_get("/intermediates/0"))


class OcspResponder:
    """The suite's OCSP responder (ocsp_responder.py) answering for the test CA."""

    def __init__(self, env):
        self.env = env
        self.port = env.port_base + OCSP_OFFSET
        self.dir = os.path.join(env.server_root, "ocsp")
        self.status_file = os.path.join(self.dir, "status.json")
        self.proc: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def set_status(self, entries) -> None:
        """entries: (credential, revoked) pairs; other certificates get no answer."""
        os.makedirs(self.dir, exist_ok=True)
        with open(self.status_file, "w") as f:
            json.dump({format(c.cert.serial_number, "x"): ["revoked" if r else "good", c.cert_file]
                       for c, r in entries}, f)

    def start(self) -> None:
        ca = self.env.certs.ca
        os.makedirs(self.dir, exist_ok=True)
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ocsp_responder.py")
        # -I: not the script's folder first on sys.path (modtls/http.py would hide http.server)
        with open(os.path.join(self.dir, "ocsp.log"), "ab") as log:
            self.proc = subprocess.Popen(["/usr/bin/python3", "-I", script, str(self.port), self.status_file,
                                          ca.cert_file, ca.key_file], stdout=log, stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc)

    def stop(self) -> None:
        stop_proc(self.proc)
        self.proc = None
