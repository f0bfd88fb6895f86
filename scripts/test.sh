#!/usr/bin/env bash
# Runs Kindred's whole test suite: installs what it needs, checks the
# dependencies (cargo deny: advisories, licences, sources), builds once,
# then the Rust tests (unit, property, integration with real binaries)
# with cargo nextest, then the Python grpcio client tests and the tests of
# the Python client package (clients/python). buf checks the protos: lint,
# and no breaking change against the last released API.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export ROCKSDB_LIB_DIR="${ROCKSDB_LIB_DIR:-/usr/lib/$(gcc -dumpmachine)}"

scripts/deny.sh
scripts/buf.sh
cargo build --workspace --bins --tests
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
KINDRED_NODE_BIN="$CARGO_TARGET_DIR/debug/kindred-node" python3 -m pytest tests/python -q
KINDRED_NODE_BIN="$CARGO_TARGET_DIR/debug/kindred-node" python3 -m pytest clients/python/tests -q
