#!/usr/bin/python3
"""mod_tls vs mod_ssl, side by side: the benchmark behind `make bench` (run it as bench/run.sh).

Starts two private httpd instances (Debian's apache2, event MPM, same settings), one with
mod_ssl and one with mod_tls, pinned to the server CPU; runs each scenario against both,
alternating, several times, with the load generator on the client CPU; and reports, per
scenario, the median server CPU time per unit of work (or memory per idle connection) of
each, their ratio mod_tls / mod_ssl and whether the issue's target is met. Then counts
instructions of the rtls binding alone with callgrind. See docs/benchmark.md.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from benchlib import callgrind, procs  # noqa: E402
from benchlib.httpd import BenchError, Instance, make_certs, make_docroot  # noqa: E402
from benchlib.loads import Env  # noqa: E402
from benchlib.scenarios import Scenario, all_scenarios  # noqa: E402

IMPLS = ("mod_ssl", "mod_tls")
T0 = time.time()


def log(msg: str) -> None:
    print(f"[{time.time() - T0:6.1f}s] {msg}", flush=True)


# ---- settings ------------------------------------------------------------------------------

class Settings:
    def __init__(self, a: argparse.Namespace):
        q = a.quick
        self.quick = q
        self.reps = a.reps or (1 if q else 5)
        self.seconds = a.seconds  # overrides the length of timed runs
        self.bulk_mib = 32 if q else 100  # the file each bulk connection downloads
        self.mem_conns = 1000
        self.mem_reps = a.reps or (1 if q else 3)
        self.mem_plain = not q  # the plain HTTP baseline (mem-idle-tls) doubles the restarts
        self.cg_handshakes = 2 if q else 20
        self.cg_mib = 2 if q else 16
        self.cg_copies = not q
        self.warmup = not q


# ---- measuring -----------------------------------------------------------------------------

def run_cpu_sample(sc: Scenario, inst: Instance, env: Env, st: Settings, tag: str, warmup: bool = False) -> Dict:
    """One run of a CPU scenario against one instance: server CPU time around the load."""
    load = sc.load
    amount = sc.warmup_amount if warmup else sc.quick_amount if st.quick else sc.amount
    if sc.amount_is_seconds and st.seconds and not warmup:
        amount = st.seconds
    err_mark = inst.error_mark()
    cpu0_before = procs.cpu_ticks(inst.cpu)
    before = procs.cpu_sample(inst.pid)
    t0 = time.time()
    la = procs.loadavg()
    res = load.run(env, inst, tag, amount)
    time.sleep(0.2)  # let the server finish closing connections
    after = procs.cpu_sample(inst.pid)
    cpu0_after = procs.cpu_ticks(inst.cpu)
    span = time.time() - t0
    d = procs.cpu_delta(before, after)
    # what else kept the server's CPU busy meanwhile (other processes, interrupts), as a share of
    # the run's time: a disturbed run shows here
    busy = (cpu0_after["busy"] - cpu0_before["busy"]) / procs.CLK_TCK
    other = max(0.0, busy - d.seconds) / span if inst.cpu is not None else None
    steal = (cpu0_after["steal"] - cpu0_before["steal"]) / procs.CLK_TCK / span
    errors = inst.errors_since(err_mark)
    sample = {
        "units": res.units, "client_units": res.client_units, "wall_s": round(res.wall, 4),
        "cpu_s": round(d.seconds, 6), "cpu_source": d.source, "cpu_stat_s": d.stat_seconds,
        "rate": res.units / res.wall if res.wall > 0 else None,
        "server_busy": round(d.seconds / res.wall, 3) if res.wall > 0 else None,
        "loadavg": la, "server_cpu_other": round(other, 3) if other is not None else None,
        "server_cpu_steal": round(steal, 3), "problems": list(res.problems), "notes": list(res.notes) + d.notes,
    }
    if d.pids_changed:
        sample["problems"].append("httpd processes changed during the run (a child died or was replaced)")
    if errors:
        sample["problems"].append(f"{len(errors)} error log lines, e.g.: {errors[0][-200:]}")
    sample["value"] = d.seconds * 1e6 / res.units if res.units > 0 else None
    sample["valid"] = sample["value"] is not None and not sample["problems"]
    return sample


def run_memory_sample(inst: Instance, env: Env, st: Settings, plain: bool) -> Dict:
    """Fresh instance; RSS of all its processes before and after opening `mem_conns` idle
    keep-alive connections (each with one request done)."""
    inst.restart()
    port = inst.ports["plain" if plain else "ecdsa"]
    # a small window: connections being set up occupy workers, and an event MPM child with no
    # idle worker closes its keep-alive connections
    client = [sys.executable, os.path.join(HERE, "idle_client.py"), "--port", str(port), "--window", "16"]
    if plain:
        client.append("--plain")

    def hold(count: int):
        p = subprocess.Popen(env.pinned(client + ["--count", str(count)]), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []
        for line in p.stdout:
            lines.append(line.strip())
            if line.startswith("READY"):
                break
        return p, lines

    def release(p):
        try:
            p.stdin.write("\n")
            p.stdin.flush()
        except BrokenPipeError:
            pass
        return p.communicate(timeout=60)

    # warm-up: the first connections set up what every later one shares
    p, _ = hold(16)
    release(p)
    time.sleep(1.0)
    err_mark = inst.error_mark()
    before = procs.rss_kib(inst.pid)
    t0 = time.time()
    p, lines = hold(st.mem_conns)
    setup_s = time.time() - t0
    time.sleep(1.5)  # workers hand the connections to the listener
    est = procs.established(port)
    after = procs.rss_kib(inst.pid)
    errors = inst.errors_since(err_mark)
    err_mark = inst.error_mark()
    _, client_err = release(p)
    # let the server close them all before anything restarts it (an httpd stopped in the middle
    # of closing 1000 connections can crash on the way out)
    deadline = time.time() + 10
    while procs.established(port) > 0 and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    problems, notes = [], []
    ready = [l for l in lines if l.startswith("READY")]
    n = int(ready[0].split()[1]) if ready else 0
    problems += [l for l in lines if l.startswith("FAILED")]
    if not ready:
        problems.append("the idle client did not get ready: " + (client_err or "")[-300:])
    if est < n:
        problems.append(f"only {est} of {n} connections were still established on the server")
    if errors:
        problems.append(f"{len(errors)} error log lines, e.g.: {errors[0][-200:]}")
    closing = inst.errors_since(err_mark)
    if closing:
        notes.append(f"while {n} connections closed at once: {closing[0][-200:]}")
    value = (after["rss_kib"] - before["rss_kib"]) / n if n else None
    return {
        "connections": n, "established": est, "setup_s": round(setup_s, 3), "rss_before_kib": before["rss_kib"],
        "rss_after_kib": after["rss_kib"], "pss_before_kib": before["pss_kib"], "pss_after_kib": after["pss_kib"],
        "value": value, "pss_value": (after["pss_kib"] - before["pss_kib"]) / n if n else None,
        "problems": problems, "notes": notes, "valid": value is not None and not problems and n == st.mem_conns,
        "loadavg": procs.loadavg(),
    }


def ensure_alive(inst: Instance) -> Optional[str]:
    if inst.alive():
        return None
    tail = inst.error_tail()
    log(f"  {inst.name} is not running any more; restarting it. {tail}")
    inst.start()
    return f"{inst.name} had died and was restarted ({tail})"


def run_scenario(sc: Scenario, insts: Dict[str, Instance], env: Env, st: Settings, counter: List[int]) -> Dict:
    result = {"name": sc.name, "group": sc.group, "title": sc.title, "unit": sc.unit, "rate_unit": sc.rate_unit,
              "target": sc.target, "load": sc.load.describe() if sc.load else "bench/idle_client.py",
              "samples": {i: [] for i in IMPLS}, "unavailable": dict(sc.unavailable), "events": list(sc.notes)}
    active = [i for i in IMPLS if i not in sc.unavailable]
    if st.warmup:
        for impl in active:
            counter[0] += 1
            try:
                ev = ensure_alive(insts[impl])
                if ev:
                    result["events"].append(ev)
                run_cpu_sample(sc, insts[impl], env, st, f"w{counter[0]}", warmup=True)
            except Exception as e:  # noqa: BLE001 - reported, the run goes on
                result["events"].append(f"{impl} warm-up failed: {e}")
    for rep in range(st.reps):
        order = active if rep % 2 == 0 else list(reversed(active))
        for impl in order:
            counter[0] += 1
            tag = f"s{counter[0]}"
            try:
                ev = ensure_alive(insts[impl])
                if ev:
                    result["events"].append(ev)
                s = run_cpu_sample(sc, insts[impl], env, st, tag)
            except Exception as e:  # noqa: BLE001 - reported, the run goes on
                s = {"value": None, "valid": False, "problems": [f"{type(e).__name__}: {e}"]}
            s["rep"] = rep
            result["samples"][impl].append(s)
            log(f"  {sc.name:28} {impl}: " + (f"{s['value']:10.1f} {sc.unit}" if s.get("value") else "   (no value)")
                + (f"  {s['rate']:9.1f} {sc.rate_unit}" if s.get("rate") else "")
                + ("" if s["valid"] else f"  INVALID: {'; '.join(s['problems'])[:300]}"))
    return summarize(result)


def run_memory(sc_total: Scenario, sc_tls: Scenario, insts: Dict[str, Instance], env: Env, st: Settings):
    res_total = {"name": sc_total.name, "group": sc_total.group, "title": sc_total.title, "unit": sc_total.unit,
                 "rate_unit": "", "target": sc_total.target, "load": f"bench/idle_client.py --count {st.mem_conns}",
                 "samples": {i: [] for i in IMPLS}, "unavailable": {}, "events": []}
    res_tls = dict(res_total, name=sc_tls.name, title=sc_tls.title, target=sc_tls.target,
                   samples={i: [] for i in IMPLS}, events=[])
    for rep in range(st.mem_reps):
        order = list(IMPLS) if rep % 2 == 0 else list(reversed(IMPLS))
        for impl in order:
            inst = insts[impl]
            try:
                tls = run_memory_sample(inst, env, st, plain=False)
                plain = run_memory_sample(inst, env, st, plain=True) if st.mem_plain else \
                    {"value": None, "valid": False, "problems": []}
            except Exception as e:  # noqa: BLE001
                tls = plain = {"value": None, "valid": False, "problems": [f"{type(e).__name__}: {e}"]}
            tls["rep"] = rep
            res_total["samples"][impl].append(tls)
            share = {"rep": rep, "tls": tls.get("value"), "plain": plain.get("value"),
                     "problems": tls["problems"] + [f"plain: {p}" for p in plain["problems"]]}
            share["value"] = (tls["value"] - plain["value"]) if tls.get("value") is not None and \
                plain.get("value") is not None else None
            share["valid"] = tls["valid"] and plain["valid"]
            res_tls["samples"][impl].append(share)
            problems = tls["problems"] + ([f"plain: {p}" for p in plain["problems"]] if st.mem_plain else [])
            log(f"  {'mem-idle':28} {impl}: " + (f"{tls['value']:7.1f} KiB/conn TLS" if tls.get("value") else "")
                + (f", {plain['value']:7.1f} KiB/conn plain HTTP" if plain.get("value") else "")
                + (f"  INVALID: {'; '.join(problems)[:300]}" if problems else ""))
    if not st.mem_plain:
        res_tls["unavailable"] = {"mod_tls": "not measured: --quick skips the plain HTTP baseline"}
    return summarize(res_total), summarize(res_tls)


def ratio_interval(ssl: List[float], tls: List[float], rounds: int = 2000) -> Optional[List[float]]:
    """90 % bootstrap interval of the ratio of medians (each server's samples resampled on their
    own; a fixed seed, so the same samples give the same interval). None with < 3 samples."""
    if len(ssl) < 3 or len(tls) < 3:
        return None
    rng = random.Random(1)
    ratios = sorted(statistics.median(rng.choices(tls, k=len(tls))) / statistics.median(rng.choices(ssl, k=len(ssl)))
                    for _ in range(rounds))
    return [ratios[int(0.05 * rounds)], ratios[int(0.95 * rounds) - 1]]


def summarize(result: Dict) -> Dict:
    med = {}
    for impl in IMPLS:
        vals = [s["value"] for s in result["samples"][impl] if s.get("valid")]
        rates = [s["rate"] for s in result["samples"][impl] if s.get("valid") and s.get("rate")]
        med[impl] = {
            "median": statistics.median(vals) if vals else None,
            "min": min(vals) if vals else None, "max": max(vals) if vals else None,
            "spread": (max(vals) - min(vals)) / statistics.median(vals) if len(vals) > 1 else None,
            "valid_samples": len(vals), "samples": len(result["samples"][impl]),
            "rate_median": statistics.median(rates) if rates else None,
        }
    result["summary"] = med
    a, b = med["mod_ssl"]["median"], med["mod_tls"]["median"]
    result["ratio"] = b / a if a and b is not None else None
    valid = {i: [s["value"] for s in result["samples"][i] if s.get("valid")] for i in IMPLS}
    result["ratio_interval"] = ratio_interval(valid["mod_ssl"], valid["mod_tls"]) if result["ratio"] else None
    if "mod_tls" in result["unavailable"]:
        result["status"] = "n/a"
    elif result["ratio"] is None:
        result["status"] = "FAILED"
        probs = [p for i in IMPLS for s in result["samples"][i] for p in s.get("problems", [])]
        result["failure"] = probs[:5]
    elif result["target"] is None:
        result["status"] = "info"
    else:
        result["status"] = "pass" if result["ratio"] <= result["target"] else "fail"
        ci = result["ratio_interval"]
        if ci and ci[0] <= result["target"] <= ci[1]:
            result["status"] += " (within noise)"
    return result


def above_plain(results: List[Dict]) -> None:
    """For each handshake scenario, what a connection costs beyond a plain HTTP one on the same
    server (medians; stored as `above_plain` in the scenario): the TLS module's work, and the
    kernel's for the extra round trip, without the fixed cost both servers pay."""
    plain = next((r for r in results if r["name"] == "conn-plain"), None)
    if not plain:
        return
    base = {i: plain["summary"][i]["median"] for i in IMPLS}
    for r in results:
        if not r["name"].startswith("hs-") or r["ratio"] is None or None in base.values():
            continue
        extra = {i: r["summary"][i]["median"] - base[i] for i in IMPLS}
        r["above_plain"] = dict(extra, ratio=extra["mod_tls"] / extra["mod_ssl"] if extra["mod_ssl"] > 0 else None)


# ---- report --------------------------------------------------------------------------------

def fmt(v: Optional[float], width: int = 9) -> str:
    if v is None:
        return "-".rjust(width)
    if v >= 1000:
        return f"{v:,.0f}".rjust(width)
    return f"{v:.1f}".rjust(width) if v >= 10 else f"{v:.2f}".rjust(width)


def _spread(v: Optional[float]) -> str:
    return f"±{v * 50:.0f}%" if v is not None else ""


def _median_of(samples: List[Dict], key: str) -> Optional[float]:
    vals = [x[key] for x in samples if x.get("valid") and x.get(key) is not None]
    return statistics.median(vals) if vals else None


def print_report(results: List[Dict], cg: Optional[List[Dict]], meta: Dict) -> None:
    print()
    runs = f"{meta['reps']} run{'s' if meta['reps'] != 1 else ''}"
    print(f"mod_tls / mod_ssl  ({meta['mode']}: {runs} each, alternating; medians, ± half the range; "
          f"server CPU {meta['server_cpu']}, clients CPU {meta['client_cpu']}; lower is better)")
    head = (f"{'scenario':26} {'unit':17} {'mod_ssl':>9} {'':5} {'mod_tls':>9} {'':5} {'ratio':>5} "
            f"{'90% interval':>12} {'target':>6}  result")
    print(head)
    print("-" * len(head))
    for r in results:
        s = r["summary"]
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        target = f"<={r['target']:.2f}" if r["target"] is not None else "-"
        status = r["status"]
        if status == "n/a":
            status = "n/a: " + r["unavailable"]["mod_tls"].split(":", 1)[-1].strip()
        elif status == "FAILED":
            status = "FAILED: " + "; ".join(r.get("failure", []))[:160]
        ci = r.get("ratio_interval")
        interval = f"{ci[0]:.2f}-{ci[1]:.2f}" if ci else "-"
        print(f"{r['name']:26} {r['unit']:17} {fmt(s['mod_ssl']['median'])} {_spread(s['mod_ssl']['spread']):5} "
              f"{fmt(s['mod_tls']['median'])} {_spread(s['mod_tls']['spread']):5} {ratio:>5} {interval:>12} "
              f"{target:>6}  {status}")
    extra = [r for r in results if r.get("above_plain")]
    if extra:
        print()
        print("handshakes above a plain HTTP connection (conn-plain) of the same server: the medians minus the")
        print("plain connection's, i.e. the TLS work and the extra round trip without the cost both pay anyway")
        for r in extra:
            a = r["above_plain"]
            ratio = f"{a['ratio']:.2f}" if a["ratio"] is not None else "-"
            print(f"{r['name']:26} {r['unit']:17} {fmt(a['mod_ssl'])} {'':5} {fmt(a['mod_tls'])} {'':5} {ratio:>5}")
    print()
    print("throughput (wall clock, client-bound on 2 CPUs: a rate, not a capacity); server CPU busy with our")
    print("server / with anything else (other processes, interrupts) during the runs")
    print(f"{'scenario':26} {'unit':17} {'mod_ssl':>9} {'mod_tls':>9}   {'busy ssl':>8} {'busy tls':>8} "
          f"{'other':>6}")
    others = []
    for r in results:
        if not r["rate_unit"]:
            continue
        s = r["summary"]
        busy = [_median_of(r["samples"][i], "server_busy") for i in IMPLS]
        other = [x["server_cpu_other"] for i in IMPLS for x in r["samples"][i]
                 if x.get("server_cpu_other") is not None]
        others += other
        print(f"{r['name']:26} {r['rate_unit']:17} {fmt(s['mod_ssl']['rate_median'])} "
              f"{fmt(s['mod_tls']['rate_median'])}   "
              + " ".join((f"{b * 100:7.0f}%" if b is not None else f"{'-':>8}") for b in busy)
              + (f" {statistics.median(other) * 100:5.0f}%" if other else f" {'-':>6}"))
    if cg is not None:
        print()
        print("rtls binding alone (bench/callgrind driver, server side only; instructions counted by callgrind,")
        print("idle-heap measured natively)")
        for c in cg:
            if "value" in c:
                extra = ""
                if "memcpy_bytes_per_plaintext_byte" in c:
                    extra = f"   (memcpy moves {c['memcpy_bytes_per_plaintext_byte']:.2f} bytes per plaintext byte)"
                if "rss_bytes_per_conn" in c:
                    extra = f" of malloc heap; {c['rss_bytes_per_conn']:,} bytes resident (heap and mapped pages)"
                print(f"  {c['name']:18} {c['value']:>14,.0f} {c['unit']}{extra}"
                      + (f"  PROBLEM: {'; '.join(c['problems'])}" if c.get("problems") else ""))
            else:
                print(f"  {c['name']:18} FAILED: {c.get('error')}")
    events = [f"{r['name']}: {e}" for r in results for e in r.get("events", [])]
    events += [f"{r['name']} {i}: {n}" for r in results for i in IMPLS
               for x in r["samples"][i] for n in x.get("notes", [])]
    if events:
        print()
        print("notes:")
        for e in dict.fromkeys(events):
            print(f"  {e[:220]}")
    print()
    la = meta["loadavg_start"], meta["loadavg_end"]
    print(f"machine: {meta['cpu_model']}, {meta['nproc']} CPUs, {meta['kernel']}; load average at start "
          f"{' '.join(map(str, la[0]))}, at end {' '.join(map(str, la[1]))}")
    if others:
        print(f"other load on the server CPU during CPU runs: median {statistics.median(others) * 100:.0f}%, "
              f"max {max(others) * 100:.0f}%" + ("  (disturbed: compare ratios, not absolute figures)"
                                                 if max(others) > 0.15 else ""))


# ---- main ----------------------------------------------------------------------------------

def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def machine_info() -> Dict:
    model = ""
    r = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True)
    for line in r.stdout.splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    git = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout.strip()
    ver = subprocess.run(["/usr/sbin/apache2", "-v"], stdout=subprocess.PIPE, text=True).stdout.splitlines()
    ossl = subprocess.run(["openssl", "version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    return {"cpu_model": model, "nproc": os.cpu_count(), "kernel": platform.release(), "git": git,
            "apache2": ver[0] if ver else "", "openssl": ossl}


def check_tools(need_valgrind: bool) -> List[str]:
    missing = []
    for tool in ("taskset", "h2load", "curl", "openssl", "lscpu") + (("valgrind", "callgrind_annotate")
                                                                    if need_valgrind else ()):
        if not shutil.which(tool):
            missing.append(tool)
    if not os.path.exists("/usr/sbin/apache2"):
        missing.append("/usr/sbin/apache2 (Debian's apache2)")
    for mod in ("mod_ssl.so", "mod_http2.so", "mod_mpm_event.so", "mod_socache_shmcb.so"):
        if not os.path.exists(f"/usr/lib/apache2/modules/{mod}"):
            missing.append(f"/usr/lib/apache2/modules/{mod}")
    return missing


def main() -> int:
    ap = argparse.ArgumentParser(prog="bench/run.sh", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="one short run per scenario (under a minute)")
    ap.add_argument("--json", metavar="FILE", help="write all figures and samples as JSON (always also "
                                                    "written to OUT/last.json)")
    ap.add_argument("--reps", type=int, help="runs per server and scenario (default 5, quick 1)")
    ap.add_argument("--seconds", type=float, help="seconds per handshake run (default 3, resumed 2, quick 1)")
    ap.add_argument("--only", metavar="REGEX", help="only scenarios whose name matches (e.g. 'hs-|bulk')")
    ap.add_argument("--no-callgrind", action="store_true", help="skip the callgrind figures")
    ap.add_argument("--try-unavailable", action="store_true",
                    help="also run what is marked not available (mod_tls session resumption, while that work "
                         "lands)")
    ap.add_argument("--list", action="store_true", help="list the scenarios and exit")
    ap.add_argument("--mod-tls", default=os.path.join(REPO, "build", "mod_tls.so"), help="the module to measure")
    ap.add_argument("--out", default=os.path.join(HERE, "out"), help="server roots, certificates, tools, results")
    ap.add_argument("--port-base", type=int, default=21300,
                    help="mod_ssl uses PORT..PORT+2, mod_tls PORT+10..PORT+12 (default 21300; below the ephemeral range)")
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--keep-running", action="store_true", help="leave both servers running at the end")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed or a scenario fails")
    a = ap.parse_args()

    scenarios = all_scenarios()
    if a.try_unavailable:
        for s in scenarios:
            if s.unavailable:
                s.notes = [f"run although marked: {why}" for why in s.unavailable.values()]
                s.unavailable = {}
    if a.only:
        scenarios = [s for s in scenarios if re.search(a.only, s.name)]
    if a.list:
        for s in scenarios:
            print(f"{s.name:28} {s.unit:18} target {s.target}  {s.title}")
        return 0
    st = Settings(a)
    missing = check_tools(not a.no_callgrind)
    if missing:
        print("bench: missing: " + ", ".join(missing), file=sys.stderr)
        return 2
    if not os.path.exists(a.mod_tls):
        print(f"bench: {a.mod_tls} does not exist: run `make` first (or `make bench`)", file=sys.stderr)
        return 2

    ncpu = os.cpu_count() or 1
    server_cpu, client_cpu = a.server_cpu, a.client_cpu
    if ncpu < 2 or server_cpu == client_cpu:
        log("WARNING: fewer than two CPUs (or the same CPU twice): nothing is pinned, figures will be noisier")
        server_cpu = client_cpu = None
    else:
        os.sched_setaffinity(0, {client_cpu})  # this script and everything it starts: the client CPU
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    meta = machine_info()
    meta.update({"date": datetime.datetime.now().isoformat(timespec="seconds"),
                 "mode": "quick" if st.quick else "full", "reps": st.reps, "server_cpu": server_cpu,
                 "client_cpu": client_cpu, "loadavg_start": procs.loadavg()})

    # A copy of the module: `make` rewrites build/mod_tls.so in place, which crashes an httpd
    # that has it mapped.
    mod_copy = os.path.join(out, "mod_tls.so")
    shutil.copyfile(a.mod_tls, mod_copy + ".tmp")
    os.replace(mod_copy + ".tmp", mod_copy)
    meta["mod_tls"] = {"source": os.path.abspath(a.mod_tls), "sha256": sha256(mod_copy),
                       "mtime": datetime.datetime.fromtimestamp(os.path.getmtime(a.mod_tls)).isoformat(
                           timespec="seconds")}

    cargo = os.environ.get("CARGO", "cargo")
    tools = callgrind.build_tools(HERE, os.path.join(out, "rust-target"), cargo, log, callgrind=not a.no_callgrind)
    env = Env(tools["hsload"], client_cpu, st.bulk_mib)

    log("certificates, documents")
    certs = make_certs(os.path.join(out, "certs"))
    make_docroot(os.path.join(out, "docroot"), st.bulk_mib)
    insts = {
        "mod_ssl": Instance("mod_ssl", os.path.join(out, "mod_ssl"), a.port_base, os.path.join(out, "docroot"),
                            certs, None, server_cpu),
        "mod_tls": Instance("mod_tls", os.path.join(out, "mod_tls"), a.port_base + 10,
                            os.path.join(out, "docroot"), certs, mod_copy, server_cpu),
    }
    results: List[Dict] = []
    cg = None
    try:
        for inst in insts.values():
            inst.write_conf()
            inst.stop_stale()
            inst.start()
            log(f"{inst.name}: pid {inst.pid}, ports {inst.ports}, CPU {server_cpu}, root {inst.root}")
        counter = [0]
        by_name = {s.name: s for s in all_scenarios()}
        for sc in scenarios:
            if sc.kind == "cpu":
                log(f"{sc.name}: {sc.title}")
                results.append(run_scenario(sc, insts, env, st, counter))
        if any(s.kind.startswith("memory") for s in scenarios):
            log("mem-idle: memory per idle TLS connection")
            results += list(run_memory(by_name["mem-idle-total"], by_name["mem-idle-tls"], insts, env, st))
            results = [r for r in results if r["name"] in {s.name for s in scenarios}]
        if not a.no_callgrind:
            if tools["rtls-callgrind"]:
                log("callgrind: instructions of the rtls server API")
                cg = callgrind.run_cases(tools["rtls-callgrind"], certs, st.cg_handshakes, st.cg_mib, client_cpu, log,
                                         copies=st.cg_copies)
            else:
                cg = [{"name": "build", "error": "rtls-callgrind did not build"}]
    finally:
        if not a.keep_running:
            for inst in insts.values():
                inst.stop()
    above_plain(results)
    meta["loadavg_end"] = procs.loadavg()
    meta["duration_s"] = round(time.time() - T0, 1)
    report = {"meta": meta, "scenarios": results, "callgrind": cg}
    print_report(results, cg, meta)
    for path in filter(None, (os.path.join(out, "last.json"), a.json)):
        with open(path, "w") as f:
            json.dump(report, f, indent=1, default=str)
    log(f"JSON: {a.json or os.path.join(out, 'last.json')}; took {meta['duration_s']}s")
    bad = [r for r in results if r["status"].split()[0] in ("fail", "FAILED")]
    return 1 if a.strict and bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
