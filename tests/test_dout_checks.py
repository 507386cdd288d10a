"""Every layer's backward checks dout against the shape and dtype its forward returned,
and says so naming dout and the layer; every layer class of convnets is covered."""

import re

import numpy as np
import pytest
from convnets import conv, conv_fast, layers, network
from convnets import layers as L
from convnets import network as N
from convnets.conv import Conv2d
from convnets.conv_fast import FastConv2d


def conv3(cls=FastConv2d, c_in=3, c_out=3):
    return cls(c_in, c_out, 3, 1, 1, rng=np.random.default_rng(0))


IMAGES = (2, 3, 5, 5)
# class name -> (a layer of that class, the shape of an input for it); inputs are float32
LAYERS = {
    "Conv2d": (lambda: conv3(Conv2d), IMAGES),
    "FastConv2d": (lambda: conv3(), IMAGES),
    "MaxPool2d": (lambda: L.MaxPool2d(2, 2), IMAGES),
    "AvgPool2d": (lambda: L.AvgPool2d(3, 1, 1), IMAGES),
    "AdaptiveAvgPool2d": (lambda: L.AdaptiveAvgPool2d(3), IMAGES),
    "GlobalAvgPool": (lambda: L.GlobalAvgPool(), IMAGES),
    "Flatten": (lambda: L.Flatten(), IMAGES),
    "Linear": (lambda: L.Linear(6, 4, rng=np.random.default_rng(0)), (2, 6)),
    "BatchNorm": (lambda: L.BatchNorm(3), IMAGES),
    "LocalResponseNorm": (lambda: L.LocalResponseNorm(3), IMAGES),
    "ReLU": (lambda: L.ReLU(), IMAGES),
    "ReLU6": (lambda: L.ReLU6(), IMAGES),
    "Sigmoid": (lambda: L.Sigmoid(), IMAGES),
    "SiLU": (lambda: L.SiLU(), IMAGES),
    "Scale": (lambda: L.Scale(0.5), IMAGES),
    "Dropout": (lambda: L.Dropout(0.5), IMAGES),
    "Sequential": (lambda: N.Sequential(conv3(), L.ReLU()), IMAGES),
    "Residual": (lambda: N.Residual(N.Sequential(conv3(), L.BatchNorm(3))), IMAGES),
    "Concat": (lambda: N.Concat(conv3(), L.ReLU()), IMAGES),
    "DenseConcat": (lambda: N.DenseConcat(conv3()), IMAGES),
    "Gate": (lambda: N.Gate(N.Sequential(L.GlobalAvgPool(keepdims=True), L.Sigmoid())), IMAGES),
    "LayerNorm2d": (lambda: L.LayerNorm2d(3), IMAGES),
    "LayerScale": (lambda: L.LayerScale(3, init=0.5), IMAGES),
    "StochasticDepth": (lambda: L.StochasticDepth(0.5), IMAGES),
    "Hardswish": (lambda: L.Hardswish(), IMAGES),
    "Hardsigmoid": (lambda: L.Hardsigmoid(), IMAGES),
    "GELU": (lambda: L.GELU(), IMAGES),
}


MODULES = {module.__name__ for module in (conv, conv_fast, layers, network)}


def layer_classes():
    """Every subclass of Layer defined in convnets' layer modules (the base class itself aside)."""
    found, todo = set(), [L.Layer]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__ in MODULES and sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_every_layer_class_is_covered():
    """A new layer class must be added to LAYERS, so that the tests below cover it."""
    assert {cls.__name__ for cls in layer_classes()} == set(LAYERS)


def forward(name, dtype=np.float32):
    make, shape = LAYERS[name]
    layer = make()
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    return layer, x, layer.forward(x)


@pytest.mark.parametrize("name", LAYERS)
def test_backward_of_the_right_dout_gives_dx_like_x(name):
    layer, x, out = forward(name)
    dx = layer.backward(np.ones_like(out))
    assert dx.shape == x.shape and dx.dtype == x.dtype


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("wrong", ["one example more", "one example less", "a leading axis", "same size"])
def test_backward_rejects_a_dout_of_another_shape(name, wrong):
    layer, _, out = forward(name)
    same_size = (out.shape[0], out[0].size) if out.ndim > 2 else out.shape[::-1]
    shape = {"one example more": (out.shape[0] + 1, *out.shape[1:]), "one example less": (1, *out.shape[1:]),
             "a leading axis": (2, *out.shape), "same size": same_size}[wrong]
    with pytest.raises(ValueError, match=re.escape(f": dout has shape {tuple(shape)}, expected {out.shape}")):
        layer.backward(np.ones(shape, out.dtype))


@pytest.mark.parametrize("name", LAYERS)
def test_backward_rejects_a_dout_of_another_dtype(name):
    layer, _, out = forward(name)
    with pytest.raises(TypeError, match=r"dout has dtype float64, expected float32"):
        layer.backward(np.ones(out.shape, np.float64))
    layer, _, out = forward(name, np.float64)                 # float64 input: float64 output, whatever the weights
    with pytest.raises(TypeError, match=r"dout has dtype float32, expected float64"):
        layer.backward(np.ones(out.shape, np.float32))


@pytest.mark.parametrize("name", LAYERS)
def test_backward_before_forward(name):
    make, _ = LAYERS[name]
    with pytest.raises(RuntimeError, match="backward called before forward"):
        make().backward(np.ones(IMAGES, np.float32))


@pytest.mark.parametrize("name", ["ReLU", "BatchNorm", "MaxPool2d", "Linear"])
def test_messages_name_the_layer(name):
    """ReLU would broadcast a larger dout, BatchNorm take one of another batch, MaxPool2d and Linear fail in NumPy."""
    layer, _, out = forward(name)
    layer.name = "stage2.block.3 (X)"
    with pytest.raises(ValueError, match=r"^stage2\.block\.3 \(X\): dout has shape"):
        layer.backward(np.ones((2 * out.shape[0], *out.shape[1:]), out.dtype))
