#!/usr/bin/env bash
# One command on a fresh machine: set up (packages + build) if needed, then run the default
# simulation: Fashion-MNIST, mlp (LeNet-300-100), 10 clients, iid, FedAvg, 40 rounds.
# Extra arguments go to `xfed simulate` (e.g. ./launch/quickstart.sh --rounds 5).
set -euo pipefail
cd "$(dirname "$0")/.."
./launch/setup.sh --target xfed   # only what it runs; ./launch/test.sh builds the rest
mkdir -p results
exec ./build/bin/xfed simulate --metrics results/quickstart.jsonl --save-model results/quickstart.model "$@"
