#!/usr/bin/python3
"""Trains recurrent classifiers of the 8x8 digits with `lathe train`: each
image is a sequence of 8 rows of 8 pixels.

Usage: check_recurrent_training.py LATHE SOURCE_DIR OUTDIR

For each model (an LSTM reading Y_h, a bidirectional GRU with
linear_before_reset reading all of Y, a reverse RNN with clip; each followed
by a Gemm to 10 logits, W, R, B and the Gemm trainable initializers),
`lathe train --check-gradients` must pass (every sampled gradient within
1e-6 of the float64 central difference), and 3 epochs of Adam must reach a
validation accuracy of 60% or more. Exit code 0 when all pass, 1 otherwise.
"""
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN = 12


def model(op, direction, attrs, read_y):
    rng = np.random.default_rng(0)
    dirs = 2 if direction == "bidirectional" else 1
    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[op]
    h = HIDDEN

    def init(name, shape, scale=0.3):
        return numpy_helper.from_array(
            (rng.standard_normal(shape) * scale).astype(np.float32), name)

    features = dirs * h * (8 if read_y else 1)
    inits = [init("W", (dirs, gates * h, 8)), init("R", (dirs, gates * h, h)),
             init("B", (dirs, 2 * gates * h), 0.1), init("fc_w", (10, features)),
             numpy_helper.from_array(np.zeros(10, np.float32), "fc_b"),
             numpy_helper.from_array(np.array([-1, 8, 8], np.int64), "rows")]
    # [N, 1, 8, 8] -> [8 steps, N, 8]; Y [8, dirs, N, h] -> [N, 8*dirs*h].
    nodes = [helper.make_node("Reshape", ["image", "rows"], ["seq"]),
             helper.make_node("Transpose", ["seq"], ["steps"], perm=[1, 0, 2]),
             helper.make_node(op, ["steps", "W", "R", "B"], ["Y", "Y_h"],
                              hidden_size=h, direction=direction, **attrs)]
    if read_y:
        nodes.append(helper.make_node("Transpose", ["Y"], ["Yt"],
                                      perm=[2, 0, 1, 3]))
    else:
        nodes.append(helper.make_node("Transpose", ["Y_h"], ["Yt"],
                                      perm=[1, 0, 2]))
    nodes += [helper.make_node("Flatten", ["Yt"], ["features"], axis=1),
              helper.make_node("Gemm", ["features", "fc_w", "fc_b"], ["logits"],
                               transB=1)]
    graph = helper.make_graph(
        nodes, op.lower(),
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    onnx.checker.check_model(m)
    return m


SPEC = """model {{ path: "{model}" output: "logits" }}
loss {{ kind: softmax_cross_entropy }}
optimizer {{ kind: adam lr: 0.02 }}
data {{
  train: "{data}"
  validation: "{data}"
  input_array: "train_images"
  label_array: "train_labels"
  validation_input_array: "validation_images"
  validation_label_array: "validation_labels"
}}
batch_size: 32
epochs: 3
seed: 7
output_model: "{name}.trained.onnx"
"""


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    lathe, source, outdir = (os.path.abspath(a) for a in sys.argv[1:])
    os.makedirs(outdir, exist_ok=True)
    data = os.path.join(source, "examples", "digits.npz")
    cases = [
        ("lstm", "LSTM", "forward", {}, False),
        ("gru_bidirectional", "GRU", "bidirectional",
         {"linear_before_reset": 1}, True),
        ("rnn_reverse_clip", "RNN", "reverse", {"clip": 2.0}, False),
    ]
    ok = True
    for name, op, direction, attrs, read_y in cases:
        onnx.save(model(op, direction, attrs, read_y),
                  os.path.join(outdir, name + ".onnx"))
        spec = os.path.join(outdir, name + ".pbtxt")
        with open(spec, "w") as f:
            f.write(SPEC.format(model=name + ".onnx", data=data, name=name))
        rc, out = run([lathe, "train", spec, "--check-gradients"], outdir)
        good = rc == 0 and "\nok: worst relative error" in out
        print(f"{name}: gradient check {'ok' if good else 'FAILED'}")
        if not good:
            print(out)
        ok &= good
        rc, out = run([lathe, "train", spec], outdir)
        accs = [float(a) for a in re.findall(r"val_acc ([0-9.]+)%", out)]
        good = rc == 0 and accs and max(accs) >= 60.0
        print(f"{name}: validation accuracy by epoch {accs} "
              f"({'ok' if good else 'FAILED'})")
        if not good:
            print(out)
        ok &= bool(good)
    print("recurrent training ok" if ok else "recurrent training failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
