#!/usr/bin/env bash
# Webhook intake benchmark: how many notifications per second `POST /hooks/{subscription}/{secret}`
# stores durably (each 202 is committed before it is sent), against two baselines in the same run:
# the same URL with a wrong secret (same HTTP, body read and subscription lookup; 404, nothing
# written) and GET /healthz (the bare HTTP ceiling). Then checks that the events stored equal the
# 202s wrk counted.
#
# Usage: bench/triggers/intake.sh [sqlite|postgres|both]   (default sqlite)
# Environment: BENCH_DURATION (default 15s), BENCH_CONNECTIONS (64), BENCH_THREADS (2),
# BENCH_PATCHBAY_LOG (warn), BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/test),
# CARGO_TARGET_DIR, BENCH_BIN_DIR (run the binaries there, no build). Needs wrk, python3 and (for PostgreSQL) psql.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-sqlite}" in
    sqlite | postgres) ENGINES=("$1") ;;
    both) ENGINES=(sqlite postgres) ;;
    *) echo "usage: $0 [sqlite|postgres|both]" >&2; exit 2 ;;
esac
DURATION=${BENCH_DURATION:-15s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}

# Runs wrk against $2 and saves its output as $1.out (extra environment before the command).
run_wrk() {
    local name=$1 url=$2
    echo "  wrk $name: -t$THREADS -c$CONNECTIONS -d$DURATION $url" | sed -E 's#/hooks/([^/]+)/[^/ ]+#/hooks/\1/<secret>#' >&2
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$BENCH_DIR/wrk-post.lua" "$url" \
        >"$WORK/$name.out"
    grep -E "Requests/sec|Non-2xx|Socket errors" "$WORK/$name.out" | sed 's/^/    /' >&2
}

build -p patchbay -p contoso-tasks
echo "== webhook intake, $(date -u +%Y-%m-%d), $(machine), wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
start_contoso

for engine in "${ENGINES[@]}"; do
    echo "== $engine" >&2
    start_patchbay "$engine"
    read -r TRIGGER CALLBACK < <($PY setup-webhook "$PB_URL" "$PB_TOKEN" "$CONTOSO_URL" \
        "$REPO_DIR/examples/contoso-tasks/connector")
    secret=${CALLBACK##*/}
    WRONG="${CALLBACK%/*}/$(printf '%s' "$secret" | tr '0-9A-Za-z' '1-9A-Za-z0')"

    # Warm-up (nothing stored), then the runs: both baselines first.
    DURATION=3s run_wrk "$engine-warmup" "$WRONG" 2>/dev/null
    WRK_METHOD=GET run_wrk "$engine-healthz" "$PB_URL/healthz"
    run_wrk "$engine-wrong" "$WRONG"
    batches_before=$($PY metric "$PB_URL" patchbay_webhook_batches_total | awk '{print $NF}')
    run_wrk "$engine-callback" "$CALLBACK"
    batches=$(( $($PY metric "$PB_URL" patchbay_webhook_batches_total | awk '{print $NF}') - batches_before ))

    stored=$($PY count-events "$PB_URL" "$PB_TOKEN" "$TRIGGER")
    acknowledged=$(grep '^RESULT ' "$WORK/$engine-callback.out" | python3 -c \
        'import json,sys; r=json.loads(sys.stdin.read()[7:]); print(sum(n for s, n in r["statuses"].items() if s.startswith("2")))')
    echo
    echo "### $engine"
    echo
    $PY wrk-table --baselines=2 \
        "GET /healthz: bare HTTP=$WORK/$engine-healthz.out" \
        "wrong secret: lookup, 404, nothing written=$WORK/$engine-wrong.out" \
        "callback: stored durably, then 202=$WORK/$engine-callback.out"
    echo
    echo "2xx answers counted by wrk: $acknowledged; events stored (GET /api/triggers/{id}/events): $stored"
    echo "commits (intake batches) during the callback run: $batches, $((stored / (batches > 0 ? batches : 1))) notifications per commit on average"
    if ((stored < acknowledged)); then
        echo "LOST: $((acknowledged - stored)) acknowledged notifications are not stored" >&2
        exit 1
    fi
    if ((stored > acknowledged)); then
        echo "($((stored - acknowledged)) stored beyond the 2xx count: requests in flight when wrk stopped, at most $CONNECTIONS)"
    fi
    stop_child "$PB_PID"
done
