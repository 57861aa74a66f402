#!/usr/bin/env bash
# What forged class statistics do to DI pruning (#25): Fashion-MNIST mlp, CLIENTS clients, of
# which HOSTILE send forged statistics in every pruning round (--attack stats:HOSTILE), PRUNE
# schedule, ROUNDS rounds; with the plain sum of the statistics and with a trimmed round
# (stats_trim=HOSTILE), beside the clean runs. Per run: final accuracy, the lowest accuracy
# measured on a pruning round, the DI the coordinator reports at the first pruning step
# (per layer), and how many of the finally kept units the run shares with the clean plain run
# (per layer, from --save-model's kept units).
# Usage: bench/stats_attack.sh [BUILD_DIR]; environment: CLIENTS (10), HOSTILE (2),
#   PRUNE ("di:every=5,warmup=5,target=0.1"), ROUNDS (40), SCALE (attack scale, 10), SEED (1).
set -euo pipefail
cd "$(dirname "$0")/.."
XFED="${1:-build}/bin/xfed"
CLIENTS="${CLIENTS:-10}"
HOSTILE="${HOSTILE:-2}"
PRUNE="${PRUNE:-di:every=5,warmup=5,target=0.1}"
ROUNDS="${ROUNDS:-40}"
SCALE="${SCALE:-10}"
SEED="${SEED:-1}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

run() {  # NAME PRUNE-SPEC [ATTACK]
  local attack=()
  [ -z "${3:-}" ] || attack=(--attack "$3")
  "$XFED" simulate --dataset fashion-mnist --model mlp --clients "$CLIENTS" --prune "$2" "${attack[@]}" \
    --rounds "$ROUNDS" --seed "$SEED" --quiet --metrics "$TMP/$1.jsonl" --save-model "$TMP/$1.xfed" \
    > "$TMP/$1.log" 2>&1 || { echo "$1 failed: $(tail -1 "$TMP/$1.log")" >&2; exit 1; }
}

run clean "$PRUNE"
run attacked "$PRUNE" "stats:$HOSTILE,scale=$SCALE"
run trimmed "$PRUNE,stats_trim=$HOSTILE" "stats:$HOSTILE,scale=$SCALE"
run clean-trimmed "$PRUNE,stats_trim=$HOSTILE"

echo "forged statistics against DI pruning: $CLIENTS clients, $HOSTILE hostile (stats, scale $SCALE), --prune $PRUNE, $ROUNDS rounds"
echo
python3 - "$TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
def load(name):
    lines = [json.loads(l) for l in open(f"{tmp}/{name}.jsonl")]
    rounds = [l for l in lines if not l.get("summary")]
    prunes = [r for r in rounds if "di" in r]
    kept = json.load(open(f"{tmp}/{name}.xfed.json"))["kept"]
    return lines[-1]["final_accuracy"], min(r["test_accuracy"] for r in prunes), prunes[0]["di"], kept
runs = [("clean, plain sum", "clean"), ("attacked, plain sum", "attacked"),
        ("attacked, stats_trim", "trimmed"), ("clean, stats_trim", "clean-trimmed")]
base = load("clean")[3]
print("| run | accuracy (%) | lowest on a pruning round (%) | DI at the first step | kept units shared with the clean plan |")
print("|---|---:|---:|---|---|")
for title, name in runs:
    acc, low, di, kept = load(name)
    shared = " / ".join("%s %d of %d" % (layer, len(set(kept[layer]) & set(base[layer])), len(base[layer]))
                        for layer in sorted(base))
    print("| %s | %.2f | %.2f | %s | %s |" % (title, 100 * acc, 100 * low, " / ".join("%.2f" % d for d in di), shared))
PY
