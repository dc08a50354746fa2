#!/usr/bin/python3
"""Builds the shipped example: a small CNN digit classifier on 1x1x8x8 images.

Writes, next to this script:
  digits_cnn.onnx  the model (input "image" 1x1x8x8 float32, output "probs" 1x10)
  digit.npy        one 1x1x8x8 float32 input

When the 8x8 handwritten digits of the UCI "Optical Recognition of Handwritten Digits"
data set are available (scikit-learn ships them as digits.csv.gz; Debian's
python3-sklearn installs it under /usr/lib/python3/dist-packages/sklearn/...), the
model is trained on them for a few seconds on the CPU and digit.npy is a held-out digit.
Otherwise the weights stay at their (seeded) random initial values and digit.npy is a
deterministic synthetic "0".

Usage: make_example.py [--digits PATH/TO/digits.csv.gz] [--outdir DIR]
"""
import argparse
import gzip
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn

SEED = 0
DEFAULT_DIGITS = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"
ALLOWED_OPS = {
    "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Sigmoid", "Tanh",
    "Elu", "Softmax", "LogSoftmax", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool",
    "BatchNormalization", "Flatten", "Reshape", "Transpose", "Concat", "Identity",
    "Dropout", "Constant",
}


class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)  # exports as GlobalAveragePool
        self.fc = nn.Linear(16, 10)

    def logits(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = torch.relu(self.conv2(x))
        x = torch.flatten(self.gap(x), 1)  # exports as Flatten (no Shape/Gather)
        return self.fc(x)

    def forward(self, x):
        return torch.softmax(self.logits(x), dim=1)


def load_digits(path):
    """Returns (images N x 1 x 8 x 8 float32 in [0, 1], labels N int64), or None."""
    if not path or not os.path.exists(path):
        return None
    with gzip.open(path, "rt") as f:
        data = np.loadtxt(f, delimiter=",", dtype=np.float32)
    images = (data[:, :64] / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
    labels = data[:, 64].astype(np.int64)
    return images, labels


def synthetic_zero():
    """A deterministic 8x8 ring (a "0"), values in [0, 1]."""
    yy, xx = np.mgrid[0:8, 0:8].astype(np.float32)
    r = np.sqrt(((yy - 3.5) / 3.2) ** 2 + ((xx - 3.5) / 2.4) ** 2)
    img = np.clip(1.0 - np.abs(r - 1.0) * 2.5, 0.0, 1.0)
    return img.reshape(1, 1, 8, 8).astype(np.float32)


def train(model, images, labels, held_out):
    """Minibatch Adam on all digits but the held-out one and a validation split."""
    idx = np.setdiff1d(np.arange(len(labels)), [held_out])
    n_val = 297
    val_idx, train_idx = idx[-n_val:], idx[:-n_val]
    x = torch.from_numpy(images)
    y = torch.from_numpy(labels)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(SEED)
    model.train()
    for epoch in range(40):
        perm = torch.from_numpy(train_idx)[torch.randperm(len(train_idx), generator=gen)]
        for b in range(0, len(perm), 64):
            batch = perm[b:b + 64]
            loss = nn.functional.cross_entropy(model.logits(x[batch]), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        pred = model.logits(x[torch.from_numpy(val_idx)]).argmax(1)
    acc = (pred == y[torch.from_numpy(val_idx)]).float().mean().item()
    print(f"trained on {len(train_idx)} digits, validation accuracy "
          f"{acc * 100:.1f}% on {n_val}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--digits", default=DEFAULT_DIGITS,
                    help="path to scikit-learn's digits.csv.gz (default: %(default)s)")
    ap.add_argument("--outdir", default=here)
    args = ap.parse_args()

    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    model = DigitsCNN()
    digits = load_digits(args.digits)
    if digits is not None:
        images, labels = digits
        held_out = len(labels) - 1  # the last digit of the set, never trained on
        train(model, images, labels, held_out)
        x = images[held_out:held_out + 1]
        print(f"input: digit #{held_out} of {args.digits}, label {labels[held_out]}")
    else:
        print(f"no digits data at {args.digits}: random weights, synthetic input")
        x = synthetic_zero()
    model.eval()

    os.makedirs(args.outdir, exist_ok=True)
    onnx_path = os.path.join(args.outdir, "digits_cnn.onnx")
    npy_path = os.path.join(args.outdir, "digit.npy")
    torch.onnx.export(model, torch.from_numpy(x), onnx_path, opset_version=13,
                      input_names=["image"], output_names=["probs"],
                      do_constant_folding=True)
    np.save(npy_path, x)

    m = onnx.load(onnx_path)
    onnx.checker.check_model(m, full_check=True)
    ops = [n.op_type for n in m.graph.node]
    bad = sorted(set(ops) - ALLOWED_OPS)
    if bad:
        sys.exit(f"error: exported graph has unsupported ops: {bad}")
    with torch.no_grad():
        probs = model(torch.from_numpy(x)).numpy()
    print(f"ops: {' '.join(ops)}")
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes), "
          f"{npy_path} ({os.path.getsize(npy_path)} bytes)")
    print(f"PyTorch: probs argmax {probs.argmax()} (p={probs.max():.4f})")


if __name__ == "__main__":
    main()
