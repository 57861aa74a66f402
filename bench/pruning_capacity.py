#!/usr/bin/python3
"""What a 10 %-of-params MLP can reach at all: the ceiling of the mlp pruning target.

Centralized plain PyTorch, Fashion-MNIST, 40 epochs of SGD (batch 64, lr 0.05, momentum
0.9, lr x 0.97 per epoch: xfed's client recipe, one epoch standing in for one round).
Trains the full 784-300-100 model, then small models of ~10 % of its params from scratch:
  784-32-16 and 784-33   every pixel, narrow hidden layers
  P-71-25 and P-75       the pixels a pruned xfed model kept (--kept MODEL.json, written
                         by `xfed simulate --prune ... --save-model MODEL`)
and P-71-25 once more, distilled from the full model (T = 2, alpha = 0.5).
Prints a markdown table.

Usage: /usr/bin/python3 bench/pruning_capacity.py [--kept MODEL.json] [--epochs N]
(needs Debian's python3-torch; ~4 min here)
"""
import argparse, json, os, sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_fedavg import load  # noqa: E402  (same data and normalization)


def mlp(widths):
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def train(model, x, y, epochs, teacher=None, teacher_x=None, temperature=2.0, alpha=0.5):
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for _ in range(epochs):
        perm = torch.randperm(len(y))
        for i in range(0, len(y), 64):
            j = perm[i:i + 64]
            out = model(x[j])
            loss = F.cross_entropy(out, y[j])
            if teacher is not None:
                with torch.no_grad():
                    soft = F.softmax(teacher(teacher_x[j]) / temperature, 1)
                kd = F.kl_div(F.log_softmax(out / temperature, 1), soft, reduction="batchmean")
                loss = (1 - alpha) * loss + alpha * temperature ** 2 * kd
            opt.zero_grad()
            loss.backward()
            opt.step()
        for g in opt.param_groups:
            g["lr"] *= 0.97
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kept", help="MODEL.json of a pruned xfed mlp: its kept input pixels")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args()
    torch.set_num_threads(1)
    xtr, ytr = load(args.data_dir, "train")
    xte, yte = load(args.data_dir, "t10k")
    pixels = None
    if args.kept:
        with open(args.kept) as f:
            pixels = torch.tensor(json.load(f)["spec"]["input_kept"], dtype=torch.long)
        if len(pixels) == 0:
            sys.exit(f"{args.kept}: the model kept every pixel; pass a model pruned with input=1")

    def run(widths, teacher=None):
        torch.manual_seed(1)
        x, xt = (xtr, xte) if widths[0] == 784 else (xtr[:, pixels], xte[:, pixels])
        model = train(mlp(widths + [10]), x, ytr, args.epochs, teacher, xtr)
        params = sum(p.numel() for p in model.parameters())
        return model, params, accuracy(model, xt, yte)

    print(f"| model | params | test accuracy after {args.epochs} epochs |")
    print("|---|---|---|")
    full, p0, a0 = run([784, 300, 100])
    print(f"| 784-300-100 | {p0} (100 %) | {100 * a0:.2f} % |", flush=True)
    shapes = [[784, 32, 16], [784, 33]]
    if pixels is not None:
        shapes += [[len(pixels), 71, 25], [len(pixels), 75]]
    for w in shapes:
        _, p, a = run(w)
        print(f"| {'-'.join(map(str, w))} | {p} ({100 * p / p0:.1f} %) | {100 * a:.2f} % |", flush=True)
    if pixels is not None:
        w = [len(pixels), 71, 25]
        _, p, a = run(w, teacher=full)
        print(f"| {'-'.join(map(str, w))}, distilled from 784-300-100 | {p} ({100 * p / p0:.1f} %) | "
              f"{100 * a:.2f} % |", flush=True)


if __name__ == "__main__":
    main()
