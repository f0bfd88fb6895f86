#!/usr/bin/env bash
# The main job on the embedded default: build, start one kindred-node on a
# temporary data directory, load the sample customer data shipped in the
# repository (2,500 records from five source systems), train the match model
# on it (no labels), print a few resolved profiles and the accuracy against
# the sample's ground truth; then load the activity (orders, carts, visits,
# emails, tickets) of more generated people and show a customer's value,
# stage, RFM, traits and recent activity.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >/dev/null
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export ROCKSDB_LIB_DIR="${ROCKSDB_LIB_DIR:-/usr/lib/$(gcc -dumpmachine)}"
cargo build --release --workspace --bins -q
BIN="$CARGO_TARGET_DIR/release"

DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export KINDRED_ENDPOINT="http://127.0.0.1:$PORT"
"$BIN/kindred-node" --data-dir "$DATA/node" --listen "127.0.0.1:$PORT" --internal-listen 127.0.0.1:0 2>"$DATA/node.log" &
NODE=$!
trap 'kill -TERM $NODE 2>/dev/null; wait $NODE 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do "$BIN/kindred" stats >/dev/null 2>&1 && break; sleep 0.1; done

SAMPLE=client/data/sample
echo "== Importing $SAMPLE/records.csv"
"$BIN/kindred" import "$SAMPLE/records.csv" --mapping "$SAMPLE/mapping.toml" --no-progress
echo
echo "== Training the match model on the loaded data (unsupervised EM)"
"$BIN/kindred" train
echo
"$BIN/kindred" stats
echo
echo "== A few resolved customers"
for rec in $(awk -F, 'NR>1 {print $1":"$2}' "$SAMPLE/records.csv" | head -400 | tail -3); do
  "$BIN/kindred" profile get --record "$rec"
  echo
done
echo "== Accuracy against the sample's ground truth"
"$BIN/kindred" export --out "$DATA/export.csv"
"$BIN/kindred-eval" --score "$DATA/export.csv" --truth "$SAMPLE/truth.csv"

echo
echo "== Activity: 300 more people with orders, carts, visits, emails and tickets (kindred generate)"
"$BIN/kindred" generate --people 300 --seed 11 --out "$DATA/act" >/dev/null
"$BIN/kindred" import "$DATA/act/records.csv" --mapping "$DATA/act/mapping.toml" --no-progress >/dev/null
"$BIN/kindred" events import "$DATA/act/events.csv" --mapping "$DATA/act/events.toml" --no-progress || [ $? -eq 4 ]
echo
"$BIN/kindred" rfm compute
echo
# A customer the generator made active, shown with their activity; the
# generator's answer for them follows.
person=$(awk -F, 'NR>1 && $2=="active" {print $1; exit}' "$DATA/act/activity_truth.csv")
rec=$(awk -F, -v p="$person" 'NR>1 && $3==p {print $1":"$2; exit}' "$DATA/act/truth.csv")
"$BIN/kindred" profile get --record "$rec"
echo
echo "generator's answer (person,stage,orders,total_spend,abandoned_carts):"
awk -F, -v p="$person" '$1==p' "$DATA/act/activity_truth.csv"
