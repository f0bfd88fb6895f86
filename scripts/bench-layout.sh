#!/usr/bin/env bash
# The cost of entities that depend on the records alone (issue 9): this
# build against a baseline build (BASE_BIN: a directory holding the
# baseline's kindred-node and kindred-eval), in one run on the same data,
# alternating the two, BENCH_ROUNDS times each (medians reported):
#   - engine alone: records/s of kindred-eval (default model, one core);
#   - a standalone node (1 partition) and a node with 8 partitions:
#     import records/s through the CLI.
# BENCH_PEOPLE people (default 40000 ≈ 100k records). Ends with one JSON
# line: the medians and the new/base ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BASE_BIN:?set BASE_BIN to the directory of the baseline binaries}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export ROCKSDB_LIB_DIR="${ROCKSDB_LIB_DIR:-/usr/lib/$(gcc -dumpmachine)}"
cargo build --release -q -p kindred-node --bin kindred-node --bin kindred-eval \
  -p kindred-client --bin kindred --bin kindred-gen
BIN="$CARGO_TARGET_DIR/release"
PEOPLE="${BENCH_PEOPLE:-40000}"
ROUNDS="${BENCH_ROUNDS:-3}"
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

# engine BUILD_DIR: records/s of the engine alone.
engine() {
  "$1/kindred-eval" --input "$CSV" --mapping "$MAPPING" --untrained --no-history --json \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["records_per_second"])'
}

# node BUILD_DIR PARTITIONS: import records/s into a fresh node.
node() {
  local p dir
  p=$(port)
  dir=$(mktemp -d -p "$WORK")
  "$1/kindred-node" --data-dir "$dir" --listen "127.0.0.1:$p" --internal-listen 127.0.0.1:0 \
    --partitions "$2" 2>"$dir.log" &
  NODE=$!
  for _ in $(seq 600); do "$BIN/kindred" --endpoint "http://127.0.0.1:$p" stats >/dev/null 2>&1 && break; sleep 0.1; done
  "$BIN/kindred" --endpoint "http://127.0.0.1:$p" --output json import "$CSV" --mapping "$MAPPING" --no-progress \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["records_per_second"])'
  kill -TERM "$NODE"; wait "$NODE" || true; NODE=""
  rm -rf "$dir"
}

: >"$WORK/results"
for round in $(seq "$ROUNDS"); do
  for build in base new; do
    dir=$BIN; [ "$build" = base ] && dir=$BASE_BIN
    echo "$build engine $(engine "$dir")" >>"$WORK/results"
    echo "$build p1 $(node "$dir" 1)" >>"$WORK/results"
    echo "$build p8 $(node "$dir" 8)" >>"$WORK/results"
  done
  echo "round $round done" >&2
done
python3 - "$WORK/results" <<'PY'
import json, statistics, sys, collections
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    build, what, value = line.split()
    runs[(build, what)].append(float(value))
out = {}
for what in ["engine", "p1", "p8"]:
    base = statistics.median(runs[("base", what)])
    new = statistics.median(runs[("new", what)])
    out[what] = {"base": round(base), "new": round(new), "ratio": round(new / base, 3)}
    print(f"{what:7} base {base:9.0f} rec/s   new {new:9.0f} rec/s   new/base {new / base:.3f}")
print(json.dumps(out))
PY
