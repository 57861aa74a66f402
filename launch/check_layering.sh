#!/usr/bin/env bash
# The layering of xfed's folders (DESIGN.md "Extension points"), checked on every #include
# "…": a folder includes only itself and the folders before it in core < secagg <
# compression < protocol < transport < pruning < worker | coordinator < app < include/xfed
# (the public API); deploy (models for devices) sits beside protocol: it includes core,
# secagg and compression, and only app and include/xfed include it. The generated xfed/config.h may be included anywhere; the public headers
# (include/xfed/) only by users (examples, tests, bench) and by each other.
#   launch/check_layering.sh [ROOT]   (default: this checkout) — exit 1 and one line per
#   offending include when a folder reaches up or sideways.
set -euo pipefail
ROOT="${1:-$(dirname "$0")/..}"
cd "$ROOT"

# folder: the folders it may include (besides itself)
declare -A MAY=(
  [core]=""
  [secagg]="core"
  [compression]="core secagg"
  [deploy]="core secagg compression"
  [protocol]="core secagg compression"
  [transport]="core secagg compression protocol"
  [pruning]="core secagg compression protocol transport"
  [worker]="core secagg compression protocol transport pruning"
  [coordinator]="core secagg compression protocol transport pruning"
  [app]="core secagg compression deploy protocol transport pruning worker coordinator"
  [include/xfed]="core secagg compression deploy protocol transport pruning worker coordinator app"
)

bad=0
for folder in "${!MAY[@]}"; do
  [ -d "$folder" ] || continue
  allowed="$folder ${MAY[$folder]}"
  [ "$folder" = include/xfed ] && allowed+=" xfed"
  # file:line:#include "target" -> one line per include whose top folder is not allowed
  if grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$folder" --include='*.h' --include='*.cc' |
     awk -v allowed="$allowed" -v folder="$folder" -v may="${MAY[$folder]:-itself}" '
       BEGIN { n = split(allowed, a, " "); for (i = 1; i <= n; ++i) ok[a[i]] = 1 }
       {
         split($0, parts, ":"); match($0, /"[^"]+"/); target = substr($0, RSTART + 1, RLENGTH - 2)
         slash = index(target, "/"); if (slash == 0 || target == "xfed/config.h") next
         top = substr(target, 1, slash - 1); if (top in ok) next
         printf "layering: %s:%s includes \"%s\": %s may include only %s\n", parts[1], parts[2], target, folder, may
         found = 1
       }
       END { exit found ? 1 : 0 }' >&2; then :; else bad=1; fi
done
[ "$bad" -eq 0 ] && echo "layering: every include goes down (core < secagg < compression < deploy | protocol < transport < pruning < worker | coordinator < app < include/xfed)"
exit "$bad"
