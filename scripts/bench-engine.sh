#!/usr/bin/env bash
# Engine-only throughput, memory and accuracy at scale (no server, the
# engine's in-memory store, one core): generates two populations of noisy
# multi-source person records with ground truth (~100k and ~1M records, same
# generator settings), trains the model on the 100k set (no labels), then
# streams each set through the engine one record at a time and reports
# records/s, comparisons per record, resident memory per record and
# pairwise / B-cubed F1 against the generator's truth.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export ROCKSDB_LIB_DIR="${ROCKSDB_LIB_DIR:-/usr/lib/$(gcc -dumpmachine)}"
cargo build --release -q -p kindred-node --bin kindred-eval -p kindred-client --bin kindred-gen
BIN="$CARGO_TARGET_DIR/release"
WORK="${BENCH_DIR:-$(mktemp -d)}"

"$BIN/kindred-gen" --people 40000 --seed 42 --difficulty medium --out "$WORK/100k"
"$BIN/kindred-gen" --people 400000 --seed 43 --difficulty medium --out "$WORK/1m"
echo "== training on the 100k set"
"$BIN/kindred-eval" --input "$WORK/100k/records.csv" --mapping "$WORK/100k/mapping.toml" \
  --model-out "$WORK/model.json" | sed -n 2p
for set in 100k 1m; do
  echo "== $set: streamed through the engine, one record at a time, pinned to one core"
  taskset -c 0 "$BIN/kindred-eval" --stream --no-history --model "$WORK/model.json" \
    --input "$WORK/$set/records.csv" --mapping "$WORK/$set/mapping.toml" --truth "$WORK/$set/truth.csv" --json \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); a=d["accuracy"]
print(json.dumps({"records": d["records"], "records_per_second": round(d["records_per_second"]),
  "comparisons_per_record": round(d["comparisons_per_record"], 2), "engine_bytes_per_record": round(d["engine_bytes_per_record"]),
  "entities": d["entities"], "demoted_keys": d["demoted_keys"], "resolve_seconds": round(d["resolve_seconds"], 2),
  "pairwise_f1": round(a["pairwise"]["f1"], 4), "pairwise_precision": round(a["pairwise"]["precision"], 4),
  "pairwise_recall": round(a["pairwise"]["recall"], 4), "bcubed_f1": round(a["bcubed"]["f1"], 4)}))'
done
