#!/usr/bin/env python3
"""Checks `lathe bench --json`'s report against the schema in docs/cli.md:
every field present with its type, the order statistics consistent with each
other, --iterations/--min-seconds/--threads/--shape honoured, and the text line
printed when the report goes to a file. Never a timing: no number is compared
with a bound that depends on the machine.

Usage: check_bench_json.py LATHE MODEL   (MODEL: relu.onnxtxt, x float[1,4])
Standard library only.
"""
import json
import math
import os
import re
import subprocess
import sys
import tempfile

FIELDS = {
    "engine": str, "version": str, "model": str, "threads": int, "cores": int,
    "opt_level": int, "inputs": list, "outputs": list, "batch": int,
    "compile_s": float, "import_s": float, "codegen_s": float, "arena_bytes": int,
    "warmup": int, "iterations": int, "min_seconds": float, "timed_s": float,
    "min_ms": float, "median_ms": float, "p90_ms": float, "max_ms": float,
    "mean_ms": float, "runs_per_s": float, "items_per_s": float,
}


def fail(msg):
    sys.exit(f"check_bench_json: {msg}")


def run(*args):
    p = subprocess.run(list(args), capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"{' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
    if p.stderr:
        fail(f"{' '.join(args)} wrote to stderr: {p.stderr.strip()}")
    return p.stdout


def check_report(r, model, threads, iterations, warmup, min_seconds):
    missing = sorted(set(FIELDS) - set(r))
    extra = sorted(set(r) - set(FIELDS))
    if missing or extra:
        fail(f"fields missing {missing}, unexpected {extra} (update docs/cli.md too)")
    for k, t in FIELDS.items():
        ok = isinstance(r[k], (int, float)) and not isinstance(r[k], bool) \
            if t is float else isinstance(r[k], t) and not isinstance(r[k], bool)
        if not ok:
            fail(f"{k} = {r[k]!r} is not {t.__name__}")
        if t in (int, float) and (not math.isfinite(r[k]) or r[k] < 0):
            fail(f"{k} = {r[k]!r} is not a finite non-negative number")
    if r["engine"] != "lathe" or r["model"] != model:
        fail(f"engine/model: {r['engine']} {r['model']}")
    if r["threads"] != threads or r["cores"] < 1:
        fail(f"threads {r['threads']} (asked {threads}), cores {r['cores']}")
    if r["warmup"] != warmup or r["iterations"] < iterations or r["opt_level"] != 1:
        fail(f"warmup {r['warmup']} iterations {r['iterations']} opt_level {r['opt_level']}")
    if r["min_seconds"] != min_seconds or r["timed_s"] < min_seconds:
        fail(f"min_seconds {r['min_seconds']} timed_s {r['timed_s']}")
    if not r["min_ms"] <= r["median_ms"] <= r["p90_ms"] <= r["max_ms"]:
        fail("min <= median <= p90 <= max does not hold")
    if not r["min_ms"] <= r["mean_ms"] <= r["max_ms"]:
        fail("the mean is outside [min, max]")
    if r["compile_s"] <= 0 or r["import_s"] + r["codegen_s"] > r["compile_s"] * 1.01:
        fail(f"compile_s {r['compile_s']} vs import {r['import_s']} + codegen {r['codegen_s']}")
    # runs_per_s is iterations / timed_s; items_per_s multiplies it by batch.
    if not math.isclose(r["runs_per_s"], r["iterations"] / r["timed_s"], rel_tol=1e-6):
        fail(f"runs_per_s {r['runs_per_s']} != iterations / timed_s")
    if not math.isclose(r["items_per_s"], r["runs_per_s"] * r["batch"], rel_tol=1e-9):
        fail("items_per_s != runs_per_s * batch")
    for key in ("inputs", "outputs"):
        for t in r[key]:
            if sorted(t) != ["dtype", "name", "shape"] or not all(
                    isinstance(d, int) for d in t["shape"]):
                fail(f"{key} entry {t}")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: check_bench_json.py LATHE MODEL")
    lathe, model = sys.argv[1:]

    # --json -: the report alone on stdout.
    out = run(lathe, "bench", model, "--json", "-", "--threads", "1",
              "--iterations", "7", "--warmup", "2")
    r = json.loads(out)
    check_report(r, model, 1, 7, 2, 0)
    if r["inputs"] != [{"name": "x", "dtype": "float32", "shape": [1, 4]}] or \
            r["outputs"] != [{"name": "y", "dtype": "float32", "shape": [1, 4]}] or \
            r["batch"] != 1:
        fail(f"inputs/outputs/batch: {r['inputs']} {r['outputs']} {r['batch']}")

    with tempfile.TemporaryDirectory() as tmp:
        # --json FILE: the text line on stdout, the report in the file; the
        # --opt=value spelling; --min-seconds keeps timing past --iterations.
        path = os.path.join(tmp, "bench.json")
        out = run(lathe, "bench", model, f"--json={path}", "--threads=0",
                  "--iterations=1", "--warmup=0", "--min-seconds=0.05")
        if not re.fullmatch(
                r".*: compile [0-9.]+ s; [0-9]+ runs after 0 warm-up, all [0-9]+ cores?: "
                r"min \S+ ms, median \S+ ms, p90 \S+ ms; [0-9.]+ runs/s\n", out):
            fail(f"text line: {out!r}")
        with open(path) as f:
            r = json.load(f)
        check_report(r, model, 0, 1, 0, 0.05)
        if os.listdir(tmp) != ["bench.json"]:
            fail(f"files left beside the report: {os.listdir(tmp)}")
    print("lathe bench --json: ok")


if __name__ == "__main__":
    main()
