#!/usr/bin/env bash
# CNN clients' speed (#21): seconds per round of xfed simulate beside the plain PyTorch FedAvg
# loop, for lenet5 (Fashion-MNIST) and resnet20 (synthetic 3x32x32)
# (bench/pytorch_fedavg.py: the same data shapes, model, clients, batch and optimizer; clients
# one after another, LibTorch on as many intra-op threads as xfed has worker threads (2),
# NCHW tensors as a user writes them), interleaved REPEATS
# times in one run; and, with BASELINE=DIR (another build, e.g. of the previous commit), that
# build's seconds per round beside this one's for lenet5 and, on synthetic data, vgg and
# resnet20. Every number is the mean over a run's rounds, best of the repeats. GFLOP/s: the
# model's forward FLOP (metrics' flops) x (3 x training samples + test samples) a round over
# its seconds, beside the float32 FMA peak of 2 threads that bench_fma_peak measures.
# Usage: bench/cnn_round.sh [BUILD_DIR]; environment: ROUNDS (2), REPEATS (2), BASELINE ().
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
ROUNDS="${ROUNDS:-2}"
REPEATS="${REPEATS:-2}"
BASELINE="${BASELINE:-}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

xfed_round() {  # BUILD ARGS...: mean seconds per round (the metrics stay in $TMP/m.jsonl)
  local build="$1"; shift
  "$build/bin/xfed" simulate --quiet --rounds "$ROUNDS" --metrics "$TMP/m.jsonl" "$@" > /dev/null
  python3 -c "
import json, sys
r = [json.loads(l) for l in open('$TMP/m.jsonl') if '\"round\"' in l and '\"summary\"' not in l]
print(sum(x['seconds'] for x in r) / len(r))"
}

forward_flops() {  # the last run's FLOP of one forward sample (metrics' flops)
  python3 -c "import json; print(json.loads(open('$TMP/m.jsonl').readline())['flops'])"
}

best() { sort -g | head -n 1; }

declare -A times flops
declare -A samples=([lenet5]="60000 10000" [resnet20]="6000 1000")  # training, test samples a round
SYN="--dataset synthetic --synthetic-shape 3x32x32 --synthetic-train 6000 --synthetic-test 1000"
plain_round() {  # MODEL: the plain loop's mean seconds per round
  /usr/bin/python3 bench/pytorch_fedavg.py --model "$1" --threads 2 --rounds "$ROUNDS" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds_per_round"])'
}
# The peak first: a build without bench_fma_peak fails here, not after the runs.
peak=$("$BUILD/bin/bench_fma_peak" 2 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["gflops"])')
for ((i = 0; i < REPEATS; i++)); do
  times[lenet5]+="$(xfed_round "$BUILD" --model lenet5)"$'\n'
  flops[lenet5]=$(forward_flops)
  times[plain_lenet5]+="$(plain_round lenet5)"$'\n'
  # shellcheck disable=SC2086
  times[resnet20]+="$(xfed_round "$BUILD" --model resnet20 $SYN)"$'\n'
  flops[resnet20]=$(forward_flops)
  times[plain_resnet20]+="$(plain_round resnet20)"$'\n'
  if [ -n "$BASELINE" ]; then
    times[base_lenet5]+="$(xfed_round "$BASELINE" --model lenet5)"$'\n'
    # shellcheck disable=SC2086
    times[vgg]+="$(xfed_round "$BUILD" --model vgg $SYN)"$'\n'
    for m in vgg resnet20; do
      # shellcheck disable=SC2086
      times[base_$m]+="$(xfed_round "$BASELINE" --model $m $SYN)"$'\n'
    done
  fi
done

echo "10 clients, $ROUNDS rounds, best of $REPEATS interleaved runs (eval every round in both; 2 threads each);"
echo "lenet5 on Fashion-MNIST, resnet20 on synthetic 3x32x32 data (6000 train, 1000 test)"
echo
echo "| model | xfed simulate s/round | plain PyTorch loop s/round | xfed faster by | xfed GFLOP/s | of the 2 cores' peak |"
echo "|---|---|---|---|---|---|"
for m in lenet5 resnet20; do
  x=$(printf '%s' "${times[$m]}" | best); p=$(printf '%s' "${times[plain_$m]}" | best)
  read -r train test <<< "${samples[$m]}"
  # A training sample counts 3 forwards (forward + backward), a test sample 1.
  g=$(python3 -c "print(${flops[$m]} * (3 * $train + $test) / $x / 1e9)")
  printf '| %s | %.3f | %.3f | %.2fx | %.1f | %.0f %% |\n' "$m" "$x" "$p" "$(python3 -c "print($p / $x)")" "$g" \
    "$(python3 -c "print(100 * $g / $peak)")"
done
echo
echo "peak: $peak GFLOP/s, measured by build/bin/bench_fma_peak 2 (independent float32 FMA chains on 2 threads)"
if [ -n "$BASELINE" ]; then
  echo
  echo "| model | this build s/round | $BASELINE s/round | speed-up |"
  echo "|---|---|---|---|"
  for m in lenet5 vgg resnet20; do
    a=$(printf '%s' "${times[$m]}" | best); b=$(printf '%s' "${times[base_$m]}" | best)
    printf '| %s | %.3f | %.3f | %.2fx |\n' "$m" "$a" "$b" "$(python3 -c "print($b / $a)")"
  done
fi
