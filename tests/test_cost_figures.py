"""The figures of the AlexNet/VGG and DenseNet pages: what they draw, their text sizes, their input checks."""

import matplotlib
import numpy as np
import pytest
from convnets import plotting, zoo
from convnets.accounting import count
from convnets.diagrams import min_text_pt
from convnets.plotting import MAX_WIDTH, PageFigure, channel_growth_figure, layer_cost_figure, stack_vs_single_figure
from convnets.spec import Conv, MaxPool, Seq

matplotlib.use("Agg")


def test_layer_cost_figure_draws_two_shares_per_weight_layer():
    vgg = zoo.counts("vgg16")
    fig = layer_cost_figure(vgg)
    assert isinstance(fig, PageFigure) and len(fig.axes) == 1
    assert fig.get_size_inches()[0] <= MAX_WIDTH and min_text_pt(fig) >= 10
    ax = fig.axes[0]
    widths = sorted(p.get_width() for p in ax.patches)
    assert len(widths) == 2 * 16                                # 13 convolutions and 3 FC layers, two bars each
    fc1 = 100 * (512 * 7 * 7 * 4096 + 4096) / 138_357_544       # torchvision's VGG-16 parameter count
    assert widths[-1] == pytest.approx(fc1)
    assert [t.get_text() for t in ax.get_yticklabels()][-4:] == ["conv13", "fc1", "fc2", "fc3"]
    assert ax.get_legend() is None                              # the legend sits outside the axes


def test_layer_cost_figure_checks_its_input():
    with pytest.raises(TypeError, match="counts must be a convnets.accounting.Counts"):
        layer_cost_figure([1, 2])
    with pytest.raises(ValueError, match="no convolution or linear layer"):
        layer_cost_figure(count(Seq("pool", MaxPool(2, 2)), (1, 4, 4)))


def test_channel_growth_figure_labels_each_block():
    dn = zoo.counts("densenet121")
    inputs = [r.params // 2 for r in dn.rows if r.path.endswith(".dense.0")]
    fig = channel_growth_figure(inputs)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["block 1", "block 2", "block 3", "block 4"]
    assert list(ax.lines[0].get_ydata()) == inputs and min_text_pt(fig) >= 10
    with pytest.raises(ValueError, match="inputs must be a list of at least two channel counts"):
        channel_growth_figure([64])
    with pytest.raises(ValueError, match="inputs must be a list of at least two channel counts"):
        channel_growth_figure([64.5, 96.0])


def test_stack_vs_single_figure_labels_lines_without_a_legend():
    fields = [3, 5, 7]
    stack = [count(Seq("s", *[Conv(8, 3)] * n), (8, 9, 9)).params for n in (1, 2, 3)]
    single = [count(Seq("s", Conv(8, k)), (8, 9, 9)).params for k in fields]
    fig = stack_vs_single_figure(fields, stack, single, 8)
    ax = fig.axes[0]
    assert ax.get_legend() is None and len(ax.lines) == 2 and len(ax.texts) == 2
    np.testing.assert_allclose(ax.lines[1].get_ydata() * 1e6, [9 * 64, 18 * 64, 27 * 64])
    with pytest.raises(ValueError, match="must have the same length"):
        stack_vs_single_figure(fields, stack[:2], single, 8)
    with pytest.raises(TypeError, match="channels must be an integer"):
        stack_vs_single_figure(fields, stack, single, 8.0)


def test_a_figure_says_its_size_and_smallest_text_in_its_output():
    fig, ax = plotting.figure(width=4, height=2)
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("x", fontsize=9)                        # smaller than the 10 pt tick labels
    png, metadata = fig._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # shown at 100 dpi: 9 pt are 9 * 100 / 72 = 12.5 CSS px
    assert metadata["min_text_px"] == 12.5
    # "tight" crops to the drawing plus 0.1 in of padding a side: about 4 x 2 in at 100 px an inch
    assert 350 < metadata["width"] <= 420 and 150 < metadata["height"] <= 220
