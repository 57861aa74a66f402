#!/usr/bin/env bash
# The cost of running as an MPI job instead of in one process, on this machine:
#  1. round time of `mpirun -np 3 xfed mpi --threads 1` (2 worker ranks of 1 thread) against
#     `xfed simulate --threads 2` (2 worker threads): Fashion-MNIST, mlp, 10 clients, runs
#     interleaved, mean seconds per round (all but the last, which evaluates), as a ratio;
#  2. the bytes rank 0 handed to and took from MPI against the bytes its metrics count
#     (total_bytes_up + down + other): equal when the transport adds no framing;
#  3. the CPU an idle rank burns while it waits for a frame (bench_mpi_idle);
#  4. with --default: the default run (40 rounds) under simulate and mpirun -np 3, which
#     must end on the same checksum and accuracy.
# Usage: bench/transport_overhead.sh [--default] [BUILD_DIR] [ROUNDS=8] [REPEATS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
DEFAULT=0
if [ "${1:-}" = "--default" ]; then DEFAULT=1; shift; fi
BUILD="${1:-build}"
ROUNDS="${2:-8}"
REPEATS="${3:-2}"
XFED="$BUILD/bin/xfed"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
MPIRUN=(mpirun --bind-to none)
[ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)
[ "$(nproc)" -lt 3 ] && MPIRUN+=(--oversubscribe)
RUN=(--dataset fashion-mnist --model mlp --clients 10 --rounds "$ROUNDS" --eval-every 1000)

summary() {  # METRICS -> "mean_round_s checksum accuracy up down other"
  python3 - "$1" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rounds = [l for l in lines if not l.get("summary")]
s = lines[-1]
timed = rounds[:-1] or rounds
print(sum(r["seconds"] for r in timed) / len(timed), s["model_checksum"], s["final_accuracy"],
      s["total_bytes_up"], s["total_bytes_down"], s.get("total_bytes_other", 0))
PY
}

echo "## transport overhead: Fashion-MNIST, mlp, 10 clients, $ROUNDS rounds, $(nproc) cores"
echo
echo "| run | repeat | s / round | model checksum |"
echo "|---|---|---|---|"
sim_sum=0; mpi_sum=0
for rep in $(seq 1 "$REPEATS"); do
  "$XFED" simulate "${RUN[@]}" --threads 2 --quiet --metrics "$TMP/sim$rep.jsonl" > /dev/null
  read -r s_sec s_sum _ <<< "$(summary "$TMP/sim$rep.jsonl")"
  echo "| simulate --threads 2 | $rep | $(printf %.3f "$s_sec") | $s_sum |"
  "${MPIRUN[@]}" -np 3 "$XFED" mpi "${RUN[@]}" --threads 1 --metrics "$TMP/mpi$rep.jsonl" > "$TMP/mpi$rep.out"
  read -r m_sec m_sum _ m_up m_down m_other <<< "$(summary "$TMP/mpi$rep.jsonl")"
  echo "| mpirun -np 3 --threads 1 | $rep | $(printf %.3f "$m_sec") | $m_sum |"
  sim_sum=$(python3 -c "print($sim_sum + $s_sec)"); mpi_sum=$(python3 -c "print($mpi_sum + $m_sec)")
done
echo
python3 -c "print(f'round time ratio mpirun -np 3 / simulate --threads 2: {$mpi_sum / $sim_sum:.3f}x (target <= 1.10x)')"
echo
traffic=$(grep -o 'sent [0-9]* frames ([0-9]* bytes), received [0-9]* frames ([0-9]* bytes)' "$TMP/mpi$REPEATS.out")
handed=$(echo "$traffic" | python3 -c "import re,sys; n=[int(x) for x in re.findall(r'\(([0-9]+) bytes', sys.stdin.read())]; print(sum(n))")
counted=$((m_up + m_down + m_other))
echo "bytes at rank 0: handed to / taken from MPI $handed, counted in the metrics $counted (up $m_up + down $m_down + other $m_other): $([ "$handed" = "$counted" ] && echo equal || echo DIFFERENT)"
echo
echo "| idle rank | wall | CPU | CPU / wall |"
echo "|---|---|---|---|"
"${MPIRUN[@]}" -np 3 "$BUILD/bin/bench_mpi_idle" 5 | sort

if [ "$DEFAULT" = 1 ]; then
  echo
  echo "## the default run (Fashion-MNIST, mlp, 10 clients, 40 rounds)"
  echo
  echo "| run | model checksum | accuracy |"
  echo "|---|---|---|"
  "$XFED" simulate --quiet --metrics "$TMP/d-sim.jsonl" > /dev/null
  read -r _ d_sum d_acc _ <<< "$(summary "$TMP/d-sim.jsonl")"
  echo "| simulate | $d_sum | $(python3 -c "print(f'{100*$d_acc:.2f} %')") |"
  "${MPIRUN[@]}" -np 3 "$XFED" mpi --quiet --metrics "$TMP/d-mpi.jsonl" > /dev/null
  read -r _ d_sum d_acc _ <<< "$(summary "$TMP/d-mpi.jsonl")"
  echo "| mpirun -np 3 | $d_sum | $(python3 -c "print(f'{100*$d_acc:.2f} %')") |"
fi
