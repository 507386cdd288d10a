"""Convolution forward+backward: convnets' NumPy layer against PyTorch's CPU conv2d.

Optional (needs the ``bench`` extra: torch). Run single-threaded, as the book's budgets are
per core:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 taskset -c 0 \\
        python benchmarks/conv_speed.py

(If the header says OpenBLAS's kernels were forced by ``OPENBLAS_CORETYPE``, add
``env -u OPENBLAS_CORETYPE`` in front to let OpenBLAS pick the CPU's own.)

For each shape it times, in one process and interleaved (best of ``--repeats``):

* ``numpy``: ``convnets.conv_fast.FastConv2d`` (what the networks run) forward + backward (float32);
* ``torch``: ``torch.nn.functional.conv2d`` forward + autograd backward for input and weight;
* ``matmul``: the three plain NumPy matmuls of the same sizes that im2col reduces the layer
  to (forward, weight gradient, input gradient): the BLAS floor for this algorithm.

and prints the time ratio numpy/torch and the fraction of matmul throughput the layer
reaches (matmul time / layer time), and for scale the same fraction for PyTorch's layer.

Two things about the machine change these numbers a lot, so the header reports them:

* which OpenBLAS kernels NumPy runs (``OPENBLAS_CORETYPE`` can force older ones);
* glibc's malloc. All three contenders allocate their multi-megabyte outputs afresh on
  every call; whether malloc recycles heap memory or maps fresh pages (one page fault per
  4 KiB) depends on what ran before (its threshold moves), which moved the strided 32x32
  layer between 5.3 and 7.3 ms and the 32x32 matmuls between 13 and 16 ms. So the script
  asks malloc (``mallopt``) to serve blocks up to 64 MiB from the heap, for everyone alike;
  ``--default-malloc`` leaves it as it is.
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import os
import platform
import time

import numpy as np
from convnets.conv_fast import FastConv2d

SHAPES = [
    # batch, C_in, C_out, kernel, stride, size
    (64, 16, 32, 3, 1, 8),
    (64, 16, 32, 3, 1, 32),
    (64, 32, 32, 3, 1, 16),
    (64, 16, 32, 3, 2, 32),
    (64, 8, 8, 3, 1, 8),
    # the other convolutions of the degradation page's ResNets (widths 8/16/32 on 8x8 digits)
    (64, 8, 16, 3, 2, 8),
    (64, 16, 16, 3, 1, 4),
    (64, 16, 32, 3, 2, 4),
    (64, 32, 32, 3, 1, 2),
]


def openblas_kernels() -> str:
    """The CPU kernels NumPy's OpenBLAS chose (or was told to use), e.g. 'SkylakeX' or 'Haswell'."""
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*"))
    for lib in libs:
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename"):
            get = getattr(ctypes.CDLL(lib), name, None)
            if get is not None:
                get.restype = ctypes.c_char_p
                return get().decode()
    return "unknown"


def heap_malloc(limit: int = 64 << 20) -> bool:
    """Ask glibc to serve blocks up to ``limit`` bytes from the heap and to keep it (no fresh pages)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3                 # from glibc's malloc.h
    return libc.mallopt(m_mmap_threshold, limit) == 1 and libc.mallopt(m_trim_threshold, 4 * limit) == 1


def best_of(fn, repeats: int) -> float:
    fn()                                      # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(shape, repeats: int, rng) -> tuple[float, float, float]:
    """Best times (seconds) of our layer, PyTorch's, and the equivalent matmuls, for one shape."""
    import torch

    n, c, o, k, s, size = shape
    conv = FastConv2d(c, o, k, s, k // 2, rng=rng)
    x = rng.standard_normal((n, c, size, size)).astype(np.float32)
    out = conv.forward(x)
    dout = rng.standard_normal(out.shape).astype(np.float32)

    def ours():
        conv.forward(x)
        conv.backward(dout)

    xt = torch.from_numpy(x).requires_grad_(True)
    wt = torch.from_numpy(conv.params["W"].copy()).requires_grad_(True)
    bt = torch.from_numpy(conv.params["b"].copy()).requires_grad_(True)
    dt = torch.from_numpy(dout)

    def theirs():
        torch.nn.functional.conv2d(xt, wt, bt, stride=s, padding=k // 2).backward(dt)

    m, kk = out.shape[0] * out.shape[2] * out.shape[3], c * k * k
    cols = rng.standard_normal((m, kk)).astype(np.float32)
    wmat = rng.standard_normal((kk, o)).astype(np.float32)
    g = rng.standard_normal((m, o)).astype(np.float32)

    def matmuls():
        cols @ wmat
        g.T @ cols
        g @ wmat.T

    # interleave the three so that machine noise hits them alike
    times = [(best_of(ours, repeats), best_of(theirs, repeats), best_of(matmuls, repeats)) for _ in range(3)]
    return tuple(min(t[i] for t in times) for i in range(3))


def main() -> None:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--default-malloc", action="store_true", help="leave glibc's malloc thresholds alone")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    malloc = "default" if args.default_malloc or not heap_malloc() else "heap up to 64 MiB"
    forced = os.environ.get("OPENBLAS_CORETYPE")
    print(f"numpy {np.__version__}, torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"torch threads {torch.get_num_threads()}")
    print(f"OpenBLAS kernels: {openblas_kernels()}" + (f" (forced by OPENBLAS_CORETYPE={forced})" if forced else "")
          + f"; malloc: {malloc}")
    print(f"{'shape (N, Cin->Cout, k/s, HxW)':<32}{'numpy ms':>10}{'torch ms':>10}{'ratio':>8}"
          f"{'matmul ms':>11}{'of matmul':>11}{'torch of matmul':>17}")
    for shape in SHAPES:
        a, b, mm = measure(shape, args.repeats, rng)
        n, c, o, k, s, size = shape
        label = f"{n}, {c}->{o}, {k}/{s}, {size}x{size}"
        print(f"{label:<32}{a * 1e3:>10.2f}{b * 1e3:>10.2f}{a / b:>8.2f}{mm * 1e3:>11.2f}"
              f"{mm / a:>10.0%}{mm / b:>16.0%}")


if __name__ == "__main__":
    main()
