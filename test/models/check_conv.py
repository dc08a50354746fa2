#!/usr/bin/python3
"""Convolutions at shapes that exercise every path lathe-tile-matmul takes
for them, compared with PyTorch (float64 reference).

Usage: check_conv.py LATHE OUTDIR

Each case is a Conv or ConvTranspose ONNX model (some followed by a Relu, so
that lathe-fuse-groups tiles it into an epilogue loop) run by `lathe run` on
random inputs: the direct kernel over output channels with column
remainders (width 13), dot products along the kernel's columns for a
kernel-sized result (the backward graph's dW), a tile of one output channel
that also spans output rows (56x56 with Relu), groups and depthwise,
dilation, a 1x1 conv, a 1-D conv, stride 2 (the window gathered), and
transposed convolutions with stride and groups. |lathe - torch| <= 1e-5 * (1 +
sqrt(K)) * max|torch| per case, K the reduction length.
Exit code 0 when everything matches, 1 otherwise.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper


def conv_case(x, w, bias=True, relu=False, transpose=False, **attrs):
    """x, w: shapes; attrs: ONNX attributes (strides, pads, dilations, group)."""
    op = "ConvTranspose" if transpose else "Conv"
    inputs = [("x", x), ("w", w)] + ([("b", [w[1] * attrs.get("group", 1)
                                             if transpose else w[0]])]
                                     if bias else [])
    nodes = [helper.make_node(op, [n for n, _ in inputs],
                              ["c" if relu else "y"], **attrs)]
    if relu:
        nodes.append(helper.make_node("Relu", ["c"], ["y"]))
    s = len(x) - 2
    stride = attrs.get("strides", [1] * s)
    pads = attrs.get("pads", [0] * 2 * s)
    dil = attrs.get("dilations", [1] * s)
    group = attrs.get("group", 1)

    def ref(v):
        t = {k: torch.from_numpy(a) for k, a in v.items()}
        conv = {1: (F.conv_transpose1d if transpose else F.conv1d),
                2: (F.conv_transpose2d if transpose else F.conv2d)}[s]
        # ONNX pads are begin..., end...; these cases pad symmetrically.
        assert pads[:s] == pads[s:]
        y = conv(t["x"], t["w"], t.get("b"), stride=stride, padding=pads[:s],
                 dilation=dil, groups=group)
        return (torch.relu(y) if relu else y).numpy()
    k = int(np.prod(w[1:])) if not transpose else int(w[0] * np.prod(w[2:]))
    return nodes, inputs, ref, k


CASES = {
    "direct_width13": conv_case([2, 5, 13, 13], [7, 5, 3, 3], pads=[1, 1, 1, 1]),
    "rows_56_relu": conv_case([1, 16, 56, 56], [16, 16, 3, 3], relu=True,
                              pads=[1, 1, 1, 1]),
    "cifar_relu": conv_case([64, 8, 16, 16], [16, 8, 3, 3], relu=True,
                            pads=[1, 1, 1, 1]),
    "grouped": conv_case([2, 6, 10, 9], [9, 2, 3, 3], group=3, pads=[1, 1, 1, 1]),
    "depthwise_relu": conv_case([2, 8, 12, 12], [8, 1, 3, 3], group=8,
                                relu=True, pads=[1, 1, 1, 1]),
    "dilated": conv_case([1, 4, 15, 17], [6, 4, 3, 3], dilations=[2, 2],
                         pads=[2, 2, 2, 2], bias=False),
    "pointwise": conv_case([3, 32, 7, 7], [24, 32, 1, 1]),
    "conv1d": conv_case([2, 3, 40], [5, 3, 5], pads=[2, 2]),
    "dot_dw_like": conv_case([3, 4, 20, 21], [6, 4, 18, 18], bias=False),
    "stride2": conv_case([2, 4, 11, 11], [6, 4, 3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1]),
    "stride2_relu_wide": conv_case([1, 8, 45, 45], [3, 8, 3, 3], strides=[2, 2],
                                   relu=True, pads=[1, 1, 1, 1]),
    "stride2_relu_batch": conv_case([4, 16, 32, 32], [32, 16, 3, 3],
                                    strides=[2, 2], relu=True,
                                    pads=[1, 1, 1, 1]),
    "transpose_stride2": conv_case([2, 6, 7, 7], [6, 4, 3, 3], transpose=True,
                                   strides=[2, 2], pads=[1, 1, 1, 1]),
    "transpose_grouped": conv_case([1, 8, 9, 9], [8, 3, 3, 3], transpose=True,
                                   group=2, pads=[1, 1, 1, 1], bias=False),
}


def main():
    lathe, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(0)
    failed = 0
    for name, (nodes, inputs, ref, K) in CASES.items():
        feeds, args = {}, []
        for n, shape in inputs:
            feeds[n] = rng.standard_normal(shape).astype(np.float32)
            npy = os.path.join(outdir, f"{name}.{n}.npy")
            np.save(npy, feeds[n])
            args += ["--input", f"{n}={npy}"]
        want = ref({k: v.astype(np.float64) for k, v in feeds.items()})
        path = os.path.join(outdir, name + ".onnx")
        graph = helper.make_graph(
            nodes, "m",
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s)
             for n, s in inputs],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                           list(want.shape))])
        onnx.save(helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", 13)]), path)
        out = os.path.join(outdir, name + ".npz")
        p = subprocess.run([lathe, "run", path, *args, "--output", out],
                           capture_output=True, text=True)
        if p.returncode != 0:
            print(f"{name}: lathe run failed: {p.stderr.strip()}")
            failed += 1
            continue
        got = np.load(out)["y"]
        err = np.abs(got - want).max()
        bound = 1e-5 * (1 + np.sqrt(K)) * np.abs(want).max()
        ok = got.shape == want.shape and err <= bound
        print(f"{name}: max error {err:.3g} (bound {bound:.3g}) "
              f"{'ok' if ok else 'FAILED'}")
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
