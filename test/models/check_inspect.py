#!/usr/bin/python3
"""Checks `lathe inspect --json` and `lathe graph` on the exported test models.

Usage: check_inspect.py inspect LATHE OUTDIR NAME [lathe arguments...]
       check_inspect.py graph LATHE OUTDIR NAME [lathe arguments...]

inspect: runs `lathe inspect OUTDIR/NAME.onnx --json -` and checks
  - the report's own arithmetic: per-op FLOPs add up to the total, kernels =
    fusion groups + ops outside them, no constants among the op counts, every op
    named after its ONNX node, arena <= naive and peak <= arena where recorded;
  - against numbers computed here from the architecture (export_models.py):
    FLOPs before the passes by the rules of passes/CostModel.h, the op kinds of the
    imported graph, and the parameter count against PyTorch's (NAME.torch.json);
  - after the passes: no BatchNormalization, Identity or Dropout left (the issue's
    goal), and where BatchNorm was folded, what folding must give.
graph: runs `lathe graph` to a .dot file (the default graph, --before-passes, and
  --after=cse) and checks its structure (a digraph, one node per op with the op's
  kind, inputs and outputs, one cluster per fusion group); with Graphviz's `dot` on
  PATH it renders the file to SVG and `lathe graph -o FILE.svg` must work, without
  it `-o FILE.svg` must fail with exit 1 and leave FILE.dot.
Exit code 0 when everything holds, 1 otherwise (each failure printed).
"""
import json
import os
import re
import shutil
import subprocess
import sys

FAILURES = []


def check(cond, message):
    if not cond:
        FAILURES.append(message)
        print(f"  FAIL: {message}")
    return cond


def gemm(m, k, n, bias=True):
    return 2 * m * n * k + (m * n if bias else 0)


def conv(n, cout, hw_out, cin_per_group, kernel, bias=True):
    out = n * cout * hw_out[0] * hw_out[1]
    return 2 * out * cin_per_group * kernel[0] * kernel[1] + (out if bias else 0)


def mlp_flops(batch, sizes):
    total = 0
    for i in range(len(sizes) - 1):
        total += gemm(batch, sizes[i], sizes[i + 1])
        if i + 2 < len(sizes):
            total += batch * sizes[i + 1]  # relu
    return total


def cnn_flops():
    # [Conv3x3-BN-Relu] x2 on 2x3x16x16, MaxPool 2, Gemm 1024->10, Softmax.
    total = conv(2, 8, (16, 16), 3, (3, 3)) + 2 * 4096 + 4096
    total += conv(2, 16, (16, 16), 8, (3, 3)) + 2 * 8192 + 8192
    total += 2 * 16 * 8 * 8 * 4 + gemm(2, 1024, 10) + 5 * 2 * 10
    return total


def lenet_flops():
    total = conv(1, 6, (28, 28), 1, (5, 5)) + 6 * 28 * 28 + 6 * 14 * 14 * 4
    total += conv(1, 16, (10, 10), 6, (5, 5)) + 1600 + 400 * 4
    total += gemm(1, 400, 120) + 120 + gemm(1, 120, 84) + 84 + gemm(1, 84, 10)
    return total


# Per model: exact FLOPs before the passes, op counts of the imported graph
# (None: not checked), whether every constant is a PyTorch parameter or buffer,
# and the BatchNorm parameters (gamma and beta) that folding removes.
MODELS = {
    "mlp": dict(flops=mlp_flops(4, [784, 128, 10]),
                ops={"lathe.gemm": 2, "lathe.relu": 1}, exact_params=True, bn=0),
    "mlp_784": dict(flops=mlp_flops(8, [784, 512, 512, 10]),
                    ops={"lathe.gemm": 3, "lathe.relu": 2}, exact_params=True, bn=0),
    "cnn": dict(flops=cnn_flops(),
                ops={"lathe.conv": 2, "lathe.batch_norm": 2, "lathe.relu": 2,
                     "lathe.max_pool": 1, "lathe.flatten": 1, "lathe.gemm": 1,
                     "lathe.softmax": 1}, exact_params=True, bn=2 * (8 + 16),
                bn_flops=2 * 4096 + 2 * 8192),
    "lenet": dict(flops=lenet_flops(),
                  ops={"lathe.conv": 2, "lathe.relu": 4, "lathe.max_pool": 2,
                       "lathe.flatten": 1, "lathe.gemm": 3},
                  exact_params=True, bn=0),
    "resnet18": dict(flops=None,
                     ops={"lathe.conv": 20, "lathe.batch_norm": 20, "lathe.relu": 17,
                          "lathe.add": 8, "lathe.max_pool": 1,
                          "lathe.global_average_pool": 1, "lathe.flatten": 1,
                          "lathe.gemm": 1}, exact_params=True, bn=None),
    "mobilenet_v2": dict(flops=None, ops=None, exact_params=False, bn=None,
                         batch_norms=52),
}


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def inspect(lathe, outdir, name, extra):
    model = os.path.join(outdir, name + ".onnx")
    p = run([lathe, "inspect", model, "--json", "-"] + extra)
    if not check(p.returncode == 0, f"lathe inspect exited {p.returncode}: {p.stderr.strip()}"):
        return
    r = json.loads(p.stdout)
    before, after = r["before"], r["after"]
    spec = MODELS[name]
    with open(os.path.join(outdir, name + ".torch.json")) as f:
        torch_counts = json.load(f)

    # The report's own arithmetic.
    check(sum(o["flops"] for o in r["ops"]) == after["flops"], "per-op FLOPs do not add up")
    check(len(r["ops"]) == after["op_count"], "ops list and op_count differ")
    for stats in (before, after):
        check("lathe.constant" not in stats["ops"], "constants counted as ops")
        check(sum(stats["ops"].values()) == stats["op_count"], "op counts do not add up")
    grouped = sum(len(g["ops"]) for g in r["fusion"]["groups"])
    check(r["fusion"]["kernels"] == len(r["fusion"]["groups"]) + after["op_count"] - grouped,
          "kernels != groups + ops outside groups")
    check(all(o["node"] for o in r["ops"]), "an op without its ONNX node name")
    mem = r["memory"]
    check(isinstance(mem["arena_bytes"], int) and mem["arena_bytes"] > 0,
          "no arena size recorded")
    if mem["naive_bytes"] is not None:
        check(mem["arena_bytes"] <= mem["naive_bytes"], "arena larger than naive")
    if mem["peak_bytes"] is not None:
        check(mem["peak_bytes"] <= mem["arena_bytes"], "peak larger than arena")

    # Against the architecture.
    if spec["flops"] is not None:
        check(before["flops"] == spec["flops"],
              f"FLOPs before {before['flops']} != {spec['flops']} computed here")
    if spec["ops"] is not None:
        check(before["ops"] == spec["ops"], f"imported ops {before['ops']} != {spec['ops']}")
    if "batch_norms" in spec:
        check(before["ops"].get("lathe.batch_norm") == spec["batch_norms"],
              f"imported BatchNorm count {before['ops'].get('lathe.batch_norm')}")
    torch_total = torch_counts["parameters"] + torch_counts["buffers"]
    if spec["exact_params"]:
        check(before["parameters"]["elements"] == torch_total,
              f"parameters before {before['parameters']['elements']} != PyTorch's "
              f"{torch_total}")
    else:
        check(before["parameters"]["elements"] >= torch_total,
              "fewer parameters than PyTorch's")
    check(before["parameters"]["bytes"] == 4 * before["parameters"]["elements"],
          "float32 parameters are not 4 bytes each")

    # After the passes.
    for gone in ("lathe.identity", "lathe.dropout"):
        check(gone not in after["ops"], f"{gone} left after the passes")
    if spec["bn"] == 0:
        check(after["parameters"]["elements"] == torch_counts["parameters"],
              f"parameters after {after['parameters']['elements']} != PyTorch's "
              f"{torch_counts['parameters']}")
    bn_left = after["ops"].get("lathe.batch_norm", 0)
    if bn_left == 0 and spec.get("bn"):
        # Folded into the Conv before it: gamma and beta and the running
        # statistics go, the Conv keeps its shapes, the BatchNorm FLOPs go.
        check(after["parameters"]["elements"] == torch_total - torch_counts["buffers"] - spec["bn"],
              f"parameters after BatchNorm folding: {after['parameters']['elements']}")
        check(after["flops"] == before["flops"] - spec["bn_flops"],
              f"FLOPs after BatchNorm folding: {after['flops']}")
    if bn_left:
        print(f"  note: {bn_left} lathe.batch_norm left after the passes "
              f"(BatchNorm folding not in the pipeline yet?)")

    print(f"{name}: ops {before['op_count']} -> {after['op_count']}, kernels "
          f"{r['fusion']['kernels']}, FLOPs {before['flops']} -> {after['flops']}, "
          f"parameters {after['parameters']['elements']}, arena {mem['arena_bytes']} "
          f"naive {mem['naive_bytes']} peak {mem['peak_bytes']}")


def check_dot(text, report, what):
    check(text.startswith("digraph"), f"{what}: not a digraph")
    check(text.rstrip().endswith("}"), f"{what}: unterminated")
    ops = report["ops"]
    for kind, count in ops.items():
        short = kind.split(".", 1)[1]
        found = len(re.findall(r"label=<<b>" + re.escape(short) + r"</b>", text))
        check(found == count, f"{what}: {found} nodes of {kind}, expected {count}")
    check(re.search(r"^  in0 \[shape=invhouse", text, re.M) is not None, f"{what}: no input node")
    check(re.search(r"^  out0 \[shape=house", text, re.M) is not None, f"{what}: no output node")
    return len(re.findall(r"subgraph cluster_", text))


def graph(lathe, outdir, name, extra):
    model = os.path.join(outdir, name + ".onnx")
    p = run([lathe, "inspect", model, "--json", "-"] + extra)
    if not check(p.returncode == 0, f"lathe inspect exited {p.returncode}: {p.stderr.strip()}"):
        return
    r = json.loads(p.stdout)
    dot_program = shutil.which("dot")

    variants = [("after", [], r["after"]), ("before", ["--before-passes"], r["before"]),
                ("after_cse", ["--after=cse"], None)]
    for tag, flags, stats in variants:
        path = os.path.join(outdir, f"{name}.graph_{tag}.dot")
        if os.path.exists(path):
            os.remove(path)
        p = run([lathe, "graph", model, "-o", path] + flags + extra)
        if not check(p.returncode == 0 and p.stderr == "",
                     f"lathe graph {' '.join(flags)} exited {p.returncode}: {p.stderr.strip()}"):
            continue
        with open(path) as f:
            text = f.read()
        if stats is not None:
            clusters = check_dot(text, stats, f"graph {tag}")
            if tag == "after":
                check(clusters == len(r["fusion"]["groups"]),
                      f"{clusters} clusters for {len(r['fusion']['groups'])} fusion groups")
        else:
            check(text.startswith("digraph"), f"graph {tag}: not a digraph")
        if dot_program:
            svg = run([dot_program, "-Tsvg", path])
            check(svg.returncode == 0 and "<svg" in svg.stdout,
                  f"dot -Tsvg rejects {path}: {svg.stderr.strip()}")

    svg_path = os.path.join(outdir, f"{name}.graph.svg")
    dot_next_to_it = os.path.join(outdir, f"{name}.graph.dot")
    for f in (svg_path, dot_next_to_it):
        if os.path.exists(f):
            os.remove(f)
    if dot_program:
        p = run([lathe, "graph", model, "-o", svg_path] + extra)
        check(p.returncode == 0, f"lathe graph -o .svg exited {p.returncode}: {p.stderr.strip()}")
        check(os.path.exists(svg_path) and "<svg" in open(svg_path).read(), "no SVG written")
    # Without Graphviz on PATH (an empty PATH here): exit 1, one line, .dot left.
    p = run([lathe, "graph", model, "-o", svg_path + ".nodot.svg"] + extra,
            env=dict(os.environ, PATH=""))
    check(p.returncode == 1 and p.stderr.count("\n") == 1 and "graphviz" in p.stderr,
          f"without dot: exit {p.returncode}, stderr {p.stderr!r}")
    check(os.path.exists(svg_path + ".nodot.dot"), "without dot: no .dot written")
    print(f"{name}: graph ok ({'rendered with ' + dot_program if dot_program else 'no dot on PATH'})")


def main():
    if len(sys.argv) < 5 or sys.argv[1] not in ("inspect", "graph"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    what, lathe, outdir, name = sys.argv[1:5]
    if name not in MODELS:
        sys.exit(f"unknown model {name}")
    (inspect if what == "inspect" else graph)(lathe, outdir, name, sys.argv[5:])
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
