"""Turn a network definition (:mod:`convnets.spec`) into NumPy layers that run.

The same tree that :func:`convnets.accounting.count` counts is instantiated
here, so a small ResNet in a notebook is literally the definition the chapter
counts, run. ``build`` checks that the built network has exactly as many
parameters as the accounting says.
"""

from __future__ import annotations

import numpy as np

from . import layers as L
from . import network as N
from .accounting import count, walk
from .conv_fast import FastConv2d
from .spec import (
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
    GlobalAvgPool,
    LayerNorm,
    LayerScale,
    Linear,
    MaxPool,
    Residual,
    Scale,
    Seq,
    StochasticDepth,
)

_ACTIVATIONS = {"relu": L.ReLU, "relu6": L.ReLU6, "silu": L.SiLU, "sigmoid": L.Sigmoid,
                "hardswish": L.Hardswish, "hardsigmoid": L.Hardsigmoid, "gelu": L.GELU}


def _make_leaf(node, shape, rng, dtype, gain):
    if isinstance(node, Conv):
        return FastConv2d(shape[0], node.out, node.kernel, node.stride, node.pad, node.groups, node.bias,
                          rng=rng, gain=gain, dtype=dtype)
    if isinstance(node, Linear):
        return L.Linear(shape[0], node.out, node.bias, rng=rng, gain=gain, dtype=dtype)
    if isinstance(node, BatchNorm):
        return L.BatchNorm(shape[0], eps=node.eps, dtype=dtype)
    if isinstance(node, Act):
        return _ACTIVATIONS[node.kind]()
    if isinstance(node, LRN):
        return L.LocalResponseNorm(node.size, node.alpha, node.beta, node.k)
    if isinstance(node, MaxPool):
        return L.MaxPool2d(node.kernel, node.stride, node.padding, node.ceil_mode)
    if isinstance(node, AvgPool):
        return L.AvgPool2d(node.kernel, node.stride, node.padding)
    if isinstance(node, AdaptiveAvgPool):
        return L.AdaptiveAvgPool2d(node.size)
    if isinstance(node, GlobalAvgPool):
        return L.GlobalAvgPool(node.keepdims)
    if isinstance(node, Flatten):
        return L.Flatten()
    if isinstance(node, Dropout):
        return L.Dropout(node.p, rng=rng)
    if isinstance(node, Scale):
        return L.Scale(node.factor)
    if isinstance(node, LayerNorm):
        return L.LayerNorm2d(shape[0], eps=node.eps, dtype=dtype)
    if isinstance(node, LayerScale):
        return L.LayerScale(shape[0], node.init, dtype=dtype)
    if isinstance(node, StochasticDepth):
        return L.StochasticDepth(node.p, rng=rng)
    raise TypeError(f"cannot build layer type {type(node).__name__}")


def build(network, input_shape, *, seed: int = 0, dtype=np.float32, gain: float = 1.0) -> N.Sequential:
    """Instantiate ``network`` for inputs of ``input_shape`` = (C, H, W) or (F,).

    Weights are He-normal (times ``gain``; ``gain < 1`` gives a too-small
    initialisation), biases and batch-norm beta zero, gamma one. ``seed`` fixes
    every random draw (weights and dropout masks).
    """
    counted = count(network, input_shape)           # validates shapes, names the failing layer
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)

    def leaf(node, in_shape, out, params, macs, weighted, path):
        layer = _make_leaf(node, in_shape, rng, dtype, gain)
        layer.name = f"{path} ({layer.name})"
        return layer

    def combine(node, children, path):
        if isinstance(node, Seq):
            return N.Sequential(*children, name=node.name or path)
        if isinstance(node, Residual):
            return N.Residual(*children, name=path)
        if isinstance(node, Concat):
            return N.Concat(*children, name=node.name)
        if isinstance(node, DenseConcat):
            return N.DenseConcat(*children, name=path)
        return N.Gate(*children, name=path)

    _, model = walk(network, tuple(input_shape), leaf, combine)
    if model.num_parameters() != counted.params:     # one definition, two readings: they must agree
        raise AssertionError(f"built {model.num_parameters()} parameters, counted {counted.params}")
    return model
