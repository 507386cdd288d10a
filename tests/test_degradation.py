"""The degradation page's helpers: weight gradients layer by layer, and its figures."""

import matplotlib
import numpy as np
import pytest
from convnets import build
from convnets.architectures import small_resnet
from convnets.conv import Conv2d
from convnets.datasets import digits
from convnets.experiments import History, LayerGradients, train, weight_gradients
from convnets.layers import softmax_cross_entropy
from convnets.plotting import PageFigure, digits_figure, layer_gradient_figure, training_figure
from convnets.spec import Conv, GlobalAvgPool, Linear, Seq

matplotlib.use("Agg")

TINY = dict(widths=(2, 4, 4))


@pytest.fixture(scope="module")
def batch():
    x, y, _, _ = digits(0.2, seed=0)
    return x[:16].astype(np.float64), y[:16]


def loss_of(model, x, y):
    return softmax_cross_entropy(model.forward(x), y)[0]


def test_first_convolution_gradient_matches_finite_differences(batch):
    x, y = batch
    net = small_resnet(8, residual=False, **TINY)
    measured = weight_gradients(net, x, y, seed=3)
    model = build(net, x.shape[1:], seed=3, dtype=np.float64)        # the same weights, built again
    stem = next(layer for layer in model.layers() if isinstance(layer, Conv2d))
    w, h = stem.params["W"], 1e-6
    numeric = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        w[i] += h
        up = loss_of(model, x, y)
        w[i] -= 2 * h
        down = loss_of(model, x, y)
        w[i] += h
        numeric[i] = (up - down) / (2 * h)
    assert measured.names[0] == "stem.0"
    assert measured.norms[0] == pytest.approx(np.linalg.norm(numeric), rel=1e-5)
    assert measured.loss == pytest.approx(loss_of(model, x, y), rel=1e-12)


def test_plain_and_residual_twins_report_the_same_convolutions(batch):
    x, y = batch
    plain = weight_gradients(small_resnet(20, residual=False, **TINY), x, y)
    residual = weight_gradients(small_resnet(20, residual=True, **TINY), x, y)
    assert len(plain.norms) == len(residual.norms) == 19               # the stem and 18 block convolutions
    assert not any("shortcut" in name for name in residual.names)
    assert [n.split(".")[0] for n in plain.names] == [n.split(".")[0] for n in residual.names]
    assert np.all(plain.norms > 0) and np.all(residual.norms > 0)


def test_spread_and_per_layer_factor():
    result = LayerGradients(("a", "b", "c"), np.array([8.0, 4.0, 2.0]), 1.0)
    assert result.spread == 4.0
    assert result.per_layer == pytest.approx(2.0)


def test_a_built_network_is_measured_as_it_is_in_training_mode(batch):
    x, y = batch
    net = small_resnet(8, **TINY)
    model = build(net, x.shape[1:], seed=5, dtype=np.float64)
    model.eval()
    from_model = weight_gradients(model, x, y)
    assert all(layer.training for layer in model.layers())
    np.testing.assert_allclose(from_model.norms, weight_gradients(net, x, y, seed=5).norms, rtol=1e-12)


def test_weight_gradients_checks_its_inputs(batch):
    x, y = batch
    net = small_resnet(8, **TINY)
    with pytest.raises(ValueError, match="y must hold 16 integer class indices"):
        weight_gradients(net, x, y[:5])
    with pytest.raises(ValueError, match="y must hold"):
        weight_gradients(net, x, y.astype(float))
    with pytest.raises(ValueError, match="x must be 4-D"):
        weight_gradients(net, x[:, 0], y)
    with pytest.raises(TypeError, match="x must have a floating dtype"):
        weight_gradients(net, x.astype(int), y)
    with pytest.raises(TypeError, match="network must be"):
        weight_gradients("resnet", x, y)
    one_conv = Seq("one", Conv(4, 3), GlobalAvgPool(), Linear(10))
    with pytest.raises(ValueError, match="at least two convolutions"):
        weight_gradients(one_conv, x, y)


# ------------------------------------------------------------------------------ figures
def fake(names, norms):
    return LayerGradients(tuple(names), np.array(norms, float), 1.0)


def test_layer_gradient_figure_draws_one_labelled_line_per_network_and_states_the_numbers():
    names = ["stem.0", "stage1.a", "stage1.b", "stage2.a", "stage2.b"]
    fig = layer_gradient_figure({"plain": fake(names, [30, 20, 8, 2, 1]),
                                 "residual": fake(names, [3, 2.5, 2, 1.5, 1])})
    assert isinstance(fig, PageFigure)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 2
    assert {t.get_text() for t in ax.texts} >= {"plain", "residual", "stem", "stage 1", "stage 2"}
    assert "plain: 30 at the first and 1 at the last, 30 times" in fig.alt
    assert "residual: 3 at the first and 1 at the last, 3 times" in fig.alt
    assert ax.get_legend() is None


def test_layer_gradient_figure_checks_its_input():
    with pytest.raises(TypeError, match="series must be a non-empty dict"):
        layer_gradient_figure({})
    with pytest.raises(TypeError, match="must be a LayerGradients"):
        layer_gradient_figure({"plain": [1, 2, 3]})
    with pytest.raises(ValueError, match="other layers"):
        layer_gradient_figure({"a": fake(["stem.0", "stage1.a"], [1, 2]),
                               "b": fake(["stem.0", "stage1.a", "stage1.b"], [1, 2, 3])})


def history(losses, errors, per_epoch=3):
    """A History of len(losses) epochs whose mini-batch losses fall linearly to each epoch's value."""
    batches = [v * (1 + (per_epoch - 1 - k) / per_epoch) for v in losses for k in range(per_epoch)]
    return History(train_loss=list(losses), batch_loss=batches, train_error=[0.5] * len(losses),
                   test_error=list(errors))


def test_train_records_the_loss_of_every_mini_batch():
    """batch_loss holds every mini-batch's loss in order; each epoch's mean is its train_loss."""
    data = tuple(a[:200] for a in digits())
    h = train(small_resnet(8, widths=(4, 8, 16)), data, epochs=2, batch=50, errors="last epoch")
    assert len(h.batch_loss) == 2 * 4                       # 160 training images: batches of 50, 50, 50, 10
    np.testing.assert_allclose([np.mean(h.batch_loss[:4]), np.mean(h.batch_loss[4:])], h.train_loss, rtol=1e-12)
    assert h.batch_loss[-1] < h.batch_loss[0]


def test_training_figure_keeps_the_legend_off_the_data_and_states_the_final_values():
    runs = {(8, False): history([1.0, 0.1], [0.2, 0.05]), (8, True): history([1.0, 0.05], [0.2, 0.04]),
            (20, False): history([2.0, 1.5], [0.6, 0.5]), (20, True): history([1.0, 0.02], [0.2, 0.03])}
    fig = training_figure(runs)
    assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["8 layers", "20 layers"]
    assert "plain: 8 layers 0.100, 20 layers 1.500" in fig.alt
    assert "residual: 8 layers 4.0, 20 layers 3.0" in fig.alt
    plain = fig.axes[0]
    line = plain.get_lines()[0]                               # 8 layers: every mini-batch, x in epochs
    np.testing.assert_allclose(line.get_xdata(), np.arange(1, 7) / 3)
    np.testing.assert_allclose(line.get_ydata(), runs[(8, False)].batch_loss)
    chance = [ln for ln in plain.get_lines() if ln.get_linestyle() == "--"]
    assert len(chance) == 1 and np.allclose(chance[0].get_ydata(), np.log(10))
    assert "ln 10" in {t.get_text() for t in plain.texts}


def test_training_figure_needs_both_twins_and_the_batch_losses():
    with pytest.raises(ValueError, match=r"missing \[\(8, True\)\]"):
        training_figure({(8, False): history([1.0], [0.1])})
    with pytest.raises(TypeError, match="histories must be a non-empty dict"):
        training_figure([])
    no_batches = History(train_loss=[1.0, 0.5], test_error=[0.1])
    with pytest.raises(ValueError, match=r"history \(8, True\) must hold the loss of every mini-batch"):
        training_figure({(8, False): history([1.0, 0.5], [0.1]), (8, True): no_batches})
    uneven = History(train_loss=[1.0, 0.5], batch_loss=[1.0, 0.8, 0.5], test_error=[0.1])
    with pytest.raises(ValueError, match="got 3 for 2 epochs"):
        training_figure({(8, False): history([1.0, 0.5], [0.1]), (8, True): uneven})


def test_digits_figure_shows_one_image_per_class_and_checks_its_input():
    x, y, _, _ = digits(0.2, seed=0)
    fig = digits_figure(x, y)
    assert len(fig.axes) == 10 and [ax.get_title() for ax in fig.axes] == [str(c) for c in range(10)]
    assert "8 by 8 pixel" in fig.alt
    with pytest.raises(ValueError, match="missing \\[9\\]"):
        digits_figure(x[y != 9], y[y != 9])
    with pytest.raises(ValueError, match="images must be"):
        digits_figure(x[:, 0], y)
