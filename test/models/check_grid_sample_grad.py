#!/usr/bin/python3
"""Compares `lathe run --grad` on GridSample with torch.nn.functional.grid_sample.

Usage: check_grid_sample_grad.py LATHE OUTDIR

For every mode (bilinear, nearest, bicubic) x padding_mode (zeros, border,
reflection) x align_corners (0, 1), a float64 ONNX model (opset 16)

  y     = GridSample(x, grid)
  score = ReduceSum(y * w)

with x [2, 3, 5, 6], grid [2, 4, 7, 2] drawn uniformly from [-1.3, 1.3] (so
that some samples fall outside the image) and a fixed weighting w, is run by
`lathe run model.onnx --input ... --grad score --wrt x,grid --output OUT.npz`;
the score, grad_x and grad_grid are compared with torch.autograd's
(|lathe - torch| <= 1e-9 + 1e-9 |torch|), and once more in float32
(bicubic, reflection; tolerance 1e-5 + 1e-5 |torch|). Random grids land on a kink of
the sampling (a tap boundary) with probability zero, so both sides take the
same taps. Nearest's grid gradient is zero on both sides.
Exit code 0 when everything matches, 1 otherwise.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper
import torch
import torch.nn.functional as F


def make_model(mode, padding, align, shapes, elem):
    inputs = [helper.make_tensor_value_info(name, elem, shape)
              for name, shape in shapes.items()]
    nodes = [
        helper.make_node("GridSample", ["x", "grid"], ["y"], mode=mode,
                         padding_mode=padding, align_corners=int(align)),
        helper.make_node("Mul", ["y", "w"], ["yw"]),
        helper.make_node("ReduceSum", ["yw"], ["score"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes, "grid_sample_grad", inputs,
        [helper.make_tensor_value_info("score", elem, [])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)])
    onnx.checker.check_model(model)
    return model


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    lathe, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(0)
    shapes = {"x": [2, 3, 5, 6], "grid": [2, 4, 7, 2], "w": [2, 3, 4, 7]}
    values = {"x": rng.standard_normal(shapes["x"]),
              "grid": rng.uniform(-1.3, 1.3, shapes["grid"]),
              "w": rng.standard_normal(shapes["w"])}
    cases = [(mode, padding, align, np.float64)
             for mode in ["bilinear", "nearest", "bicubic"]
             for padding in ["zeros", "border", "reflection"]
             for align in [False, True]]
    # float32 end to end once (the same graph in single precision).
    cases.append(("bicubic", "reflection", False, np.float32))
    ok = True
    for mode, padding, align, dtype in cases:
        f32 = dtype == np.float32
        tag = f"{mode}_{padding}_{int(align)}" + ("_f32" if f32 else "")
        model_path = os.path.join(outdir, f"gs_{tag}.onnx")
        elem = TensorProto.FLOAT if f32 else TensorProto.DOUBLE
        onnx.save(make_model(mode, padding, align, shapes, elem),
                  model_path)
        paths = {}
        for name, v in values.items():
            paths[name] = os.path.join(outdir, f"gs.{name}.{tag}.npy")
            np.save(paths[name], v.astype(dtype))

        x = torch.tensor(values["x"].astype(dtype), requires_grad=True)
        grid = torch.tensor(values["grid"].astype(dtype),
                            requires_grad=True)
        y = F.grid_sample(x, grid, mode=mode, padding_mode=padding,
                          align_corners=align)
        score = (y * torch.tensor(values["w"].astype(dtype))).sum()
        score.backward()
        expected = {"score": score.detach().numpy(),
                    "grad_x": x.grad.numpy(),
                    "grad_grid": grid.grad.numpy()}

        actual_path = os.path.join(outdir, f"gs_{tag}.actual.npz")
        cmd = [lathe, "run", model_path]
        for name, path in paths.items():
            cmd += ["--input", f"{name}={path}"]
        cmd += ["--grad", "score", "--wrt", "x,grid",
                "--output", actual_path]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            print(run.stdout + run.stderr, file=sys.stderr)
            print(f"{tag}: lathe run exited with {run.returncode}")
            ok = False
            continue
        with np.load(actual_path) as z:
            actual = {k: z[k] for k in z.files}
        if sorted(actual) != sorted(expected):
            print(f"{tag}: outputs {sorted(actual)} != "
                  f"{sorted(expected)}")
            ok = False
            continue
        line = []
        for key in sorted(expected):
            a, e = actual[key], expected[key]
            if a.shape != e.shape or a.dtype != e.dtype:
                print(f"{tag} {key}: {a.dtype}{list(a.shape)} != "
                      f"{e.dtype}{list(e.shape)}")
                ok = False
                continue
            err = np.abs(a - e)
            tol = 1e-5 if f32 else 1e-9
            good = bool(np.all(err <= tol + tol * np.abs(e)))
            line.append(f"{key} {err.max():.2g}"
                        + ("" if good else " MISMATCH"))
            ok &= good
        print(f"{tag}: " + ", ".join(line))
    print("all gradients match torch.autograd" if ok else "gradients differ")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
