"""The benchmark's Rust tools (bench/hsload, bench/callgrind; built offline with cargo) and the
deterministic figure:
instructions the rtls server API executes per full handshake and per MiB encrypted, counted by
`valgrind --tool=callgrind` on the in-process driver rtls-callgrind.

Only the driver's `bench_srv_hs_*` (handshake) or `bench_srv_enc_*` (application data)
functions are counted (--collect-atstart=no --toggle-collect=...): the rustls client in the
same process is not.

glibc's memcpy copies large blocks with `rep movsb`, which valgrind counts as one instruction per
byte; that would make copies look 10-20 times dearer than they are next to the AES-GCM code. The
counted runs therefore set GLIBC_TUNABLES so memcpy uses its vector loop. One extra run without
the tunable measures the bytes memcpy moves per plaintext byte (the number of copies), a
diagnostic for "copies between brigades and rustls buffers". A last native run of the driver
reports the heap rtls/rustls hold per idle connection (glibc mallinfo2).
"""

import os
import re
import subprocess
import tempfile
from typing import Dict, List, Optional

NO_REP_MOVSB = "glibc.cpu.x86_rep_movsb_threshold=4294967295"


def crates_dir() -> str:
    """The registry directory with the locked crates (fetched there if missing)."""
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          "scripts", "crates.sh")
    subprocess.run([script, "fetch"], check=True, timeout=600)
    return subprocess.run([script, "dir"], check=True, stdout=subprocess.PIPE, text=True).stdout.strip()


def build_tools(bench_dir: str, target_dir: str, cargo: str, log, callgrind: bool = True) -> Dict[str, Optional[str]]:
    """Build bench/hsload (the handshake client; rebuilt only when it changes) and, if asked,
    bench/callgrind (the driver; rebuilt whenever rtls changes). Returns the binaries' paths,
    None for one that did not build."""
    paths: Dict[str, Optional[str]] = {}
    for pkg, binary in (("hsload", "hsload"), ("callgrind", "rtls-callgrind")):
        if pkg == "callgrind" and not callgrind:
            paths[binary] = None
            continue
        # cargo reads .cargo/config.toml (the offline source replacement) from the working directory;
        # the directory of the crates is the build's (scripts/crates.sh)
        cmd = [cargo, "build", "--release", "--offline", "--locked", "--target-dir", target_dir,
               "--config", f'source.debian.directory="{crates_dir()}"']
        src = os.path.join(bench_dir, pkg)
        log(f"building {binary}: (cd {os.path.relpath(src)} && {' '.join(cmd)})")
        r = subprocess.run(cmd, cwd=src, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1200)
        if r.returncode != 0:
            log(f"building {binary} failed:\n" + "\n".join(r.stdout.splitlines()[-25:]))
            paths[binary] = None
        else:
            paths[binary] = os.path.join(target_dir, "release", binary)
    return paths


def _callgrind(driver: str, args: List[str], toggle: str, cpu: Optional[int], tunables: bool) -> Dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        out_file = os.path.join(tmp, "callgrind.out")
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", "--collect-atstart=no",
               f"--toggle-collect={toggle}", driver] + args
        if cpu is not None:
            cmd = ["taskset", "-c", str(cpu)] + cmd
        env = dict(os.environ)
        if tunables:
            env["GLIBC_TUNABLES"] = NO_REP_MOVSB
        else:
            env.pop("GLIBC_TUNABLES", None)
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=900, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.strip()[-400:]}")
        total = None
        with open(out_file) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    total = int(line.split()[1])
                    break
        if total is None:
            raise RuntimeError("no totals in the callgrind output")
        memcpy = None
        if not tunables:
            memcpy = _memcpy_ir(out_file)
        return {"ir": total, "stdout": r.stdout.strip(), "memcpy_ir": memcpy}


def _memcpy_ir(out_file: str) -> Optional[int]:
    """Self cost of memcpy/memmove in a callgrind output (via callgrind_annotate)."""
    r = subprocess.run(["callgrind_annotate", "--inclusive=no", "--auto=no", out_file], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        return None
    total, in_table = 0, False
    for line in r.stdout.splitlines():
        if "file:function" in line:
            in_table = True
            continue
        if not in_table:
            continue
        m = re.match(r"\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.*)", line)
        if m and re.search(r"mem(cpy|move)", m.group(2)):
            total += int(m.group(1).replace(",", ""))
    return total


def _expect(stdout: str, version: str, suite: str) -> List[str]:
    problems = []
    if f"version={version}" not in stdout:
        problems.append(f"expected version {version}: {stdout}")
    if f"suite={suite}" not in stdout:
        problems.append(f"expected suite {suite}: {stdout}")
    return problems


def run_cases(driver: str, certs: Dict[str, Dict[str, str]], handshakes: int, mib: int, cpu: Optional[int],
              log, copies: bool = True) -> List[Dict[str, object]]:
    cases = []
    suites12 = {"ecdsa": "0xc02b", "rsa": "0xc02f"}
    for tls in ("13", "12"):
        for kind in ("ecdsa", "rsa"):
            cases.append({
                "name": f"hs-tls{tls}-{kind}", "what": f"full handshake, TLS 1.{tls[1]}, {kind.upper()}, AES-128-GCM",
                "unit": "instructions/handshake", "per": handshakes, "toggle": "bench_srv_hs_*",
                "args": ["handshake", "--cert", certs[kind]["cert"], "--key", certs[kind]["key"], "--tls", tls,
                         "--suite", "aes128gcm", "--count", str(handshakes)],
                "version": "0x0304" if tls == "13" else "0x0303",
                "suite": "0x1301" if tls == "13" else suites12[kind]})
    for suite, sid in (("aes128gcm", "0x1301"), ("chacha20", "0x1303")):
        cases.append({
            "name": f"bulk-{suite}", "what": f"encrypting 16 KiB records, TLS 1.3 {suite}",
            "unit": "instructions/MiB", "per": mib, "toggle": "bench_srv_enc_*",
            "args": ["bulk", "--cert", certs["ecdsa"]["cert"], "--key", certs["ecdsa"]["key"], "--tls", "13",
                     "--suite", suite, "--count", str(mib)],
            "version": "0x0304", "suite": sid})
    results = []
    for c in cases:
        entry = {k: c[k] for k in ("name", "what", "unit", "per")}
        try:
            r = _callgrind(driver, c["args"], c["toggle"], cpu, tunables=True)
            entry["instructions"] = r["ir"]
            entry["value"] = r["ir"] / c["per"]
            entry["problems"] = _expect(r["stdout"], c["version"], c["suite"])
            if copies and c["name"] == "bulk-aes128gcm":
                d = _callgrind(driver, c["args"], c["toggle"], cpu, tunables=False)
                if d["memcpy_ir"] is not None:
                    # with rep movsb each byte is one instruction: memcpy Ir ~ bytes copied
                    entry["memcpy_bytes_per_plaintext_byte"] = d["memcpy_ir"] / (c["per"] * 1024 * 1024)
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
            entry["error"] = str(e)
        log(f"  callgrind {c['name']}: " + (f"{entry['value']:,.0f} {c['unit']}" if "value" in entry
                                            else f"FAILED {entry.get('error')}"))
        results.append(entry)
    results.append(idle_heap(driver, certs, cpu, log))
    return results


def idle_heap(driver: str, certs: Dict[str, Dict[str, str]], cpu: Optional[int], log,
              count: int = 200) -> Dict[str, object]:
    """Not callgrind: heap the rtls side keeps per idle connection (after a TLS 1.3 handshake, a
    request and a 1 KiB response), from glibc's mallinfo2 in the driver."""
    entry: Dict[str, object] = {"name": "idle-heap", "what": "heap held per idle connection by rtls/rustls",
                                "unit": "bytes/connection", "per": count}
    cmd = [driver, "idle", "--cert", certs["ecdsa"]["cert"], "--key", certs["ecdsa"]["key"], "--tls", "13",
           "--count", str(count)]
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    m = re.search(r"heap_bytes_per_conn=(-?\d+) rss_bytes_per_conn=(-?\d+)", r.stdout)
    if r.returncode == 0 and m:
        entry["value"] = int(m.group(1))
        entry["rss_bytes_per_conn"] = int(m.group(2))
        entry["problems"] = []
    else:
        entry["error"] = (r.stderr or r.stdout).strip()[-300:]
    log("  per idle connection (rtls): " + (f"{entry['value']:,} bytes of malloc heap, "
                                            f"{entry['rss_bytes_per_conn']:,} bytes resident"
                                            if "value" in entry else f"FAILED {entry.get('error')}"))
    return entry
