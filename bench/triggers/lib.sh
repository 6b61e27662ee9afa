# Shared by intake.sh and scheduler.sh (sourced, not run): release builds, child processes that
# are stopped on exit, a `patchbay serve` on SQLite or on its own PostgreSQL schema, /proc figures.

set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/../.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_DIR/target}"
# BENCH_BIN_DIR: run binaries from there instead of building (e.g. to compare two builds).
BIN="${BENCH_BIN_DIR:-$TARGET_DIR/release}"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
PB_LOG="${BENCH_PATCHBAY_LOG:-warn}"
PY="python3 $BENCH_DIR/pb.py"

WORK="$(mktemp -d /tmp/patchbay-bench.XXXXXX)"
CHILDREN=()
SCHEMAS=()

# Stops the children this script started (by pid), drops its PostgreSQL schemas, removes its folder.
cleanup() {
    local pid schema
    for pid in "${CHILDREN[@]}"; do
        kill -INT "$pid" 2>/dev/null || true
    done
    for pid in "${CHILDREN[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    for schema in "${SCHEMAS[@]}"; do
        psql -q "$PG_URL" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 \
            || echo "could not drop schema $schema: drop it by hand" >&2
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Builds the release binaries named as packages (`-p patchbay -p …`).
build() {
    if [[ -n "${BENCH_BIN_DIR:-}" ]]; then echo "== using the binaries in $BIN" >&2; return; fi
    echo "== building (release): $*" >&2
    (cd "$REPO_DIR" && cargo build --release --quiet "$@")
}

# Waits until file $1 holds a line starting with $2 (at most $3 seconds); prints the line.
wait_line() {
    local file=$1 prefix=$2 limit=${3:-60} line
    for _ in $(seq $((limit * 10))); do
        line=$(grep -m1 "^$prefix" "$file" 2>/dev/null || true)
        if [[ -n "$line" ]]; then echo "$line"; return 0; fi
        sleep 0.1
    done
    echo "timed out waiting for '$prefix' in $file:" >&2
    cat "$file" >&2
    return 1
}

# Starts the Contoso Tasks sample API on a free port; sets CONTOSO_URL and CONTOSO_PID.
start_contoso() {
    local port
    port=$($PY free-port)
    CONTOSO_ADDR="127.0.0.1:$port" "$BIN/contoso-tasks" >"$WORK/contoso.out" 2>&1 &
    CONTOSO_PID=$!
    CHILDREN+=("$CONTOSO_PID")
    CONTOSO_URL=$(wait_line "$WORK/contoso.out" "Contoso Tasks is listening on" | awk '{print $NF}')
}

# Starts the ticker backend; sets TICKER_URL and TICKER_PID.
start_ticker() {
    "$BIN/patchbay-bench-ticker" >"$WORK/ticker.out" 2>&1 &
    TICKER_PID=$!
    CHILDREN+=("$TICKER_PID")
    TICKER_URL=$(wait_line "$WORK/ticker.out" "ticker listening on" | awk '{print $NF}')
}

# Starts `patchbay serve` on a fresh store: $1 = sqlite | postgres, then extra flags. Sets PB_URL,
# PB_TOKEN (the first admin's token) and PB_PID.
start_patchbay() {
    local engine=$1; shift
    local data="$WORK/data-$engine" store=()
    mkdir -p "$data"
    if [[ "$engine" == postgres ]]; then
        local schema="bench_${RANDOM}_$$"
        SCHEMAS+=("$schema")
        store=(--database-url "$PG_URL" --database-schema "$schema")
    fi
    "$BIN/patchbay" serve --listen 127.0.0.1:0 --data-dir "$data" --allow-loopback --log "$PB_LOG" \
        "${store[@]}" "$@" >"$WORK/patchbay-$engine.out" 2>"$WORK/patchbay-$engine.err" &
    PB_PID=$!
    CHILDREN+=("$PB_PID")
    PB_URL=$(wait_line "$WORK/patchbay-$engine.out" "patchbay listening on" | awk '{print $NF}')
    wait_line "$WORK/patchbay-$engine.out" "first start:" >/dev/null
    PB_TOKEN=$(grep -A1 "^first start:" "$WORK/patchbay-$engine.out" | tail -1 | tr -d ' ')
}

# Stops one child started above (SIGINT, then SIGKILL after 5 s).
stop_child() {
    local pid=$1
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

# CPU time used so far by process $1, in clock ticks (utime + stime).
cpu_ticks() {
    sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# The PostgreSQL server processes serving process $1's connections (by client port), one a line.
pg_backends() {
    local ports
    ports=$(ss -tnpH state established '( dport = :5432 )' | grep "pid=$1," \
        | awk '{split($3, a, ":"); print a[length(a)]}' | paste -sd, -)
    [[ -n "$ports" ]] || return 0
    psql -qAt "$PG_URL" -c "SELECT pid FROM pg_stat_activity WHERE client_port IN ($ports)"
}

# CPU time used so far by the processes listed on standard input, in clock ticks.
sum_cpu_ticks() {
    local pid total=0
    while read -r pid; do
        [[ -r "/proc/$pid/stat" ]] && total=$((total + $(cpu_ticks "$pid")))
    done
    echo "$total"
}

# Resident set size of process $1, in MB.
rss_mb() {
    awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"
}

# The machine, for the report.
machine() {
    echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr)"
}
