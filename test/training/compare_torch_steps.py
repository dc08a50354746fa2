#!/usr/bin/python3
"""Whole training steps of `lathe train` (the compiled step) against PyTorch.

For each configuration (model, loss, optimizer, regularisation, clipping) a
PyTorch model with seeded weights is exported to ONNX, `lathe train` runs 5
steps on the first 5 batches of the shipped digits (no shuffling, constant
learning rate) with `--trace`, and PyTorch runs the same 5 steps in float64
from the same float32 weights. Compared after every step: the loss, every
gradient (before weight decay and clipping, as PyTorch's .grad) and every
parameter. A tensor matches when max|lathe - torch| <= 1e-4 * max|torch|
(relative to the tensor's scale, so that elements that are nearly zero do not
turn float32 rounding into large ratios); the loss matches to 1e-4 relative.

The PyTorch side follows the spec's documented semantics, which are
torch.optim's updates with two orders made explicit: weight decay is added to
the gradient before clipping, and clipping by global norm scales by
min(1, c / ||g||) (torch.nn.utils.clip_grad_norm_ adds 1e-6 to the norm).

Usage: compare_torch_steps.py LATHE SOURCE_DIR WORK_DIR GROUP
GROUP: mlp (every optimizer and option on the MLP), losses (every loss on
the MLP) or cnn (every optimizer on the CNN).
"""
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

BATCH = 16
STEPS = 5
TOL = 1e-4


class MLP(nn.Module):
    def __init__(self, out_act=None):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)
        self.out_act = out_act

    def forward(self, x):
        y = self.fc2(torch.relu(self.fc1(x.flatten(1))))
        if self.out_act == "log_softmax":
            y = F.log_softmax(y, dim=1)
        elif self.out_act == "sigmoid":
            y = torch.sigmoid(y)
        return y


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.conv2 = nn.Conv2d(6, 8, 3, padding=1, stride=1)
        self.fc = nn.Linear(8 * 2 * 2, 10)

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = F.avg_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


class BNCNN(nn.Module):
    """A CNN with BatchNorm after a conv and after a linear layer: trained in
    training mode (batch statistics; running statistics updated as state)."""

    def __init__(self):
        super().__init__()
        # No bias before a BatchNorm: its gradient is exactly zero, so
        # float32 rounding noise is all there is of it, which Adam scales up
        # to full steps (in PyTorch's float32 as well).
        self.conv = nn.Conv2d(1, 6, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(6)
        self.fc1 = nn.Linear(6 * 4 * 4, 16, bias=False)
        self.bn1d = nn.BatchNorm1d(16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.bn(self.conv(x))), 2)
        return self.fc2(torch.relu(self.bn1d(self.fc1(x.flatten(1)))))


class SharedInitCNN(nn.Module):
    """Two BatchNorms of one width with their default initial values: the
    exporter stores one copy of each equal initializer (weights of ones,
    biases and running means of zeros, variances of ones) and reads the
    others through Identity nodes, which training must split again."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 4 * 4, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(x.flatten(1))


def make_model(kind):
    torch.manual_seed(0)
    if kind == "cnn":
        return CNN()
    if kind == "bn_shared":
        return SharedInitCNN()
    if kind == "bn":
        model = BNCNN()
        # Non-trivial starting statistics, so that their update is checked.
        with torch.no_grad():
            for m in (model.bn, model.bn1d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
        return model
    return MLP({"nll": "log_softmax", "bce": "sigmoid"}.get(kind))


# name -> (model kind, loss block, optimizer block, extra spec text)
def configs(group):
    opt = {
        "sgd": "kind: sgd lr: 0.1",
        "momentum": "kind: momentum lr: 0.05 momentum: 0.9",
        "nesterov": "kind: nesterov lr: 0.05 momentum: 0.8 weight_decay: 0.001",
        "adagrad": "kind: adagrad lr: 0.05 eps: 1e-10",
        "rmsprop": "kind: rmsprop lr: 0.01 rho: 0.9 eps: 1e-8",
        "adam": "kind: adam lr: 0.01 beta1: 0.9 beta2: 0.999 eps: 1e-8",
    }
    ce = "kind: softmax_cross_entropy"
    if group == "cnn":
        out = {"cnn_" + k: ("cnn", ce, v) for k, v in opt.items()}
        out["bn_momentum"] = ("bn", ce, opt["momentum"])
        out["bn_adam"] = ("bn", ce, opt["adam"])
        out["bn_shared_momentum"] = ("bn_shared", ce, opt["momentum"])
        return out
    if group == "mlp":
        out = {"mlp_" + k: ("mlp", ce, v) for k, v in opt.items()}
        out["mlp_adam_decay"] = ("mlp", ce, opt["adam"] + " weight_decay: 0.01")
        out["mlp_clip_value"] = ("mlp", ce,
                                 "kind: sgd lr: 0.1 weight_decay: 0.01 clip_value: 0.02")
        out["mlp_clip_norm"] = ("mlp", ce,
                                "kind: momentum lr: 0.1 clip_global_norm: 0.5")
        out["mlp_l2"] = ("mlp", ce + " regularization { kind: l2 l2_coefficient: 0.01 }",
                         opt["momentum"])
        out["mlp_l1_bias"] = ("mlp", ce + " regularization { kind: l1 l1_coefficient: 0.001"
                              " parameters: \"fc1.*\" }", opt["sgd"])
        out["mlp_elastic"] = ("mlp", ce + " regularization { kind: elastic_net"
                              " l1_coefficient: 0.001 l2_coefficient: 0.01 }", opt["adam"])
        # Fine-tuning: the first layer frozen (no gradient, unchanged).
        out["mlp_frozen"] = ("mlp", ce, opt["adam"], 'frozen: "fc1.*"')
        return out
    losses = ["nll", "bce", "bce_with_logits", "mse", "l1", "huber", "hinge",
              "squared_hinge"]
    out = {}
    for loss in losses:
        block = "kind: " + loss + (" delta: 0.3" if loss == "huber" else "")
        model = loss if loss in ("nll", "bce") else "mlp"
        out["loss_" + loss] = (model, block, opt["momentum"])
    return out


def torch_loss(kind, delta, out, y):
    if kind == "softmax_cross_entropy":
        return F.cross_entropy(out, y)
    if kind == "nll":
        return F.nll_loss(out, y)
    if kind == "bce":
        return F.binary_cross_entropy(out, y)
    if kind == "bce_with_logits":
        return F.binary_cross_entropy_with_logits(out, y)
    if kind == "mse":
        return F.mse_loss(out, y)
    if kind == "l1":
        return F.l1_loss(out, y)
    if kind == "huber":
        return F.huber_loss(out, y, delta=delta)
    if kind == "hinge":
        return F.multi_margin_loss(out, y)
    if kind == "squared_hinge":
        return F.multi_margin_loss(out, y, p=2)
    raise ValueError(kind)


def parse_block(text):
    """'kind: adam lr: 0.01 ...' -> dict (flat fields only)."""
    words = text.replace("{", " ").replace("}", " ").split()
    out = {}
    i = 0
    while i + 1 < len(words):
        if words[i].endswith(":"):
            out.setdefault(words[i][:-1], words[i + 1].strip('"'))
            i += 2
        else:
            i += 1
    return out


def torch_steps(model, frozen, loss_block, opt_block, xs, ys):
    """The reference: per step (loss, {name: grad}, {name: param after}).
    Parameters whose name starts with a `frozen` prefix are not trained."""
    model = model.double()
    model.train()
    all_params = dict(model.named_parameters())
    # BatchNorm's running statistics: state the step updates and exports.
    buffers = {n: b for n, b in model.named_buffers() if "running" in n}
    params = {n: p for n, p in all_params.items()
              if not any(n.startswith(f + ".") for f in frozen or [])}
    for n, p in all_params.items():
        p.requires_grad_(n in params)
    loss_kind = parse_block(loss_block)["kind"]
    delta = float(parse_block(loss_block).get("delta", 1.0))
    o = parse_block(opt_block)
    kind, lr = o["kind"], float(o["lr"])
    wd = float(o.get("weight_decay", 0))
    clip_value = float(o["clip_value"]) if "clip_value" in o else None
    clip_norm = float(o["clip_global_norm"]) if "clip_global_norm" in o else None
    manual_decay = clip_value is not None or clip_norm is not None
    pw = 0 if manual_decay else wd
    ps = list(params.values())
    if kind == "sgd":
        opt = torch.optim.SGD(ps, lr=lr, weight_decay=pw)
    elif kind in ("momentum", "nesterov"):
        opt = torch.optim.SGD(ps, lr=lr, momentum=float(o.get("momentum", 0.9)),
                              nesterov=kind == "nesterov", weight_decay=pw)
    elif kind == "adagrad":
        opt = torch.optim.Adagrad(ps, lr=lr, eps=float(o.get("eps", 1e-8)), weight_decay=pw)
    elif kind == "rmsprop":
        opt = torch.optim.RMSprop(ps, lr=lr, alpha=float(o.get("rho", 0.9)),
                                  eps=float(o.get("eps", 1e-8)), weight_decay=pw)
    else:
        opt = torch.optim.Adam(ps, lr=lr, betas=(float(o.get("beta1", 0.9)), float(o.get("beta2", 0.999))),
                               eps=float(o.get("eps", 1e-8)), weight_decay=pw)
    reg = None
    if "regularization" in loss_block:
        r = loss_block[loss_block.index("regularization"):]
        rb = parse_block(r)
        pats = [w.strip('"') for w in r.split() if w.startswith('"')]
        import fnmatch
        names = [n for n in params
                 if (fnmatch.fnmatch(n, pats[0]) if pats else params[n].dim() >= 2)]
        reg = (float(rb.get("l1_coefficient", 0)), float(rb.get("l2_coefficient", 0)), names)
    out = []
    for x, y in zip(xs, ys):
        opt.zero_grad()
        x = torch.from_numpy(x).double()
        y = torch.from_numpy(y)
        if y.dtype != torch.int64:
            y = y.double()
        loss = torch_loss(loss_kind, delta, model(x), y)
        if reg:
            l1, l2, names = reg
            for n in names:
                loss = loss + l1 * params[n].abs().sum() + l2 / 2 * (params[n] ** 2).sum()
        loss.backward()
        grads = {n: p.grad.detach().numpy().copy() for n, p in params.items()}
        if manual_decay:
            with torch.no_grad():
                for p in ps:
                    p.grad += wd * p
                if clip_value is not None:
                    for p in ps:
                        p.grad.clamp_(-clip_value, clip_value)
                if clip_norm is not None:
                    norm = torch.sqrt(sum((p.grad ** 2).sum() for p in ps))
                    scale = min(1.0, clip_norm / float(norm))
                    for p in ps:
                        p.grad *= scale
        opt.step()
        after = {n: p.detach().numpy().copy() for n, p in all_params.items()}
        after.update({n: b.numpy().copy() for n, b in buffers.items()})
        out.append((float(loss), grads, after))
    return out


def main():
    lathe, src, work, group = sys.argv[1:5]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    digits = np.load(os.path.join(src, "examples/digits.npz"))
    n = BATCH * STEPS
    x_all = digits["train_images"][:n]
    y_all = digits["train_labels"][:n]
    failures = []
    for name, config in configs(group).items():
        kind, loss_block, opt_block = config[:3]
        model_extra = config[3] if len(config) > 3 else ""
        d = os.path.join(work, name)
        os.makedirs(d)
        model = make_model(kind)
        # BatchNorm kept as a node (eval-mode export would fold it into the
        # conv), with its running statistics as initializers.
        model.eval()
        torch.onnx.export(model, torch.from_numpy(x_all[:BATCH]), os.path.join(d, "m.onnx"),
                          input_names=["image"], output_names=["out"], opset_version=13,
                          do_constant_folding=False,
                          training=torch.onnx.TrainingMode.PRESERVE)
        if kind == "bn_shared":
            graph = onnx.load(os.path.join(d, "m.onnx")).graph
            if not any(n.op_type == "Identity" for n in graph.node):
                failures.append(name + ": the export shares no initializer "
                                "(no Identity nodes): the case tests nothing")
        # ONNX names of the parameters are the PyTorch names (no folding).
        loss_kind = parse_block(loss_block)["kind"]
        y = y_all
        if loss_kind in ("bce", "bce_with_logits", "mse", "l1", "huber"):
            y = np.eye(10, dtype=np.float32)[y_all]
        np.savez(os.path.join(d, "data.npz"), x=x_all, y=y)
        with open(os.path.join(d, "spec.pbtxt"), "w") as f:
            f.write('model { path: "m.onnx" %s }\n' % model_extra +
                    "loss { %s }\noptimizer { %s }\n"
                    'data { train: "data.npz" shuffle: false }\n'
                    "batch_size: %d\nepochs: 1\nseed: 0\n" % (loss_block, opt_block, BATCH))
        p = subprocess.run([lathe, "train", os.path.join(d, "spec.pbtxt"), "--no-progress",
                            "--trace", os.path.join(d, "trace.npz"), "--trace-steps",
                            str(STEPS), "-o", os.path.join(d, "trained.onnx")],
                           capture_output=True, text=True)
        if p.returncode != 0:
            failures.append(f"{name}: lathe train failed ({p.returncode}): "
                            f"{p.stdout}{p.stderr}")
            continue
        trace = np.load(os.path.join(d, "trace.npz"))
        xs = [x_all[i * BATCH:(i + 1) * BATCH] for i in range(STEPS)]
        ys = [y[i * BATCH:(i + 1) * BATCH] for i in range(STEPS)]
        frozen = [w.strip('"').rstrip("*").rstrip(".") for w in model_extra.split()[1:]]
        ref = torch_steps(model, frozen, loss_block, opt_block, xs, ys)
        worst = 0.0
        for k, (loss, grads, params) in enumerate(ref):
            got = float(trace[f"loss/{k}"])
            err = abs(got - loss) / max(abs(loss), 1e-12)
            worst = max(worst, err)
            if err > TOL:
                failures.append(f"{name} step {k}: loss {got} vs torch {loss} ({err:.2e})")
            for what, tensors in (("grad", grads), ("param", params)):
                for pname, want in tensors.items():
                    have = trace[f"{what}/{k}/{pname}"]
                    scale = max(np.abs(want).max(), 1e-12)
                    err = float(np.abs(have - want).max() / scale)
                    worst = max(worst, err)
                    if err > TOL:
                        failures.append(f"{name} step {k}: {what} {pname}: max error "
                                        f"{err:.2e} of its scale {scale:.3g}")
        final = onnx.load(os.path.join(d, "trained.onnx"))
        for t in final.graph.initializer:
            if t.name in ref[-1][2]:
                want = ref[-1][2][t.name]
                if np.abs(numpy_helper.to_array(t) - want).max() > TOL * np.abs(want).max():
                    failures.append(f"{name}: exported {t.name} differs from step {STEPS}")
        print(f"{name}: worst relative error {worst:.2e}")
    if failures:
        print("\n".join(failures[:40]))
        sys.exit(f"FAILED: {len(failures)} mismatches")
    print("ok")


if __name__ == "__main__":
    main()
