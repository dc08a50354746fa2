#!/usr/bin/python3
"""End-to-end test of `lathe train` with one training step (linear.pbtxt):

1. an uninterrupted 4-epoch run with checkpoints and --metrics-out, run
   twice, on 2 threads and on 1: the two exported models must be
   byte-identical (results never depend on the thread count);
2. the same run stopped after 2 epochs (--epochs 2), then continued with
   --resume: the exported model must be byte-identical to run 1's and the
   metrics CSV equal except for the timing column;
3. the exported model passes onnx.checker (full check, with shape inference),
   its initializers are the checkpoint's parameters, and `lathe run` on it
   classifies validation digits as well as the CSV says (within one sample).

Usage: check_train_cli.py LATHE SOURCE_DIR WORK_DIR [STEP [SPEC]]
STEP is `compiled` or `reference` (the default), for `lathe train --step`;
SPEC (default test/training/linear.pbtxt, relative to SOURCE_DIR) is trained
for 4 epochs whatever its own count says.
"""
import csv
import re
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"FAILED ({p.returncode}): {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    return p.stdout


def rows_without_seconds(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    assert rows[0][-1] == "seconds", rows[0]
    return [r[:-1] for r in rows]


def main():
    lathe, src, work = sys.argv[1:4]
    step = "--step=" + (sys.argv[4] if len(sys.argv) > 4 else "reference")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    spec_src = os.path.join(src, sys.argv[5] if len(sys.argv) > 5
                            else "test/training/linear.pbtxt")
    # A copy of the spec with its paths made absolute, 4 epochs, its own
    # checkpoint block dropped (each run below gets one under WORK_DIR).
    with open(spec_src) as f:
        text = f.read()
    spec_dir = os.path.dirname(os.path.abspath(spec_src))
    text = re.sub(r'(\b(?:path|train|validation):\s*)"([^"]+)"',
                  lambda m: '%s"%s"' % (m.group(1), os.path.normpath(
                      os.path.join(spec_dir, m.group(2)))), text)
    text = re.sub(r'checkpoint\s*\{[^}]*\}', "", text)
    text = re.sub(r'\bepochs:\s*\d+', "epochs: 4", text)
    text = re.sub(r'output_model:\s*"[^"]*"', "", text)
    digits = os.path.join(src, "examples/digits.npz")
    specs = {}
    for name in ("full", "part"):
        specs[name] = os.path.join(work, name + ".pbtxt")
        with open(specs[name], "w") as f:
            f.write(text + '\ncheckpoint { dir: "ck_%s" }\n' % name)

    full_model = os.path.join(work, "full.onnx")
    out = run([lathe, "train", specs["full"], step, "-o", full_model,
               "--threads", "2", "--metrics-out", os.path.join(work, "full.csv")])
    assert out.count("\nepoch ") + out.startswith("epoch ") == 4, out  # 4 plain lines

    # Determinism: a second run with the same seed gives the same bytes,
    # whatever the number of threads.
    again = os.path.join(work, "again.onnx")
    run([lathe, "train", specs["full"], step, "-o", again, "--no-progress",
         "--threads", "1"])
    with open(full_model, "rb") as a, open(again, "rb") as b:
        assert a.read() == b.read(), "two runs with one seed differ"

    part_model = os.path.join(work, "part.onnx")
    run([lathe, "train", specs["part"], step, "--epochs", "2",
         "-o", part_model, "--metrics-out", os.path.join(work, "part.csv")])
    out = run([lathe, "train", specs["part"], step, "--resume",
               os.path.join(work, "ck_part"), "-o", part_model,
               "--metrics-out", os.path.join(work, "part.csv")])
    assert "resuming from" in out and "epoch-0002" in out, out

    with open(full_model, "rb") as a, open(part_model, "rb") as b:
        assert a.read() == b.read(), "resumed model differs from the uninterrupted one"
    full_rows = rows_without_seconds(os.path.join(work, "full.csv"))
    assert full_rows == rows_without_seconds(os.path.join(work, "part.csv"))
    assert len(full_rows) == 5, full_rows

    model = onnx.load(full_model)
    onnx.checker.check_model(model, full_check=True)
    trained = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    ck = np.load(os.path.join(work, "ck_full", "epoch-0004", "state.npz"))
    # Every parameter in the checkpoint is the exported initializer (op
    # settings such as a dropout ratio are initializers but not parameters).
    params = [f[len("param/"):] for f in ck.files if f.startswith("param/")]
    assert params and all(n in trained for n in params), (params, list(trained))
    for name in params:
        assert np.array_equal(ck["param/" + name], trained[name]), name
    assert all(np.abs(v).max() > 0 for n, v in trained.items()
               if n in ("W",) or n.endswith("weight")), "untrained weights"

    # The exported model runs; its accuracy on 64 validation digits is close
    # to what the driver measured on all of them.
    digits = np.load(digits)
    x = digits["validation_images"][:64]
    y = digits["validation_labels"][:64]
    np.save(os.path.join(work, "x.npy"), x)
    run([lathe, "run", full_model, "--input", "image=" + os.path.join(work, "x.npy"),
         "--output", os.path.join(work, "probs.npz")])
    probs = np.load(os.path.join(work, "probs.npz"))["probs"]
    accuracy = float((probs.argmax(1) == y).mean())
    assert accuracy > 0.85, accuracy
    print(f"ok: resume is byte-identical, checker passes, accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
