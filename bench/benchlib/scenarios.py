"""The scenarios of the benchmark: one entry each, in the order they run.

A scenario names its load (see loads.py), the unit of work its figure is per, and the target
for the mod_tls / mod_ssl ratio of the medians (from the issue of the move to rustls 0.23). Every figure is a
cost (server CPU time per unit, or memory per connection): lower is better, and a ratio below 1
means mod_tls needs less than mod_ssl.

`unavailable` lists the servers a scenario cannot run on yet, with the reason. When mod_tls
gains session resumption, delete its entry from the resumed-handshake scenarios; to have their
resumption checked in the access log, mod_tls then also needs to provide SSL_SESSION_RESUMED
(see check_log in loads.py).
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from .loads import BulkLoad, HandshakeLoad, KeepAliveLoad



@dataclass
class Scenario:
    name: str
    group: str
    title: str
    unit: str  # the unit of the figure (per unit of work)
    rate_unit: str  # the unit of the throughput figure
    target: Optional[float]
    load: object = None
    kind: str = "cpu"  # "cpu": server CPU per unit of work; "memory": memory per idle connection
    # how much the load does per run (seconds or requests, as the load's run() takes it), in a
    # full run, in --quick, and in the warm-up
    amount: float = 0
    quick_amount: float = 0
    warmup_amount: float = 0
    amount_is_seconds: bool = False
    unavailable: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)


def all_scenarios() -> List[Scenario]:
    s = []
    for tls in ("13", "12"):
        for cert, target in (("ecdsa", 0.60), ("rsa", 0.90)):
            s.append(Scenario(
                name=f"hs-full-tls{tls}-{cert}", group="full handshake",
                title=f"full handshake, TLS 1.{tls[1]}, {cert.upper()} ({'P-256' if cert == 'ecdsa' else '2048'})",
                unit="µs CPU/handshake", rate_unit="handshakes/s", target=target,
                load=HandshakeLoad(cert, tls), amount=3.0, quick_amount=1.0, warmup_amount=0.5,
                amount_is_seconds=True))
    for tls, resume, label in (("13", "tickets", "TLS 1.3 (ticket)"), ("12", "tickets", "TLS 1.2, ticket"),
                               ("12", "ids", "TLS 1.2, session id")):
        s.append(Scenario(
            name=f"hs-resumed-tls{tls}-{resume}", group="resumed handshake", title=f"resumed handshake, {label}",
            unit="µs CPU/handshake", rate_unit="handshakes/s", target=0.60,
            load=HandshakeLoad("ecdsa", tls, resume=resume), amount=2.0, quick_amount=1.0, warmup_amount=0.5,
            amount_is_seconds=True))
    s.append(Scenario(
        name="conn-plain", group="reference",
        title="plain HTTP connection, one request, no TLS: what httpd and the kernel cost underneath "
              "every handshake figure (no target)",
        unit="µs CPU/connection", rate_unit="connections/s", target=None,
        load=HandshakeLoad("plain", "plain"), amount=2.0, quick_amount=1.0, warmup_amount=0.5,
        amount_is_seconds=True))
    for h2 in (False, True):
        s.append(Scenario(
            name=f"ka-{'h2' if h2 else 'h1'}-1k", group="keep-alive",
            title=f"keep-alive 1 KiB requests, {'h2 (10 streams/conn)' if h2 else 'HTTP/1.1'}, 8 conns",
            unit="µs CPU/request", rate_unit="requests/s", target=0.90, load=KeepAliveLoad(h2),
            amount=15000 if h2 else 20000, quick_amount=3000 if h2 else 4000, warmup_amount=500))
    for suite in ("aes128gcm", "chacha20"):
        for conns in (1, 8):
            s.append(Scenario(
                name=f"bulk-{suite}-{conns}conn", group="bulk",
                title=f"bulk download, TLS 1.3 {'AES-128-GCM' if suite == 'aes128gcm' else 'ChaCha20-Poly1305'}, "
                      f"{conns} conn{'s' if conns > 1 else ''}",
                unit="µs CPU/MiB", rate_unit="MiB/s", target=0.60, load=BulkLoad(conns, suite)))
    s.append(Scenario(
        name="mem-idle-total", group="memory", title="memory per idle TLS connection (1000 open), all of it",
        unit="KiB RSS/conn", rate_unit="", target=0.50, kind="memory"))
    s.append(Scenario(
        name="mem-idle-tls", group="memory",
        title="memory per idle TLS connection, minus a plain HTTP connection",
        unit="KiB RSS/conn", rate_unit="", target=0.25, kind="memory-derived"))
    return s
