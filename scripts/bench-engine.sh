#!/usr/bin/env bash
# Engine-only throughput and memory at scale (no server, in-memory store):
# generates noisy multi-source person records, trains the model on a
# sample of them (no labels), then streams 100k and 1M records through the
# engine one at a time and reports records/s, comparisons per record,
# resident memory per record and accuracy against the generator's truth.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export ROCKSDB_LIB_DIR=/usr/lib/x86_64-linux-gnu
cargo build --release -q -p kindred-node --bin kindred-eval -p kindred-client --bin kindred-gen
BIN="$CARGO_TARGET_DIR/release"
WORK="${BENCH_DIR:-$(mktemp -d)}"
PEOPLE="${BENCH_PEOPLE:-400000}"

"$BIN/kindred-gen" --people "$PEOPLE" --seed 42 --difficulty medium --out "$WORK/full"
head -n 100001 "$WORK/full/records.csv" > "$WORK/100k.csv"
echo "== training on a 100k-record sample"
"$BIN/kindred-eval" --input "$WORK/100k.csv" --mapping "$WORK/full/mapping.toml" --model-out "$WORK/model.json" >/dev/null
for input in "$WORK/100k.csv" "$WORK/full/records.csv"; do
  echo "== $(($(wc -l < "$input") - 1)) records, streamed, one core"
  taskset -c 0 "$BIN/kindred-eval" --stream --no-history --model "$WORK/model.json" \
    --input "$input" --mapping "$WORK/full/mapping.toml" --truth "$WORK/full/truth.csv" --json \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); a=d.get("accuracy",{}); print(json.dumps({k:d[k] for k in ["records","records_per_second","comparisons_per_record","engine_bytes_per_record","entities","demoted_keys","resolve_seconds"]}))'
done
