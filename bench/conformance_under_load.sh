#!/usr/bin/env bash
# The edge transport's conformance suite (TransportConformance, zmq: 64 MiB frames both ways
# under CURVE, order, timeouts, losses) N times in a row while both cores are busy (two
# `yes`, ended by pid). Stops at the first failure and keeps its log. A liveness that
# depended on how fast the CPU encrypts would show here.
# Usage: bench/conformance_under_load.sh [RUNS=200] [BUILD_DIR=build]   (~8-10 s a run here)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-200}"
BIN="${2:-build}/bin/transport_conformance_test"
LOG="$(mktemp)"
yes > /dev/null & Y1=$!
yes > /dev/null & Y2=$!
trap 'kill $Y1 $Y2 2>/dev/null; rm -f "$LOG"' EXIT
start=$(date +%s)
for i in $(seq 1 "$RUNS"); do
  if ! timeout 300 "$BIN" --gtest_filter='*/zmq' > "$LOG" 2>&1; then
    cp "$LOG" conformance_failure.log
    echo "run $i of $RUNS failed after $(( $(date +%s) - start )) s; its log: conformance_failure.log"
    exit 1
  fi
  [ $((i % 20)) -eq 0 ] && echo "$i runs passed ($(( $(date +%s) - start )) s)"
done
echo "all $RUNS runs passed in $(( $(date +%s) - start )) s, both cores busy"
