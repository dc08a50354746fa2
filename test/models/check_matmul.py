#!/usr/bin/python3
"""Contractions at shapes that exercise every path of lathe-tile-matmul,
compared with numpy (float64 reference).

Usage: check_matmul.py LATHE OUTDIR

Each case is a one-node ONNX model (MatMul or Gemm) run by `lathe run` on
random inputs: packed panels with row, column and k remainders (67x45x37,
512x512x512 with two k blocks of 256), B read in place (8 rows), dot products
along k for A B^T (Gemm transB, with bias, odd k), A^T (the backward graph's
dW = dY^T X), both transposed with alpha, and a batched MatMul whose operands
broadcast. |lathe - numpy| <= 1e-5 * (1 + sqrt(K)) * max|numpy| per case.
Exit code 0 when everything matches, 1 otherwise.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper


def model(path, node, inputs, out_shape):
    graph = helper.make_graph(
        [node], "m",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              path)


def gemm_case(M, K, N, transA=False, transB=False, alpha=1.0, bias=False):
    inputs = [("a", [K, M] if transA else [M, K]), ("b", [N, K] if transB else [K, N])]
    if bias:
        inputs.append(("c", [N]))
    node = helper.make_node("Gemm", [n for n, _ in inputs], ["y"], transA=int(transA),
                            transB=int(transB), alpha=alpha)

    def ref(x):
        a = x["a"].T if transA else x["a"]
        b = x["b"].T if transB else x["b"]
        return alpha * (a @ b) + (x["c"] if bias else 0.0)
    return node, inputs, [M, N], ref, K


def matmul_case(a_shape, b_shape, out_shape):
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    return node, [("a", a_shape), ("b", b_shape)], out_shape, \
        lambda x: np.matmul(x["a"], x["b"]), a_shape[-1]


CASES = {
    "pack_remainders": matmul_case([67, 45], [45, 37], [67, 37]),
    "pack_512": matmul_case([512, 512], [512, 512], [512, 512]),
    "direct_8_rows": matmul_case([8, 300], [300, 20], [8, 20]),
    "dot_transB_bias": gemm_case(13, 37, 11, transB=True, bias=True),
    "dot_linear": gemm_case(8, 784, 512, transB=True, bias=True),
    "transA_dW": gemm_case(784, 64, 512, transA=True),
    "transAB_alpha": gemm_case(33, 70, 29, transA=True, transB=True, alpha=0.5,
                               bias=True),
    "batched_broadcast": matmul_case([3, 1, 7, 20], [2, 20, 19], [3, 2, 7, 19]),
}


def main():
    lathe, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(0)
    failed = 0
    for name, (node, inputs, out_shape, ref, K) in CASES.items():
        path = os.path.join(outdir, name + ".onnx")
        model(path, node, inputs, out_shape)
        feeds, args = {}, []
        for n, shape in inputs:
            feeds[n] = rng.standard_normal(shape).astype(np.float32)
            npy = os.path.join(outdir, f"{name}.{n}.npy")
            np.save(npy, feeds[n])
            args += ["--input", f"{n}={npy}"]
        out = os.path.join(outdir, name + ".npz")
        p = subprocess.run([lathe, "run", path, *args, "--output", out],
                           capture_output=True, text=True)
        if p.returncode != 0:
            print(f"{name}: lathe run failed: {p.stderr.strip()}")
            failed += 1
            continue
        got = np.load(out)["y"]
        want = ref({k: v.astype(np.float64) for k, v in feeds.items()})
        err = np.abs(got - want).max()
        bound = 1e-5 * (1 + np.sqrt(K)) * np.abs(want).max()
        ok = got.shape == want.shape and err <= bound
        print(f"{name}: max error {err:.3g} (bound {bound:.3g}) {'ok' if ok else 'FAILED'}")
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
