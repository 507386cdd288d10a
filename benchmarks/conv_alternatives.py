"""Two other ways to run a stride-1 "same" convolution, timed against ``convnets.conv_fast.FastConv2d``.

An experiment kept for whoever takes up the speed target of issue 4 next (results and the
reasons they were not adopted: benchmarks/RESULTS.md, "Other algorithms"). Both keep the
padded batch as one flat, channels-last matrix: row u is one pixel position of the batch
(each example is p zero rows, then H rows of p zeros and W pixels, R = W + p wide), column
c a channel. Output pixel u (junk where a window wraps) reads input rows u + i*R + j.

* ``ShiftedTaps``: no im2col at all. Kernel tap (i, j) is a 1x1 convolution of the input
  shifted by i*R + j rows, and a shifted matrix is a slice of the flat one, which BLAS
  reads in place. out = sum over taps of x[shift:] @ W_ij, accumulated by BLAS gemm itself
  (beta = 1, through SciPy; NumPy's matmul cannot accumulate). dx is the same with dout,
  negative shifts and the transposed taps; dW needs each tap's product with K = all
  pixels, done here on an im2col instead (nine such gemms were slower).
* ``OverlappingRows``: im2col, channels-last. Taps (i, 0..k-1) of a pixel are k*C
  consecutive numbers in the flat matrix, so each kernel row is one copy of an
  overlapping-row view (k copies instead of k*k), and the layer is one matmul.

Stride 1, groups 1, odd k, padding k // 2 (timed in float32; tests/test_conv_alternatives.py
checks them against ``convnets.conv.Conv2d`` in float64). Like FastConv2d, both keep their
work arrays between calls (a fresh multi-megabyte array costs a page fault per 4 KiB page);
``ShiftedTaps`` goes through the batch in chunks of rows that stay in cache,
``OverlappingRows`` takes the whole batch at once.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 0 python benchmarks/conv_alternatives.py
"""

from __future__ import annotations

import time

import numpy as np
from convnets.conv import Conv2d
from convnets.conv_fast import FastConv2d
from numpy.lib.stride_tricks import as_strided
from scipy.linalg.blas import get_blas_funcs

SHAPES = [(64, 16, 32, 8), (64, 16, 32, 32), (64, 32, 32, 16), (64, 8, 8, 8)]   # N, C_in, C_out, H=W


def gemm_into(a, b, out, accumulate):
    """out = a @ b, or out += a @ b, in place by BLAS gemm; a and b C- or F-contiguous, out C-contiguous."""
    gemm = get_blas_funcs("gemm", (a, b, out))

    def fortran(m):                     # BLAS is column-major: a C-ordered matrix is its own transpose
        return (m.T, 0) if m.flags.c_contiguous else (m, 1)

    (bf, transpose_b), (af, transpose_a) = fortran(b), fortran(a)
    gemm(1.0, bf, af, beta=1.0 if accumulate else 0.0, c=out.T,
         trans_a=transpose_b, trans_b=transpose_a, overwrite_c=True)


def kernel_row_cols(flat, start, rows, row_length, k, out):
    """im2col of ``rows`` output pixels from a flat channels-last matrix into ``out``: (rows, k * k * C),
    kernel row i one copy of the overlapping view flat[start + i*R + j, c] (j, c consecutive)."""
    c = flat.shape[1]
    cols = out[: rows * k * k * c].reshape(rows, k, k * c)
    for i in range(k):
        window = flat[start + i * row_length :]
        cols[:, i] = as_strided(window, (rows, k * c), (c * flat.itemsize, flat.itemsize), writeable=False)
    return cols.reshape(rows, k * k * c)


class FlatSame:
    """What both variants share: the flat layout, NCHW in and out, kept work arrays."""

    def __init__(self, conv: Conv2d):
        self.w, self.b = conv.params["W"], conv.params["b"]
        self.k = conv.kernel
        self.kept: dict[str, np.ndarray] = {}

    def keep(self, name, shape, dtype, zero=False):
        """A work array kept between calls; ``zero``: zeroed when made, then only its interior is
        written (so callers put the input's shape in ``name``: another shape has other borders)."""
        if name not in self.kept or self.kept[name].shape != shape:
            self.kept[name] = (np.zeros if zero else np.empty)(shape, dtype)
        return self.kept[name]

    def flatten(self, x):
        n, c, h, w = x.shape
        k, p = self.k, self.k // 2
        row = w + p
        total = n * (h + p) * row
        overhang = (k - 1) * (row + 1)                                  # the last windows read past the end
        flat = self.keep(f"flat {x.shape}", (total + overhang, c), x.dtype, zero=True)
        flat[:total].reshape(n, h + p, row, c)[:, p:, p:] = x.transpose(0, 2, 3, 1)
        self.shape, self.row, self.total = x.shape, row, total
        return flat

    def unflatten(self, flat, offset):
        """(N, C, H, W) from a flat matrix whose pixel (y, x) sits at row y + offset, column x + offset
        of each example's (H + p) x R block: offset p for inputs (padding first), 0 for outputs."""
        n, _, h, w = self.shape
        p = self.k // 2
        blocks = flat.reshape(n, h + p, self.row, -1)
        return blocks[:, offset : offset + h, offset : offset + w].transpose(0, 3, 1, 2).copy()

    def dout_frame(self, dout):
        """dout in the output frame (junk rows zero), with (k-1)*(R+1) zero rows on both sides."""
        n, _, h, w = self.shape
        k, p = self.k, self.k // 2
        margin = (k - 1) * (self.row + 1)
        frame = self.keep(f"frame {dout.shape}", (margin + self.total + margin, dout.shape[1]), dout.dtype, zero=True)
        frame[margin : margin + self.total].reshape(n, h + p, self.row, -1)[:, :h, :w] = dout.transpose(0, 2, 3, 1)
        return frame, margin


class ShiftedTaps(FlatSame):
    CHUNK_BYTES = 2 ** 19         # input + output rows per gemm pass; 2 MiB of columns for dW

    def chunks(self, bytes_per_row, budget):
        step = max(1, budget // bytes_per_row)
        return [(start, min(self.total, start + step)) for start in range(0, self.total, step)]

    def forward(self, x):
        self.flat = self.flatten(x)
        k, r = self.k, self.row
        (o, c), item = self.w.shape[:2], x.itemsize
        taps = np.ascontiguousarray(self.w.transpose(2, 3, 1, 0))                # (k, k, C_in, C_out)
        y = self.keep("y", (self.total, o), x.dtype)
        for start, stop in self.chunks((c + o) * item, self.CHUNK_BYTES):
            for i in range(k):
                for j in range(k):
                    shift = i * r + j
                    gemm_into(self.flat[start + shift : stop + shift], taps[i, j], y[start:stop],
                              accumulate=(i, j) != (0, 0))
        return self.unflatten(y, 0) + self.b[:, None, None]

    def backward(self, dout):
        k, r = self.k, self.row
        (o, c), item = self.w.shape[:2], dout.itemsize
        frame, margin = self.dout_frame(dout)
        dy = frame[margin : margin + self.total]
        dweights = np.zeros((k * k * c, o), dout.dtype)
        for start, stop in self.chunks(k * k * c * item, 4 * self.CHUNK_BYTES):
            work = self.keep("cols", (4 * self.CHUNK_BYTES // item,), dout.dtype)
            cols = kernel_row_cols(self.flat, start, stop - start, r, k, work)
            dweights += cols.T @ dy[start:stop]
        flipped = np.ascontiguousarray(self.w.transpose(2, 3, 0, 1))             # (k, k, C_out, C_in)
        dx = self.keep("dx", (self.total, c), dout.dtype)
        for start, stop in self.chunks((c + o) * item, self.CHUNK_BYTES):
            for i in range(k):
                for j in range(k):
                    first = margin + start - i * r - j
                    gemm_into(frame[first : first + stop - start], flipped[i, j], dx[start:stop],
                              accumulate=(i, j) != (0, 0))
        dw = dweights.reshape(k, k, c, o).transpose(3, 2, 0, 1)
        return self.unflatten(dx, self.k // 2), dw, dy.sum(axis=0)


class OverlappingRows(FlatSame):
    def forward(self, x):
        self.flat = self.flatten(x)
        k = self.k
        work = self.keep("cols", (self.total * k * k * x.shape[1],), x.dtype)
        self.cols = kernel_row_cols(self.flat, 0, self.total, self.row, k, work)
        y = self.cols @ self.w.transpose(2, 3, 1, 0).reshape(-1, self.w.shape[0])
        return self.unflatten(y, 0) + self.b[:, None, None]

    def backward(self, dout):
        k = self.k
        frame, margin = self.dout_frame(dout)
        dy = frame[margin : margin + self.total]
        dweights = self.cols.T @ dy
        # dx[v] = sum over taps of W_ij^T dy[v - i*R - j]: the flipped kernel on the dout frame
        dcols = kernel_row_cols(frame, margin - (k - 1) * (self.row + 1), self.total, self.row, k,
                                self.keep("dcols", (self.total * k * k * dout.shape[1],), dout.dtype))
        flipped = self.w[:, :, ::-1, ::-1].transpose(2, 3, 0, 1).reshape(-1, self.w.shape[1])
        dw = dweights.reshape(k, k, -1, self.w.shape[0]).transpose(3, 2, 0, 1)
        return self.unflatten(dcols @ flipped, self.k // 2), dw, dy.sum(axis=0)


def best_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def check(variant, conv: Conv2d, x, dout, rtol=1e-4) -> None:
    """Assert that ``variant`` gives the convolution's output, dx, dW and db for (x, dout)."""
    conv.zero_grad()
    expected = (conv.forward(x), conv.backward(dout), conv.grads["W"], conv.grads["b"])
    y = variant.forward(x)
    got = (y, *variant.backward(dout))
    for name, ours, theirs in zip(("out", "dx", "dW", "db"), got, expected, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * np.abs(theirs).max(), err_msg=name)


def time_shape(n, c, o, size, rng, repeats, torch=None) -> list[float]:
    """Best ms of FastConv2d, ShiftedTaps, OverlappingRows (and torch) forward + backward, interleaved."""
    conv = FastConv2d(c, o, 3, 1, 1, rng=rng)
    x = rng.standard_normal((n, c, size, size)).astype(np.float32)
    dout = rng.standard_normal((n, o, size, size)).astype(np.float32)
    runs = [lambda: (conv.forward(x), conv.backward(dout))]
    for variant in (ShiftedTaps(conv), OverlappingRows(conv)):
        check(variant, conv, x, dout)
        runs.append(lambda v=variant: (v.forward(x), v.backward(dout)))
    if torch:
        xt, dt = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(dout)
        wt = torch.from_numpy(conv.params["W"].copy()).requires_grad_(True)
        bt = torch.from_numpy(conv.params["b"].copy()).requires_grad_(True)
        runs.append(lambda: torch.nn.functional.conv2d(xt, wt, bt, padding=1).backward(dt))
    rounds = [[best_ms(run, repeats) for run in runs] for _ in range(3)]
    return [min(column) for column in zip(*rounds, strict=True)]


def main(repeats: int = 30) -> None:
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:                    # the torch column needs the bench extra
        torch = None
    rng = np.random.default_rng(0)
    names = ["FastConv2d", "ShiftedTaps", "OverlappingRows"] + (["torch"] if torch else [])
    print(f"{'N, Cin->Cout, HxW':<22}" + "".join(f"{name + ' ms':>20}" for name in names))
    for n, c, o, size in SHAPES:
        row = "".join(f"{ms:>20.2f}" for ms in time_shape(n, c, o, size, rng, repeats, torch))
        print(f"{f'{n}, {c}->{o}, {size}x{size}':<22}{row}")


if __name__ == "__main__":
    main()
