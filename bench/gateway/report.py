"""Summarises bench/gateway/run.sh results: best round per system and concurrency, ratios."""
import json
import sys

best = {}
for line in open(sys.argv[1]):
    name, conc, data = line.split(" ", 2)
    data = json.loads(data)
    rate = data["requests"] / (data["duration_us"] / 1e6)
    key = (name, int(conc))
    if data["errors"] or data["non2xx"]:
        print(f"warning: {name} c={conc}: {data['errors']} errors, {data['non2xx']} non-2xx")
    if key not in best or rate > best[key]["rate"]:
        best[key] = {"rate": rate, "p50": data["p50_us"] / 1e3, "p99": data["p99_us"] / 1e3}

print("| concurrency | direct calls/s | gateway calls/s | gateway vs direct | direct p50 | gateway p50 | added p50 |")
print("|---:|---:|---:|---:|---:|---:|---:|")
for conc in sorted({c for _, c in best}):
    d, g = best.get(("direct", conc)), best.get(("gateway", conc))
    if not d or not g:
        continue
    print(f"| {conc} | {d['rate']:,.0f} | {g['rate']:,.0f} | {g['rate'] / d['rate']:.0%} | "
          f"{d['p50']:.2f} ms | {g['p50']:.2f} ms | {g['p50'] - d['p50']:+.2f} ms |")
