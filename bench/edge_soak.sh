#!/usr/bin/env bash
# Soak of the edge mode on this machine: one `xfed coordinator` and WORKERS `xfed worker`
# processes on loopback (CURVE on), ROUNDS rounds; KILLS workers, picked at random (seeded),
# are SIGKILLed at random rounds and restarted with the same key three rounds later.
# Checks: the run completes; in every round each sampled client trained or is counted
# missing; the restarted workers train again (every client trains in the last round). Prints the coordinator's RSS after round 5 and
# the last one seen before it ended (flat: <= +5 %).
# Usage: bench/edge_soak.sh [BUILD_DIR] [WORKERS=32] [ROUNDS=50] [KILLS=4] [SEED=1]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
WORKERS="${2:-32}"
ROUNDS="${3:-50}"
KILLS="${4:-4}"
SEED="${5:-1}"
XFED="$BUILD/bin/xfed"
TMP="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2> /dev/null || true; done
  [ -n "${KEEP:-}" ] && echo "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
EP="tcp://127.0.0.1:${EDGE_PORT:-47411}"
RUN=(--dataset synthetic --synthetic-train $((WORKERS * 300)) --synthetic-test 400 --model mlp --local-epochs 2
     --clients "$WORKERS" --rounds "$ROUNDS" --compress topk:0.05,qsgd:4,zstd --downlink qsgd:8
     --round-timeout 20 --min-clients 1 --eval-every 10 --heartbeat 0.5 --liveness 4)
"$XFED" keygen --out "$TMP/coordinator" > /dev/null
: > "$TMP/workers.txt"
for k in $(seq 1 "$WORKERS"); do
  "$XFED" keygen --out "$TMP/w$k" > /dev/null
  cat "$TMP/w$k.pub" >> "$TMP/workers.txt"
done
start_worker() {  # K: worker k serves client k-1
  "$XFED" worker --connect "$EP" --key "$TMP/w$1.key" --server-key "$TMP/coordinator.pub" --client $(($1 - 1)) \
    "${RUN[@]}" --quiet --reconnect-timeout 600 >> "$TMP/w$1.log" 2>&1 &
  WPID[$1]=$!
  PIDS+=($!)
}
declare -A WPID KILL_AT RESTART_AT
# Seeded plan: KILLS distinct workers, each killed at a round in 6..ROUNDS-30: a restarted
# worker needs about a second of CPU to start, which on 2 cores shared with 32 busy workers
# is ten seconds or more; it has rounds left to train in.
read -r -a victims <<< "$(python3 -c "import random; r=random.Random($SEED); print(*r.sample(range(1, $WORKERS + 1), $KILLS))")"
read -r -a rounds <<< "$(python3 -c "import random; r=random.Random($SEED + 1); print(*[r.randint(6, max(6, $ROUNDS - 30)) for _ in range($KILLS)])")"
for i in "${!victims[@]}"; do KILL_AT[${victims[$i]}]=${rounds[$i]}; done

"$XFED" coordinator --bind "$EP" --key "$TMP/coordinator.key" --authorized-keys "$TMP/workers.txt" "${RUN[@]}" \
  --quiet --metrics "$TMP/m.jsonl" > "$TMP/co.log" 2>&1 &
CO=$!
PIDS+=($CO)
for k in $(seq 1 "$WORKERS"); do start_worker "$k"; done
rss() { awk '/VmRSS/ {print $2}' "/proc/$CO/status" 2> /dev/null || true; }
lines() { [ -f "$TMP/m.jsonl" ] && wc -l < "$TMP/m.jsonl" || echo 0; }
rss5=""; rss_last=""; last_round=0
while kill -0 "$CO" 2> /dev/null; do
  done_rounds=$(lines)
  now=$(rss)
  if [ -n "$now" ]; then rss_last=$now; last_round=$done_rounds; fi
  [ -z "$rss5" ] && [ "$done_rounds" -ge 5 ] && rss5=$now
  for k in "${!KILL_AT[@]}"; do
    if [ "$done_rounds" -ge "${KILL_AT[$k]}" ] && [ -z "${RESTART_AT[$k]:-}" ]; then
      kill -9 "${WPID[$k]}" 2> /dev/null || true
      RESTART_AT[$k]=$((done_rounds + 3))
      echo "round $done_rounds: killed worker process w$k"
    fi
    if [ -n "${RESTART_AT[$k]:-}" ] && [ "${RESTART_AT[$k]}" -gt 0 ] && [ "$done_rounds" -ge "${RESTART_AT[$k]}" ]; then
      start_worker "$k"
      echo "round $done_rounds: restarted w$k"
      RESTART_AT[$k]=0
    fi
  done
  sleep 0.05
done
wait "$CO" && status=0 || status=$?
python3 - "$TMP/m.jsonl" "$status" "$rss5" "$rss_last" "$last_round" "$WORKERS" "$ROUNDS" "$KILLS" <<'PY'
import json, sys
path, status, rss5, rss_last, last_round, workers, rounds, kills = sys.argv[1:]
lines = [json.loads(l) for l in open(path) if l.strip()]
per_round = [l for l in lines if not l.get("summary")]
accounted = all(r["clients"] + r["missing"] == r["sampled"] for r in per_round)
missing = sum(r["missing"] for r in per_round)
done = bool(lines) and lines[-1].get("summary", False)
print(f"## edge soak: {workers} worker processes, {rounds} rounds, {kills} killed and restarted")
print()
print("| coordinator exit | rounds | summary | every sampled client trained or missing | missing updates | last round's clients | RSS after round 5 | RSS last seen (round) | growth |")
print("|---|---|---|---|---|---|---|---|---|")
growth = (int(rss_last) / int(rss5) - 1) * 100 if rss5 and rss_last else float("nan")
print(f"| {status} | {len(per_round)} | {'yes' if done else 'NO'} | {'yes' if accounted else 'NO'} | {missing} | "
      f"{per_round[-1]['clients'] if per_round else '-'}/{per_round[-1]['sampled'] if per_round else '-'} | "
      f"{int(rss5)/1024:.1f} MiB | {int(rss_last)/1024:.1f} MiB ({last_round}) | {growth:+.1f} % |")
back = bool(per_round) and per_round[-1]["clients"] == per_round[-1]["sampled"]
print()
print(f"restarted workers train again by the last round: {'yes' if back else 'NO'}")
sys.exit(0 if status == "0" and done and accounted and back else 1)
PY
