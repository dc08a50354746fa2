#!/usr/bin/python3
"""Training-step time of lathe's compiled step against PyTorch eager, measured
in the same run on the same machine.

For each case a PyTorch model (seeded) is exported to ONNX and described by a
training spec; `lathe train SPEC --bench N` prints the median time of the
compiled step (forward, loss, backward and optimizer update, on one batch,
after 3 warm-up steps), and the same step in PyTorch eager (float32,
zero_grad + forward + loss + backward + optimizer.step) is timed the same way
with PyTorch (and its OpenBLAS, bench/torch_threads.py) on T threads for
each T, lathe with `--threads T`. The ratio is lathe / PyTorch (below 1:
lathe is faster).

Usage: bench/train_step.py [--lathe build/bin/lathe] [--steps 50]
                           [--threads 1,2] [--cases mlp784_momentum,...]
                           [--rounds R] [--keep DIR]
With --rounds R each case is timed R times (lathe, then PyTorch, back to
back) and the table gives the medians; the ratio is the median of the
rounds' ratios. Each round's times go to stderr.
Prints a Markdown table (docs/performance.md, Training).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import CifarCNN as CifarBNCNN  # noqa: E402
from torch_threads import set_threads  # noqa: E402


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))

    def forward(self, x):
        x = x.flatten(1)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i + 1 < len(self.layers):
                x = torch.relu(x)
        return x


class CifarCNN(nn.Module):
    """test/models/export_models.py's CIFAR-style CNN, without BatchNorm."""

    def __init__(self, batchnorm=False):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8) if batchnorm else nn.Identity()
        self.bn2 = nn.BatchNorm2d(16) if batchnorm else nn.Identity()
        self.fc = nn.Linear(16 * 8 * 8, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        x = F.max_pool2d(x, 2)
        return self.fc(torch.flatten(x, 1))


OPTIMIZERS = {
    "momentum": ("kind: momentum lr: 0.01 momentum: 0.9",
                 lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9)),
    "adam": ("kind: adam lr: 0.001",
             lambda p: torch.optim.Adam(p, lr=0.001)),
}

# name -> (model factory, input shape per sample, batch, optimizer)
CASES = {
    "mlp784_momentum": (lambda: MLP([784, 512, 512, 10]), (784,), 64, "momentum"),
    "mlp784_adam": (lambda: MLP([784, 512, 512, 10]), (784,), 64, "adam"),
    "cnn_momentum": (lambda: CifarCNN(), (3, 16, 16), 64, "momentum"),
    # The CIFAR-style CNN of the table (bench/models.py: 6 conv layers
    # with BatchNorm in training mode, 4.9 GFLOP forward at batch 64).
    "cifar_bn_momentum": (lambda: CifarBNCNN(), (3, 32, 32), 64, "momentum"),
    "tiny_momentum": (lambda: MLP([32, 64, 10]), (32,), 8, "momentum"),
}


def torch_step_ms(model, x, y, make_opt, steps, threads):
    set_threads(threads)
    opt = make_opt(model.parameters())
    times = []
    for i in range(steps + 3):
        start = time.perf_counter()
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if i >= 3:
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def write_spec(work, name, model, x, y, opt_text):
    onnx_path = os.path.join(work, name + ".onnx")
    # Exported from eval mode with TrainingMode.PRESERVE: BatchNormalization
    # stays a node (PyTorch 1.13 folds it into the Conv otherwise, leaving
    # lathe a model without it while PyTorch trains with it), and lathe
    # trains it with batch statistics, as PyTorch in train mode does.
    model.eval()
    torch.onnx.export(model, x, onnx_path, input_names=["x"], output_names=["logits"],
                      opset_version=13, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE)
    model.train()
    np.savez(os.path.join(work, name + ".npz"), x=x.numpy(), y=y.numpy())
    spec = os.path.join(work, name + ".pbtxt")
    with open(spec, "w") as f:
        f.write('model { path: "%s.onnx" }\nloss { kind: softmax_cross_entropy }\n'
                "optimizer { %s }\ndata { train: \"%s.npz\" }\nbatch_size: %d\n"
                "epochs: 1\n" % (name, opt_text, name, x.shape[0]))
    return spec


def lathe_step_ms(lathe, spec, name, steps, threads):
    p = subprocess.run([lathe, "train", spec, "--bench", str(steps),
                        "--threads", str(threads)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{name}: lathe train --bench failed:\n{p.stdout}{p.stderr}")
    m = re.search(r"median ([0-9.]+) ms.*compile ([0-9.]+) s", p.stdout)
    return float(m.group(1)), float(m.group(2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lathe", default="build/bin/lathe")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--rounds", type=int, default=1,
                    help="time each case this many times (lathe, then "
                         "PyTorch) and report medians")
    ap.add_argument("--keep", metavar="DIR",
                    help="write the models, data and specs to DIR and keep them "
                         "(for lathe train SPEC --bench N --profile)")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    header = "| case | batch | compile s | " + " | ".join(
        f"lathe {t}T ms | PyTorch {t}T ms | ratio {t}T" for t in threads) + " |"
    print(header)
    print("|" + "---|" * (3 + 3 * len(threads)))
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or tmp
        for name in args.cases.split(","):
            make, shape, batch, opt = CASES[name]
            torch.manual_seed(0)
            model = make()
            x = torch.randn(batch, *shape)
            y = torch.randint(0, 10, (batch,))
            spec = write_spec(work, name, model, x, y, OPTIMIZERS[opt][0])
            cells = []
            for t in threads:
                # Each round times lathe and then PyTorch back to back; the
                # ratio is the median of the rounds' ratios, so a slow
                # stretch of a shared machine hits both sides of a ratio.
                mss, refs, ratios = [], [], []
                for _ in range(args.rounds):
                    ms, compile_s = lathe_step_ms(args.lathe, spec, name,
                                                  args.steps, t)
                    ref = torch_step_ms(model, x, y, OPTIMIZERS[opt][1],
                                        args.steps, t)
                    mss.append(ms)
                    refs.append(ref)
                    ratios.append(ms / ref)
                    print(f"{name} {t}T round {len(ratios)}: lathe {ms:.3f} ms, "
                          f"PyTorch {ref:.3f} ms, {ms / ref:.2f}x",
                          file=sys.stderr, flush=True)
                ms, ref = statistics.median(mss), statistics.median(refs)
                ratio = statistics.median(ratios)
                cells += [f"{ms:.3f}", f"{ref:.3f}", f"{ratio:.2f}x"]
            print(f"| {name} | {batch} | {compile_s:.1f} | " +
                  " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
