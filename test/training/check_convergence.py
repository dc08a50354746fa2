#!/usr/bin/python3
"""Convergence: `lathe train` (compiled step) on a shipped example spec must
reach the given validation accuracy on the 8x8 digits, and the exported
model, run by `lathe run` on held-out digits, must agree with it.

Usage: check_convergence.py LATHE SPEC WORK_DIR EPOCHS MIN_ACCURACY
"""
import csv
import os
import shutil
import subprocess
import sys

import numpy as np


def main():
    lathe, spec, work, epochs, minimum = sys.argv[1:6]
    shutil.rmtree(work, ignore_errors=True)
    # The spec's directory is copied, so that its checkpoints and outputs
    # land under WORK_DIR and never in the source tree.
    src = os.path.dirname(os.path.abspath(spec))
    shutil.copytree(src, work, ignore=shutil.ignore_patterns("checkpoints", "*.trained.onnx"))
    spec = os.path.join(work, os.path.basename(spec))
    model = os.path.join(work, "trained.onnx")
    metrics = os.path.join(work, "metrics.csv")
    p = subprocess.run([lathe, "train", spec, "--epochs", epochs, "--no-progress",
                        "-o", model, "--metrics-out", metrics],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"lathe train failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    with open(metrics) as f:
        rows = list(csv.DictReader(f))
    best = max(float(r["validation_accuracy"]) for r in rows)
    print(p.stdout)
    if best < float(minimum):
        sys.exit(f"FAILED: best validation accuracy {best:.4f} < {minimum}")

    # The exported model classifies the validation digits as trained.
    digits = np.load(os.path.join(work, "digits.npz"))
    x = digits["validation_images"]
    y = digits["validation_labels"]
    np.save(os.path.join(work, "x.npy"), x)
    # A symbolic batch dim is bound to the validation set's size.
    subprocess.run([lathe, "run", model, "--input", "image=" + os.path.join(work, "x.npy"),
                    "--shape", "image=%dx1x8x8" % len(x), "--output",
                    os.path.join(work, "out.npz")], check=True, capture_output=True)
    out = np.load(os.path.join(work, "out.npz"))
    accuracy = float((out[out.files[0]].argmax(1) == y).mean())
    print(f"ok: best validation accuracy {best:.4f}; lathe run on the exported "
          f"model: {accuracy:.4f}")
    # The export holds the best epoch's parameters (early stopping's
    # restore_best) or the last one's: its accuracy is one of the epochs'.
    if not any(abs(accuracy - float(r["validation_accuracy"])) < 1e-6 for r in rows):
        sys.exit("FAILED: the exported model's accuracy matches no epoch")


if __name__ == "__main__":
    main()
