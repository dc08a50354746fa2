#!/usr/bin/env python3
"""Checks `lathe bench --profile`: the "profile" field of the --json report
(schema in docs/cli.md) and the text table. Structure only, never a timing:
every kernel called once per timed run, the shares adding up to 100, the
list sorted by time, the FLOP rates consistent with the FLOPs.

Usage: check_bench_profile.py LATHE MODEL   (MODEL: a small CNN with convs)
Standard library only.
"""
import json
import math
import os
import re
import subprocess
import sys
import tempfile

KERNEL_FIELDS = {"kernel", "nodes", "ops", "fusion", "calls", "total_ms",
                 "ms_per_run", "percent", "flops", "gflops_per_s"}


def fail(msg):
    sys.exit(f"check_bench_profile: {msg}")


def run(*args):
    p = subprocess.run(list(args), capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"{' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
    if p.stderr:
        fail(f"{' '.join(args)} wrote to stderr: {p.stderr.strip()}")
    return p.stdout


def check_profile(r, iterations):
    p = r.get("profile")
    if not isinstance(p, dict) or sorted(p) != [
            "kernels", "outside_kernels_ms", "outside_kernels_percent", "runs"]:
        fail(f"profile: {p!r:.300}")
    if p["runs"] != r["iterations"] or p["runs"] < iterations:
        fail(f"profile runs {p['runs']}, iterations {r['iterations']}")
    kernels = p["kernels"]
    if not kernels:
        fail("no kernel in the profile")
    names = set()
    total_percent = p["outside_kernels_percent"]
    total_ms = p["outside_kernels_ms"]
    for k in kernels:
        if set(k) != KERNEL_FIELDS:
            fail(f"kernel fields {sorted(k)}")
        if not re.fullmatch(r"lathe_kernel_[0-9]+", k["kernel"]) or k["kernel"] in names:
            fail(f"kernel name {k['kernel']!r} (seen: {sorted(names)})")
        names.add(k["kernel"])
        if not all(isinstance(n, str) and n for n in k["nodes"]):
            fail(f"{k['kernel']}: nodes {k['nodes']}")
        if not k["ops"] or k["fusion"] not in ("", "epilogue", "elementwise", "softmax"):
            fail(f"{k['kernel']}: ops {k['ops']!r} fusion {k['fusion']!r}")
        # Each kernel is called once per run; warm-up runs are not counted.
        if k["calls"] != p["runs"]:
            fail(f"{k['kernel']}: {k['calls']} calls in {p['runs']} runs")
        if k["total_ms"] < 0 or not 0 <= k["percent"] <= 100:
            fail(f"{k['kernel']}: total_ms {k['total_ms']} percent {k['percent']}")
        if not math.isclose(k["ms_per_run"] * p["runs"], k["total_ms"], rel_tol=1e-9):
            fail(f"{k['kernel']}: ms_per_run * runs != total_ms")
        if k["flops"] is None:
            if k["gflops_per_s"] is not None:
                fail(f"{k['kernel']}: a rate without FLOPs")
        elif not isinstance(k["flops"], int) or k["flops"] < 0:
            fail(f"{k['kernel']}: flops {k['flops']!r}")
        elif k["total_ms"] > 0 and not math.isclose(
                k["gflops_per_s"], k["flops"] * k["calls"] / (k["total_ms"] * 1e6),
                rel_tol=1e-6):
            fail(f"{k['kernel']}: gflops_per_s {k['gflops_per_s']} vs flops {k['flops']}")
        total_percent += k["percent"]
        total_ms += k["total_ms"]
    if not math.isclose(total_percent, 100, abs_tol=0.01):
        fail(f"the shares add up to {total_percent}%")
    # The kernels run inside the timed runs (up to the clocks' rounding).
    if total_ms > r["timed_s"] * 1e3 * 1.001 + 0.01:
        fail(f"kernels + outside {total_ms} ms > timed {r['timed_s'] * 1e3} ms")
    times = [k["total_ms"] for k in kernels]
    if times != sorted(times, reverse=True):
        fail("kernels not sorted by time")
    convs = [k for k in kernels if "conv" in k["ops"]]
    if not convs or any(k["flops"] is None or k["flops"] <= 0 for k in convs):
        fail(f"the model's convolutions have no FLOPs: {convs}")
    return kernels


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: check_bench_profile.py LATHE MODEL")
    lathe, model = sys.argv[1:]

    r = json.loads(run(lathe, "bench", model, "--profile", "--json", "-",
                       "--threads", "1", "--iterations", "4", "--warmup", "2"))
    kernels = check_profile(r, 4)
    # Two threads: kernels cut into tasks are timed as a whole, once a run.
    r = json.loads(run(lathe, "bench", model, "--profile", "--json=-",
                       "--threads=2", "--iterations=3", "--warmup=0"))
    if len(check_profile(r, 3)) != len(kernels):
        fail("another kernel count with two threads")
    # Without --profile: no profile (check_bench_json.py checks every field).
    r = json.loads(run(lathe, "bench", model, "--json", "-", "--iterations", "1"))
    if "profile" in r:
        fail("a profile without --profile")

    with tempfile.TemporaryDirectory() as tmp:
        # --json FILE: the line, then the table on stdout, one row a kernel.
        path = os.path.join(tmp, "bench.json")
        out = run(lathe, "bench", model, "--profile", f"--json={path}",
                  "--threads", "1", "--iterations", "2", "-O0")
        with open(path) as f:
            kernels = check_profile(json.load(f), 2)
        lines = out.splitlines()
        if len(lines) != 3 + len(kernels) + 1:
            fail(f"text: {len(lines)} lines for {len(kernels)} kernels:\n{out}")
        if not re.fullmatch(rf"profile: {len(kernels)} kernels over 2 timed runs .*clock reads.*",
                            lines[1]):
            fail(f"profile header: {lines[1]!r}")
        if lines[2].split()[:6] != ["%run", "ms/run", "total", "ms", "calls", "GFLOP/s"]:
            fail(f"column header: {lines[2]!r}")
        for line, k in zip(lines[3:], kernels):
            if k["kernel"] not in line.split() or not line.split()[0].replace(".", "").isdigit():
                fail(f"row {line!r} for {k['kernel']}")
        if not lines[-1].endswith("(outside kernels)"):
            fail(f"last row: {lines[-1]!r}")
    print("lathe bench --profile: ok")


if __name__ == "__main__":
    main()
