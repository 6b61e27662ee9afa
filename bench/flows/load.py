#!/usr/bin/env python3
"""Drive wrk against one system at several concurrencies, sampling the system's CPU and RSS.

Modelled on the peer kit's loadrun.py (../shared/bench/peers/), with wrk instead of oha:

  probe (one request: a non-2xx answer aborts) -> idle RSS (after --idle-wait s without traffic)
  -> warm-up (--warmup s at concurrency 8) -> for each concurrency: 2 s pause, then wrk for
  --duration s while the system's process tree is sampled every 0.5 s from /proc.

usage: load.py --name NAME --url URL [--method POST] [--body JSON] [--pid PID] [--pg-of PID]
               [--conc 1,8,32] [--duration 20] [--warmup 10] [--cpu 0] [--sut-cpu 1]
               [--count-cmd CMD] [--out DIR]

  --pid        the system under test: CPU time (utime+stime delta / wall, 100 % = one core) and RSS
               of it and all its descendants.
  --pg-of PID  also account the PostgreSQL backends serving PID's connections (found by the client
               port in their process title); with --sut-cpu they are pinned to that CPU list (and
               reniced to env NICE when set, like every process of the pass).
  --sut-core   the CPU the system under test is pinned to: the share of it used by other processes
               during each run is recorded (a noise indicator on a shared machine).
  --count-cmd  shell command printing "<runs> <succeeded runs>"; run before and after each measured
               run (after the system settles), so stored runs can be checked against wrk's 2xx count.
  env BENCH_TOKEN: bearer token sent with every request (also by the probe); env NICE: wrk's nice level.
Writes DIR/NAME-c<N>.json and DIR/NAME-idle.json; prints one line per run.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CLK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return kids


def descendants(pid):
    kids, out, todo = children_map(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def rss_kb(pid):
    """Resident set size; for PostgreSQL backends only the private part (RssAnon) is meaningful."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def anon_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return int(parts[11]) + int(parts[12])
    except (OSError, ValueError, IndexError):
        return 0


def cpu_busy_ticks(cpus):
    """Busy (non-idle, non-iowait) ticks of the CPUs in the list `cpus` ("1", "0,1"), from /proc/stat."""
    wanted = {f"cpu{c}" for c in cpus.split(",") if c}
    total = 0
    with open("/proc/stat") as f:
        for line in f:
            parts = line.split()
            if parts and parts[0] in wanted:
                v = [int(x) for x in parts[1:]]
                total += sum(v[:8]) - v[3] - v[4]
    return total


def local_ports_to(pid, port):
    """Local ports of `pid`'s established TCP connections to 127.0.0.1:`port`."""
    try:
        out = subprocess.run(["ss", "-tnpH", "state", "established", f"( dport = :{port} )"],
                             capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    ports = set()
    for line in out.splitlines():
        if f"pid={pid}," in line:
            local = line.split()[2] if len(line.split()) > 2 else ""
            ports.add(local.rsplit(":", 1)[-1])
    return ports


def pg_backends(pid):
    """PIDs of the PostgreSQL backends whose client is `pid` (title: 'postgres: … 127.0.0.1(PORT) …')."""
    ports = local_ports_to(pid, 5432)
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                title = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        m = re.match(r"postgres: .*\(([0-9]+)\)", title)
        if m and m.group(1) in ports:
            found.append(int(d))
    return found


class Sampler(threading.Thread):
    """Samples RSS every 0.5 s; keeps the CPU ticks of every process seen (they may come and go)."""

    def __init__(self, pid, pg_of, pin):
        super().__init__(daemon=True)
        self.pid, self.pg_of, self.pin = pid, pg_of, pin
        self.stop = threading.Event()
        self.samples = []          # (tree rss kB, main rss kB, pg private rss kB, nprocs, npg)
        self.base, self.last = {}, {}  # pid -> ticks at first sight / last sight
        self.pinned = set()

    def look(self):
        tree = descendants(self.pid)
        pg = pg_backends(self.pg_of) if self.pg_of else []
        for p in pg:
            if self.pin and p not in self.pinned:
                subprocess.run(["taskset", "-pc", self.pin, str(p)], capture_output=True)
                if os.environ.get("NICE", "0") != "0":
                    subprocess.run(["renice", "-n", os.environ["NICE"], "-p", str(p)], capture_output=True)
                self.pinned.add(p)
        for p in tree + pg:
            t = cpu_ticks(p)
            key = ("pg" if p in pg else "tree", p)
            self.base.setdefault(key, t)
            self.last[key] = max(t, self.last.get(key, 0))
        self.samples.append((sum(rss_kb(p) for p in tree), rss_kb(self.pid),
                             sum(anon_kb(p) for p in pg), len(tree), len(pg)))

    def run(self):
        while not self.stop.is_set():
            self.look()
            self.stop.wait(0.5)

    def cpu_seconds(self, kind):
        return sum(self.last[k] - self.base[k] for k in self.last if k[0] == kind) / CLK


def probe(url, method, body, token):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    headers = {} if method == "GET" else {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=None if method == "GET" else body.encode(), method=method,
                                 headers=headers)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.read(2000).decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read(2000).decode("utf-8", "replace")
    except OSError as e:
        return None, repr(e)


def wrk(url, method, body, conc, duration, cpu):
    env = dict(os.environ, BENCH_METHOD=method, BENCH_BODY=body)
    cmd = ["nice", "-n", os.environ.get("NICE", "0")] + (["taskset", "-c", cpu] if cpu else []) + [
        "wrk", "-t1", f"-c{conc}", f"-d{duration}s", "--timeout", "10s", "--latency",
        "-s", os.path.join(HERE, "wrk.lua"), url]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    line = next((l for l in r.stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
    if r.returncode != 0 or line is None:
        sys.exit(f"wrk failed ({r.returncode}): {r.stderr}{r.stdout[-2000:]}")
    return json.loads(line[len("BENCH_JSON "):]), cmd, r.stdout


def stored_runs(cmd, settle=True):
    """(runs, succeeded) from --count-cmd; waits until two readings 0.5 s apart agree."""
    def read():
        out = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60).stdout.split()
        return (int(out[0]), int(out[1] or 0)) if len(out) >= 2 else (int(out[0]), 0)
    prev = read()
    for _ in range(120 if settle else 0):
        time.sleep(0.5)
        cur = read()
        if cur == prev and cur[0] == cur[1]:
            return cur
        prev = cur
    return prev


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--method", default="POST")
    ap.add_argument("--body", default='{"hello":"world"}')
    ap.add_argument("--pid", type=int)
    ap.add_argument("--pg-of", type=int)
    ap.add_argument("--sut-cpu", default="")
    ap.add_argument("--sut-core", default="", help="CPU the system under test is pinned to: report what else ran there")
    ap.add_argument("--conc", default="1,8,32")
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--idle-wait", type=float, default=5)
    ap.add_argument("--cpu", default="0")
    ap.add_argument("--count-cmd")
    ap.add_argument("--expect", default='{"id":1,"name":"x"}')
    ap.add_argument("--out", default=".")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    token = os.environ.get("BENCH_TOKEN", "")

    status, text = probe(a.url, a.method, a.body, token)
    if status is None or not 200 <= status < 300:
        sys.exit(f"load.py: {a.name}: {a.method} {a.url} -> {status} {text[:300]}")
    if json.loads(text) != json.loads(a.expect):
        sys.exit(f"load.py: {a.name}: answered {text[:200]!r}, expected {a.expect}")
    if a.pid and not os.path.exists(f"/proc/{a.pid}"):
        sys.exit(f"load.py: {a.name}: --pid {a.pid} is not running")

    if a.pid:
        time.sleep(a.idle_wait)
        idle = Sampler(a.pid, a.pg_of, a.sut_cpu)
        idle.look()
        s = idle.samples[-1]
        with open(os.path.join(a.out, f"{a.name}-idle.json"), "w") as f:
            json.dump({"name": a.name, "rss_tree_mb": s[0] / 1024, "rss_main_mb": s[1] / 1024,
                       "pg_private_mb": s[2] / 1024, "at": time.time()}, f)
        print(f"{a.name:18s} idle rss={s[0] / 1024:.1f}MB (main {s[1] / 1024:.1f}MB)", flush=True)

    if a.warmup > 0:
        wrk(a.url, a.method, a.body, 8, a.warmup, a.cpu)
    for c in [int(x) for x in a.conc.split(",")]:
        time.sleep(2)
        before = stored_runs(a.count_cmd) if a.count_cmd else None
        load0 = os.getloadavg()[0]
        smp = None
        if a.pid:
            smp = Sampler(a.pid, a.pg_of, a.sut_cpu)
            smp.look()
            smp.start()
        busy0 = cpu_busy_ticks(a.sut_core) if a.sut_core else 0
        t0 = time.time()
        res, cmd, raw = wrk(a.url, a.method, a.body, c, a.duration, a.cpu)
        wall = time.time() - t0
        busy1 = cpu_busy_ticks(a.sut_core) if a.sut_core else 0
        extra = {"name": a.name, "url": a.url, "method": a.method, "concurrency": c,
                 "duration_s": a.duration, "started": t0, "wall_s": wall, "wrk_cmd": cmd,
                 "loadavg_1m_before": load0, "loadavg_1m_after": os.getloadavg()[0]}
        if smp:
            smp.stop.set()
            smp.join()
            smp.look()
            if a.sut_core:
                # What else ran on the SUT's core (other jobs on a shared machine; PG backends not pinned).
                mine = smp.cpu_seconds("tree") + (smp.cpu_seconds("pg") if a.sut_cpu else 0)
                extra["sut_core_busy"] = (busy1 - busy0) / CLK / wall
                extra["sut_core_others"] = max(0.0, (busy1 - busy0) / CLK - mine) / wall
            extra.update({
                "sut_cpu_util": smp.cpu_seconds("tree") / wall,
                "pg_cpu_util": smp.cpu_seconds("pg") / wall,
                "sut_rss_tree_max_mb": max(x[0] for x in smp.samples) / 1024,
                "sut_rss_main_max_mb": max(x[1] for x in smp.samples) / 1024,
                "sut_rss_end_mb": smp.samples[-1][0] / 1024,
                "pg_private_max_mb": max(x[2] for x in smp.samples) / 1024,
                "pg_backends": max(x[4] for x in smp.samples),
            })
        if a.count_cmd:
            after = stored_runs(a.count_cmd)
            extra["stored_runs_delta"] = after[0] - before[0]
            extra["stored_succeeded_delta"] = after[1] - before[1]
            extra["stored_after"] = after
        res["rps"] = res["requests"] / (res["duration_us"] / 1e6)
        res["_bench"] = extra
        res["wrk_stdout"] = raw
        with open(os.path.join(a.out, f"{a.name}-c{c}.json"), "w") as f:
            json.dump(res, f, indent=1)
        ok = sum(n for code, n in res["codes"].items() if code.startswith("2"))
        lat = res["latency_us"]
        line = (f"{a.name:18s} c={c:<3d} rps={res['rps']:9.1f} p50={lat['p50'] / 1000:7.2f}ms "
                f"p99={lat['p99'] / 1000:7.2f}ms 2xx={ok}/{res['requests']} codes={res['codes']} "
                f"mismatch={res['body_mismatch']} errors={res['errors']} load={load0:.1f}")
        if smp:
            line += (f" cpu={extra['sut_cpu_util'] * 100:.0f}% rss_max={extra['sut_rss_tree_max_mb']:.1f}MB")
            if "sut_core_others" in extra:
                line += f" others_on_core={extra['sut_core_others'] * 100:.0f}%"
            if a.pg_of:
                line += f" pg_cpu={extra['pg_cpu_util'] * 100:.0f}% pg_backends={extra['pg_backends']}"
        if a.count_cmd:
            line += (f" stored_runs=+{extra['stored_runs_delta']}"
                     f" succeeded=+{extra['stored_succeeded_delta']}")
        print(line, flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
