"""Count a network definition: output shapes, parameters, multiply-accumulates, depth.

Conventions (stated once, used everywhere in the chapter):

* **parameters** are trainable weights and biases, including batch norm's gamma
  and beta; batch norm's running mean and variance are *not* parameters;
* **parameters** also include layer norm's gamma and beta and layer scale's gamma
  (one per channel), as torchvision counts them;
* **MACs** (multiply-accumulates) count convolutions and linear layers only:
  a k x k convolution from C_in/groups to C_out channels on an H' x W' output costs
  C_out * H' * W' * (C_in/groups) * k * k. Bias additions, batch norm, layer norm,
  layer scale, activations (hard-swish and GELU included), pooling, residual additions
  and the squeeze-and-excitation product are not counted (together they are a few
  percent at most). Squeeze-and-excitation's two 1x1 convolutions are convolutions and
  are counted. This is the convention of torchvision's published GFLOPS (its weights'
  ``_ops``): for every network of the zoo that torchvision ships, our count rounds to
  its published value, and would not if layer norm were counted (ConvNeXt-Tiny:
  4.456 G, which would become 4.459 G with one operation per normalised value);
* **depth** is the number of weight layers (convolutions and linear layers) on the
  longest path from input to output: VGG-16 has 16, ResNet-50 50, DenseNet-121 121,
  GoogLeNet 22. Parallel shortcuts do not add to it; squeeze-and-excitation's two
  1x1 convolutions do, since they lie on a path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .checks import positive_int
from .shapes import conv_output_size
from .spec import (
    CONTAINERS,
    LRN,
    Act,
    AdaptiveAvgPool,
    AvgPool,
    BatchNorm,
    Concat,
    Conv,
    DenseConcat,
    Dropout,
    Flatten,
    Gate,
    GlobalAvgPool,
    LayerNorm,
    LayerScale,
    Linear,
    MaxPool,
    Residual,
    Scale,
    Seq,
    StochasticDepth,
    describe,
)


@dataclass(frozen=True)
class Row:
    """One leaf layer of a network, counted."""

    path: str
    layer: str
    output_shape: tuple[int, ...]
    params: int
    macs: int


@dataclass(frozen=True)
class Counts:
    """A counted network: its rows and totals."""

    name: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    rows: tuple[Row, ...]
    params: int
    macs: int
    depth: int

    def by_prefix(self, level: int = 1) -> dict[str, tuple[int, int]]:
        """Parameters and MACs summed by the first ``level`` parts of each path (stages at level 1)."""
        totals: dict[str, tuple[int, int]] = {}
        for row in self.rows:
            key = ".".join(row.path.split(".")[:level])
            p, m = totals.get(key, (0, 0))
            totals[key] = (p + row.params, m + row.macs)
        return totals


def _image(path: str, leaf, shape) -> tuple[int, int, int]:
    """``shape`` as (C, H, W), for a leaf that acts on images."""
    if len(shape) != 3:
        raise ValueError(f"{path} ({describe(leaf)}): needs a (C, H, W) input, got {shape}")
    return shape


def _spatial(path: str, leaf, shape, kernel: int, stride: int, padding: int, ceil_mode: bool = False):
    c, h, w = _image(path, leaf, shape)
    try:
        return (c, conv_output_size(h, kernel, stride, padding, ceil_mode=ceil_mode),
                conv_output_size(w, kernel, stride, padding, ceil_mode=ceil_mode))
    except ValueError as err:
        raise ValueError(f"{path} ({describe(leaf)}) on input {shape}: {err}") from None


def _leaf(node, shape, path):
    """(output shape, params, macs, weight layers) of one leaf."""
    if isinstance(node, Conv):
        c = shape[0]
        if c % node.groups or node.out % node.groups:
            raise ValueError(f"{path}: groups={node.groups} must divide in channels {c} and out {node.out}")
        _, h, w = _spatial(path, node, shape, node.kernel, node.stride, node.pad)
        per_output = (c // node.groups) * node.kernel * node.kernel
        params = node.out * per_output + (node.out if node.bias else 0)
        return (node.out, h, w), params, node.out * h * w * per_output, 1
    if isinstance(node, Linear):
        if len(shape) != 1:
            raise ValueError(f"{path} (Linear): needs a flat (F,) input, got {shape}; add Flatten")
        return (node.out,), shape[0] * node.out + (node.out if node.bias else 0), shape[0] * node.out, 1
    if isinstance(node, BatchNorm):
        return shape, 2 * shape[0], 0, 0
    if isinstance(node, (Act, LRN, Dropout, Scale, StochasticDepth)):
        return shape, 0, 0, 0
    if isinstance(node, LayerNorm):                      # gamma and beta per channel
        return shape, 2 * shape[0], 0, 0
    if isinstance(node, LayerScale):                     # gamma per channel
        return shape, shape[0], 0, 0
    if isinstance(node, MaxPool):
        return _spatial(path, node, shape, node.kernel, node.stride, node.padding, node.ceil_mode), 0, 0, 0
    if isinstance(node, AvgPool):
        return _spatial(path, node, shape, node.kernel, node.stride, node.padding), 0, 0, 0
    if isinstance(node, AdaptiveAvgPool):
        return (_image(path, node, shape)[0], node.size, node.size), 0, 0, 0
    if isinstance(node, GlobalAvgPool):
        return ((shape[0], 1, 1) if node.keepdims else (shape[0],)), 0, 0, 0
    if isinstance(node, Flatten):
        return (math.prod(shape),), 0, 0, 0
    raise TypeError(f"{path}: unknown layer type {type(node).__name__}")


def _labels(items) -> list[str]:
    """Path labels of a Seq's items: a named Seq or Concat by its name, numbered from 1 when siblings share it
    (the blocks of a stage: block1, block2, ...); any other item by its position."""
    names = [item.name if isinstance(item, (Seq, Concat)) and item.name else None for item in items]
    seen: dict[str, int] = {}
    labels = []
    for i, name in enumerate(names):
        if name is None:
            labels.append(str(i))
        elif names.count(name) > 1:
            seen[name] = seen.get(name, 0) + 1
            labels.append(f"{name}{seen[name]}")
        else:
            labels.append(name)
    return labels


def walk(node, shape, leaf, combine, path=""):
    """The one traversal of a definition: shapes, checks, and a value built bottom-up.

    Every consumer of a definition (counting here, building in :mod:`convnets.build`) walks
    it through this function, so the shape rules of the five containers live in one place.

    * ``leaf(node, in_shape, out_shape, params, macs, weighted, path)`` gives a leaf's value;
    * ``combine(node, values, path)`` gives a container's value from its children's, in
      order (a Residual's are ``[body, shortcut]``, the shortcut's ``None`` for the identity).

    Returns ``(output shape, value)``. Paths name stages and blocks (``conv2_x.block1.0.body.3``), as in
    :func:`summary`. Raises ``ValueError`` naming the path when shapes do not fit.
    """
    if isinstance(node, Seq):
        values = []
        for i, label in enumerate(_labels(node.items)):
            item = node.items[i]
            shape, value = walk(item, shape, leaf, combine, f"{path}.{label}" if path else label)
            values.append(value)
        return shape, combine(node, values, path)
    if isinstance(node, Residual):
        out, body = walk(node.body, shape, leaf, combine, f"{path}.body")
        short, shortcut = ((shape, None) if node.shortcut is None
                           else walk(node.shortcut, shape, leaf, combine, f"{path}.shortcut"))
        if out != short:
            raise ValueError(f"{path}: residual body gives {out} but shortcut gives {short}")
        return out, combine(node, [body, shortcut], path)
    if isinstance(node, Concat):
        outs = [walk(b, shape, leaf, combine, f"{path}.{b.name if isinstance(b, Seq) and b.name else i}")
                for i, b in enumerate(node.branches)]
        if len({o[1:] for o, _ in outs}) != 1:
            raise ValueError(f"{path}: branch outputs {[o for o, _ in outs]} differ in size")
        return (sum(o[0] for o, _ in outs), *outs[0][0][1:]), combine(node, [v for _, v in outs], path)
    if isinstance(node, DenseConcat):
        out, value = walk(node.body, shape, leaf, combine, f"{path}.{node.name}")
        if out[1:] != shape[1:]:
            raise ValueError(f"{path}: dense layer changed the size {shape[1:]} -> {out[1:]}")
        return (shape[0] + out[0], *shape[1:]), combine(node, [value], path)
    if isinstance(node, Gate):
        out, value = walk(node.gate, shape, leaf, combine, f"{path}.{node.name}")
        if out != (shape[0], 1, 1):
            raise ValueError(f"{path}: gate gives {out}, expected {(shape[0], 1, 1)}")
        return shape, combine(node, [value], path)
    out, params, macs, weighted = _leaf(node, shape, path)
    return out, leaf(node, shape, out, params, macs, weighted, path)


def count(network, input_shape) -> Counts:
    """Count ``network`` (a :mod:`convnets.spec` tree) on one input of ``input_shape`` = (C, H, W) or (F,).

    >>> from convnets.spec import Seq, Conv
    >>> count(Seq("net", Conv(8, 3, bias=True)), (3, 32, 32)).params   # 8 * 3 * 3 * 3 + 8
    224
    """
    check_network(network, input_shape)
    rows: list[Row] = []

    def leaf(node, in_shape, out, params, macs, weighted, path):
        rows.append(Row(path, describe(node), out, params, macs))
        return weighted                                   # depth of a leaf: 1 if it has weights

    def combine(node, depths, path):                      # longest path through weight layers
        return sum(depths) if isinstance(node, Seq) else max(d or 0 for d in depths)

    out, depth = walk(network, tuple(input_shape), leaf, combine)
    return Counts(getattr(network, "name", ""), tuple(input_shape), out, tuple(rows),
                  sum(r.params for r in rows), sum(r.macs for r in rows), depth)


def check_network(network, input_shape) -> None:
    """Check that ``network`` is a spec container and ``input_shape`` a (C, H, W) or (F,) tuple."""
    if not isinstance(network, CONTAINERS):
        raise TypeError(f"network must be a spec container such as Seq, got {type(network).__name__}")
    if not isinstance(input_shape, tuple) or len(input_shape) not in (1, 3):
        raise ValueError(f"input_shape must be a tuple (C, H, W) or (F,), got {input_shape!r}")
    for i, v in enumerate(input_shape):
        positive_int(f"input_shape[{i}]", v)


def summary(counts: Counts, *, skip_empty: bool = True) -> str:
    """A per-layer table like Keras' ``model.summary()``: path, layer, output shape, params, MACs.

    ``skip_empty`` leaves out rows with neither parameters nor MACs that keep the shape
    (activations, dropout); pooling rows stay because they change the shape.
    """
    lines = [f"{'layer':<40} {'type':<18} {'output shape':<18} {'params':>12} {'MACs':>15}", "-" * 107]
    previous = counts.input_shape
    for r in counts.rows:
        if skip_empty and not r.params and not r.macs and r.output_shape == previous:
            continue
        previous = r.output_shape
        shape = "x".join(map(str, r.output_shape))
        lines.append(f"{r.path:<40} {r.layer:<18} {shape:<18} {r.params:>12,} {r.macs:>15,}")
    lines += ["-" * 107, f"{'total':<78} {counts.params:>12,} {counts.macs:>15,}",
              f"weight-layer depth {counts.depth}; input {'x'.join(map(str, counts.input_shape))}"]
    return "\n".join(lines)
