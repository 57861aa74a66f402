# The two classic LeNets written as a PyTorch user writes them, for
# `launch/export_model.py examples/pytorch/lenet.py:LeNet5 --input-shape 1x28x28 --out lenet5.pt`.
# They compute what xfed's built-in `mlp` (300, 100) and `lenet5` (20, 50, 500) compute, so
# bench/torchscript_models.sh can put a scripted model beside its built-in twin.
import torch
import torch.nn as nn


class LeNet300100(nn.Module):
    """LeNet-300-100: 784 -> 300 -> 100 -> classes, ReLU between."""

    def __init__(self, in_features: int = 784, classes: int = 10):
        super().__init__()
        self.fc1 = nn.Linear(in_features, 300)
        self.fc2 = nn.Linear(300, 100)
        self.fc3 = nn.Linear(100, classes)

    def forward(self, x):
        h = torch.relu(self.fc1(x.flatten(1)))
        h = torch.relu(self.fc2(h))
        return self.fc3(h)


class LeNet5(nn.Module):
    """Caffe's LeNet-5: conv 5x5 (20) -> pool -> conv 5x5 (50) -> pool -> fc 500 -> classes."""

    def __init__(self, in_channels: int = 1, side: int = 28, classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        pooled = ((side - 4) // 2 - 4) // 2
        self.fc1 = nn.Linear(50 * pooled * pooled, 500)
        self.fc2 = nn.Linear(500, classes)

    def forward(self, x):
        h = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        h = torch.max_pool2d(torch.relu(self.conv2(h)), 2).flatten(1)
        return self.fc2(torch.relu(self.fc1(h)))
