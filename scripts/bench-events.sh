#!/usr/bin/env bash
# Activity at scale on one node: loads BENCH_PEOPLE generated people
# (default 400000 ≈ 1M records), then streams BENCH_EVENTS events (default
# 10M) over them through Events.BulkSend (kindred-bench events, 2 streams of
# 1000-event batches), times profiles with their traits once they are in,
# times `kindred rfm compute` over every customer, and reads the bytes the
# events and their summaries take (`kindred stats`: RocksDB's SST and
# memtable sizes of those column families) after a restart. Ends with one
# JSON line. BENCH_DIR keeps the work directory.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export ROCKSDB_LIB_DIR="${ROCKSDB_LIB_DIR:-/usr/lib/$(gcc -dumpmachine)}"
cargo build --release -q -p kindred-node --bin kindred-node -p kindred-client --bin kindred --bin kindred-gen \
  -p kindred-tests --bin kindred-bench
BIN="$CARGO_TARGET_DIR/release"
if [ -n "${BENCH_DIR:-}" ]; then WORK="$BENCH_DIR"; mkdir -p "$WORK"; KEEP=1; else WORK=$(mktemp -d); KEEP=0; fi
NODE=""
stop_node() {
  if [ -n "$NODE" ]; then kill -TERM "$NODE" 2>/dev/null || true; wait "$NODE" 2>/dev/null || true; NODE=""; fi
}
cleanup() {
  stop_node
  if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
E="http://127.0.0.1:$port"
start_node() {
  "$BIN/kindred-node" --data-dir "$WORK/node" --listen "127.0.0.1:$port" --internal-listen 127.0.0.1:0 2>>"$WORK/node.log" &
  NODE=$!
  for _ in $(seq 1200); do "$BIN/kindred" --endpoint "$E" stats >/dev/null 2>&1 && return; sleep 0.1; done
  echo "node did not start" >&2; exit 1
}

if [ ! -f "$WORK/data/records.csv" ]; then
  "$BIN/kindred-gen" --people "${BENCH_PEOPLE:-400000}" --seed 42 --difficulty medium --out "$WORK/data" >/dev/null
fi
CSV="$WORK/data/records.csv"; MAPPING="$WORK/data/mapping.toml"
rm -rf "$WORK/node"
start_node
echo "== import $(($(wc -l <"$CSV") - 1)) records"
rc=0; "$BIN/kindred" --endpoint "$E" --output json import "$CSV" --mapping "$MAPPING" --no-progress >"$WORK/import.json" || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; then echo "import failed ($rc)" >&2; exit 1; fi

echo "== ${BENCH_EVENTS:-10000000} events through BulkSend, then profiles with traits"
"$BIN/kindred-bench" --endpoint "$E" events --records "$CSV" --mapping "$MAPPING" \
  --events "${BENCH_EVENTS:-10000000}" --streams 2 --batch 1000 --lookups 2000 --tag b >"$WORK/events.json"
echo "== RFM cut points over every customer"
t0=$(date +%s.%N)
"$BIN/kindred" --endpoint "$E" --output json rfm compute >"$WORK/rfm.json"
t1=$(date +%s.%N)
stop_node; start_node
"$BIN/kindred" --endpoint "$E" --output json stats >"$WORK/stats.json"

python3 - "$WORK" "$t0" "$t1" <<'PY'
import json, sys
work, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
stats = json.load(open(f"{work}/stats.json"))
ev = json.load(open(f"{work}/events.json"))
rfm = json.load(open(f"{work}/rfm.json"))
imp = json.load(open(f"{work}/import.json"))
print(json.dumps({
    "records": imp["summary"]["records_read"] if "summary" in imp else imp.get("records_read"),
    "events": ev["events"],
    "events_per_second": ev["events_per_second"],
    "rejected": ev["rejected"],
    "profile_with_traits": ev["profile_with_traits"],
    # --output json prints 64-bit integers as strings (proto3 JSON).
    "events_stored": int(stats["events"]),
    "activity_bytes": int(stats["activity_bytes"]),
    "bytes_per_event": round(int(stats["activity_bytes"]) / max(int(stats["events"]), 1), 1),
    "rfm_seconds": round(t1 - t0, 2),
    "rfm_customers": rfm["customers"],
}))
PY
