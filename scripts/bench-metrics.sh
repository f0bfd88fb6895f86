#!/usr/bin/env bash
# The cost of metrics: the same import through a node built without them
# (BASE_REF, default 86ddc75, the last commit before metrics, request ids
# and the call layer) and through this checkout's node with
# --metrics-listen on and scraped every second, in the same run on the
# same data, alternating the two BENCH_ROUNDS times (medians reported).
# The baseline is built from a git worktree into "$CARGO_TARGET_DIR-base".
# Ends with one JSON line: the medians and the ratio with/without.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export ROCKSDB_LIB_DIR="${ROCKSDB_LIB_DIR:-/usr/lib/$(gcc -dumpmachine)}"
BASE_REF="${BASE_REF:-86ddc75}"
PEOPLE="${BENCH_PEOPLE:-40000}"
ROUNDS="${BENCH_ROUNDS:-3}"
WORK=$(mktemp -d)
NODE=""; SCRAPER=""
cleanup() {
  [ -n "$SCRAPER" ] && kill "$SCRAPER" 2>/dev/null || true
  if [ -n "$NODE" ]; then kill -TERM "$NODE" 2>/dev/null || true; wait "$NODE" 2>/dev/null || true; fi
  git worktree remove --force "$WORK/base-src" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release -q -p kindred-node --bin kindred-node -p kindred-client --bin kindred --bin kindred-gen
BIN="$CARGO_TARGET_DIR/release"
git worktree add -q --detach "$WORK/base-src" "$BASE_REF"
(cd "$WORK/base-src" && CARGO_TARGET_DIR="$CARGO_TARGET_DIR-base" cargo build --release -q -p kindred-node --bin kindred-node)
BASE="$CARGO_TARGET_DIR-base/release/kindred-node"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$BIN/kindred-gen" --people "$PEOPLE" --seed 7 --difficulty medium --out "$WORK/data" >/dev/null
CSV="$WORK/data/records.csv"
MAPPING="$WORK/data/mapping.toml"

# run MODE ROUND: a fresh node (base: without metrics; metrics: this
# checkout, scraped every second), one import; prints one JSON line.
run() {
  local mode=$1 round=$2 p m dir="$WORK/$1-$2" node=$BASE flags=()
  p=$(port)
  if [ "$mode" = metrics ]; then
    m=$(port); node="$BIN/kindred-node"; flags=(--metrics-listen "127.0.0.1:$m")
  fi
  "$node" --data-dir "$dir" --listen "127.0.0.1:$p" --internal-listen 127.0.0.1:0 "${flags[@]}" 2>"$dir.log" &
  NODE=$!
  for _ in $(seq 600); do "$BIN/kindred" --endpoint "http://127.0.0.1:$p" stats >/dev/null 2>&1 && break; sleep 0.1; done
  if [ "$mode" = metrics ]; then
    (while true; do curl -s "http://127.0.0.1:$m/metrics" >"$dir.metrics" || true; sleep 1; done) &
    SCRAPER=$!
  fi
  "$BIN/kindred" --endpoint "http://127.0.0.1:$p" --output json import "$CSV" --mapping "$MAPPING" --no-progress >"$dir.import.json" || [ $? -eq 4 ]
  if [ -n "$SCRAPER" ]; then kill "$SCRAPER"; wait "$SCRAPER" 2>/dev/null || true; SCRAPER=""; fi
  kill -TERM "$NODE"; wait "$NODE" || true; NODE=""
  python3 - "$mode" "$dir.import.json" <<'PY'
import json, sys
mode, imp = sys.argv[1], json.load(open(sys.argv[2]))
print(json.dumps({"mode": mode, "records_per_second": imp["records_per_second"]}))
PY
}

for r in $(seq "$ROUNDS"); do
  run base "$r" | tee -a "$WORK/results.jsonl"
  run metrics "$r" | tee -a "$WORK/results.jsonl"
done
python3 - "$WORK/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = lambda mode: statistics.median(r["records_per_second"] for r in rows if r["mode"] == mode)
b, m = med("base"), med("metrics")
print(json.dumps({"records_per_second": {"without_metrics": b, "with_metrics": m,
                  "ratio": round(m / b, 3), "cost_percent": round(100 * (1 - m / b), 1)}}))
PY
