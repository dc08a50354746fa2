#!/usr/bin/python3
"""Compares two .npz files array by array.

Usage: compare_npz.py ACTUAL.npz EXPECTED.npz [--rtol 1e-4] [--atol 1e-6]

Both files must hold the same keys, and each pair of arrays the same shape and dtype and
be close: |actual - expected| <= atol + rtol * |expected| elementwise (numpy.allclose,
NaNs equal only to NaNs). Prints the max absolute and relative error of every array.
Exit code 0 when all match, 1 on any mismatch, 2 on bad usage or unreadable files.
"""
import argparse
import sys

import numpy as np


def load(path):
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception as e:  # noqa: BLE001 - any reading error is a usage error here
        print(f"error: cannot read {path}: {e}", file=sys.stderr)
        sys.exit(2)


def compare(name, a, e, rtol, atol):
    """Returns a list of problems (empty when the arrays match) and prints a summary."""
    problems = []
    if a.shape != e.shape:
        problems.append(f"shape {a.shape} != expected {e.shape}")
    if a.dtype != e.dtype:
        problems.append(f"dtype {a.dtype} != expected {e.dtype}")
    if a.shape != e.shape:
        print(f"  {name}: FAIL ({'; '.join(problems)})")
        return problems

    if a.size == 0:
        print(f"  {name}: {e.dtype} {e.shape} (empty)"
              + (f" FAIL ({'; '.join(problems)})" if problems else " ok"))
        return problems

    def numeric(x):
        return np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_

    if not (numeric(a) and numeric(e)):  # strings, objects: exact comparison
        if not np.array_equal(a, e):
            problems.append("values differ")
        print(f"  {name}: {e.dtype} {e.shape} "
              + ("ok" if not problems else f"FAIL ({'; '.join(problems)})"))
        return problems

    af = a.astype(np.float64)
    ef = e.astype(np.float64)
    close = np.isclose(af, ef, rtol=rtol, atol=atol, equal_nan=True)
    finite = np.isfinite(af) & np.isfinite(ef)
    # Non-finite pairs count as 0 error when they match (NaN/NaN, inf/inf), else as inf.
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(finite, np.abs(af - ef), np.where(close, 0.0, np.inf))
        rel = np.where(finite, diff / np.maximum(np.abs(ef), np.finfo(np.float64).tiny), diff)
    max_abs = float(diff.max())
    max_rel = float(rel.max())
    bad = int(close.size - np.count_nonzero(close))
    if bad:
        worst = np.unravel_index(int(np.argmax(np.where(close, -np.inf, diff))), e.shape)
        problems.append(f"{bad} of {close.size} elements differ; worst at {tuple(map(int, worst))}: "
                        f"actual {a[worst]!r} expected {e[worst]!r}")
    status = "ok" if not problems else f"FAIL ({'; '.join(problems)})"
    print(f"  {name}: {e.dtype} {e.shape} max abs err {max_abs:.3e}, "
          f"max rel err {max_rel:.3e} {status}")
    return problems


def main():
    ap = argparse.ArgumentParser(description="Compare two .npz files array by array.")
    ap.add_argument("actual")
    ap.add_argument("expected")
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol", type=float, default=1e-6)
    args = ap.parse_args()

    actual = load(args.actual)
    expected = load(args.expected)
    print(f"compare {args.actual} with {args.expected} (rtol {args.rtol:g}, atol {args.atol:g})")

    ok = True
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    if missing:
        print(f"  missing arrays: {', '.join(missing)}")
        ok = False
    if extra:
        print(f"  unexpected arrays: {', '.join(extra)}")
        ok = False
    for name in sorted(set(actual) & set(expected)):
        if compare(name, actual[name], expected[name], args.rtol, args.atol):
            ok = False

    print("MATCH" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
