#!/usr/bin/python3
"""Exports the end-to-end test models from PyTorch, with PyTorch's own outputs.

Usage: export_models.py OUTDIR

For each model NAME it writes
  OUTDIR/NAME.onnx          the model (opset 13)
  OUTDIR/NAME.input.npy     its one input, float32
  OUTDIR/NAME.expected.npz  PyTorch's outputs, keyed by ONNX output name (np.savez)
  OUTDIR/NAME.torch.json    PyTorch's element counts: "parameters" (learnable) and
                            "buffers" (BatchNorm running statistics; the batch counter
                            is left out, it is not exported), for check_inspect.py

Models (fixed seeds, so every run writes the same numbers):
  mlp          Gemm-Relu-Gemm, 784 -> 128 -> 10, input "x" 4x784, output "logits" 4x10
  mlp_dynamic  the same weights with a symbolic batch dim "N"; input 3x784 (run it with
               --shape x=3x784), output "logits" 3x10
  cnn          [Conv-BatchNorm-Relu]x2 - MaxPool - Flatten - Gemm - Softmax, input
               "image" 2x3x16x16, output "probs" 2x10. Exported in eval mode with
               TrainingMode.PRESERVE and no constant folding, so the BatchNormalization
               nodes stay in the graph (inference form, non-trivial running statistics).
  mlp_784      Gemm-Relu-Gemm-Relu-Gemm, 784 -> 512 -> 512 -> 10 (the benchmark MLP), symbolic
               batch "N"; input "x" 8x784 (run it with --shape x=8x784), output "logits"
  lenet        LeNet-style CNN: Conv5-Relu-MaxPool-Conv5-Relu-MaxPool-Flatten-
               Gemm-Relu-Gemm-Relu-Gemm, input "image" 1x1x28x28, output "logits" 1x10
  resnet18     torchvision.models.resnet18() with random weights, input "image"
               1x3x224x224, output "logits" 1x1000
  mobilenet_v2 torchvision.models.mobilenet_v2() with random weights, input "image"
               1x3x224x224, output "logits" 1x1000
  resnet18 and mobilenet_v2 are exported in eval mode with TrainingMode.PRESERVE and no
  constant folding, so BatchNormalization stays in the graph (PyTorch 1.13 folds it into
  the Conv with TrainingMode.EVAL even without constant folding); the classifier's
  Dropout is not exported either way. Their BatchNorm running
  statistics are calibrated on one random batch and their affine parameters perturbed,
  so that activations keep a realistic scale (with torchvision's initialisation
  MobileNetV2's outputs are ~1e-9, which no tolerance could check) and folding has
  non-trivial numbers to fold.
  bn_fold      every BatchNormalization the folding pass handles, kept in the graph as
               for cnn: after Conv without bias, a depthwise Conv, a grouped
               ConvTranspose, a Relu (a lone BN), Gemm and a 2-D MatMul; input "x"
               2x3x8x8, output "y" 2x5
  recurrent    bidirectional LSTM 16 -> 24, GRU 48 -> 20 (linear_before_reset), Linear
               20 -> 6, their weights constants: input "x" 7x5x16 (seq, batch, features),
               output "y" 7x5x6

Every graph is checked with onnx.checker and may use only the operators the compiler
supports (ALLOWED_OPS); the script fails otherwise.
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn

OPSET = 13
ALLOWED_OPS = {
    "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Sigmoid", "Tanh",
    "Elu", "Softmax", "LogSoftmax", "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool",
    "BatchNormalization", "Flatten", "Reshape", "Transpose", "Concat", "Identity",
    "Dropout", "Constant", "Clip", "LSTM", "GRU", "Shape", "Gather", "Unsqueeze",
    "Squeeze", "Expand", "ConstantOfShape", "Slice", "Cast",
}


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 8 * 8, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        x = self.pool(x)
        x = torch.flatten(x, 1)  # exports as Flatten, not Shape/Gather/Reshape
        return torch.softmax(self.fc(x), dim=1)


class BNFold(nn.Module):
    """One BatchNormalization after each kind of layer the folding pass handles."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.bn2 = nn.BatchNorm2d(8)
        self.up = nn.ConvTranspose2d(8, 6, 2, stride=2, groups=2)
        self.bn3 = nn.BatchNorm2d(6)
        self.bn4 = nn.BatchNorm2d(6)
        self.fc = nn.Linear(6 * 4 * 4, 12)
        self.bn5 = nn.BatchNorm1d(12)
        self.w = nn.Parameter(torch.randn(12, 5))
        self.bn6 = nn.BatchNorm1d(5)

    def batchnorms(self):
        return [self.bn1, self.bn2, self.bn3, self.bn4, self.bn5, self.bn6]

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv(x)))
        x = torch.relu(self.bn2(self.dw(x)))
        x = torch.nn.functional.max_pool2d(x, 4)
        x = self.bn4(torch.relu(self.bn3(self.up(x))))  # bn4 follows a Relu: lone
        x = torch.relu(self.bn5(self.fc(torch.flatten(x, 1))))  # Gemm
        return self.bn6(torch.matmul(x, self.w))  # MatMul [2, 12] x [12, 5]


class MLP784(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 512)
        self.fc3 = nn.Linear(512, 10)

    def forward(self, x):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(16, 24, bidirectional=True)
        self.gru = nn.GRU(48, 20)
        self.fc = nn.Linear(20, 6)

    def forward(self, x):
        h, _ = self.lstm(x)
        g, _ = self.gru(h)
        return self.fc(g)


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


def calibrate_batchnorm(model, gen, shape):
    """Running statistics from one random batch (cumulative average), gamma/beta
    perturbed around 1/0."""
    for bn in model.modules():
        if isinstance(bn, nn.BatchNorm2d):
            bn.momentum = None
            bn.reset_running_stats()
            c = bn.num_features
            with torch.no_grad():
                bn.weight.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
                bn.bias.copy_(torch.randn(c, generator=gen) * 0.1)
    model.train()
    with torch.no_grad():
        model(torch.randn(*shape, generator=gen))
    model.eval()


def randomize_batchnorm(bn, gen):
    """Non-trivial affine parameters and running statistics (not 0/1 defaults)."""
    c = bn.num_features
    with torch.no_grad():
        bn.weight.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
        bn.bias.copy_(torch.randn(c, generator=gen) * 0.5)
        bn.running_mean.copy_(torch.randn(c, generator=gen) * 0.5)
        bn.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)


def export(model, name, x, outdir, input_name, output_name, dynamic_axes=None, **kw):
    model.eval()
    path = os.path.join(outdir, name + ".onnx")
    with torch.no_grad():
        torch.onnx.export(model, torch.from_numpy(x), path, opset_version=OPSET,
                          input_names=[input_name], output_names=[output_name],
                          dynamic_axes=dynamic_axes, **kw)
        y = model(torch.from_numpy(x)).numpy()

    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops = [n.op_type for n in m.graph.node]
    bad = sorted(set(ops) - ALLOWED_OPS)
    if bad:
        raise SystemExit(f"{name}: exported graph has unsupported ops: {bad}")
    graph_inputs = [i.name for i in m.graph.input]
    graph_outputs = [o.name for o in m.graph.output]
    if graph_inputs != [input_name] or graph_outputs != [output_name]:
        raise SystemExit(f"{name}: unexpected graph inputs {graph_inputs} / "
                         f"outputs {graph_outputs}")

    np.save(os.path.join(outdir, name + ".input.npy"), x)
    np.savez(os.path.join(outdir, name + ".expected.npz"), **{output_name: y})
    counts = {
        "parameters": sum(p.numel() for p in model.parameters()),
        "buffers": sum(b.numel() for n, b in model.named_buffers()
                       if not n.endswith("num_batches_tracked")),
    }
    with open(os.path.join(outdir, name + ".torch.json"), "w") as f:
        json.dump(counts, f)
    print(f"{name}: {input_name} {x.shape} -> {output_name} {y.shape}; ops: {' '.join(ops)}")
    return ops


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_models.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(1)
    rng = np.random.default_rng(1234)

    # (a) MLP, static batch 4, and the same weights with a symbolic batch dim.
    torch.manual_seed(0)
    mlp = MLP()
    x = rng.standard_normal((4, 784), dtype=np.float32)
    export(mlp, "mlp", x, outdir, "x", "logits")
    x = rng.standard_normal((3, 784), dtype=np.float32)
    export(mlp, "mlp_dynamic", x, outdir, "x", "logits",
           dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}})
    dims = onnx.load(os.path.join(outdir, "mlp_dynamic.onnx")).graph.input[0] \
        .type.tensor_type.shape.dim
    if dims[0].dim_param != "N":
        raise SystemExit("mlp_dynamic: batch dim is not symbolic")

    # (b) CNN with BatchNormalization kept in the graph.
    torch.manual_seed(1)
    cnn = CNN()
    gen = torch.Generator().manual_seed(2)
    randomize_batchnorm(cnn.bn1, gen)
    randomize_batchnorm(cnn.bn2, gen)
    x = rng.standard_normal((2, 3, 16, 16), dtype=np.float32)
    ops = export(cnn, "cnn", x, outdir, "image", "probs",
                 training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    if ops.count("BatchNormalization") != 2:
        raise SystemExit("cnn: expected 2 BatchNormalization nodes in the graph")

    # (c) The benchmark MLP, symbolic batch.
    torch.manual_seed(3)
    mlp784 = MLP784()
    x = rng.standard_normal((8, 784), dtype=np.float32)
    export(mlp784, "mlp_784", x, outdir, "x", "logits",
           dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}})

    # (d) LeNet-style CNN on MNIST-sized input.
    torch.manual_seed(4)
    x = rng.standard_normal((1, 1, 28, 28), dtype=np.float32)
    export(LeNet(), "lenet", x, outdir, "image", "logits")

    # (e) torchvision ResNet-18 and MobileNetV2, BatchNorm kept.
    import torchvision  # only here: the small models need no torchvision
    for name, make, count in (("resnet18", torchvision.models.resnet18, 20),
                              ("mobilenet_v2", torchvision.models.mobilenet_v2, 52)):
        torch.manual_seed(5)
        model = make()
        calibrate_batchnorm(model, torch.Generator().manual_seed(6), (4, 3, 224, 224))
        x = rng.standard_normal((1, 3, 224, 224), dtype=np.float32)
        ops = export(model, name, x, outdir, "image", "logits",
                     training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
        if ops.count("BatchNormalization") != count:
            raise SystemExit(f"{name}: expected {count} BatchNormalization nodes in the "
                             f"graph, got {ops.count('BatchNormalization')}")

    # (f) BatchNormalization after every layer kind the folding pass handles.
    torch.manual_seed(11)
    bnf = BNFold()
    gen = torch.Generator().manual_seed(12)
    for bn in bnf.batchnorms():
        randomize_batchnorm(bn, gen)
    x = rng.standard_normal((2, 3, 8, 8), dtype=np.float32)
    ops = export(bnf, "bn_fold", x, outdir, "x", "y",
                 training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    if ops.count("BatchNormalization") != 6:
        raise SystemExit("bn_fold: expected 6 BatchNormalization nodes in the graph")

    # (g) Recurrent layers with constant weights (lathe-transpose-weights
    # stores W and R along the output's columns).
    torch.manual_seed(13)
    x = rng.standard_normal((7, 5, 16), dtype=np.float32)
    ops = export(Recurrent(), "recurrent", x, outdir, "x", "y")
    if "LSTM" not in ops or "GRU" not in ops:
        raise SystemExit("recurrent: expected LSTM and GRU nodes in the graph")


if __name__ == "__main__":
    main()
