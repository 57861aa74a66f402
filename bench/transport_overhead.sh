#!/usr/bin/env bash
# The cost of running as an MPI job, or as edge processes over ZeroMQ, instead of in one
# process, on this machine:
#  1. round time of `mpirun -np 3 xfed mpi --threads 1` (2 worker ranks of 1 thread) and of
#     `xfed coordinator` + 2 `xfed worker` processes on loopback (CURVE on) against
#     `xfed simulate --threads 2` (2 worker threads): Fashion-MNIST, mlp, 10 clients, runs
#     interleaved, mean seconds per round (all but the last, which evaluates), as ratios;
#  2. the bytes rank 0 handed to and took from MPI against the bytes its metrics count
#     (total_bytes_up + down + other): equal when the transport adds no framing; for zmq the
#     bytes the coordinator handed to zmq (a type byte per message, chunk headers,
#     heartbeats, handshakes) and the bytes that crossed the loopback interface (zmq's
#     framing, CURVE, TCP/IP), against the same metrics;
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
for k in coordinator w1 w2; do "$XFED" keygen --out "$TMP/$k" > /dev/null; done
cat "$TMP/w1.pub" "$TMP/w2.pub" > "$TMP/workers.txt"
PORT="${EDGE_PORT:-47311}"

lo_bytes() { awk '/^ *lo:/ {print $2}' /proc/net/dev; }  # received on loopback, all of it

edge_run() {  # METRICS OUT: coordinator + 2 workers on loopback
  local ep="tcp://127.0.0.1:$PORT" w=()
  "$XFED" coordinator --bind "$ep" --key "$TMP/coordinator.key" --authorized-keys "$TMP/workers.txt" \
    "${RUN[@]}" --metrics "$1" > "$2" 2>&1 &
  local co=$!
  "$XFED" worker --connect "$ep" --key "$TMP/w1.key" --server-key "$TMP/coordinator.pub" --client 0,2,4,6,8 \
    "${RUN[@]}" --quiet > /dev/null 2>&1 & w+=($!)
  "$XFED" worker --connect "$ep" --key "$TMP/w2.key" --server-key "$TMP/coordinator.pub" --client 1,3,5,7,9 \
    "${RUN[@]}" --quiet > /dev/null 2>&1 & w+=($!)
  wait "$co" "${w[@]}"
}

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
sim_sum=0; mpi_sum=0; zmq_sum=0
for rep in $(seq 1 "$REPEATS"); do
  "$XFED" simulate "${RUN[@]}" --threads 2 --quiet --metrics "$TMP/sim$rep.jsonl" > /dev/null
  read -r s_sec s_sum _ <<< "$(summary "$TMP/sim$rep.jsonl")"
  echo "| simulate --threads 2 | $rep | $(printf %.3f "$s_sec") | $s_sum |"
  "${MPIRUN[@]}" -np 3 "$XFED" mpi "${RUN[@]}" --threads 1 --metrics "$TMP/mpi$rep.jsonl" > "$TMP/mpi$rep.out"
  read -r m_sec m_sum _ m_up m_down m_other <<< "$(summary "$TMP/mpi$rep.jsonl")"
  echo "| mpirun -np 3 --threads 1 | $rep | $(printf %.3f "$m_sec") | $m_sum |"
  lo_before=$(lo_bytes)
  edge_run "$TMP/zmq$rep.jsonl" "$TMP/zmq$rep.out"
  lo_after=$(lo_bytes)
  read -r z_sec z_sum _ z_up z_down z_other <<< "$(summary "$TMP/zmq$rep.jsonl")"
  echo "| coordinator + 2 workers (zmq, CURVE) | $rep | $(printf %.3f "$z_sec") | $z_sum |"
  sim_sum=$(python3 -c "print($sim_sum + $s_sec)"); mpi_sum=$(python3 -c "print($mpi_sum + $m_sec)")
  zmq_sum=$(python3 -c "print($zmq_sum + $z_sec)")
done
echo
python3 -c "print(f'round time ratio mpirun -np 3 / simulate --threads 2: {$mpi_sum / $sim_sum:.3f}x (target <= 1.10x)')"
python3 -c "print(f'round time ratio zmq coordinator + 2 workers / simulate --threads 2: {$zmq_sum / $sim_sum:.3f}x (target <= 1.15x)')"
echo
traffic=$(grep -o 'sent [0-9]* frames ([0-9]* bytes), received [0-9]* frames ([0-9]* bytes)' "$TMP/mpi$REPEATS.out")
handed=$(echo "$traffic" | python3 -c "import re,sys; n=[int(x) for x in re.findall(r'\(([0-9]+) bytes', sys.stdin.read())]; print(sum(n))")
counted=$((m_up + m_down + m_other))
echo "bytes at rank 0: handed to / taken from MPI $handed, counted in the metrics $counted (up $m_up + down $m_down + other $m_other): $([ "$handed" = "$counted" ] && echo equal || echo DIFFERENT)"
ztraffic=$(grep -o 'sent [0-9]* messages ([0-9]* bytes), received [0-9]* messages ([0-9]* bytes)' "$TMP/zmq$REPEATS.out")
zhanded=$(echo "$ztraffic" | python3 -c "import re,sys; n=[int(x) for x in re.findall(r'\(([0-9]+) bytes', sys.stdin.read())]; print(sum(n))")
zcounted=$((z_up + z_down + z_other))
echo "bytes at the zmq coordinator: handed to / taken from zmq $zhanded, on the loopback interface $((lo_after - lo_before)), counted in the metrics $zcounted (up $z_up + down $z_down + other $z_other): $(python3 -c "print(f'{$zhanded / $zcounted:.4f}x and {($lo_after - $lo_before) / $zcounted:.4f}x the metrics')")"
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
