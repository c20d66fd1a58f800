"""What the benchmark reads from /proc about a running httpd instance.

An instance is the httpd parent (the pid in its PidFile) and its children. CPU time is taken two
ways for every sample:

- `ns`: the sum over every thread of every process of the first field of
  /proc/PID/task/TID/schedstat (time on a CPU, in nanoseconds, user + system). Precise, but a
  thread that exits takes its time with it; a sample therefore also records the set of thread ids,
  and a difference is only trusted when that set is the same at both ends.
- `ticks`: utime + stime from /proc/PID/stat of each process (clock ticks, 10 ms). Includes threads
  that exited, but is coarse.

`cpu_delta()` uses `ns` when processes and threads are unchanged and says so, else falls back to
`ticks`. The httpd configuration the benchmark writes (no child replacement, fixed h2 workers) keeps
both sets constant; a changed set is reported, never hidden.
"""

import os
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def _read(path: str) -> Optional[str]:
    try:
        with open(path) as f:
            return f.read()
    except OSError:  # the process or thread went away while we looked
        return None


def _stat_fields(pid: int) -> Optional[List[str]]:
    """Fields of /proc/PID/stat after the command name (which may contain spaces)."""
    text = _read(f"/proc/{pid}/stat")
    if text is None:
        return None
    return text[text.rindex(")") + 2:].split()


def children_of(ppid: int) -> List[int]:
    """Direct children of `ppid` (httpd's children do not fork further)."""
    kids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        f = _stat_fields(int(name))
        # after the name: state(0) ppid(1)
        if f and int(f[1]) == ppid:
            kids.append(int(name))
    return sorted(kids)


def instance_pids(parent: int) -> List[int]:
    return [parent] + children_of(parent)


@dataclass
class CpuSample:
    pids: FrozenSet[int]
    tids: FrozenSet[int]
    ns: int
    ticks: int


def cpu_sample(parent: int) -> CpuSample:
    pids = instance_pids(parent)
    tids = set()
    ns = 0
    ticks = 0
    for pid in pids:
        f = _stat_fields(pid)
        if f:
            ticks += int(f[11]) + int(f[12])  # utime, stime (fields 14, 15 of stat)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            s = _read(f"/proc/{pid}/task/{tid}/schedstat")
            if s:
                ns += int(s.split()[0])
                tids.add(int(tid))
    return CpuSample(frozenset(pids), frozenset(tids), ns, ticks)


@dataclass
class CpuDelta:
    seconds: float
    source: str  # "schedstat" or "stat"
    stat_seconds: float  # the ticks-based figure, always, as a cross-check
    pids_changed: bool
    threads_changed: bool
    notes: List[str] = field(default_factory=list)


def cpu_delta(before: CpuSample, after: CpuSample) -> CpuDelta:
    stat_s = (after.ticks - before.ticks) / CLK_TCK
    pids_changed = before.pids != after.pids
    threads_changed = before.tids != after.tids
    notes = []
    if pids_changed:
        notes.append(f"httpd processes changed during the run: {sorted(before.pids)} -> {sorted(after.pids)}")
    if not pids_changed and not threads_changed:
        return CpuDelta((after.ns - before.ns) / 1e9, "schedstat", stat_s, False, False, notes)
    if threads_changed and not pids_changed:
        notes.append(f"{len(before.tids ^ after.tids)} httpd threads came or went: using utime+stime (10 ms ticks)")
    return CpuDelta(stat_s, "stat", stat_s, pids_changed, threads_changed, notes)


def rss_kib(parent: int) -> Dict[str, int]:
    """Resident memory of the instance: the sum of VmRSS and of Pss over its processes (KiB)."""
    rss = pss = 0
    for pid in instance_pids(parent):
        st = _read(f"/proc/{pid}/status") or ""
        for line in st.splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1])
        roll = _read(f"/proc/{pid}/smaps_rollup") or ""
        for line in roll.splitlines():
            if line.startswith("Pss:"):
                pss += int(line.split()[1])
    return {"rss_kib": rss, "pss_kib": pss}


def established(port: int) -> int:
    """TCP connections in ESTABLISHED state whose local port is `port` (the server side)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        text = _read(table) or ""
        for line in text.splitlines()[1:]:
            parts = line.split()
            if len(parts) > 3 and parts[3] == "01" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def affinity(pid: int) -> Optional[List[int]]:
    try:
        return sorted(os.sched_getaffinity(pid))
    except OSError:
        return None


def cpu_ticks(cpu: Optional[int]) -> Dict[str, int]:
    """Busy (user, nice, system, irq, softirq) and steal ticks of one CPU (all when None), from
    /proc/stat."""
    name = "cpu" if cpu is None else f"cpu{cpu}"
    for line in (_read("/proc/stat") or "").splitlines():
        f = line.split()
        if f and f[0] == name:
            v = [int(x) for x in f[1:9]]
            return {"busy": v[0] + v[1] + v[2] + v[5] + v[6], "steal": v[7]}
    return {"busy": 0, "steal": 0}


def loadavg() -> List[float]:
    text = _read("/proc/loadavg") or "0 0 0"
    return [float(x) for x in text.split()[:3]]
