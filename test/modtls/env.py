"""The one test environment of the mod_tls suite.

`TlsTestEnv` owns a server root (certificates, docroot, CGI scripts, conf, logs), writes
httpd.conf from a body a test class supplies, starts/stops/gracefully restarts Debian's apache2
on it, reads the error log, and runs the clients (curl, openssl s_client, nghttp, Python ssl).
"""

import glob
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Sequence, Tuple, Union
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .certs import CertStore, Credential, dns_names_of, key_type_of
from .http import HttpConnection, HttpResponse

APACHE2 = "/usr/sbin/apache2"
MODULES_DIR = "/usr/lib/apache2/modules"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# the build of this checkout: <repo>/build/mod_tls.so
DEFAULT_MOD_TLS_SO = os.path.join(REPO_ROOT, "build", "mod_tls.so")
# Below Linux's ephemeral port range (32768-60999 by default): a client socket of the suite
# itself (curl, openssl, Python) can get any port in that range as its local port, and while
# it lingers in TIME_WAIT httpd cannot bind that port ("Address already in use"). Seen once
# with 42100.
DEFAULT_PORT_BASE = 21100

# Modules every generated config loads (log_config is built into Debian's apache2).
BASE_MODULES = ("mpm_event", "authz_core", "mime", "dir", "alias", "cgid", "headers", "rewrite",
                "reqtimeout", "setenvif", "env")

# The suites rustls 0.23 offers: OpenSSL name (what Python's ssl and openssl s_client report)
# -> IANA name (what mod_tls reports in SSL_CIPHER). TLS 1.3 suites have the same name in both.
TLS13_SUITES = ("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256")
TLS12_ECDSA_SUITES = {
    "ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
}
TLS12_RSA_SUITES = {
    "ECDHE-RSA-AES256-GCM-SHA384": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "ECDHE-RSA-CHACHA20-POLY1305": "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
}
OPENSSL_TO_IANA = {**{s: s for s in TLS13_SUITES}, **TLS12_ECDSA_SUITES, **TLS12_RSA_SUITES}


def iana_cipher_name(openssl_name: str) -> str:
    return OPENSSL_TO_IANA[openssl_name]


# The sanitizer build (`make sanitize`, docs/reliability.md). apache2 is not instrumented, so the
# ASan runtime has to be the first library of the process: with a preload (MODTLS_TEST_PRELOAD)
# apache2, and only apache2 (not the clients), gets it as LD_PRELOAD, and the sanitizers write
# their reports into files of SANITIZER_DIR in the server root, one per process, rather than to
# stderr (the error log of a running httpd, the captured output of `apache2 -t`), where nothing
# would look for them. These settings come first; what the caller has in ASAN_OPTIONS,
# LSAN_OPTIONS, UBSAN_OPTIONS follows and wins, except log_path. Every report is a failure
# (conftest.py).
SANITIZER_DIR = "sanitizer"
LSAN_SUPPRESSIONS = os.path.join(REPO_ROOT, "test", "lsan.supp")
SANITIZER_DEFAULTS = {
    "ASAN_OPTIONS": "detect_leaks=1:halt_on_error=1",
    "LSAN_OPTIONS": f"suppressions={LSAN_SUPPRESSIONS}:print_suppressions=0",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:report_error_type=1",
}

# httpd error log severities at which nothing a peer does may be logged
ERROR_LEVELS = ("error", "crit", "alert", "emerg")

CGI_ENV = r'''#!/usr/bin/python3
import os, sys
out = ["Content-Type: text/plain", ""]
out += ["%s=%s" % (k, os.environ[k]) for k in sorted(os.environ)]
sys.stdout.write("\r\n".join(out[:2]) + "\r\n" + "\n".join(out[2:]) + "\n")
'''

# the environment as one JSON object: values with newlines (SSL_SERVER_CERT) or '=' stay intact;
# bytes that are not UTF-8 come out as \udcXX escapes (surrogateescape)
CGI_ENV_JSON = r'''#!/usr/bin/python3
import json, os, sys
sys.stdout.write("Content-Type: application/json\r\n\r\n" + json.dumps(dict(os.environ), sort_keys=True) + "\n")
'''

CGI_UPLOAD = r'''#!/usr/bin/python3
import hashlib, os, sys
h = hashlib.sha256()
n = 0
while True:
    b = sys.stdin.buffer.read(1 << 20)
    if not b:
        break
    h.update(b)
    n += len(b)
sys.stdout.write("Content-Type: text/plain\r\n\r\n")
sys.stdout.write("sha256=%s\nlength=%d\ncontent_length=%s\n"
                 % (h.hexdigest(), n, os.environ.get("CONTENT_LENGTH", "")))
'''


CGI_STREAM = r'''#!/usr/bin/python3
import os, sys, time
qs = dict(p.split("=", 1) for p in os.environ.get("QUERY_STRING", "").split("&") if "=" in p)
sys.stdout.write("Content-Type: text/plain\r\n\r\n")
for i in range(int(qs.get("n", "2"))):
    sys.stdout.write("part %d\n" % i)
    sys.stdout.flush()
    time.sleep(float(qs.get("delay", "2")))
'''


class ServerError(Exception):
    """httpd did not do what was asked (start, restart, stop)."""


@dataclass
class ExecResult:
    args: List[str]
    rc: int
    stdout: str
    stderr: str
    duration: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return (f"$ {' '.join(self.args)}\nrc={self.rc} ({self.duration:.1f}s)\n"
                f"--- stdout\n{self.stdout[-4000:]}\n--- stderr\n{self.stderr[-4000:]}")


def run(args: Sequence[str], timeout: float = 30, input: Optional[bytes] = None,
        env: Optional[dict] = None) -> ExecResult:
    """Run a command with a hard timeout (subprocess.TimeoutExpired propagates and fails the test).
    `env`: the command's whole environment (default: ours)."""
    start = time.monotonic()
    p = subprocess.run(list(args), input=input, stdin=None if input is not None else subprocess.DEVNULL,
                       capture_output=True, timeout=timeout, env=env)
    return ExecResult(list(args), p.returncode, p.stdout.decode("utf-8", "replace"),
                      p.stderr.decode("utf-8", "replace"), time.monotonic() - start)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class TlsInfo:
    """What a client saw of a TLS session."""

    version: str
    cipher: str  # OpenSSL name
    alpn: Optional[str]
    cert_der: bytes

    @property
    def cert(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.cert_der)

    @property
    def iana_cipher(self) -> str:
        return iana_cipher_name(self.cipher)

    @property
    def dns_names(self) -> List[str]:
        return dns_names_of(self.cert)

    @property
    def key_type(self) -> str:
        return key_type_of(self.cert)


def tls_info(sock: ssl.SSLSocket) -> TlsInfo:
    return TlsInfo(sock.version(), sock.cipher()[0], sock.selected_alpn_protocol(),
                   sock.getpeercert(binary_form=True))


@dataclass
class CurlResponse:
    info: dict  # curl's %{json}
    headers: dict  # curl's %{header_json}: lower-case name -> list of values
    size: int = 0
    sha256: str = ""
    body: Optional[bytes] = None  # only kept for bodies up to CurlResult.KEEP_BODY bytes

    @property
    def status(self) -> int:
        return int(self.info.get("http_code", 0))

    @property
    def http_version(self) -> str:
        return str(self.info.get("http_version", ""))

    @property
    def num_connects(self) -> int:
        return int(self.info.get("num_connects", 0))

    @property
    def text(self) -> str:
        return (self.body or b"").decode("utf-8", "replace")

    def header(self, name: str) -> Optional[str]:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def env(self) -> dict:
        return HttpResponse("HTTP/1.1", self.status, "", body=self.body or b"").env()


@dataclass
class CurlResult:
    exec: ExecResult
    responses: List[CurlResponse] = field(default_factory=list)
    KEEP_BODY = 16 * 1024 * 1024

    @property
    def rc(self) -> int:
        return self.exec.rc

    @property
    def response(self) -> CurlResponse:
        assert self.responses, f"curl produced no response\n{self.exec}"
        return self.responses[0]

    def __str__(self) -> str:
        return str(self.exec)


@dataclass
class SClientResult:
    exec: ExecResult
    cert: Optional[x509.Certificate]
    protocol: Optional[str]
    cipher: Optional[str]
    alpn: Optional[str]

    @property
    def handshake_ok(self) -> bool:
        return self.cert is not None and self.cipher not in (None, "0000", "(NONE)")

    @property
    def key_type(self) -> Optional[str]:
        return key_type_of(self.cert) if self.cert else None

    @property
    def cert_der(self) -> Optional[bytes]:
        return self.cert.public_bytes(serialization.Encoding.DER) if self.cert else None

    @property
    def dns_names(self) -> List[str]:
        return dns_names_of(self.cert) if self.cert else []

    def __str__(self) -> str:
        return str(self.exec)

    @classmethod
    def parse(cls, r: ExecResult) -> "SClientResult":
        out = r.stdout
        m = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", out, re.S)
        cert = x509.load_pem_x509_certificate(m.group(0).encode()) if m else None
        m = re.search(r"^New, (\S+), Cipher is (\S+)", out, re.M)
        proto, cipher = (m.group(1), m.group(2)) if m else (None, None)
        alpn = re.search(r"^ALPN protocol: (\S+)", out, re.M)
        return cls(r, cert, proto, cipher, alpn.group(1) if alpn else None)


def client_hello_bytes(sni: str = "one.example.org") -> bytes:
    """The bytes of a real ClientHello (made by Python's ssl without any network)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


class TlsTestEnv:
    """Server root, httpd control, log access and clients for one test session.

    Ports (all on loopback): http_port (plain, main server, always listening), tls_port and
    tls_port2 (for mod_tls), ssl_port (for mod_ssl), plain_port (a second plain port) and
    spare_ports; they are consecutive from port_base.
    """

    def __init__(self, server_root: str, port_base: int = DEFAULT_PORT_BASE,
                 mod_tls_so: str = DEFAULT_MOD_TLS_SO, user: str = "daemon", group: str = "daemon",
                 preload: Optional[str] = None, sanitizer_dir: Optional[str] = None):
        """`preload`: libraries (separated by blanks or colons) apache2 runs with as LD_PRELOAD,
        the sanitizer runtimes for a sanitizer build; with it, sanitizer reports are collected
        in `sanitizer_dir` (default: SANITIZER_DIR in the server root; a second server of a test
        passes the session's, so that its reports are seen too)."""
        self.server_root = os.path.abspath(server_root)
        self.preload = " ".join((preload or "").replace(":", " ").split())
        self.mod_tls_so = mod_tls_so
        self.user, self.group = user, group
        self.port_base = port_base
        self.http_port = port_base
        self.tls_port = port_base + 1
        self.tls_port2 = port_base + 2
        self.ssl_port = port_base + 3
        self.plain_port = port_base + 4
        self.spare_ports = [port_base + i for i in range(5, 10)]
        self.conf_dir = os.path.join(self.server_root, "conf")
        self.conf_file = os.path.join(self.conf_dir, "httpd.conf")
        self.logs_dir = os.path.join(self.server_root, "logs")
        self.error_log = os.path.join(self.logs_dir, "error_log")
        self.access_log = os.path.join(self.logs_dir, "access_log")
        self.run_dir = os.path.join(self.server_root, "run")
        self.pid_file = os.path.join(self.run_dir, "httpd.pid")
        self.docroot = os.path.join(self.server_root, "htdocs")
        self.cgi_dir = os.path.join(self.server_root, "cgi-bin")
        self.tmp_dir = os.path.join(self.server_root, "tmp")
        self.sanitizer_dir = sanitizer_dir or os.path.join(self.server_root, SANITIZER_DIR)
        self._reports_seen = set()
        # False: servers started from now on do not check for leaks at exit (for tests that end
        # children while they hold connections on purpose: see leaks_at_exit)
        self.leak_checks = True
        self.certs: Optional[CertStore] = None
        self.listen_ports: List[Tuple[str, int]] = []
        self.last_start_mark = 0
        self._big_files = {}

    @property
    def rustls_version(self) -> str:
        """The rustls version rtls is built on, as rtls/Cargo.lock pins it."""
        lock = os.path.join(REPO_ROOT, "rtls", "Cargo.lock")
        with open(lock) as f:
            m = re.search(r'name = "rustls"\nversion = "([^"]+)"', f.read())
        if not m:
            raise ServerError(f"{lock} pins no rustls")
        return m.group(1)

    # ------------------------------------------------------------------ setup

    def setup(self) -> None:
        """Create a fresh server root: certificates, docroot, CGI scripts."""
        marker = os.path.join(self.server_root, ".modtls-test-root")
        if os.path.isdir(self.server_root) and os.listdir(self.server_root):
            if not os.path.exists(marker):
                raise ServerError(f"{self.server_root} exists and is not a server root made by this suite: "
                                  f"refusing to wipe it")
            self.stop_stale()
            shutil.rmtree(self.server_root)
        for d in (self.server_root, self.conf_dir, self.logs_dir, self.run_dir, self.docroot,
                  self.cgi_dir, self.tmp_dir):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        # the children (User daemon) must be able to reach the docroot through all parents
        for d in self._parents(self.server_root):
            if not os.stat(d).st_mode & 0o001:
                raise ServerError(f"{d} is not searchable by {self.user}; choose another --server-root")
        open(marker, "w").close()
        if self.preload:
            # written by the parent (root) and by the children (User daemon)
            os.makedirs(self.sanitizer_dir, exist_ok=True)
            pw = pwd.getpwnam(self.user)
            os.chown(self.sanitizer_dir, pw.pw_uid, pw.pw_gid)
            os.chmod(self.sanitizer_dir, 0o755)
        self.certs = CertStore(self.server_root)
        self.write_doc("index.html", b"<html><body>mod_tls test server</body></html>\n")
        self.write_doc("dir/index.html", b"dir index\n")
        self._write_cgi("env.py", CGI_ENV)
        self._write_cgi("envjson.py", CGI_ENV_JSON)
        self._write_cgi("upload.py", CGI_UPLOAD)
        self._write_cgi("stream.py", CGI_STREAM)

    @staticmethod
    def _parents(path: str) -> Iterable[str]:
        path = os.path.dirname(path)
        while path and path != "/":
            yield path
            path = os.path.dirname(path)

    def _write_cgi(self, name: str, text: str) -> None:
        path = os.path.join(self.cgi_dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)

    def write_doc(self, relpath: str, data: bytes, docroot: Optional[str] = None) -> str:
        """Write a file below the docroot (or the given one); returns its absolute path."""
        path = os.path.join(docroot or self.docroot, relpath)
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o644)
        return path

    def data_file(self, size: int, name: Optional[str] = None) -> Tuple[str, str]:
        """A file of `size` random bytes under /data/ in the main docroot (made once per session).
        Returns (url path, sha256)."""
        name = name or f"data-{size}.bin"
        if name not in self._big_files:
            path = os.path.join(self.docroot, "data", name)
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            h = hashlib.sha256()
            with open(path, "wb") as f:
                left = size
                while left > 0:
                    chunk = os.urandom(min(left, 1 << 20))
                    h.update(chunk)
                    f.write(chunk)
                    left -= len(chunk)
            os.chmod(path, 0o644)
            self._big_files[name] = (f"/data/{name}", h.hexdigest())
        return self._big_files[name]

    def doc_path(self, url_path: str) -> str:
        return os.path.join(self.docroot, url_path.lstrip("/"))

    def vhost_docroot(self, name: str) -> str:
        """htdocs/vhosts/NAME, whose index.html says NAME (so a test sees which vhost answered)."""
        d = os.path.join(self.docroot, "vhosts", name)
        index = os.path.join(d, "index.html")
        if not os.path.exists(index):
            self.write_doc("index.html", f"{name}\n".encode(), docroot=d)
        return d

    # ----------------------------------------------------------- configuration

    def vhost(self, name: str, port: int, *lines: str, certs: Sequence[Credential] = (),
              aliases: Sequence[str] = (), addr: str = "*", docroot: Optional[str] = None) -> str:
        """A <VirtualHost addr:port> section with ServerName NAME, its own docroot (index.html
        says NAME), one TLSCertificate line per credential and the given extra lines."""
        body = [f"ServerName {name}"]
        if aliases:
            body.append("ServerAlias " + " ".join(aliases))
        body.append(f'DocumentRoot "{docroot or self.vhost_docroot(name)}"')
        body += [c.tls_line() for c in certs]
        body += list(lines)
        inner = "\n".join("    " + ln for b in body for ln in b.splitlines())
        return f"<VirtualHost {addr}:{port}>\n{inner}\n</VirtualHost>\n"

    def write_config(self, body: str = "", *, mod_tls: bool = True, mod_ssl: bool = False, http2: bool = True,
                     listen: Iterable[Union[int, str]] = (), log_level: str = "info", timeout: int = 30,
                     modules: Iterable[str] = (), protocols: Optional[str] = "h2 http/1.1") -> str:
        """Write conf/httpd.conf: the fixed base (modules, paths, logs, docroot, CGI) plus `body`.
        `listen`: ports (-> 127.0.0.1:PORT) or "addr:port" strings, in addition to the main
        server's plain http_port. Returns the file name."""
        if mod_tls and not os.path.isfile(self.mod_tls_so):
            raise ServerError(f"mod_tls is not built: {self.mod_tls_so} does not exist "
                              f"(build it, or point MOD_TLS_SO at it)")
        mods = list(BASE_MODULES) + list(modules)
        if http2:
            mods.append("http2")
        if mod_ssl:
            mods.append("ssl")
        load = [f"LoadModule {m}_module {MODULES_DIR}/mod_{m}.so" for m in dict.fromkeys(mods)]
        if mod_tls:
            load.append(f"LoadModule tls_module {self.mod_tls_so}")
        listens = [("127.0.0.1", self.http_port)]
        for item in listen:
            if isinstance(item, int):
                listens.append(("127.0.0.1", item))
            else:
                host, _, port = item.rpartition(":")
                listens.append((host.strip("[]"), int(port)))
        self.listen_ports = list(dict.fromkeys(listens))
        listen_lines = [f"Listen [{h}]:{p}" if ":" in h else f"Listen {h}:{p}" for h, p in self.listen_ports]
        text = f"""# generated by the mod_tls test suite
ServerRoot "{self.server_root}"
DefaultRuntimeDir "{self.run_dir}"
PidFile "{self.pid_file}"
Mutex file:{self.run_dir} default
{chr(10).join(load)}

User {self.user}
Group {self.group}
ServerName main.example.org
ServerAdmin admin@example.org
{chr(10).join(listen_lines)}

ErrorLog "{self.error_log}"
LogLevel {log_level}
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog "{self.access_log}" common
TypesConfig /etc/mime.types
Timeout {timeout}
KeepAlive On
KeepAliveTimeout 5
MaxKeepAliveRequests 1000
<IfModule mpm_event_module>
    StartServers 2
    ServerLimit 16
    ThreadsPerChild 25
    MaxRequestWorkers 100
    MinSpareThreads 10
    MaxSpareThreads 75
</IfModule>
{"Protocols " + protocols if protocols and http2 else ""}

DocumentRoot "{self.docroot}"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{self.docroot}">
    Options FollowSymLinks
    Require all granted
</Directory>
DirectoryIndex index.html
ScriptSock "{self.run_dir}/cgid.sock"
ScriptAlias /cgi-bin/ "{self.cgi_dir}/"
<Directory "{self.cgi_dir}">
    Options +ExecCGI
    Require all granted
</Directory>

# ---- test specific
{body}
"""
        with open(self.conf_file, "w") as f:
            f.write(text)
        return self.conf_file

    # ----------------------------------------------------------- server control

    def apache2(self, *args: str, timeout: float = 30) -> ExecResult:
        return run([APACHE2, "-d", self.server_root, "-f", self.conf_file, *args], timeout=timeout,
                   env=self.apache2_environ())

    def apache2_environ(self) -> Optional[dict]:
        """apache2's environment: ours, plus the preload and the sanitizer settings when there
        is a preload (see SANITIZER_DEFAULTS); None (ours unchanged) without one."""
        if not self.preload:
            return None
        environ = dict(os.environ)
        environ["LD_PRELOAD"] = self.preload
        log_path = os.path.join(self.sanitizer_dir, "report")
        for name, defaults in SANITIZER_DEFAULTS.items():
            given = os.environ.get(name, "")
            forced = [f"log_path={log_path}"] + (["detect_leaks=0"] if name == "ASAN_OPTIONS" and not self.leak_checks
                                                 else [])
            environ[name] = ":".join(o for o in [defaults, given] + forced if o)
        return environ

    def new_sanitizer_reports(self) -> List[Tuple[str, str]]:
        """Sanitizer reports written since the last call: (file name, text) of each new file.
        A leak is reported when its process exits (children at a stop or graceful restart)."""
        found = []
        for path in sorted(glob.glob(os.path.join(self.sanitizer_dir, "report*"))):
            if path not in self._reports_seen:
                self._reports_seen.add(path)
                with open(path, "rb") as f:
                    found.append((path, f.read().decode("utf-8", "replace")))
        return found

    def configtest(self) -> ExecResult:
        return self.apache2("-t")

    def read_pid(self) -> Optional[int]:
        try:
            with open(self.pid_file) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _alive(pid: int) -> bool:
        """Alive and not a zombie (the daemonized parent is reaped by init, maybe late)."""
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state not in ("Z", "X")

    @staticmethod
    def _is_apache(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return b"apache2" in f.read()
        except OSError:
            return False

    @staticmethod
    def _children(pid: int) -> List[int]:
        kids = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as f:
                        if int(f.read().rsplit(")", 1)[1].split()[2]) == pid:
                            kids.append(int(d))
                except (OSError, ValueError, IndexError):
                    pass
        return kids

    def is_running(self) -> bool:
        pid = self.read_pid()
        return pid is not None and self._alive(pid)

    def start(self, timeout: float = 20) -> ExecResult:
        """`apache2 -k start` and wait until it serves; raises ServerError if it does not."""
        if self.is_running():
            raise ServerError(f"httpd already running (pid {self.read_pid()})")
        mark = self.last_start_mark = self.log_mark()
        r = self.apache2("-k", "start", timeout=timeout)
        if r.rc != 0:
            raise ServerError(f"httpd did not start\n{r}\n--- error log\n{self.log_since(mark)[-4000:]}")
        self.wait_ready(mark, timeout)
        return r

    def wait_ready(self, mark: int, timeout: float = 20) -> None:
        """Wait (bounded) for the "resuming normal operations" line after `mark` and for all
        Listen ports to accept connections."""
        deadline = time.monotonic() + timeout
        while not re.search(r"resuming normal operations", self.log_since(mark)):
            pid = self.read_pid()
            if time.monotonic() > deadline or (pid is not None and not self._alive(pid)):
                raise ServerError(f"httpd is not serving\n--- error log\n{self.log_since(mark)[-4000:]}")
            time.sleep(0.05)
        for host, port in self.listen_ports:
            while True:
                try:
                    with socket.create_connection((host, port), timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise ServerError(f"nothing accepts on {host}:{port}")
                    time.sleep(0.05)

    def start_expect_failure(self, timeout: float = 20) -> str:
        """Start httpd with a config that must be refused. Returns what httpd said (the start
        command's output and the error log written meanwhile). Raises ServerError if httpd came
        up anyway (and stops it)."""
        self.stop()
        mark = self.last_start_mark = self.log_mark()
        r = self.apache2("-k", "start", timeout=timeout)
        if r.rc == 0:
            # maybe it failed after daemonizing: give it time to come up or die
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and "resuming normal operations" not in self.log_since(mark):
                pid = self.read_pid()
                if pid is not None and not self._alive(pid):
                    break
                time.sleep(0.1)
            if self.is_running():
                self.stop()
                raise ServerError(f"httpd started although the config is broken\n{r}\n"
                                  f"--- error log\n{self.log_since(mark)[-4000:]}")
        return r.output + "\n" + self.log_since(mark)

    def stop(self, timeout: float = 15, open_connections: bool = False) -> None:
        """Stop the server of our PidFile (SIGTERM to that pid), wait until it is gone.
        `open_connections`: the test holds connections open through the stop on purpose (with
        the sanitizer build, do not wait for them to close first)."""
        pid = self.read_pid()
        if pid is None or not self._alive(pid):
            # a PidFile left by an httpd that ended without removing it (e.g. a restart into a
            # configuration that failed) would make the next start's wait see a dead server
            if pid is not None and os.path.exists(self.pid_file):
                os.unlink(self.pid_file)
            return
        if self.preload and not open_connections:
            self.wait_connections_closed()
        kids = self._children(pid)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self._alive(pid) or any(self._alive(k) and self._is_apache(k) for k in kids):
            if time.monotonic() > deadline:
                for p in [pid] + kids:
                    if self._alive(p) and self._is_apache(p):
                        os.kill(p, signal.SIGKILL)
                raise ServerError(f"httpd (pid {pid}) did not stop within {timeout}s, killed")
            time.sleep(0.05)
        if os.path.exists(self.pid_file) and not self._alive(pid):
            os.unlink(self.pid_file)

    # /proc/net/tcp states: LISTEN and TIME_WAIT hold no connection of httpd's
    _TCP_IDLE_STATES = ("0A", "06")

    def open_connections(self) -> List[str]:
        """Server-side sockets on our Listen ports that a process still holds (not closed, or in
        lingering close), as "local-port state" strings."""
        ports = {p for _, p in self.listen_ports}
        found = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    rows = f.read().splitlines()[1:]
            except OSError:
                continue
            for row in rows:
                cols = row.split()
                port, state, inode = int(cols[1].rsplit(":", 1)[1], 16), cols[3], cols[9]
                if port in ports and state not in self._TCP_IDLE_STATES and inode != "0":
                    found.append(f"{port} {state}")
        return found

    def wait_connections_closed(self, timeout: float = 5) -> None:
        """Wait (bounded) until httpd holds no connection on our ports. The sanitizer run stops
        httpd this way: a child that exits (SIGTERM) while a connection is open, in lingering close
        say, never destroys that connection's pool, and its memory would count as leaked. Tests
        close their clients before a stop; this waits for httpd to finish its side."""
        deadline = time.monotonic() + timeout
        while self.open_connections() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.05)  # the socket's close comes just before its pool's

    def stop_stale(self) -> None:
        """Stop an httpd left running from an earlier session on this server root."""
        pid = self.read_pid()
        if pid is not None and self._alive(pid) and self._is_apache(pid):
            self.stop()

    def restart(self) -> None:
        """Full restart: stop, then start."""
        self.stop()
        self.start()

    def graceful(self, timeout: float = 20) -> None:
        """`apache2 -k graceful` and wait until the new generation serves."""
        mark = self.last_start_mark = self.log_mark()
        r = self.apache2("-k", "graceful", timeout=timeout)
        if r.rc != 0:
            raise ServerError(f"graceful restart refused\n{r}")
        self.wait_ready(mark, timeout)

    def serve(self, body: str = "", **config) -> None:
        """Write the config (see write_config) and (re)start httpd on it."""
        self.stop()
        self.write_config(body, **config)
        self.start()

    # ---------------------------------------------------------------- logs

    def log_mark(self, path: Optional[str] = None) -> int:
        try:
            return os.path.getsize(path or self.error_log)
        except OSError:
            return 0

    def log_since(self, mark: int = 0, path: Optional[str] = None) -> str:
        try:
            with open(path or self.error_log, "rb") as f:
                f.seek(mark)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_lines(self, mark: int = 0, pattern: Optional[str] = None, path: Optional[str] = None) -> List[str]:
        lines = self.log_since(mark, path).splitlines()
        return [ln for ln in lines if pattern is None or re.search(pattern, ln)]

    def log_errors(self, mark: int = 0, module: Optional[str] = None) -> List[str]:
        """Error log lines at error level or worse (optionally of one module) since `mark`."""
        mod = re.escape(module) if module else r"[\w-]+"
        return self.log_lines(mark, rf"\[{mod}:(?:{'|'.join(ERROR_LEVELS)})\]")

    def wait_log(self, pattern: str, mark: int = 0, path: Optional[str] = None, timeout: float = 5) -> List[str]:
        """Wait (bounded) until a line matching `pattern` appears after `mark`; returns the matches."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.log_lines(mark, pattern, path)
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    # ------------------------------------------------------------- clients

    @property
    def ca_file(self) -> str:
        return self.certs.ca_file

    def url(self, host: str, port: int, path: str = "/", scheme: str = "https") -> str:
        h = f"[{host}]" if ":" in host else host
        return f"{scheme}://{h}:{port}{path}"

    def curl_args(self, urls: Sequence[str], *args: str, timeout: float = 30,
                  resolve_to: Optional[str] = "127.0.0.1", outputs: Optional[Sequence[str]] = None) -> List[str]:
        """The curl command line: our CA, --resolve for every host name in `urls`, one -o per URL."""
        cmd = ["curl", "-sS", "--max-time", str(timeout), "--cacert", self.ca_file]
        resolved = set()
        for u in urls:
            parts = urlsplit(u)
            host, port = parts.hostname, parts.port
            if resolve_to and host and not re.match(r"^[\d.]+$|:", host) and (host, port) not in resolved:
                resolved.add((host, port))
                cmd += ["--resolve", f"{host}:{port}:{resolve_to}"]
        cmd += list(args)
        for i, u in enumerate(urls):
            cmd += ["-o", outputs[i] if outputs else "/dev/null", u]
        return cmd

    def curl(self, urls: Union[str, Sequence[str]], *args: str, timeout: float = 30,
             resolve_to: Optional[str] = "127.0.0.1") -> CurlResult:
        """Run curl on one or more URLs. Bodies are hashed (and kept when small); per-URL info
        comes from curl's %{json} and %{header_json}."""
        urls = [urls] if isinstance(urls, str) else list(urls)
        tmp = tempfile.mkdtemp(dir=self.tmp_dir, prefix="curl-")
        try:
            outputs = [os.path.join(tmp, f"body{i}") for i in range(len(urls))]
            wfmt = "<<<J>>>%{json}<<<H>>>%{header_json}<<<E>>>\n"
            cmd = self.curl_args(urls, *args, "-w", wfmt, timeout=timeout, resolve_to=resolve_to,
                                 outputs=outputs)
            r = run(cmd, timeout=timeout + 10)
            result = CurlResult(r)
            for i, m in enumerate(re.finditer(r"<<<J>>>(.*?)<<<H>>>(.*?)<<<E>>>", r.stdout, re.S)):
                resp = CurlResponse(json.loads(m.group(1)), json.loads(m.group(2) or "{}"))
                if i < len(outputs) and os.path.exists(outputs[i]):
                    resp.size = os.path.getsize(outputs[i])
                    resp.sha256 = sha256_file(outputs[i])
                    if resp.size <= CurlResult.KEEP_BODY:
                        with open(outputs[i], "rb") as f:
                            resp.body = f.read()
                result.responses.append(resp)
            return result
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def s_client(self, port: int, *args: str, sni: Optional[str] = None, host: str = "127.0.0.1",
                 input: bytes = b"", timeout: float = 15) -> SClientResult:
        """openssl s_client against host:port; sni=None sends no SNI (-noservername)."""
        cmd = ["openssl", "s_client", "-connect", f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
               "-CAfile", self.ca_file]
        cmd += ["-servername", sni] if sni else ["-noservername"]
        return SClientResult.parse(run(cmd + list(args), timeout=timeout, input=input))

    def nghttp(self, url: str, *args: str, timeout: float = 30) -> ExecResult:
        return run(["nghttp", "-t", str(timeout), *args, url], timeout=timeout + 10)

    def tls_context(self, *, alpn: Optional[Sequence[str]] = None, min_version: Optional[str] = None,
                    max_version: Optional[str] = None, ciphers: Optional[str] = None,
                    verify: bool = True) -> ssl.SSLContext:
        """A client context trusting our CA; versions as "TLSv1.2"/"TLSv1.3"; hostname checks off
        (tests compare the received certificate themselves)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        if verify:
            ctx.load_verify_locations(self.ca_file)
        else:
            ctx.verify_mode = ssl.CERT_NONE
        versions = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}
        if min_version:
            ctx.minimum_version = versions[min_version]
        if max_version:
            ctx.maximum_version = versions[max_version]
        if ciphers:
            ctx.set_ciphers(ciphers)
        if alpn:
            ctx.set_alpn_protocols(list(alpn))
        return ctx

    def tls_connect(self, port: int, *, sni: Optional[str] = None, host: str = "127.0.0.1",
                    timeout: float = 10, **ctx_args) -> ssl.SSLSocket:
        """A TLS connection after its handshake (raises ssl.SSLError/OSError if it fails).
        sni=None: no SNI extension."""
        ctx = self.tls_context(**ctx_args)
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            return ctx.wrap_socket(sock, server_hostname=sni)
        except BaseException:
            sock.close()
            raise

    def tls_handshake(self, port: int, **kw) -> TlsInfo:
        """Handshake only; returns what the client saw."""
        with self.tls_connect(port, **kw) as s:
            return tls_info(s)

    def tls_handshake_error(self, port: int, **kw) -> Optional[Exception]:
        """The exception a failing handshake raised, or None if it succeeded."""
        try:
            self.tls_handshake(port, **kw)
        except (ssl.SSLError, OSError) as e:
            return e
        return None

    def http_request(self, port: int, path: str = "/", *, host: Optional[str] = None, tls: bool = True,
                     sni: Optional[str] = None, addr: str = "127.0.0.1", timeout: float = 10,
                     method: str = "GET", headers: Sequence[Tuple[str, str]] = (),
                     body: Optional[bytes] = None, **ctx_args) -> Tuple[HttpResponse, Optional[TlsInfo]]:
        """One HTTP/1.1 request on a new connection (TLS unless tls=False). The Host header is
        `host` (default: the SNI, else the address) plus the port."""
        hostname = host or sni or addr
        hosthdr = f"{hostname}:{port}" if ":" not in hostname else f"[{hostname}]:{port}"
        if tls:
            sock = self.tls_connect(port, sni=sni, host=addr, timeout=timeout, **ctx_args)
        else:
            sock = socket.create_connection((addr, port), timeout=timeout)
        with sock:
            info = tls_info(sock) if tls else None
            conn = HttpConnection(sock, timeout)
            resp = conn.request(path, hosthdr, method=method, headers=headers, body=body, close=True)
            return resp, info
