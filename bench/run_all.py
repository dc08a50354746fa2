#!/usr/bin/python3
"""Inference speed of lathe against ONNX Runtime, PyTorch (eager and
TorchScript) and OpenBLAS, measured in one run on this machine: the table of
the CPU performance issue (issue 6) for docs/performance.md.

For each workload of bench/models.py the seeded PyTorch model is exported to
ONNX once (cache: build/bench-models/), then at each thread count T:
  lathe        `lathe bench MODEL --threads T --json -`: median of warm runs
               of the compiled model through the C++ API (compile time apart)
  ORT          ../shared/bench/ort-bench (or $LATHE_ORT_BENCH): ONNX Runtime's
               CPU build, all graph optimisations, T intra-op threads
  PyTorch      eager (eval, no_grad) and TorchScript (trace + freeze) under
               torch.set_num_threads(T) and OpenBLAS held to T threads
               (bench/torch_threads.py), timed call by call as lathe is
  OpenBLAS     SGEMM rows only: numpy.matmul in a child process with
               OPENBLAS_NUM_THREADS=T
All engines run until both K iterations and S seconds of timed runs are done
(after a warm-up) and report the median, so no engine is timed on a cold
cache or a single call. Ratios are lathe's median over the other's (below 1:
lathe is faster); "lathe/PyTorch" uses the faster of eager and TorchScript.
Inputs are random (uniform [-1, 1)) on every side. An engine that cannot run
(ORT not installable, a model lathe cannot compile) is reported as such and
the run goes on.

Usage: bench/run_all.py [--quick] [--only NAME[,NAME]] [--threads 1,2]
                        [--lathe build/bin/lathe] [--markdown FILE] [--json FILE]
Names: sgemm256 sgemm1024 sgemm2048 mlp_b1 mlp_b64 lenet_b1 lenet_b64
       cifar_bn_b64 resnet18 mobilenet_v2 lstm
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import BY_NAME, REPO, WORKLOADS, build, count_flops  # noqa: E402
from torch_threads import set_threads  # noqa: E402


def quantiles(ms):
    """min, median, p90 by nearest rank, as lathe bench and ort-bench count."""
    ms = sorted(ms)
    at = lambda q: ms[min(len(ms) - 1, round(q * (len(ms) - 1)))]  # noqa: E731
    return {"min_ms": ms[0], "median_ms": at(0.5), "p90_ms": at(0.9),
            "iterations": len(ms)}


def time_calls(fn, cfg):
    """Times fn() call by call after a warm-up (cfg.warmup calls and at least
    0.2 s, which also lets TorchScript's profiling executor settle)."""
    start = time.perf_counter()
    k = 0
    while k < cfg.warmup or time.perf_counter() - start < 0.2:
        fn()
        k += 1
    ms, total = [], 0.0
    while len(ms) < cfg.iterations or total < cfg.min_seconds:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        ms.append(dt * 1e3)
        total += dt
    return quantiles(ms)


def run_json(cmd, env=None, timeout=900):
    """Runs cmd; returns (parsed last JSON object of stdout, None) or
    (None, one-line reason)."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e).splitlines()[0]
    if p.returncode != 0:
        lines = (p.stderr.strip() or p.stdout.strip() or "no output").splitlines()
        return None, f"exit {p.returncode}: {lines[-1][:200]}"
    text = p.stdout.strip()
    start = text.rfind("\n{") + 1 if not text.startswith("{") else 0
    try:
        return json.loads(text[start:]), None
    except ValueError:
        return None, "no JSON in the output"


def time_lathe(cfg, path, threads):
    return run_json([cfg.lathe, "bench", path, "--threads", str(threads),
                     "--warmup", str(cfg.warmup), "--iterations", str(cfg.iterations),
                     "--min-seconds", str(cfg.min_seconds), "--json", "-"])


def time_ort(cfg, path, threads):
    if not cfg.ort:
        return None, "no ort-bench runner (set LATHE_ORT_BENCH)"
    return run_json([cfg.ort, path, "--threads", str(threads),
                     "--min-seconds", str(max(cfg.min_seconds, 0.1))])


BLAS_SNIPPET = r"""
import json, sys, time
import numpy as np
n, iters, min_s = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
rng = np.random.default_rng(0)
a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
c = np.empty((n, n), np.float32)
t = time.perf_counter()
while time.perf_counter() - t < 0.2:
    np.matmul(a, b, out=c)
ms, total = [], 0.0
while len(ms) < iters or total < min_s:
    t0 = time.perf_counter(); np.matmul(a, b, out=c); dt = time.perf_counter() - t0
    ms.append(dt * 1e3); total += dt
ms.sort()
print(json.dumps({"median_ms": ms[round(0.5 * (len(ms) - 1))], "min_ms": ms[0]}))
"""


def time_blas(cfg, n, threads):
    """numpy's SGEMM in a child process, so that OpenBLAS reads its thread
    count at start-up."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    return run_json([sys.executable, "-c", BLAS_SNIPPET, str(n), str(cfg.iterations),
                     str(cfg.min_seconds)], env=env)


def time_torch(model, inputs, threads, cfg):
    """(eager, TorchScript) quantiles or reasons."""
    set_threads(threads)
    out = {}
    with torch.no_grad():
        out["eager"] = time_calls(lambda: model(*inputs), cfg), None
        try:
            scripted = torch.jit.freeze(torch.jit.trace(model, tuple(inputs)))
            out["script"] = time_calls(lambda: scripted(*inputs), cfg), None
        except Exception as e:  # tracing support varies by model
            out["script"] = None, f"TorchScript failed: {str(e).splitlines()[0][:120]}"
    return out


def measure(cfg, workload, log):
    """All engines at every thread count for one workload."""
    model, inputs, path = build(workload, cfg.cache)
    flops = count_flops(model, inputs)
    result = {"name": workload.name, "label": workload.label, "flops": flops,
              "model": path, "threads": {}}
    for t in cfg.threads:
        row = {}
        row["lathe"] = time_lathe(cfg, path, t)
        row["ort"] = time_ort(cfg, path, t)
        row.update(time_torch(model, inputs, t, cfg))
        if workload.goal.startswith("blas"):
            row["blas"] = time_blas(cfg, workload.shapes[0][0], t)
        result["threads"][t] = {k: {"result": v[0], "error": v[1]} for k, v in row.items()}
        cells = []
        for k, (r, err) in row.items():
            cells.append(f"{k} {r['median_ms']:.4g} ms" if r else f"{k} n/a ({err})")
        log(f"{workload.name} T={t}: " + ", ".join(cells))
    return result


# ---------------------------------------------------------------- the table


def median(res, t, engine):
    cell = res["threads"].get(t, {}).get(engine)
    return cell["result"]["median_ms"] if cell and cell["result"] else None


def reason(res, t, engine):
    cell = res["threads"].get(t, {}).get(engine)
    return cell["error"] if cell else "not run"


def fmt_ms(v):
    return "—" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")


def fmt_ratio(a, b):
    return "—" if a is None or b is None else f"{a / b:.2f}x"


def verdict(ok):
    return "not measured" if ok is None else ("met" if ok else "**not met**")


def table(cfg, results):
    rows = ["| workload | threads | lathe ms | lathe GFLOP/s | ORT ms | PyTorch eager ms "
            "| TorchScript ms | OpenBLAS GFLOP/s | lathe/ORT | lathe/PyTorch | goal | met |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for res in results:
        w = BY_NAME[res["name"]]
        for t in cfg.threads:
            lathe, ort = median(res, t, "lathe"), median(res, t, "ort")
            eager, script = median(res, t, "eager"), median(res, t, "script")
            torch_best = min([v for v in (eager, script) if v is not None], default=None)
            gflops = lambda ms: "—" if ms is None else f"{res['flops'] / ms / 1e6:.1f}"  # noqa
            blas = median(res, t, "blas")
            if w.goal.startswith("blas"):
                ok = None if lathe is None or blas is None else lathe <= blas
            else:
                ok = None if lathe is None or ort is None else lathe / ort <= w.goal_ratio()
            rows.append(f"| {w.label} | {t} | {fmt_ms(lathe)} | {gflops(lathe)} | "
                        f"{fmt_ms(ort)} | {fmt_ms(eager)} | {fmt_ms(script)} | "
                        f"{gflops(blas) if w.goal.startswith('blas') else ''} | "
                        f"{fmt_ratio(lathe, ort)} | {fmt_ratio(lathe, torch_best)} | "
                        f"{w.goal_text()} | {verdict(ok)} |")
            for engine in ("lathe", "ort", "eager", "script", "blas"):
                if engine in res["threads"][t] and median(res, t, engine) is None:
                    notes.append(f"{w.name}, {t} thread(s), {engine}: not measured "
                                 f"({reason(res, t, engine)})")
    by = {r["name"]: r for r in results}
    if "resnet18" in by:
        res = by["resnet18"]
        cell = res["threads"][cfg.threads[0]]["lathe"]["result"]
        compile_s = cell["compile_s"] if cell else None
        rows.append(f"| compile time, ResNet-18 | {cfg.threads[0]} | "
                    f"{'—' if compile_s is None else f'{compile_s:.2f} s'} | | | | | | | | "
                    f"≤ 5 s | {verdict(None if compile_s is None else compile_s <= 5)} |")
        if 1 in cfg.threads and 2 in cfg.threads:
            l1, l2 = median(res, 1, "lathe"), median(res, 2, "lathe")
            o1, o2 = median(res, 1, "ort"), median(res, 2, "ort")
            sp = None if l1 is None or l2 is None else l1 / l2
            osp = "—" if o1 is None or o2 is None else f"{o1 / o2:.2f}x"
            rows.append(f"| 2 threads vs 1, ResNet-18 batch 1 (speed-up) | 1→2 | "
                        f"{'—' if sp is None else f'{sp:.2f}x'} | | {osp} | | | | | | "
                        f"≥ 1.8x | {verdict(None if sp is None else sp >= 1.8)} |")
    return "\n".join(rows), notes


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def versions(results):
    ort = next((c["result"].get("version") for r in results for tc in r["threads"].values()
                for k, c in tc.items() if k == "ort" and c["result"]), None)
    return (f"PyTorch {torch.__version__}, ONNX Runtime {ort or 'unavailable'}, "
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs "
            f"({cpu_name()})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lathe", default=os.path.join(REPO, "build", "bin", "lathe"))
    ap.add_argument("--threads", default="1,2", help="comma-separated, e.g. 1,2")
    ap.add_argument("--only", help="comma-separated workload names")
    ap.add_argument("--quick", action="store_true",
                    help="short runs (0.2 s per measurement): a smoke test, not numbers")
    ap.add_argument("--min-seconds", type=float, help="timed seconds per measurement "
                    "(default 2, --quick 0.2)")
    ap.add_argument("--iterations", type=int, help="timed runs at least (default 10, --quick 5)")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--cache", default=os.path.join(REPO, "build", "bench-models"),
                    help="where the exported models go")
    ap.add_argument("--markdown", help="also write the table (with command, date "
                    "and versions) to this file")
    ap.add_argument("--json", help="also write every measurement to this file")
    cfg = ap.parse_args()
    cfg.threads = [int(t) for t in cfg.threads.split(",")]
    if any(t < 1 for t in cfg.threads):
        ap.error("--threads takes positive counts")
    cfg.min_seconds = cfg.min_seconds if cfg.min_seconds is not None else (
        0.2 if cfg.quick else 2.0)
    cfg.iterations = cfg.iterations or (5 if cfg.quick else 10)
    names = cfg.only.split(",") if cfg.only else [w.name for w in WORKLOADS]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        ap.error(f"unknown workload(s) {', '.join(unknown)}; known: {' '.join(BY_NAME)}")
    if not os.access(cfg.lathe, os.X_OK):
        ap.error(f"{cfg.lathe} is not an executable (build it: ninja -C build lathe)")
    ort = os.environ.get("LATHE_ORT_BENCH") or os.path.join(
        REPO, "..", "shared", "bench", "ort-bench")
    cfg.ort = os.path.abspath(ort) if os.access(ort, os.X_OK) else None

    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    started, load_before = time.time(), os.getloadavg()[0]
    results = [measure(cfg, BY_NAME[n], log) for n in names]
    text, notes = table(cfg, results)
    elapsed = time.time() - started
    command = "bench/run_all.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    header = (f"Measured {datetime.date.today().isoformat()} with `{command.strip()}` "
              f"({elapsed / 60:.1f} min; load average {load_before:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after); {versions(results)}.")
    footer = "\n".join(f"- {n}" for n in notes)
    print(header + "\n\n" + text + ("\n\n" + footer if footer else ""))
    if cfg.markdown:
        tmp = cfg.markdown + ".tmp"
        with open(tmp, "w") as f:
            f.write(header + "\n\n" + text + "\n" + ("\n" + footer + "\n" if footer else ""))
        os.replace(tmp, cfg.markdown)
    if cfg.json:
        tmp = cfg.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"date": datetime.datetime.now().isoformat(), "command": command,
                       "results": results}, f, indent=1)
        os.replace(tmp, cfg.json)


if __name__ == "__main__":
    main()
