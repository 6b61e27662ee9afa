#!/usr/bin/env bash
# Polling scheduler benchmark: 10,000 polling triggers at a 60 s recurrence on one node against the
# ticker backend (bench/triggers/ticker: answers each poll at once, 202 mostly, 200 with one item
# every 10th poll, and records when each poll came). After one settling cycle, measures over a
# window: the CPU of patchbay and, as the baseline for the same polls, of the backend; the lateness
# of each poll (its interval since the trigger's previous poll, minus the recurrence) as the
# backend saw it, and the server's own patchbay_trigger_poll_lateness_seconds; RSS idle and loaded.
#
# Usage: bench/triggers/scheduler.sh [sqlite|postgres]   (default sqlite)
# Environment: BENCH_TRIGGERS (10000), BENCH_RECURRENCE (60), BENCH_SETTLE (the recurrence),
# BENCH_WINDOW (120), BENCH_CREATORS (8 requests at a time), BENCH_PATCHBAY_LOG (warn),
# BENCH_PG_URL, CARGO_TARGET_DIR, BENCH_BIN_DIR (run the binaries there, no build). Extra arguments after the engine go to `patchbay serve`.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ENGINE=${1:-sqlite}
[[ "$ENGINE" == sqlite || "$ENGINE" == postgres ]] || { echo "usage: $0 [sqlite|postgres] [serve flags]" >&2; exit 2; }
shift || true
COUNT=${BENCH_TRIGGERS:-10000}
RECURRENCE=${BENCH_RECURRENCE:-60}
SETTLE=${BENCH_SETTLE:-$RECURRENCE}
WINDOW=${BENCH_WINDOW:-120}
CREATORS=${BENCH_CREATORS:-8}
HZ=$(getconf CLK_TCK)

now_ms() { date +%s%3N; }

build -p patchbay -p patchbay-bench-ticker
echo "== polling scheduler on $ENGINE, $(date -u +%Y-%m-%d), $(machine)"
echo "   $COUNT triggers every ${RECURRENCE} s, settle ${SETTLE} s, window ${WINDOW} s, serve flags: ${*:-none}"
start_ticker
start_patchbay "$ENGINE" "$@"
sleep 3
idle_rss=$(rss_mb "$PB_PID")
echo "   patchbay idle RSS: $idle_rss MB" >&2

echo "== creating $COUNT polling triggers ($CREATORS at a time)" >&2
created_in=$($PY setup-polling "$PB_URL" "$PB_TOKEN" "$TICKER_URL" "$COUNT" "$RECURRENCE" "$CREATORS")
echo "== settling for ${SETTLE} s" >&2
sleep "$SETTLE"

echo "== measuring for ${WINDOW} s" >&2
from=$(now_ms)
pb0=$(cpu_ticks "$PB_PID")
tk0=$(cpu_ticks "$TICKER_PID")
if [[ "$ENGINE" == postgres ]]; then
    backends=$(pg_backends "$PB_PID")
    pg0=$(sum_cpu_ticks <<<"$backends")
fi
rss_max=0 rss_sum=0 samples=0
for ((s = 0; s < WINDOW; s++)); do
    sleep 1
    rss=$(rss_mb "$PB_PID")
    rss_sum=$(awk -v a="$rss_sum" -v b="$rss" 'BEGIN {print a + b}')
    rss_max=$(awk -v a="$rss_max" -v b="$rss" 'BEGIN {print (b > a) ? b : a}')
    samples=$((samples + 1))
    if ((s % 30 == 29)); then echo "   ${s}s: patchbay RSS $rss MB" >&2; fi
done
pb1=$(cpu_ticks "$PB_PID")
tk1=$(cpu_ticks "$TICKER_PID")
to=$(now_ms)
if [[ "$ENGINE" == postgres ]]; then
    pg1=$(sum_cpu_ticks <<<"$backends")
fi
seconds=$(awk -v a="$from" -v b="$to" 'BEGIN {print (b - a) / 1000}')
percent() { awk -v t="$1" -v hz="$HZ" -v s="$seconds" 'BEGIN {printf "%.1f", 100 * t / hz / s}'; }
pb_cpu=$(percent $((pb1 - pb0)))
tk_cpu=$(percent $((tk1 - tk0)))
ratio=$(awk -v a="$pb_cpu" -v b="$tk_cpu" 'BEGIN {printf "%.1f", (b > 0) ? a / b : 0}')
rss_mean=$(awk -v a="$rss_sum" -v n="$samples" 'BEGIN {printf "%.1f", a / n}')
late=$($PY lateness "$TICKER_URL" "$from" "$to" "$RECURRENCE")
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$late" "$1"; }

echo
echo "### polling scheduler, $ENGINE: $COUNT triggers every ${RECURRENCE} s (created in ${created_in} s)"
echo
echo "| over ${seconds} s | CPU (% of one core) | vs backend |"
echo "|---|---:|---:|"
echo "| baseline: the ticker backend answering the same polls | $tk_cpu % | 1.0× |"
echo "| patchbay serve (scheduler, polls, one commit per poll) | $pb_cpu % | ${ratio}× |"
if [[ "$ENGINE" == postgres ]]; then
    pg_cpu=$(percent $((pg1 - pg0)))
    echo "| its PostgreSQL server processes ($(wc -l <<<"$backends") connections) | $pg_cpu % | $(awk -v a="$pg_cpu" -v b="$tk_cpu" 'BEGIN {printf "%.1f", (b > 0) ? a / b : 0}')× |"
fi
echo
echo "Polls in the window: $(field polls) ($(field polls_per_s)/s; $(field triggers_polled) of $(field triggers_seen) triggers polled; $(field early) earlier than the recurrence)"
echo
echo "| lateness (interval − ${RECURRENCE} s) | p50 | p99 | max |"
echo "|---|---:|---:|---:|"
echo "| seen by the backend | $(field p50_s) s | $(field p99_s) s | $(field max_s) s |"
echo
echo "patchbay_trigger_poll_lateness_seconds at the end of the window (the server's rolling summary):"
$PY metric "$PB_URL" patchbay_trigger_poll_lateness_seconds | sed 's/^/    /'
$PY metric "$PB_URL" patchbay_trigger_polls_total | sed 's/^/    /'
echo
echo "patchbay RSS: idle $idle_rss MB; under load mean $rss_mean MB, max $rss_max MB"
