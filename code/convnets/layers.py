"""NumPy layers, each with its forward and backward pass side by side.

Conventions (the same as PyTorch's, so the counts match the reference code):

* images are ``(N, C, H, W)``; vectors are ``(N, F)``;
* a convolution's weight is ``(C_out, C_in / groups, k, k)``, a linear layer's
  ``(F_out, F_in)``;
* ``forward`` stores in ``self.cache`` exactly what ``backward`` needs;
  ``backward(dout)`` returns ``dx`` and *accumulates* parameter gradients into
  ``self.grads`` (call ``zero_grad`` between steps);
* ``dout`` must have the shape and dtype of what ``forward`` returned: ``backward``
  raises ``ValueError`` (shape) or ``TypeError`` (dtype) otherwise, naming the layer.
  A dout of another dtype is rejected, not cast: a float64 loss gradient sent into a
  float32 network is a mistake that a silent cast would hide.

The convolution has a module of its own, ``convnets.conv`` (and ``convnets.conv_fast``,
the same layer made fast). Pooling here reads its windows through
``sliding_window_view`` without copying; the only Python loops run over kernel
offsets (k*k of them), never over pixels or channels.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .checks import array, positive_int, probability
from .shapes import conv_output_size


class Layer:
    """Base class: parameters and their gradients live in two dicts."""

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True
        self.cache = None
        self.produced = None                # (shape, dtype) of forward's last output: what dout must be
        self.buffers: dict[str, np.ndarray] = {}
        self.name = type(self).__name__

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    __call__ = forward

    # containers override these three to reach their children
    def layers(self):
        """Yield this layer and every layer inside it."""
        yield self

    def train(self, mode: bool = True):
        for layer in self.layers():
            layer.training = mode
        return self

    def eval(self):
        return self.train(False)

    def named_parameters(self):
        """Yield ``(layer, name)`` for every parameter, in a fixed order."""
        for layer in self.layers():
            for key in layer.params:
                yield layer, key

    def zero_grad(self):
        for layer, key in self.named_parameters():
            layer.grads[key] = np.zeros_like(layer.params[key])

    def _check_input(self, x, ndim, width: int, what: str):
        """Check x is a float array of ``ndim`` dimensions with ``width`` entries on axis 1."""
        array("x", x, ndim=ndim, layer=self.name)
        if x.shape[1] != width:
            raise ValueError(f"{self.name}: expected {width} {what}, got x of shape {x.shape}")
        return x

    def _init_weight(self, shape, fan_in: int, bias: bool, rng, gain: float, dtype):
        """W of ``shape`` drawn by He initialisation, a zero bias of ``shape[0]`` if asked, zero gradients."""
        rng = rng if rng is not None else np.random.default_rng(0)
        self.params["W"] = he_normal(rng, shape, fan_in, gain, dtype)
        if bias:
            self.params["b"] = np.zeros(shape[0], dtype=dtype)
        self.zero_grad()

    def buffer(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """A zeroed array kept on this layer between calls (new when shape or dtype change).

        A caller that writes the same part of it on every call can rely on the rest
        staying zero (a convolution's padded input keeps its zero border this way).
        """
        kept = self.buffers.get(name)
        if kept is None or kept.shape != shape or kept.dtype != np.dtype(dtype):
            kept = self.buffers[name] = np.zeros(shape, dtype)
        return kept

    def release(self):
        """Drop every cached forward result, kept buffer and gradient buffer."""
        for layer in self.layers():
            layer.cache = layer.produced = None
            layer.buffers = {}
            layer.grads = {key: np.zeros(0, dtype=value.dtype) for key, value in layer.grads.items()}
        return self

    def num_parameters(self) -> int:
        return sum(layer.params[key].size for layer, key in self.named_parameters())

    def _output(self, out: np.ndarray) -> np.ndarray:
        """Return forward's result ``out``, remembering its shape and dtype for ``_check_dout``."""
        self.produced = (out.shape, out.dtype)
        return out

    def _check_dout(self, dout) -> np.ndarray:
        """Check that ``dout`` has the shape and dtype of forward's last output (see ``_output``)."""
        if self.produced is None:
            raise RuntimeError(f"{self.name}: backward called before forward")
        shape, dtype = self.produced
        if not isinstance(dout, np.ndarray):
            raise TypeError(f"{self.name}: dout must be a numpy.ndarray of shape {shape}, got {type(dout).__name__}")
        if dout.shape != shape:
            raise ValueError(f"{self.name}: dout has shape {dout.shape}, expected {shape} (forward's output)")
        if dout.dtype != dtype:
            raise TypeError(f"{self.name}: dout has dtype {dout.dtype}, expected {dtype} (forward's output)")
        return dout


def he_normal(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int,
              gain: float = 1.0, dtype=np.float32) -> np.ndarray:
    """He et al. (2015) initialisation, N(0, 2 / fan_in), times ``gain``."""
    return (gain * np.sqrt(2.0 / fan_in) * rng.standard_normal(shape)).astype(dtype)


# ----------------------------------------------- windows (pooling and convnets.conv)
def _pad(x: np.ndarray, padding: int) -> np.ndarray:
    """Zero padding of ``padding`` pixels on every side: (N, C, H, W) -> (N, C, H + 2p, W + 2p)."""
    if padding == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def windows(xp: np.ndarray, kernel: int, stride: int, out_h: int, out_w: int) -> np.ndarray:
    """View of every k x k window: (N, C, H', W', k, k), no copy."""
    view = sliding_window_view(xp, (kernel, kernel), axis=(2, 3))
    return view[:, :, : stride * out_h : stride, : stride * out_w : stride]


def scatter_windows(dwin: np.ndarray, padded_shape, stride: int) -> np.ndarray:
    """Adjoint of ``windows``: add each window's gradient back where it came from.

    dwin: (N, C, H', W', k, k) -> (N, C, H_padded, W_padded). Loops over the k*k
    kernel offsets only.
    """
    _, _, out_h, out_w, kh, kw = dwin.shape
    dxp = np.zeros(padded_shape, dtype=dwin.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i : i + stride * out_h : stride, j : j + stride * out_w : stride] += dwin[..., i, j]
    return dxp


def unpad(dxp: np.ndarray, padding: int) -> np.ndarray:
    if padding == 0:
        return dxp
    return dxp[:, :, padding:-padding, padding:-padding]


# ------------------------------------------------------------------------ pooling
def pool_padding(padding, kernel: int) -> int:
    """Check a pooling layer's ``padding``: at most half the kernel, as PyTorch requires.

    More would give windows that lie wholly in the padding: -inf outputs for max pooling.
    """
    padding = positive_int("padding", padding, minimum=0)
    if padding > kernel // 2:
        raise ValueError(f"padding must be at most half the kernel, kernel // 2 = {kernel // 2}, got {padding}")
    return padding


class MaxPool2d(Layer):
    """Max pooling. x: (N, C, H, W) -> (N, C, H', W'); padding counts as -inf."""

    def __init__(self, kernel: int, stride: int | None = None, padding: int = 0, ceil_mode: bool = False):
        super().__init__()
        self.kernel = positive_int("kernel", kernel)
        self.stride = positive_int("stride", stride if stride is not None else kernel)
        self.padding = pool_padding(padding, self.kernel)
        self.ceil_mode = bool(ceil_mode)

    def _padded(self, x):
        n, c, h, w = x.shape
        k, s, p = self.kernel, self.stride, self.padding
        out_h = conv_output_size(h, k, s, p, ceil_mode=self.ceil_mode)
        out_w = conv_output_size(w, k, s, p, ceil_mode=self.ceil_mode)
        extra_h = max(0, (out_h - 1) * s + k - (h + 2 * p))             # ceil mode may overhang
        extra_w = max(0, (out_w - 1) * s + k - (w + 2 * p))
        xp = np.pad(x, ((0, 0), (0, 0), (p, p + extra_h), (p, p + extra_w)), constant_values=-np.inf)
        return xp, out_h, out_w

    def forward(self, x):
        array("x", x, ndim=4, layer=self.name)
        xp, out_h, out_w = self._padded(x)
        k = self.kernel
        win = windows(xp, k, self.stride, out_h, out_w).reshape(*x.shape[:2], out_h, out_w, k * k)
        argmax = win.argmax(axis=-1)
        out = np.take_along_axis(win, argmax[..., None], axis=-1)[..., 0]
        self.cache = (argmax, xp.shape, x.shape)
        return self._output(out)

    def backward(self, dout):
        self._check_dout(dout)
        argmax, padded_shape, (n, c, h, w) = self.cache
        k, p = self.kernel, self.padding
        onehot = argmax[..., None] == np.arange(k * k)                  # (N, C, H', W', k*k)
        dwin = (dout[..., None] * onehot).reshape(*dout.shape, k, k)
        dxp = scatter_windows(dwin, padded_shape, self.stride)
        return dxp[:, :, p : p + h, p : p + w]


class AvgPool2d(Layer):
    """Average pooling (zero padding included in the average, as in PyTorch)."""

    def __init__(self, kernel: int, stride: int | None = None, padding: int = 0):
        super().__init__()
        self.kernel = positive_int("kernel", kernel)
        self.stride = positive_int("stride", stride if stride is not None else kernel)
        self.padding = pool_padding(padding, self.kernel)

    def forward(self, x):
        array("x", x, ndim=4, layer=self.name)
        n, c, h, w = x.shape
        k, s, p = self.kernel, self.stride, self.padding
        out_h, out_w = conv_output_size(h, k, s, p), conv_output_size(w, k, s, p)
        xp = _pad(x, p)
        self.cache = (xp.shape,)
        return self._output(windows(xp, k, s, out_h, out_w).mean(axis=(-2, -1)))

    def backward(self, dout):
        self._check_dout(dout)
        (padded_shape,) = self.cache
        k = self.kernel
        dwin = np.broadcast_to((dout / (k * k))[..., None, None], (*dout.shape, k, k))
        return unpad(scatter_windows(dwin, padded_shape, self.stride), self.padding)


class GlobalAvgPool(Layer):
    """Mean over all pixels. x: (N, C, H, W) -> (N, C), or (N, C, 1, 1) with keepdims."""

    def __init__(self, keepdims: bool = False):
        super().__init__()
        self.keepdims = keepdims

    def forward(self, x):
        array("x", x, ndim=4, layer=self.name)
        self.cache = x.shape
        return self._output(x.mean(axis=(2, 3), keepdims=self.keepdims))

    def backward(self, dout):
        self._check_dout(dout)
        n, c, h, w = self.cache
        return np.broadcast_to(dout.reshape(n, c, 1, 1) / (h * w), self.cache).copy()


class AdaptiveAvgPool2d(Layer):
    """Average pooling to a ``size`` x ``size`` output, as PyTorch's ``AdaptiveAvgPool2d``.

    x: (N, C, H, W) -> (N, C, size, size). Output row i averages input rows
    floor(i H / size) to ceil((i + 1) H / size) - 1, and columns likewise, so the bins
    overlap when ``size`` does not divide H. Averaging the rows is a matrix A_h
    (size, H), the columns A_w (size, W): out = A_h @ x @ A_w^T, dx = A_h^T @ dout @ A_w.
    """

    def __init__(self, size: int):
        super().__init__()
        self.size = positive_int("size", size)

    def _bins(self, length: int, dtype) -> np.ndarray:
        """The averaging matrix (size, length) of one axis."""
        i = np.arange(self.size)[:, None]
        start, end = i * length // self.size, -(-(i + 1) * length // self.size)     # floor, ceil
        inside = (np.arange(length) >= start) & (np.arange(length) < end)
        return (inside / (end - start)).astype(dtype)

    def forward(self, x):
        array("x", x, ndim=4, layer=self.name)
        rows, columns = self._bins(x.shape[2], x.dtype), self._bins(x.shape[3], x.dtype)
        self.cache = (rows, columns)
        return self._output(rows @ x @ columns.T)

    def backward(self, dout):
        self._check_dout(dout)
        rows, columns = self.cache
        return rows.T @ dout @ columns


class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W); (N, F) stays as it is. The first axis is the batch."""

    def forward(self, x):
        array("x", x, ndim=(2, 3, 4), layer=self.name)
        self.cache = x.shape
        return self._output(x.reshape(x.shape[0], -1))

    def backward(self, dout):
        self._check_dout(dout)
        return dout.reshape(self.cache)


# -------------------------------------------------------------------------- dense
class Linear(Layer):
    """Fully connected layer. x: (N, F_in) -> (N, F_out); W: (F_out, F_in)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 rng: np.random.Generator | None = None, gain: float = 1.0, dtype=np.float32):
        super().__init__()
        self.in_features = positive_int("in_features", in_features)
        self.out_features = positive_int("out_features", out_features)
        self._init_weight((out_features, in_features), in_features, bias, rng, gain, dtype)

    def forward(self, x):
        self.cache = self._check_input(x, 2, self.in_features, "input features")
        out = x @ self.params["W"].T
        if "b" in self.params:
            out += self.params["b"]
        return self._output(out)

    def backward(self, dout):
        self._check_dout(dout)
        x = self.cache
        self.grads["W"] += dout.T @ x
        if "b" in self.params:
            self.grads["b"] += dout.sum(axis=0)
        return dout @ self.params["W"]


# ---------------------------------------------------------------- normalisation
def channel_sum(z: np.ndarray) -> np.ndarray:
    """Sum over every axis but the channels: (N, C) or (N, C, H, W) -> (C,).

    Done as one BLAS matrix-vector product, ones(N) @ z, then a sum over each channel's
    pixels: for the small arrays of this chapter, 4 to 30 times faster than
    ``z.sum(axis=(0, 2, 3))``, which walks the array with short strided loops.
    """
    array("z", z, ndim=(2, 3, 4))
    n, c = z.shape[:2]
    return (np.ones(n, dtype=z.dtype) @ z.reshape(n, -1)).reshape(c, -1).sum(axis=1)


class BatchNorm(Layer):
    """Batch normalisation over the batch (and pixels, for images).

    x: (N, C) or (N, C, H, W). Training mode normalises with the batch's mean and
    variance and updates the running statistics (``momentum`` as in PyTorch);
    evaluation mode uses the running statistics. gamma and beta are parameters;
    the running statistics are not.
    """

    def __init__(self, channels: int, eps: float = 1e-5, momentum: float = 0.1, dtype=np.float32):
        super().__init__()
        self.channels = positive_int("channels", channels)
        self.eps, self.momentum = eps, momentum
        self.params["gamma"] = np.ones(channels, dtype=dtype)
        self.params["beta"] = np.zeros(channels, dtype=dtype)
        self.running_mean = np.zeros(channels, dtype=dtype)
        self.running_var = np.ones(channels, dtype=dtype)
        self.zero_grad()

    def _stat_shape(self, x):
        """Check x; return the shape that broadcasts per-channel statistics against it."""
        self._check_input(x, (2, 4), self.channels, "channels")
        return (1, -1) if x.ndim == 2 else (1, -1, 1, 1)

    def forward(self, x):
        shape = self._stat_shape(x)
        if self.training:
            m = x.size // self.channels                      # values per channel
            if m == 1:
                raise ValueError(f"{self.name}: x of shape {x.shape} has one value per channel; training mode "
                                 "needs more than one for the batch statistics (as in PyTorch); use eval()")
            mean = channel_sum(x) / m
            centred = x - mean.reshape(shape)
            var = channel_sum(centred * centred) / m
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean
            self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var * m / max(m - 1, 1)
        else:
            mean, var = self.running_mean, self.running_var
            centred = x - mean.reshape(shape)
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = centred * inv_std.reshape(shape)
        self.cache = (x_hat, inv_std, shape, self.training)
        return self._output(self.params["gamma"].reshape(shape) * x_hat + self.params["beta"].reshape(shape))

    def backward(self, dout):
        self._check_dout(dout)
        x_hat, inv_std, shape, training = self.cache
        dgamma, dbeta = channel_sum(dout * x_hat), channel_sum(dout)
        self.grads["gamma"] += dgamma
        self.grads["beta"] += dbeta
        scale = (self.params["gamma"] * inv_std).reshape(shape)    # d out / d x with constant statistics
        if not training:                        # statistics are constants in evaluation mode
            return dout * scale
        # batch statistics depend on x: subtract the mean gradient and its projection on
        # x_hat (mean(dout) = dbeta / m, mean(dout * x_hat) = dgamma / m)
        m = dout.size // self.channels
        return scale * (dout - (dbeta / m).reshape(shape) - x_hat * (dgamma / m).reshape(shape))


class LocalResponseNorm(Layer):
    """AlexNet's local response normalisation across channels (no parameters).

    b_c = a_c / (k + alpha / n * sum_{|c' - c| <= n/2} a_c'^2) ** beta, as in
    PyTorch's ``LocalResponseNorm(size=n)``.
    """

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0):
        super().__init__()
        self.size = positive_int("size", size)
        self.alpha, self.beta, self.k = alpha, beta, k

    def _window_sum(self, z, before: int, after: int):
        """Sum of z over channels c - before .. c + after, for every channel c. z: (N, C, H, W)."""
        zp = np.pad(z, ((0, 0), (before, after), (0, 0), (0, 0)))
        return sliding_window_view(zp, self.size, axis=1).sum(axis=-1)

    def forward(self, x):
        array("x", x, ndim=4, layer=self.name)
        scale = self.k + self.alpha / self.size * self._window_sum(x * x, self.size // 2, (self.size - 1) // 2)
        self.cache = (x, scale)
        return self._output(x * scale ** -self.beta)

    def backward(self, dout):
        self._check_dout(dout)
        x, scale = self.cache
        # the adjoint of a window sum is the sum over the mirrored window
        t = dout * x * scale ** (-self.beta - 1)
        back = self._window_sum(t, (self.size - 1) // 2, self.size // 2)
        return dout * scale ** -self.beta - 2 * self.beta * self.alpha / self.size * x * back


# -------------------------------------------------------------------- activations
class ReLU(Layer):
    def forward(self, x):
        self.cache = x > 0
        return self._output(np.maximum(x, 0))

    def backward(self, dout):
        return self._check_dout(dout) * self.cache


class ReLU6(Layer):
    """min(max(x, 0), 6), MobileNetV2's activation."""

    def forward(self, x):
        self.cache = (x > 0) & (x < 6)
        return self._output(np.clip(x, 0, 6))

    def backward(self, dout):
        return self._check_dout(dout) * self.cache


class Sigmoid(Layer):
    def forward(self, x):
        out = 1.0 / (1.0 + np.exp(-x))
        self.cache = out
        return self._output(out)

    def backward(self, dout):
        self._check_dout(dout)
        s = self.cache
        return dout * s * (1 - s)


class SiLU(Layer):
    """x * sigmoid(x), also called swish: EfficientNet's activation."""

    def forward(self, x):
        s = 1.0 / (1.0 + np.exp(-x))
        self.cache = (x, s)
        return self._output(x * s)

    def backward(self, dout):
        self._check_dout(dout)
        x, s = self.cache
        return dout * s * (1 + x * (1 - s))


class Scale(Layer):
    """y = factor * x, a constant (no parameters)."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = float(factor)

    def forward(self, x):
        return self._output(x * self.factor)

    def backward(self, dout):
        return self._check_dout(dout) * self.factor


class Dropout(Layer):
    """Inverted dropout: zero a fraction ``p`` in training and scale the rest by 1/(1-p)."""

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | None = None):
        super().__init__()
        self.p = probability("p", p)
        self.rng = rng if rng is not None else np.random.default_rng(0)

    def forward(self, x):
        if not self.training or self.p == 0:
            self.cache = None
            return self._output(x)
        self.cache = ((self.rng.random(x.shape) >= self.p) / (1 - self.p)).astype(x.dtype)   # the mask, scaled
        return self._output(x * self.cache)

    def backward(self, dout):
        self._check_dout(dout)
        return dout if self.cache is None else dout * self.cache


# --------------------------------------------------------------------------- loss
def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    logits: (N, K); labels: (N,) integers in [0, K). Returns (loss, dlogits).
    """
    array("logits", logits, ndim=2)
    labels = np.asarray(labels)
    if labels.shape != (logits.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be {logits.shape[0]} integers, got shape {labels.shape} ({labels.dtype})")
    if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise ValueError(f"labels must lie in [0, {logits.shape[1]}), got [{labels.min()}, {labels.max()}]")
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = logits.shape[0]
    loss = -log_probs[np.arange(n), labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), labels] -= 1
    return float(loss), dlogits / n


# ---- layers of the networks after EfficientNet (MobileNetV3, ConvNeXt, EfficientNetV2)
class LayerNorm2d(Layer):
    """Layer normalisation over the channels of each pixel (Ba et al., 2016; ConvNeXt's LayerNorm2d).

    x: (N, C, H, W) or (N, C) -> same shape. Each example's C values at one pixel are
    normalised by their own mean and (biased) variance, then scaled by gamma and shifted
    by beta, one pair per channel. The statistics never mix examples, so training and
    evaluation compute the same thing and there are no running statistics.
    """

    def __init__(self, channels: int, eps: float = 1e-6, dtype=np.float32):
        super().__init__()
        self.channels = positive_int("channels", channels)
        self.eps = eps
        self.params["gamma"] = np.ones(channels, dtype=dtype)
        self.params["beta"] = np.zeros(channels, dtype=dtype)
        self.zero_grad()

    def forward(self, x):
        self._check_input(x, (2, 4), self.channels, "channels")
        shape = (1, -1) + (1,) * (x.ndim - 2)                    # per-channel parameters against x
        centred = x - x.mean(axis=1, keepdims=True)
        inv_std = 1.0 / np.sqrt((centred * centred).mean(axis=1, keepdims=True) + self.eps)
        x_hat = centred * inv_std                                  # (N, C, H, W), statistics (N, 1, H, W)
        self.cache = (x_hat, inv_std, shape)
        return self._output(self.params["gamma"].reshape(shape) * x_hat + self.params["beta"].reshape(shape))

    def backward(self, dout):
        self._check_dout(dout)
        x_hat, inv_std, shape = self.cache
        self.grads["gamma"] += channel_sum(dout * x_hat)
        self.grads["beta"] += channel_sum(dout)
        g = dout * self.params["gamma"].reshape(shape)             # gradient with respect to x_hat
        # as batch norm's, with the mean taken over channels instead of over the batch
        return inv_std * (g - g.mean(axis=1, keepdims=True) - x_hat * (g * x_hat).mean(axis=1, keepdims=True))


class LayerScale(Layer):
    """y = gamma_c * x_c, a learnable scale per channel, initialised small (ConvNeXt's layer scale).

    x: (N, C, H, W) or (N, C). With ``init`` = 1e-6 a residual body starts close to
    zero, so the block starts close to the identity.
    """

    def __init__(self, channels: int, init: float = 1e-6, dtype=np.float32):
        super().__init__()
        self.channels = positive_int("channels", channels)
        self.params["gamma"] = np.full(channels, init, dtype=dtype)
        self.zero_grad()

    def forward(self, x):
        self._check_input(x, (2, 4), self.channels, "channels")
        shape = (1, -1) + (1,) * (x.ndim - 2)
        self.cache = (x, shape)
        return self._output(x * self.params["gamma"].reshape(shape))

    def backward(self, dout):
        self._check_dout(dout)
        x, shape = self.cache
        self.grads["gamma"] += channel_sum(dout * x)
        return dout * self.params["gamma"].reshape(shape)


class StochasticDepth(Layer):
    """Drop a residual body for whole examples (Huang et al., 2016), as torchvision's "row" mode.

    Training: each example's input is kept with probability 1 - p and then divided by
    1 - p, so its expectation is unchanged (the paper scales at test time instead); the
    residual block around it then passes only its shortcut for a dropped example.
    Evaluation: the identity. x: any shape (N, ...). No parameters.
    """

    def __init__(self, p: float = 0.0, *, rng: np.random.Generator | None = None):
        super().__init__()
        self.p = probability("p", p)
        self.rng = rng if rng is not None else np.random.default_rng(0)

    def forward(self, x):
        array("x", x, ndim=(2, 3, 4), layer=self.name)
        if not self.training or self.p == 0:
            self.cache = None
            return self._output(x)
        keep = self.rng.random((x.shape[0],) + (1,) * (x.ndim - 1)) >= self.p     # one draw per example
        self.cache = (keep / (1 - self.p)).astype(x.dtype)
        return self._output(x * self.cache)

    def backward(self, dout):
        self._check_dout(dout)
        return dout if self.cache is None else dout * self.cache


class Hardswish(Layer):
    """x * relu6(x + 3) / 6 (Howard et al., 2019): swish with a piecewise-linear sigmoid, cheap on phones."""

    def forward(self, x):
        self.cache = x
        return self._output(x * np.clip(x + 3, 0, 6) / 6)

    def backward(self, dout):
        self._check_dout(dout)
        x = self.cache
        slope = np.where(x < -3, 0.0, np.where(x <= 3, x / 3 + 0.5, 1.0))    # (x (x + 3) / 6)' = x / 3 + 1/2
        return dout * slope.astype(dout.dtype, copy=False)


class Hardsigmoid(Layer):
    """relu6(x + 3) / 6 (Howard et al., 2019): the gate of MobileNetV3's squeeze-and-excitation."""

    def forward(self, x):
        self.cache = (x > -3) & (x < 3)
        return self._output(np.clip(x + 3, 0, 6) / 6)

    def backward(self, dout):
        return self._check_dout(dout) * self.cache / 6


class GELU(Layer):
    """x * Phi(x), Phi the standard normal distribution function (Hendrycks & Gimpel, 2016): ConvNeXt's activation.

    The exact form, with the error function, as PyTorch's default ``nn.GELU()``.
    """

    def forward(self, x):
        from scipy.special import erf  # scipy is in the book's requirements; only GELU needs it

        cdf = 0.5 * (1.0 + erf(x / math.sqrt(2.0)))             # Python floats keep x's dtype
        self.cache = (x, cdf)
        return self._output(x * cdf)

    def backward(self, dout):
        self._check_dout(dout)
        x, cdf = self.cache
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        return dout * (cdf + x * pdf)
