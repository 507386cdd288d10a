"""The convolution the networks run: ``convnets.conv.Conv2d``, made fast enough to train on one core.

``FastConv2d`` takes ``Conv2d``'s arguments and has its parameters and results; only the
way it computes them differs. ``tests/test_conv.py`` checks its output and both gradients
against ``Conv2d`` on every configuration, and ``benchmarks/conv_speed.py`` times it
against PyTorch (measurements in ``benchmarks/RESULTS.md``). Read ``Conv2d`` first.
"""

from __future__ import annotations

import functools
import math
import threading
from typing import NamedTuple

import numpy as np

from .checks import positive_int
from .conv import Conv2d
from .layers import channel_sum, scatter_windows, unpad, windows
from .shapes import conv_output_size


class Scratch:
    """Work arrays shared by the fast convolutions of one thread, reused from call to call.

    One block of memory per name, grown when a larger array is asked for, so that work
    arrays are neither allocated on every call (a fresh multi-megabyte array costs a page
    fault per 4 KiB page) nor kept per layer (44 layers' copies would not fit in cache).

    What a block holds is undefined, with one exception: after ``keep(name, key)``,
    ``held(name, key, rows, columns, dtype)`` returns the matrix last handed out under
    ``name`` if nobody has asked for ``name`` since and key, shape and dtype are all the
    same; otherwise None. ``FastConv2d``'s key is a token made afresh by each forward call
    (so it names the layer and the call) and the chunk of examples.
    """

    def __init__(self):
        self.blocks: dict[str, np.ndarray] = {}
        self.handed: dict[str, tuple] = {}      # name -> (key or None, shape, dtype) of the array last handed out

    def array(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """A work array of ``shape`` (contents undefined); forgets what block ``name`` held."""
        size, dtype = math.prod(shape), np.dtype(dtype)
        block = self.blocks.get(name)
        if block is None or block.dtype != dtype or block.size < size:
            block = self.blocks[name] = np.empty(size, dtype)
        self.handed[name] = (None, shape, dtype)
        return block[:size].reshape(shape)

    def matrix(self, name: str, rows: int, columns: int, dtype) -> np.ndarray:
        """A (rows, columns) work matrix whose rows lie ``columns + 16`` apart (contents undefined).

        With 64 examples of 8x8 or 32x32 pixels the column count is a multiple of 1024, and
        rows exactly 4 KiB (or a multiple) apart fall into the same CPU cache sets when BLAS
        reads them together: the 8x8 layer took 1.37 ms instead of 1.09 (benchmarks/RESULTS.md).
        """
        matrix = self.array(name, (rows, columns + 16), dtype)[:, :columns]
        self.handed[name] = (None, matrix.shape, matrix.dtype)
        return matrix

    def keep(self, name: str, key: tuple) -> None:
        """Declare the matrix last handed out under ``name`` filled with ``key``'s data."""
        _, shape, dtype = self.handed[name]
        self.handed[name] = (key, shape, dtype)

    def held(self, name: str, key: tuple, rows: int, columns: int, dtype) -> np.ndarray | None:
        """The matrix ``keep`` declared for exactly this key, shape and dtype, or None."""
        if self.handed.get(name) != (key, (rows, columns), np.dtype(dtype)):
            return None
        return self.blocks[name][: rows * (columns + 16)].reshape(rows, columns + 16)[:, :columns]


_THREAD = threading.local()


def scratch() -> Scratch:
    """The calling thread's ``Scratch``: threads never share work arrays."""
    if not hasattr(_THREAD, "scratch"):
        _THREAD.scratch = Scratch()
    return _THREAD.scratch


def all_finite(a: np.ndarray) -> bool:
    """Whether ``a`` holds no NaN or infinity, by its sum (a sum that overflows says no: safe, only slower)."""
    return math.isfinite(a.sum())


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


class RunsLayout(NamedTuple):
    """Where each kernel tap reads in way 1's runs (see ``FastConv2d``); one per input size.

    Tap i (along either axis) reads phase ``phase[i]`` = (i - p) mod s of the image,
    shifted by ``shift[i]`` = floor((i - p) / s) phase pixels. A run holds one channel's
    phase of every example end to end, each as out_h rows of out_w pixels (zero past the
    phase's own size), between ``guard`` zeros.
    """

    out_h: int
    out_w: int
    phase: tuple[int, ...]
    shift: tuple[int, ...]
    guard: int

    def start(self, i: int, j: int) -> int:
        """Where in a run the window of tap (i, j) on the first example starts."""
        return self.guard + self.shift[i] * self.out_w + self.shift[j]


@functools.lru_cache(maxsize=64)
def runs_layout(h: int, w: int, kernel: int, stride: int, padding: int) -> RunsLayout | None:
    """The runs layout of a convolution on H x W images, or None when it has none.

    It exists when the output is at least ceil(H / s) by ceil(W / s) (stride 1 with
    2p >= k - 1, stride 2 with a 3x3 kernel and p = 1 or 1x1 and p = 0, ...): then every
    phase fits in out_h x out_w pixels and every pixel a window reads outside its phase
    is zero padding.
    """
    out_h, out_w = conv_output_size(h, kernel, stride, padding), conv_output_size(w, kernel, stride, padding)
    if out_h < -(-h // stride) or out_w < -(-w // stride):
        return None
    phase = tuple((i - padding) % stride for i in range(kernel))
    shift = tuple((i - padding) // stride for i in range(kernel))
    guard = max(-min(shift), max(shift), 0) * (out_w + 1)      # the farthest a window reaches outside
    return RunsLayout(out_h, out_w, phase, shift, guard)


class FastConv2d(Conv2d):
    """``Conv2d``, computed the fast way; ``way`` says which way the last forward took.

    Like ``Conv2d`` it builds ``cols`` (C_in * k * k, columns), one column per output pixel,
    and multiplies, one matmul per group. Three ways to build ``cols``:

    1. **Runs** (when the output is at least ceil(H/s) x ceil(W/s): stride 1 with 2p >= k - 1,
       i.e. all of the chapter's stride-1 convolutions, and its strided 3x3 (p = 1) and 1x1
       ones). Tap (i, j) of output pixel (r, q) reads x[s*r + i - p, s*q + j - p]. Write
       i - p = s*d + a: that is pixel (r + d, .) of the phase x[a::s, b::s], one of s*s
       smaller images (at stride 1, the image itself). Each channel's phase of every
       example is stored end to end as one flat run of out_w-pixel rows (``RunsLayout``);
       the window of tap (i, j) on a chunk of examples is then a single contiguous slice
       of it, so building ``cols`` is k*k long copies, whatever the stride. Where a window
       hangs over an edge, the slice has wrapped onto the neighbouring row (or example);
       those few entries (the first -d or last d rows and columns of each example) are
       set to 0. dx is the adjoint of that copy (col2im): each tap's block of W^T @ dout
       is added back onto the slice it was copied from.
    2. **Windows** (any other stride and padding, e.g. a 3x3 convolution without padding):
       ``cols`` is one copy of the windows of ``sliding_window_view``, and dx scatters
       W^T @ dout back to them (col2im).
    3. **Dense** (tiny images, H * W <= 2 k*k, groups = 1, e.g. the 4x4 and 2x2 maps at the
       end of a small ResNet on 8x8 digits): the convolution is written down as the dense
       matrix of the linear map it is, (C_in * H * W, C_out * H' * W'), built from the
       weights with ``tap_matrix``. It has at most twice im2col's multiplications and needs
       no copies. Building the matrix costs about k*k / N of the product, so it is taken
       for batches of at least k*k examples and matrices of at most
       ``DENSE_MAX_ENTRIES`` (ResNet-50's last stage at batch 1 would build a 268 MB one).
       But 0 * NaN = NaN: through a matrix that is mostly zeros, one NaN or
       infinity would reach every output of its example. So an input (or a dout) holding
       one goes to ``Conv2d`` instead, where it reaches only the outputs it influences.

    ``Conv2d`` itself (``way = "reference"``) also takes inputs whose dtype is not the
    weights' dtype, and empty batches.

    What else makes it fast (timings in benchmarks/RESULTS.md):

    * **Chunks.** The batch goes through a few examples at a time, so that one chunk's
      ``cols`` (about ``CHUNK_BYTES``) is still in the CPU cache when the matmul reads it,
      and the chunk's part of the stored input when im2col reads it.
      Backward rebuilds each chunk's ``cols`` from the stored input instead of keeping
      every chunk's: cheaper than reading them back from memory, and smaller. It walks the
      chunks last first, so the one forward built last is reused if it is still there
      (``Scratch.held``: no other convolution asked for the work matrix since).
    * **No fresh work arrays**: the stored input is kept on the layer (``Layer.buffer``),
      the chunk-sized work arrays are shared by all layers of a thread (``scratch``), so
      they are neither page-faulted in on every call nor evicted from cache by 40 layers'
      copies.
    """

    CHUNK_BYTES = 3 * 2 ** 20      # 1 to 8 MiB tried (benchmarks/RESULTS.md): 3 best or within noise
    DENSE_MAX_ENTRIES = 2 ** 22    # the dense way's matrix: at most 16 MiB in float32
    way: str | None = None         # "runs", "windows", "dense" or "reference", set by forward

    def forward(self, x):
        self._check_input(x, 4, self.in_channels, "input channels")
        self.way = self.produced = None         # a forward that fails leaves backward nothing to use
        n, _, h, w = x.shape
        if x.dtype != self.params["W"].dtype or n == 0:
            return self._forward_reference(x)
        if self.takes_dense_way(n, h, w):
            if not all_finite(x):
                return self._forward_reference(x)
            return self._output(self._forward_dense(x))
        return self._output(self._forward_im2col(x, "windows" if self._layout(h, w) is None else "runs"))

    def backward(self, dout):
        self._check_dout(dout)
        if self.way == "reference":
            return super().backward(dout)
        if self.way == "dense":
            return self._backward_dense(dout)
        return self._backward_im2col(dout)

    def takes_dense_way(self, n: int, h: int, w: int) -> bool:
        """Whether a batch of n H x W images takes the dense way: tiny images (H * W <= 2 k*k),
        no groups, a batch that pays for building the matrix (n >= k*k) and a matrix of at most
        DENSE_MAX_ENTRIES entries."""
        k = self.kernel
        out_h, out_w = self._output_size(h, w)
        entries = self.in_channels * h * w * self.out_channels * out_h * out_w
        return self.groups == 1 and h * w <= 2 * k * k and n >= k * k and entries <= self.DENSE_MAX_ENTRIES

    def _forward_reference(self, x):
        out = super().forward(x)
        self.way = "reference"
        return out

    def _chunks(self, n, columns_per_example, rows):
        """Split range(n) into equal chunks whose cols matrix (rows x columns) is about CHUNK_BYTES."""
        per_example = rows * columns_per_example * self.params["W"].itemsize
        count = -(-n * per_example // self.CHUNK_BYTES)            # ceil division
        size = -(-n // max(1, count))
        return [(start, min(n, start + size)) for start in range(0, n, size)]

    def _grouped(self, weights, cols):
        """One matmul per group: weights (G, rows_out, rows_in) @ cols (G * rows_in, M) -> (G * rows_out, M)."""
        g = self.groups
        return np.matmul(weights, cols.reshape(g, -1, cols.shape[1])).reshape(-1, cols.shape[1])

    # ---- ways 1 and 2: im2col, chunk by chunk
    def _forward_im2col(self, x, way):
        n, c, h, w = x.shape
        k, g, o = self.kernel, self.groups, self.out_channels
        out_h, out_w = self._output_size(h, w)
        stored = self._kept_input(x.shape, way, x.dtype)   # x in the way's layout, kept for backward
        weights = self.params["W"].reshape(g, o // g, -1)
        out = np.empty((n, o, out_h, out_w), dtype=x.dtype)
        bias = self.params["b"][:, None, None] if "b" in self.params else np.zeros((), x.dtype)
        token = object()                   # this call's, for the columns backward may find still there
        for start, stop in self._chunks(n, out_h * out_w, c * k * k):
            self._store(x[start:stop], stored, start, way)     # just before its im2col reads it from cache
            cols = self._im2col(way, stored, start, stop, (h, w))
            y = self._grouped(weights, cols).reshape(o, stop - start, out_h, out_w).transpose(1, 0, 2, 3)
            np.add(y, bias, out=out[start:stop])            # back to (m, C_out, H', W'), plus the bias
        scratch().keep("cols", (token, start, stop))        # the last chunk's columns are complete
        self.cache, self.way = (x.shape, token), way
        return out

    def _backward_im2col(self, dout):
        ((n, c, h, w), token), way = self.cache, self.way
        k, g, o = self.kernel, self.groups, self.out_channels
        _, _, out_h, out_w = dout.shape
        stored = self.buffers[way]
        weights = self.params["W"].reshape(g, o // g, -1)
        dweights = np.zeros_like(weights.transpose(0, 2, 1))           # (G, C_in/G * k * k, C_out/G)
        dx = np.empty((n, c, h, w), dtype=dout.dtype)
        # last chunk first: if no other convolution ran since our forward, its cols are still there
        for start, stop in reversed(self._chunks(n, out_h * out_w, c * k * k)):
            m = stop - start
            cols = scratch().held("cols", (token, start, stop), c * k * k, m * out_h * out_w, stored.dtype)
            if cols is None:
                cols = self._im2col(way, stored, start, stop, (h, w))
            dy = scratch().matrix("dy", o, m * out_h * out_w, dout.dtype)    # dout, channels first
            dy.reshape(o, m, -1)[...] = dout[start:stop].reshape(m, o, -1).transpose(1, 0, 2)
            dy = dy.reshape(g, o // g, -1)
            # dW = dy @ cols^T, computed as cols @ dy^T: the faster orientation for BLAS
            dweights += np.matmul(cols.reshape(g, -1, cols.shape[1]), dy.transpose(0, 2, 1))
            if way == "runs":
                self._input_gradient_runs(dy, dx[start:stop])
            else:
                self._input_gradient_windows(dy, dx[start:stop])
        self.grads["W"] += dweights.transpose(0, 2, 1).reshape(self.params["W"].shape)
        if "b" in self.params:
            self.grads["b"] += channel_sum(dout)
        return dx

    def _kept_input(self, shape, way, dtype):
        """The layer's buffer for its input in the way's layout: the runs, or the padded batch.
        What the way reads as zero padding (the pixels past a phase, the padded border) is
        never written, so it stays 0."""
        n, c, h, w = shape
        p, s = self.padding, self.stride
        if way == "runs":
            layout = self._layout(h, w)
            return self.buffer(way, (c, s * s, 2 * layout.guard + n * layout.out_h * layout.out_w), dtype)
        return self.buffer(way, (n, c, h + 2 * p, w + 2 * p), dtype)

    def _store(self, images, stored, first, way):
        """Write examples first:first + m of the input, images (m, C, H, W), into the kept buffer."""
        if way == "runs":
            self._to_runs(images, stored, self._layout(*images.shape[2:]), first)
        else:
            p, (m, _, h, w) = self.padding, images.shape
            stored[first : first + m, :, p : p + h, p : p + w] = images

    def _im2col(self, way, stored, start, stop, size):
        if way == "runs":
            return self._im2col_runs(stored, start, stop, self._layout(*size))
        return self._im2col_windows(stored, start, stop, *self._output_size(*size))

    def _input_columns_gradient(self, dy, columns):
        """W^T @ dy, (C_in * k * k, columns), in shared scratch: the gradient of cols."""
        g, o = self.groups, self.out_channels
        weights = self.params["W"].reshape(g, o // g, -1)
        dcols = scratch().matrix("dcols", weights.shape[2] * g, columns, dy.dtype)
        np.matmul(weights.transpose(0, 2, 1), dy, out=dcols.reshape(g, -1, columns))
        return dcols

    # ---- way 1: runs (every phase of the image as flat rows)
    def _layout(self, h, w):
        return runs_layout(h, w, self.kernel, self.stride, self.padding)

    def _phases(self, images, runs, layout, first=0):
        """For each of the s*s phases (a, b): images[..., a::s, b::s] as (C, m, ., .), and where
        runs (C, s*s, guard + N * H' * W' + guard) keeps the same pixels of examples
        first:first + m (each example's block of out_h rows of out_w pixels, of which the
        phase fills the top left)."""
        s, m, block = self.stride, images.shape[0], layout.out_h * layout.out_w
        start = layout.guard + first * block
        grid = runs[..., start : start + m * block].reshape(*runs.shape[:2], m, layout.out_h, -1)
        channels_first = images.transpose(1, 0, 2, 3)
        for a in range(s):
            for b in range(s):
                phase = channels_first[:, :, a::s, b::s]
                yield phase, grid[:, a * s + b, :, : phase.shape[2], : phase.shape[3]]

    def _to_runs(self, images, runs, layout, first=0):
        """Store images (m, C, H, W) into runs as examples first:first + m."""
        for phase, stored in self._phases(images, runs, layout, first):
            stored[...] = phase

    def _from_runs(self, runs, images, layout):
        """The inverse of ``_to_runs``: fill images (m, C, H, W) from runs."""
        for phase, stored in self._phases(images, runs, layout):
            phase[...] = stored

    def _im2col_runs(self, runs, start, stop, layout):
        """cols (C * k * k, m * H' * W') of examples start:stop: tap (i, j) is one slice of its phase's run."""
        c, k, s, m = runs.shape[0], self.kernel, self.stride, stop - start
        length = m * layout.out_h * layout.out_w
        cols = scratch().matrix("cols", c * k * k, length, runs.dtype)
        taps = cols.reshape(c, k, k, length)
        for i in range(k):                                    # k*k long copies, no pixel loops
            for j in range(k):
                first = layout.start(i, j) + start * layout.out_h * layout.out_w
                taps[:, i, j] = runs[:, layout.phase[i] * s + layout.phase[j], first : first + length]
        self._clear_wrapped(cols, layout, m)
        return cols

    def _clear_wrapped(self, cols, layout, m):
        """Zero the entries of windows that ran over an edge: past the left or right edge
        they read the previous row's last pixels or the next row's first, past the top or
        bottom the previous or next example's (or the guard). There the image has zero padding."""
        k, h, w = self.kernel, layout.out_h, layout.out_w
        pixels = cols.reshape(-1, k, k, m, h, w)
        for i, d in enumerate(layout.shift):
            if d < 0:
                pixels[:, i, :, :, : min(h, -d)] = 0                     # top rows of tap row i
                pixels[:, :, i, :, :, : min(w, -d)] = 0                  # left columns of tap column i
            elif d > 0:
                pixels[:, i, :, :, max(0, h - d) :] = 0                  # bottom rows
                pixels[:, :, i, :, :, max(0, w - d) :] = 0               # right columns

    def _input_gradient_runs(self, dy, dx):
        """dx (m, C_in, H, W) of one chunk by col2im on runs: each tap's block of W^T @ dy is
        added onto the slice of the run its window was copied from."""
        (m, c, h, w), k, s = dx.shape, self.kernel, self.stride
        layout = self._layout(h, w)
        length = m * layout.out_h * layout.out_w
        dcols = self._input_columns_gradient(dy, length)
        self._clear_wrapped(dcols, layout, m)              # entries the forward set to 0 pass no gradient
        taps = dcols.reshape(c, k, k, length)
        druns = scratch().array("druns", (c, s * s, 2 * layout.guard + length), dy.dtype)
        druns[...] = 0
        for i in range(k):
            for j in range(k):
                first = layout.start(i, j)
                druns[:, layout.phase[i] * s + layout.phase[j], first : first + length] += taps[:, i, j]
        self._from_runs(druns, dx, layout)

    # ---- way 2: any stride and padding, on sliding windows
    def _im2col_windows(self, padded, start, stop, out_h, out_w):
        """padded (N, C, Hp, Wp) -> cols (C * k * k, m * H' * W') of examples start:stop, one copy."""
        m, c, k = stop - start, padded.shape[1], self.kernel
        cols = scratch().matrix("cols", c * k * k, m * out_h * out_w, padded.dtype)
        cols.reshape(c, k, k, m, out_h, out_w)[...] = windows(
            padded[start:stop], k, self.stride, out_h, out_w).transpose(1, 4, 5, 0, 2, 3)
        return cols

    def _input_gradient_windows(self, dy, dx):
        """dx (m, C_in, H, W) of one chunk by col2im: scatter W^T @ dy back to the windows."""
        (m, c, h, w), k, p = dx.shape, self.kernel, self.padding
        out_h, out_w = self._output_size(h, w)
        dcols = self._input_columns_gradient(dy, m * out_h * out_w)
        dwindows = dcols.reshape(c, k, k, m, out_h, out_w).transpose(3, 0, 4, 5, 1, 2)   # (m, C, H', W', k, k)
        dx[...] = unpad(scatter_windows(dwindows, (m, c, h + 2 * p, w + 2 * p), self.stride), p)

    # ---- way 3: tiny images, the convolution's own dense matrix
    def _forward_dense(self, x):
        """out (N, C_out * H' * W') = x (N, C_in * H * W) @ M, the convolution's own matrix:
        M[(c, y, x), (o, r, q)] = sum over taps t of W[o, c, t] * taps[(y, x), t, (r, q)]."""
        n, c, h, w = x.shape
        k, o = self.kernel, self.out_channels
        out_h, out_w = self._output_size(h, w)
        taps = tap_matrix(h, w, k, self.stride, self.padding, x.dtype)          # (H*W, k*k, H'*W')
        matrix = np.tensordot(self.params["W"].reshape(o, c, k * k), taps, axes=([2], [1]))
        matrix = matrix.transpose(1, 2, 0, 3).reshape(c * h * w, o * out_h * out_w)
        out = (x.reshape(n, -1) @ matrix).reshape(n, o, out_h, out_w)
        if "b" in self.params:
            out += self.params["b"][:, None, None]
        self.cache, self.way = (x, matrix, taps), "dense"
        return out

    def _backward_dense(self, dout):
        x, matrix, taps = self.cache
        n, c, h, w = x.shape
        o = self.out_channels
        dout_rows = dout.reshape(n, -1)
        dmatrix = (x.reshape(n, -1).T @ dout_rows).reshape(c, h * w, o, -1)     # dL/dM
        # a weight sits in M once for every (input pixel, output pixel) pair its tap joins
        dweights = np.tensordot(dmatrix, taps, axes=([1, 3], [0, 2]))             # (C_in, C_out, k*k)
        if not all_finite(dweights):           # dout holds a NaN or infinity (x has none): see the class doc
            self._forward_reference(x)         # the same output again, and Conv2d's cache for its backward
            return super().backward(dout)
        self.grads["W"] += dweights.transpose(1, 0, 2).reshape(self.params["W"].shape)
        if "b" in self.params:
            self.grads["b"] += channel_sum(dout)
        return (dout_rows @ matrix.T).reshape(x.shape)
