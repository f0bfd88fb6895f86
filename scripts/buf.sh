#!/usr/bin/env bash
# buf over the protobuf API in proto/: `buf lint` with the STANDARD rules
# (the exceptions, each with its reason, are in proto/buf.yaml) and
# `buf breaking` against the last released API, the newest image in
# proto/breaking/ (FILE rules for kindred.v1, the wire for
# kindred.internal.v1: proto/breaking/README.md). Prints every finding,
# then one summary line; exits non-zero on any finding.
#   scripts/buf.sh                    checks proto/
#   scripts/buf.sh check DIR          checks another copy of the proto tree
#                                     (DIR holds its buf.yaml) against the
#                                     same released API
#   scripts/buf.sh cut VERSION [REF]  writes proto/breaking/VERSION.json, the
#                                     API at git REF (HEAD by default): run
#                                     it when an API is released
# buf comes from npm (@bufbuild/buf, which ships the native binary) at the
# pinned version below, installed once into ~/.cache/kindred-tools/buf.
set -euo pipefail
cd "$(dirname "$0")/.."

BUF_VERSION=1.75.0
BUF_HOME="${KINDRED_TOOLS_DIR:-$HOME/.cache/kindred-tools}/buf"
BUF="$BUF_HOME/node_modules/.bin/buf"
if [ "$("$BUF" --version 2>/dev/null || true)" != "$BUF_VERSION" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: buf is installed with npm, which is missing (Debian: apt-get install npm)" >&2
    exit 1
  fi
  echo "installing buf $BUF_VERSION (npm @bufbuild/buf, once, into $BUF_HOME)"
  mkdir -p "$BUF_HOME"
  if ! npm install --prefix "$BUF_HOME" --save-exact --no-audit --no-fund --loglevel=error \
      "@bufbuild/buf@$BUF_VERSION" >"$BUF_HOME/install.log" 2>&1; then
    cat "$BUF_HOME/install.log" >&2
    exit 1
  fi
  [ "$("$BUF" --version)" = "$BUF_VERSION" ]
fi

cmd="${1:-check}"
case "$cmd" in
cut)
  version="${2:?usage: scripts/buf.sh cut VERSION [GIT_REF]}"
  ref="${3:-HEAD}"
  if ! [[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo "error: VERSION is vMAJOR.MINOR.PATCH, not '$version'" >&2
    exit 2
  fi
  out="proto/breaking/$version.json"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  # The committed protos at REF, not the work tree: what was released.
  git archive "$(git rev-parse --verify "$ref^{commit}")" proto | tar -x -C "$tmp"
  # A REF from before buf.yaml existed: today's (only the module layout
  # matters to the image).
  [ -f "$tmp/proto/buf.yaml" ] || cp proto/buf.yaml "$tmp/proto/buf.yaml"
  "$BUF" build "$tmp/proto" --exclude-source-info -o "$tmp/image.json"
  # One field per line, so that the next cut's diff shows what changed.
  python3 -c 'import json, sys
image = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    json.dump(image, f, indent=1)
    f.write("\n")' "$tmp/image.json" "$out"
  echo "wrote $out: the API at $(git rev-parse --short "$ref^{commit}") ($(grep -c '"name": "kindred/' "$out") files)"
  exit 0
  ;;
check)
  dir="${2:-proto}"
  ;;
*)
  echo "usage: scripts/buf.sh [check [DIR] | cut VERSION [GIT_REF]]" >&2
  exit 2
  ;;
esac

baseline="$(find proto/breaking -maxdepth 1 -name 'v*.json' | sort -V | tail -n 1)"
if [ -z "$baseline" ]; then
  echo "error: no released API image in proto/breaking (scripts/buf.sh cut VERSION)" >&2
  exit 1
fi
released="$(basename "$baseline" .json)"

# buf exits 100 when it has findings (one per line), 1 when it could not
# run (the protos do not compile, a bad config).
failed=0
count() {
  local rc="$1" out="$2"
  if [ "$rc" -eq 0 ]; then
    echo 0
  elif [ "$rc" -eq 100 ]; then
    grep -c . <<<"$out"
  else
    echo "error"
  fi
}
lint_rc=0
lint_out="$("$BUF" lint "$dir" 2>&1)" || lint_rc=$?
breaking_rc=0
breaking_out="$("$BUF" breaking "$dir" --against "$baseline" 2>&1)" || breaking_rc=$?
for out in "$lint_out" "$breaking_out"; do
  if [ -n "$out" ]; then printf '%s\n' "$out"; fi
done
if [ "$lint_rc" -ne 0 ] || [ "$breaking_rc" -ne 0 ]; then
  failed=1
fi

summary="buf $BUF_VERSION on $dir: lint (STANDARD, exceptions in buf.yaml) $(count "$lint_rc" "$lint_out") findings, breaking against $released $(count "$breaking_rc" "$breaking_out") changes"
if [ "$failed" -ne 0 ]; then
  echo "FAILED: $summary" >&2
  exit 1
fi
echo "ok: $summary"
