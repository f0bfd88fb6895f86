#!/usr/bin/env bash
# The whole service at scale (kindred-node on RocksDB, driven through its
# gRPC API): generates noisy multi-source person records, then
#   - imports the first 100k records into a fresh node and the whole file
#     (~1M records by default) into another, with the kindred CLI sharing
#     the machine with the node, and reports records/s and the node's
#     resident memory (peak and after the import);
#   - with everything loaded, measures single-upsert and profile-lookup
#     latency with kindred-bench (sequential calls);
#   - stops the node and reports the data directory's size per record
#     (and again after a full RocksDB compaction when `ldb` is installed:
#     Debian's rocksdb-tools).
# Ends with one JSON line holding the headline numbers.
# BENCH_PEOPLE (default 400000 ≈ 1M records), BENCH_DIR (default: a
# temporary directory, removed at the end), BENCH_UPSERTS (2000),
# BENCH_LOOKUPS (5000).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export ROCKSDB_LIB_DIR="${ROCKSDB_LIB_DIR:-/usr/lib/$(gcc -dumpmachine)}"
cargo build --release -q -p kindred-node --bin kindred-node -p kindred-client --bin kindred --bin kindred-gen \
  -p kindred-tests --bin kindred-bench
BIN="$CARGO_TARGET_DIR/release"
PEOPLE="${BENCH_PEOPLE:-400000}"
UPSERTS="${BENCH_UPSERTS:-2000}"
LOOKUPS="${BENCH_LOOKUPS:-5000}"
if [ -n "${BENCH_DIR:-}" ]; then
  WORK="$BENCH_DIR"
  mkdir -p "$WORK"
  KEEP_WORK=1
else
  WORK=$(mktemp -d)
  KEEP_WORK=0
fi

NODE=""
ENDPOINT=""
cleanup() {
  if [ -n "$NODE" ]; then
    kill -TERM "$NODE" 2>/dev/null || true
    wait "$NODE" 2>/dev/null || true
  fi
  if [ "$KEEP_WORK" = 0 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# json FILE EXPR: evaluates a Python expression over the JSON in FILE (as d).
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
# mem FIELD: the node's VmHWM / VmRSS in bytes.
mem() { awk -v f="$1:" '$1 == f { print $2 * 1024 }' "/proc/$NODE/status"; }

# start_node DIR: a fresh node on DIR, on a free port; sets NODE, ENDPOINT.
start_node() {
  rm -rf "$1"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  ENDPOINT="http://127.0.0.1:$port"
  "$BIN/kindred-node" --data-dir "$1" --listen "127.0.0.1:$port" --internal-listen 127.0.0.1:0 2>"$1.log" &
  NODE=$!
  for _ in $(seq 600); do
    "$BIN/kindred" --endpoint "$ENDPOINT" stats >/dev/null 2>&1 && return 0
    kill -0 "$NODE" 2>/dev/null || { echo "kindred-node exited; see $1.log" >&2; NODE=""; exit 1; }
    sleep 0.1
  done
  echo "kindred-node did not answer within 60s; see $1.log" >&2
  exit 1
}

# stop_node: SIGTERM, then wait for the node to finish shutting down.
stop_node() {
  local rc=0
  kill -TERM "$NODE"
  wait "$NODE" || rc=$?
  NODE=""
  if [ "$rc" -ne 0 ]; then echo "kindred-node exited with $rc on SIGTERM" >&2; exit 1; fi
}

# run_import FILE OUT: imports FILE through the CLI, its JSON summary to OUT.
# Exit 4 (some rows rejected) is not a failure here; the summary says how many.
run_import() {
  local rc=0
  "$BIN/kindred" --endpoint "$ENDPOINT" --output json import "$1" --mapping "$MAPPING" --no-progress >"$2" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; then
    echo "kindred import $1 failed with exit $rc" >&2
    cat "$2" >&2 || true
    exit 1
  fi
  json "$2" 'json.dumps({k: d[k] for k in ["records_read","accepted","rejected","entities_created","joined","merged","elapsed_seconds","records_per_second"]})'
}

# stats OUT: the node's statistics (JSON) to OUT.
stats() { "$BIN/kindred" --endpoint "$ENDPOINT" --output json stats >"$1"; }

"$BIN/kindred-gen" --people "$PEOPLE" --seed 42 --difficulty medium --out "$WORK/full"
FULL="$WORK/full/records.csv"
MAPPING="$WORK/full/mapping.toml"
head -n 100001 "$FULL" >"$WORK/100k.csv"

echo "== import of $(($(wc -l <"$WORK/100k.csv") - 1)) records into a fresh node (CLI and node on the same machine)"
start_node "$WORK/node-100k"
run_import "$WORK/100k.csv" "$WORK/import-100k.json"
echo "{\"node_peak_rss_bytes\": $(mem VmHWM), \"node_rss_bytes\": $(mem VmRSS)}"
stop_node

echo "== import of $(($(wc -l <"$FULL") - 1)) records into a fresh node"
DATA="$WORK/node-full"
start_node "$DATA"
run_import "$FULL" "$WORK/import-full.json"
PEAK_RSS=$(mem VmHWM)
RSS=$(mem VmRSS)
stats "$WORK/stats-import.json"
RECORDS=$(json "$WORK/stats-import.json" 'd["records"]')
echo "{\"records\": $RECORDS, \"node_peak_rss_bytes\": $PEAK_RSS, \"node_rss_bytes\": $RSS}"

echo "== latency: $UPSERTS single upserts (new records), $LOOKUPS profile lookups, one at a time"
"$BIN/kindred-bench" --endpoint "$ENDPOINT" latency --records "$FULL" --mapping "$MAPPING" \
  --upserts "$UPSERTS" --lookups "$LOOKUPS" >"$WORK/latency.json"
cat "$WORK/latency.json"
stats "$WORK/stats-final.json"
FINAL_RECORDS=$(json "$WORK/stats-final.json" 'd["records"]')

echo "== disk use after a graceful stop ($FINAL_RECORDS records)"
stop_node
DISK=$(du -sb "$DATA" | cut -f1)
DISK_COMPACTED=null
if command -v ldb >/dev/null 2>&1; then
  cfs=$( (ldb --db="$DATA" list_column_families 2>/dev/null || true) | sed -n 's/.*{\(.*\)}.*/\1/p' | tr -d ' ' | tr ',' ' ')
  compacted=1
  for cf in $cfs; do
    ldb --db="$DATA" --try_load_options --column_family="$cf" compact >/dev/null 2>"$WORK/ldb.log" \
      || { compacted=0; echo "ldb compact of $cf failed; see $WORK/ldb.log" >&2; break; }
  done
  if [ "$compacted" = 1 ] && [ -n "$cfs" ]; then DISK_COMPACTED=$(du -sb --exclude='LOG.old.*' "$DATA" | cut -f1); fi
else
  echo "(ldb not installed: no compacted size; apt-get install rocksdb-tools for it)"
fi
echo "{\"disk_bytes\": $DISK, \"disk_bytes_compacted\": $DISK_COMPACTED}"

echo "== summary"
python3 - "$WORK" "$RECORDS" "$FINAL_RECORDS" "$PEAK_RSS" "$RSS" "$DISK" "$DISK_COMPACTED" <<'EOF'
import json, sys
work, records, final_records, peak_rss, rss, disk, disk_c = sys.argv[1:]
records, final_records = int(records), int(final_records)
load = lambda name: json.load(open(f"{work}/{name}"))
i100k, ifull, lat = load("import-100k.json"), load("import-full.json"), load("latency.json")
per = lambda x, n: round(int(x) / n, 1) if n else None
print(json.dumps({
    "records": records,
    "import_100k_records": i100k["records_read"],
    "import_100k_rps": round(i100k["records_per_second"]),
    "import_1m_rps": round(ifull["records_per_second"]),
    "node_peak_rss_bytes": int(peak_rss),
    "rss_bytes_per_record": per(rss, records),
    "peak_rss_bytes_per_record": per(peak_rss, records),
    "disk_bytes_per_record": per(disk, final_records),
    "disk_bytes_per_record_compacted": None if disk_c == "null" else per(disk_c, final_records),
    "upsert_p50_ms": lat["upsert"].get("p50_ms"),
    "upsert_p99_ms": lat["upsert"].get("p99_ms"),
    "lookup_p50_ms": lat["lookup"].get("p50_ms"),
    "lookup_p99_ms": lat["lookup"].get("p99_ms"),
}))
EOF
