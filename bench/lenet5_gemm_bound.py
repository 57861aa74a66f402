#!/usr/bin/env python3
"""How fast can a LeNet-5 training step be on this machine's BLAS and oneDNN? (#21)

A step's arithmetic is almost all matrix products: each convolution is, after im2col, one
product forward and two backward (weights; inputs, except for the first layer), and so is
each linear layer. This times those products alone, at the step's exact shapes (batch B,
Fashion-MNIST 1x28x28, LeNet-5 20/50/500/10), one thread, best of REPEATS:
  - as plain matrix products (torch.mm: OpenBLAS's sgemm in Debian's LibTorch), the
    operands already laid out (no im2col, no pooling, no activation, no loss, no update);
  - as LibTorch's convolution and linear kernels themselves (oneDNN, channels-last), forward
    and backward of each layer alone.
The sum is a lower bound on a step built from these libraries: the rest of a step (im2col
and its transpose, pooling, ReLU, loss, SGD) only adds to it. Beside it, the step time that
50 % of the float32 FMA peak would need (peak: bench_fma_peak, one thread, passed as
--peak-gflops or measured here with the given binary).

Usage: bench/lenet5_gemm_bound.py [--batch 64] [--repeats 50] [--peak-gflops G | --fma-peak BIN]
"""
import argparse
import json
import subprocess
import time

import torch


def best_seconds(fn, repeats):
    for _ in range(3):
        fn()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def layer_shapes(batch):
    """(name, M, K, N, needs_input_grad): out[M,N] = cols[M,K] @ W^T[K,N]."""
    return [
        ("conv1 5x5 1->20", batch * 24 * 24, 1 * 25, 20, False),
        ("conv2 5x5 20->50", batch * 8 * 8, 20 * 25, 50, True),
        ("fc1 800->500", batch, 800, 500, True),
        ("fc2 500->10", batch, 500, 10, True),
    ]


def gemm_row(name, m, k, n, input_grad, repeats):
    cols, w, dy = torch.randn(m, k), torch.randn(n, k), torch.randn(m, n)
    products = [("forward", lambda: torch.mm(cols, w.t()), m * n * k),
                ("weight grad", lambda: torch.mm(dy.t(), cols), m * n * k)]
    if input_grad:
        products.append(("input grad", lambda: torch.mm(dy, w), m * n * k))
    seconds = sum(best_seconds(fn, repeats) for _, fn, _ in products)
    flop = sum(2 * macs for _, _, macs in products)
    return {"layer": name, "flop": flop, "seconds": seconds}


def conv_kernels_row(name, repeats, batch):
    """LibTorch's own kernels (oneDNN, channels-last) for one layer, forward + backward."""
    if name.startswith("conv1"):
        x, conv = torch.randn(batch, 1, 28, 28), torch.nn.Conv2d(1, 20, 5)
    elif name.startswith("conv2"):
        x, conv = torch.randn(batch, 20, 12, 12), torch.nn.Conv2d(20, 50, 5)
    elif name.startswith("fc1"):
        x, conv = torch.randn(batch, 800), torch.nn.Linear(800, 500)
    else:
        x, conv = torch.randn(batch, 500), torch.nn.Linear(500, 10)
    if x.dim() == 4:
        x, conv = x.contiguous(memory_format=torch.channels_last), conv.to(memory_format=torch.channels_last)
    x.requires_grad_(not name.startswith("conv1"))

    def step():
        y = conv(x)
        y.backward(torch.ones_like(y))
    return best_seconds(step, repeats)


def fma_peak(binary):
    out = subprocess.run([binary, "1", "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["gflops_1"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--peak-gflops", type=float)
    ap.add_argument("--fma-peak", default="build/bin/bench_fma_peak")
    a = ap.parse_args()
    torch.set_num_threads(1)
    peak = a.peak_gflops or fma_peak(a.fma_peak)
    rows = [gemm_row(*s, a.repeats) for s in layer_shapes(a.batch)]
    print(f"LeNet-5 training step, batch {a.batch}, one thread; peak {peak:.1f} GFLOP/s (one thread)")
    print()
    print("| layer | GFLOP a step | matrix products (ms) | of peak | LibTorch kernels fwd+bwd (ms) |")
    print("|---|---|---|---|---|")
    total_flop = total_s = total_k = 0.0
    for r in rows:
        k = conv_kernels_row(r["layer"], a.repeats, a.batch)
        total_flop, total_s, total_k = total_flop + r["flop"], total_s + r["seconds"], total_k + k
        print(f"| {r['layer']} | {r['flop'] / 1e9:.3f} | {r['seconds'] * 1e3:.2f} | "
              f"{r['flop'] / r['seconds'] / 1e9 / peak:.0%} | {k * 1e3:.2f} |")
    print(f"| all | {total_flop / 1e9:.3f} | {total_s * 1e3:.2f} | "
          f"{total_flop / total_s / 1e9 / peak:.0%} | {total_k * 1e3:.2f} |")
    print()
    need = total_flop / (0.5 * peak * 1e9)
    print(f"50 % of peak needs the whole step in {need * 1e3:.2f} ms; its matrix products alone take "
          f"{total_s * 1e3:.2f} ms (sgemm), the layers' LibTorch kernels {total_k * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
