#!/usr/bin/env bash
# Accuracy against privacy (#25): Fashion-MNIST mlp, CLIENTS clients of which a fraction Q
# take part in each round (Poisson sampling under --dp), ROUNDS rounds, for each model width
# and each --prune setting and each --dp setting: final test accuracy, the epsilon spent
# (delta = DELTA; under DI pruning the statistics rounds too), the parameters left and the mean
# round time, beside the same run without --dp. The noise is fixed by seed= (repeatable rows).
# Usage: bench/dp_accuracy.sh [BUILD_DIR]; environment (defaults in brackets):
#   CLIENTS (1000), Q (0.1), ROUNDS (40), DELTA (1e-5), WIDTHS ("300,100 64,32"), PRUNES ("none"; e.g.
#   "none di:every=5,warmup=5,target=0.2,input_l1=1"),
#   SETTINGS ("clip=0.3,noise=0.5 clip=0.3,noise=1 clip=0.3,noise=2 clip=0.3,noise=1,adaptive=0.5"),
#   FLAGS (run flags; "--local-epochs 5 --batch 16": ~20 local steps on a client's 60 samples), SEED (1).
set -euo pipefail
cd "$(dirname "$0")/.."
XFED="${1:-build}/bin/xfed"
CLIENTS="${CLIENTS:-1000}"
Q="${Q:-0.1}"
ROUNDS="${ROUNDS:-40}"
DELTA="${DELTA:-1e-5}"
WIDTHS="${WIDTHS:-300,100 64,32}"
PRUNES="${PRUNES:-none}"
SETTINGS="${SETTINGS:-clip=0.3,noise=0.5 clip=0.3,noise=1 clip=0.3,noise=2 clip=0.3,noise=1,adaptive=0.5}"
FLAGS="${FLAGS:---local-epochs 5 --batch 16}"
SEED="${SEED:-1}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

summary() {  # METRICS -> "accuracy epsilon params seconds-per-round" or "failed - - -"
  python3 - "$1" <<'PY'
import json, sys, os
path = sys.argv[1]
lines = [json.loads(l) for l in open(path)] if os.path.exists(path) else []
rounds = [l for l in lines if not l.get("summary")]
s = [l for l in lines if l.get("summary")]
if not s:
    print("failed - - -")
else:
    eps = "%.2f" % s[-1]["epsilon"] if "epsilon" in s[-1] else "-"
    print("%.2f %s %d %.2f" % (100 * s[-1]["final_accuracy"], eps, s[-1]["params"],
                               sum(r["seconds"] for r in rounds) / len(rounds)))
PY
}

run() {  # METRICS WIDTHS PRUNE [--dp SPEC]
  local m="$1" widths="$2" prune="$3"; shift 3
  # shellcheck disable=SC2086
  "$XFED" simulate --dataset fashion-mnist --model mlp --widths "$widths" --clients "$CLIENTS" --fraction "$Q" \
    --rounds "$ROUNDS" --seed "$SEED" --prune "$prune" --quiet --metrics "$m" $FLAGS "$@" > "$TMP/log" 2>&1 ||
    tail -1 "$TMP/log" >&2
}

echo "accuracy against epsilon: $CLIENTS clients, q = $Q, $ROUNDS rounds, delta = $DELTA ${FLAGS:+($FLAGS)}"
echo
echo "| mlp widths | --prune | --dp | accuracy (%) | epsilon | parameters | s / round |"
echo "|---|---|---|---:|---:|---:|---:|"
for widths in $WIDTHS; do
  for prune in $PRUNES; do
    m="$TMP/m.jsonl"; rm -f "$m"
    run "$m" "$widths" "$prune"
    read -r acc eps params secs < <(summary "$m")
    echo "| $widths | $prune | none (sampling without replacement) | $acc | $eps | $params | $secs |"
    for setting in $SETTINGS; do
      rm -f "$m"
      run "$m" "$widths" "$prune" --dp "$setting,delta=$DELTA,seed=$SEED"
      read -r acc eps params secs < <(summary "$m")
      echo "| $widths | $prune | $setting | $acc | $eps | $params | $secs |"
    done
  done
done
