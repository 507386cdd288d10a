"""Figures for the chapter. Every function returns a :class:`PageFigure` and shows nothing.

A page displays a figure by leaving it as the last expression of a cell: the figure
renders itself as a PNG with twice the pixels of its size (sharp on high-density
screens), so the same cell shows it in JupyterLab, on the site and in the downloaded
notebook. No pyplot state is used, so nothing is displayed twice or left open.

Style: the Okabe-Ito colour-blind-safe palette, markers as well as colours so that no
distinction rests on colour alone, an opaque white background so that the figures read
in the site's dark mode too, and sizes chosen for the page: figures at most 6.4 inches
wide (640 px, narrower than the site's text column, so never scaled down on a desktop)
with text of at least 10 points, which renders at 0.87 times the body text or more;
multi-panel figures are stacked, not put side by side, so that a phone shrinks them less.
"""

from __future__ import annotations

import functools
import io
import struct

import matplotlib as mpl
import numpy as np
from matplotlib import ticker
from matplotlib.figure import Figure

# Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies
OKABE_ITO = {"orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000"}
PLAIN_STYLE = dict(color=OKABE_ITO["vermillion"], marker="o", linestyle="-")
RESIDUAL_STYLE = dict(color=OKABE_ITO["blue"], marker="s", linestyle="-")
FAMILY_COLOURS = {"AlexNet": OKABE_ITO["black"], "VGG": OKABE_ITO["orange"], "GoogLeNet": OKABE_ITO["purple"],
                  "ResNet": OKABE_ITO["blue"], "DenseNet": OKABE_ITO["green"], "MobileNetV2": OKABE_ITO["sky"],
                  "EfficientNet": OKABE_ITO["vermillion"]}


MAX_WIDTH = 6.4           # inches: 640 px at the figures' 100 dpi, inside the site's text column
STYLE = {"font.size": 11, "axes.titlesize": 11, "axes.labelsize": 11, "xtick.labelsize": 10,
         "ytick.labelsize": 10, "legend.fontsize": 10, "figure.dpi": 100, "savefig.dpi": 100,
         "figure.facecolor": "white", "savefig.facecolor": "white", "axes.grid": False,
         "svg.hashsalt": "ch316", "path.simplify": True}


class PageFigure(Figure):
    """A figure that shows itself in a notebook: a PNG of twice its pixels, displayed at its size.

    ``alt`` is its text alternative: the site uses it as the image's alt text (unless the
    cell's metadata gives one), so a page can state measured numbers in it.
    """

    alt: str = ""

    def _repr_png_(self):
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=2 * self.dpi, bbox_inches="tight", metadata={"Software": None})
        png = buffer.getvalue()
        width, height = struct.unpack(">II", png[16:24])
        metadata = {"width": width // 2, "height": height // 2}
        if self.alt:
            metadata["alt"] = self.alt
        return png, metadata


def styled(make):
    """Draw the figure of ``make`` with the chapter's style (fonts, sizes, background)."""
    @functools.wraps(make)
    def draw(*args, **kwargs):
        with mpl.rc_context(STYLE):
            return make(*args, **kwargs)
    return draw


def figure(ncols: int = 1, nrows: int = 1, *, width: float = MAX_WIDTH, height: float = 3.2, **kwargs):
    """A white-backed :class:`PageFigure` of ``nrows`` x ``ncols`` axes, at most ``MAX_WIDTH`` wide."""
    if width > MAX_WIDTH:
        raise ValueError(f"width must be at most {MAX_WIDTH} inches (the page's column), got {width}")
    with mpl.rc_context(STYLE):
        fig = PageFigure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


@styled
def gradient_flow_figure(panels: dict, *, quantity: str = "input_grad", ylabel: str | None = None,
                         width: float = 5.2):
    """One panel per setting, stacked; each shows plain vs residual gradient norms against block index.

    ``panels`` maps a panel title to a pair ``(plain, residual)`` of
    :class:`convnets.experiments.GradientFlow`. ``quantity`` is ``"input_grad"``
    (gradient reaching each block) or ``"weight_grad"`` (each block's weight gradient).
    The figure is narrower than the column (``width`` inches) so that a phone, which
    shrinks it to its screen, shrinks its text less; the legend sits above the panels.
    """
    if quantity not in ("input_grad", "weight_grad"):
        raise ValueError(f"quantity must be 'input_grad' or 'weight_grad', got {quantity!r}")
    if not isinstance(panels, dict) or not panels:
        raise TypeError(f"panels must be a non-empty dict {{title: (plain, residual)}}, got {type(panels).__name__}")
    fig, axes = figure(1, len(panels), width=width, height=2.1 * len(panels) + 0.7, sharex=True)
    axes = np.atleast_1d(axes)
    for ax, (title, (plain, residual)) in zip(axes, panels.items(), strict=True):
        for result, label, style in ((plain, "plain", PLAIN_STYLE), (residual, "residual", RESIDUAL_STYLE)):
            values = getattr(result, quantity)
            ax.semilogy(np.arange(len(values)), values, label=label, markevery=max(1, len(values) // 8),
                        markersize=4, **style)
        ax.set_title(title.replace("\n", " "), loc="left")
        ax.grid(True, which="major", alpha=0.3)
        ax.yaxis.set_major_locator(ticker.LogLocator(numticks=5))
        ax.yaxis.set_minor_locator(ticker.NullLocator())
    axes[-1].set_xlabel("block (0 = input side)")
    fig.supylabel(ylabel or ("norm of the gradient reaching the block" if quantity == "input_grad"
                             else "norm of the block's weight gradient"), fontsize=11)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=2, frameon=False)
    return fig


@styled
def series_figure(x, series: dict, *, xlabel: str, ylabel: str, logy: bool = False, logx: bool = False,
                  styles: dict | None = None, width: float = 5.2, height: float = 3.4):
    """A line plot of several named series against ``x``; the legend sits above the axes, off the data."""
    if not isinstance(series, dict) or not series:
        raise TypeError(f"series must be a non-empty dict {{label: values}}, got {type(series).__name__}")
    for label, y in series.items():
        if len(y) != len(x):
            raise ValueError(f"series {label!r} has {len(y)} values for {len(x)} x values")
    fig, ax = figure(width=width, height=height)
    for i, (label, y) in enumerate(series.items()):
        style = (styles or {}).get(label, dict(marker="os^vD"[i % 5]))
        ax.plot(x, y, label=label, **style)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=min(len(series), 3),
               frameon=False)
    return fig


def pareto_front(x, y) -> np.ndarray:
    """Indices of the points not beaten by any other (lower or equal x and higher or equal y), by x."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    order = np.lexsort((-y, x))
    front, best = [], -np.inf
    for i in order:
        if y[i] > best:
            front.append(i)
            best = y[i]
    return np.array(front, dtype=int)


@styled
def accuracy_figure(rows: list[dict], *, cost: str = "params"):
    """Top-1 accuracy against parameters or MACs (log axis), one marker per evaluation source.

    ``rows`` are dicts with keys family, label, params, macs, top1, source. Filled markers:
    reference weights (single centre crop); hollow markers: the paper's own protocol.
    The Pareto front is drawn through the reference-weight points only, since mixing
    protocols would compare different measurements.
    """
    if cost not in ("params", "macs"):
        raise ValueError(f"cost must be 'params' or 'macs', got {cost!r}")
    scale = 1e6 if cost == "params" else 1e9
    fig, ax = figure(width=MAX_WIDTH, height=5.6)
    for family, colour in FAMILY_COLOURS.items():
        for source, filled in (("weights", True), ("paper", False)):
            pts = [r for r in rows if r["family"] == family and r["source"] == source]
            if not pts:
                continue
            ax.scatter([r[cost] / scale for r in pts], [r["top1"] for r in pts], s=36, marker="o" if filled else "D",
                       facecolors=colour if filled else "none", edgecolors=colour, linewidths=1.2,
                       label=f"{family} ({'reference weights' if filled else 'paper'})")
    weights = [r for r in rows if r["source"] == "weights"]
    front = pareto_front([r[cost] for r in weights], [r["top1"] for r in weights])
    ax.plot([weights[i][cost] / scale for i in front], [weights[i]["top1"] for i in front], color="0.4",
            linestyle="--", linewidth=1, zorder=0, label="Pareto front (reference weights)")
    for i in front:
        ax.annotate(weights[i]["label"], (weights[i][cost] / scale, weights[i]["top1"]), fontsize=10,
                    xytext=(5, -10), textcoords="offset points", color="0.25")
    ax.set_xscale("log")
    ax.set_xlabel("parameters (millions, log scale)" if cost == "params"
                  else "multiply-accumulates (billions, log scale)")
    ax.set_ylabel("ImageNet top-1 accuracy (%)")
    ax.grid(True, which="both", alpha=0.25)
    fig.legend(*ax.get_legend_handles_labels(), frameon=False, loc="outside lower center", ncol=2)
    return fig


@styled
def training_figure(histories: dict):
    """Training loss and test error per epoch: plain networks left, residual right.

    ``histories`` maps (depth, residual: bool) to :class:`convnets.experiments.History`.
    """
    depths = sorted({d for d, _ in histories})
    colours = [OKABE_ITO[c] for c in ("sky", "orange", "vermillion", "purple", "green")]
    markers = "os^Dv"
    fig, axes = figure(2, 2, width=MAX_WIDTH, height=5.6, sharex=True, sharey="row")
    for col, residual in enumerate((False, True)):
        for i, depth in enumerate(depths):
            h = histories[(depth, residual)]
            epochs = np.arange(1, len(h.train_loss) + 1)
            style = dict(color=colours[i % 5], marker=markers[i % 5], markersize=4, label=f"{depth} layers")
            axes[0, col].semilogy(epochs, h.train_loss, **style)
            axes[1, col].plot(epochs, 100 * np.array(h.test_error), **style)
        axes[0, col].set_title("plain" if not residual else "residual")
        axes[1, col].set_xlabel("epoch")
        for row in (0, 1):
            axes[row, col].grid(True, which="major", alpha=0.3)
    axes[0, 0].set_ylabel("training loss (log scale)")
    axes[1, 0].set_ylabel("test error (%)")
    axes[0, 0].legend(frameon=False)
    return fig


@styled
def euler_figure(flow, depths=(4, 16)):
    """Residual-stack trajectories (after each block) against the exact solution of the ODE they discretise.

    ``flow`` is a :class:`convnets.experiments.EulerFlow`; ``depths`` picks the stacks drawn (at most three).
    """
    depths = list(depths)
    missing = [d for d in depths if d not in flow.paths]
    if missing or not 1 <= len(depths) <= 3:
        raise ValueError(f"depths must be one to three of {sorted(flow.paths)}, got {depths}")
    fig, ax = figure(width=5.2, height=3.6)
    ax.plot(flow.exact[:, 0], flow.exact[:, 1], color=OKABE_ITO["black"], linewidth=2, label="exact solution")
    for depth, colour, marker in zip(depths, (OKABE_ITO["vermillion"], OKABE_ITO["blue"], OKABE_ITO["green"]),
                                     "os^", strict=False):
        path = flow.paths[depth]
        ax.plot(path[:, 0], path[:, 1], color=colour, marker=marker, markersize=4, linewidth=1,
                label=f"{depth} residual blocks")
    ax.plot(*flow.exact[0], marker="o", color=OKABE_ITO["black"], markersize=7, linestyle="none")
    ax.annotate("input", flow.exact[0], xytext=(-10, 6), textcoords="offset points", ha="right", va="bottom")
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.grid(True, alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=3, frameon=False)
    return fig


@styled
def digits_figure(images, labels, n: int = 10):
    """The first image of each class, 8x8 grey-scale."""
    fig, axes = figure(n, width=MAX_WIDTH, height=1.1)
    for ax, label in zip(axes, range(n), strict=True):
        ax.imshow(images[list(labels).index(label), 0], cmap="gray_r")
        ax.set_title(str(label))
        ax.axis("off")
    return fig


@styled
def layer_cost_figure(counts):
    """Parameters (left) and MACs (right) of every convolution and linear layer of a counted network."""
    weighted = [r for r in counts.rows if r.layer.startswith(("Conv", "DWConv", "Linear"))]
    fig, (ax_p, ax_m) = figure(2, width=MAX_WIDTH, height=0.25 * len(weighted) + 1.2, sharey=True)
    names, n_conv, n_fc = [], 0, 0
    for r in weighted:
        if r.layer == "Linear":
            n_fc += 1
            names.append(f"fc{n_fc}")
        else:
            n_conv += 1
            names.append(f"conv{n_conv}")
    colours = [OKABE_ITO["orange"] if r.layer == "Linear" else OKABE_ITO["blue"] for r in weighted]
    ax_p.barh(names, [r.params / 1e6 for r in weighted], color=colours)
    ax_m.barh(names, [r.macs / 1e9 for r in weighted], color=colours)
    ax_p.set_xlabel("parameters (millions)")
    ax_m.set_xlabel("multiply-accumulates (billions)")
    ax_p.invert_yaxis()
    for ax in (ax_p, ax_m):
        ax.grid(True, axis="x", alpha=0.3)
    return fig


@styled
def channel_growth_figure(inputs):
    """Input channels of each dense layer, in order across the blocks."""
    fig, ax = figure(width=6.0, height=3.2)
    ax.plot(np.arange(1, len(inputs) + 1), inputs, color=OKABE_ITO["green"], marker="o", markersize=2.5)
    ax.set_xlabel(f"dense layer (1 to {len(inputs)}, across the blocks)")
    ax.set_ylabel("input channels")
    ax.grid(True, alpha=0.3)
    return fig


@styled
def stack_vs_single_figure(fields, stack_params, single_params, channels: int):
    """Parameters of a stack of 3x3 convolutions and of one larger convolution, per receptive field."""
    fig, ax = figure(width=5.5, height=3.2)
    ax.plot(fields, np.array(single_params) / 1e6, color=OKABE_ITO["vermillion"], marker="o",
            label="one k×k convolution")
    ax.plot(fields, np.array(stack_params) / 1e6, color=OKABE_ITO["blue"], marker="s",
            label="stack of 3×3 convolutions")
    ax.set_xticks(fields, [f"{f}×{f}" for f in fields])
    ax.set_xlabel("receptive field")
    ax.set_ylabel(f"parameters (millions, {channels} channels)")
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False)
    return fig



# ---- residual pages (residual.md, identity.md, residual_views.md) -------------------------------------
VARIANT_STYLES = {"post-activation": dict(color=OKABE_ITO["orange"], marker="o"),
                  "pre-activation": dict(color=OKABE_ITO["green"], marker="s")}


@styled
def variant_training_figure(histories: dict):
    """Training loss (top) and test error (bottom) per epoch of networks trained alike, one line each.

    ``histories`` maps a label to a :class:`convnets.experiments.History`; labels found in
    ``VARIANT_STYLES`` ("post-activation", "pre-activation") get their colours and markers.
    Both axes are logarithmic, so that the first epoch and the last are readable together.
    """
    if not isinstance(histories, dict) or not histories:
        raise TypeError(f"histories must be a non-empty dict {{label: History}}, got {type(histories).__name__}")
    fig, (loss_ax, error_ax) = figure(1, 2, width=5.2, height=5.4, sharex=True)
    for i, (label, h) in enumerate(histories.items()):
        if not len(h.train_loss) == len(h.test_error) > 0:
            raise ValueError(f"history {label!r} must hold one training loss and one test error per epoch")
        style = VARIANT_STYLES.get(label, dict(marker="os^vD"[i % 5]))
        epochs = np.arange(1, len(h.train_loss) + 1)
        loss_ax.semilogy(epochs, h.train_loss, label=label, markersize=5, **style)
        error_ax.semilogy(epochs, 100 * np.array(h.test_error), markersize=5, **style)
    loss_ax.set_ylabel("training loss\n(log scale)")
    error_ax.set_ylabel("test error, %\n(log scale)")
    error_ax.set_xlabel("epoch")
    error_ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    error_ax.yaxis.set_major_locator(ticker.FixedLocator([1, 2, 5, 10, 20, 50, 100]))
    error_ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    error_ax.yaxis.set_minor_locator(ticker.NullLocator())
    for ax in (loss_ax, error_ax):
        ax.grid(True, which="both", alpha=0.3)
    fig.legend(*loss_ax.get_legend_handles_labels(), loc="outside upper center", ncols=2, frameon=False)
    return fig


@styled
def euler_error_figure(depths, global_errors, local_errors):
    """Error of a residual stack as an Euler solver, log-log against its number of blocks L.

    ``global_errors``: the error at the output after L blocks (slope -1 for Euler's method);
    ``local_errors``: the error one block makes in one step of size T/L (slope -2). Dashed lines
    of slopes -1 and -2 through the last points show the orders.
    """
    depths = np.asarray(depths, dtype=float)
    global_errors, local_errors = np.asarray(global_errors, float), np.asarray(local_errors, float)
    if depths.ndim != 1 or len(depths) < 2 or not len(depths) == len(global_errors) == len(local_errors):
        raise ValueError(f"depths, global_errors and local_errors must be 1-D of the same length >= 2, got "
                         f"{depths.shape}, {global_errors.shape}, {local_errors.shape}")
    fig, ax = figure(width=5.2, height=3.8)
    ax.loglog(depths, global_errors, color=OKABE_ITO["blue"], marker="s", label="error at the output (global)")
    ax.loglog(depths, local_errors, color=OKABE_ITO["vermillion"], marker="o", label="error of one block (local)")
    middle = len(depths) // 2
    for errors, order, offset, align in ((global_errors, 1, (6, 8), ("left", "bottom")),
                                         (local_errors, 2, (-8, -8), ("right", "top"))):
        reference = errors[-1] * (depths[-1] / depths) ** order
        ax.loglog(depths, reference, color="0.4", linestyle="--", linewidth=1)
        ax.annotate(f"slope $-{order}$", (depths[middle], reference[middle]), xytext=offset,
                    textcoords="offset points", ha=align[0], va=align[1], color="0.3")
    ax.set_xticks(depths, [f"{d:g}" for d in depths])
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.set_xlabel("number of residual blocks $L$ (step $h = T/L$)")
    ax.set_ylabel("error")
    ax.grid(True, which="major", alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=1, frameon=False)
    return fig
