#!/usr/bin/env python3
"""The Flows benchmark's tables (markdown) from one pass's JSON files.

usage: report.py DIR      (DIR: a results folder written by bench/flows/run.sh)

One table per concurrency (direct API, Node-RED, patchbay SQLite, patchbay PostgreSQL): req/s, p50,
p99, CPU, peak RSS, and the ratios to the direct API and to Node-RED; then idle RSS and the targets:
flow throughput >= 40 % of direct and >= 3x Node-RED's, p99 <= Node-RED's, peak RSS <= 100 MB.
"""
import glob
import json
import os
import sys

ORDER = ["direct", "nodered", "pb-sqlite", "pb-pg", "pb-sqlite-shm"]
LABEL = {"direct": "direct API (backend)", "nodered": "Node-RED", "pb-sqlite": "patchbay, SQLite",
         "pb-pg": "patchbay, PostgreSQL", "pb-sqlite-shm": "diagnosis: patchbay, SQLite in /dev/shm (no fsync cost)"}
FLOWS = ["pb-sqlite", "pb-pg"]


def load(folder):
    runs, idle = {}, {}
    for path in glob.glob(os.path.join(folder, "*-c*.json")):
        r = json.load(open(path))
        runs[(r["_bench"]["name"], r["_bench"]["concurrency"])] = r
    for path in glob.glob(os.path.join(folder, "*-idle.json")):
        r = json.load(open(path))
        idle[r["name"]] = r
    return runs, idle


def ms(us):
    return f"{us / 1000:.2f}"


def ratio(a, b):
    if not b:
        return "–"
    r = a / b
    return f"{r:.3f}×" if r < 0.1 else f"{r:.2f}×"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    runs, idle = load(sys.argv[1])
    concs = sorted({c for _, c in runs})
    names = [n for n in ORDER if any(k[0] == n for k in runs)]
    verdicts = []
    for c in concs:
        print(f"\n**Concurrency {c}**\n")
        print("| system | req/s | p50 ms | p99 ms | CPU | others on CPU 1 | peak RSS | req/s vs direct | req/s vs Node-RED | p99 vs Node-RED |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        direct, red = runs.get(("direct", c)), runs.get(("nodered", c))
        for n in names:
            r = runs.get((n, c))
            if not r:
                continue
            b, lat = r["_bench"], r["latency_us"]
            cpu = f"{b.get('sut_cpu_util', 0) * 100:.0f} %"
            if b.get("pg_backends"):
                cpu += f" + PG {b['pg_cpu_util'] * 100:.0f} %"
            rss = f"{b.get('sut_rss_tree_max_mb', 0):.1f} MB"
            others = f"{b['sut_core_others'] * 100:.0f} %" if "sut_core_others" in b else "–"
            ok = sum(v for k, v in r["codes"].items() if k.startswith("2"))
            bad = r["requests"] - ok + sum(r["errors"].values()) + r["body_mismatch"]
            flag = f" ({bad} bad)" if bad else ""
            print(f"| {LABEL.get(n, n)}{flag} | {r['rps']:,.0f} | {ms(lat['p50'])} | {ms(lat['p99'])} | {cpu} | {others} | {rss} "
                  f"| {ratio(r['rps'], direct['rps']) if direct else '–'} "
                  f"| {ratio(r['rps'], red['rps']) if red else '–'} "
                  f"| {ratio(lat['p99'], red['latency_us']['p99']) if red else '–'} |")
            if n in FLOWS:
                if direct:
                    verdicts.append((n, c, "throughput ≥ 40 % of direct", r["rps"] >= 0.4 * direct["rps"],
                                     f"{r['rps'] / direct['rps'] * 100:.0f} %"))
                if red:
                    verdicts.append((n, c, "throughput ≥ 3× Node-RED", r["rps"] >= 3 * red["rps"],
                                     f"{r['rps'] / red['rps']:.2f}×"))
                    verdicts.append((n, c, "p99 ≤ Node-RED's", lat["p99"] <= red["latency_us"]["p99"],
                                     f"{ms(lat['p99'])} vs {ms(red['latency_us']['p99'])} ms"))
                verdicts.append((n, c, "peak RSS ≤ 100 MB", b.get("sut_rss_tree_max_mb", 0) <= 100,
                                 f"{b.get('sut_rss_tree_max_mb', 0):.1f} MB"))
    if idle:
        print("\n**Idle RSS** (after start-up and, for patchbay, the flow's creation; no traffic)\n")
        print("| system | idle RSS | peak RSS under load |")
        print("|---|---:|---:|")
        for n in names:
            if n in idle:
                peak = max((r["_bench"].get("sut_rss_tree_max_mb", 0) for k, r in runs.items() if k[0] == n), default=0)
                print(f"| {LABEL.get(n, n)} | {idle[n]['rss_tree_mb']:.1f} MB | {peak:.1f} MB |")
    if verdicts:
        print("\n**Targets**\n")
        print("| system | target | " + " | ".join(f"c={c}" for c in concs) + " |")
        print("|---|---|" + "---|" * len(concs))
        keys = []
        for n, _, t, _, _ in verdicts:
            if (n, t) not in keys:
                keys.append((n, t))
        for n, t in keys:
            cells = []
            for c in concs:
                v = next((v for v in verdicts if v[0] == n and v[2] == t and v[1] == c), None)
                cells.append("–" if not v else f"{'met' if v[3] else '**missed**'} ({v[4]})")
            print(f"| {LABEL[n]} | {t} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
