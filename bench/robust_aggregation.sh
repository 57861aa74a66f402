#!/usr/bin/env bash
# Defences measured, not assumed (#25): final test accuracy after ROUNDS rounds of Fashion-MNIST
# mlp for every aggregator x attack, 20 % of the clients hostile (--attack KIND:K), per client
# count, partition and uplink. A run that diverges prints "div" (its aggregate stopped being
# finite). Then the rules' aggregation time and round time at the largest client count,
# without attack (the metrics' seconds_aggregate and seconds, mean over the rounds).
# Usage: bench/robust_aggregation.sh [BUILD_DIR]; environment (defaults = the issue's grid):
#   CLIENTS ("10 50"), PARTITIONS ("iid dirichlet:0.5"), UPLINKS ("none topk:0.01,qsgd:4,zstd"),
#   ATTACKS ("none signflip scaled gaussian alie ipm labelflip"), RULES (below), ROUNDS (40),
#   FLAGS (extra run flags), SEED (1). The full grid is 336 runs: hours on 2 cores; pick rows.
set -euo pipefail
cd "$(dirname "$0")/.."
XFED="${1:-build}/bin/xfed"
CLIENTS="${CLIENTS:-10 50}"
PARTITIONS="${PARTITIONS:-iid dirichlet:0.5}"
UPLINKS="${UPLINKS:-none topk:0.01,qsgd:4,zstd}"
ATTACKS="${ATTACKS:-none signflip scaled gaussian alie ipm labelflip}"
ROUNDS="${ROUNDS:-40}"
FLAGS="${FLAGS:-}"
SEED="${SEED:-1}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

rules_for() {  # CLIENTS -> the rules, F = the hostile count
  local f=$(( $1 / 5 ))
  echo "${RULES:-mean median trimmed:0.2 krum:$f multikrum:$f cclip:1}"
}

accuracy() {  # METRICS -> final accuracy in % or "div"
  python3 - "$1" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])] if sys.argv[1] else []
s = [l for l in lines if l.get("summary")]
print("%.2f" % (100 * s[-1]["final_accuracy"]) if s else "div")
PY
}

run() {  # METRICS CLIENTS PARTITION UPLINK RULE ATTACK
  local attack=()
  [ "$6" = none ] || attack=(--attack "$6:$(( $2 / 5 ))")
  # shellcheck disable=SC2086
  "$XFED" simulate --dataset fashion-mnist --model mlp --clients "$2" --partition "$3" --compress "$4" \
    --aggregate "$5" "${attack[@]}" --rounds "$ROUNDS" --seed "$SEED" --quiet --metrics "$1" $FLAGS \
    > "$TMP/log" 2>&1 || true
}

for clients in $CLIENTS; do
  for partition in $PARTITIONS; do
    for uplink in $UPLINKS; do
      rules=$(rules_for "$clients")
      echo
      echo "accuracy (%) after $ROUNDS rounds: $clients clients, $partition, uplink $uplink, $(( clients / 5 )) hostile"
      echo
      printf '| attack |'; for r in $rules; do printf ' %s |' "$r"; done; echo
      printf '|---|'; for _ in $rules; do printf -- '---:|'; done; echo
      for attack in $ATTACKS; do
        printf '| %s |' "$attack"
        for rule in $rules; do
          m="$TMP/m.jsonl"; rm -f "$m"
          run "$m" "$clients" "$partition" "$uplink" "$rule" "$attack"
          printf ' %s |' "$(accuracy "$([ -f "$m" ] && echo "$m")")"
        done
        echo
      done
    done
  done
done

clients=$(echo "$CLIENTS" | tr ' ' '\n' | sort -n | tail -1)
echo
echo "coordinator time per round, $clients clients, iid, no attack, $ROUNDS rounds (mean over rounds)"
echo
echo "| rule | seconds_aggregate | x mean | round seconds |"
echo "|---|---:|---:|---:|"
base=""
for rule in $(rules_for "$clients"); do
  m="$TMP/t.jsonl"; rm -f "$m"
  run "$m" "$clients" iid none "$rule" none
  read -r agg round < <(python3 - "$m" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if '"summary"' not in l]
print(sum(x["seconds_aggregate"] for x in r) / len(r), sum(x["seconds"] for x in r) / len(r))
PY
)
  base="${base:-$agg}"
  printf '| %s | %.4f | %.1f | %.2f |\n' "$rule" "$agg" "$(python3 -c "print($agg / $base)")" "$round"
done
