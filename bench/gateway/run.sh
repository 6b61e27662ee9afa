#!/usr/bin/env bash
# The gateway benchmark: the same connector operation (Contoso Tasks `ListProjects`, a GET with an
# API key) invoked through the invoke API of one `patchbay serve`, once on a connection that calls
# the backend directly and once on a connection bound to an on-premises gateway whose agent
# (`patchbay gateway`, a separate process on the same machine) carries the call - same run, same
# backend, same load generator, alternating direct / gateway ROUNDS times.
#
#   bench/gateway/run.sh            (from anywhere; prints a table and writes $OUT/summary.txt)
#
# Knobs: DUR=10 (seconds per measurement) CONC="1 16" (wrk connections; c=1 gives the added
# latency, c=16 the throughput) ROUNDS=2 PB_BIN=<patchbay binary> CONTOSO_BIN=<contoso-tasks binary>
# (default: cargo build --release, CARGO_TARGET_DIR honoured) OUT=<folder> (default a temp folder)
# Needs: wrk, curl, python3.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DUR=${DUR:-10}; CONC=${CONC:-"1 16"}; ROUNDS=${ROUNDS:-2}
OUT=${OUT:-$(mktemp -d /tmp/pb-gateway-bench.XXXXXX)}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
if [ -z "${PB_BIN:-}" ] || [ -z "${CONTOSO_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release -p patchbay -p contoso-tasks)
fi
PB_BIN=${PB_BIN:-$TARGET/release/patchbay}
CONTOSO_BIN=${CONTOSO_BIN:-$TARGET/release/contoso-tasks}
API_PORT=18300; PB_PORT=18301; PB=http://127.0.0.1:$PB_PORT
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

CONTOSO_ADDR=127.0.0.1:$API_PORT "$CONTOSO_BIN" > "$OUT/contoso.log" 2>&1 & PIDS+=($!)
"$PB_BIN" serve --listen 127.0.0.1:$PB_PORT --data-dir "$OUT/data" --allow-loopback --rate-limit 0 \
  --invoke-retries 0 --log warn > "$OUT/serve.log" 2>&1 & PIDS+=($!)
for _ in $(seq 100); do curl -fs "$PB/readyz" > /dev/null && break; sleep 0.1; done
TOKEN=$(grep -o 'pb_[A-Za-z0-9_-]*' "$OUT/serve.log" | head -1)
[ -n "$TOKEN" ] || { echo "error: no admin token in $OUT/serve.log" >&2; exit 1; }
api() { curl -fsS -X "$1" "$PB$2" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

UPLOAD=$(python3 - "$ROOT/examples/contoso-tasks/connector" "127.0.0.1:$API_PORT" <<'PY'
import json, sys, pathlib
folder, host = pathlib.Path(sys.argv[1]), sys.argv[2]
read = lambda name: (folder / name).read_text().replace("localhost:3000", host)
print(json.dumps({"name": "Contoso Tasks", "apiDefinition": read("apiDefinition.swagger.json"),
                  "apiProperties": read("apiProperties.json")}))
PY
)
CONNECTOR=$(api POST /api/connectors "$UPLOAD" | field "['id']")
NEW='{"displayName": "%s", "parameterSet": "apiKey", "values": {"api_key": "contoso-demo-key"}}'
DIRECT=$(api POST "/api/connectors/$CONNECTOR/connections" "$(printf "$NEW" direct)" | field "['id']")
BOUND=$(api POST "/api/connectors/$CONNECTOR/connections" "$(printf "$NEW" gateway)" | field "['id']")
GATEWAY=$(api POST /api/gateways '{"name": "bench"}')
GW_ID=$(echo "$GATEWAY" | field "['id']"); GW_TOKEN=$(echo "$GATEWAY" | field "['token']")
api PUT "/api/connections/$BOUND/gateway" "{\"gatewayId\": \"$GW_ID\"}" > /dev/null
"$PB_BIN" gateway --server "$PB" --token "$GW_TOKEN" --allow 127.0.0.1:$API_PORT --name bench-agent \
  > "$OUT/agent.log" 2>&1 & PIDS+=($!)
for _ in $(seq 100); do
  [ "$(api GET "/api/gateways/$GW_ID" | field "['status']['agents'].__len__()")" = 1 ] && break; sleep 0.1
done

measure() { # name connection concurrency
  local path="/api/connections/$2/operations/ListProjects"
  PB_TOKEN=$TOKEN wrk -t "$(( $3 < 2 ? 1 : 2 ))" -c "$3" -d "${DUR}s" -s "$HERE/wrk-invoke.lua" "$PB$path" \
    | grep '^RESULT' | sed "s/^RESULT /$1 $3 /" | tee -a "$OUT/results.txt"
}
for c in $CONC; do measure warmup "$DIRECT" "$c" > /dev/null; measure warmup "$BOUND" "$c" > /dev/null; done
for round in $(seq "$ROUNDS"); do
  for c in $CONC; do measure direct "$DIRECT" "$c"; measure gateway "$BOUND" "$c"; done
done
api GET "/api/gateways/$GW_ID" > "$OUT/gateway-status.json"
python3 "$HERE/report.py" "$OUT/results.txt" | tee "$OUT/summary.txt"
