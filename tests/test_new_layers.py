"""The layers of the networks after EfficientNet (layer norm, layer scale, stochastic depth,
hard-swish, hard-sigmoid, GELU): backward against central finite differences (float64),
forward against the formulas, and their leaves in the definitions language."""

import math

import numpy as np
import pytest
from convnets import blocks as B
from convnets import build, count
from convnets import layers as L
from convnets.spec import Act, Conv, GlobalAvgPool, LayerNorm, LayerScale, Seq, StochasticDepth, describe, tree
from gradcheck import check_layer, rand


def away_from_kinks(x):
    """Move entries off the points where hard-swish and hard-sigmoid are not differentiable (-3 and 3)."""
    x = x.copy()
    x[np.abs(np.abs(x) - 3) < 1e-3] = 1.5
    return x


@pytest.mark.parametrize("layer", [L.Hardswish(), L.Hardsigmoid(), L.GELU()], ids=lambda layer: layer.name)
def test_activation_gradients(layer):
    check_layer(layer, away_from_kinks(rand(2, 4, 5, 5) * 3))      # spans both flat parts and the ramp


def test_activation_values():
    x = np.array([-4.0, -3.0, -1.0, 0.0, 1.0, 3.0, 4.0])
    # hard-swish x * relu6(x + 3) / 6 and hard-sigmoid relu6(x + 3) / 6 (Howard et al., 2019, eqs. for h-swish)
    assert np.allclose(L.Hardswish().forward(x), [0, 0, -1 / 3, 0, 2 / 3, 3, 4])
    assert np.allclose(L.Hardsigmoid().forward(x), [0, 0, 1 / 3, 1 / 2, 2 / 3, 1, 1])
    # GELU(x) = x * Phi(x); Phi(1) = 0.8413447 from any normal table, Phi(-1) = 1 - Phi(1)
    assert np.allclose(L.GELU().forward(np.array([-1.0, 0.0, 1.0])), [-(1 - 0.8413447), 0, 0.8413447], atol=1e-7)


def test_hardswish_slope_matches_pytorch_convention():
    # d/dx hardswish: 0 below -3, x / 3 + 1/2 on [-3, 3], 1 above (PyTorch's hardswish_backward)
    layer = L.Hardswish()
    x = np.array([-5.0, -3.0, 0.0, 3.0, 5.0])
    layer.forward(x)
    assert np.allclose(layer.backward(np.ones_like(x)), [0, -0.5, 0.5, 1.5, 1])


@pytest.mark.parametrize("shape", [(3, 5, 4, 4), (4, 6)])
def test_layernorm_gradients(shape):
    ln = L.LayerNorm2d(shape[1], dtype=np.float64)
    ln.params["gamma"], ln.params["beta"] = rand(shape[1], seed=5), rand(shape[1], seed=6)
    check_layer(ln, rand(*shape) * 2 + 1)


def test_layernorm_normalises_each_pixel_over_channels():
    x = rand(2, 8, 3, 3) * 5 + 3
    out = L.LayerNorm2d(8, dtype=np.float64).forward(x)
    assert np.allclose(out.mean(axis=1), 0, atol=1e-12)
    assert np.allclose(out.var(axis=1), 1, atol=1e-5)               # biased variance, eps = 1e-6
    one = L.LayerNorm2d(8, dtype=np.float64).forward(x[:1])          # no batch statistics: examples independent
    assert np.allclose(one, out[:1])


@pytest.mark.parametrize("shape", [(3, 5, 4, 4), (4, 6)])
def test_layerscale_gradients(shape):
    scale = L.LayerScale(shape[1], dtype=np.float64)
    scale.params["gamma"] = rand(shape[1], seed=5)
    check_layer(scale, rand(*shape))


def test_layerscale_starts_small():
    x = rand(2, 4, 3, 3)
    assert np.allclose(L.LayerScale(4, dtype=np.float64).forward(x), 1e-6 * x)


def test_stochastic_depth_is_the_identity_at_inference():
    layer = L.StochasticDepth(0.5).eval()
    x = rand(4, 3, 2, 2)
    assert layer.forward(x) is x
    check_layer(layer, x)


def test_stochastic_depth_drops_whole_examples_in_training():
    p = 0.25
    layer = L.StochasticDepth(p, rng=np.random.default_rng(3))
    x = rand(2000, 3, 2, 2) + 5                                      # no zeros of its own
    out = layer.forward(x)
    ratio = out / x
    per_example = ratio.reshape(len(x), -1)
    assert np.allclose(per_example, per_example[:, :1])             # one decision per example
    assert set(np.unique(np.round(per_example[:, 0], 12))) == {0.0, round(1 / (1 - p), 12)}
    assert abs((per_example[:, 0] == 0).mean() - p) < 0.03          # dropped with probability p
    dout = rand(*x.shape, seed=4)
    assert np.allclose(layer.backward(dout), dout * ratio)           # the same mask goes back


def test_new_leaves_are_counted():
    c = count(Seq("n", Conv(8, 3), LayerNorm(), Act("gelu"), LayerScale(), StochasticDepth(0.1)), (3, 6, 6))
    params = {r.layer: r.params for r in c.rows}
    assert params["LayerNorm"] == 16 and params["LayerScale"] == 8 and params["StochasticDepth 0.1"] == 0
    assert params["GELU"] == 0 and c.macs == 8 * 6 * 6 * 27          # only the convolution costs MACs
    assert c.depth == 1                                               # none of them is a weight layer


def test_new_leaves_describe_themselves():
    assert [describe(a) for a in (Act("hardswish"), Act("hardsigmoid"), Act("gelu"))] == \
        ["Hardswish", "Hardsigmoid", "GELU"]
    text = tree(Seq("block", LayerNorm(), LayerScale(), StochasticDepth(0.05)))
    assert text.splitlines() == ["block", "  LayerNorm", "  LayerScale", "  StochasticDepth 0.05"]


def test_new_leaves_check_their_arguments():
    with pytest.raises(ValueError, match="Act kind must be one of"):
        Act("mish")
    with pytest.raises(ValueError, match=r"StochasticDepth p must be in \[0, 1\)"):
        StochasticDepth(1.0)
    with pytest.raises(ValueError, match="expected 4 channels"):
        L.LayerNorm2d(4).forward(np.zeros((2, 3, 5, 5), np.float32))


def test_built_network_with_new_leaves_runs_and_has_the_counted_parameters():
    net = Seq("n", Conv(6, 3, bias=True), LayerNorm(), Act("hardswish"), LayerScale(0.5), StochasticDepth(0.2),
              Act("gelu"), GlobalAvgPool())
    model = build(net, (2, 5, 5), dtype=np.float64)                  # build checks params == count
    assert model.num_parameters() == count(net, (2, 5, 5)).params == 6 * 2 * 9 + 6 + 2 * 6 + 6
    model.eval()
    check_layer(model, rand(3, 2, 5, 5))


def test_gelu_matches_math_erf():
    x = np.linspace(-4, 4, 17)
    expected = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x]
    assert np.allclose(L.GELU().forward(x), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("make, shape", [
    (lambda: B.convnext_block(6, drop=0.3, layer_scale=0.7), (6, 5, 5)),
    (lambda: B.regnet_block(8, 8, 1, 4, se_ratio=0.25), (8, 4, 4)),           # Y block, identity shortcut
    (lambda: B.regnet_block(4, 8, 2, 4), (4, 6, 6)),                           # X block, projection shortcut
    (lambda: B.mobilenet_v3_block(4, 12, 4, 3, 1, se_squeeze=8, act="hardswish"), (4, 5, 5)),
    (lambda: B.fused_mbconv(4, 4, 3, 1, 4, drop=0.2), (4, 5, 5)),
    (lambda: B.fused_mbconv(4, 6, 3, 2, 1), (4, 6, 6)),
], ids=["convnext", "regnet-y", "regnet-x", "mobilenet-v3", "fused-mbconv", "fused-mbconv-e1"])
def test_blocks_after_efficientnet_gradients(make, shape):
    # built from the definitions, in float64 and evaluation mode (stochastic depth off, BN statistics fixed)
    model = build(Seq("net", make()), shape, dtype=np.float64, seed=2).eval()
    for layer in model.layers():                       # layer scale away from 1e-6, so its gradient is visible
        if isinstance(layer, L.LayerScale):
            layer.params["gamma"] = rand(layer.channels, seed=9)
    check_layer(model, away_from_kinks(rand(2, *shape) * 2))


def test_convnext_block_starts_near_the_identity():
    # layer scale 1e-6: the residual body adds almost nothing at initialisation
    model = build(Seq("net", B.convnext_block(8)), (8, 5, 5), dtype=np.float64).eval()
    x = rand(2, 8, 5, 5)
    assert np.abs(model.forward(x) - x).max() < 1e-4
