#!/usr/bin/env bash
# Fuzzes one decoder of outside bytes (or all of them) with libFuzzer, ASan and UBSan.
#   ./launch/fuzz.sh TARGET SECONDS     TARGET: frame messages secagg pipeline huffman xdc ternary checkpoint
#                                       model_file client_state plan config idx cifar edge, or all
# Starts from the seeds in tests/fuzz/corpus/TARGET (kept as they are: new inputs go to a
# scratch folder), prints the executions done, and exits non-zero on a finding (the crashing
# input is left in fuzz-findings/).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS=(frame messages secagg pipeline huffman xdc ternary checkpoint model_file client_state plan config idx cifar edge)
if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: launch/fuzz.sh TARGET|all SECONDS (targets: ${TARGETS[*]})" >&2
  exit 2
fi
if [ "$1" = all ]; then
  for t in "${TARGETS[@]}"; do "$0" "$t" "$2"; done
  exit 0
fi
if [[ ! " ${TARGETS[*]} " =~ " $1 " ]]; then
  echo "launch/fuzz.sh: unknown target '$1' (targets: ${TARGETS[*]})" >&2
  exit 2
fi
[ -x "build-sanitize/bin/fuzz_$1" ] || ./launch/setup.sh --sanitize
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p fuzz-findings
export ASAN_OPTIONS="detect_container_overflow=0:detect_leaks=0"
log="$scratch/log"
if ! "build-sanitize/bin/fuzz_$1" -max_total_time="$2" -print_final_stats=1 -rss_limit_mb=4096 \
     -artifact_prefix="fuzz-findings/$1-" "$scratch" "tests/fuzz/corpus/$1" > "$log" 2>&1; then
  tail -40 "$log"
  echo "fuzz $1: FINDING (input in fuzz-findings/)" >&2
  exit 1
fi
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
echo "fuzz $1: $execs executions in $2 s, no finding"
