"""The 2-D convolution layer, written to be read: im2col, one matmul per group, col2im.

A convolution is a matrix product in disguise. im2col (as in Caffe) lays every k x k
window of the padded input out as one column of a matrix ``cols``; the layer is then one
matmul, W @ cols, and its backward pass two more: dW = dout @ cols^T, and dx = col2im of
W^T @ dout (each column's gradient added back onto the window it was copied from).

The networks run ``convnets.conv_fast.FastConv2d``: the same layer (same arguments,
parameters and results), computed without the full-batch ``cols``. ``tests/test_conv.py``
checks this one against plain loops and finite differences, and the fast one against this.
"""

from __future__ import annotations

import numpy as np

from .checks import positive_int
from .layers import Layer, scatter_windows, unpad, windows
from .shapes import conv_output_size


class Conv2d(Layer):
    """2-D convolution with stride, zero padding and groups (depthwise when groups = C_in).

    x (N, C_in, H, W) -> out (N, C_out, H', W'), H' = floor((H + 2p - k) / s) + 1 (W' alike);
    weights W (C_out, C_in / G, k, k) and bias b (C_out,), for G = ``groups``.

    Forward (im2col): each k x k window of the padded input, across the C_in / G channels
    of its group, is one column of cols (G, C_in / G * k * k, N * H' * W'), and
    out = W (G, C_out / G, C_in / G * k * k) @ cols, one matmul per group, plus b.
    Backward: dW = dout @ cols^T, db = dout summed over examples and pixels, and
    dx = col2im(W^T @ dout), each column's gradient added back onto its window.
    """

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
            raise ValueError(f"groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}")
        self._init_weight((out_channels, in_channels // groups, kernel, kernel),
                          in_channels // groups * kernel * kernel, bias, rng, gain, dtype)

    def _output_size(self, h, w):
        """(H', W') for H x W images."""
        k, s, p = self.kernel, self.stride, self.padding
        return conv_output_size(h, k, s, p), conv_output_size(w, k, s, p)

    def forward(self, x):
        self._check_input(x, 4, self.in_channels, "input channels")
        (n, c, h, w), k, s, p, g = x.shape, self.kernel, self.stride, self.padding, self.groups
        out_h, out_w = self._output_size(h, w)
        padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        win = windows(padded, k, s, out_h, out_w)                     # (N, C_in, H', W', k, k), a view
        cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(g, c // g * k * k, n * out_h * out_w)
        out = self.params["W"].reshape(g, self.out_channels // g, -1) @ cols     # (G, C_out / G, N * H' * W')
        out = out.reshape(self.out_channels, n, out_h, out_w).transpose(1, 0, 2, 3)
        if "b" in self.params:
            out = out + self.params["b"][:, None, None]
        self.cache = (cols, padded.shape)
        return self._output(out)

    def backward(self, dout):
        self._check_dout(dout)
        cols, padded_shape = self.cache
        (n, o, out_h, out_w), k, g = dout.shape, self.kernel, self.groups
        dy = dout.transpose(1, 0, 2, 3).reshape(g, o // g, n * out_h * out_w)     # like out before its reshape
        self.grads["W"] += (dy @ cols.transpose(0, 2, 1)).reshape(self.params["W"].shape)
        if "b" in self.params:
            self.grads["b"] += dout.sum(axis=(0, 2, 3))
        dcols = self.params["W"].reshape(g, o // g, -1).transpose(0, 2, 1) @ dy   # the gradient of cols
        dwin = dcols.reshape(self.in_channels, k, k, n, out_h, out_w).transpose(3, 0, 4, 5, 1, 2)
        return unpad(scatter_windows(dwin, padded_shape, self.stride), self.padding)
