#!/usr/bin/python3
"""Writes the checked-in inputs of the training tests (test/training/):

  digits_linear.onnx  softmax regression on the 8x8 digits: image [N, 1, 8, 8]
                      -> Flatten -> Gemm(W [10, 64], b [10], transB) = logits
                      -> Softmax = probs. W and b are zero initializers: the
                      model the reference training step (plain C++) can train.
  bad_labels.npz      x float32 [40, 1, 8, 8], y int64 [40] with y[17] = 12 (the
                      model has 10 classes): the label-out-of-range test.
  float_labels.npz    x as above, y float32 [40]: wrong label dtype.

Byte-identical on every run. Usage: make_models.py [OUTDIR]
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def linear_model():
    f = TensorProto.FLOAT
    nodes = [
        helper.make_node("Flatten", ["image"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "W", "b"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=1),
    ]
    inits = [numpy_helper.from_array(np.zeros((10, 64), np.float32), "W"),
             numpy_helper.from_array(np.zeros((10,), np.float32), "b")]
    graph = helper.make_graph(
        nodes, "digits_linear",
        [helper.make_tensor_value_info("image", f, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info("probs", f, ["N", 10])], inits)
    model = helper.make_model(graph, producer_name="lathe test/training/make_models.py",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    onnx.save(linear_model(), os.path.join(out, "digits_linear.onnx"))
    rng = np.random.RandomState(0)
    x = rng.uniform(0, 1, (40, 1, 8, 8)).astype(np.float32)
    y = (np.arange(40) % 10).astype(np.int64)
    y[17] = 12
    np.savez(os.path.join(out, "bad_labels.npz"), x=x, y=y)
    np.savez(os.path.join(out, "float_labels.npz"), x=x, y=y.astype(np.float32))


if __name__ == "__main__":
    main()
