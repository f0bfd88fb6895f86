#!/usr/bin/env bash
# Segments on one node: loads BENCH_PEOPLE generated people (default 40000,
# about 100k records) and BENCH_EVENTS events over them (default 1M, through
# kindred-bench events: orders, page views, email opens over three years),
# then times a full sweep (the backfill a new segment starts: every
# customer re-evaluated against every segment) and an audience export of
# the largest standard segment. During the events, probes time the change
# feed: from an event's acknowledgement to its customer's ENTERED message on
# `Watch`. Ends with one JSON line. BENCH_DIR keeps the work directory;
# with BENCH_REUSE=1 a node loaded by an earlier run there is kept (no
# import, no events: only the sweep and the export are timed again).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export ROCKSDB_LIB_DIR="${ROCKSDB_LIB_DIR:-/usr/lib/$(gcc -dumpmachine)}"
cargo build --release -q -p kindred-node --bin kindred-node -p kindred-client --bin kindred --bin kindred-gen \
  -p kindred-tests --bin kindred-bench
BIN="$CARGO_TARGET_DIR/release"
if [ -n "${BENCH_DIR:-}" ]; then WORK="$BENCH_DIR"; mkdir -p "$WORK"; KEEP=1; else WORK=$(mktemp -d); KEEP=0; fi
NODE=""
cleanup() {
  if [ -n "$NODE" ]; then kill -TERM "$NODE" 2>/dev/null || true; wait "$NODE" 2>/dev/null || true; fi
  if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
E="http://127.0.0.1:$port"
K() { "$BIN/kindred" --endpoint "$E" "$@"; }
if [ ! -f "$WORK/data/records.csv" ]; then
  "$BIN/kindred-gen" --people "${BENCH_PEOPLE:-40000}" --seed 42 --difficulty medium --out "$WORK/data" >/dev/null
fi
CSV="$WORK/data/records.csv"; MAPPING="$WORK/data/mapping.toml"
REUSE=0
if [ "${BENCH_REUSE:-0}" = 1 ] && [ -f "$WORK/node/.loaded" ]; then REUSE=1; else rm -rf "$WORK/node"; fi
# No scheduled sweep: the one timed is the one the new segment starts.
cat >"$WORK/node.toml" <<'TOML'
[activity]
segment_sweep_minutes = 0
TOML
"$BIN/kindred-node" --config "$WORK/node.toml" --data-dir "$WORK/node" --listen "127.0.0.1:$port" \
  --internal-listen 127.0.0.1:0 2>>"$WORK/node.log" &
NODE=$!
for _ in $(seq 1200); do K stats >/dev/null 2>&1 && break; sleep 0.1; done
if [ "$REUSE" = 0 ]; then
  echo "== import $(($(wc -l <"$CSV") - 1)) records"
  rc=0; K --output json import "$CSV" --mapping "$MAPPING" --no-progress >"$WORK/import.json" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; then echo "import failed ($rc)" >&2; exit 1; fi
  cat >"$WORK/probe.toml" <<'TOML'
name = "bench_probe"
condition = { performed = { event = "bench_probe", within_days = 1 } }
TOML
  K segment create "$WORK/probe.toml" >/dev/null
  echo "== ${BENCH_EVENTS:-1000000} events (each write re-evaluates its customer's segments; probes time Watch)"
  "$BIN/kindred-bench" --endpoint "$E" events --records "$CSV" --mapping "$MAPPING" \
    --events "${BENCH_EVENTS:-1000000}" --streams 2 --batch 1000 --lookups 500 --tag b \
    --probe-segment bench_probe >"$WORK/events.json"
  K rfm compute >/dev/null
  touch "$WORK/node/.loaded"
fi
K segment delete big_spenders >/dev/null 2>&1 || true

echo "== a new segment: the sweep that fills it"
cat >"$WORK/big.toml" <<'TOML'
name = "big_spenders"
condition = { trait = { name = "total_spend", op = ">=", value = 500 } }
TOML
before=$(K --output json segment show prospects | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["swept_at_ms"]))')
t0=$(date +%s.%N)
K segment create "$WORK/big.toml" >/dev/null
while :; do
  now=$(K --output json segment show prospects | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["swept_at_ms"]))')
  [ "$now" -gt "$before" ] && break
  sleep 0.2
done
t1=$(date +%s.%N)
K --output json segment list >"$WORK/segments.json"
for s in prospects new_customers active at_risk lapsed champions abandoned_carts bench_probe big_spenders; do
  K --output json segment show "$s" | python3 -c "import json,sys; print('$s', json.load(sys.stdin)['size'])"
done | tee "$WORK/sizes.txt"
largest=$(sort -k2 -n -r "$WORK/sizes.txt" | head -1 | cut -d' ' -f1)
echo "== export $largest"
t2=$(date +%s.%N)
K segment export "$largest" --out "$WORK/audience.csv" --traits orders,total_spend >/dev/null
t3=$(date +%s.%N)
python3 - "$WORK" "$t0" "$t1" "$t2" "$t3" "$largest" <<'PY'
import json, sys
work, t0, t1, t2, t3, largest = sys.argv[1], *map(float, sys.argv[2:6]), sys.argv[6]
events = json.load(open(f"{work}/events.json"))
customers = sum(1 for _ in open(f"{work}/data/records.csv")) - 1
rows = sum(1 for _ in open(f"{work}/audience.csv")) - 1
print(json.dumps({
    "records": customers,
    "events": events,
    "sweep_seconds": round(t1 - t0, 2),
    "export_segment": largest,
    "export_members": rows,
    "export_seconds": round(t3 - t2, 2),
}))
PY
