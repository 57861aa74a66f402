#!/usr/bin/env bash
# What secure aggregation costs (#19), simulate on Fashion-MNIST with the mlp.
# 1. Cost per round at N clients a round (--clients N, every client every round, ROUNDS rounds,
#    one local epoch): a client's upload in bytes (all its frames: advert, shares, masked
#    input, unmask reply) beside the plain compressed update's (PLAIN, its 8-bit values and
#    index bytes), and the coordinator's own time per round (frames it encodes + aggregation,
#    which under secure aggregation is recovering the dropped masks and seeds and unmasking),
#    with the exponent of a power-law fit of that time against n and against n log2 n.
# 2. Accuracy: the same run with and without --secure-aggregation, dense and with the
#    sparsified uplink, over SEEDS (the seeds' spread is the yardstick).
# 3. DI pruning (PRUNE) with and without it, for each uplink of PRUNE_UPLINKS: accuracy and
#    size per seed, and the clients' upload over the run (the stats rounds' class statistics
#    travel masked under it).
# Usage: bench/secure_aggregation.sh [BUILD_DIR]; environment (defaults in brackets):
#   SIZES ("10 100 500"), ROUNDS (2), RATIO (0.01), BITS (8), RANGE (0.1),
#   ACC_CLIENTS (10), ACC_ROUNDS (20), SEEDS ("1 2 3"), PRUNE (di:every=2,warmup=4,target=0.3),
#   PRUNE_UPLINKS ("none randk:0.1"),
#   PARTS ("cost accuracy pruning").
set -euo pipefail
cd "$(dirname "$0")/.."
XFED="${1:-build}/bin/xfed"
SIZES="${SIZES:-10 100 500}"
ROUNDS="${ROUNDS:-2}"
RATIO="${RATIO:-0.01}"
BITS="${BITS:-8}"
RANGE="${RANGE:-0.1}"
ACC_CLIENTS="${ACC_CLIENTS:-10}"
ACC_ROUNDS="${ACC_ROUNDS:-20}"
SEEDS="${SEEDS:-1 2 3}"
PRUNE="${PRUNE:-di:every=2,warmup=4,target=0.3}"
PRUNE_UPLINKS="${PRUNE_UPLINKS:-none randk:0.1}"
PARTS="${PARTS:-cost accuracy pruning}"
PLAIN="randk:$RATIO,uniform:$BITS"
SECURE="--compress randk:$RATIO --secure-aggregation=bits=$BITS,range=$RANGE"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

run() {  # METRICS CLIENTS ROUNDS SEED FLAGS...
  local m="$1" n="$2" rounds="$3" seed="$4"; shift 4
  # shellcheck disable=SC2068
  "$XFED" simulate --dataset fashion-mnist --model mlp --clients "$n" --rounds "$rounds" --seed "$seed" \
    --local-epochs 1 --quiet --metrics "$m" $@ > "$TMP/log" 2>&1 || { tail -1 "$TMP/log" >&2; return 1; }
}

per_round() {  # METRICS -> "bytes-up-per-client coordinator-seconds unmask-seconds"
  python3 - "$1" <<'PY'
import json, sys
rounds = [json.loads(l) for l in open(sys.argv[1])]
rounds = [r for r in rounds if not r.get("summary")]
up = sum(r["bytes_up"] / max(1, r["clients"]) for r in rounds) / len(rounds)
coord = sum(r["seconds_aggregate"] + r["seconds_coordinator_codec"] for r in rounds) / len(rounds)
unmask = sum(r.get("seconds_unmask", 0) for r in rounds) / len(rounds)
print("%.0f %.4f %.4f" % (up, coord, unmask))
PY
}

if [[ " $PARTS " == *" cost "* ]]; then
  echo "cost per round: mlp (266 610 parameters), --compress $PLAIN (plain) against $SECURE, $ROUNDS rounds"
  echo
  echo "| clients a round | plain upload (B/client) | secure upload (B/client) | ratio | plain coordinator (s) | secure coordinator (s) | of which unmasking (s) |"
  echo "|---:|---:|---:|---:|---:|---:|---:|"
  : > "$TMP/fit"
  for n in $SIZES; do
    run "$TMP/p.jsonl" "$n" "$ROUNDS" 1 --compress "$PLAIN"
    run "$TMP/s.jsonl" "$n" "$ROUNDS" 1 $SECURE
    read -r pu pc _ < <(per_round "$TMP/p.jsonl")
    read -r su sc sm < <(per_round "$TMP/s.jsonl")
    ratio=$(python3 -c "print('%.2f' % ($su / $pu))")
    echo "| $n | $pu | $su | $ratio | $pc | $sc | $sm |"
    echo "$n $sc" >> "$TMP/fit"
  done
  python3 - "$TMP/fit" <<'PY'
import math, sys
pts = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
def slope(xs, ys):
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
if len(pts) >= 2:
    ln = [math.log(n) for n, _ in pts]
    lt = [math.log(t) for _, t in pts]
    lnl = [math.log(n * math.log2(n)) for n, _ in pts]
    print()
    print("secure coordinator time ~ n^%.2f; against n log2 n: exponent %.2f (1.00: grows as n log n)" %
          (slope(ln, lt), slope(lnl, lt)))
    print("per n log2 n: " + ", ".join("%d: %.2e s" % (n, t / (n * math.log2(n))) for n, t in pts))
PY
  echo
fi

if [[ " $PARTS " == *" accuracy "* ]]; then
  echo "accuracy: $ACC_CLIENTS clients, $ACC_ROUNDS rounds, seeds $SEEDS"
  echo
  echo "| uplink | plain accuracy (%) per seed | secure accuracy (%) per seed |"
  echo "|---|---|---|"
  for up in "none" "randk:0.1"; do
    plain="" secure=""
    for seed in $SEEDS; do
      run "$TMP/a.jsonl" "$ACC_CLIENTS" "$ACC_ROUNDS" "$seed" --compress "$up"
      plain+="$(python3 -c "import json,sys; print('%.2f' % (100 * [json.loads(l) for l in open('$TMP/a.jsonl')][-1]['final_accuracy']))") "
      run "$TMP/b.jsonl" "$ACC_CLIENTS" "$ACC_ROUNDS" "$seed" --compress "$up" --secure-aggregation=bits=16,range=$RANGE
      secure+="$(python3 -c "import json,sys; print('%.2f' % (100 * [json.loads(l) for l in open('$TMP/b.jsonl')][-1]['final_accuracy']))") "
    done
    echo "| $up | $plain | $secure |"
  done
fi

final() {  # METRICS FIELD -> the summary's FIELD
  python3 -c "import json,sys; print([json.loads(l) for l in open(sys.argv[1])][-1][sys.argv[2]])" "$1" "$2"
}

if [[ " $PARTS " == *" pruning "* ]]; then
  echo
  echo "DI pruning: --prune $PRUNE, $ACC_CLIENTS clients, $ACC_ROUNDS rounds, seeds $SEEDS"
  echo
  echo "| uplink | run | accuracy (%) per seed | parameters per seed | upload (MB/client, mean) |"
  echo "|---|---|---|---|---:|"
  for up in $PRUNE_UPLINKS; do
    for mode in plain secure; do
      acc="" params="" mb=0
      for seed in $SEEDS; do
        flags=(--compress "$up" --prune "$PRUNE")
        [ "$mode" = secure ] && flags+=(--secure-aggregation=bits=16,range=$RANGE)
        run "$TMP/d.jsonl" "$ACC_CLIENTS" "$ACC_ROUNDS" "$seed" "${flags[@]}"
        acc+="$(python3 -c "print('%.2f' % (100 * $(final "$TMP/d.jsonl" final_accuracy)))") "
        params+="$(final "$TMP/d.jsonl" params) "
        mb=$(python3 -c "print($mb + $(final "$TMP/d.jsonl" total_bytes_up) / $ACC_CLIENTS / 1e6)")
      done
      echo "| $up | $mode | $acc| $params| $(python3 -c "print('%.2f' % ($mb / len('$SEEDS'.split())))") |"
    done
  done
fi
