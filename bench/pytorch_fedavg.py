#!/usr/bin/python3
"""Plain PyTorch FedAvg loop: the reference the round-overhead benchmark compares against.

What a researcher writes without a framework: clients trained one after another with a
DataLoader over TensorDatasets, state_dicts averaged by sample count, test evaluation every
round. Same config as `xfed simulate`'s default (Fashion-MNIST, LeNet-300-100, 10 iid
clients, 1 local epoch, batch 64, SGD lr 0.05 momentum 0.9), or with `--model lenet5` xfed's
LeNet-5 (conv 5x5 20, pool, conv 5x5 50, pool, fc 500, fc 10) as a user writes it (default
NCHW tensors), or with `--model resnet20` xfed's ResNet-20 (16/32/64 channels, BatchNorm,
1x1 projection shortcuts) on synthetic 3x32x32 data drawn as xfed's `--dataset synthetic`
(class means N(0,1) per pixel plus 8·N(0,1) noise, balanced labels; other values than
xfed's draw, the same shapes and sizes: 6000 train, 1000 test). Prints one JSON line.

Usage: /usr/bin/python3 bench/pytorch_fedavg.py [--rounds R] [--model mlp|lenet5|resnet20] [--threads T]
                                                [--data-dir DIR]
(needs Debian's python3-torch; /usr/bin/python3 is the interpreter that has it).
"""
import argparse, gzip, json, os, struct, time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def load(data_dir, split):
    x = read_idx(os.path.join(data_dir, f"{split}-images-idx3-ubyte.gz")).float().div(255)
    y = read_idx(os.path.join(data_dir, f"{split}-labels-idx1-ubyte.gz")).long()
    return ((x - 0.2860) / 0.3530).reshape(-1, 784), y


def mlp():
    return nn.Sequential(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(),
                         nn.Linear(100, 10))


def lenet5():
    return nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(20, 50, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + self.shortcut(x))


def resnet20():
    layers, cin = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()], 16
    for stage, width in enumerate((16, 32, 64)):
        for b in range(3):
            layers.append(Block(cin, width, 2 if stage > 0 and b == 0 else 1))
            cin = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def synthetic(train, test, classes=10, shape=(3, 32, 32), noise=8.0):
    means = torch.randn(classes, *shape)

    def draw(n):
        y = torch.arange(n).remainder(classes)[torch.randperm(n)]
        return means[y] + noise * torch.randn(n, *shape), y

    return draw(train) + draw(test)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--model", choices=("mlp", "lenet5", "resnet20"), default="mlp")
    ap.add_argument("--threads", type=int, default=1, help="LibTorch intra-op threads (1)")
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args()
    torch.manual_seed(1)
    torch.set_num_threads(args.threads)
    if args.model == "resnet20":
        xtr, ytr, xte, yte = synthetic(6000, 1000)
    else:
        xtr, ytr = load(args.data_dir, "train")
        xte, yte = load(args.data_dir, "t10k")
    parts = torch.randperm(len(ytr)).chunk(args.clients)
    make = {"mlp": mlp, "lenet5": lenet5, "resnet20": resnet20}[args.model]
    model = make()
    times, acc = [], 0.0
    for r in range(args.rounds):
        t0 = time.perf_counter()
        global_state = {k: v.clone() for k, v in model.state_dict().items()}
        new_state = {k: torch.zeros_like(v) for k, v in global_state.items()}
        for idx in parts:
            local = make()
            local.load_state_dict(global_state)
            opt = torch.optim.SGD(local.parameters(), lr=0.05, momentum=0.9)
            local.train()
            loader = DataLoader(TensorDataset(xtr[idx], ytr[idx]), batch_size=64, shuffle=True)
            for xb, yb in loader:
                opt.zero_grad()
                F.cross_entropy(local(xb), yb).backward()
                opt.step()
            for k, v in local.state_dict().items():
                if v.is_floating_point():
                    new_state[k] += v * (len(idx) / len(ytr))
                else:  # BatchNorm's batch count
                    new_state[k] = v.clone()
        model.load_state_dict(new_state)
        model.eval()
        with torch.no_grad():
            acc = (model(xte).argmax(1) == yte).float().mean().item()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"model": args.model, "rounds": args.rounds, "seconds_per_round": sum(times) / len(times),
                      "seconds_per_round_min": min(times), "final_accuracy": acc}))


if __name__ == "__main__":
    main()
