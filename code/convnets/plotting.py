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
import itertools
import re
import struct

import matplotlib as mpl
import numpy as np
from matplotlib import ticker
from matplotlib.figure import Figure
from matplotlib.text import Text

from .checks import nonempty_dict, positive_int

# Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies
OKABE_ITO = {"orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000"}
PLAIN_STYLE = dict(color=OKABE_ITO["vermillion"], marker="o", linestyle="-")
RESIDUAL_STYLE = dict(color=OKABE_ITO["blue"], marker="s", linestyle="-")
FAMILY_COLOURS = {"AlexNet": OKABE_ITO["black"], "VGG": OKABE_ITO["orange"], "GoogLeNet": OKABE_ITO["purple"],
                  "ResNet": OKABE_ITO["blue"], "DenseNet": OKABE_ITO["green"], "MobileNetV2": OKABE_ITO["sky"],
                  "EfficientNet": OKABE_ITO["vermillion"],
                  # after EfficientNet: a descendant shares its ancestor's colour and is drawn with squares
                  "ResNeXt": OKABE_ITO["blue"], "Wide ResNet": OKABE_ITO["blue"], "RegNet": OKABE_ITO["green"],
                  "ConvNeXt": OKABE_ITO["purple"], "EfficientNetV2": OKABE_ITO["vermillion"],
                  "MobileNetV3": OKABE_ITO["sky"]}
FAMILY_MARKERS = {family: "s" if family in ("ResNeXt", "Wide ResNet", "RegNet", "ConvNeXt", "EfficientNetV2",
                                             "MobileNetV3") else "o" for family in FAMILY_COLOURS}


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
        # "min_text_px": the smallest text in CSS px when the image shows at its width (tests/test_site.py)
        metadata = {"width": width // 2, "height": height // 2,
                    "min_text_px": round(smallest_text_pt(self) * self.dpi / 72, 2)}
        if self.alt:
            metadata["alt"] = self.alt
        return png, metadata


def smallest_text_pt(fig: Figure) -> float:
    """The smallest font size (points) of the visible, non-empty text of ``fig`` as last drawn."""
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    if not sizes:
        raise ValueError("fig has no visible text")
    return float(min(sizes))


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
    nonempty_dict("panels", panels, "{title: (plain, residual)}")
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
    nonempty_dict("series", series, "{label: values}")
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
def accuracy_figure(rows: list[dict], *, cost: str = "params", front: bool = True, height: float = 5.4,
                    ylim: tuple[float, float] | None = None):
    """Top-1 accuracy against parameters or MACs (log axis), every point labelled on the plot.

    ``rows`` are dicts with keys network, family, params, macs, top1, source and where (as
    :func:`convnets.results.with_counts` gives them). Each family has a colour (and squares
    for the families after EfficientNet). Filled markers: torchvision's first reference
    weights (V1); a hollow marker at the head of an arrow: the same architecture's V2
    weights (a later training recipe), drawn from its V1 point; hollow diamonds: the
    papers' own results. Every V1 and paper point carries its network's name, placed
    where it overlaps no other label, marker or line (:func:`place_labels`).
    With ``front=True`` a dashed line joins the Pareto front of the V1 points: one recipe
    per architecture, one protocol (a single centre crop).
    """
    from .results import weights_version

    if cost not in ("params", "macs"):
        raise ValueError(f"cost must be 'params' or 'macs', got {cost!r}")
    if not rows:
        raise ValueError("rows must hold at least one result, got none")
    for i, r in enumerate(rows):
        missing = {"network", "family", "params", "macs", "top1", "source", "where"} - set(r)
        if missing:
            raise ValueError(f"rows[{i}] lacks {sorted(missing)}")
        if r["family"] not in FAMILY_COLOURS:
            raise ValueError(f"rows[{i}]: family {r['family']!r} has no colour; known: {', '.join(FAMILY_COLOURS)}")
    scale = 1e6 if cost == "params" else 1e9
    fig, ax = figure(width=MAX_WIDTH, height=height)
    version = [weights_version(r) for r in rows]
    v1 = [r for r, v in zip(rows, version, strict=True) if v == "V1"]
    labelled = []
    floor = ylim[0] if ylim is not None else -np.inf
    for r, v in zip(rows, version, strict=True):
        colour, marker = FAMILY_COLOURS[r["family"]], FAMILY_MARKERS[r["family"]]
        x, y = r[cost] / scale, r["top1"]
        if y < floor:                   # below the axis: a triangle on its floor, the label gives the value
            ax.plot(x, floor + 0.3, marker="v", color=colour, markersize=7, linestyle="none", zorder=3)
            labelled.append((x, floor + 0.3, f"{network_name(r['network'])}: {y:.1f}% ↓", colour))
            continue
        if v == "V1":
            ax.plot(x, y, marker=marker, color=colour, markersize=6.5, linestyle="none", zorder=3)
            labelled.append((x, y, network_name(r["network"]), colour))
        elif v == "V2":
            ax.plot(x, y, marker=marker, markerfacecolor="white", markeredgecolor=colour, markeredgewidth=1.4,
                    markersize=6.5, linestyle="none", zorder=3)
            start = [o for o in v1 if o["network"] == r["network"]]
            if start:
                ax.annotate("", (x, y), (start[0][cost] / scale, start[0]["top1"]), zorder=2,
                            arrowprops=dict(arrowstyle="-|>", color=colour, lw=1.1, shrinkA=4, shrinkB=4,
                                            mutation_scale=9))
            else:
                labelled.append((x, y, network_name(r["network"]) + " V2", colour))
        else:
            ax.plot(x, y, marker="D", markerfacecolor="none", markeredgecolor=colour, markeredgewidth=1.2,
                    markersize=5.5, linestyle="none", zorder=3)
            labelled.append((x, y, network_name(r["network"]) + " (paper)", colour))
    if front and v1:
        idx = pareto_front([r[cost] for r in v1], [r["top1"] for r in v1])
        ax.plot([v1[i][cost] / scale for i in idx], [v1[i]["top1"] for i in idx], color="0.45", linestyle="--",
                linewidth=1, zorder=1)
    ax.set_xscale("log")
    _plain_log_ticks(ax, "x")
    ax.set_xlabel("parameters (millions, log scale)" if cost == "params"
                  else "multiply-accumulates per image (billions, log scale)")
    ax.set_ylabel("ImageNet top-1 accuracy (%)")
    ax.grid(True, which="major", alpha=0.25)
    xs = [r[cost] / scale for r in rows]
    ax.set_xlim(min(xs) / 3.2, max(xs) * 1.8)
    if ylim is not None:
        if len(ylim) != 2 or not ylim[0] < ylim[1]:
            raise ValueError(f"ylim must be (bottom, top) with bottom < top, got {ylim!r}")
        ax.set_ylim(*ylim)
    place_labels(ax, labelled)
    return fig


def _batch_loss_line(ax, key, history, **style) -> np.ndarray:
    """Draw a History's mini-batch losses on a log scale against epochs (batch k of n in epoch e at e - 1 + k/n)
    and return them; ``key`` names the history in the error, ``style`` holds the label, colour and marker."""
    losses = np.asarray(getattr(history, "batch_loss", []), float)
    epochs = len(getattr(history, "train_loss", []))
    if not epochs or len(losses) < epochs or len(losses) % epochs:
        raise ValueError(f"history {key!r} must hold the loss of every mini-batch (batch_loss, as many per epoch), "
                         f"got {len(losses)} for {epochs} epochs")
    x = np.arange(1, len(losses) + 1) * epochs / len(losses)
    ax.semilogy(x, losses, markersize=4, linewidth=1.2, markevery=max(1, len(x) // 8), **style)
    return losses


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def _chance_line(ax, classes: int = 10):
    """A dashed line at ln(classes), the loss of a uniform guess, named in the right margin (off the data).

    Call it after drawing the data: it also labels the log-scale y axis with plain numbers (0.2, 0.5, 1, 2, ...).
    """
    ax.axhline(np.log(classes), color="0.45", linestyle="--", linewidth=1, zorder=1)
    ax.annotate(f"ln {classes}", (1.01, np.log(classes)), xycoords=("axes fraction", "data"), va="center",
                fontsize=10, color="0.35")
    low, high = ax.dataLim.y0, ax.dataLim.y1
    labelled = (2, 3, 5) if high < 10 * low else (2, 5)        # more labels when the data span under a decade
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))     # 0.1, 1, not 10^-1, 10^0
    ax.yaxis.set_minor_formatter(ticker.FuncFormatter(                              # and 0.2, 0.5, 2, 5
        lambda v, _: f"{v:g}" if v > 0 and round(v / 10 ** np.floor(np.log10(v)), 6) in labelled else ""))


@styled
def training_figure(histories: dict):
    """Training loss of every mini-batch, one line per depth: plain networks above, residual networks below.

    ``histories`` maps (depth, residual: bool) to :class:`convnets.experiments.History`,
    with a plain and a residual history for every depth, each holding its ``batch_loss``.
    The x axis counts epochs (a batch's loss is drawn at the fraction of training done
    after it). The two panels are stacked and share their log-scale axes, so the same
    height means the same loss; a dashed line marks ln 10, the loss of a uniform guess
    over ten classes; the legend (one entry per depth) sits above them, outside the data.
    The alt text states each run's last-epoch mean loss and final test error.
    """
    nonempty_dict("histories", histories, "of (depth, residual) -> History")
    missing = [(d, r) for d in {d for d, _ in histories} for r in (False, True) if (d, r) not in histories]
    if missing:
        raise ValueError(f"histories needs a plain and a residual run for every depth; missing {sorted(missing)}")
    depths = sorted({d for d, _ in histories})
    colours = [OKABE_ITO[c] for c in ("sky", "orange", "vermillion", "purple", "green")]
    markers = "os^Dv"
    fig, axes = figure(1, 2, width=MAX_WIDTH, height=5.0, sharex=True, sharey=True)
    for ax, residual in zip(axes, (False, True), strict=True):
        for i, depth in enumerate(depths):
            _batch_loss_line(ax, (depth, residual), histories[(depth, residual)], color=colours[i % 5],
                             marker=markers[i % 5], label=f"{depth} layers")
        _chance_line(ax)
        ax.set_title("residual networks" if residual else "plain networks", loc="left")
        ax.set_ylabel("training loss")
        ax.grid(True, which="major", alpha=0.3)
    axes[-1].set_xlabel("epoch")
    axes[-1].set_xlim(0, None)
    axes[-1].xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=len(depths), frameon=False)

    def finals(residual, key, scale, fmt):
        return ", ".join(f"{d} layers {scale * getattr(histories[(d, residual)], key)[-1]:{fmt}}" for d in depths)

    epochs = len(histories[(depths[0], False)].train_loss)
    fig.alt = (f"Two line charts of the training loss of every mini-batch on a log scale over {_epochs(epochs)}, one "
               f"line per depth, plain networks above and residual networks below on the same axes, a dashed line "
               f"at ln 10. Mean loss over the last epoch, plain: {finals(False, 'train_loss', 1, '.3f')}; residual: "
               f"{finals(True, 'train_loss', 1, '.3f')}. Final test error in per cent, plain: "
               f"{finals(False, 'test_error', 100, '.1f')}; residual: {finals(True, 'test_error', 100, '.1f')}.")
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
    """The first image of each class 0 .. n-1: ``images`` (N, 1, H, W), ``labels`` (N,) class indices."""
    images, labels = np.asarray(images), list(np.asarray(labels))
    if images.ndim != 4 or images.shape[1] != 1 or len(images) != len(labels):
        raise ValueError(f"images must be (N, 1, H, W) grey-scale with one label each, got images {images.shape} "
                         f"and {len(labels)} labels")
    missing = [c for c in range(n) if c not in labels]
    if missing:
        raise ValueError(f"labels must contain every class 0 .. {n - 1}; missing {missing}")
    fig, axes = figure(n, width=MAX_WIDTH, height=1.1)
    for ax, label in zip(axes, range(n), strict=True):
        ax.imshow(images[labels.index(label), 0], cmap="gray_r")
        ax.set_title(str(label))
        ax.axis("off")
    h, w = images.shape[2:]
    fig.alt = (f"{n} small {h} by {w} pixel grey-scale images in a row, the first training image of each class, "
               f"labelled {', '.join(str(c) for c in range(n))}: handwritten digits, dark strokes on a light "
               "background.")
    return fig


@styled
def layer_cost_figure(counts):
    """Each weight layer's share of a counted network's parameters and of its multiply-accumulates.

    One panel, so that it stays readable on a phone: the convolutions (conv1, conv2, ...) and
    fully connected layers (fc1, ...) from top to bottom, two bars each, the share of the
    network's parameters (solid) and of its MACs (hatched), with shares of 5 % or more written
    at the end of their bar. ``counts`` is a :class:`convnets.accounting.Counts`.
    """
    if not hasattr(counts, "rows") or not hasattr(counts, "macs"):
        raise TypeError(f"counts must be a convnets.accounting.Counts (from count or zoo.counts), "
                        f"got {type(counts).__name__}")
    weighted = [r for r in counts.rows if r.layer.startswith(("Conv", "DWConv", "Linear"))]
    if not weighted:
        raise ValueError(f"counts of {counts.name!r} has no convolution or linear layer to show")
    names, n_conv, n_fc = [], 0, 0
    for r in weighted:
        if r.layer == "Linear":
            n_fc += 1
            names.append(f"fc{n_fc}")
        else:
            n_conv += 1
            names.append(f"conv{n_conv}")
    params = 100 * np.array([r.params for r in weighted]) / counts.params
    macs = 100 * np.array([r.macs for r in weighted]) / counts.macs
    fig, ax = figure(width=5.0, height=0.3 * len(weighted) + 1.4)
    y = np.arange(len(weighted))
    h = 0.4
    ax.barh(y - h / 2, params, h, color=OKABE_ITO["orange"], edgecolor="black", linewidth=0.5,
            label="share of the parameters")
    ax.barh(y + h / 2, macs, h, color=OKABE_ITO["sky"], edgecolor="black", linewidth=0.5, hatch="///",
            label="share of the multiply-accumulates")
    for offset, values in ((-h / 2, params), (h / 2, macs)):
        for yi, v in zip(y, values, strict=True):
            if v >= 5:
                ax.text(v + 1, yi + offset, f"{v:.0f}%", va="center", fontsize=10)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlim(0, max(params.max(), macs.max()) * 1.15)
    ax.set_xlabel("share of the whole network (%)")
    ax.grid(True, axis="x", alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=1, frameon=False)
    return fig


@styled
def channel_growth_figure(inputs):
    """Input channels of each dense layer, in order across the blocks, each block labelled on the plot.

    A new block starts wherever the input width drops (a transition compressed it).
    """
    inputs = np.asarray(inputs)
    if inputs.ndim != 1 or len(inputs) < 2 or not np.issubdtype(inputs.dtype, np.integer):
        raise ValueError(f"inputs must be a list of at least two channel counts (integers), got {inputs!r}")
    layers = np.arange(1, len(inputs) + 1)
    fig, ax = figure(width=4.8, height=3.3)
    ax.plot(layers, inputs, color=OKABE_ITO["green"], marker="o", markersize=3)
    starts = [0, *(i + 1 for i in range(len(inputs) - 1) if inputs[i + 1] < inputs[i]), len(inputs)]
    for b, (lo, hi) in enumerate(zip(starts[:-1], starts[1:], strict=True), start=1):
        top = inputs[lo:hi].max()
        ax.annotate(f"block {b}", ((layers[lo] + layers[hi - 1]) / 2, top), xytext=(0, 6),
                    textcoords="offset points", ha="center", fontsize=10)
    ax.set_ylim(0, inputs.max() * 1.15)
    ax.set_xlabel(f"dense layer (1 to {len(inputs)}, across the blocks)")
    ax.set_ylabel("input channels")
    ax.grid(True, alpha=0.3)
    return fig


@styled
def stack_vs_single_figure(fields, stack_params, single_params, channels: int):
    """Parameters of a stack of 3x3 convolutions and of one larger convolution, per receptive field.

    Each line is labelled beside it, below the stack's last point and above the single layer's
    second-last (no legend to cover the data).
    """
    fields = np.asarray(fields)
    single, stack = np.asarray(single_params) / 1e6, np.asarray(stack_params) / 1e6
    if not (len(fields) == len(single) == len(stack) >= 2):
        raise ValueError(f"fields, stack_params and single_params must have the same length (>= 2), got "
                         f"{len(fields)}, {len(stack)} and {len(single)}")
    positive_int("channels", channels)
    fig, ax = figure(width=4.8, height=3.3)
    ax.plot(fields, single, color=OKABE_ITO["vermillion"], marker="o")
    ax.plot(fields, stack, color=OKABE_ITO["blue"], marker="s", linestyle="--")
    ax.annotate("one k×k convolution", (fields[-2], single[-2]), xytext=(-12, 8), textcoords="offset points",
                ha="right", va="bottom", fontsize=10, color=OKABE_ITO["vermillion"])
    ax.annotate("stack of 3×3\nconvolutions", (fields[-1], stack[-1]), xytext=(0, -22), textcoords="offset points",
                ha="right", va="top", fontsize=10, color=OKABE_ITO["blue"])
    ax.set_xticks(fields, [f"{f}×{f}" for f in fields])
    ax.set_xlabel("receptive field")
    ax.set_ylabel(f"parameters (millions),\n{channels} channels in and out")
    ax.grid(True, alpha=0.3)
    return fig




# ---- degradation page: weight gradients of a real network, layer by layer
@styled
def layer_gradient_figure(series: dict, *, ylabel: str = "norm of the weight gradient"):
    """Each convolution's weight-gradient norm against its position, one line per network.

    ``series`` maps a label ("plain", "residual", ...) to a
    :class:`convnets.experiments.LayerGradients`; all must report as many convolutions, in
    the same stages (a plain network and its residual twin do). Stages (the first part of each name: stem,
    stage1, ...) are shaded alternately and named at the top; each line is labelled where the
    lines are furthest apart in the middle half of the plot (above the top one, below the
    others), so no legend covers the data. A label containing "plain" or "residual" gets
    the chapter's plain or residual style.
    """
    nonempty_dict("series", series, "of label -> LayerGradients")
    first = next(iter(series.values()))
    for label, result in series.items():
        if not hasattr(result, "norms") or not hasattr(result, "names"):
            raise TypeError(f"series[{label!r}] must be a LayerGradients, got {type(result).__name__}")
        if [n.split(".")[0] for n in result.names] != [n.split(".")[0] for n in first.names]:
            raise ValueError(f"series[{label!r}] reports other layers than the first series: every network must "
                             "have as many convolutions on its main path, in the same stages")
    layers = np.arange(1, len(first.names) + 1)
    fig, ax = figure(width=MAX_WIDTH, height=3.6)
    start = 0
    for n, (stage, run) in enumerate(itertools.groupby(name.split(".")[0] for name in first.names)):
        end = start + len(list(run))                # the stage's convolutions are start + 1 .. end
        if n % 2:
            ax.axvspan(start + 0.5, end + 0.5, color="0.93", zorder=0, linewidth=0)
        ax.text((start + end + 1) / 2, 1.01, stage.replace("stage", "stage "), ha="center", va="bottom",
                transform=ax.get_xaxis_transform(), fontsize=10, color="0.3")
        start = end
    others = iter(["green", "orange", "purple", "sky"])
    logs = np.log([np.asarray(r.norms, float) for r in series.values()])
    middle = slice(len(layers) // 4, max(len(layers) // 4 + 1, 3 * len(layers) // 4))   # away from the stage names
    gap = logs.max(axis=0) - logs.min(axis=0)
    at = middle.start + int(np.argmax(gap[middle]))                 # label where the lines are furthest apart
    for (label, result), log in zip(series.items(), logs, strict=True):
        style = (PLAIN_STYLE if "plain" in label else RESIDUAL_STYLE if "residual" in label
                 else dict(color=OKABE_ITO[next(others)], marker="^", linestyle="-"))
        ax.semilogy(layers, result.norms, markersize=3.5, linewidth=1.3, **style)
        above = log[at] >= logs[:, at].max()
        ax.annotate(label, (layers[at], result.norms[at]), xytext=(0, 9 if above else -12), textcoords="offset points",
                    ha="center", va="bottom" if above else "top", fontsize=10, color=style["color"],
                    fontweight="bold")
    ax.set_xlim(0.5, len(layers) + 0.5)
    ends = "; ".join(f"{label}: {r.norms[0]:.3g} at the first and {r.norms[-1]:.3g} at the last, "
                     f"{r.norms[0] / r.norms[-1]:.3g} times" for label, r in series.items())
    fig.alt = (f"Log-scale line chart of the norm of each convolution's weight gradient against its position, "
               f"1 to {len(layers)} from the input side, stages shaded; {ends}.")
    ax.set_xlabel("convolution (1 = next to the input)")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", axis="y", alpha=0.3)
    return fig


# ---- comparison, macs_time and after_efficientnet pages: names, labels placed without overlaps, cost figures
_NAMES = {"alexnet": "AlexNet", "alexnet-torchvision": "AlexNet", "googlenet": "GoogLeNet",
          "googlenet-torchvision": "GoogLeNet", "mobilenet-v2": "MobileNetV2", "mobilenet-v3-large": "MobileNetV3-L",
          "resnext50-32x4d": "ResNeXt-50", "wide-resnet50-2": "WRN-50-2", "convnext-tiny": "ConvNeXt-T",
          "convnext-small": "ConvNeXt-S", "efficientnetv2-s": "EffNetV2-S", "regnetx-400mf": "RegNetX-400MF",
          "regnety-400mf": "RegNetY-400MF", "regnety-800mf": "RegNetY-800MF"}


def network_name(name: str) -> str:
    """A zoo name as the papers write it: 'resnet50-v1' -> 'ResNet-50', 'efficientnet-b3' -> 'EffNet-B3'."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if name in _NAMES:
        return _NAMES[name]
    for pattern, template in ((r"vgg(\d+)(-bn)?", "VGG-{0}{1}"), (r"resnet(\d+)(?:-v1)?", "ResNet-{0}"),
                              (r"densenet(\d+)", "DenseNet-{0}"), (r"efficientnet-b(\d)", "EffNet-B{0}")):
        match = re.fullmatch(pattern, name)
        if match:
            return template.format(*[(g or "").upper() for g in match.groups()])
    raise ValueError(f"name {name!r} is not a network of the zoo this function knows")


_DIRECTIONS = {"E": ((1, 0), "left", "center"), "W": ((-1, 0), "right", "center"),
               "N": ((0, 1), "center", "bottom"), "S": ((0, -1), "center", "top"),
               "NE": ((0.7, 0.7), "left", "bottom"), "NW": ((-0.7, 0.7), "right", "bottom"),
               "SE": ((0.7, -0.7), "left", "top"), "SW": ((-0.7, -0.7), "right", "top"),
               "ENE": ((1, 0.45), "left", "center"), "ESE": ((1, -0.45), "left", "center"),
               "WNW": ((-1, 0.45), "right", "center"), "WSW": ((-1, -0.45), "right", "center")}
_RADII = (4, 7, 11, 16, 22, 30, 40, 52, 66, 82)  # points from the marker's centre; beyond the second, a leader line
_FAR = {f"{angle}°": ((np.cos(np.radians(angle)), np.sin(np.radians(angle))),
                      "left" if np.cos(np.radians(angle)) > 0.3 else "right" if np.cos(np.radians(angle)) < -0.3
                      else "center",
                      "bottom" if np.sin(np.radians(angle)) > 0.3 else "top" if np.sin(np.radians(angle)) < -0.3
                      else "center") for angle in range(0, 360, 15)}     # more directions for far labels


def _renderer(fig):
    """Lay the figure out (constrained layout runs on draw) and return a renderer to measure text with."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _obstacles(ax, renderer) -> np.ndarray:
    """Boxes (x0, y0, x1, y1 in display coordinates) that labels must not cover: markers, samples along lines
    and arrows, texts already there. Markers are the boxes wider than 4 pixels."""
    boxes, px = [], ax.figure.dpi / 72

    def square(x, y, half):
        boxes.append((x - half, y - half, x + half, y + half))

    def along(points, half):
        for (x0, y0), (x1, y1) in zip(points[:-1], points[1:], strict=True):
            for t in np.linspace(0, 1, max(1, int(np.hypot(x1 - x0, y1 - y0) / 3)) + 1):
                square(x0 + t * (x1 - x0), y0 + t * (y1 - y0), half)

    for line in ax.lines:
        if line.get_gid() == "guide":               # a guide line that labels may cross
            continue
        xy = line.get_transform().transform(line.get_xydata())
        if line.get_marker() not in ("None", None, "", " "):
            for x, y in xy:
                square(x, y, line.get_markersize() / 2 * px + 1)
        if line.get_linestyle() not in ("None", "none", "", " "):
            along(xy, max(1.0, line.get_linewidth() * px))
    for text in ax.texts:
        if getattr(text, "arrow_patch", None) is not None:
            if text.anncoords == "data":
                along(ax.transData.transform([text.xy, text.xyann]), 1.5)
        elif text.get_text() and text.get_rotation() % 180 == 0:      # a text already there
            box = text.get_window_extent(renderer).padded(1)
            boxes.append((box.x0, box.y0, box.x1, box.y1))
        elif text.get_text():                       # a rotated text (a guide line's name): along its own box
            centre, along_text, across, width, height = _rotated_frame(text, renderer)
            for a in np.linspace(-width / 2, width / 2, max(2, int(width / 4))):
                for b in (-height / 3, 0, height / 3):
                    square(*(centre + a * along_text + b * across), 2.0)
    return np.array(boxes, dtype=float).reshape(-1, 4)


def _rotated_frame(text, renderer):
    """A rotated text's centre (display coordinates), unit vectors along and across it, and its own width
    and height (before rotation): the upright box around it is larger."""
    width, height, _ = renderer.get_text_width_height_descent(text.get_text(), text.get_fontproperties(), ismath=False)
    box = Text.get_window_extent(text, renderer)                 # the text alone, not a leader line
    angle = np.radians(text.get_rotation())
    along, across = np.array([np.cos(angle), np.sin(angle)]), np.array([-np.sin(angle), np.cos(angle)])
    return np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2]), along, across, width, height


def _hits(box, boxes: np.ndarray) -> int:
    """How many of ``boxes`` (rows x0, y0, x1, y1) overlap ``box``."""
    return int(np.count_nonzero((boxes[:, 0] < box[2]) & (boxes[:, 2] > box[0])
                                & (boxes[:, 1] < box[3]) & (boxes[:, 3] > box[1])))


def _candidate_box(centre, offset_px, size, ha, va):
    """The box of a text of ``size`` (w, h) anchored ``ha``/``va`` at ``centre`` + ``offset_px``."""
    x, y = centre + offset_px
    w, h = size
    x0 = x if ha == "left" else x - w if ha == "right" else x - w / 2
    y0 = y if va == "bottom" else y - h if va == "top" else y - h / 2
    return np.array([x0, y0, x0 + w, y0 + h])


def place_labels(ax, points, *, fontsize: float = 10, strict: bool = True) -> list:
    """Label each point next to it where the label overlaps no other label, marker or line.

    ``points`` are (x, y, text, colour) in data coordinates. Crowded points are placed
    first; each tries positions around its marker, nearest first, and takes the first where
    its label covers nothing and no other marker is nearer to it than its own; a label set
    further away gets a thin leader line, in the point's colour, that crosses no marker or
    label. When a label finds no place, the labels are placed again with that one first.
    Returns the labels (matplotlib annotations). If some label still finds no free place it
    raises ``ValueError`` (``strict=True``) or takes the place it overlaps least.
    """
    if not points:
        return []
    renderer = _renderer(ax.figure)
    px = ax.figure.dpi / 72
    f = ax.get_window_extent(renderer).padded(-2)
    frame = np.array([f.x0, f.y0, f.x1, f.y1])
    obstacles = _obstacles(ax, renderer)
    markers = obstacles[obstacles[:, 2] - obstacles[:, 0] > 4]
    marker_centres = (markers[:, :2] + markers[:, 2:]) / 2
    centres = ax.transData.transform([(x, y) for x, y, *_ in points])
    sizes = []
    for x, y, text, _ in points:
        probe = ax.text(x, y, text, fontsize=fontsize)
        extent = Text.get_window_extent(probe, renderer)
        sizes.append(np.array([extent.width + 2, extent.height + 2]))
        probe.remove()
    crowd = [int(np.sum(np.hypot(*(centres - c).T) < 40 * px)) for c in centres]
    order = sorted(range(len(points)), key=lambda k: (-crowd[k], k))
    for _ in range(len(points)):
        spots, failed = _layout(order, centres, sizes, frame, obstacles, markers, marker_centres, px, strict=True)
        if failed is None:
            break
        order.remove(failed)
        order.insert(0, failed)
    else:
        if strict:
            x, y, text, _ = points[failed]
            raise ValueError(f"no free place for the label {text!r} at ({x:g}, {y:g}); make the figure larger")
        spots, _ = _layout(order, centres, sizes, frame, obstacles, markers, marker_centres, px, strict=False)
    labels = []
    for i, (offset, ha, va, radius) in sorted(spots.items()):
        x, y, text, colour = points[i]
        leader = dict(arrowprops=dict(arrowstyle="-", color=colour, lw=0.9, shrinkA=1, shrinkB=4)
                      ) if radius > _RADII[1] else {}
        label = ax.annotate(text, (x, y), xytext=tuple(offset), textcoords="offset points", ha=ha, va=va,
                            fontsize=fontsize, color="0.1", zorder=4, annotation_clip=False, **leader)
        label.set_in_layout(False)
        labels.append(label)
    return labels


def _layout(order, centres, sizes, frame, obstacles, markers, marker_centres, px, *, strict):
    """Places for the labels, in ``order``: {index: (offset in points, ha, va, radius)}, and the index of the
    first label that found no place (None if all did; with ``strict=False`` it takes its least bad place)."""
    placed, spots = np.zeros((0, 4)), {}
    for i in order:
        others = marker_centres[np.hypot(*(marker_centres - centres[i]).T) > 1]
        chosen, fallback = None, None
        for radius in _RADII:
            for (ux, uy), ha, va in (_DIRECTIONS if radius <= _RADII[2] else _DIRECTIONS | _FAR).values():
                offset = np.array([ux * radius + (3 if ux > 0 else -3 if ux < 0 else 0), uy * radius])
                box = _candidate_box(centres[i], offset * px, sizes[i], ha, va)
                if not (frame[0] <= box[0] and frame[1] <= box[1] and box[2] <= frame[2] and box[3] <= frame[3]):
                    continue
                hits = _hits(box, placed) + _hits(box, obstacles)
                if fallback is None or hits < fallback[0]:
                    fallback = (hits, offset, ha, va, radius, box)
                if hits:
                    continue
                if (_leader_is_clear(box, centres[i], markers, placed) if radius > _RADII[1]
                        else _nearest_is_own(box, centres[i], others)):
                    chosen = (offset, ha, va, radius, box)
                    break
            if chosen:
                break
        if chosen is None:
            if strict or fallback is None:
                return spots, i
            chosen = fallback[1:]
        offset, ha, va, radius, box = chosen
        if radius > _RADII[1]:                      # the leader line is an obstacle for the labels still to come
            start = (box[:2] + box[2:]) / 2
            samples = [start + t * (centres[i] - start) for t in np.linspace(0.1, 0.9, 16)]
            obstacles = np.vstack([obstacles, [(*(p - 1.5), *(p + 1.5)) for p in samples]])
        placed = np.vstack([placed, box])
        spots[i] = (offset, ha, va, radius)
    return spots, None


def _leader_is_clear(box, own, markers: np.ndarray, placed: np.ndarray) -> bool:
    """Whether a leader line from the centre of ``box`` to the point ``own`` crosses no other marker or label."""
    start = (box[:2] + box[2:]) / 2
    for t in np.linspace(0, 1, 24)[1:-1]:
        p = start + t * (own - start)
        if np.hypot(*(p - own)) < 8 or (box[0] <= p[0] <= box[2] and box[1] <= p[1] <= box[3]):
            continue
        point = np.array([p[0], p[1], p[0], p[1]])
        if _hits(point, markers) or _hits(point, placed):
            return False
    return True


def _nearest_is_own(box, own, others: np.ndarray) -> bool:
    """Whether every other marker centre is farther from the label ``box`` than its own marker at ``own``."""
    def distance(p):
        return np.hypot(np.maximum.reduce([box[0] - p[..., 0], 0 * p[..., 0], p[..., 0] - box[2]]),
                        np.maximum.reduce([box[1] - p[..., 1], 0 * p[..., 1], p[..., 1] - box[3]]))
    return bool(np.all(distance(others) > distance(own) + 3)) if len(others) else True


def label_overlaps(fig) -> list[tuple[str, str]]:
    """Pairs of texts placed on a figure's axes whose boxes overlap: should be none.

    A rotated text is taken as its rotated rectangle, not the upright box around it.
    """
    from matplotlib.path import Path

    renderer = _renderer(fig)
    texts = [t for ax in fig.axes for t in ax.texts if t.get_text()]
    boxes = [Text.get_window_extent(t, renderer) for t in texts]          # the text alone, not its leader line
    shapes = []
    for t in texts:
        if t.get_rotation() % 180 == 0:
            shapes.append(None)
            continue
        c, u, v, width, height = _rotated_frame(t, renderer)
        corners = [c + a * width / 2 * u + b * height / 2 * v for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
        shapes.append(Path(corners + [corners[0]], closed=True))

    def overlap(i, j):
        if not boxes[i].overlaps(boxes[j]):
            return False
        if shapes[i] is not None:
            return shapes[i].intersects_bbox(boxes[j], filled=True)
        if shapes[j] is not None:
            return shapes[j].intersects_bbox(boxes[i], filled=True)
        return True

    return [(texts[i].get_text(), texts[j].get_text()) for i in range(len(texts)) for j in range(i + 1, len(texts))
            if overlap(i, j)]


def _plain_log_ticks(ax, axes: str = "xy"):
    """Log axes ticked 1, 2, 5 per decade and written as plain numbers (20, 50, 100) rather than powers of 10."""
    for axis in [a for name, a in (("x", ax.xaxis), ("y", ax.yaxis)) if name in axes]:
        axis.set_major_locator(ticker.LogLocator(subs=(1, 2, 5)))
        axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(ticker.NullFormatter())


KIND_COLOURS = {"k×k convolution": OKABE_ITO["blue"], "1×1 convolution": OKABE_ITO["sky"],
                "grouped convolution": OKABE_ITO["green"], "depthwise convolution": OKABE_ITO["vermillion"],
                "linear": OKABE_ITO["purple"], "everything else": "0.75"}


def _check_timings(timings) -> list:
    from .latency import Timing

    timings = list(timings)
    if not timings or not all(isinstance(t, Timing) for t in timings):
        raise TypeError("timings must be a non-empty list of convnets.latency.Timing")
    return timings


def _name(name: str) -> str:
    """A network's name as papers write it when the zoo knows it, else as given."""
    try:
        return network_name(name)
    except ValueError:
        return name


@styled
def latency_figure(timings, *, reference: str):
    """Forward time per image against MACs per image, both on log axes, every network labelled.

    ``timings`` are :class:`convnets.latency.Timing`; networks with depthwise convolutions are
    drawn as vermillion squares, the others as blue circles. The solid line is the time
    the ``reference`` network's time per MAC predicts for every MAC count; the dotted lines
    are 2, 4 and 8 times that, so a point's height above the line reads as a factor.
    """
    timings = _check_timings(timings)
    names = [t.name for t in timings]
    if reference not in names:
        raise ValueError(f"reference must be one of the timed networks {names}, got {reference!r}")
    rate = timings[names.index(reference)].seconds / timings[names.index(reference)].macs
    fig, ax = figure(width=MAX_WIDTH, height=4.8)
    macs = np.array([t.macs for t in timings]) / 1e6
    ms = np.array([t.seconds for t in timings]) * 1e3
    lo, hi = macs.min() / 2.5, macs.max() * 2.5
    line = np.array([lo, hi])
    for factor, style in ((1, "-"), (2, ":"), (4, ":"), (8, ":")):
        ax.plot(line, factor * rate * line * 1e9, color="0.45", linestyle=style, linewidth=1, zorder=1, gid="guide")
    labelled = []
    for t, x, y in zip(timings, macs, ms, strict=True):
        depthwise = "depthwise convolution" in t.by_kind       # a kind is there when its layers are
        colour = OKABE_ITO["vermillion"] if depthwise else OKABE_ITO["blue"]
        ax.plot(x, y, marker="s" if depthwise else "o", color=colour, markersize=7, linestyle="none", zorder=3)
        labelled.append((x, y, _name(t.name), colour))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    top = ms.max() * 3
    ax.set_ylim(ms.min() / 2.2, top)
    _plain_log_ticks(ax)
    ax.set_xlabel(f"multiply-accumulates per image (millions, log scale, {timings[0].input_size}×"
                  f"{timings[0].input_size} input)")
    ax.set_ylabel("forward time per image (ms, log scale)")
    ax.grid(True, which="major", alpha=0.25)
    _renderer(fig)
    for factor in (1, 2, 4, 8):               # name each line along it, just inside where it leaves the axes
        x = min(hi, top / (factor * rate * 1e9)) / 1.1
        y = factor * rate * x * 1e9
        (x0, y0), (x1, y1) = ax.transData.transform([(x, y), (2 * x, 2 * y)])
        angle = np.degrees(np.arctan2(y1 - y0, x1 - x0))
        label = f"{_name(reference)}'s rate" if factor == 1 else f"{factor} times"
        ax.text(x, y * 1.1, label, fontsize=10, color="0.3", ha="right", va="bottom", rotation=angle,
                rotation_mode="anchor")
    place_labels(ax, labelled, strict=False)          # measured data: place every label, as well as it goes
    return fig


@styled
def time_share_figure(timings):
    """For each network, two stacked bars: where its MACs are and where its time goes, by kind of layer.

    ``timings`` are :class:`convnets.latency.Timing` with ``by_kind`` filled (see
    :func:`convnets.latency.forward_time`). The colours are :data:`KIND_COLOURS`; the legend
    sits above the bars.
    """
    from matplotlib.patches import Patch

    from .latency import KINDS

    timings = _check_timings(timings)
    fig, ax = figure(width=MAX_WIDTH, height=0.62 * len(timings) + 1.6)
    ticks, names = [], []
    for i, t in enumerate(timings):
        y_macs, y_time = -3 * i, -3 * i - 1
        left = {"MACs": 0.0, "time": 0.0}
        for kind in KINDS:
            time_share, mac_share = t.share(kind)
            for bar, y, width in (("MACs", y_macs, mac_share), ("time", y_time, time_share)):
                if width > 0:
                    ax.barh(y, 100 * width, left=100 * left[bar], height=0.9, color=KIND_COLOURS[kind],
                            edgecolor="white", linewidth=0.5)
                    left[bar] += width
        ticks += [y_macs, y_time]
        names += [f"{_name(t.name)}: MACs", "time"]
    ax.set_yticks(ticks, names)
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of the network's MACs, and of its forward time (%)")
    handles = [Patch(color=KIND_COLOURS[k], label=k) for k in KINDS if any(k in t.by_kind for t in timings)]
    fig.legend(handles=handles, loc="outside upper center", ncols=2, frameon=False)
    ax.grid(True, axis="x", alpha=0.3)
    return fig


@styled
def regnet_widths_figure(rule, *, name: str = ""):
    """RegNet's quantised linear rule for one model, block by block (log width axis).

    ``rule`` is a :class:`convnets.architectures.RegNetWidths`. Drawn: the linear ramp u_j
    (eq. 2 of Radosavovic et al., 2020), the widths w_0 * w_m ** round(s_j) it is rounded to
    (eq. 4: whole powers of w_m, so equal steps on the log axis), and as thick bars the stage
    widths the network uses (each run of equal widths, rounded to multiples of 8 and fitted
    to the group width), each labelled with its width.
    """
    from .architectures import RegNetWidths

    if not isinstance(rule, RegNetWidths):
        raise TypeError(f"rule must be a convnets.architectures.RegNetWidths, got {type(rule).__name__}")
    j = np.arange(len(rule.u))
    last = len(j) - 1
    fig, ax = figure(width=MAX_WIDTH, height=4.2)
    ax.plot(j, rule.u, color=OKABE_ITO["vermillion"], marker="o", markersize=4, linewidth=1.2)
    ax.step(j, rule.powers, where="mid", color=OKABE_ITO["sky"], linestyle="--", linewidth=1.4)
    start = 0
    for width, depth in zip(rule.stage_widths, rule.stage_depths, strict=True):
        ax.hlines(width, start - 0.4, start + depth - 0.6, color=OKABE_ITO["blue"], linewidth=3.2)
        ax.text(start - 0.4, width * 1.07, f"{width}", ha="right" if start == 0 else "left", va="bottom",
                fontsize=10, color=OKABE_ITO["blue"])
        start += depth
    ax.set_yscale("log")
    _plain_log_ticks(ax, "y")
    top = max(max(rule.u), max(rule.stage_widths)) * 2.2
    ax.set_ylim(min(rule.u) / 1.6, top)
    ax.set_xlim(-1.6, len(j))
    k = int(round(0.55 * last))                 # where the notes point at the ramp and at the rounded steps
    ax.annotate("linear ramp of widths (eq. 2)", (k, rule.u[k]), xytext=(0.78 * last, rule.u[0] * 1.6),
                ha="center", fontsize=10, color=OKABE_ITO["vermillion"],
                arrowprops=dict(arrowstyle="-", color=OKABE_ITO["vermillion"], lw=0.8, shrinkB=3))
    first_step = next(i for i in j if rule.steps[i] > 0)
    ax.annotate("rounded to whole powers of $w_m$ (eq. 4)", (first_step, rule.powers[first_step]),
                xytext=(0, top / 1.5), ha="left", va="top", fontsize=10, color="#1F77B4",
                arrowprops=dict(arrowstyle="-", color=OKABE_ITO["sky"], lw=0.8, shrinkB=3))
    ax.set_xlabel(f"block j (0 to {last}){', ' + name if name else ''}; thick bars: the stages' widths")
    ax.set_ylabel("width (channels, log scale)")
    ax.grid(True, which="major", alpha=0.25)
    return fig


# ---- depthwise and efficientnet pages: ReLU on a low-dimensional manifold; released models against a rule
@styled
def relu_manifold_figure(result, show=(2, 3, 15, 30)):
    """The input spiral and pinv(T) ReLU(T x) for the embedding dimensions ``show``, as in Sandler et al.'s
    (2018) Fig. 1: one panel each, in rows of three, points coloured by their position along the spiral.

    ``result`` is a :class:`convnets.experiments.ReluManifold`; every n in ``show`` must be in ``result.back``.
    """
    missing = [n for n in show if n not in result.back]
    if missing:
        raise ValueError(f"show must name dimensions the experiment ran, {sorted(result.back)}; got {missing}")
    panels = [("input: a 2-D spiral", result.spiral)] + [(f"n = {n}", result.back[n]) for n in show]
    rows = int(np.ceil(len(panels) / 3))
    fig, axes = figure(3, rows, height=2.2 * rows + 0.2)
    colour = np.linspace(0, 1, len(result.spiral))
    for ax, (title, points) in zip(np.ravel(axes), panels, strict=False):
        ax.scatter(points[:, 0], points[:, 1], c=colour, cmap="viridis", s=6, linewidths=0)
        ax.set_title(title)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in np.ravel(axes)[len(panels):]:
        ax.axis("off")
    lost = {n: f"{100 * f:.0f}%" for n, f in zip(result.dims, result.lost, strict=True) if n in show}
    fig.alt = (f"{len(panels)} scatter plots: a 2-D spiral, then its image after a random embedding in n "
               f"dimensions, ReLU and projection back with the pseudo-inverse, for n = "
               f"{', '.join(map(str, show))}. Where ReLU keeps at most one coordinate, arcs of the spiral fold "
               f"onto straight segments: on average " + ", ".join(f"{v} of the points at n = {n}"
                                                                   for n, v in lost.items()) + ".")
    return fig


@styled
def relu_loss_figure(result):
    """Against the embedding dimension n: the fraction of spiral points that are not invertible from ReLU(T x)
    (at most one non-zero coordinate), and the relative error of the best linear map back (a
    :class:`convnets.experiments.ReluManifold`)."""
    fig, ax = figure(width=5.5, height=3.4)
    ax.plot(result.dims, result.lost, color=OKABE_ITO["vermillion"], marker="o",
            label="points not invertible from ReLU(Tx)")
    ax.plot(result.dims, result.linear_error, color=OKABE_ITO["blue"], marker="s", linestyle="--",
            label="error of the best linear map back")
    ax.set_xscale("log")
    ax.set_xticks(result.dims, [str(n) for n in result.dims])
    ax.minorticks_off()
    ax.set_xlabel("dimension n of the space the spiral is embedded in (log scale)")
    ax.set_ylabel("fraction")
    ax.set_ylim(0, None)
    ax.grid(True, alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=1, frameon=False)
    fig.alt = (f"Two falling curves against n from {result.dims[0]} to {result.dims[-1]}: the fraction of points "
               f"not invertible from ReLU(Tx) falls from {result.lost[0]:.2f} to {result.lost[-1]:.2f}, the error of "
               f"the best linear map back from {result.linear_error[0]:.2f} to {result.linear_error[-1]:.3f}.")
    return fig


@styled
def released_vs_rule_figure(models, ratios: dict):
    """Each released model's coefficient divided by what a scaling rule gives, one line per dimension.

    ``models`` labels the x axis (e.g. "B1" ... "B7"); ``ratios`` maps a dimension's name to one ratio per
    model. A dashed line marks 1, the rule itself.
    """
    if not ratios:
        raise ValueError("ratios must name at least one dimension")
    for name, values in ratios.items():
        if len(values) != len(models):
            raise ValueError(f"ratios[{name!r}] has {len(values)} values for {len(models)} models")
    fig, ax = figure(width=5.5, height=3.6)
    styles = [dict(color=OKABE_ITO["blue"], marker="s"), dict(color=OKABE_ITO["vermillion"], marker="o"),
              dict(color=OKABE_ITO["green"], marker="^"), dict(color=OKABE_ITO["purple"], marker="D")]
    x = np.arange(len(models))
    ax.axhline(1.0, color="0.35", linestyle="--", linewidth=1)
    for (name, values), style in zip(ratios.items(), styles * len(ratios), strict=False):
        ax.plot(x, values, label=name, **style)
    ax.set_xticks(x, list(models))
    ax.set_xlabel("model")
    ax.set_ylabel("released ÷ rule")
    ax.grid(True, alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=len(ratios), frameon=False)
    fig.alt = ("Released coefficient divided by the rule's, for models " + ", ".join(models) + "; a dashed line at 1. "
               + "; ".join(f"{name}: " + ", ".join(f"{v:.2f}" for v in values) for name, values in ratios.items())
               + ".")
    return fig


# ---- residual pages: training curves of two variants, Euler errors
VARIANT_STYLES = {"post-activation": dict(color=OKABE_ITO["orange"], marker="o"),
                  "pre-activation": dict(color=OKABE_ITO["green"], marker="s")}


@styled
def variant_training_figure(histories: dict):
    """Training loss of every mini-batch of networks trained alike, one line each, on a log scale.

    ``histories`` maps a label to a :class:`convnets.experiments.History` holding its
    ``batch_loss``; labels found in ``VARIANT_STYLES`` ("post-activation",
    "pre-activation") get their colours and markers. The x axis counts epochs; a dashed
    line marks ln 10, the loss of a uniform guess over ten classes. The alt text states
    each run's first and last mini-batch loss, last-epoch mean loss and final test error.
    """
    nonempty_dict("histories", histories, "{label: History}")
    fig, ax = figure(width=5.2, height=3.4)
    ends = []
    for i, (label, h) in enumerate(histories.items()):
        losses = _batch_loss_line(ax, label, h, label=label, **VARIANT_STYLES.get(label, dict(marker="os^vD"[i % 5])))
        test = f", test error {100 * h.test_error[-1]:.1f}%" if len(h.test_error) else ""
        ends.append(f"{label} from {losses[0]:.2f} at the first mini-batch to {losses[-1]:.2f} at the last, "
                    f"mean over the last epoch {h.train_loss[-1]:.3f}{test}")
    _chance_line(ax)
    ax.set_ylabel("training loss (log scale)")
    ax.set_xlabel("epoch")
    ax.set_xlim(0, None)
    epochs = len(next(iter(histories.values())).train_loss)
    ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True) if epochs > 1 else ticker.MultipleLocator(0.25))
    ax.grid(True, which="both", alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=2, frameon=False)
    fig.alt = (f"Log-scale line chart of the training loss of every mini-batch over {_epochs(epochs)}, one line per "
               f"network, a dashed line at ln 10: " + "; ".join(ends) + ".")
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
