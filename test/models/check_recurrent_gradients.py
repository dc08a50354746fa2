#!/usr/bin/python3
"""Compares `lathe run --grad` through ONNX RNN, GRU and LSTM with PyTorch's
torch.nn.RNN/GRU/LSTM and torch.autograd.

Usage: check_recurrent_gradients.py LATHE OUTDIR

Each case is an ONNX graph (opset 14, built with onnx.helper) whose recurrent
node takes X, W, R, B, initial_h (and initial_c) as graph inputs and returns
the scalar

  score = sum(Y * tY) + sum(Y_h * tH) (+ sum(Y_c * tC))

with fixed random weightings t*, so every result carries a gradient. PyTorch
computes the same score with its own cell (the ONNX weights permuted into its
gate order: ONNX LSTM i,o,f,c is PyTorch's i,f,g,o; ONNX GRU z,r,h is
PyTorch's r,z,n, and PyTorch's GRU is ONNX's linear_before_reset = 1), with
sequence_lens through pack_padded_sequence. `lathe run --grad score --wrt
...` must give the score and every gradient within 2e-5 + 2e-4 |torch|
(float32). Exit code 0 when everything matches, 1 otherwise.
"""
import os
import subprocess
import sys
import zlib

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper

# ONNX gate blocks in PyTorch's order.
TORCH_ORDER = {"RNN": [0], "GRU": [1, 0, 2], "LSTM": [0, 2, 3, 1]}


def permute_gates(a, op, inverse=False):
    """Reorders the gate blocks along dim 0 of `a` from ONNX's order to
    PyTorch's (back with `inverse`)."""
    order = TORCH_ORDER[op]
    if inverse:
        order = list(np.argsort(order))
    blocks = np.split(a, len(order), axis=0)
    return np.concatenate([blocks[i] for i in order], axis=0)


def build_model(path, op, dirs, seq, batch, inp, hidden, lens, extra_attrs):
    gates = len(TORCH_ORDER[op])
    direction = "bidirectional" if dirs == 2 else "forward"
    f = TensorProto.FLOAT
    inputs = [
        helper.make_tensor_value_info("X", f, [seq, batch, inp]),
        helper.make_tensor_value_info("W", f, [dirs, gates * hidden, inp]),
        helper.make_tensor_value_info("R", f, [dirs, gates * hidden, hidden]),
        helper.make_tensor_value_info("B", f, [dirs, 2 * gates * hidden]),
    ]
    names = ["X", "W", "R", "B"]
    if lens:
        inputs.append(helper.make_tensor_value_info(
            "L", TensorProto.INT32, [batch]))
    names.append("L" if lens else "")
    state = [dirs, batch, hidden]
    inputs.append(helper.make_tensor_value_info("H0", f, state))
    names.append("H0")
    outputs = ["Y", "Yh"]
    weights = [("tY", [seq, dirs, batch, hidden]), ("tH", state)]
    if op == "LSTM":
        inputs.append(helper.make_tensor_value_info("C0", f, state))
        names.append("C0")
        outputs.append("Yc")
        weights.append(("tC", state))
    for name, shape in weights:
        inputs.append(helper.make_tensor_value_info(name, f, shape))
    nodes = [helper.make_node(op, names, outputs, hidden_size=hidden,
                              direction=direction, **extra_attrs)]
    sums = []
    for out, (t, _) in zip(outputs, weights):
        nodes.append(helper.make_node("Mul", [out, t], [out + "_w"]))
        nodes.append(helper.make_node("ReduceSum", [out + "_w"], [out + "_s"],
                                      keepdims=0))
        sums.append(out + "_s")
    nodes.append(helper.make_node("Sum", sums, ["score"]))
    graph = helper.make_graph(nodes, op.lower(), inputs,
                              [helper.make_tensor_value_info("score", f, [])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return [i.name for i in inputs]


def torch_reference(op, dirs, values, lens, hidden, relu):
    """score and the gradients of X, W, R, B, H0 (and C0) from torch.nn."""
    seq, batch, inp = values["X"].shape
    if op == "RNN":
        module = torch.nn.RNN(inp, hidden, bidirectional=dirs == 2,
                              nonlinearity="relu" if relu else "tanh")
    else:
        cls = torch.nn.GRU if op == "GRU" else torch.nn.LSTM
        module = cls(inp, hidden, bidirectional=dirs == 2)
    gh = len(TORCH_ORDER[op]) * hidden
    with torch.no_grad():
        for d in range(dirs):
            sfx = "_reverse" if d else ""
            b = values["B"][d]
            for name, v in [("weight_ih_l0", values["W"][d]),
                            ("weight_hh_l0", values["R"][d]),
                            ("bias_ih_l0", b[:gh]), ("bias_hh_l0", b[gh:])]:
                getattr(module, name + sfx).copy_(
                    torch.from_numpy(permute_gates(v, op)))
    x = torch.from_numpy(values["X"]).requires_grad_()
    h0 = torch.from_numpy(values["H0"]).requires_grad_()
    leaves = {"X": x, "H0": h0}
    state = h0
    if op == "LSTM":
        c0 = torch.from_numpy(values["C0"]).requires_grad_()
        leaves["C0"] = c0
        state = (h0, c0)
    packed = x
    if lens is not None:
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            x, torch.from_numpy(lens.astype(np.int64)), enforce_sorted=False)
    out, final = module(packed, state)
    if lens is not None:
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=seq)
    # [seq, batch, dirs*hidden] -> ONNX's [seq, dirs, batch, hidden].
    y = out.view(seq, batch, dirs, hidden).permute(0, 2, 1, 3)
    finals = list(final) if op == "LSTM" else [final]
    score = (y * torch.from_numpy(values["tY"])).sum()
    score = score + (finals[0] * torch.from_numpy(values["tH"])).sum()
    if op == "LSTM":
        score = score + (finals[1] * torch.from_numpy(values["tC"])).sum()
    score.backward()

    expected = {"score": score.detach().numpy()}
    for name, leaf in leaves.items():
        expected["grad_" + name] = leaf.grad.numpy()
    gw, gr, gb = [], [], []
    for d in range(dirs):
        sfx = "_reverse" if d else ""
        grad = lambda n: permute_gates(  # noqa: E731
            getattr(module, n + sfx).grad.numpy(), op, inverse=True)
        gw.append(grad("weight_ih_l0"))
        gr.append(grad("weight_hh_l0"))
        gb.append(np.concatenate([grad("bias_ih_l0"), grad("bias_hh_l0")]))
    expected["grad_W"] = np.stack(gw)
    expected["grad_R"] = np.stack(gr)
    expected["grad_B"] = np.stack(gb)
    return expected


def check_case(lathe, outdir, name, op, dirs, lens=False, attrs=None,
               seq=4, batch=3, inp=3, hidden=4):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    path = os.path.join(outdir, name + ".onnx")
    attrs = dict(attrs or {})
    if op == "GRU":
        attrs["linear_before_reset"] = 1
    names = build_model(path, op, dirs, seq, batch, inp, hidden, lens, attrs)
    gates = len(TORCH_ORDER[op])
    state = (dirs, batch, hidden)
    shapes = {"X": (seq, batch, inp), "W": (dirs, gates * hidden, inp),
              "R": (dirs, gates * hidden, hidden),
              "B": (dirs, 2 * gates * hidden), "H0": state, "C0": state,
              "tY": (seq, dirs, batch, hidden), "tH": state, "tC": state}
    values = {n: rng.uniform(-1, 1, shapes[n]).astype(np.float32)
              for n in names if n != "L"}
    lens_value = None
    if lens:
        lens_value = np.array([seq, 1, seq - 1][:batch], dtype=np.int32)
        values["L"] = lens_value
    relu = attrs.get("activations") == ["Relu"]
    expected = torch_reference(op, dirs, values, lens_value, hidden, relu)

    wrt = [n for n in ["X", "W", "R", "B", "H0", "C0"] if n in names]
    cmd = [lathe, "run", path]
    for n in names:
        npy = os.path.join(outdir, f"{name}.{n}.npy")
        np.save(npy, values[n])
        cmd += ["--input", f"{n}={npy}"]
    actual_path = os.path.join(outdir, name + ".actual.npz")
    cmd += ["--grad", "score", "--wrt", ",".join(wrt), "--output", actual_path]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        print(run.stdout + run.stderr, file=sys.stderr)
        print(f"{name}: lathe run exited with {run.returncode}")
        return False
    with np.load(actual_path) as z:
        actual = {k: z[k] for k in z.files}
    ok = True
    for key in sorted(expected):
        if key not in actual:
            print(f"{name}: {key} missing from lathe's outputs")
            ok = False
            continue
        a, e = actual[key], expected[key]
        if a.shape != e.shape:
            print(f"{name}: {key} shape {list(a.shape)} != {list(e.shape)}")
            ok = False
            continue
        err = np.abs(a.astype(np.float64) - e)
        good = bool(np.all(err <= 2e-5 + 2e-4 * np.abs(e)))
        print(f"{name}: {key}: max abs error {err.max():.3g} "
              f"({'ok' if good else 'MISMATCH'})")
        ok &= good
    return ok


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    lathe, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(0)
    cases = [
        ("rnn_tanh_bidirectional", "RNN", 2, False, None),
        ("rnn_relu_lens", "RNN", 1, True, {"activations": ["Relu"]}),
        ("gru_bidirectional", "GRU", 2, False, None),
        ("gru_bidirectional_lens", "GRU", 2, True, None),
        ("lstm_forward", "LSTM", 1, False, None),
        ("lstm_bidirectional_lens", "LSTM", 2, True, None),
    ]
    ok = True
    for name, op, dirs, lens, attrs in cases:
        ok &= check_case(lathe, outdir, name, op, dirs, lens, attrs)
    print("all gradients match torch.autograd" if ok else "gradients differ")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
