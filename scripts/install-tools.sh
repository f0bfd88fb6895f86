#!/usr/bin/env bash
# Installs the cargo tools the scripts use (cargo-deny, cargo-fuzz), once:
# they compile from source, so an installed one is kept.
#   scripts/install-tools.sh cargo-deny [cargo-fuzz ...]
set -euo pipefail
for tool in "$@"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "installing $tool (compiles from source, a few minutes, once)"
    CARGO_TARGET_DIR="${HOME}/.cache/kindred-tools-target" cargo install --locked -q "$tool"
  fi
done
