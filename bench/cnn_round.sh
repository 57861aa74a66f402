#!/usr/bin/env bash
# CNN clients' speed (#21): seconds per round of xfed simulate beside the plain PyTorch FedAvg
# loop (bench/pytorch_fedavg.py: the same data, model, clients, batch and optimizer; clients
# one after another, LibTorch on as many intra-op threads as xfed has worker threads (2),
# NCHW tensors as a user writes them), interleaved REPEATS
# times in one run; and, with BASELINE=DIR (another build, e.g. of the previous commit), that
# build's seconds per round beside this one's for lenet5 and, on synthetic data, vgg and
# resnet20. Every number is the mean over a run's rounds, best of the repeats.
# Usage: bench/cnn_round.sh [BUILD_DIR]; environment: ROUNDS (2), REPEATS (2), BASELINE ().
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
ROUNDS="${ROUNDS:-2}"
REPEATS="${REPEATS:-2}"
BASELINE="${BASELINE:-}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

xfed_round() {  # BUILD ARGS...: mean seconds per round
  local build="$1"; shift
  "$build/bin/xfed" simulate --quiet --rounds "$ROUNDS" --metrics "$TMP/m.jsonl" "$@" > /dev/null
  python3 -c "
import json, sys
r = [json.loads(l) for l in open('$TMP/m.jsonl') if '\"round\"' in l and '\"summary\"' not in l]
print(sum(x['seconds'] for x in r) / len(r))"
}

best() { sort -g | head -n 1; }

declare -A times
SYN="--dataset synthetic --synthetic-shape 3x32x32 --synthetic-train 6000 --synthetic-test 1000"
for ((i = 0; i < REPEATS; i++)); do
  times[xfed]+="$(xfed_round "$BUILD" --model lenet5)"$'\n'
  times[python]+="$(/usr/bin/python3 bench/pytorch_fedavg.py --model lenet5 --threads 2 --rounds "$ROUNDS" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds_per_round"])')"$'\n'
  if [ -n "$BASELINE" ]; then
    times[base_lenet5]+="$(xfed_round "$BASELINE" --model lenet5)"$'\n'
    for m in vgg resnet20; do
      # shellcheck disable=SC2086
      times[$m]+="$(xfed_round "$BUILD" --model $m $SYN)"$'\n'
      # shellcheck disable=SC2086
      times[base_$m]+="$(xfed_round "$BASELINE" --model $m $SYN)"$'\n'
    done
  fi
done

x=$(printf '%s' "${times[xfed]}" | best); p=$(printf '%s' "${times[python]}" | best)
echo "Fashion-MNIST, lenet5, 10 clients, $ROUNDS rounds, best of $REPEATS interleaved runs (eval every round in both; 2 threads each)"
echo
echo "| run | s/round | ratio |"
echo "|---|---|---|"
printf '| xfed simulate | %.3f | %.2fx faster than the plain loop |\n' "$x" "$(python3 -c "print($p / $x)")"
printf '| plain PyTorch FedAvg loop | %.3f | 1.00x |\n' "$p"
if [ -n "$BASELINE" ]; then
  echo
  echo "| model | this build s/round | $BASELINE s/round | speed-up |"
  echo "|---|---|---|---|"
  for m in lenet5 vgg resnet20; do
    key=$m; [ "$m" = lenet5 ] && key=xfed
    a=$(printf '%s' "${times[$key]}" | best); b=$(printf '%s' "${times[base_$m]}" | best)
    printf '| %s | %.3f | %.3f | %.2fx |\n' "$m" "$a" "$b" "$(python3 -c "print($b / $a)")"
  done
fi
