"""Definitions that must match their reference implementation beyond the counts:
GoogLeNet's batch-norm eps, and adaptive pooling on sizes it does not divide."""

import numpy as np
from convnets import build, count
from convnets import layers as L
from convnets.architectures import googlenet
from convnets.spec import AdaptiveAvgPool, BatchNorm, Conv, Seq
from test_depthwise_se_scaling import leaves


def test_googlenet_torchvision_batchnorm_eps():
    """torchvision/models/googlenet.py, BasicConv2d: nn.BatchNorm2d(out_channels, eps=0.001)."""
    norms = [leaf for leaf in leaves(googlenet("torchvision")) if isinstance(leaf, BatchNorm)]
    assert len(norms) == 57 and {bn.eps for bn in norms} == {1e-3}     # 57 BasicConv2d in torchvision's, no aux
    assert not any(isinstance(leaf, BatchNorm) for leaf in leaves(googlenet("paper")))
    model = build(googlenet("torchvision", classes=10), (3, 32, 32))
    built = [layer for layer in model.layers() if isinstance(layer, L.BatchNorm)]
    assert len(built) == 57 and {bn.eps for bn in built} == {1e-3}


def test_batchnorm_eps_reaches_the_layer():
    bn = build(Seq("n", Conv(2, 1), BatchNorm(eps=0.5)), (1, 2, 2), dtype=np.float64)[1]
    x = np.random.default_rng(0).standard_normal((3, 2, 2, 2))
    assert bn.eps == 0.5                                       # running mean 0, variance 1: x / sqrt(1 + eps)
    assert np.allclose(bn.eval().forward(x), x / np.sqrt(1.5))


def test_adaptive_pool_on_sizes_it_does_not_divide():
    """7 rows into 3 bins: 0-2, 2-4, 4-6; 5 columns: 0-1, 1-3, 3-4 (floor(i n / 3) .. ceil((i + 1) n / 3) - 1)."""
    net = Seq("n", Conv(2, 3), AdaptiveAvgPool(3))
    assert count(net, (1, 7, 5)).output_shape == (2, 3, 3)
    model = build(net, (1, 7, 5), dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 1, 7, 5))
    features = model[0].forward(x)
    rows, cols = [(0, 3), (2, 5), (4, 7)], [(0, 2), (1, 4), (3, 5)]
    expected = np.array([[features[:, :, r0:r1, c0:c1].mean(axis=(2, 3)) for c0, c1 in cols] for r0, r1 in rows])
    assert np.allclose(model.forward(x), expected.transpose(2, 3, 0, 1))
