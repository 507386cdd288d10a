"""A small declarative language for networks: one definition, counted and run.

A network is a tree of frozen dataclasses. Leaves are layers; five containers
combine them (the same five as in :mod:`convnets.network`). Input channels are
never written down: they follow from the input shape, so a definition reads
like a paper's table (output channels, kernel, stride).

:mod:`convnets.accounting` walks a tree to count shapes, parameters and
multiply-accumulates; :mod:`convnets.build` walks the same tree to make NumPy
layers that run. Nothing else knows the architectures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .checks import one_of, positive_int, probability

ACTIVATIONS = {"relu", "relu6", "silu", "sigmoid", "hardswish", "hardsigmoid", "gelu"}


# ----------------------------------------------------------------------- leaves
@dataclass(frozen=True)
class Conv:
    """Convolution to ``out`` channels; ``padding=None`` means kernel // 2 ("same" at stride 1)."""

    out: int
    kernel: int
    stride: int = 1
    padding: int | None = None
    groups: int = 1
    bias: bool = False

    def __post_init__(self):
        positive_int("Conv out", self.out)
        positive_int("Conv kernel", self.kernel)
        positive_int("Conv stride", self.stride)
        positive_int("Conv groups", self.groups)
        if self.padding is not None:
            positive_int("Conv padding", self.padding, minimum=0)

    @property
    def pad(self) -> int:
        return self.kernel // 2 if self.padding is None else self.padding


@dataclass(frozen=True)
class BatchNorm:
    """Batch normalisation: 2 parameters (gamma, beta) per channel; ``eps`` is added to the variance."""

    eps: float = 1e-5


@dataclass(frozen=True)
class Act:
    """Element-wise activation: relu, relu6, silu (swish), sigmoid, or, for the networks after
    EfficientNet, hardswish and hardsigmoid (MobileNetV3) and gelu (ConvNeXt)."""

    kind: str = "relu"

    def __post_init__(self):
        one_of("Act kind", self.kind, ACTIVATIONS)


@dataclass(frozen=True)
class LRN:
    """AlexNet's local response normalisation (no parameters)."""

    size: int = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 2.0


@dataclass(frozen=True)
class MaxPool:
    kernel: int
    stride: int
    padding: int = 0
    ceil_mode: bool = False

    def __post_init__(self):
        _check_pool("MaxPool", self.kernel, self.stride, self.padding)


@dataclass(frozen=True)
class AvgPool:
    kernel: int
    stride: int
    padding: int = 0

    def __post_init__(self):
        _check_pool("AvgPool", self.kernel, self.stride, self.padding)


def _check_pool(kind: str, kernel, stride, padding) -> None:
    """Pooling's arguments, with PyTorch's rule that padding is at most half the kernel (the layers' too)."""
    positive_int(f"{kind} kernel", kernel)
    positive_int(f"{kind} stride", stride)
    positive_int(f"{kind} padding", padding, minimum=0)
    if padding > kernel // 2:
        raise ValueError(f"{kind} padding must be at most kernel // 2 = {kernel // 2}, got {padding}")


@dataclass(frozen=True)
class AdaptiveAvgPool:
    """Average pooling to a fixed ``size`` x ``size`` output (torchvision's AlexNet/VGG).

    Any input size, as in PyTorch: output row i averages input rows floor(i H / size)
    to ceil((i + 1) H / size) - 1 (overlapping bins when ``size`` does not divide H).
    """

    size: int

    def __post_init__(self):
        positive_int("AdaptiveAvgPool size", self.size)


@dataclass(frozen=True)
class GlobalAvgPool:
    """Mean over pixels: (C, H, W) -> (C,), or (C, 1, 1) with ``keepdims``."""

    keepdims: bool = False


@dataclass(frozen=True)
class Flatten:
    """(C, H, W) -> (C * H * W,)."""


@dataclass(frozen=True)
class Linear:
    out: int
    bias: bool = True

    def __post_init__(self):
        positive_int("Linear out", self.out)


@dataclass(frozen=True)
class Scale:
    """Multiply by a constant (no parameters): a scaled shortcut, as in He et al. (2016), Fig. 2."""

    factor: float


@dataclass(frozen=True)
class Dropout:
    p: float = 0.5

    def __post_init__(self):
        probability("Dropout p", self.p)


# --------------------------------------------- leaves of the networks after EfficientNet
@dataclass(frozen=True)
class LayerNorm:
    """Layer normalisation over the channels of each pixel (ConvNeXt's LayerNorm2d): 2 parameters per channel.

    Each example's C values at one pixel are normalised to zero mean and unit variance, then
    scaled and shifted per channel. No running statistics: training and inference agree.
    """

    eps: float = 1e-6


@dataclass(frozen=True)
class LayerScale:
    """Multiply each channel by a learnable gamma, initialised to ``init`` (ConvNeXt): 1 parameter per channel."""

    init: float = 1e-6


@dataclass(frozen=True)
class StochasticDepth:
    """Drop a residual body for a whole example with probability ``p`` in training (Huang et al., 2016).

    The identity at inference; no parameters. It goes last in a residual body.
    """

    p: float = 0.0

    def __post_init__(self):
        probability("StochasticDepth p", self.p)


# ------------------------------------------------------------------- containers
@dataclass(frozen=True)
class Seq:
    """Layers in order. ``Seq("layer1", a, b)`` names the stage for summaries."""

    name: str
    items: tuple = field(default=())

    def __init__(self, name: str, *items):
        if not isinstance(name, str):
            raise TypeError(f"Seq name must be a string, got {type(name).__name__}")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "items", tuple(items))


@dataclass(frozen=True)
class Residual:
    """body(x) + shortcut(x); ``shortcut=None`` is the identity."""

    body: object
    shortcut: object = None
    name: str = "residual"


@dataclass(frozen=True)
class Concat:
    """Branches on the same input, outputs stacked on channels (Inception)."""

    name: str
    branches: tuple = field(default=())

    def __init__(self, name: str, *branches):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "branches", tuple(branches))


@dataclass(frozen=True)
class DenseConcat:
    """[x, body(x)] on channels (DenseNet)."""

    body: object
    name: str = "dense"


@dataclass(frozen=True)
class Gate:
    """x * gate(x), one weight per channel (squeeze-and-excitation)."""

    gate: object
    name: str = "se"


CONTAINERS = (Seq, Residual, Concat, DenseConcat, Gate)


def describe(leaf) -> str:
    """A short human description of a leaf, as in a summary table."""
    if isinstance(leaf, Conv):
        kind = "DWConv" if leaf.groups > 1 and leaf.groups == leaf.out else "Conv"
        groups = f" g{leaf.groups}" if leaf.groups > 1 and kind == "Conv" else ""
        return f"{kind} {leaf.kernel}x{leaf.kernel}/{leaf.stride}{groups}"
    if isinstance(leaf, (MaxPool, AvgPool)):
        return f"{type(leaf).__name__} {leaf.kernel}x{leaf.kernel}/{leaf.stride}"
    if isinstance(leaf, Act):
        return {"silu": "SiLU", "gelu": "GELU"}.get(leaf.kind, leaf.kind.capitalize())
    if isinstance(leaf, Dropout):
        return f"Dropout {leaf.p}"
    if isinstance(leaf, Scale):
        return f"Scale x{leaf.factor:g}"
    if isinstance(leaf, StochasticDepth):
        return f"StochasticDepth {leaf.p:.3g}"
    return type(leaf).__name__


def tree(node, indent: str = "") -> str:
    """An indented outline of a definition, one line per layer, for reading in a notebook.

    >>> print(tree(Seq("stem", Conv(64, 7, 2), BatchNorm(), Act())))
    stem
      Conv 7x7/2 -> 64
      BatchNorm
      Relu
    """
    lines = []
    if isinstance(node, Seq):
        lines.append(f"{indent}{node.name or 'Seq'}")
        lines += [tree(item, indent + "  ") for item in node.items]
    elif isinstance(node, Residual):
        lines.append(f"{indent}Residual: body(x) + {'shortcut(x)' if node.shortcut else 'x'}")
        lines.append(tree(node.body, indent + "  "))
        if node.shortcut is not None:
            lines.append(tree(node.shortcut, indent + "  "))
    elif isinstance(node, Concat):
        lines.append(f"{indent}Concat {node.name}: branches stacked on channels")
        lines += [tree(b, indent + "  ") for b in node.branches]
    elif isinstance(node, DenseConcat):
        lines.append(f"{indent}DenseConcat: [x, body(x)]")
        lines.append(tree(node.body, indent + "  "))
    elif isinstance(node, Gate):
        lines.append(f"{indent}Gate: x * gate(x)")
        lines.append(tree(node.gate, indent + "  "))
    elif isinstance(node, (Conv, Linear)):
        lines.append(f"{indent}{describe(node)} -> {node.out}")
    else:
        lines.append(f"{indent}{describe(node)}")
    return "\n".join(lines)
