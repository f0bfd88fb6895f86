#!/usr/bin/env bash
# Fuzzes the decoders that face the network and the user's files, each for
# FUZZ_SECONDS (default 120): node-to-node messages (postcard, Raft
# protobuf), public upserts (protobuf, then standardisation), the import
# reader (CSV, JSON Lines) and column mappings (TOML). Not part of CI.
# Crashes are written to fuzz/artifacts/<target>/; the corpus grows in
# fuzz/corpus/<target>/ (both ignored by git).
#
# cargo-fuzz needs nightly-only compiler flags; on a stable toolchain they
# are unlocked with RUSTC_BOOTSTRAP=1 and run without a sanitizer (-s none):
# panics, aborts, timeouts and out-of-memory are still caught.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh cargo-fuzz
export ROCKSDB_LIB_DIR="${ROCKSDB_LIB_DIR:-/usr/lib/$(gcc -dumpmachine)}"
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/kindred-fuzz-target}"
SECS="${FUZZ_SECONDS:-120}"
TARGETS=("${@:-internal_messages public_record csv_import mapping_toml}")
cd fuzz
status=0
for t in ${TARGETS[@]}; do
  mkdir -p "corpus/$t"
  echo "== $t for ${SECS}s"
  if ! cargo fuzz run -s none "$t" "corpus/$t" -- -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 2>"$t.log"; then
    echo "$t: FAILED (see fuzz/$t.log and fuzz/artifacts/$t/)"
    status=1
  fi
  grep -E "^#[0-9]+.*(DONE|pulse)" "$t.log" | tail -1 || true
done
exit $status
