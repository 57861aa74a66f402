#!/usr/bin/env bash
# Models for devices (#20): how small a federated-trained model leaves the federation, and
# what it costs to compute from its file. For each model of MODELS, on Fashion-MNIST with
# CLIENTS clients for ROUNDS rounds (seed SEED), four runs:
#   base     unpruned, unshared (the accuracy to stay within 0.5 pp of)
#   pruned   DI pruning (PRUNE; none: no DI pruning)
#   shared   the same pruning, then --share-weights bits=BITS,after=AFTER: centroid rounds
#            (with SPARSITY > 0: ,sparsity=SPARSITY,prune_after=PRUNE_AFTER,prune_steps=
#            PRUNE_STEPS,restart_lr=RESTART_LR — magnitude pruning in steps until the end of
#            round PRUNE_AFTER, the kept weights retrained until AFTER)
#   topk     the same pruning with the uplink --compress TOPK (for its bytes per round)
# then exports the shared model (`xfed export`, values as trained) and prints the table in
# Deep Compression's form:
#   fp32 dense   the unpruned model, 4 bytes per parameter
#   pruned       the DI-pruned model, 4 bytes per parameter; with SPARSITY > 0 the shared
#                model's nonzero weights and biases at 4 bytes each (as CSR values alone),
#                its accuracy the shared run's at round AFTER-1 (pruned, retrained, unshared)
#   + shared     BITS-bit indices per weight at fixed width, float32 codebooks and biases
#   + entropy    the .xdc file (--format auto: per layer the smallest of dense/CSR/CER/CSER,
#                arrays Huffman-coded)
#   accuracy     base / pruned / from the .xdc file (xfed eval computes from the file)
# beside it the multiplications of one inference (dense, CSR, CER, CSER of the same shared
# weights), the test set's inference time from the CSER file and the dense LibTorch model's
# (one thread each), and the uplink per client per round: the centroid rounds' beside the
# pruned top-k run's rounds after its last cut.
# Usage: bench/compact_export.sh [BUILD_DIR]; environment (defaults in brackets):
#   MODELS ("mlp lenet5"), CLIENTS (10), ROUNDS (30), SEED (1), BITS (4), AFTER (20),
#   PRUNE (di:every=2,warmup=4,target=0.3), SPARSITY (0), PRUNE_AFTER (AFTER/2), PRUNE_STEPS (1),
#   RESTART_LR (0: the lr decays from round 1; 1: it restarts at each magnitude-pruning step),
#   TOPK (topk:0.01,qsgd:4,zstd).
set -euo pipefail
cd "$(dirname "$0")/.."
XFED="${1:-build}/bin/xfed"
MODELS="${MODELS:-mlp lenet5}"
CLIENTS="${CLIENTS:-10}"
ROUNDS="${ROUNDS:-30}"
SEED="${SEED:-1}"
BITS="${BITS:-4}"
AFTER="${AFTER:-20}"
PRUNE="${PRUNE:-di:every=2,warmup=4,target=0.3}"
SPARSITY="${SPARSITY:-0}"
PRUNE_AFTER="${PRUNE_AFTER:-$((AFTER / 2))}"
PRUNE_STEPS="${PRUNE_STEPS:-1}"
RESTART_LR="${RESTART_LR:-0}"
SHARE="bits=$BITS,after=$AFTER"
[ "$SPARSITY" = 0 ] || SHARE="$SHARE,sparsity=$SPARSITY,prune_after=$PRUNE_AFTER,prune_steps=$PRUNE_STEPS,restart_lr=$RESTART_LR"
PRUNE_FLAGS=(--prune "$PRUNE")
[ "$PRUNE" != none ] || PRUNE_FLAGS=()
TOPK="${TOPK:-topk:0.01,qsgd:4,zstd}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
DATA="--dataset fashion-mnist"

train() {  # MODEL NAME FLAGS...: $TMP/NAME.bin and $TMP/NAME.jsonl
  local model="$1" name="$2"; shift 2
  # shellcheck disable=SC2068
  "$XFED" simulate $DATA --model "$model" --clients "$CLIENTS" --rounds "$ROUNDS" --seed "$SEED" --quiet \
    --save-model "$TMP/$name.bin" --metrics "$TMP/$name.jsonl" $@ > "$TMP/log" 2>&1 || { tail -3 "$TMP/log" >&2; exit 1; }
}

echo "Fashion-MNIST, $CLIENTS clients, $ROUNDS rounds, seed $SEED; --prune $PRUNE; --share-weights $SHARE"
echo
echo "| model | fp32 dense | pruned | + shared, $BITS bits | + entropy coded (.xdc) | smaller | accuracy base / pruned / .xdc | mults dense / CSR / CER / CSER | inference .xdc (CSER) / LibTorch | uplink per client: centroids / $TOPK |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for model in $MODELS; do
  train "$model" base
  if [ "$PRUNE" = none ]; then cp "$TMP/base.bin" "$TMP/pruned.bin"; cp "$TMP/base.jsonl" "$TMP/pruned.jsonl";
  else train "$model" pruned "${PRUNE_FLAGS[@]}"; fi
  train "$model" shared "${PRUNE_FLAGS[@]}" --share-weights "$SHARE"
  train "$model" topk "${PRUNE_FLAGS[@]}" --compress "$TOPK"
  for run in base pruned; do "$XFED" eval --load-model "$TMP/$run.bin" $DATA > "$TMP/$run.json"; done
  for f in auto dense csr cer cser; do
    "$XFED" export --load-model "$TMP/shared.bin" --out "$TMP/$f.xdc" --format "$f" > "$TMP/export_$f.txt"
  done
  "$XFED" eval --load-model "$TMP/auto.xdc" $DATA > "$TMP/xdc.json"
  "$XFED" eval --load-model "$TMP/cser.xdc" $DATA > "$TMP/cser.json"
  python3 - "$TMP" "$model" "$BITS" "$AFTER" "$SPARSITY" <<'PY'
import json, sys
tmp, model, bits, after, sparsity = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
last = lambda p: json.loads(open(p).read().strip().splitlines()[-1])
rounds = lambda name: [json.loads(l) for l in open(f"{tmp}/{name}.jsonl") if '"summary"' not in l]
base, pruned, xdc, cser = (last(f"{tmp}/{n}.json") for n in ("base", "pruned", "xdc", "cser"))
ex = {f: last(f"{tmp}/export_{f}.txt") for f in ("auto", "dense", "csr", "cer", "cser")}
dense_fp32, pruned_fp32 = base["params"] * 4, pruned["params"] * 4
pruned_params, pruned_acc, pruned_kind = pruned["params"], pruned["test_accuracy"], "DI"
if sparsity > 0:  # magnitude pruning: the shared run before sharing
    pruned_params = ex["auto"]["nonzero_weights"] + ex["auto"]["biases"]
    pruned_fp32 = pruned_params * 4
    pruned_acc = [r for r in rounds("shared") if r["round"] == after - 1][0]["test_accuracy"]
    pruned_kind = f"magnitude {sparsity:g}"
shared = (ex["auto"]["weights"] * bits + 7) // 8 + ex["auto"]["biases"] * 4 + ex["auto"]["layers"] * (2 ** bits) * 4
per_client = lambda rs: sum(r["bytes_up"] / max(1, r["clients"]) for r in rs) / max(1, len(rs))
centroid_rounds = [r for r in rounds("shared") if r["round"] > after]
topk = rounds("topk")
last_cut = max([r["round"] for r in topk if r.get("pruned")] or [0])
topk_after = [r for r in topk if r["round"] > max(last_cut, 2)]
kb = lambda b: f"{b / 1000:.1f} KB"
print(f"| {model} | {kb(dense_fp32)} | {kb(pruned_fp32)} ({pruned_params:,} params, {pruned_kind}) | {kb(shared)} | "
      f"{kb(ex['auto']['bytes'])} | {dense_fp32 / ex['auto']['bytes']:.1f}x | "
      f"{100 * base['test_accuracy']:.2f} / {100 * pruned_acc:.2f} / {100 * xdc['test_accuracy']:.2f} % | "
      f"{ex['dense']['multiplications']:,} / {ex['csr']['multiplications']:,} / {ex['cer']['multiplications']:,} / "
      f"{ex['cser']['multiplications']:,} | {cser['seconds']:.2f} s / {pruned['seconds']:.2f} s | "
      f"{per_client(centroid_rounds):,.0f} B / {per_client(topk_after):,.0f} B |")
PY
done
echo
echo "(+ shared counts fixed-width indices for every weight; the .xdc file stores each layer in its smallest format, arrays Huffman-coded. Uplink: mean bytes a client sends per round, centroid rounds (after round $AFTER) and the top-k run's rounds after its last cut.)"
