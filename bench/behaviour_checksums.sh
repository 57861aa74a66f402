#!/usr/bin/env bash
# Prints the final model checksum (and accuracy, bytes) of a fixed set of runs that cover
# every part of the round protocol: the default run, compression both ways with error
# feedback and partial participation, a server optimizer, pruning with statistics rounds,
# lenet5, and a checkpoint/resume. A refactoring that claims "no change of behaviour" must
# leave every line of this table unchanged (on the same machine: float kernels differ
# between CPUs). Usage: bench/behaviour_checksums.sh [BUILD_DIR]   (~75 s)
set -euo pipefail
cd "$(dirname "$0")/.."
XFED="${1:-build}/bin/xfed"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

run() {  # NAME ARGS...
  local name="$1"; shift
  "$XFED" simulate --quiet --metrics "$TMP/$name.jsonl" "$@" > /dev/null
  python3 - "$name" "$TMP/$name.jsonl" <<'PY'
import json, sys
s = [json.loads(l) for l in open(sys.argv[2]) if l.strip()][-1]
print(f"| {sys.argv[1]:<18} | {s['model_checksum']} | {100*s['final_accuracy']:6.2f} % "
      f"| {s['params']:>7} | {s['total_bytes_up']:>11} | {s['total_bytes_down']:>11} |")
PY
}

echo "| run                | model checksum   | accuracy | params  | bytes up    | bytes down  |"
echo "|---|---|---|---|---|---|"
run quickstart-40
run default-5           --rounds 5
run compressed-6        --rounds 6 --fraction 0.5 --compress topk:0.01,qsgd:4,zstd \
                        --downlink topk:0.05,qsgd:8,zstd --sparsity-warmup 3 --ef-momentum 0.5
run fedadam-dirichlet   --rounds 4 --strategy fedadam --partition dirichlet:0.5 --compress qsgd:8
run pruned-8            --rounds 8 --prune di:target=0.3,warmup=2,every=2 --compress topk:0.05,qsgd:8
run lenet5-synthetic    --rounds 3 --dataset synthetic --model lenet5 --prune l1:target=0.5,warmup=1,every=1
run resume-full-6       --rounds 6 --compress topk:0.01 --checkpoint-dir "$TMP/ck1"
"$XFED" simulate --quiet --rounds 3 --compress topk:0.01 --checkpoint-dir "$TMP/ck2" > /dev/null
run resume-3+3          --rounds 6 --compress topk:0.01 --checkpoint-dir "$TMP/ck2" --resume
