#!/usr/bin/env bash
# The Flows benchmark: a Request-triggered flow with one connector action calling a local API and a
# Response, run history stored, on SQLite and on PostgreSQL, beside the same API called directly and
# the same flow in Node-RED - one pass, same backend, same placement, same load generator.
#
#   bench/flows/run.sh                      (from anywhere; results in $PEERS_DIR/results/flows-$TAG/)
#
# Systems, in this order (SYSTEMS="direct nodered pb-sqlite pb-pg" by default):
#   direct     GET http://127.0.0.1:18080/items/1 on the kit's backend (the ceiling)
#   nodered    POST http://127.0.0.1:1880/bench (the kit's flow: http in -> http request -> http response)
#   pb-sqlite  POST /api/flows/{id}/run on `patchbay serve` with a fresh data dir (SQLite)
#   pb-pg      the same with --database-url $PG_URL --database-schema bench_flows_<pid> (dropped after)
#   pb-sqlite-shm (not by default) pb-sqlite with its data dir in /dev/shm: fsync costs nothing there,
#              so the difference to pb-sqlite is what the commits' fsyncs cost (a diagnosis, not a setup)
# Each: probe, idle RSS, warm-up WARM s at c=8, then DUR s at each of CONC with wrk (bench/flows/load.py).
# Placement (the kit's PIN=1): the system under test alone on CPU 1 (for pb-pg also the PostgreSQL
# backends serving it, pinned by load.py); the backend and wrk on CPU 0. For `direct` the system under
# test is the backend itself (on CPU 0 with wrk, as in the kit).
#
# Knobs: DUR=20 WARM=10 CONC=1,8,32 TAG=<UTC time> SYSTEMS=... PG_URL=postgres://postgres@127.0.0.1:5432/test
#        NICE=0 (e.g. -10, root only: every system, wrk and the backend run at that nice level, less
#        disturbed by other jobs on a shared machine) PG_PIN=1 (0: the PostgreSQL backends are not pinned) PB_BIN=<patchbay binary> (default: cargo build --release -p patchbay, CARGO_TARGET_DIR honoured,
#        and a private copy of this worktree's binary) PB_PORT=18181 PEERS_DIR KIT (the peer kit folder)
# Needs: wrk, taskset, ss, python3, node (the backend), sqlite3, psql; Node-RED is installed by the kit
# (install.sh nodered, ~1 min) when missing.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
KIT=${KIT:-$(cd "$ROOT/../shared/bench/peers" 2>/dev/null && pwd || true)}
[ -n "$KIT" ] && [ -f "$KIT/common.sh" ] || { echo "error: the peer kit was not found; set KIT=<folder of ../shared/bench/peers>" >&2; exit 1; }
PIN=1
. "$KIT/common.sh"
local_only_env

DUR=${DUR:-20}; WARM=${WARM:-10}; CONC=${CONC:-1,8,32}
SYSTEMS=${SYSTEMS:-"direct nodered pb-sqlite pb-pg"}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
PB_PORT=${PB_PORT:-18181}
PG_PIN=${PG_PIN:-1}   # 1: pin the PostgreSQL backends serving patchbay to CPU_SUT; 0: leave them unpinned
TAG=${TAG:-$(date -u +%Y%m%dT%H%M%SZ)}
OUT=$PEERS_DIR/results/flows-$TAG
mkdir -p "$OUT/logs"
SUMMARY=$OUT/summary.txt
log() { echo "$*" | tee -a "$SUMMARY"; }

# ---- pre-flight ------------------------------------------------------------------------------------------
for tool in wrk taskset ss python3 node curl sqlite3; do
  command -v "$tool" >/dev/null || die "$tool not found (Debian: wrk util-linux iproute2 python3 nodejs curl sqlite3)"
done
case " $SYSTEMS " in *" pb-pg "*) command -v psql >/dev/null || die "psql not found (postgresql-client)";; esac
case " $SYSTEMS " in *" nodered "*)
  [ -f "$PEERS_DIR/nodered/node_modules/node-red/red.js" ] || "$KIT/install.sh" nodered ;;
esac
for p in "$BACKEND_PORT" "$NODERED_PORT" "$PB_PORT"; do
  port_busy "$p" && die "port 127.0.0.1:$p is in use; stop whatever runs there first"
done

# The patchbay binary: a private copy of the one built from this worktree (CARGO_TARGET_DIR may be
# shared with other checkouts, whose builds replace target/release/patchbay).
if [ -z "${PB_BIN:-}" ]; then
  target=${CARGO_TARGET_DIR:-$ROOT/target}
  (cd "$ROOT" && cargo build --release -p patchbay --quiet)
  # The uplifted binary is a hard link to deps/patchbay-<hash>, which no other checkout's build rewrites.
  inode=$(stat -c %i "$target/release/patchbay")
  PB_BIN=$(find "$target/release/deps" -maxdepth 1 -name 'patchbay-*' -inum "$inode" | head -1)
  [ -n "$PB_BIN" ] || die "no patchbay binary built from $ROOT in $target/release/deps"
  cp "$PB_BIN" "$OUT/patchbay"; PB_BIN=$OUT/patchbay
fi
[ -x "$PB_BIN" ] || die "PB_BIN=$PB_BIN is not an executable"

# ---- cleanup: only what this pass started, by PID ----------------------------------------------------------
PB_PID=; PB_START=; PG_SCHEMA=; SHM_DATA=
stop_pb() {
  [ -n "$PB_PID" ] || return 0
  if proc_alive "$PB_PID" "$PB_START"; then
    kill -INT "$PB_PID" 2>/dev/null || true
    for _ in $(seq 1 75); do proc_alive "$PB_PID" "$PB_START" || break; sleep 0.2; done
    proc_alive "$PB_PID" "$PB_START" && kill -KILL "$PB_PID" 2>/dev/null || true
  fi
  PB_PID=
}
drop_schema() {
  [ -n "$PG_SCHEMA" ] || return 0
  psql "$PG_URL" -qAtc "DROP SCHEMA IF EXISTS $PG_SCHEMA CASCADE" >/dev/null 2>&1 || warn "could not drop schema $PG_SCHEMA"
  PG_SCHEMA=
}
cleanup() {
  stop_pb; drop_schema
  [ -z "$SHM_DATA" ] || rm -rf "$SHM_DATA"
  "$KIT/stop.sh" nodered backend >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- header --------------------------------------------------------------------------------------------
nr_version=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$PEERS_DIR/nodered/node_modules/node-red/package.json" 2>/dev/null | head -1)
{
  echo "### Flows benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ) TAG=$TAG DUR=$DUR WARM=$WARM CONC=$CONC NICE=$NICE"
  echo "# machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# placement: system under test on CPU $CPU_SUT (pb-pg: its PostgreSQL backends too when PG_PIN=1; PG_PIN=$PG_PIN); backend + wrk on CPU $CPU_LOAD"
  echo "# wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), backend node $(node -v), Node-RED ${nr_version:-?} on Node 24, patchbay $(git -C "$ROOT" rev-parse --short HEAD) ($PB_BIN)"
  echo "# PostgreSQL: $(psql "$PG_URL" -Atc 'show server_version' 2>/dev/null || echo n/a)"
} | tee -a "$SUMMARY"

load() {  # load NAME URL METHOD PID [load.py options...]
  local name=$1 url=$2 method=$3 pid=$4; shift 4
  python3 "$HERE/load.py" --name "$name" --url "$url" --method "$method" --pid "$pid" \
    --conc "$CONC" --duration "$DUR" --warmup "$WARM" --cpu "$CPU_LOAD" --out "$OUT" "$@" | tee -a "$SUMMARY"
}

# start_pb NAME [serve args...]: a fresh patchbay on CPU_SUT; sets PB_PID, PB_START, PB_URL, FLOW, BENCH_TOKEN
start_pb() {
  local name=$1; shift
  local data
  if [ "$name" = pb-sqlite-shm ]; then data=$(mktemp -d /dev/shm/pbflow.XXXX); SHM_DATA=$data
  else data=$(mktemp -d "$OUT/$name-data.XXXX"); fi
  export PATCHBAY_ADMIN_TOKEN
  PATCHBAY_ADMIN_TOKEN=$(python3 -c 'import secrets, string; a = string.ascii_letters + string.digits; print("pb_" + "".join(secrets.choice(a) for _ in range(32)))')
  PB_URL=http://127.0.0.1:$PB_PORT
  nice -n "$NICE" taskset -c "$CPU_SUT" "$PB_BIN" serve --listen "127.0.0.1:$PB_PORT" --data-dir "$data" --allow-loopback "$@" \
    > "$OUT/logs/$name.log" 2>&1 &
  PB_PID=$!; PB_START=$(proc_start "$PB_PID" || echo 0)
  for _ in $(seq 1 100); do
    curl --noproxy '*' -sf "$PB_URL/readyz" >/dev/null 2>&1 && break
    proc_alive "$PB_PID" "$PB_START" || { tail -20 "$OUT/logs/$name.log" >&2; die "$name exited during start-up"; }
    sleep 0.2
  done
  FLOW=$(python3 "$HERE/setup.py" "$PB_URL")
  export BENCH_TOKEN=$PATCHBAY_ADMIN_TOKEN
  PB_DATA=$data
}

check_history() {  # check_history NAME COUNT_CMD: stored runs vs the 2xx answers wrk counted
  local name=$1 count_cmd=$2
  python3 - "$OUT" "$name" "$(eval "$count_cmd")" "$(python3 "$HERE/setup.py" "$PB_URL" runs "$FLOW")" <<'PY' | tee -a "$SUMMARY"
import glob, json, sys
out, name, db, api = sys.argv[1:5]
rows = [json.load(open(f)) for f in sorted(glob.glob(f"{out}/{name}-c*.json"))]
ok = sum(n for r in rows for c, n in r["codes"].items() if c.startswith("2"))
stored = sum(r["_bench"]["stored_succeeded_delta"] for r in rows)
inflight = sum(r["_bench"]["concurrency"] for r in rows)
print(f"# {name}: run history: {db.split()[1]} Succeeded of {db.split()[0]} runs in the database "
      f"(API listing: {api.split()[1]} of {api.split()[0]}); measured runs: {stored} stored vs {ok} 2xx answers "
      f"counted by wrk (stored may exceed by at most the {inflight} requests in flight at the deadlines): "
      + ("OK" if ok <= stored <= ok + inflight and db.split()[0] == db.split()[1] else "MISMATCH"))
PY
}

# ---- the pass ------------------------------------------------------------------------------------------
"$KIT/start-backend.sh" | tee -a "$SUMMARY"
BACKEND_PID=$(pid_of backend)

for system in $SYSTEMS; do
  case "$system" in
    direct)
      BENCH_TOKEN= load direct "$BACKEND_URL" GET "$BACKEND_PID" ;;
    nodered)
      "$KIT/start-nodered.sh" | tee -a "$SUMMARY"
      BENCH_TOKEN= load nodered "http://127.0.0.1:$NODERED_PORT/bench" POST "$(pid_of nodered)" --idle-wait 15 --sut-core "$CPU_SUT"
      "$KIT/stop.sh" nodered >/dev/null ;;
    pb-sqlite|pb-sqlite-shm)
      start_pb "$system"
      count="sqlite3 -separator ' ' '$PB_DATA/patchbay.db' \"select count(*), coalesce(sum(status = 'Succeeded'), 0) from runs\""
      load "$system" "$PB_URL/api/flows/$FLOW/run" POST "$PB_PID" --idle-wait 15 --count-cmd "$count" --sut-core "$CPU_SUT"
      check_history "$system" "$count"
      stop_pb
      [ -z "$SHM_DATA" ] || { rm -rf "$SHM_DATA"; SHM_DATA=; } ;;
    pb-pg)
      PG_SCHEMA=bench_flows_$$
      start_pb pb-pg --database-url "$PG_URL" --database-schema "$PG_SCHEMA"
      count="psql '$PG_URL' -qAt -F ' ' -c \"select count(*), count(*) filter (where status = 'Succeeded') from $PG_SCHEMA.runs\""
      load pb-pg "$PB_URL/api/flows/$FLOW/run" POST "$PB_PID" --idle-wait 15 --count-cmd "$count" --sut-core "$CPU_SUT" \
        --pg-of "$PB_PID" --sut-cpu "$([ "$PG_PIN" = 1 ] && echo "$CPU_SUT")"
      check_history pb-pg "$count"
      stop_pb; drop_schema ;;
    *) die "unknown system '$system' (direct nodered pb-sqlite pb-pg pb-sqlite-shm)" ;;
  esac
done
"$KIT/stop.sh" backend >/dev/null
echo "### done $(date -u +%Y-%m-%dT%H:%M:%SZ) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$SUMMARY"
python3 "$HERE/report.py" "$OUT" | tee "$OUT/report.md"
echo "results: $OUT"
