#!/usr/bin/env bash
# launch/check_layering.sh passes on this tree and fails, naming the file, on a copy of it
# with one planted upward include (core including app).
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$SRC/launch/check_layering.sh" "$SRC" >/dev/null
(cd "$SRC" && find core secagg transport compression pruning protocol worker coordinator app include \
   \( -name '*.h' -o -name '*.cc' \) -print0 2>/dev/null | tar -c --null -T - -f -) | tar -x -C "$TMP" -f -
"$SRC/launch/check_layering.sh" "$TMP" >/dev/null || { echo "the copy fails before planting"; exit 1; }
echo '#include "app/commands.h"' >> "$TMP/core/status.h"
if "$SRC/launch/check_layering.sh" "$TMP" 2> "$TMP/err"; then
  echo "FAIL: a planted upward include passed"; exit 1
fi
grep -q 'core/status.h:[0-9]* includes "app/commands.h"' "$TMP/err" || { echo "FAIL: message: $(cat "$TMP/err")"; exit 1; }
echo "layering check: passes here, fails on a planted upward include"
