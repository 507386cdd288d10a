"""Experiments the chapter runs at build time: small, seeded, measured by backpropagation.

* :func:`gradient_flow` — the norm of the gradient reaching each block of a deep
  plain or residual stack, and of each block's weight gradient;
* :func:`shattered_gradients` — how correlated the input-gradients of nearby inputs
  stay with depth (Balduzzi et al., 2017);
* :func:`train` — train a network definition on real data with the NumPy layers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from .build import build
from .checks import array, one_of, positive_int
from .layers import softmax_cross_entropy
from .network import SGD, Sequential
from .spec import Act, BatchNorm, Linear, Residual, Scale, Seq


# ------------------------------------------------------------------ the 1-D stack
def dense_block(width: int, *, residual: bool, norm: bool, variant: str = "pre",
                shortcut_scale: float = 1.0) -> Seq | Residual:
    """A fully connected stand-in for a ResNet block: it acts on vectors of ``width`` numbers.

    Dense matrices stand where a ResNet has 3x3 convolutions, and batch norm over the batch
    (``norm=True``) where it normalises over the batch and pixels.

    * ``variant="pre"`` (He et al., 2016): F(x) = W2 relu(BN(W1 relu(BN(x)))); y = x + F(x),
      nothing on the identity path.
    * ``variant="post"`` (He et al., 2015): F(x) = BN(W2 relu(BN(W1 x))); y = relu(x + F(x)),
      a ReLU on the identity path after the addition.

    ``residual=False`` drops the "+ x": the plain block with the same layers.
    ``shortcut_scale`` multiplies the identity path: y = F(x) + shortcut_scale * x.
    """
    one_of("variant", variant, {"pre", "post"})
    bn = [BatchNorm()] if norm else []
    shortcut = None if shortcut_scale == 1 else Seq("shortcut", Scale(shortcut_scale))
    if variant == "pre":
        f = Seq("F", *bn, Act("relu"), Linear(width), *bn, Act("relu"), Linear(width))
        return Residual(f, shortcut, name="block") if residual else f
    f = Seq("F", Linear(width), *bn, Act("relu"), Linear(width), *bn)
    return Seq("block", Residual(f, shortcut) if residual else f, Act("relu"))


def dense_stack(depth: int, width: int = 64, *, residual: bool = True, norm: bool = False,
                variant: str = "pre", shortcut_scale: float = 1.0) -> Seq:
    """``depth`` blocks of :func:`dense_block`, one after another."""
    positive_int("depth", depth)
    positive_int("width", width)
    return Seq(f"{'residual' if residual else 'plain'}{depth}",
               *(dense_block(width, residual=residual, norm=norm, variant=variant, shortcut_scale=shortcut_scale)
                 for _ in range(depth)))


@dataclass
class GradientFlow:
    """What :func:`gradient_flow` measured; index 0 is the input side."""

    input_grad: np.ndarray      # (depth + 1,): ||dL/dx_l|| at the input of block l (last: the output)
    weight_grad: np.ndarray     # (depth,): ||dL/dW|| of all weights in block l
    activation_std: np.ndarray  # (depth + 1,): std of x_l, what a commonly copied figure plots instead
    settings: dict = field(default_factory=dict)

    @property
    def growth(self) -> float:
        """How many times larger the gradient at the first block is than at the output."""
        return float(self.input_grad[0] / self.input_grad[-1])


def gradient_flow(depth: int = 50, width: int = 64, *, residual: bool = True, norm: bool = False,
                  gain: float = 1.0, variant: str = "pre", shortcut_scale: float = 1.0, batch: int = 128,
                  seed: int = 0) -> GradientFlow:
    """Backpropagate through a fresh ``dense_stack`` and record gradient norms block by block.

    The loss is L = mean over the batch of <y, g> for a fixed random direction g, so
    dL/dy is the same for every network and the norms compare the Jacobians alone.
    ``gain`` scales He initialisation (1: He; below 1: too small). Float64 throughout.
    Each reported norm is the root-mean-square over the batch of the per-example norms
    ||d<y_n, g_n>/dx_n||; at the output it is ||g_n|| ~ sqrt(width).
    """
    if gain <= 0:
        raise ValueError(f"gain must be > 0, got {gain}")
    batch = positive_int("batch", batch, minimum=2)
    model = build(dense_stack(depth, width, residual=residual, norm=norm, variant=variant,
                              shortcut_scale=shortcut_scale), (width,), seed=seed, dtype=np.float64, gain=gain)
    rng = np.random.default_rng(seed + 10_000)
    x = rng.standard_normal((batch, width))
    direction = rng.standard_normal((batch, width))

    stds = [x.std()]
    for block in model.children:
        x = block.forward(x)
        stds.append(x.std())
    model.zero_grad()
    grad = direction / batch                                  # dL/dy for L = mean_n <y_n, g_n>
    per_example = [np.linalg.norm(grad) * np.sqrt(batch)]     # rms over examples of ||g_n||
    weight_norms = []
    for block in reversed(model.children):
        grad = block.backward(grad)
        per_example.append(np.linalg.norm(grad) * np.sqrt(batch))
        weight_norms.append(np.sqrt(sum(np.sum(layer.grads[k] ** 2)
                                        for layer, k in block.named_parameters() if k == "W")))
    return GradientFlow(np.array(per_example[::-1]), np.array(weight_norms[::-1]), np.array(stds),
                        dict(depth=depth, width=width, residual=residual, norm=norm, gain=gain, variant=variant,
                             shortcut_scale=shortcut_scale, seed=seed))


def shattered_gradients(depths=(1, 2, 4, 8, 16, 32, 50), width: int = 64, *, residual: bool, norm: bool = True,
                        points: int = 256, seed: int = 0) -> np.ndarray:
    """Correlation of input-gradients between neighbouring inputs, for each depth.

    Following Balduzzi et al. (2017): feed a line of ``points`` inputs x(t) = a + t b
    (t in [-1, 1]) through a stack with scalar output w^T y, take the gradient of
    that output with respect to each x(t), and return the mean correlation between
    the gradients at neighbouring t, one value per depth. Near 1: the gradient
    changes smoothly; near 0: it looks like white noise ("shattered").
    """
    rng = np.random.default_rng(seed + 20_000)
    a, b, w = rng.standard_normal(width), rng.standard_normal(width), rng.standard_normal(width)
    t = np.linspace(-1, 1, points)[:, None]
    xs = a + t * b
    out = []
    for depth in depths:
        model = build(dense_stack(depth, width, residual=residual, norm=norm), (width,), seed=seed,
                      dtype=np.float64)
        model.forward(xs)
        model.zero_grad()
        g = model.backward(np.tile(w, (points, 1)))               # (points, width): d(w.y)/dx
        g = g - g.mean(axis=1, keepdims=True)
        g /= np.linalg.norm(g, axis=1, keepdims=True) + 1e-300
        out.append(float(np.mean(np.sum(g[1:] * g[:-1], axis=1))))
    return np.array(out)


# ------------------------------------------------------------------------ training
@dataclass
class History:
    """Per-epoch training record of :func:`train`."""

    train_loss: list = field(default_factory=list)
    batch_loss: list = field(default_factory=list)     # the loss of every mini-batch, in training order
    train_error: list = field(default_factory=list)
    test_error: list = field(default_factory=list)
    seconds: float = 0.0
    model: Sequential | None = None      # the trained network (caches released)


def error_rate(model: Sequential, x: np.ndarray, y: np.ndarray, batch: int = 256) -> float:
    """Fraction misclassified, in evaluation mode (batch norm uses running statistics)."""
    model.eval()
    wrong = 0
    for i in range(0, len(x), batch):
        wrong += int(np.sum(model.forward(x[i:i + batch]).argmax(axis=1) != y[i:i + batch]))
    model.train()
    return wrong / len(x)


def train(network, data, *, epochs: int = 10, batch: int = 64, lr: float = 0.05, momentum: float = 0.9,
          weight_decay: float = 1e-4, seed: int = 0, schedule: str = "cosine", errors: str = "every epoch") -> History:
    """Train ``network`` (a spec) on ``data`` = (x_train, y_train, x_test, y_test) with SGD.

    Returns the per-epoch mean training loss (over the epoch's mini-batches, in
    training mode), the loss of every mini-batch (``batch_loss``, for curves finer than an
    epoch) and the training and test error in evaluation mode after each epoch,
    or, with ``errors="last epoch"``, after the last one only (each error is a pass over
    the whole data set: a fifth of a small network's training time).

    BLAS runs on one thread here: a multi-threaded matmul may sum in a different order on a
    machine with another number of cores, and training amplifies such last-bit differences,
    so with one thread the same seed gives the same numbers on every machine.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _train(network, data, epochs=epochs, batch=batch, lr=lr, momentum=momentum,
                      weight_decay=weight_decay, seed=seed, schedule=schedule, errors=errors)


def _train(network, data, *, epochs, batch, lr, momentum, weight_decay, seed, schedule, errors) -> History:
    one_of("schedule", schedule, {"cosine", "constant"})
    one_of("errors", errors, {"every epoch", "last epoch"})
    epochs = positive_int("epochs", epochs)
    x_train, y_train, x_test, y_test = data
    model = build(network, x_train.shape[1:], seed=seed, dtype=x_train.dtype)
    opt = SGD(model, lr=lr, momentum=momentum, weight_decay=weight_decay)
    rng = np.random.default_rng(seed + 30_000)
    history = History()
    start = time.perf_counter()
    steps_per_epoch = int(np.ceil(len(x_train) / batch))
    total_steps = epochs * steps_per_epoch
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(len(x_train))
        losses = []
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            if schedule == "cosine":
                opt.lr = 0.5 * lr * (1 + np.cos(np.pi * step / total_steps))
            model.zero_grad()
            loss, dlogits = softmax_cross_entropy(model.forward(x_train[idx]), y_train[idx])
            model.backward(dlogits.astype(x_train.dtype))
            opt.step()
            losses.append(loss)
            step += 1
        history.train_loss.append(float(np.mean(losses)))
        history.batch_loss.extend(float(v) for v in losses)
        if errors == "every epoch" or epoch == epochs - 1:
            history.train_error.append(error_rate(model, x_train, y_train))
            history.test_error.append(error_rate(model, x_test, y_test))
    history.seconds = time.perf_counter() - start
    history.model = model.release()          # keep the weights, not the last batch's caches
    return history


# --------------------------------------------------------------- the ODE view
@dataclass
class EulerFlow:
    """What :func:`residual_euler` computed."""

    depths: np.ndarray          # numbers of residual blocks tried
    errors: np.ndarray          # ||x_L - x(T)|| for each depth
    paths: dict                 # depth -> (L + 1, 2) states after each block
    exact: np.ndarray           # (200, 2) the exact trajectory x(t), t in [0, T]


def residual_euler(depths=(2, 4, 8, 16, 32, 64, 128), *, horizon: float = 3.0, damping: float = 0.1) -> EulerFlow:
    """A residual stack as forward Euler: x_{l+1} = x_l + (T/L) A x_l, against dx/dt = A x exactly.

    A = [[-d, -1], [1, -d]] turns the state around the origin while damping it; each of the
    L residual blocks adds a small change F(x) = (T/L) A x to its input. The exact solution is
    x(t) = exp(-d t) R(t) x0 with R a rotation by angle t.
    """
    a = np.array([[-damping, -1.0], [1.0, -damping]])
    x0 = np.array([1.0, 0.0])

    def exact(t):
        return np.exp(-damping * t) * np.array([np.cos(t), np.sin(t)])

    paths, errors = {}, []
    for depth in depths:
        depth = positive_int("depth", depth)
        h = horizon / depth
        x = [x0]
        for _ in range(depth):
            x.append(x[-1] + h * (a @ x[-1]))          # y = x + F(x): one residual block
        paths[depth] = np.array(x)
        errors.append(np.linalg.norm(x[-1] - exact(horizon)))
    ts = np.linspace(0, horizon, 200)
    return EulerFlow(np.array(depths), np.array(errors), paths, np.array([exact(t) for t in ts]))


# ------------------------------------------------------------------ Jacobians
def input_jacobian(layer, x: np.ndarray, example: int = 0) -> np.ndarray:
    """d y[example] / d x[example] of a built layer or network on a batch x (N, F): (F_out, F).

    One forward pass of the whole batch, then row j is the backward pass of the unit vector
    e_j at output ``example`` (backward reads the forward caches and leaves them as they
    are). With batch norm this is the true Jacobian, statistics included: the backward pass
    goes through the batch's mean and variance, which depend on x[example] too.
    """
    array("x", x, ndim=2)
    if not isinstance(example, int | np.integer) or not 0 <= example < x.shape[0]:
        raise ValueError(f"example must be an index into the batch of {x.shape[0]}, got {example!r}")
    y = layer.forward(x)
    rows = []
    for j in range(y.shape[1]):
        dout = np.zeros_like(y)
        dout[example, j] = 1.0
        rows.append(layer.backward(dout)[example])
    return np.array(rows)


# ----------------------------------------------------------- receptive fields
def empirical_receptive_field(network, input_size: int = 33, channels: int = 1, seed: int = 0) -> int:
    """Measure a network's receptive field by backpropagation.

    Build ``network`` (a spec) for a ``channels`` x ``input_size`` x ``input_size`` input,
    backpropagate a gradient of 1 from the centre pixel of the first output channel, and
    return the side of the square of input pixels whose gradient is non-zero. Weights are
    random and positive-shifted (|w| + 0.1) so that no gradient cancels by accident.
    """
    model = build(network, (channels, input_size, input_size), seed=seed, dtype=np.float64)
    for layer, key in model.named_parameters():
        if key == "W":
            layer.params[key] = np.abs(layer.params[key]) + 0.1
    x = np.random.default_rng(seed).random((1, channels, input_size, input_size)) + 0.5
    out = model.forward(x)
    model.zero_grad()
    touched = _centre_footprint(model, out)
    rows, cols = np.flatnonzero(touched.any(axis=1)), np.flatnonzero(touched.any(axis=0))
    return int(max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1)


def _centre_footprint(model, out: np.ndarray) -> np.ndarray:
    """The (H, W) mask of input pixels whose gradient is non-zero when ``model``, which just gave ``out``
    (N, C, H', W'), backpropagates 1 from the centre pixel of channel 0 of the first image."""
    grad = np.zeros_like(out)
    grad[0, 0, out.shape[2] // 2, out.shape[3] // 2] = 1.0
    return np.abs(model.backward(grad)[0]).sum(axis=0) > 0


# ---- alexnet_vgg: what a stack of linear convolutions computes
def compose_kernels(*kernels: np.ndarray) -> np.ndarray:
    """The one kernel that a stack of linear, unpadded, stride-1 convolutions computes.

    ``kernels`` are the weights in the order the data meets them, each of shape
    (C_out, C_in, k, k) with C_in equal to the previous C_out. Without activations,
    biases, padding or stride, convolving with a, then b, is convolving with one kernel
    of side k_a + k_b - 1 whose (o, i) slice is sum_m conv_full(b[o, m], a[m, i]) (the
    cross-correlations of deep-learning layers compose by full convolution of their
    kernels). Three 3x3 kernels give one 7x7 kernel; returns (C_out, C_in, K, K).
    """
    if not kernels:
        raise ValueError("compose_kernels needs at least one kernel, got none")
    for i, k in enumerate(kernels):
        array(f"kernels[{i}]", k, ndim=4)
        if k.shape[2] != k.shape[3]:
            raise ValueError(f"kernels[{i}] must be square (C_out, C_in, k, k), got shape {k.shape}")
    total = kernels[0]
    for i, b in enumerate(kernels[1:], start=1):
        if b.shape[1] != total.shape[0]:
            raise ValueError(f"kernels[{i}] reads {b.shape[1]} channels but the stack before it gives "
                             f"{total.shape[0]}")
        ka, kb = total.shape[2], b.shape[2]
        out = np.zeros((b.shape[0], total.shape[1], ka + kb - 1, ka + kb - 1), np.result_type(total, b))
        for p in range(kb):
            for q in range(kb):
                out[:, :, p:p + ka, q:q + ka] += np.einsum("om,mixy->oixy", b[:, :, p, q], total)
        total = out
    return total


def kernel_family_dimension(channels: int, layers: int = 3, kernel: int = 3, *, seed: int = 0) -> int:
    """How many independent directions a stack of linear k x k convolutions can move its equivalent kernel in.

    A stack of ``layers`` convolutions, ``channels`` in and out, without activations, has
    layers * k^2 * C^2 weights and computes one kernel of side layers * (k - 1) + 1
    (:func:`compose_kernels`). The kernels it can reach form a set of dimension equal to the
    rank of the derivative of kernel with respect to weights at generic (here random) weights.
    The kernel is linear in each layer's weights, so each column of the derivative is the
    composition with that one weight set to 1 and the rest of its layer to 0: exact, no step size.
    """
    c, n, k = positive_int("channels", channels), positive_int("layers", layers), positive_int("kernel", kernel)
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((c, c, k, k)) for _ in range(n)]
    columns = []
    for layer in range(n):
        for index in np.ndindex(c, c, k, k):
            unit = np.zeros((c, c, k, k))
            unit[index] = 1.0
            columns.append(compose_kernels(*weights[:layer], unit, *weights[layer + 1:]).ravel())
    return int(np.linalg.matrix_rank(np.array(columns).T))

# ---- degradation page: the weight gradients of a real network, layer by layer
@dataclass
class LayerGradients:
    """What :func:`weight_gradients` measured, one entry per convolution on the main path (input side first)."""

    names: tuple[str, ...]      # each convolution's path in the network, e.g. "stage2.block1.0.body.3"
    norms: np.ndarray           # (layers,): ||dL/dW|| of each convolution's weights
    loss: float                 # the mean cross-entropy of the batch

    @property
    def spread(self) -> float:
        """How many times larger the first convolution's weight gradient is than the last one's."""
        return float(self.norms[0] / self.norms[-1])

    @property
    def per_layer(self) -> float:
        """The factor per layer that, compounded from the last convolution to the first, gives :attr:`spread`."""
        return self.spread ** (1 / (len(self.norms) - 1))


def weight_gradients(network, x: np.ndarray, y: np.ndarray, *, seed: int = 0) -> LayerGradients:
    """The norm of each convolution's weight gradient for one batch, from the input side to the output.

    ``network`` is a definition (:mod:`convnets.spec`), built here with ``seed`` and the dtype
    of ``x``: these are the very weights :func:`train` starts from with the same seed, so the
    result describes the network at initialisation. It may also be a built network (for
    example ``History.model`` after training), used as it is, in training mode (batch norm
    normalises with the batch's statistics, as in a training step).

    One forward and backward pass of the mean softmax cross-entropy of the batch (``x``:
    (N, C, H, W), ``y``: (N,) class indices), on one BLAS thread like :func:`train`.
    Convolutions on a shortcut (projections) are left out, so that a plain network and its
    residual twin report the same layers in the same order.
    """
    from .conv import Conv2d
    from .layers import Layer

    array("x", x, ndim=4)
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer) or y.shape != (x.shape[0],):
        raise ValueError(f"y must hold {x.shape[0]} integer class indices, one per image of x, "
                         f"got dtype {y.dtype} and shape {y.shape}")
    if isinstance(network, Layer):
        model = network.train()
    else:
        model = build(network, x.shape[1:], seed=seed, dtype=x.dtype)   # raises TypeError for a non-definition
    convs = [layer for layer in model.layers() if isinstance(layer, Conv2d) and "shortcut" not in layer.name]
    if len(convs) < 2:
        raise ValueError(f"network must have at least two convolutions on its main path, got {len(convs)}")
    with threadpool_limits(limits=1, user_api="blas"):
        model.zero_grad()
        loss, dlogits = softmax_cross_entropy(model.forward(x), y)
        model.backward(dlogits.astype(x.dtype))
    norms = np.array([float(np.linalg.norm(layer.grads["W"])) for layer in convs])
    names = tuple(layer.name.rsplit(" (", 1)[0] for layer in convs)          # "stage1.block1.0 (FastConv2d)"
    return LayerGradients(names, norms, float(loss))


# ---- depthwise page: what ReLU does to a low-dimensional manifold (MobileNetV2, Fig. 1)
@dataclass
class ReluManifold:
    """What :func:`relu_manifold` measured, per embedding dimension n (one entry per value of ``dims``)."""

    dims: np.ndarray            # the embedding dimensions n
    spiral: np.ndarray          # (P, 2) the points of the input spiral
    lost: np.ndarray            # fraction of points whose ReLU(T x) keeps at most one non-zero coordinate
    linear_error: np.ndarray    # relative error of the best linear map from ReLU(T x) back to x
    inverse_error: np.ndarray   # relative error of pinv(T) ReLU(T x), the paper's map back
    back: dict = field(default_factory=dict)   # n -> (P, 2) pinv(T) ReLU(T x) for the first random T


def spiral(points: int = 400, turns: float = 2.0) -> np.ndarray:
    """``points`` points (P, 2) along an Archimedean spiral of ``turns`` turns, radius from 0.05 to 1."""
    points = positive_int("points", points, minimum=2)
    if isinstance(turns, bool) or not isinstance(turns, (int, float)) or not turns > 0:
        raise ValueError(f"turns must be a positive number, got {turns!r}")
    t = np.linspace(0.05, 1.0, points)
    angle = 2 * np.pi * turns * t
    return np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)


def relu_manifold(dims=(2, 3, 4, 5, 6, 8, 10, 15, 20, 30), *, points: int = 400, turns: float = 2.0,
                  draws: int = 30, seed: int = 0) -> ReluManifold:
    """Sandler et al.'s (2018) Fig. 1 experiment, measured: embed a 2-D spiral x into n dimensions with a
    random Gaussian matrix T (n x 2), apply ReLU, and map back to 2-D.

    For each n, averaged over ``draws`` random matrices:

    * ``lost``: the fraction of spiral points whose ReLU(T x) has at most one non-zero coordinate. Such an
      output is shared by a whole segment of the plane around x (every point on the line through x
      perpendicular to the surviving row of T, inside the same region; a whole region if no coordinate
      survives), so no map recovers x from ReLU(T x) unless it already knows that x lies on the spiral;
    * ``linear_error``: mean |M h - x| / mean |x| for the best linear map M back (least squares over the
      spiral), h = ReLU(T x);
    * ``inverse_error``: the same for M = pinv(T), the "T^-1" of the paper's figure.

    ``back[n]`` keeps pinv(T) ReLU(T x) for the first matrix, for drawing.
    """
    dims = [positive_int("dims[i]", n, minimum=2) for n in dims]
    positive_int("draws", draws)
    x = spiral(points, turns)
    scale = np.linalg.norm(x, axis=1).mean()
    lost, linear, inverse, back = [], [], [], {}
    for n in dims:
        rng = np.random.default_rng([seed, n])
        runs = []
        for d in range(draws):
            t = rng.standard_normal((n, 2))
            h = np.maximum(x @ t.T, 0.0)
            m, *_ = np.linalg.lstsq(h, x, rcond=None)
            x_inverse = h @ np.linalg.pinv(t).T
            if d == 0:
                back[n] = x_inverse
            runs.append((((h > 0).sum(axis=1) <= 1).mean(), np.linalg.norm(h @ m - x, axis=1).mean() / scale,
                         np.linalg.norm(x_inverse - x, axis=1).mean() / scale))
        for values, mean in zip((lost, linear, inverse), np.mean(runs, axis=0), strict=True):
            values.append(mean)
    return ReluManifold(np.array(dims), x, np.array(lost), np.array(linear), np.array(inverse), back)


# ---- squeeze_excite page: which input pixels one output depends on
def gradient_footprint(network, input_size: int = 33, channels: int = 1, seed: int = 0) -> np.ndarray:
    """The input pixels that the centre output of channel 0 depends on: a boolean (input_size, input_size)
    mask of the pixels whose gradient is non-zero, by backpropagation through ``network`` (a spec) built
    with its own random initialisation, in float64 and in evaluation mode (batch norm with its running
    statistics, so that no batch statistic links distant pixels).

    Unlike :func:`empirical_receptive_field`, no weight is changed, so a gate's sigmoid is not saturated
    and its gradient survives.
    """
    input_size = positive_int("input_size", input_size)
    channels = positive_int("channels", channels)
    model = build(network, (channels, input_size, input_size), seed=seed, dtype=np.float64).eval()
    x = np.random.default_rng(seed).standard_normal((1, channels, input_size, input_size))
    out = model.forward(x)
    if out.ndim != 4:
        raise ValueError(f"network must output feature maps (N, C, H, W), got shape {out.shape}")
    return _centre_footprint(model, out)
# ---- residual pages: the mean-field rate of gradient growth with batch norm
def mean_field_bn_relu_rate(batch: int) -> float:
    """Yang et al. (2019), Theorem 3.10: how fast the gradient explodes in a deep ReLU network with batch norm.

    (Theorem 3.10 of arXiv:1902.08129, the ICLR 2019 conference text; the general statement is its Theorem 3.9.)
    At initialisation, in the limit of infinite width and under the mean-field "gradient independence"
    assumption (their Appendix B), the squared norm of the gradient grows by this factor per layer
    (batch norm, ReLU, fully connected layer), for batch statistics over ``batch`` examples:

        (B - 1) (J'(c) + (B - 1) J(1)) / ((B - 3) (B - 1) (J(1) - J(c))) - 1 / (B - 3),   c = -1 / (B - 1),

    with J(c) = (sqrt(1 - c^2) + (pi - arccos c) c) / pi the arccosine kernel (degree alpha = 1). It decreases to
    pi / (pi - 1) ~ 1.467 as B grows, so the norm itself grows by sqrt(pi / (pi - 1)) ~ 1.211 per layer.
    The theorem needs B > 3.
    """
    b = positive_int("batch", batch, minimum=4)
    c = -1.0 / (b - 1)

    def kernel(z):                        # J(z)
        return (np.sqrt(1 - z * z) + (np.pi - np.arccos(z)) * z) / np.pi

    slope = (np.pi - np.arccos(c)) / np.pi    # J'(c)
    return float((b - 1) * (slope + (b - 1) * kernel(1.0)) / ((b - 3) * (b - 1) * (kernel(1.0) - kernel(c)))
                 - 1.0 / (b - 3))
