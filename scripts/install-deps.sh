#!/usr/bin/env bash
# Installs what building and testing Kindred needs on a fresh Debian machine:
# RocksDB (Debian's librocksdb-dev, linked instead of building RocksDB from
# source), clang for bindgen, protoc, and the Python packages of the
# grpcio client tests. Idempotent: skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in librocksdb-dev libclang-dev protobuf-compiler; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! python3 -c "import grpc, grpc_tools, grpc_health, grpc_reflection, pytest" >/dev/null 2>&1; then
  python3 -m pip install -q -r tests/python/requirements.txt
fi

# The Python client (clients/python) as built from this checkout, and what
# its tests need; always reinstalled: its tests refuse an installed package
# that differs from the checkout.
python3 -m pip install -q './clients/python[test]'
