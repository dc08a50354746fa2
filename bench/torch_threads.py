"""Thread count of PyTorch in a benchmark, BLAS included.

Debian's PyTorch does its matmuls in OpenBLAS (libopenblas0-pthread), whose
thread pool torch.set_num_threads does not reach: at "1 thread" a 512^3 matmul
still ran on both cores of the development machine (94 GFLOP/s, against 71 with
OpenBLAS held to one thread). set_threads(T) sets both, so that a 1-thread
comparison is one.
"""
import ctypes

import torch


def _openblas_setters():
    torch.mm(torch.ones(2, 2), torch.ones(2, 2))  # makes sure BLAS is loaded
    setters = []
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "openblas" in line}
    for path in sorted(paths):
        try:
            setters.append(ctypes.CDLL(path).openblas_set_num_threads)
        except (OSError, AttributeError):
            pass
    return setters


_SETTERS = None


def set_threads(threads):
    """torch.set_num_threads(threads), and the same for OpenBLAS if loaded."""
    global _SETTERS
    if _SETTERS is None:
        _SETTERS = _openblas_setters()
    torch.set_num_threads(threads)
    for setter in _SETTERS:
        setter(threads)
