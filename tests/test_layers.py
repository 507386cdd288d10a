"""Every layer's and block's backward pass against central finite differences (float64),
and the vectorised forwards against plain loops on tiny inputs."""

import math

import numpy as np
import pytest
from convnets import blocks as B
from convnets import build
from convnets import layers as L
from convnets import network as N
from convnets.conv import Conv2d
from convnets.spec import Seq
from gradcheck import RTOL, check_layer, numeric_grad, rand, rel_error


def test_pooling_forward_matches_loops():
    x = rand(2, 3, 7, 7)
    out = L.MaxPool2d(3, 2, 1).forward(x)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    expected = np.array([[[[xp[n, c, 2 * i:2 * i + 3, 2 * j:2 * j + 3].max() for j in range(4)] for i in range(4)]
                          for c in range(3)] for n in range(2)])
    assert np.array_equal(out, expected)
    avg = L.AvgPool2d(2, 2).forward(x[:, :, :6, :6])
    assert np.allclose(avg, x[:, :, :6, :6].reshape(2, 3, 3, 2, 3, 2).mean(axis=(3, 5)))


@pytest.mark.parametrize("layer", [L.MaxPool2d(2, 2), L.MaxPool2d(3, 2, 1), L.MaxPool2d(3, 2, ceil_mode=True),
                                   L.AvgPool2d(2, 2), L.AvgPool2d(3, 1, 1), L.GlobalAvgPool(), L.GlobalAvgPool(True),
                                   L.ReLU(), L.ReLU6(), L.Sigmoid(), L.SiLU(), L.Flatten(), L.LocalResponseNorm(3),
                                   L.LocalResponseNorm(4), L.AdaptiveAvgPool2d(4), L.AdaptiveAvgPool2d(3),
                                   L.AdaptiveAvgPool2d(8)],
                         ids=lambda layer: type(layer).__name__)
def test_parameter_free_layer_gradients(layer):
    x = rand(2, 4, 6, 6) * 3
    x[np.abs(x) < 1e-3] = 0.5          # keep away from ReLU's kink
    check_layer(layer, x)


@pytest.mark.parametrize("shape", [(6, 5), (4, 3, 3, 3)])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradients(shape, training):
    bn = L.BatchNorm(shape[1], dtype=np.float64)
    bn.params["gamma"] = rand(shape[1], seed=5)
    bn.params["beta"] = rand(shape[1], seed=6)
    bn.running_mean, bn.running_var = rand(shape[1], seed=7), 1 + rand(shape[1], seed=8) ** 2
    bn.train(training)
    check_layer(bn, rand(*shape))


def test_batchnorm_running_statistics():
    bn = L.BatchNorm(2, dtype=np.float64)
    x = rand(50, 2) * 3 + 5
    bn.forward(x)
    assert np.allclose(bn.running_mean, 0.1 * x.mean(axis=0))
    assert np.allclose(bn.running_var, 0.9 + 0.1 * x.var(axis=0, ddof=1))
    out = bn.forward(x)
    assert np.allclose(out.mean(axis=0), 0, atol=1e-12) and np.allclose(out.std(axis=0), 1, atol=1e-3)


def test_linear_gradients():
    check_layer(L.Linear(5, 3, rng=np.random.default_rng(0), dtype=np.float64), rand(4, 5))


def test_dropout_masks_and_scales():
    drop = L.Dropout(0.5, rng=np.random.default_rng(0))
    x = np.ones((1000, 10))
    out = drop.forward(x)
    assert set(np.unique(out)) == {0.0, 2.0} and abs(out.mean() - 1) < 0.05
    assert np.array_equal(drop.backward(np.ones_like(x)), out)
    assert np.array_equal(drop.eval().forward(x), x)


def test_softmax_cross_entropy():
    logits, labels = rand(4, 3), np.array([0, 2, 1, 2])
    loss, grad = L.softmax_cross_entropy(logits, labels)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(4), labels])))
    assert rel_error(grad, numeric_grad(lambda: L.softmax_cross_entropy(logits, labels)[0], logits)) < RTOL


BLOCKS = {
    "basic post-activation": (lambda: Seq("n", B.basic_block(4, 4, 1)), (4, 5, 5)),
    "basic with projection": (lambda: Seq("n", B.basic_block(4, 6, 2)), (4, 6, 6)),
    "basic pre-activation": (lambda: Seq("n", B.basic_block(4, 6, 2, variant="pre")), (4, 6, 6)),
    "bottleneck": (lambda: Seq("n", B.bottleneck_block(8, 2, 2)), (8, 6, 6)),
    "dense block + transition": (lambda: Seq("n", B.dense_layer(3), B.dense_layer(3), B.transition(5)), (4, 4, 4)),
    "inception (paper)": (lambda: Seq("n", B.inception("m", 2, 2, 3, 1, 2, 2)), (3, 5, 5)),
    "inception (torchvision)": (lambda: Seq("n", B.inception("m", 2, 2, 3, 1, 2, 2, faithful=False)), (3, 5, 5)),
    "MBConv with SE": (lambda: Seq("n", B.mbconv(4, 4, 3, 1, 3)), (4, 5, 5)),
    "MBConv stride 2": (lambda: Seq("n", B.mbconv(4, 6, 5, 2, 2)), (4, 6, 6)),
}


@pytest.mark.parametrize("name", BLOCKS)
def test_block_gradients(name):
    make, shape = BLOCKS[name]
    model = build(make(), shape, dtype=np.float64, seed=2)
    for layer in model.layers():                # non-trivial batch-norm parameters
        if isinstance(layer, L.BatchNorm):
            layer.params["gamma"] = 1 + 0.3 * rand(layer.channels, seed=9)
            layer.params["beta"] = 0.3 * rand(layer.channels, seed=10)
    check_layer(model, rand(3, *shape))


def test_residual_backward_adds_identity():
    body = L.Linear(3, 3, rng=np.random.default_rng(0), dtype=np.float64)
    block = N.Residual(body)
    x = rand(2, 3)
    block.forward(x)
    dout = rand(2, 3, seed=3)
    assert np.allclose(block.backward(dout), dout + dout @ body.params["W"])


def test_sgd_momentum_and_weight_decay():
    layer = L.Linear(2, 1, bias=False, rng=np.random.default_rng(0), dtype=np.float64)
    w0 = layer.params["W"].copy()
    opt = N.SGD(layer, lr=0.1, momentum=0.9, weight_decay=0.01)
    layer.grads["W"] = np.ones_like(w0)
    opt.step()
    v1 = 1 + 0.01 * w0
    assert np.allclose(layer.params["W"], w0 - 0.1 * v1)
    w1 = layer.params["W"].copy()
    opt.step()
    assert np.allclose(layer.params["W"], w1 - 0.1 * (0.9 * v1 + 1 + 0.01 * w1))


def test_float32_by_default_and_no_upcast():
    model = build(Seq("n", B.basic_block(2, 2, 1)), (2, 4, 4))
    x = rand(3, 2, 4, 4).astype(np.float32)
    assert model.forward(x).dtype == np.float32
    assert all(layer.params[k].dtype == np.float32 for layer, k in model.named_parameters())


def test_bad_inputs_name_the_layer():
    conv = Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match="expected 3 input channels"):
        conv.forward(np.zeros((1, 2, 5, 5), np.float32))
    with pytest.raises(ValueError, match="must be 4-D"):
        conv.forward(np.zeros((2, 5, 5), np.float32))
    with pytest.raises(TypeError, match="floating dtype"):
        conv.forward(np.zeros((1, 3, 5, 5), np.int64))
    with pytest.raises(ValueError, match="groups=2 must divide"):
        Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv.forward(np.zeros((1, 3, 2, 2), np.float32))
    with pytest.raises(RuntimeError, match="backward called before forward"):
        Conv2d(3, 4, 3).backward(np.zeros((1, 4, 3, 3)))
    with pytest.raises(ValueError, match="labels must lie in"):
        L.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="p must be in"):
        L.Dropout(1.0)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2, 5)])
def test_channel_sum(shape):
    z = rand(*shape)
    axes = (0,) if len(shape) == 2 else (0, 2, 3)
    assert np.allclose(L.channel_sum(z), z.sum(axis=axes))
    assert np.allclose(L.channel_sum(z.swapaxes(0, 1).copy().swapaxes(0, 1)), z.sum(axis=axes))   # any strides


def test_channel_sum_checks_its_argument():
    with pytest.raises(ValueError, match=r"z must be 2-D or 3-D or 4-D, got shape \(5,\)"):
        L.channel_sum(np.zeros(5))


# ------------------------------------------------- inputs PyTorch rejects, rejected
@pytest.mark.parametrize("pool", [L.MaxPool2d, L.AvgPool2d])
def test_pooling_padding_at_most_half_the_kernel(pool):
    """PyTorch: "pad should be at most half of effective kernel size". With more, whole
    windows lie in the padding (max pooling's outputs there were -inf)."""
    with pytest.raises(ValueError, match=r"padding must be at most half the kernel, kernel // 2 = 1, got 2"):
        pool(2, 2, padding=2)
    with pytest.raises(ValueError, match=r"kernel // 2 = 1, got 2"):
        pool(3, 1, 2)
    assert pool(3, 2, 1).padding == 1 and pool(2, 2, 1).padding == 1      # half the kernel: allowed


@pytest.mark.parametrize("shape", [(1, 4), (1, 4, 1, 1)])
def test_batchnorm_training_needs_more_than_one_value_per_channel(shape):
    """One value per channel has variance 0: the output would be beta whatever x is."""
    bn = L.BatchNorm(4)
    with pytest.raises(ValueError, match=r"BatchNorm: x of shape \(1, 4(, 1, 1)?\) has one value per channel"):
        bn.forward(np.ones(shape, np.float32))
    assert bn.eval().forward(np.ones(shape, np.float32)).shape == shape       # running statistics: fine
    assert L.BatchNorm(4).forward(np.ones((2, 4), np.float32)).shape == (2, 4)


def test_flatten_needs_a_batch_axis():
    with pytest.raises(ValueError, match=r"Flatten: x must be 2-D or 3-D or 4-D, got shape \(5,\)"):
        L.Flatten().forward(np.zeros(5, np.float32))


def test_dropout_keeps_the_dtype():
    drop = L.Dropout(0.5)
    out = drop.forward(np.ones((4, 6), np.float32))
    assert out.dtype == np.float32 and drop.backward(np.ones((4, 6), np.float32)).dtype == np.float32


# ------------------------------------------------------------ adaptive pooling
def adaptive_by_loops(x, size):
    """PyTorch's rule written out: output (i, j) averages rows floor(i H / size) .. ceil((i + 1) H / size) - 1
    and the same columns of W."""
    n, c, h, w = x.shape
    out = np.zeros((n, c, size, size))
    for i in range(size):
        for j in range(size):
            rows = slice(math.floor(i * h / size), math.ceil((i + 1) * h / size))
            cols = slice(math.floor(j * w / size), math.ceil((j + 1) * w / size))
            out[:, :, i, j] = x[:, :, rows, cols].mean(axis=(2, 3))
    return out


@pytest.mark.parametrize("hw, size", [((7, 7), 3), ((5, 6), 2), ((6, 6), 3), ((2, 3), 3), ((13, 13), 6), ((9, 4), 7)])
def test_adaptive_avg_pool_forward_matches_loops(hw, size):
    x = rand(2, 3, *hw)
    assert np.allclose(L.AdaptiveAvgPool2d(size).forward(x), adaptive_by_loops(x, size), rtol=1e-13, atol=1e-13)


def test_adaptive_avg_pool_overlapping_bins_by_hand():
    """5 pixels into 3 bins: rows 0-1, 1-3, 3-4 (floor(i 5 / 3) .. ceil((i + 1) 5 / 3) - 1)."""
    x = np.arange(5.0)[None, None, None, :].repeat(5, axis=2)           # every row 0, 1, 2, 3, 4
    out = L.AdaptiveAvgPool2d(3).forward(x)
    assert np.allclose(out[0, 0, 0], [0.5, 2.0, 3.5])


def test_adaptive_avg_pool_gradients():
    check_layer(L.AdaptiveAvgPool2d(3), rand(2, 2, 7, 5))


def test_pooling_definitions_refuse_what_the_layers_refuse():
    """count() must not accept a pooling the layers reject (PyTorch: padding at most half the kernel)."""
    from convnets.spec import AvgPool, MaxPool
    for kind in (MaxPool, AvgPool):
        assert kind(3, 2, 1).padding == 1
        with pytest.raises(ValueError, match=r"padding must be at most kernel // 2 = 1, got 2"):
            kind(3, 2, 2)
        with pytest.raises(TypeError, match="kernel must be an integer"):
            kind(2.5, 2)
