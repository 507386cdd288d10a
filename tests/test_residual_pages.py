"""Helpers of the residual pages (residual.md, identity.md, residual_views.md): their values and input checks."""

import math

import numpy as np
import pytest
from convnets.architectures import small_resnet
from convnets.experiments import History, gradient_flow, mean_field_bn_relu_rate, residual_euler
from convnets.plotting import (
    PageFigure,
    euler_error_figure,
    euler_figure,
    gradient_flow_figure,
    series_figure,
    variant_training_figure,
)
from convnets.spec import Act, BatchNorm, GlobalAvgPool, Seq


# ------------------------------------------------------------ mean-field rate
def test_mean_field_rate_decreases_to_pi_over_pi_minus_one():
    # Yang et al. (2019), Theorem 3.10 (arXiv:1902.08129): the rate "decreases to pi/(pi-1) ≈ 1.467 as B → ∞"
    rates = [mean_field_bn_relu_rate(b) for b in (8, 32, 128, 1024, 10**7)]
    assert all(a > b for a, b in zip(rates[:-1], rates[1:], strict=True))
    assert rates[-1] == pytest.approx(math.pi / (math.pi - 1), rel=1e-6)


def test_mean_field_rate_predicts_the_measured_growth():
    flow = gradient_flow(30, residual=False, norm=True, batch=128)      # 60 layers of BN-ReLU-linear
    measured = flow.growth ** (1 / 60)
    assert measured == pytest.approx(math.sqrt(mean_field_bn_relu_rate(128)), rel=0.02)


def test_mean_field_rate_checks_the_batch():
    with pytest.raises(ValueError, match="batch"):
        mean_field_bn_relu_rate(3)
    with pytest.raises(TypeError, match="batch"):
        mean_field_bn_relu_rate(64.0)


# ------------------------------------------------ pre-activation small ResNets
def test_pre_activation_network_ends_with_batch_norm_and_relu():
    # He et al. (2016), appendix: "for the last Residual Unit ... an extra activation right after its
    # element-wise addition". Fails without it (the pre-activation network then diverged on the digits).
    pre = small_resnet(20, widths=(4, 8, 8), variant="pre")
    final = pre.items[-3]
    assert isinstance(final, Seq) and [type(i) for i in final.items] == [BatchNorm, Act]
    assert isinstance(pre.items[-2], GlobalAvgPool)
    post = small_resnet(20, widths=(4, 8, 8), variant="post")
    assert [getattr(i, "name", None) for i in post.items].count("final") == 0


# ------------------------------------------------------------------- figures
def _legend_clear_of_axes(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)                          # lays out the constrained layout, legend included
    legend = fig.legends[0].get_window_extent(renderer)
    return all(not legend.overlaps(ax.get_window_extent(renderer)) for ax in fig.axes)


def test_series_figure_keeps_its_legend_off_the_data_and_checks_input():
    fig = series_figure([1, 2, 3], {"a": [1, 2, 3], "b": [3, 2, 1]}, xlabel="x", ylabel="y", logx=True)
    assert isinstance(fig, PageFigure) and fig.axes[0].get_xscale() == "log"
    assert _legend_clear_of_axes(fig)
    with pytest.raises(ValueError, match="'a' has 2 values for 3"):
        series_figure([1, 2, 3], {"a": [1, 2]}, xlabel="x", ylabel="y")
    with pytest.raises(TypeError, match="series"):
        series_figure([1, 2], [[1, 2]], xlabel="x", ylabel="y")


def test_gradient_flow_figure_stacks_panels_under_one_legend():
    flows = {f"setting {i}": (gradient_flow(5, residual=False), gradient_flow(5, residual=True)) for i in range(3)}
    fig = gradient_flow_figure(flows, quantity="weight_grad")
    assert len(fig.axes) == 3 and fig.get_size_inches()[0] <= 6.4
    boxes = [ax.get_position() for ax in fig.axes]
    assert boxes[0].y0 > boxes[1].y0 > boxes[2].y0                      # one under the other
    assert _legend_clear_of_axes(fig)
    with pytest.raises(TypeError, match="panels"):
        gradient_flow_figure([])
    with pytest.raises(ValueError, match="quantity"):
        gradient_flow_figure(flows, quantity="activations")


def test_variant_training_figure_draws_every_mini_batch_and_states_the_numbers():
    h = History(train_loss=[1.5, 0.35], batch_loss=[2.0, 1.0, 0.4, 0.3], test_error=[0.1])
    fig = variant_training_figure({"post-activation": h, "pre-activation": h})
    (ax,) = fig.axes
    curves = [line for line in ax.lines if line.get_linestyle() != "--"]
    assert len(curves) == 2 and ax.get_yscale() == "log"
    assert list(curves[0].get_xdata()) == [0.5, 1.0, 1.5, 2.0]          # epochs
    assert list(curves[0].get_ydata()) == [2.0, 1.0, 0.4, 0.3]
    assert "post-activation from 2.00 at the first mini-batch to 0.30 at the last" in fig.alt
    assert "mean over the last epoch 0.350, test error 10.0%" in fig.alt
    assert _legend_clear_of_axes(fig)
    with pytest.raises(ValueError, match="must hold the loss of every mini-batch"):
        variant_training_figure({"x": History(train_loss=[1.0], test_error=[0.5])})
    with pytest.raises(TypeError, match="histories"):
        variant_training_figure([h])


def test_euler_figures_and_their_checks():
    flow = residual_euler(depths=(2, 4, 8, 16))
    fig = euler_figure(flow, depths=(4, 16))
    assert len(fig.axes[0].lines) == 4          # exact, two stacks, the input point
    with pytest.raises(ValueError, match="depths"):
        euler_figure(flow, depths=(5,))
    local = np.array([0.5, 0.12, 0.03, 0.008])
    fig = euler_error_figure(flow.depths, flow.errors, local)
    assert len(fig.axes[0].lines) == 4          # two measured series, two reference slopes
    assert {t.get_text() for t in fig.axes[0].texts} == {"slope $-1$", "slope $-2$"}
    with pytest.raises(ValueError, match="same length"):
        euler_error_figure(flow.depths, flow.errors, local[:3])


# ------------------------------------------------------------ number format
def test_sci_writes_powers_of_ten_only_when_needed():
    from convnets.tables import sci

    assert [sci(v) for v in (0.89, 4.2, 40, 1234.5)] == ["0.89", "4.2", "40", "1200"]
    assert [sci(v) for v in (1.9e8, 7e-31, 1e-29, -2.5e-5)] == ["1.9 × 10⁸", "7 × 10⁻³¹", "10⁻²⁹", "-2.5 × 10⁻⁵"]
    assert sci(3.4e7, 1) == "3 × 10⁷"
    with pytest.raises(TypeError, match="value"):
        sci("1e8")
    with pytest.raises(ValueError, match="digits"):
        sci(1.0, 0)
