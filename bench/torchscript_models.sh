#!/usr/bin/env bash
# A PyTorch model exported from Python beside its built-in twin (#24): LeNet-300-100 and
# LeNet-5 from examples/pytorch/lenet.py, scripted by launch/export_model.py, against xfed's
# built-in `mlp` and `lenet5`, on Fashion-MNIST with the same flags, seed and threads.
#   1. round time: REPS interleaved runs of TIME_ROUNDS rounds each (built-in, scripted,
#      built-in, ...), mean seconds of a round (the metrics' `seconds`), and the ratio;
#   2. accuracy after ACC_ROUNDS rounds for each seed in SEEDS, built-in and scripted;
#   3. with PRUNE (a --prune value, "di" by default: 10 % of the params), the same pruned:
#      accuracy and params after ACC_ROUNDS rounds. The built-in mlp also prunes its input
#      pixels; a scripted model's prunable layers are its hidden ones (its archive takes
#      whole images), so PRUNE_SCRIPTED (default: PRUNE) may differ.
# Usage: bench/torchscript_models.sh [BUILD_DIR]; environment: MODELS ("mlp lenet5"),
# TIME_ROUNDS (3), REPS (3), ACC_ROUNDS (40), SEEDS ("1 2 3"), FLAGS (extra run flags),
# PRUNE ("di"), PRUNE_SCRIPTED, PARTS ("time accuracy prune": which tables).
# Takes ~10 min for mlp; lenet5 ~15 s a round on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
XFED="${1:-build}/bin/xfed"
MODELS="${MODELS:-mlp lenet5}"
TIME_ROUNDS="${TIME_ROUNDS:-3}"
REPS="${REPS:-3}"
ACC_ROUNDS="${ACC_ROUNDS:-40}"
SEEDS="${SEEDS:-1 2 3}"
FLAGS="${FLAGS:-}"
PRUNE="${PRUNE:-di}"
PARTS="${PARTS:-time accuracy prune}"
PRUNE_SCRIPTED="${PRUNE_SCRIPTED:-$PRUNE}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

declare -A CLASS=([mlp]=LeNet300100 [lenet5]=LeNet5)
export_model() {  # MODEL SEED -> $TMP/MODEL-SEED.pt (the seed sets the initial weights, as --seed does built-in's)
  [ -f "$TMP/$1-$2.pt" ] || /usr/bin/python3 launch/export_model.py "examples/pytorch/lenet.py:${CLASS[$1]}" \
    --input-shape 1x28x28 --seed "$2" --out "$TMP/$1-$2.pt" > /dev/null
}

run() {  # MODEL_FLAG ROUNDS SEED METRICS [MORE FLAGS]
  local model="$1" rounds="$2" seed="$3" metrics="$4"
  shift 4
  # shellcheck disable=SC2086
  "$XFED" simulate --quiet --model "$model" --rounds "$rounds" --seed "$seed" --metrics "$metrics" $FLAGS "$@" > /dev/null
}

mean_round_seconds() {  # METRICS...
  python3 - "$@" <<'PY'
import json, sys
s = [json.loads(l)["seconds"] for f in sys.argv[1:] for l in open(f) if l.strip() and '"round"' in l]
print(f"{sum(s) / len(s):.3f}")
PY
}

summary() {  # METRICS FIELD
  python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])[sys.argv[2]])" "$1" "$2"
}

part() { [[ " $PARTS " == *" $1 "* ]]; }

if part time; then
echo "round time: $REPS interleaved runs of $TIME_ROUNDS rounds, Fashion-MNIST, default flags $FLAGS"
echo "| model | built-in s/round | scripted s/round | scripted / built-in |"
echo "|---|---|---|---|"
for m in $MODELS; do
  export_model "$m" 1
  for r in $(seq "$REPS"); do
    run "$m" "$TIME_ROUNDS" 1 "$TMP/t-$m-builtin-$r.jsonl"
    run "torchscript:$TMP/$m-1.pt" "$TIME_ROUNDS" 1 "$TMP/t-$m-scripted-$r.jsonl"
  done
  b=$(mean_round_seconds "$TMP"/t-"$m"-builtin-*.jsonl)
  s=$(mean_round_seconds "$TMP"/t-"$m"-scripted-*.jsonl)
  echo "| $m | $b | $s | $(python3 -c "print(f'{$s / $b:.3f}')")x |"
done
fi

if part accuracy; then
echo
echo "accuracy after $ACC_ROUNDS rounds (seeds: $SEEDS)"
echo "| model | seed | built-in | scripted |"
echo "|---|---|---|---|"
for m in $MODELS; do
  for seed in $SEEDS; do
    export_model "$m" "$seed"
    run "$m" "$ACC_ROUNDS" "$seed" "$TMP/a-$m-builtin-$seed.jsonl"
    run "torchscript:$TMP/$m-$seed.pt" "$ACC_ROUNDS" "$seed" "$TMP/a-$m-scripted-$seed.jsonl"
    printf "| %s | %s | %.2f %% | %.2f %% |\n" "$m" "$seed" \
      "$(python3 -c "print(100 * $(summary "$TMP/a-$m-builtin-$seed.jsonl" final_accuracy))")" \
      "$(python3 -c "print(100 * $(summary "$TMP/a-$m-scripted-$seed.jsonl" final_accuracy))")"
  done
done
fi

part prune || exit 0
echo
echo "pruned ($PRUNE; scripted: $PRUNE_SCRIPTED), accuracy and params after $ACC_ROUNDS rounds"
echo "| model | seed | built-in | params | scripted | params |"
echo "|---|---|---|---|---|---|"
for m in $MODELS; do
  for seed in $SEEDS; do
    export_model "$m" "$seed"
    run "$m" "$ACC_ROUNDS" "$seed" "$TMP/p-$m-builtin-$seed.jsonl" --prune "$PRUNE"
    run "torchscript:$TMP/$m-$seed.pt" "$ACC_ROUNDS" "$seed" "$TMP/p-$m-scripted-$seed.jsonl" --prune "$PRUNE_SCRIPTED"
    printf "| %s | %s | %.2f %% | %s | %.2f %% | %s |\n" "$m" "$seed" \
      "$(python3 -c "print(100 * $(summary "$TMP/p-$m-builtin-$seed.jsonl" final_accuracy))")" \
      "$(summary "$TMP/p-$m-builtin-$seed.jsonl" params)" \
      "$(python3 -c "print(100 * $(summary "$TMP/p-$m-scripted-$seed.jsonl" final_accuracy))")" \
      "$(summary "$TMP/p-$m-scripted-$seed.jsonl" params)"
  done
done
