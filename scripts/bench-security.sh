#!/usr/bin/env bash
# The cost of security: the same import and the same profile lookups
# against a node with TLS and bearer tokens on, and against one with
# both off, in the same run and on the same data (alternating the two
# nodes, BENCH_ROUNDS times each, medians reported).
#   - import throughput (records/s) of BENCH_PEOPLE generated people
#     (about 2.5 records per person) through the kindred CLI;
#   - p50/p99 of sequential profile lookups (kindred-bench).
# Ends with one JSON line: the medians and the secure/plain ratios.
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
WORK=$(mktemp -d)
NODE=""
cleanup() {
  if [ -n "$NODE" ]; then kill -TERM "$NODE" 2>/dev/null || true; wait "$NODE" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$BIN/kindred-gen" --people "$PEOPLE" --seed 7 --difficulty medium --out "$WORK/data" >/dev/null
CSV="$WORK/data/records.csv"
MAPPING="$WORK/data/mapping.toml"
"$BIN/kindred-node" dev-certs --out "$WORK/certs" --names localhost >/dev/null
LINE=$("$BIN/kindred-node" token --name bench --role admin)
TOKEN=$(echo "$LINE" | sed -n 's/^token: //p')
echo "$LINE" | tail -1 >"$WORK/tokens"

# run MODE ROUND: a fresh node in MODE (plain|secure), import, lookups;
# prints one JSON line.
run() {
  local mode=$1 round=$2 p dir="$WORK/$1-$2" flags=() client=()
  p=$(port)
  if [ "$mode" = secure ]; then
    flags=(--tls-cert "$WORK/certs/localhost.pem" --tls-key "$WORK/certs/localhost-key.pem" --tokens-file "$WORK/tokens")
    client=(--endpoint "https://localhost:$p" --ca "$WORK/certs/ca.pem" --token "$TOKEN")
  else
    client=(--endpoint "http://127.0.0.1:$p")
  fi
  "$BIN/kindred-node" --data-dir "$dir" --listen "127.0.0.1:$p" --internal-listen 127.0.0.1:0 "${flags[@]}" 2>"$dir.log" &
  NODE=$!
  for _ in $(seq 600); do "$BIN/kindred" "${client[@]}" stats >/dev/null 2>&1 && break; sleep 0.1; done
  "$BIN/kindred" "${client[@]}" --output json import "$CSV" --mapping "$MAPPING" --no-progress >"$dir.import.json" || [ $? -eq 4 ]
  "$BIN/kindred-bench" "${client[@]}" latency --records "$CSV" --mapping "$MAPPING" --upserts 0 --lookups "$LOOKUPS" >"$dir.latency.json" 2>/dev/null
  kill -TERM "$NODE"; wait "$NODE" || true; NODE=""
  python3 - "$mode" "$dir.import.json" "$dir.latency.json" <<'PY'
import json, sys
mode, imp, lat = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
look = lat["lookup"]
print(json.dumps({"mode": mode, "records_per_second": imp["records_per_second"],
                  "lookup_p50_ms": look["p50_ms"], "lookup_p99_ms": look["p99_ms"]}))
PY
}

for r in $(seq "$ROUNDS"); do
  run plain "$r" | tee -a "$WORK/results.jsonl"
  run secure "$r" | tee -a "$WORK/results.jsonl"
done
python3 - "$WORK/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(mode, key): return statistics.median(r[key] for r in rows if r["mode"] == mode)
out = {}
for key in ["records_per_second", "lookup_p50_ms", "lookup_p99_ms"]:
    p, s = med("plain", key), med("secure", key)
    out[key] = {"plain": p, "secure": s, "secure_over_plain": round(s / p, 3)}
print(json.dumps(out))
PY
