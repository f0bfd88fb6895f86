#!/usr/bin/env bash
# Entities depend on the records alone: a differential run on generated
# records (BENCH_PEOPLE people, default 40000 ≈ 100k records).
#   - the reference: the engine alone resolving everything from scratch
#     once all records are in (`kindred-eval --batch`);
#   - the engine alone, incrementally, in three arrival orders (file order,
#     shuffled, reversed);
#   - a node with 1, 4 and 16 partitions (CLI import, then export);
#   - the same nodes after `kindred train --force`, against the batch
#     reference under the model the node trained (and the trained models
#     compared between layouts).
# Each is compared with its reference record by record; prints the number
# of records whose entity differs and ends with one JSON line.
# BENCH_DIR keeps the work directory.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export ROCKSDB_LIB_DIR="${ROCKSDB_LIB_DIR:-/usr/lib/$(gcc -dumpmachine)}"
cargo build --release -q -p kindred-node --bin kindred-node --bin kindred-eval \
  -p kindred-client --bin kindred --bin kindred-gen
BIN="$CARGO_TARGET_DIR/release"
PEOPLE="${BENCH_PEOPLE:-40000}"
if [ -n "${BENCH_DIR:-}" ]; then WORK="$BENCH_DIR"; mkdir -p "$WORK"; KEEP=1; else WORK=$(mktemp -d); KEEP=0; fi
NODE=""
cleanup() {
  if [ -n "$NODE" ]; then kill -TERM "$NODE" 2>/dev/null || true; wait "$NODE" 2>/dev/null || true; fi
  if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$BIN/kindred-gen" --people "$PEOPLE" --seed 42 --difficulty medium --out "$WORK/data" >/dev/null
CSV="$WORK/data/records.csv"
MAPPING="$WORK/data/mapping.toml"

engine() { # NAME FLAGS... (default model unless --model is given)
  local name=$1; shift
  local model=(--untrained)
  if [[ " $* " == *" --model "* ]]; then model=(); fi
  "$BIN/kindred-eval" --input "$CSV" --mapping "$MAPPING" "${model[@]}" --no-history \
    --out "$WORK/$name.csv" "$@" >/dev/null
}
engine batch --batch
engine in-order
engine shuffled --shuffle 7
engine reversed --reverse

node() { # PARTITIONS
  local p dir="$WORK/node-$1"
  p=$(port)
  "$BIN/kindred-node" --data-dir "$dir" --listen "127.0.0.1:$p" --internal-listen 127.0.0.1:0 \
    --partitions "$1" 2>"$dir.log" &
  NODE=$!
  for _ in $(seq 600); do "$BIN/kindred" --endpoint "http://127.0.0.1:$p" stats >/dev/null 2>&1 && break; sleep 0.1; done
  "$BIN/kindred" --endpoint "http://127.0.0.1:$p" import "$CSV" --mapping "$MAPPING" --no-progress >/dev/null
  "$BIN/kindred" --endpoint "http://127.0.0.1:$p" export --out "$WORK/partitions-$1.csv" >/dev/null
  "$BIN/kindred" --endpoint "http://127.0.0.1:$p" train --force >/dev/null
  "$BIN/kindred" --endpoint "http://127.0.0.1:$p" export --out "$WORK/trained-partitions-$1.csv" >/dev/null
  "$BIN/kindred" --endpoint "http://127.0.0.1:$p" model >"$WORK/model-$1.json"
  kill -TERM "$NODE"; wait "$NODE" || true; NODE=""
  engine "trained-batch-$1" --batch --model "$WORK/model-$1.json"
}
for n in 1 4 16; do node "$n"; done

python3 - "$WORK" <<'PY'
import csv, json, sys, collections
work = sys.argv[1]
def groups(name):
    by_entity = collections.defaultdict(list)
    for r in csv.DictReader(open(f"{work}/{name}.csv")):
        by_entity[r["entity_id"]].append((r["source"], r["record_id"]))
    of = {}
    for members in by_entity.values():
        g = frozenset(members)
        for m in members:
            of[m] = g
    return of
ref = groups("batch")
out = {"records": len(ref), "entities": len(set(ref.values()))}
def differ(name, ref):
    g = groups(name)
    n = sum(1 for k, v in ref.items() if g.get(k) != v)
    print(f"{name:24} records whose entity differs from the batch reference: {n}")
    out[name] = n
for name in ["in-order", "shuffled", "reversed", "partitions-1", "partitions-4", "partitions-16"]:
    differ(name, ref)
for n in [1, 4, 16]:
    differ(f"trained-partitions-{n}", groups(f"trained-batch-{n}"))
models = {n: json.load(open(f"{work}/model-{n}.json")) for n in [1, 4, 16]}
out["trained_models_equal"] = models[1] == models[4] == models[16]
print("trained models equal on 1, 4 and 16 partitions:", out["trained_models_equal"])
print(json.dumps(out))
PY
