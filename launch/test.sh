#!/usr/bin/env bash
# One command on a fresh machine: set up (packages + build) if needed, then run the test
# suite. Extra arguments go to ctest (e.g. ./launch/test.sh -R Partition).
set -euo pipefail
cd "$(dirname "$0")/.."
./launch/setup.sh
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 600 "$@"
