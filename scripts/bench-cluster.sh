#!/usr/bin/env bash
# A 3-node cluster on this machine against a single node, in one run:
# generates noisy multi-source person records (BENCH_PEOPLE, default
# 400000 ≈ 1M records), then imports them with the kindred CLI into
#   1. a single node (1 partition: the standalone default),
#   2. a single node with the cluster's 8 partitions,
#   3. three nodes (8 partitions) through node 1,
# and reports records/s, the cluster/single ratio, internal RPCs per
# record, pairwise/B-cubed accuracy of each against the generator's truth,
# and profile-lookup latency through node 1 (most records live on the other
# two nodes). Ends with one JSON line holding the headline numbers.
# BENCH_DIR keeps the work directory; BENCH_LOOKUPS (default 3000).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export ROCKSDB_LIB_DIR="${ROCKSDB_LIB_DIR:-/usr/lib/$(gcc -dumpmachine)}"
cargo build --release -q -p kindred-node --bin kindred-node --bin kindred-eval \
  -p kindred-client --bin kindred --bin kindred-gen -p kindred-tests --bin kindred-bench
BIN="$CARGO_TARGET_DIR/release"
PEOPLE="${BENCH_PEOPLE:-400000}"
LOOKUPS="${BENCH_LOOKUPS:-3000}"
PARTITIONS=8
if [ -n "${BENCH_DIR:-}" ]; then WORK="$BENCH_DIR"; mkdir -p "$WORK"; KEEP=1; else WORK=$(mktemp -d); KEEP=0; fi
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() {
  for _ in $(seq 900); do
    "$BIN/kindred" --endpoint "$1" stats >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "no answer from $1" >&2; exit 1
}
stop_all() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
# start N PARTITIONS NAME: N nodes; sets ENDPOINTS (comma list) and E1.
start() {
  local n=$1 parts=$2 name=$3 peers="" ports=() iports=()
  for i in $(seq "$n"); do ports+=("$(port)"); iports+=("$(port)"); done
  for i in $(seq "$n"); do peers+="${peers:+,}$i=127.0.0.1:${iports[$((i-1))]}"; done
  ENDPOINTS=""
  for i in $(seq "$n"); do
    local dir="$WORK/$name/node$i"
    rm -rf "$dir"; mkdir -p "$dir"
    local extra=()
    if [ "$n" -gt 1 ]; then
      [ -f "$WORK/master.key" ] || "$BIN/kindred-node" keys generate --out "$WORK/master.key" >/dev/null
      extra=(--node-id "$i" --peers "$peers" --master-key-file "$WORK/master.key")
    fi
    "$BIN/kindred-node" --data-dir "$dir" --listen "127.0.0.1:${ports[$((i-1))]}" \
      --internal-listen "127.0.0.1:${iports[$((i-1))]}" --partitions "$parts" "${extra[@]}" 2>"$dir.log" &
    PIDS+=($!)
    ENDPOINTS+="${ENDPOINTS:+,}http://127.0.0.1:${ports[$((i-1))]}"
  done
  E1="http://127.0.0.1:${ports[0]}"
  for e in ${ENDPOINTS//,/ }; do wait_ready "$e"; done
}
# run NAME: imports the file through node 1, exports, scores.
run() {
  local rc=0
  "$BIN/kindred" --endpoint "$E1" --output json import "$FULL" --mapping "$MAPPING" --no-progress \
    >"$WORK/$1-import.json" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; then echo "import failed ($rc)" >&2; cat "$WORK/$1-import.json" >&2; exit 1; fi
  json "$WORK/$1-import.json" 'json.dumps({k: d[k] for k in ["records_read","accepted","rejected","elapsed_seconds","records_per_second"]})'
  "$BIN/kindred" --endpoint "$E1" export >"$WORK/$1-export.csv"
  "$BIN/kindred-eval" --score "$WORK/$1-export.csv" --truth "$TRUTH" --json >"$WORK/$1-score.json"
  json "$WORK/$1-score.json" 'json.dumps({"pairwise_f1": d["pairwise"]["f1"], "bcubed_f1": d["bcubed"]["f1"]})'
}

"$BIN/kindred-gen" --people "$PEOPLE" --seed 42 --difficulty medium --out "$WORK/full" >/dev/null
FULL="$WORK/full/records.csv"; MAPPING="$WORK/full/mapping.toml"; TRUTH="$WORK/full/truth.csv"
echo "== $(($(wc -l <"$FULL") - 1)) records"

echo "== single node, 1 partition"
start 1 1 single; run single; stop_all
echo "== single node, $PARTITIONS partitions"
start 1 "$PARTITIONS" single8; run single8; stop_all
echo "== 3 nodes, $PARTITIONS partitions, imported through node 1"
start 3 "$PARTITIONS" three; run three
"$BIN/kindred" --endpoint "$E1" --output json cluster status >"$WORK/three-status.json"
json "$WORK/three-status.json" 'json.dumps([{k: n[k] for k in ["node_id","role","partitions","records","internal_rpcs","raft_messages"]} for n in d["nodes"]])'
echo "== $LOOKUPS profile lookups through node 1"
"$BIN/kindred-bench" --endpoint "$E1" latency --records "$FULL" --mapping "$MAPPING" \
  --upserts 0 --lookups "$LOOKUPS" >"$WORK/three-latency.json"
cat "$WORK/three-latency.json"
stop_all

echo "== summary"
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
load = lambda n: json.load(open(f"{w}/{n}"))
s, s8, t = load("single-import.json"), load("single8-import.json"), load("three-import.json")
st, lat = load("three-status.json"), load("three-latency.json")
rpcs = sum(int(n["internal_rpcs"]) for n in st["nodes"])  # proto3 JSON: 64-bit ints are strings
score = lambda n: load(f"{n}-score.json")
print(json.dumps({
    "records": t["accepted"],
    "single_rps": round(s["records_per_second"]),
    "single_8p_rps": round(s8["records_per_second"]),
    "cluster3_rps": round(t["records_per_second"]),
    "cluster_over_single": round(t["records_per_second"] / s["records_per_second"], 3),
    "internal_rpcs_per_record": round(rpcs / t["accepted"], 4),
    "f1_single": score("single")["pairwise"]["f1"],
    "f1_single_8p": score("single8")["pairwise"]["f1"],
    "f1_cluster3": score("three")["pairwise"]["f1"],
    "bcubed_f1_cluster3": score("three")["bcubed"]["f1"],
    "lookup_via_node1_p50_ms": lat["lookup"].get("p50_ms"),
    "lookup_via_node1_p99_ms": lat["lookup"].get("p99_ms"),
}))
PY
