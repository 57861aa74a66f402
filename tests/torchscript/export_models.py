# Writes the TorchScript archives of tests/torchscript_test.cc into the folder given as the
# first argument, with Debian's python3-torch (the same 1.13 as LibTorch). Inputs: 1x28x28,
# 10 classes (the tests' synthetic data).
import os
import sys

import torch
import torch.nn as nn

out = sys.argv[1]
torch.manual_seed(0)


def save(module, name):
    torch.jit.script(module).save(os.path.join(out, name))


class Mlp(nn.Module):  # a module of named submodules, called in order
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


class WrongShape(nn.Module):  # [batch, 5] where 10 classes are expected
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 5)

    def forward(self, x):
        return self.fc(x.flatten(1))


save(Mlp(), "mlp.pt")
save(nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                   nn.Dropout(0.1), nn.Linear(4 * 13 * 13, 10)), "bn_cnn.pt")
save(WrongShape(), "wrong_shape.pt")
save(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 26 * 26, 10)), "three_channels.pt")
class Residual(nn.Module):  # a skip connection: not a chain, so not prunable
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 64)
        self.fc2 = nn.Linear(64, 64)
        self.out = nn.Linear(64, 10)

    def forward(self, x):
        h = torch.relu(self.fc1(x.flatten(1)))
        return self.out(h + torch.relu(self.fc2(h)))


save(nn.Sequential(nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                   nn.Dropout(0.1), nn.Linear(8 * 13 * 13, 32), nn.ReLU(), nn.Linear(32, 10)), "wide_cnn.pt")
save(Residual(), "residual.pt")


class ViewCnn(nn.Module):  # a .view() of its pooled maps: right on NCHW kernels only
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 13 * 13, 10)

    def forward(self, x):
        h = torch.max_pool2d(torch.relu(self.conv(x)), 2)
        return self.fc(h.view(h.size(0), -1))


save(ViewCnn(), "view_cnn.pt")
nan = Mlp()
with torch.no_grad():
    nan.fc2.bias[3] = float("nan")
save(nan, "nan_weights.pt")
