#!/usr/bin/env bash
# Retraining under load: a node keeps serving while it trains and
# re-resolves. Imports the records into a fresh node (timed), then runs
# `kindred train --force` (which waits until every record is re-resolved
# under the new model) while kindred-bench alternates single upserts and
# profile lookups one at a time, and reports their latency (max included)
# and the import and train times. Ends with one JSON line.
#   BENCH_RECORDS + BENCH_MAPPING: a CSV and its mapping, BENCH_SOURCE its
#   source when the mapping names none (default: kindred-gen
#   with BENCH_PEOPLE people, default 400000 ≈ 1M records); BENCH_DIR keeps
#   the work directory.
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

if [ -n "${BENCH_RECORDS:-}" ]; then
  CSV="$BENCH_RECORDS"; MAPPING="$BENCH_MAPPING"; SRC=(--source "${BENCH_SOURCE:-bench}")
else
  "$BIN/kindred-gen" --people "${BENCH_PEOPLE:-400000}" --seed 42 --difficulty medium --out "$WORK/data" >/dev/null
  CSV="$WORK/data/records.csv"; MAPPING="$WORK/data/mapping.toml"; SRC=()
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
E="http://127.0.0.1:$port"
rm -rf "$WORK/node"
"$BIN/kindred-node" --data-dir "$WORK/node" --listen "127.0.0.1:$port" --internal-listen 127.0.0.1:0 2>"$WORK/node.log" &
NODE=$!
for _ in $(seq 600); do "$BIN/kindred" --endpoint "$E" stats >/dev/null 2>&1 && break; sleep 0.1; done

echo "== import $(($(wc -l <"$CSV") - 1)) records"
t0=$(date +%s.%N)
rc=0; "$BIN/kindred" --endpoint "$E" --output json import "$CSV" --mapping "$MAPPING" "${SRC[@]}" --no-progress >"$WORK/import.json" || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; then echo "import failed ($rc)" >&2; exit 1; fi
t1=$(date +%s.%N)

echo "== kindred train --force, with single upserts and lookups alternating meanwhile"
"$BIN/kindred-bench" --endpoint "$E" during --records "$CSV" --mapping "$MAPPING" "${SRC[@]}" -- \
  "$BIN/kindred" --endpoint "$E" --output json train --force >"$WORK/during.json"
"$BIN/kindred" --endpoint "$E" --output json stats >"$WORK/stats.json"

python3 - "$WORK" "$t0" "$t1" <<'PY'
import json, sys
work, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
lines = open(f"{work}/during.json").read().strip().splitlines()
d = json.loads(lines[-1])
train = json.loads("\n".join(lines[:-1])) if len(lines) > 1 else {}
s = json.load(open(f"{work}/stats.json"))
imp = json.load(open(f"{work}/import.json"))
print(json.dumps({
    "records": s["records"],
    "import_seconds": round(t1 - t0, 1),
    "import_rps": round(imp["records_per_second"]),
    "train_seconds_with_reresolution": d["command_seconds"],
    "train_seconds_to_install": train.get("seconds"),
    "import_plus_train_seconds": round(t1 - t0 + d["command_seconds"], 1),
    "upserts_during": d["upsert"]["count"],
    "upsert_p50_ms": d["upsert"]["p50_ms"], "upsert_p99_ms": d["upsert"]["p99_ms"], "upsert_max_ms": d["upsert"]["max_ms"],
    "lookup_p50_ms": d["lookup"]["p50_ms"], "lookup_p99_ms": d["lookup"]["p99_ms"], "lookup_max_ms": d["lookup"]["max_ms"],
    "reresolving_after": s.get("reresolving_records", 0),
}))
PY
