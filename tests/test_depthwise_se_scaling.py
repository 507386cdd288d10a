"""The helpers of the depthwise, squeeze-and-excitation and EfficientNet pages: MobileNetV1's separable layer,
SE-ResNet, EfficientNet at any width and depth, the ReLU-on-a-spiral experiment and their figures."""

from fractions import Fraction

import matplotlib
import numpy as np
import pytest
from convnets import architectures as A
from convnets import blocks, experiments, plotting, zoo
from convnets.accounting import count
from convnets.build import build
from convnets.network import Gate
from convnets.spec import Conv, Seq, StochasticDepth

matplotlib.use("Agg")


def leaves(node):
    """Every leaf of a definition, in order."""
    children = getattr(node, "items", None) or getattr(node, "branches", None)
    if children is None:
        children = [c for c in (getattr(node, "body", None), getattr(node, "shortcut", None),
                                getattr(node, "gate", None)) if c is not None]
        if not children:
            yield node
            return
    for child in children:
        yield from leaves(child)


# ------------------------------------------------------------------ depthwise_separable
@pytest.mark.parametrize("c, d, k, stride, size", [(32, 64, 3, 1, 28), (512, 512, 3, 1, 14), (96, 160, 5, 2, 14),
                                                   (1, 8, 7, 1, 9)])
def test_separable_costs_one_over_out_plus_one_over_k_squared(c, d, k, stride, size):
    full = count(Seq("full", Conv(d, k, stride)), (c, size, size))
    separable = count(Seq("s", blocks.depthwise_separable(c, d, k, stride, bn=False, act=None)), (c, size, size))
    expected = Fraction(1, d) + Fraction(1, k * k)          # Howard et al. (2017), section 3.1
    assert Fraction(separable.macs, full.macs) == expected
    assert Fraction(separable.params, full.params) == expected
    assert separable.output_shape == full.output_shape


def test_separable_reproduces_mobilenet_v1_table_3():
    # Howard et al. (2017), Table 3: a 14x14x512 map, 3x3 kernel, 512 out: 462 M Mult-Adds and 2.36 M
    # parameters as a full convolution, 52.3 M and 0.27 M as a depthwise-separable one
    full = count(Seq("full", Conv(512, 3)), (512, 14, 14))
    separable = count(Seq("s", blocks.depthwise_separable(512, 512, bn=False, act=None)), (512, 14, 14))
    assert (round(full.macs / 1e6), round(full.params / 1e6, 2)) == (462, 2.36)
    assert (round(separable.macs / 1e6, 1), round(separable.params / 1e6, 2)) == (52.3, 0.27)


def test_separable_layer_as_mobilenet_v1_builds_it():
    layer = blocks.depthwise_separable(32, 64, 3, 2)
    kinds = [type(leaf).__name__ for leaf in leaves(layer)]
    assert kinds == ["Conv", "BatchNorm", "Act", "Conv", "BatchNorm", "Act"]
    depthwise, pointwise = (leaf for leaf in leaves(layer) if isinstance(leaf, Conv))
    assert (depthwise.groups, depthwise.out, depthwise.stride, pointwise.kernel) == (32, 32, 2, 1)
    assert count(Seq("s", layer), (32, 16, 16)).output_shape == (64, 8, 8)


def test_separable_checks_its_input():
    with pytest.raises(TypeError, match="in_channels"):
        blocks.depthwise_separable(3.5, 8)
    with pytest.raises(ValueError, match="kernel"):
        blocks.depthwise_separable(3, 8, 0)
    with pytest.raises(TypeError, match="bn"):
        blocks.depthwise_separable(3, 8, bn="yes")


# ---------------------------------------------------------------------------- SE-ResNet
def test_se_bottleneck_adds_the_gate_before_the_addition():
    block = blocks.se_bottleneck_block(256, 64)
    body = block.items[0].body
    assert isinstance(body.items[-1], type(blocks.squeeze_excite(8, 2)))        # the gate ends the residual body
    plain = count(Seq("b", blocks.bottleneck_block(256, 64, stride_in_3x3=False)), (256, 56, 56))
    se = count(Seq("b", block), (256, 56, 56))
    c, r = 256, 16
    assert se.params - plain.params == 2 * c * c // r + c // r + c           # two FC layers with biases
    assert se.macs - plain.macs == 2 * c * c // r
    assert se.depth == plain.depth + 2


def test_se_bottleneck_runs_and_checks_its_input():
    layer = build(Seq("b", blocks.se_bottleneck_block(16, 8, 2, reduction=4)), (16, 8, 8), seed=0)
    y = layer.forward(np.random.default_rng(0).standard_normal((2, 16, 8, 8)).astype(np.float32))
    assert y.shape == (2, 32, 4, 4)
    assert any(isinstance(l, Gate) for l in layer.layers())
    with pytest.raises(ValueError, match="reduction"):
        blocks.se_bottleneck_block(16, 2, reduction=16)
    with pytest.raises(TypeError, match="reduction"):
        blocks.se_bottleneck_block(16, 8, reduction=2.0)


def test_se_resnet50_adds_what_the_papers_equation_5_says():
    # Hu et al. (2020), eq. 5: the FC weights add (2/r) sum_s N_s C_s^2; their biases add N_s (C_s/r + C_s)
    se, plain = count(A.se_resnet(50), (3, 224, 224)), zoo.counts("resnet50-v1")
    stages = [(3, 256), (4, 512), (6, 1024), (3, 2048)]
    weights = sum(2 * n * c * c // 16 for n, c in stages)
    biases = sum(n * (c // 16 + c) for n, c in stages)
    assert weights == 2_514_944
    assert se.params - plain.params == weights + biases
    assert se.macs - plain.macs == weights
    # "SE-ResNet-50 introduces ~2.5 million additional parameters beyond the ~25 million ... ~10%"
    assert round((se.params - plain.params) / plain.params, 2) == 0.10
    # its baseline: "ResNet-50 requires ~3.86 GFLOPs", the stride-in-1x1 ResNet-50's count
    assert round(plain.macs / 1e9, 2) == 3.86


def test_se_resnet_depths():
    assert count(A.se_resnet(101), (3, 224, 224)).depth == 101 + 2 * 23 + 2 * 10
    with pytest.raises(ValueError, match="depth"):
        A.se_resnet(18)


# ------------------------------------------------------------------- efficientnet_scaled
@pytest.mark.parametrize("name", list(A.EFFICIENTNET_COEFFICIENTS))
def test_scaled_efficientnet_is_the_released_model(name):
    width, depth, size, dropout = A.EFFICIENTNET_COEFFICIENTS[name]
    released = zoo.counts(f"efficientnet-{name}")
    scaled = count(A.efficientnet_scaled(width, depth, dropout=dropout), (3, size, size))
    assert (scaled.params, scaled.macs, scaled.depth) == (released.params, released.macs, released.depth)


def test_scaled_efficientnet_drops_blocks_as_the_reference_code():
    net = A.efficientnet_scaled(drop_connect=0.2)
    blocks_ = [b for stage in net.items[1:8] for b in stage.items]
    assert len(blocks_) == 16
    for i, block in enumerate(blocks_):
        drops = [leaf.p for leaf in leaves(block) if isinstance(leaf, StochasticDepth)]
        has_shortcut = type(block.items[0]).__name__ == "Residual"
        assert drops == ([pytest.approx(0.2 * i / 16)] if has_shortcut and i > 0 else [])
    assert count(net, (3, 224, 224)).params == zoo.counts("efficientnet-b0").params


def test_width_costs_less_than_its_square():
    b0 = zoo.counts("efficientnet-b0")
    wide = count(A.efficientnet_scaled(2.0, 1.0), (3, 224, 224))
    assert 3.5 < wide.macs / b0.macs < 4


def test_scaled_efficientnet_checks_its_input():
    with pytest.raises(ValueError, match="width"):
        A.efficientnet_scaled(0)
    with pytest.raises(ValueError, match="depth"):
        A.efficientnet_scaled(1.0, "deep")
    with pytest.raises(ValueError, match="drop_connect"):
        A.efficientnet_scaled(drop_connect=1.0)


# ------------------------------------------------------------------------- ReLU on a spiral
def test_spiral():
    x = experiments.spiral(50, 1.5)
    radius = np.linalg.norm(x, axis=1)
    assert x.shape == (50, 2) and radius[0] == pytest.approx(0.05) and radius[-1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="turns"):
        experiments.spiral(50, 0)
    with pytest.raises(TypeError, match="points"):
        experiments.spiral(5.0)


def test_relu_loses_a_point_with_probability_n_plus_one_over_two_to_the_n():
    # each coordinate of T x is positive with probability 1/2, independently for Gaussian rows of T, so a
    # point keeps at most one of n coordinates with probability (n + 1) / 2**n
    r = experiments.relu_manifold((2, 3, 4, 6, 30), draws=60)
    assert np.allclose(r.lost, (r.dims + 1) / 2.0 ** r.dims, atol=0.04)
    assert r.linear_error[0] > 0.4 and r.linear_error[-1] < 0.01
    assert set(r.back) == {2, 3, 4, 6, 30} and r.back[30].shape == r.spiral.shape


def test_without_relu_the_map_back_is_exact():
    x = experiments.spiral(20)
    t = np.random.default_rng(0).standard_normal((5, 2))
    assert np.allclose(x @ t.T @ np.linalg.pinv(t).T, x)


def test_relu_manifold_checks_its_input():
    with pytest.raises(ValueError, match="dims"):
        experiments.relu_manifold((1, 2))
    with pytest.raises(ValueError, match="draws"):
        experiments.relu_manifold(draws=0)


# ---------------------------------------------------------------------------------- figures
def test_figures():
    r = experiments.relu_manifold((2, 3, 15), draws=2)
    figs = [plotting.relu_manifold_figure(r, show=(2, 3, 15)), plotting.relu_loss_figure(r),
            plotting.released_vs_rule_figure(["B1", "B2"], {"depth": [0.9, 0.8], "width": [1.0, 1.1]})]
    for fig in figs:
        assert isinstance(fig, plotting.PageFigure) and fig.get_size_inches()[0] <= plotting.MAX_WIDTH
    assert len([ax for ax in figs[0].axes if ax.collections]) == 4
    assert "n = 2, 3, 15" in figs[0].alt and f"{r.lost[0]:.2f}" in figs[1].alt and "0.90, 0.80" in figs[2].alt
    with pytest.raises(ValueError, match="show"):
        plotting.relu_manifold_figure(r, show=(5,))
    with pytest.raises(ValueError, match="ratios"):
        plotting.released_vs_rule_figure(["B1"], {"depth": [0.9, 0.8]})
    with pytest.raises(ValueError, match="ratios"):
        plotting.released_vs_rule_figure(["B1"], {})


# ------------------------------------------------------------------------ gradient_footprint
def test_a_gate_makes_every_output_depend_on_every_pixel():
    from convnets.spec import Act, GlobalAvgPool
    two_convs = Seq("c", Conv(4, 3, bias=True), Act("relu"), Conv(4, 3, bias=True))
    mask = experiments.gradient_footprint(two_convs, 15)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    assert (rows.tolist(), cols.tolist()) == ([5, 6, 7, 8, 9], [5, 6, 7, 8, 9])
    gated = Seq("g", *two_convs.items, blocks.squeeze_excite(4, 2))     # SiLU inside: no dead unit
    assert experiments.gradient_footprint(gated, 15).all()
    mbconv = experiments.gradient_footprint(Seq("b", blocks.mbconv(8, 8, 3, 1, 6, se_ratio=0)), 9, 8)
    assert mbconv.sum() == 9
    with pytest.raises(ValueError, match="feature maps"):
        experiments.gradient_footprint(Seq("p", Conv(4, 3), GlobalAvgPool()), 9)
    with pytest.raises(TypeError, match="input_size"):
        experiments.gradient_footprint(two_convs, 9.0)
