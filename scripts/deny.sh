#!/usr/bin/env bash
# cargo deny over the whole dependency graph: security advisories (RustSec),
# licences, duplicate versions and sources (deny.toml says what is allowed
# and why each ignored advisory is ignored). Fails on any advisory that is
# not explicitly ignored.
#
# The advisory database is fetched from GitHub when that is reachable. On a
# machine without GitHub access, point KINDRED_ADVISORY_DB at a git copy of
# https://github.com/rustsec/advisory-db (a clone or a mirror); the copy
# already in cargo-deny's cache is used otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh cargo-deny

DB="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs/advisory-db-3157b0e258782691"
LOCAL="${KINDRED_ADVISORY_DB:-/work/.mirror/rustsec+advisory-db/repo}"
if timeout 60 cargo deny fetch db >/dev/null 2>&1; then
  echo "advisory database: fetched"
elif [ -d "$LOCAL" ]; then
  if [ -d "$DB/.git" ]; then
    git -C "$DB" pull -q --ff-only "$LOCAL" HEAD 2>/dev/null || true
  else
    mkdir -p "$(dirname "$DB")"
    git clone -q "$LOCAL" "$DB"
  fi
  echo "advisory database: from $LOCAL ($(git -C "$DB" log -1 --format=%cs))"
elif [ -d "$DB/.git" ]; then
  echo "advisory database: cached copy of $(git -C "$DB" log -1 --format=%cs) (no network)"
else
  echo "error: no RustSec advisory database: GitHub is unreachable and KINDRED_ADVISORY_DB is unset" >&2
  exit 1
fi
# cargo deny runs offline (GitHub may be unreachable) and reads every
# crate of the lock file, those of other platforms too: download them first
# (crates.io is reachable), or a fresh machine fails on a missing crate.
cargo fetch --locked >/dev/null 2>&1 || cargo fetch --locked
# Duplicate versions are warnings: count them rather than print every tree.
dups=$(cargo deny --offline check bans 2>&1 | grep -c 'warning\[duplicate\]' || true)
echo "duplicate crate versions (warnings, see deny.toml): $dups"
cargo deny --offline --log-level error check
