"""The 2-D convolution layer: im2col, and what makes it fast enough to train on one core.

A convolution is a matrix product in disguise. im2col (as in Caffe) lays the k*k shifted
copies of the padded input out as one matrix ``cols`` of shape (C_in * k * k, columns),
one column per output pixel; the layer is then W (C_out, C_in * k * k) @ cols, and its
backward pass is two more products: dW = dout @ cols^T, and dx = the adjoint of im2col
applied to W^T @ dout. ``tests/test_conv.py`` checks all of it against plain loops and
finite differences; ``benchmarks/conv_speed.py`` times it against PyTorch.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .checks import array, positive_int
from .layers import Layer, channel_sum, scatter_windows, unpad, windows
from .shapes import conv_output_size

_SCRATCH: dict[str, np.ndarray] = {}
_HOLDS: dict[str, object] = {}


def scratch(name: str, shape: tuple[int, ...], dtype, holder: object = None) -> np.ndarray:
    """Work space shared by every layer, overwritten by whoever asks next (contents undefined).

    One block of memory per name, grown when a larger shape is asked for, so that work
    arrays are neither allocated on every call (a fresh multi-megabyte array costs a page
    fault per 4 KiB page) nor kept per layer (44 layers' copies would not fit in cache).
    ``holder`` records whose data the block now holds (see ``holds``).
    """
    size, dtype = math.prod(shape), np.dtype(dtype)
    block = _SCRATCH.get(name)
    if block is None or block.dtype != dtype or block.size < size:
        block = _SCRATCH[name] = np.empty(size, dtype)
    _HOLDS[name] = holder
    return block[:size].reshape(shape)


def holds(name: str, holder: object) -> bool:
    """Whether the scratch block ``name`` still holds what ``holder`` put there."""
    return holder is not None and _HOLDS.get(name) is holder


@functools.lru_cache(maxsize=64, typed=True)
def tap_matrix(h: int, w: int, kernel: int, stride: int, padding: int, dtype=np.float32) -> np.ndarray:
    """Which input pixel each kernel tap of each output pixel reads: 0/1, (H*W, k*k, H'*W').

    Entry [y*W + x, i*k + j, r*W' + q] is 1 when tap (i, j) of output pixel (r, q) lands on
    input pixel (y, x); a tap that lands in the zero padding has no entry. Read-only, cached.
    Meant for tiny images: it has (H * W)^2 * k * k entries.
    """
    for name, value in (("h", h), ("w", w), ("kernel", kernel), ("stride", stride)):
        positive_int(name, value)
    positive_int("padding", padding, minimum=0)
    out_h, out_w = conv_output_size(h, kernel, stride, padding), conv_output_size(w, kernel, stride, padding)
    r, q, i, j = np.meshgrid(np.arange(out_h), np.arange(out_w), np.arange(kernel), np.arange(kernel), indexing="ij")
    y, x = r * stride + i - padding, q * stride + j - padding
    inside = (y >= 0) & (y < h) & (x >= 0) & (x < w)
    taps = np.zeros((h * w, kernel * kernel, out_h * out_w), dtype=dtype)
    taps[(y * w + x)[inside], (i * kernel + j)[inside], (r * out_w + q)[inside]] = 1
    taps.flags.writeable = False
    return taps


class Conv2d(Layer):
    """2-D convolution with stride, zero padding and groups (depthwise when groups = C_in).

    x: (N, C_in, H, W) -> (N, C_out, H', W'), H' = floor((H + 2p - k) / s) + 1.

    im2col, channels first (as in Caffe): the k*k shifted copies of the padded input are
    laid out as a matrix ``cols`` of shape (C_in * k * k, columns), one column per output
    pixel, and the convolution is one matmul per group, W (C_out/G, C_in/G * k * k) @ cols.
    Backward: dW = dout @ cols^T, and dx is the adjoint of im2col applied to W^T @ dout.

    What makes it fast (timings in benchmarks/RESULTS.md):

    1. **Chunks.** The batch goes through a few examples at a time, so that one chunk's
       ``cols`` (about ``CHUNK_BYTES``) is still in the CPU cache when the matmul reads it.
       Backward rebuilds each chunk's ``cols`` from the stored padded input instead of
       keeping every chunk's: cheaper than reading them back from memory, and smaller.
    2. **Stride 1 on the flattened image.** With the padded image flattened row by row
       (row length R), the window at kernel offset (i, j) is one contiguous run starting at
       i * R + j, so each copy moves long runs. The price: each output row carries R - W'
       junk columns (windows that wrap onto the next row), computed and then dropped. Rows
       share their padding (each row is p zeros then W pixels; a window running off the
       right edge reads the next row's zeros), so R = W + p, and a 3x3 "same" convolution
       has one junk column per row.
       Its dx is then a correlation of the (zero-padded) dout with the flipped kernel, the
       same im2col again; strided convolutions scatter W^T @ dout back instead (col2im).
    3. **No fresh work arrays**: the padded input is kept on the layer (``Layer.buffer``),
       the chunk-sized work arrays are shared by all layers (``scratch``), so they are
       neither page-faulted in on every call nor evicted from cache by 40 layers' copies.
    4. **Tiny images** (H * W <= 2 k*k, groups = 1, e.g. the 4x4 and 2x2 maps at the end of a
       small ResNet on 8x8 digits): the convolution is written down as the dense matrix of
       the linear map it is, (C_in * H * W, C_out * H' * W'), built from the weights with
       ``tap_matrix``. It has at most twice im2col's multiplications and needs no copies.
    """

    CHUNK_BYTES = 2 ** 21

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int = 1,
                 padding: int = 0, groups: int = 1, bias: bool = True, *,
                 rng: np.random.Generator | None = None, gain: float = 1.0, dtype=np.float32):
        super().__init__()
        self.in_channels = positive_int("in_channels", in_channels)
        self.out_channels = positive_int("out_channels", out_channels)
        self.kernel = positive_int("kernel", kernel)
        self.stride = positive_int("stride", stride)
        self.padding = positive_int("padding", padding, minimum=0)
        self.groups = positive_int("groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}"
            )
        self._init_weight((out_channels, in_channels // groups, kernel, kernel),
                          in_channels // groups * kernel * kernel, bias, rng, gain, dtype)

    # ---- geometry
    def _geometry(self, h, w):
        """Output size, padded row length R, and the columns computed per output row.

        Stride 1 computes all R windows of a row (W' and the junk); R = W + p when rows can
        share their padding (p <= k - 1), else W + 2p. Strided layers compute W' columns.
        """
        k, s, p = self.kernel, self.stride, self.padding
        out_h, out_w = conv_output_size(h, k, s, p), conv_output_size(w, k, s, p)
        if s > 1:
            return out_h, out_w, w + 2 * p, out_w
        row = w + p if p <= k - 1 else w + 2 * p
        return out_h, out_w, row, row

    def _chunks(self, n, columns_per_example, rows):
        """Split range(n) into equal chunks whose cols matrix (rows x columns) is about CHUNK_BYTES."""
        per_example = rows * columns_per_example * self.params["W"].itemsize
        count = -(-n * per_example // self.CHUNK_BYTES)            # ceil division
        size = -(-n // max(1, count))
        return [(start, min(n, start + size)) for start in range(0, n, size)]

    # ---- im2col and its adjoint, for examples start:stop of a padded, flattened batch
    def _im2col_runs(self, flat, start, stop, row, length, offset=0, name="cols", holder=None):
        """Stride 1: cols (C * k * k, m * length), window (i, j) = flat[n, :, offset + i*R + j :][:length]."""
        m, c, k = stop - start, flat.shape[1], self.kernel
        cols = scratch(name, (c, k, k, m, length), flat.dtype, holder)
        for i in range(k):                                    # k*k contiguous runs, no pixel loops
            for j in range(k):
                first = offset + i * row + j
                cols[:, i, j] = flat[start:stop, :, first : first + length].transpose(1, 0, 2)
        return cols.reshape(c * k * k, m * length)

    def _im2col_strided(self, padded, start, stop, out_h, out_w, holder=None):
        """Any stride: padded (N, C, Hp, Wp) -> cols (C * k * k, m * H' * W'), one copy of the windows."""
        m, c, k = stop - start, padded.shape[1], self.kernel
        cols = scratch("cols", (c, k, k, m, out_h, out_w), padded.dtype, holder)
        cols[...] = windows(padded[start:stop], k, self.stride, out_h, out_w).transpose(1, 4, 5, 0, 2, 3)
        return cols.reshape(c * k * k, m * out_h * out_w)

    def _grouped(self, weights, cols):
        """One matmul per group: weights (G, rows_out, rows_in) @ cols (G * rows_in, M) -> (G * rows_out, M)."""
        g = self.groups
        return np.matmul(weights, cols.reshape(g, -1, cols.shape[1])).reshape(-1, cols.shape[1])

    def _input_cols(self, flat, padded, start, stop, out_h, out_w, row, holder=None):
        """cols of examples start:stop of the stored padded input, by the stride's im2col."""
        if self.stride == 1:
            return self._im2col_runs(flat, start, stop, row, out_h * row, holder=holder)
        return self._im2col_strided(padded, start, stop, out_h, out_w, holder)

    # ---- forward and backward
    def forward(self, x):
        self._check_input(x, 4, self.in_channels, "input channels")
        _, _, h, w = x.shape
        if self.groups == 1 and h * w <= 2 * self.kernel ** 2:
            return self._forward_dense(x)
        return self._forward_im2col(x)

    def backward(self, dout):
        self._check_dout(dout)
        array("dout", dout, ndim=4, layer=self.name)
        if dout.shape != self.cache[1]:
            raise ValueError(f"{self.name}: dout has shape {dout.shape}, expected {self.cache[1]}")
        if self.cache[0] == "dense":
            return self._backward_dense(dout)
        return self._backward_im2col(dout)

    def _forward_dense(self, x):
        """out (N, C_out * H' * W') = x (N, C_in * H * W) @ M, the convolution's own matrix:
        M[(c, y, x), (o, r, q)] = sum over taps t of W[o, c, t] * taps[(y, x), t, (r, q)]."""
        n, c, h, w = x.shape
        k, o = self.kernel, self.out_channels
        out_h, out_w = self._geometry(h, w)[:2]
        taps = tap_matrix(h, w, k, self.stride, self.padding, x.dtype)          # (H*W, k*k, H'*W')
        matrix = np.tensordot(self.params["W"].reshape(o, c, k * k), taps, axes=([2], [1]))
        matrix = matrix.transpose(1, 2, 0, 3).reshape(c * h * w, o * out_h * out_w)
        out = (x.reshape(n, -1) @ matrix).reshape(n, o, out_h, out_w)
        if "b" in self.params:
            out += self.params["b"][:, None, None]
        self.cache = ("dense", out.shape, x, matrix, taps)
        return out

    def _backward_dense(self, dout):
        _, _, x, matrix, taps = self.cache
        n, c, h, w = x.shape
        o = self.out_channels
        dout_rows = dout.reshape(n, -1)
        dmatrix = (x.reshape(n, -1).T @ dout_rows).reshape(c, h * w, o, -1)     # dL/dM
        # a weight sits in M once for every (input pixel, output pixel) pair its tap joins
        dweights = np.tensordot(dmatrix, taps, axes=([1, 3], [0, 2]))             # (C_in, C_out, k*k)
        self.grads["W"] += dweights.transpose(1, 0, 2).reshape(self.params["W"].shape)
        if "b" in self.params:
            self.grads["b"] += channel_sum(dout)
        return (dout_rows @ matrix.T).reshape(x.shape)

    def _forward_im2col(self, x):
        n, c, h, w = x.shape
        k, p, g = self.kernel, self.padding, self.groups
        out_h, out_w, row, run = self._geometry(h, w)
        hp = h + 2 * p
        # the padded input, flattened per example (k - 1 spare values for the last run's
        # overhang), kept for backward; only its interior is ever written, the padding stays 0
        flat = self.buffer("x_padded", (n, c, hp * row + k - 1), x.dtype)
        padded = flat[:, :, : hp * row].reshape(n, c, hp, row)
        padded[:, :, p : p + h, p : p + w] = x
        weights = self.params["W"].reshape(g, self.out_channels // g, -1)
        out = np.empty((n, self.out_channels, out_h, out_w), dtype=x.dtype)
        token = object()                   # marks the shared cols scratch as holding our last chunk
        for start, stop in self._chunks(n, out_h * run, c * k * k):
            cols = self._input_cols(flat, padded, start, stop, out_h, out_w, row, token)
            y = self._grouped(weights, cols).reshape(self.out_channels, stop - start, out_h, run)
            out[start:stop] = y[..., :out_w].transpose(1, 0, 2, 3)          # drop the junk columns
        if "b" in self.params:
            out += self.params["b"][:, None, None]
        self.cache = ("im2col", out.shape, x.shape, out_h, out_w, row, run, token)
        return out

    def _backward_im2col(self, dout):
        _, _, (n, c, h, w), out_h, out_w, row, run, token = self.cache
        k, p, g, o, s = self.kernel, self.padding, self.groups, self.out_channels, self.stride
        flat = self.buffers["x_padded"]
        hp = h + 2 * p
        padded = flat[:, :, : hp * row].reshape(n, c, hp, row)
        weights = self.params["W"].reshape(g, o // g, -1)
        dweights = np.zeros_like(weights.transpose(0, 2, 1))           # (G, C_in/G * k * k, C_out/G)
        dbias = np.zeros(o, dtype=dout.dtype)
        dx = np.empty((n, c, h, w), dtype=dout.dtype)
        if s == 1:
            # dx = dout (junk columns 0, a margin of k-1 rows + k-1 on both sides) correlated
            # with the flipped kernel, input and output channels swapped
            margin = (k - 1) * row + (k - 1)
            flipped = self.params["W"].reshape(g, o // g, c // g, k, k)[..., ::-1, ::-1]
            flipped = flipped.transpose(0, 2, 1, 3, 4).reshape(g, c // g, -1)
        # last chunk first: if no other layer ran since our forward, its cols are still there
        for step, (start, stop) in enumerate(reversed(self._chunks(n, out_h * run, c * k * k))):
            m = stop - start
            if step == 0 and holds("cols", token):
                cols = scratch("cols", (c * k * k, m * out_h * run), dout.dtype, token)
            else:
                cols = self._input_cols(flat, padded, start, stop, out_h, out_w, row)
            if s == 1:                                # dout in cols' layout, junk columns 0
                dpad = scratch("dout_padded", (m, o, margin + out_h * row + margin), dout.dtype)
                dpad[...] = 0
                dpad[:, :, margin : margin + out_h * row].reshape(m, o, out_h, row)[..., :out_w] = dout[start:stop]
                dy = dpad[:, :, margin : margin + out_h * row].transpose(1, 0, 2).reshape(o, -1)
            else:
                dy = dout[start:stop].transpose(1, 0, 2, 3).reshape(o, -1)
            dy_g = dy.reshape(g, o // g, -1)
            # dW = dy @ cols^T, computed as cols @ dy^T: the faster orientation for BLAS
            dweights += np.matmul(cols.reshape(g, -1, cols.shape[1]), dy_g.transpose(0, 2, 1))
            dbias += dy.sum(axis=1)
            if s == 1:                                # the interior rows p .. p+h-1 of the padded image
                dcols = self._im2col_runs(dpad, 0, m, row, h * row, offset=p * row, name="dout_cols")
                dxm = self._grouped(flipped, dcols).reshape(c, m, h, row)
                dx[start:stop] = dxm[..., p : p + w].transpose(1, 0, 2, 3)
            else:                                     # col2im: scatter W^T @ dy back to the windows
                dcols = np.matmul(weights.transpose(0, 2, 1), dy_g).reshape(c, k, k, m, out_h, out_w)
                dwin = dcols.transpose(3, 0, 4, 5, 1, 2)                    # (m, C, H', W', k, k)
                dx[start:stop] = unpad(scatter_windows(dwin, (m, c, hp, row), s), p)
        self.grads["W"] += dweights.transpose(0, 2, 1).reshape(self.params["W"].shape)
        if "b" in self.params:
            self.grads["b"] += dbias
        return dx
