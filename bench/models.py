"""The reference workloads of the CPU performance issue (issue 6), as PyTorch
modules with seeded random weights, exported once to ONNX into a cache.

Each workload is a Workload: a model factory, the input shape, the FLOPs of one
run (multiply-adds x 2 of the convolutions, linear layers and LSTM cells,
counted from the module tree, so GFLOP/s is comparable across engines), and
the issue's goal for it. bench/run_all.py times them.
"""
import os
import sys
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn as nn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The test models' definitions are the benchmark's too (one definition of the
# benchmark MLP and LeNet, and one BatchNorm calibration).
sys.path.insert(0, os.path.join(REPO, "test", "models"))
from export_models import LeNet, MLP784, calibrate_batchnorm  # noqa: E402

OPSET = 13
# Bump when a definition or the export changes: the cache lives in a folder
# named after it, so stale models are never timed.
EXPORT_VERSION = "v1"


class MatMul(nn.Module):
    """SGEMM C = A B with both operands inputs (nothing packed ahead of time)."""

    def forward(self, a, b):
        return torch.matmul(a, b)


class CifarCNN(nn.Module):
    """VGG-style CIFAR CNN: [Conv3x3-BatchNorm-ReLU] x 2 then MaxPool at 32, 64
    and 128 channels on 3x32x32, then Linear 2048 -> 10. 77 MFLOP per image,
    4.9 GFLOP at batch 64 (what ONNX Runtime's 43.7 ms at ~113 GFLOP/s in the
    issue's table implies)."""

    def __init__(self):
        super().__init__()
        layers, cin = [], 3
        for cout in (32, 64, 128):
            for _ in range(2):
                layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout),
                           nn.ReLU()]
                cin = cout
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(128 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


class LSTMModel(nn.Module):
    """One LSTM layer, 64 -> 128, sequence-first; returns the hidden sequence."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(64, 128)

    def forward(self, x):
        return self.lstm(x)[0]


def _torchvision(name):
    def make():
        import torchvision
        model = getattr(torchvision.models, name)()
        # torchvision's initialisation leaves MobileNetV2's activations ~1e-9
        # (denormals would time something else): calibrated as for the tests.
        calibrate_batchnorm(model, torch.Generator().manual_seed(6), (4, 3, 224, 224))
        return model
    return make


def _cifar():
    model = CifarCNN()
    calibrate_batchnorm(model, torch.Generator().manual_seed(6), (8, 3, 32, 32))
    return model


@dataclass
class Workload:
    name: str
    label: str              # the row
    make: Callable[[], nn.Module]
    shapes: list            # one shape per input
    goal: str               # "ort<=X", "blas>=1", as in the table
    batchnorm: bool = False  # export with BatchNormalization kept in the graph
    input_names: list = field(default_factory=lambda: ["x"])

    def goal_text(self):
        kind, value = self.goal.split(":")
        if kind == "blas":
            return "≥ OpenBLAS"
        return f"≤ {float(value):.1f}x ORT"

    def goal_ratio(self):
        return float(self.goal.split(":")[1])


WORKLOADS = [
    Workload("sgemm256", "SGEMM 256³", MatMul, [(256, 256), (256, 256)], "blas:1",
             input_names=["a", "b"]),
    Workload("sgemm1024", "SGEMM 1024³", MatMul, [(1024, 1024), (1024, 1024)], "blas:1",
             input_names=["a", "b"]),
    Workload("sgemm2048", "SGEMM 2048³", MatMul, [(2048, 2048), (2048, 2048)], "blas:1",
             input_names=["a", "b"]),
    Workload("mlp_b1", "MLP 784-512-512-10, batch 1", MLP784, [(1, 784)], "ort:1.0"),
    Workload("mlp_b64", "MLP 784-512-512-10, batch 64", MLP784, [(64, 784)], "ort:1.0"),
    Workload("lenet_b1", "LeNet-style CNN, batch 1", LeNet, [(1, 1, 28, 28)], "ort:0.8"),
    Workload("lenet_b64", "LeNet-style CNN, batch 64", LeNet, [(64, 1, 28, 28)], "ort:0.8"),
    Workload("cifar_bn_b64", "CIFAR-style CNN with BatchNorm, batch 64", _cifar,
             [(64, 3, 32, 32)], "ort:1.0", batchnorm=True),
    Workload("resnet18", "ResNet-18, batch 1, 224²", _torchvision("resnet18"),
             [(1, 3, 224, 224)], "ort:1.0", batchnorm=True),
    Workload("mobilenet_v2", "MobileNetV2, batch 1, 224²", _torchvision("mobilenet_v2"),
             [(1, 3, 224, 224)], "ort:1.0", batchnorm=True),
    Workload("lstm", "LSTM 64→128, 32 steps, batch 16", LSTMModel, [(32, 16, 64)],
             "ort:1.0"),
]
BY_NAME = {w.name: w for w in WORKLOADS}


def count_flops(model, inputs):
    """Multiply-adds x 2 of Conv2d, Linear and LSTM (the rest is negligible in
    these models), from forward hooks on one eager run."""
    total = [0]

    def conv(m, args, out):
        total[0] += 2 * out.numel() * (m.in_channels // m.groups) * \
            m.kernel_size[0] * m.kernel_size[1]

    def linear(m, args, out):
        total[0] += 2 * out.numel() * m.in_features

    def lstm(m, args, out):
        seq, batch = args[0].shape[0], args[0].shape[1]
        total[0] += 2 * seq * batch * 4 * m.hidden_size * (m.input_size + m.hidden_size)

    hooks = []
    for m in model.modules():
        fn = {nn.Conv2d: conv, nn.Linear: linear, nn.LSTM: lstm}.get(type(m))
        if fn:
            hooks.append(m.register_forward_hook(fn))
    with torch.no_grad():
        model(*inputs)
    for h in hooks:
        h.remove()
    if isinstance(model, MatMul):
        a, b = inputs
        total[0] = 2 * a.shape[0] * a.shape[1] * b.shape[1]
    return total[0]


def build(workload, cache_dir):
    """The seeded model in eval mode, its example inputs, and the path of its
    ONNX export in `cache_dir` (written when missing, atomically)."""
    torch.manual_seed(0)
    model = workload.make().eval()
    gen = torch.Generator().manual_seed(1)
    inputs = [torch.rand(*s, generator=gen) * 2 - 1 for s in workload.shapes]
    folder = os.path.join(cache_dir, EXPORT_VERSION)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, workload.name + ".onnx")
    if not os.path.exists(path):
        tmp = path + ".tmp.onnx"
        kw = {}
        if workload.batchnorm:
            # As in test/models: BatchNormalization stays in the graph (PyTorch
            # 1.13 folds it into the Conv otherwise), so each engine folds it.
            kw = dict(training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False)
        with torch.no_grad():
            torch.onnx.export(model, tuple(inputs), tmp, opset_version=OPSET,
                              input_names=workload.input_names, output_names=["y"],
                              **kw)
        os.replace(tmp, path)
    return model, inputs, path
