#!/usr/bin/env bash
# Runs one edge run on this machine: `xfed coordinator` and N `xfed worker` processes on
# loopback, over ZeroMQ with CURVE, keys included. Extra arguments go to every process (the
# same run flags as `xfed simulate`; the coordinator shows its progress here).
#   ./launch/edge.sh 3 --rounds 10 --compress topk:0.01,qsgd:4
# Writes everything to a run directory (EDGE_DIR, default runs/edge-DATE-TIME): the key pairs
# (coordinator.key/.pub, w1..wN), the authorized-keys list, each worker's log, and the
# coordinator's metrics (metrics.jsonl, unless --metrics is given). Worker k trains the
# clients c with c mod N = k-1 of --clients (give it on the command line; default 10).
# The port is EDGE_PORT (default 5555). Builds xfed first (./launch/setup.sh --target xfed)
# unless XFED names a binary. Workers still running when the coordinator ends, or on
# Ctrl-C, are stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-}"
if ! [[ "$N" =~ ^[0-9]+$ ]] || [ "$N" -lt 1 ]; then
  echo "launch/edge.sh: the first argument is the number of worker processes, at least 1 (got '${N}')" >&2
  echo "usage: launch/edge.sh N [xfed run flags]" >&2
  exit 2
fi
shift
CLIENTS=10
METRICS=""
args=("$@")
for i in "${!args[@]}"; do
  case "${args[$i]}" in
    --clients) CLIENTS="${args[$((i + 1))]:-}" ;;
    --clients=*) CLIENTS="${args[$i]#--clients=}" ;;
    --metrics) METRICS="${args[$((i + 1))]:-}" ;;
    --metrics=*) METRICS="${args[$i]#--metrics=}" ;;
  esac
done
if ! [[ "$CLIENTS" =~ ^[0-9]+$ ]] || [ "$CLIENTS" -lt "$N" ]; then
  echo "launch/edge.sh: $N workers need at least $N clients (--clients is '$CLIENTS')" >&2
  exit 2
fi
if [ -z "${XFED:-}" ]; then
  ./launch/setup.sh --target xfed
  XFED=./build/bin/xfed
fi
DIR="${EDGE_DIR:-runs/edge-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$DIR"
ENDPOINT="tcp://127.0.0.1:${EDGE_PORT:-5555}"
"$XFED" keygen --out "$DIR/coordinator" > /dev/null
: > "$DIR/authorized_keys"
for k in $(seq 1 "$N"); do
  "$XFED" keygen --out "$DIR/w$k" > /dev/null
  cat "$DIR/w$k.pub" >> "$DIR/authorized_keys"
done
EXTRA=()
[ -z "$METRICS" ] && METRICS="$DIR/metrics.jsonl" && EXTRA=(--metrics "$METRICS")

WORKERS=()
stop_workers() {
  for pid in "${WORKERS[@]}"; do kill "$pid" 2> /dev/null || true; done
}
trap stop_workers EXIT INT TERM
for k in $(seq 1 "$N"); do
  clients=$(seq $((k - 1)) "$N" $((CLIENTS - 1)) | paste -sd, -)
  "$XFED" worker --connect "$ENDPOINT" --key "$DIR/w$k.key" --server-key "$DIR/coordinator.pub" \
    --client "$clients" "$@" > "$DIR/w$k.log" 2>&1 &
  WORKERS+=($!)
done
echo "launch/edge.sh: $N workers connecting to $ENDPOINT (logs: $DIR/w*.log)"
status=0
"$XFED" coordinator --bind "$ENDPOINT" --key "$DIR/coordinator.key" --authorized-keys "$DIR/authorized_keys" \
  "$@" "${EXTRA[@]}" || status=$?
for pid in "${WORKERS[@]}"; do  # they stop when told; bounded all the same
  for _ in $(seq 1 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
done
echo "launch/edge.sh: metrics in $METRICS, keys and worker logs in $DIR"
exit "$status"
