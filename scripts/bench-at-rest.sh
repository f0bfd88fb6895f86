#!/usr/bin/env bash
# The cost of encryption at rest, and the time to erase a person.
#   - The same import and the same profile lookups against a node that
#     seals personal data (the default: per-record data keys, AES-256-GCM)
#     and one started with --plaintext-at-rest, in the same run on the same
#     data, alternating the two BENCH_ROUNDS times (medians reported):
#     import throughput (records/s) of BENCH_PEOPLE generated people (about
#     2.5 records each) and p50/p99 of sequential profile lookups
#     (kindred-bench).
#   - Erasure: on a sealed node loaded with BENCH_ERASE_PEOPLE people (0:
#     skipped), BENCH_ERASES erasures by record, one after another, each
#     timed from the CLI call to its answer (the erasure is done, purge
#     included): median and max.
# Both nodes use tokens (an admin token, and a privacy one for erasures).
# Ends with one JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export ROCKSDB_LIB_DIR="${ROCKSDB_LIB_DIR:-/usr/lib/$(gcc -dumpmachine)}"
cargo build --release -q -p kindred-node --bin kindred-node -p kindred-client --bin kindred --bin kindred-gen \
  -p kindred-tests --bin kindred-bench
BIN="$CARGO_TARGET_DIR/release"
PEOPLE="${BENCH_PEOPLE:-40000}"
ROUNDS="${BENCH_ROUNDS:-3}"
LOOKUPS="${BENCH_LOOKUPS:-3000}"
ERASE_PEOPLE="${BENCH_ERASE_PEOPLE:-0}"
ERASES="${BENCH_ERASES:-20}"
WORK=$(mktemp -d)
NODE=""
cleanup() {
  if [ -n "$NODE" ]; then kill -TERM "$NODE" 2>/dev/null || true; wait "$NODE" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$BIN/kindred-node" keys generate --out "$WORK/master.key" >/dev/null
ADMIN=$("$BIN/kindred-node" token --name bench --role admin)
PRIVACY=$("$BIN/kindred-node" token --name dpo --role privacy)
TOKEN=$(echo "$ADMIN" | sed -n 's/^token: //p')
PTOKEN=$(echo "$PRIVACY" | sed -n 's/^token: //p')
{ echo "$ADMIN" | tail -1; echo "$PRIVACY" | tail -1; } >"$WORK/tokens"

# start MODE DIR: a node in MODE (plain|sealed) over DIR; sets P.
start() {
  local flags=(--master-key-file "$WORK/master.key")
  [ "$1" = plain ] && flags=(--plaintext-at-rest)
  P=$(port)
  "$BIN/kindred-node" --data-dir "$2" --listen "127.0.0.1:$P" --internal-listen 127.0.0.1:0 \
    --tokens-file "$WORK/tokens" "${flags[@]}" 2>"$2.log" &
  NODE=$!
  for _ in $(seq 600); do
    "$BIN/kindred" --endpoint "http://127.0.0.1:$P" --token "$TOKEN" stats >/dev/null 2>&1 && break
    sleep 0.1
  done
}
stop() { kill -TERM "$NODE"; wait "$NODE" || true; NODE=""; }

# run MODE ROUND: a fresh node, import, lookups; prints one JSON line.
run() {
  local mode=$1 dir="$WORK/$1-$2"
  start "$mode" "$dir"
  local client=(--endpoint "http://127.0.0.1:$P" --token "$TOKEN")
  "$BIN/kindred" "${client[@]}" --output json import "$CSV" --mapping "$MAPPING" --no-progress >"$dir.import.json" || [ $? -eq 4 ]
  "$BIN/kindred-bench" "${client[@]}" latency --records "$CSV" --mapping "$MAPPING" --upserts 0 --lookups "$LOOKUPS" >"$dir.latency.json" 2>/dev/null
  stop
  python3 - "$mode" "$dir.import.json" "$dir.latency.json" <<'PY'
import json, sys
mode, imp, lat = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
look = lat["lookup"]
print(json.dumps({"mode": mode, "records_per_second": imp["records_per_second"],
                  "lookup_p50_ms": look["p50_ms"], "lookup_p99_ms": look["p99_ms"]}))
PY
}

"$BIN/kindred-gen" --people "$PEOPLE" --seed 7 --difficulty medium --out "$WORK/data" >/dev/null
CSV="$WORK/data/records.csv"
MAPPING="$WORK/data/mapping.toml"
for r in $(seq "$ROUNDS"); do
  run plain "$r" | tee -a "$WORK/results.jsonl"
  run sealed "$r" | tee -a "$WORK/results.jsonl"
done

ERASE='{}'
if [ "$ERASE_PEOPLE" -gt 0 ]; then
  "$BIN/kindred-gen" --people "$ERASE_PEOPLE" --seed 11 --difficulty medium --out "$WORK/big" >/dev/null
  start sealed "$WORK/erase"
  client=(--endpoint "http://127.0.0.1:$P" --token "$TOKEN")
  "$BIN/kindred" "${client[@]}" --output json import "$WORK/big/records.csv" --mapping "$WORK/big/mapping.toml" \
    --no-progress >"$WORK/erase.import.json" || [ $? -eq 4 ]
  RECORDS=$("$BIN/kindred" "${client[@]}" --output json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])')
  python3 - "$WORK/big/records.csv" "$ERASES" >"$WORK/targets" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
n = int(sys.argv[2])
for r in rows[:: max(1, len(rows) // n)][:n]:
    print(f'{r["source"]}:{r["record_id"]}')
PY
  : >"$WORK/erase.times"
  while read -r target; do
    t0=$(date +%s%N)
    "$BIN/kindred" --endpoint "http://127.0.0.1:$P" --token "$PTOKEN" --output json privacy erase --record "$target" \
      >>"$WORK/erase.out" 2>&1 || true
    echo $(( ($(date +%s%N) - t0) / 1000000 )) >>"$WORK/erase.times"
  done <"$WORK/targets"
  stop
  ERASE=$(python3 - "$WORK/erase.times" "$RECORDS" "$WORK/erase.out" <<'PY'
import json, statistics, sys
ms = [int(l) for l in open(sys.argv[1])]
done = open(sys.argv[3]).read().count("ERASURE_STATE_DONE")
print(json.dumps({"records_loaded": int(sys.argv[2]), "erasures": len(ms), "done": done,
                  "median_ms": statistics.median(ms), "max_ms": max(ms)}))
PY
)
fi

python3 - "$WORK/results.jsonl" "$ERASE" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(mode, key): return statistics.median(r[key] for r in rows if r["mode"] == mode)
out = {}
for key in ["records_per_second", "lookup_p50_ms", "lookup_p99_ms"]:
    p, s = med("plain", key), med("sealed", key)
    out[key] = {"plaintext": p, "sealed": s, "sealed_over_plaintext": round(s / p, 3)}
out["erase"] = json.loads(sys.argv[2])
print(json.dumps(out))
PY
