#!/usr/bin/python3
"""Compares `lathe run --grad` with torch.autograd on a small PyTorch MLP.

Usage: check_gradients.py LATHE OUTDIR

The model takes its weights as graph inputs (so that they can be differentiated
with --wrt) and returns one scalar:

  h      = relu(x @ w1.T + b1)            (Gemm, Relu)
  g      = sigmoid(h @ w2.T + b2)         (Gemm, Sigmoid)
  logits = g @ w3 + b3                    (MatMul, Add with broadcasting)
  score  = sum(log_softmax(logits) * t)   (LogSoftmax, Mul, ReduceSum)

x 5x8, w1 16x8, b1 16, w2 12x16, b2 12, w3 12x3, b3 3, t 5x3 (t is a fixed
weighting of the log-probabilities, a soft-label cross-entropy without the sign).
It is exported with torch.onnx.export (opset 13), run by
`lathe run model.onnx --input ... --grad score --wrt x,w1,b1,w2,b2,w3,b3
--output OUT.npz`, and the score and every grad_<input> compared with PyTorch's
score and .grad (float32; |lathe - torch| <= 1e-5 + 1e-4 |torch|).
Exit code 0 when everything matches, 1 otherwise.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F


class Mlp(torch.nn.Module):
    def forward(self, x, w1, b1, w2, b2, w3, b3, t):
        h = F.relu(F.linear(x, w1, b1))
        g = torch.sigmoid(F.linear(h, w2, b2))
        logits = g @ w3 + b3
        return (F.log_softmax(logits, dim=1) * t).sum()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    lathe, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(0)
    shapes = {"x": (5, 8), "w1": (16, 8), "b1": (16,), "w2": (12, 16),
              "b2": (12,), "w3": (12, 3), "b3": (3,), "t": (5, 3)}
    inputs = {name: torch.randn(*shape) for name, shape in shapes.items()}
    inputs["t"] = torch.rand(5, 3)
    names = list(shapes)
    wrt = [n for n in names if n != "t"]

    model_path = os.path.join(outdir, "grad_mlp.onnx")
    torch.onnx.export(Mlp(), tuple(inputs[n] for n in names), model_path,
                      input_names=names, output_names=["score"], opset_version=13)
    onnx.checker.check_model(onnx.load(model_path))

    leaves = {n: inputs[n].clone().requires_grad_(n in wrt) for n in names}
    score = Mlp()(*(leaves[n] for n in names))
    score.backward()
    expected = {"score": score.detach().numpy()}
    for n in wrt:
        expected["grad_" + n] = leaves[n].grad.numpy()

    cmd = [lathe, "run", model_path]
    for n in names:
        path = os.path.join(outdir, f"grad_mlp.{n}.npy")
        np.save(path, inputs[n].numpy())
        cmd += ["--input", f"{n}={path}"]
    actual_path = os.path.join(outdir, "grad_mlp.actual.npz")
    cmd += ["--grad", "score", "--wrt", ",".join(wrt), "--output", actual_path]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        print(run.stdout + run.stderr, file=sys.stderr)
        print(f"error: lathe run exited with {run.returncode}", file=sys.stderr)
        return 1
    with np.load(actual_path) as z:
        actual = {k: z[k] for k in z.files}

    ok = sorted(actual) == sorted(expected)
    if not ok:
        print(f"outputs {sorted(actual)} != expected {sorted(expected)}")
    for key in sorted(expected):
        if key not in actual:
            continue
        a, e = actual[key], expected[key]
        if a.shape != e.shape or a.dtype != e.dtype:
            print(f"{key}: {a.dtype}{list(a.shape)} != expected "
                  f"{e.dtype}{list(e.shape)}")
            ok = False
            continue
        err = np.abs(a.astype(np.float64) - e)
        good = bool(np.all(err <= 1e-5 + 1e-4 * np.abs(e)))
        print(f"{key}: max abs error {err.max():.3g} "
              f"({'ok' if good else 'MISMATCH'})")
        ok &= good
    print("all gradients match torch.autograd" if ok else "gradients differ")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
