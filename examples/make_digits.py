#!/usr/bin/python3
"""Writes the training example's data and model, next to this script:

  digits.npz       the 1,797 8x8 handwritten digits of the UCI "Optical Recognition
                   of Handwritten Digits" data set (scikit-learn's copy), split with a
                   fixed seed into
                     train_images       float32 [1437, 1, 8, 8], pixels in [0, 1]
                     train_labels       int64   [1437], 0..9
                     validation_images  float32 [360, 1, 8, 8]
                     validation_labels  int64   [360]
                   stored uncompressed (numpy.savez), as lathe reads .npz files.
  digits_convnet.onnx  a CNN without weights, for `lathe train digits_convnet.pbtxt`
  digits_mlp.onnx  an MLP without weights, for `lathe train digits_mlp.pbtxt`:
                   image [N, 1, 8, 8] -> Flatten -> Gemm(64 -> 32) -> Relu
                   -> Gemm(32 -> 10) = logits [N, 10] -> Softmax = probs.
                   Its parameters (fc1.weight [32, 64], fc1.bias [32],
                   fc2.weight [10, 32], fc2.bias [10]) are graph inputs with no
                   value: the spec's init rules give them theirs.

Re-running it gives byte-identical files.

Usage: make_digits.py [--digits PATH/TO/digits.csv.gz] [--outdir DIR]
Needs numpy and onnx (Debian: python3-numpy, python3-onnx), and digits.csv.gz from
python3-sklearn (scripts/setup installs it; see README.md for taking the file alone).
"""
import argparse
import gzip
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

DEFAULT_DIGITS = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"
SEED = 0
VALIDATION = 360  # about 20 %


def load_digits(path):
    """(images N x 1 x 8 x 8 float32 in [0, 1], labels N int64) in file order."""
    with gzip.open(path, "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.float64)
    if rows.shape != (1797, 65):
        sys.exit(f"{path}: expected 1797 rows of 64 pixels + label, got {rows.shape}")
    images = (rows[:, :64] / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    labels = rows[:, 64].astype(np.int64)
    return images, labels


def write_npz(path, images, labels):
    order = np.random.RandomState(SEED).permutation(len(labels))
    train, val = np.sort(order[VALIDATION:]), np.sort(order[:VALIDATION])
    arrays = {
        "train_images": np.ascontiguousarray(images[train]),
        "train_labels": np.ascontiguousarray(labels[train]),
        "validation_images": np.ascontiguousarray(images[val]),
        "validation_labels": np.ascontiguousarray(labels[val]),
    }
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
    return {k: v.shape for k, v in arrays.items()}


def mlp_model():
    f = TensorProto.FLOAT
    inputs = [
        helper.make_tensor_value_info("image", f, ["N", 1, 8, 8]),
        helper.make_tensor_value_info("fc1.weight", f, [32, 64]),
        helper.make_tensor_value_info("fc1.bias", f, [32]),
        helper.make_tensor_value_info("fc2.weight", f, [10, 32]),
        helper.make_tensor_value_info("fc2.bias", f, [10]),
    ]
    nodes = [
        helper.make_node("Flatten", ["image"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc1.weight", "fc1.bias"], ["h"],
                         name="fc1", transB=1),
        helper.make_node("Relu", ["h"], ["h_relu"], name="relu"),
        helper.make_node("Gemm", ["h_relu", "fc2.weight", "fc2.bias"], ["logits"],
                         name="fc2", transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=1),
    ]
    outputs = [helper.make_tensor_value_info("probs", f, ["N", 10])]
    graph = helper.make_graph(nodes, "digits_mlp", inputs, outputs)
    model = helper.make_model(graph, producer_name="lathe examples/make_digits.py",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def convnet_model():
    """Conv(1->16) BN Relu MaxPool Conv(16->32) Relu MaxPool Dropout(0.25) Gemm(128->10)
    Softmax. The conv and fc weights and biases are graph inputs without a value
    (the spec's init rules give them theirs); BatchNorm starts as PyTorch's (scale 1,
    shift 0, running statistics 0 and 1), as initializers."""
    f = TensorProto.FLOAT
    params = {
        "conv1.weight": [16, 1, 3, 3], "conv1.bias": [16],
        "conv2.weight": [32, 16, 3, 3], "conv2.bias": [32],
        "fc.weight": [10, 128], "fc.bias": [10],
    }
    inputs = [helper.make_tensor_value_info("image", f, ["N", 1, 8, 8])]
    inputs += [helper.make_tensor_value_info(n, f, s) for n, s in params.items()]
    inits = [
        helper.make_tensor("bn1.weight", f, [16], [1.0] * 16),
        helper.make_tensor("bn1.bias", f, [16], [0.0] * 16),
        helper.make_tensor("bn1.running_mean", f, [16], [0.0] * 16),
        helper.make_tensor("bn1.running_var", f, [16], [1.0] * 16),
        helper.make_tensor("dropout.ratio", f, [], [0.25]),
    ]
    conv = dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    nodes = [
        helper.make_node("Conv", ["image", "conv1.weight", "conv1.bias"], ["c1"],
                         name="conv1", **conv),
        helper.make_node("BatchNormalization",
                         ["c1", "bn1.weight", "bn1.bias", "bn1.running_mean",
                          "bn1.running_var"], ["b1"], name="bn1", epsilon=1e-5,
                         momentum=0.9),
        helper.make_node("Relu", ["b1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"],
                         name="conv2", **conv),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], name="pool2", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Flatten", ["p2"], ["flat"], name="flatten", axis=1),
        helper.make_node("Dropout", ["flat", "dropout.ratio"], ["drop"], name="dropout"),
        helper.make_node("Gemm", ["drop", "fc.weight", "fc.bias"], ["logits"],
                         name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=1),
    ]
    outputs = [helper.make_tensor_value_info("probs", f, ["N", 10])]
    graph = helper.make_graph(nodes, "digits_convnet", inputs, outputs, inits)
    model = helper.make_model(graph, producer_name="lathe examples/make_digits.py",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--digits", default=DEFAULT_DIGITS)
    parser.add_argument("--outdir", default=os.path.dirname(os.path.abspath(__file__)))
    args = parser.parse_args()
    if not os.path.exists(args.digits):
        sys.exit(f"{args.digits}: not found (install python3-sklearn, or see "
                 "examples/README.md for taking the file alone)")
    images, labels = load_digits(args.digits)
    shapes = write_npz(os.path.join(args.outdir, "digits.npz"), images, labels)
    onnx.save(mlp_model(), os.path.join(args.outdir, "digits_mlp.onnx"))
    onnx.save(convnet_model(), os.path.join(args.outdir, "digits_convnet.onnx"))
    for name, shape in shapes.items():
        print(f"digits.npz: {name} {list(shape)}")
    print("wrote digits.npz, digits_mlp.onnx and digits_convnet.onnx")


if __name__ == "__main__":
    main()
