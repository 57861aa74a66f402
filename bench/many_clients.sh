#!/usr/bin/env bash
# Peak memory of `xfed simulate` as the client count grows with ~10 clients sampled per
# round (Fashion-MNIST, mlp). Clients that are not training hold no model copy, so the
# peak should not grow with the number of clients. Goal: 1000 clients under 4 GiB.
# Usage: bench/many_clients.sh [ROUNDS]   (after ./launch/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
printf "| %-8s | %-8s | %-14s | %-10s |\n" clients fraction "peak RSS (MiB)" "wall (s)"
printf "|----------|----------|----------------|------------|\n"
for spec in "10 1.0" "100 0.1" "1000 0.01"; do
  set -- $spec
  out=$( { /usr/bin/time -f "%M %e" ./build/bin/xfed simulate --clients "$1" --fraction "$2" \
           --rounds "$rounds" --quiet; } 2>&1 | tail -1)
  kb=${out% *}; secs=${out#* }
  printf "| %-8s | %-8s | %14d | %10.2f |\n" "$1" "$2" $((kb / 1024)) "$secs"
done
