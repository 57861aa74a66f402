#!/usr/bin/env bash
# One command on a fresh machine: set up (packages + build) if needed, then run the test
# suite. Extra arguments go to ctest (e.g. ./launch/test.sh -R Partition).
#   ./launch/test.sh --sanitize [ctest args]   the whole suite under ASan + UBSan (clang),
#                                              built in build-sanitize/
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--sanitize" ]; then
  shift
  ./launch/setup.sh --sanitize
  cd build-sanitize
  # LibTorch and OpenBLAS are not instrumented: their containers look overflowed to ASan,
  # and they keep allocations until exit. Every error in xfed's own code still stops a test.
  export ASAN_OPTIONS="detect_container_overflow=0:detect_leaks=0:abort_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  ctest --output-on-failure -j"$(nproc)" --timeout 900 "$@"
else
  ./launch/setup.sh
  cd build
  ctest --output-on-failure -j"$(nproc)" --timeout 600 "$@"
fi
