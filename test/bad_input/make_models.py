#!/usr/bin/python3
"""Writes the small binary models and .npy files of the bad-input tests.

Usage: /usr/bin/python3 make_models.py [OUTDIR]   (default: this script's folder)

The outputs are checked in next to this script; run it again only to change them.
ONNX 1.12's text syntax cannot name nodes, so every model whose error must name a
node is written here as binary .onnx with named nodes.

  valid_conv.onnx        Conv (node 'conv_ok'), x: float[1,4,5,5] -> y: float[1,3,3,3];
                         valid; the truncation test cuts it to its first 100 bytes
  unknown_ops.onnx       x -> Frobnicate ('frob_node') -> Relu ('relu_node')
                         -> Twiddle ('twiddle_node') -> y; two ops ONNX does not define
  conv_group3.onnx       Conv (node 'conv_g3') with group=3 on 4 input channels:
                         passes ONNX's checker and shape inference, lathe must reject it
  transpose_dup_perm.onnx  Transpose (node 'perm_dup') with perm=[0,0] on a 2-D input
  x_1x4.npy              float32 [1,4]: a correct input for relu.onnxtxt
  x_1x4x5x5.npy          float32 [1,4,5,5]: a correct input for the Conv models
  x_2x3.npy              float32 [2,3]: a correct input for transpose_dup_perm.onnx
  wrong_shape_2x3.npy    float32 [2,3]: wrong shape for relu.onnxtxt's x: float[1,4]
  wrong_dtype_f64.npy    float64 [1,4]: wrong dtype for relu.onnxtxt's x
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

TRUNCATE_AT = 100  # bytes kept by the truncation test (test/bad_input/CMakeLists.txt)


def model(nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                          producer_name="lathe-test")
    m.ir_version = 8
    return m


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    rng = np.random.default_rng(0)

    def save(name, m, check=True):
        if check:
            onnx.checker.check_model(m, full_check=True)
        onnx.save(m, os.path.join(out, name))

    w = rng.standard_normal((3, 4, 3, 3)).astype(np.float32)
    valid = model(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv_ok")],
        [f32("x", [1, 4, 5, 5])], [f32("y", [1, 3, 3, 3])],
        [helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.flatten())])
    save("valid_conv.onnx", valid)
    # The cut must leave an unparseable prefix.
    data = valid.SerializeToString()
    assert len(data) > TRUNCATE_AT
    try:
        onnx.load_from_string(data[:TRUNCATE_AT])
        parsed = True
    except Exception:  # noqa: BLE001 - a DecodeError is what we want
        parsed = False
    if parsed:
        raise SystemExit(f"valid_conv.onnx: its first {TRUNCATE_AT} bytes still parse")

    unknown = model(
        [helper.make_node("Frobnicate", ["x"], ["t0"], name="frob_node"),
         helper.make_node("Relu", ["t0"], ["t1"], name="relu_node"),
         helper.make_node("Twiddle", ["t1"], ["y"], name="twiddle_node")],
        [f32("x", [1, 4])], [f32("y", [1, 4])])
    save("unknown_ops.onnx", unknown, check=False)  # ONNX's checker rejects unknown ops

    wg = rng.standard_normal((3, 1, 3, 3)).astype(np.float32)
    conv_g3 = model(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv_g3", group=3)],
        [f32("x", [1, 4, 5, 5])], [f32("y", [1, 3, 3, 3])],
        [helper.make_tensor("w", TensorProto.FLOAT, wg.shape, wg.flatten())])
    save("conv_group3.onnx", conv_g3)  # ONNX itself accepts it

    perm = model(
        [helper.make_node("Transpose", ["x"], ["y"], name="perm_dup", perm=[0, 0])],
        [f32("x", [2, 3])], [f32("y", [2, 2])])
    save("transpose_dup_perm.onnx", perm, check=False)  # shape inference rejects it

    np.save(os.path.join(out, "x_1x4.npy"), np.array([[-1.0, 0.0, 0.5, 2.0]], np.float32))
    np.save(os.path.join(out, "x_1x4x5x5.npy"),
            rng.standard_normal((1, 4, 5, 5)).astype(np.float32))
    np.save(os.path.join(out, "x_2x3.npy"), np.arange(6, dtype=np.float32).reshape(2, 3))
    np.save(os.path.join(out, "wrong_shape_2x3.npy"), np.zeros((2, 3), np.float32))
    np.save(os.path.join(out, "wrong_dtype_f64.npy"), np.zeros((1, 4), np.float64))


if __name__ == "__main__":
    main()
