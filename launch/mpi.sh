#!/usr/bin/env bash
# Runs `xfed mpi` as an MPI job of N ranks on this machine: rank 0 coordinates, ranks 1..N-1
# train. Extra arguments go to `xfed mpi` (the same flags as `xfed simulate`).
#   ./launch/mpi.sh 3 --rounds 10 --compress topk:0.01,qsgd:4
# Sets up and builds xfed first (./launch/setup.sh --target xfed), unless XFED names a
# binary to run. Adds --allow-run-as-root
# as root and --oversubscribe beyond the core count (waiting ranks sleep, they do not spin).
# Ranks are not pinned to cores (--bind-to none): with --threads > 1 a pinned rank would run
# its threads on one core.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-}"
if ! [[ "$N" =~ ^[0-9]+$ ]] || [ "$N" -lt 2 ]; then
  echo "launch/mpi.sh: the first argument is the number of ranks, at least 2 (got '${N}')" >&2
  echo "usage: launch/mpi.sh N [xfed mpi flags]" >&2
  exit 2
fi
shift
if [ -z "${XFED:-}" ]; then
  ./launch/setup.sh --target xfed
  XFED=./build/bin/xfed
fi
ARGS=(-np "$N" --bind-to none)
[ "$(id -u)" -eq 0 ] && ARGS+=(--allow-run-as-root)
[ "$N" -gt "$(nproc)" ] && ARGS+=(--oversubscribe)
exec mpirun "${ARGS[@]}" "$XFED" mpi "$@"
