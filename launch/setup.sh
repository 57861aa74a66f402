#!/usr/bin/env bash
# Installs what xfed needs from Debian's packages (only when something is missing) and
# builds Release into build/ (binary: build/bin/xfed). Safe to run any number of times.
#   --sanitize    instead: clang with ASan + UBSan and the libFuzzer targets, in build-sanitize/
#   --tsan        instead: clang with ThreadSanitizer, the concurrency tests only, in build-tsan/
#   --target T    build only target T (quickstart: only the xfed binary, not the tests)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  cmake g++ make pkg-config
  libtorch-dev libopenblas0-openmp          # OpenBLAS: reference BLAS is ~12x slower
  libdnnl-dev                               # oneDNN headers (LibTorch links it): bf16 Gram matrices
  dataset-fashion-mnist
  zlib1g-dev libzstd-dev
  libopenmpi-dev openmpi-bin
  libzmq3-dev cppzmq-dev
  libsodium-dev                             # SHA-256, X25519, ChaCha20(-Poly1305), BLAKE2b (core/crypto.h)
  libgfshare-dev                            # Shamir sharing for secure aggregation (secagg/shamir.h)
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-torch time                        # tests: TorchScript models; bench/: PyTorch loop, peak memory
  clang libclang-rt-14-dev                  # --sanitize builds and libFuzzer targets
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

BUILD_TYPE="${XFED_BUILD_TYPE:-Release}"
# The tests of code that threads share: transports, the worker pool and simulations.
TSAN_TARGETS=(transport_test transport_conformance_test zmq_transport_test simulation_test trainer_test)
BUILD_DIR=build
ARGS=(-DCMAKE_BUILD_TYPE="$BUILD_TYPE")
TARGET=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize)
      BUILD_DIR=build-sanitize
      ARGS+=(-DCMAKE_CXX_COMPILER=clang++-14 -DXFED_SANITIZE=ON -DXFED_FUZZ=ON -DXFED_WERROR=ON
             -DXFED_BUILD_BENCH=OFF) ;;
    --tsan)
      BUILD_DIR=build-tsan
      ARGS+=(-DCMAKE_CXX_COMPILER=clang++-14 -DXFED_TSAN=ON -DXFED_WERROR=ON -DXFED_BUILD_BENCH=OFF)
      TARGET=(--target "${TSAN_TARGETS[@]}") ;;
    --target)
      [ $# -ge 2 ] || { echo "setup: --target needs a target name" >&2; exit 2; }
      TARGET=(--target "$2"); shift ;;
    *) echo "setup: unknown option $1 (use --sanitize, --tsan or --target T)" >&2; exit 2 ;;
  esac
  shift
done
cmake -S . -B "$BUILD_DIR" "${ARGS[@]}" ${XFED_CMAKE_ARGS:-} > build.log.tmp 2>&1 \
  || { cat build.log.tmp; rm -f build.log.tmp; exit 1; }
rm -f build.log.tmp
cmake --build "$BUILD_DIR" -j"$(nproc)" "${TARGET[@]}"
