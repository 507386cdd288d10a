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
from matplotlib.figure import Figure

from .checks import positive_int

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
def gradient_flow_figure(panels: dict, *, quantity: str = "input_grad", ylabel: str | None = None):
    """One panel per setting; each shows plain vs residual gradient norms against block index.

    ``panels`` maps a panel title to a pair ``(plain, residual)`` of
    :class:`convnets.experiments.GradientFlow`. ``quantity`` is ``"input_grad"``
    (gradient reaching each block) or ``"weight_grad"`` (each block's weight gradient).
    """
    if quantity not in ("input_grad", "weight_grad"):
        raise ValueError(f"quantity must be 'input_grad' or 'weight_grad', got {quantity!r}")
    fig, axes = figure(1, len(panels), height=2.3 * len(panels) + 0.6, sharex=True)
    axes = np.atleast_1d(axes)
    for ax, (title, (plain, residual)) in zip(axes, panels.items(), strict=True):
        for result, label, style in ((plain, "plain", PLAIN_STYLE), (residual, "residual", RESIDUAL_STYLE)):
            values = getattr(result, quantity)
            ax.semilogy(np.arange(len(values)), values, label=label, markevery=max(1, len(values) // 8),
                        markersize=4, **style)
        ax.set_title(title.replace("\n", " "), loc="left")
        ax.grid(True, which="major", alpha=0.3)
    axes[-1].set_xlabel("block (0 = input side)")
    fig.supylabel(ylabel or ("norm of the gradient reaching the block" if quantity == "input_grad"
                             else "norm of the block's weight gradient"), fontsize=11)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper right", ncols=2, frameon=False)
    return fig


@styled
def series_figure(x, series: dict, *, xlabel: str, ylabel: str, logy: bool = False, styles: dict | None = None,
                  width: float = 5.5, height: float = 3.4):
    """A simple line plot of several named series against ``x``."""
    fig, ax = figure(width=width, height=height)
    for i, (label, y) in enumerate(series.items()):
        style = (styles or {}).get(label, dict(marker="os^vD"[i % 5]))
        ax.plot(x, y, label=label, **style)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False)
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
def euler_figure(flow):
    """Left: residual-stack trajectories against the exact ODE solution; right: error against depth."""
    fig, (left, right) = figure(1, 2, width=5.0, height=7.0)
    left.plot(flow.exact[:, 0], flow.exact[:, 1], color=OKABE_ITO["black"], linewidth=1.5, label="exact ODE")
    for depth, colour, marker in zip(sorted(flow.paths)[1:5:2], (OKABE_ITO["vermillion"], OKABE_ITO["blue"]), "os",
                                     strict=False):
        path = flow.paths[depth]
        left.plot(path[:, 0], path[:, 1], color=colour, marker=marker, markersize=3, linewidth=1,
                  label=f"{depth} residual blocks")
    left.set_aspect("equal")
    left.set_xlabel("$x_1$")
    left.set_ylabel("$x_2$")
    left.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    right.loglog(flow.depths, flow.errors, color=OKABE_ITO["blue"], marker="s", label="measured")
    right.loglog(flow.depths, flow.errors[0] * flow.depths[0] / flow.depths, color="0.4", linestyle="--",
                 label="slope $-1$")
    right.set_xlabel("number of residual blocks $L$")
    right.set_ylabel("error at the output")
    right.grid(True, which="both", alpha=0.3)
    right.legend(frameon=False)
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
    """Against the embedding dimension n: the fraction of spiral points whose position ReLU destroys, and
    the relative error of the best linear map back (a :class:`convnets.experiments.ReluManifold`)."""
    fig, ax = figure(width=5.5, height=3.4)
    ax.plot(result.dims, result.lost, color=OKABE_ITO["vermillion"], marker="o",
            label="points whose 2-D position is lost")
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
               f"whose position is lost falls from {result.lost[0]:.2f} to {result.lost[-1]:.2f}, the error of "
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
