#!/usr/bin/env bash
# xfed as an installed library and as a Debian package, checked the way users meet them:
#  1. cmake --install build --prefix P; examples/external (a project of its own) configures
#     with find_package(xfed CONFIG REQUIRED) against P, builds, and runs a short federation
#     both through the library API and through the command line with its model built in;
#  2. cpack makes xfed_<version>_amd64.deb; its files, extracted with dpkg -x (never
#     installed into the system), run a short federation, and its xfed-export-model makes
#     the archive of a PyTorch model that its xfed then trains.
# Uses the Release build in build/ (./launch/setup.sh makes it). Leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")/.."
./launch/setup.sh > /dev/null
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
SHORT_RUN=(--dataset synthetic --synthetic-train 1200 --synthetic-test 200 --clients 4 --rounds 2 --quiet)

echo "package: installing into a temporary prefix"
cmake --install build --prefix "$TMP/prefix" > "$TMP/install.log"
cmake -S examples/external -B "$TMP/ext" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TMP/prefix" \
  > "$TMP/configure.log" 2>&1 || { cat "$TMP/configure.log"; exit 1; }
cmake --build "$TMP/ext" -j"$(nproc)" > "$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; exit 1; }
out=$("$TMP/ext/federate" 3)
echo "$out"
grep -q "^two-layer: .* after 3 rounds" <<<"$out" || { echo "package: federate printed no result"; exit 1; }
"$TMP/ext/federate" simulate --model two-layer "${SHORT_RUN[@]}"
echo "package: find_package(xfed) build runs (library API and command line)"

(cd build && cpack -G DEB -B "$TMP/deb" > "$TMP/cpack.log" 2>&1) || { cat "$TMP/cpack.log"; exit 1; }
version=$(sed -n 's/^#define XFED_VERSION "\(.*\)"$/\1/p' build/generated/xfed/config.h)
deb="$TMP/deb/xfed_${version}_amd64.deb"
[ -f "$deb" ] || { echo "package: no $deb"; ls "$TMP/deb"; exit 1; }
dpkg-deb -f "$deb" Package Version Depends
dpkg -x "$deb" "$TMP/root"
for f in usr/bin/xfed usr/bin/xfed-export-model usr/include/xfed/xfed.h usr/lib/cmake/xfed/xfedConfig.cmake; do
  [ -e "$TMP/root/$f" ] || { echo "package: the .deb lacks /$f"; exit 1; }
done
"$TMP/root/usr/bin/xfed" simulate "${SHORT_RUN[@]}"
"$TMP/root/usr/bin/xfed-export-model" examples/pytorch/lenet.py:LeNet300100 --input-shape 1x28x28 --out "$TMP/net.pt"
"$TMP/root/usr/bin/xfed" simulate --model "torchscript:$TMP/net.pt" "${SHORT_RUN[@]}"
echo "package: $(basename "$deb") extracted runs a federation"
