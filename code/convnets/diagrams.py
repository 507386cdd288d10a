"""Block diagrams drawn from the definitions: one definition is counted, run and drawn.

A :mod:`convnets.spec` tree is laid out by one recursive rule per container, so a
new block needs no drawing code:

* ``Seq`` stacks its items along the data path, joined by arrows;
* ``Residual`` puts the body in one column and the shortcut (a bare arrow labelled
  "identity", or its own boxes) in a column beside it; they meet at a ``+`` node;
* ``Concat`` puts its branches side by side; they meet at a "concat" bar;
* ``DenseConcat`` carries its input beside the body into a "concat" bar;
* ``Gate`` sends the gate branch off to the side and back into a ``×`` node.

Boxes are labelled as the papers write them ("3×3 conv, 64, /2", "DW 5×5", "BN",
"ReLU", "max pool 3×3, /2", "FC 1000"); any other leaf is labelled through
:func:`convnets.spec.describe`. Output shapes and parameter counts come from
:func:`convnets.accounting.walk`, the traversal that counts the network.

:func:`layout` returns the abstract picture (boxes, merge nodes, edges, labels, in
points); :func:`draw` paints it on a :class:`Diagram`, a matplotlib ``Figure`` made
without pyplot that shows itself as SVG in a notebook and carries its alt text in
``.alt``. :func:`shape_ribbons` draws how channels and resolution change along the
depth of whole networks. :func:`min_text_px` measures the smallest text of any
figure as rendered on a page.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import math
import re
from dataclasses import dataclass, field

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path
from matplotlib.textpath import TextToPath

from . import spec
from .accounting import check_network, count, walk
from .checks import nonempty_dict, one_of, positive_int
from .plotting import OKABE_ITO, smallest_text_pt
from .spec import (
    CONTAINERS,
    LRN,
    Act,
    AdaptiveAvgPool,
    AvgPool,
    BatchNorm,
    Concat,
    Conv,
    DenseConcat,
    Dropout,
    Gate,
    GlobalAvgPool,
    Linear,
    MaxPool,
    Residual,
    Scale,
    Seq,
    describe,
)

# ------------------------------------------------------------------ sizes (points)
FONT_FAMILY = "DejaVu Sans"   # ships with matplotlib: the same glyphs everywhere
FONT = 11.0                   # box labels
SMALL = 10.0                  # shapes, parameter counts, "identity"
SYMBOL = 14.0                 # + and × in merge nodes
LINE = 1.25                   # line spacing of multi-line labels
PAD_X, PAD_Y = 7.0, 5.5       # text padding inside a box
GAP_M = 13.0                  # arrow length between consecutive items
GAP_C = 16.0                  # space between side-by-side columns
SPLIT = 7.0                   # from a container's entry to its split point
STUB = 16.0                   # input and output arrows of a whole diagram
ANNOT_GAP = 6.0               # box edge to its annotation
RADIUS = 8.5                  # + and × nodes
BAR = 19.0                    # thickness of a concat bar
MARGIN = 6.0                  # around the whole figure

_EDGE_COLOUR = "#222222"
_TEXT_COLOUR = "#000000"
_NOTE_COLOUR = "#333333"


def _tint(colour: str, amount: float) -> str:
    """``colour`` mixed with white: ``amount`` = 1 is the colour, 0 is white."""
    rgb = np.array(matplotlib.colors.to_rgb(colour))
    return matplotlib.colors.to_hex(1 - amount * (1 - rgb))


def _shade(colour: str, amount: float) -> str:
    """``colour`` darkened towards black by ``amount``."""
    return matplotlib.colors.to_hex(np.array(matplotlib.colors.to_rgb(colour)) * (1 - amount))


#: fill and edge colour of each kind of box, from the chapter's Okabe-Ito palette (labels carry the
#: meaning; colour only groups kinds, so nothing rests on colour alone)
KIND_STYLE = {
    "conv": (_tint(OKABE_ITO["sky"], 0.40), OKABE_ITO["blue"]),
    "norm": (_tint(OKABE_ITO["yellow"], 0.45), _shade(OKABE_ITO["yellow"], 0.45)),
    "activation": (_tint(OKABE_ITO["green"], 0.30), OKABE_ITO["green"]),
    "pooling": (_tint(OKABE_ITO["orange"], 0.35), _shade(OKABE_ITO["orange"], 0.2)),
    "linear": (_tint(OKABE_ITO["purple"], 0.35), _shade(OKABE_ITO["purple"], 0.25)),
    "other": ("#EEEEEE", "#777777"),
    "merge": ("#FFFFFF", OKABE_ITO["vermillion"]),
}
KINDS = tuple(KIND_STYLE)

#: what papers call layers that :func:`convnets.spec.describe` names by their type
_NAMES = {"BatchNorm": "BN", "LayerNorm": "LN", "GroupNorm": "GN", "LRN": "LRN", "LayerScale": "layer scale",
          "Flatten": "flatten", "Identity": "identity"}
_ACTS = {"relu": "ReLU", "relu6": "ReLU6", "silu": "SiLU", "sigmoid": "sigmoid", "gelu": "GELU", "tanh": "tanh"}


# -------------------------------------------------------------------- labels
def _stride(s: int) -> str:
    return f", /{s}" if s > 1 else ""


def label(leaf) -> str:
    """A leaf layer as papers write it: ``3×3 conv, 64, /2``, ``DW 5×5``, ``BN``, ``max pool 3×3, /2``, ``FC 1000``.

    Leaves this module does not know (new layer types) are named by :func:`convnets.spec.describe`.
    """
    if isinstance(leaf, Conv):
        k = f"{leaf.kernel}×{leaf.kernel}"
        if leaf.groups > 1 and leaf.groups == leaf.out:
            return f"DW {k}{_stride(leaf.stride)}"
        if leaf.groups > 1:
            return f"group conv {k}, {leaf.out}, g={leaf.groups}{_stride(leaf.stride)}"
        return f"{k} conv, {leaf.out}{_stride(leaf.stride)}"
    if isinstance(leaf, Act):
        return _ACTS.get(leaf.kind, describe(leaf))
    if isinstance(leaf, MaxPool):
        return f"max pool {leaf.kernel}×{leaf.kernel}{_stride(leaf.stride)}"
    if isinstance(leaf, AvgPool):
        return f"avg pool {leaf.kernel}×{leaf.kernel}{_stride(leaf.stride)}"
    if isinstance(leaf, AdaptiveAvgPool):
        return f"avg pool to {leaf.size}×{leaf.size}"
    if isinstance(leaf, GlobalAvgPool):
        return "global avg pool"
    if isinstance(leaf, Linear):
        return f"FC {leaf.out}"
    if isinstance(leaf, Dropout):
        return f"dropout {leaf.p:g}"
    if isinstance(leaf, Scale):
        return f"scale ×{leaf.factor:g}"
    text = describe(leaf)
    return _NAMES.get(text, text)


def kind(leaf) -> str:
    """The colour group of a leaf: conv, norm, activation, pooling, linear or other."""
    if isinstance(leaf, Conv):
        return "conv"
    if isinstance(leaf, (BatchNorm, LRN)):
        return "norm"
    if isinstance(leaf, Act):
        return "activation"
    if isinstance(leaf, (MaxPool, AvgPool, AdaptiveAvgPool, GlobalAvgPool)):
        return "pooling"
    if isinstance(leaf, Linear):
        return "linear"
    name = type(leaf).__name__
    if "Norm" in name:
        return "norm"
    if "Pool" in name:
        return "pooling"
    if "Conv" in name:
        return "conv"
    return "other"


def _is_leaf(node) -> bool:
    """A layer of :mod:`convnets.spec` (any of its dataclasses that is not a container)."""
    return (dataclasses.is_dataclass(node) and not isinstance(node, type) and not isinstance(node, CONTAINERS)
            and type(node).__module__ == spec.__name__)


def _check_definition(node, argument: str = "definition", path: str = "") -> None:
    """Raise a ``TypeError`` naming ``argument`` (and the path inside it) unless ``node`` is a spec tree."""
    if isinstance(node, Seq):
        children = [(item, item.name if isinstance(item, (Seq, Concat)) and item.name else str(i))
                    for i, item in enumerate(node.items)]
    elif isinstance(node, Residual):
        children = [(node.body, "body")] + ([(node.shortcut, "shortcut")] if node.shortcut is not None else [])
    elif isinstance(node, Concat):
        children = [(b, b.name if isinstance(b, Seq) and b.name else str(i)) for i, b in enumerate(node.branches)]
    elif isinstance(node, DenseConcat):
        children = [(node.body, node.name)]
    elif isinstance(node, Gate):
        children = [(node.gate, node.name)]
    elif _is_leaf(node):
        return
    else:
        where = f" at {path!r}" if path else ""
        raise TypeError(f"{argument}{where} must be a convnets.spec layer or container (Seq, Residual, Concat, "
                        f"DenseConcat, Gate), got {type(node).__name__}: {_short(node)}")
    for child, name in children:
        _check_definition(child, argument, f"{path}.{name}" if path else name)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _walk_structure(node, leaf, combine, path=""):
    """:func:`convnets.accounting.walk` without shapes: the same order, paths and callbacks (shapes None)."""
    if isinstance(node, Seq):
        values = []
        for i, item in enumerate(node.items):
            name = item.name if isinstance(item, (Seq, Concat)) and item.name else str(i)
            values.append(_walk_structure(item, leaf, combine, f"{path}.{name}" if path else name))
        return combine(node, values, path)
    if isinstance(node, Residual):
        body = _walk_structure(node.body, leaf, combine, f"{path}.body")
        shortcut = None if node.shortcut is None else _walk_structure(node.shortcut, leaf, combine,
                                                                      f"{path}.shortcut")
        return combine(node, [body, shortcut], path)
    if isinstance(node, Concat):
        names = [b.name if isinstance(b, Seq) and b.name else str(i) for i, b in enumerate(node.branches)]
        return combine(node, [_walk_structure(b, leaf, combine, f"{path}.{name}")
                              for b, name in zip(node.branches, names, strict=True)], path)
    if isinstance(node, DenseConcat):
        return combine(node, [_walk_structure(node.body, leaf, combine, f"{path}.{node.name}")], path)
    if isinstance(node, Gate):
        return combine(node, [_walk_structure(node.gate, leaf, combine, f"{path}.{node.name}")], path)
    return leaf(node, None, None, None, None, None, path)


def _input_shape(input_shape, definition):
    if input_shape is None:
        return None
    if isinstance(input_shape, list):
        input_shape = tuple(input_shape)
    check_network(definition if isinstance(definition, CONTAINERS) else Seq("", definition), input_shape)
    return tuple(int(v) for v in input_shape)


def shape_text(shape) -> str:
    """``(64, 56, 56)`` -> ``"64×56×56"``."""
    return "×".join(str(v) for v in shape)


# ---------------------------------------------------------------- text metrics
_TEXT_TO_PATH = TextToPath()


def _text_size(text: str, size: float, weight: str = "normal") -> tuple[float, float]:
    """Width and height in points of ``text`` (lines split on newlines) at ``size`` points."""
    prop = FontProperties(family=FONT_FAMILY, size=size, weight=weight)
    lines = text.split("\n")
    width = max(_TEXT_TO_PATH.get_text_width_height_descent(line, prop, ismath=False)[0] for line in lines)
    return width, size * (1.0 + LINE * (len(lines) - 1)) + 0.25 * size


def _wrap(text: str, size: float, width: float, weight: str = "normal") -> str:
    """Greedy word wrap of ``text`` to ``width`` points."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            trial = f"{line} {word}" if line else word
            if line and _text_size(trial, size, weight)[0] > width:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return "\n".join(lines)


# ------------------------------------------------------------------ the layout
@dataclass(frozen=True)
class Box:
    """One box: a layer (or, with ``compact``, a convolution with its BN and activation).

    ``label`` is the layer as papers write it, ``text`` what the box shows (``label`` broken into
    shorter lines with ``narrow``). ``x, y`` is the top-left corner in points, ``y`` downwards;
    ``shape`` and ``params`` are the accounting's output shape and parameter count (None without
    an input shape); ``layers`` the spec leaves the box stands for.
    """

    label: str
    kind: str
    path: str
    x: float
    y: float
    width: float
    height: float
    shape: tuple | None = None
    params: int | None = None
    layers: tuple = ()
    text: str = ""


@dataclass(frozen=True)
class Merge:
    """Where paths meet: ``op`` is ``"+"`` (Residual), ``"×"`` (Gate) or ``"concat"`` (Concat, DenseConcat)."""

    op: str
    path: str
    x: float
    y: float
    width: float
    height: float
    inputs: int
    shape: tuple | None = None


@dataclass(frozen=True)
class Edge:
    """A polyline along the data path; ``arrow``: it ends with an arrowhead at a box or merge node."""

    points: tuple
    arrow: bool


@dataclass(frozen=True)
class Label:
    """Free text: ``role`` is "annotation" (shape, params), "wire" ("identity"), "input" or "title"."""

    text: str
    x: float
    y: float
    size: float
    ha: str
    va: str
    role: str
    weight: str = "normal"


@dataclass(frozen=True)
class Layout:
    """The abstract diagram the drawer paints: everything in points, ``y`` downwards.

    ``nodes`` are the boxes and merge nodes in data-flow order (a Residual's body, then its
    shortcut, then its ``+``); ``alt`` describes what feeds what.
    """

    nodes: tuple
    edges: tuple
    labels: tuple
    dots: tuple
    width: float
    height: float
    alt: str
    direction: str = "vertical"
    parts: tuple = ()
    description: str = ""

    @property
    def boxes(self) -> tuple[Box, ...]:
        return tuple(n for n in self.nodes if isinstance(n, Box))

    @property
    def merges(self) -> tuple[Merge, ...]:
        return tuple(n for n in self.nodes if isinstance(n, Merge))

    def sequence(self) -> list[str]:
        """Box labels and merge operators in data-flow order (what a test compares with the definition)."""
        return [n.op if isinstance(n, Merge) else n.label for n in self.nodes]

    def moved(self, dx: float, dy: float) -> Layout:
        def move(item):
            if isinstance(item, Edge):
                return Edge(tuple((x + dx, y + dy) for x, y in item.points), item.arrow)
            return dataclasses.replace(item, x=item.x + dx, y=item.y + dy)

        return dataclasses.replace(
            self, nodes=tuple(move(n) for n in self.nodes), edges=tuple(move(e) for e in self.edges),
            labels=tuple(move(t) for t in self.labels), dots=tuple((x + dx, y + dy) for x, y in self.dots),
            parts=tuple((title, part.moved(dx, dy)) for title, part in self.parts))


# Internally a layout is built in (m, c) coordinates: m along the data path (down, or right when
# horizontal), c across it. Each subtree is an _El: a rectangle M x C with its entry at (0, cin) and
# its exit at (M, cout); parents translate their children's primitives.
@dataclass(frozen=True)
class _B:                      # box
    m: float
    c: float
    mm: float
    cc: float
    label: str
    kind: str
    path: str
    shape: tuple | None
    params: int | None
    layers: tuple
    text: str


@dataclass(frozen=True)
class _Mg:                     # merge node: (m, c) top-left, extents mm x cc
    m: float
    c: float
    mm: float
    cc: float
    op: str
    path: str
    inputs: int
    shape: tuple | None


@dataclass(frozen=True)
class _L:                      # polyline
    pts: tuple
    arrow: bool


@dataclass(frozen=True)
class _T:                      # text anchored at its centre along m and its start along c
    m: float
    c: float
    text: str
    size: float
    role: str
    mm: float
    cc: float


@dataclass(frozen=True)
class _D:                      # junction dot
    m: float
    c: float


def _move(item, dm: float, dc: float):
    if isinstance(item, _L):
        return _L(tuple((m + dm, c + dc) for m, c in item.pts), item.arrow)
    return dataclasses.replace(item, m=item.m + dm, c=item.c + dc)


@dataclass(frozen=True)
class _El:
    M: float
    C: float
    cin: float
    cout: float
    items: tuple
    alt: str
    head_in: bool = True        # the entry is a box or merge node (arrowhead needed)
    lead_in: float = 0.0        # from the element's top to the entry port
    lead_out: float = 0.0       # from the exit port to the element's bottom
    inp: tuple | None = None    # input and output shapes (None without an input shape)
    out: tuple | None = None
    leaf: object = None         # the spec leaf of a one-layer element (compact mode merges these)
    params: int | None = None
    path: str = ""
    empty: bool = False         # a bare wire (empty Seq)
    merges: bool = False        # ends in a + or concat node (the alt text then says "; then")

    def moved(self, dm: float, dc: float) -> tuple:
        return tuple(_move(i, dm, dc) for i in self.items)


class _Builder:
    """The leaf and combine callbacks of the walk that turns a definition into an _El tree."""

    def __init__(self, *, direction: str, shapes: bool, params: bool, compact: bool, narrow: bool,
                 box_span: float):
        self.vertical = direction == "vertical"
        self.shapes, self.params, self.compact, self.narrow = shapes, params, compact, narrow
        self.box_span = box_span          # uniform box width (vertical) or height (horizontal)

    def mc(self, w: float, h: float) -> tuple[float, float]:
        """A (width, height) extent in (along, across) the data path."""
        return (h, w) if self.vertical else (w, h)

    # ---------------------------------------------------------------- leaves
    def leaf(self, node, in_shape, out, params, macs, weighted, path):
        text = label(node)
        changes = in_shape is not None and tuple(in_shape) != tuple(out)
        return self.box(text, kind(node), path, in_shape, out, params, (node,), text, leaf=node,
                        show_shape=bool(weighted) or changes)

    def box(self, text, box_kind, path, inp, out, params, layers, alt, leaf=None, show_shape=True):
        shown = "\n".join(_narrow(line) for line in text.split("\n")) if self.narrow else text
        w, h = _text_size(shown, FONT)
        w, h = w + 2 * PAD_X, h + 2 * PAD_Y
        notes = self.annotation(out if show_shape else None, params)
        if notes:
            h = max(h, _text_size(notes, SMALL)[1] + 2)
        if self.vertical:
            w = max(w, self.box_span)
        else:
            h = max(h, self.box_span)
        mm, cc = self.mc(w, h)
        items = [_B(0.0, 0.0, mm, cc, text, box_kind, path, out, params, layers, shown)]
        M, C, m0 = mm, cc, 0.0
        if notes:
            tm, tc = self.mc(*_text_size(notes, SMALL))
            M = max(mm, tm)
            m0 = (M - mm) / 2
            items = [_move(items[0], m0, 0.0), _T(M / 2, cc + ANNOT_GAP, notes, SMALL, "annotation", tm, tc)]
            C = cc + ANNOT_GAP + tc
        return _El(M, C, cc / 2, cc / 2, tuple(items), alt, True, m0, m0, inp, out, leaf, params, path)

    def annotation(self, shape, params) -> str:
        lines = []
        if self.shapes and shape is not None:
            lines.append(shape_text(shape))
        if self.params and params:
            lines.append(f"{params:,} params")
        return "\n".join(lines)

    def wire(self, inp=None) -> _El:
        span = self.box_span
        return _El(0.0, span, span / 2, span / 2, (), "", False, inp=inp, out=inp, empty=True)

    # ------------------------------------------------------------ containers
    def combine(self, node, values, path):
        if isinstance(node, Seq):
            return self.seq([v for v in values if not v.empty], path)
        if isinstance(node, Residual):
            body, shortcut = values
            return self.side_merge(body, shortcut, "+", path, "identity")
        if isinstance(node, Concat):
            return self.concat(values, path)
        if isinstance(node, DenseConcat):
            return self.side_merge(values[0], None, "concat", path, "input")
        if isinstance(node, Gate):
            return self.side_merge(self.wire(values[0].inp), values[0], "×", path, "")
        raise TypeError(f"{path}: unknown container {type(node).__name__}")

    def merged(self, run: list[_El], weighted: _El) -> _El:
        """A convolution (or FC layer) with the BN and activation around it, as one box."""
        others = ", ".join(label(r.leaf) for r in run if r is not weighted)
        first = weighted.leaf is run[0].leaf
        text = f"{label(weighted.leaf)}\n{others}" if first else f"{others}\n{label(weighted.leaf)}"
        params = None if weighted.params is None else sum(r.params or 0 for r in run)
        return self.box(text, "conv" if isinstance(weighted.leaf, Conv) else "linear", weighted.path,
                        run[0].inp, run[-1].out, params, tuple(r.leaf for r in run),
                        " + ".join(r.alt for r in run), show_shape=True)

    def compacted(self, children: list[_El]) -> list[_El]:
        """Merge runs "conv, BN?, act?" (post-activation) and "BN?, act?, conv" (pre-activation)."""
        result, i = [], 0

        def at(j, cls):
            return j < len(children) and isinstance(children[j].leaf, cls)

        while i < len(children):
            j = i
            if at(j, (Conv, Linear)):                          # conv, BN?, act?
                j += 1
                j += at(j, BatchNorm)
                j += at(j, Act)
                weighted = children[i]
            else:                                              # BN?, act?, conv
                j += at(j, BatchNorm)
                j += at(j, Act)
                if j > i and at(j, (Conv, Linear)):
                    weighted = children[j]
                    j += 1
                else:
                    j, weighted = i + 1, None
            run = children[i:j]
            result.append(self.merged(run, weighted) if weighted is not None and len(run) > 1 else children[i])
            i = j if weighted is not None and len(run) > 1 else i + 1
        return result

    def seq(self, children: list[_El], path: str) -> _El:
        if self.compact:
            children = self.compacted(children)
        if not children:
            return self.wire()
        if len(children) == 1:
            return children[0]
        offsets = [0.0]
        for before, after in zip(children, children[1:], strict=False):
            offsets.append(offsets[-1] + before.cout - after.cin)
        low = min(offsets)
        offsets = [o - low for o in offsets]
        items, m = [], 0.0
        for i, (child, dc) in enumerate(zip(children, offsets, strict=True)):
            if i:
                before = children[i - 1]
                start = (m - GAP_M - before.lead_out, offsets[i - 1] + before.cout)
                items.append(_L((start, (m + child.lead_in, dc + child.cin)), child.head_in))
            items += child.moved(m, dc)
            m += child.M + GAP_M
        first, last = children[0], children[-1]
        return _El(m - GAP_M, max(o + ch.C for o, ch in zip(offsets, children, strict=True)),
                   offsets[0] + first.cin, offsets[-1] + last.cout, tuple(items),
                   _join(children), first.head_in, first.lead_in, last.lead_out,
                   first.inp, last.out, path=path, merges=last.merges)

    def side_merge(self, main: _El, side: _El | None, op: str, path: str, wire_label: str) -> _El:
        """``main`` down the middle, ``side`` (or a labelled bare wire) beside it, meeting at ``op``."""
        top = SPLIT + GAP_M
        items = list(main.moved(top, 0.0))
        x_side = main.C + GAP_C
        items.append(_L(((0.0, main.cin), (SPLIT, main.cin)), False))
        items.append(_D(SPLIT, main.cin))
        items.append(_L(((SPLIT, main.cin), (top + main.lead_in, main.cin)), main.head_in))
        note = None
        if side is None:
            c_side_in = c_side_out = x_side
            side_M, side_C, side_end = 0.0, 0.0, SPLIT
            if wire_label:
                tm, tc = self.mc(*_text_size(wire_label, SMALL))
                side_C = 4.0 + tc
                side_M = tm + 2 * GAP_M
                note = (wire_label, tm, tc)
            items.append(_L(((SPLIT, main.cin), (SPLIT, c_side_in)), False))
        else:
            items += side.moved(top, x_side)
            c_side_in, c_side_out = x_side + side.cin, x_side + side.cout
            side_M, side_C = side.M, side.C
            side_end = top + side.M - side.lead_out
            items.append(_L(((SPLIT, main.cin), (SPLIT, c_side_in), (top + side.lead_in, c_side_in)), side.head_in))
        bottom = top + max(main.M, side_M) + GAP_M
        main_end = (top + main.M - main.lead_out, main.cout)
        if op == "concat":
            out = _concat_shape([main.inp, main.out])
            c0 = main.cout - self.box_span / 2 if self.vertical else main.cout - 10.0
            width = max(c_side_out + 12.0 - c0, _text_size("concat", FONT)[0] + 2 * PAD_X)
            items.append(_L((main_end, (bottom, main.cout)), True))
            items.append(_L(((side_end, c_side_out), (bottom, c_side_out)), True))
            items.append(_Mg(bottom, c0, BAR, width, "concat", path, 2, out))
            M, C = bottom + BAR, max(main.C, x_side + side_C, c0 + width)
            shape_note = self.annotation(out, None)
            if shape_note:
                tm, tc = self.mc(*_text_size(shape_note, SMALL))
                items.append(_T(bottom + BAR / 2, c0 + width + ANNOT_GAP, shape_note, SMALL, "annotation", tm, tc))
                C = max(C, c0 + width + ANNOT_GAP + tc)
            alt = f"{main.alt}; its output concatenated with its input (concat)"
            centre = bottom
        else:
            centre = bottom + RADIUS
            items.append(_L((main_end, (bottom, main.cout)), True))
            items.append(_L(((side_end, c_side_out), (centre, c_side_out), (centre, main.cout + RADIUS)), True))
            items.append(_Mg(bottom, main.cout - RADIUS, 2 * RADIUS, 2 * RADIUS, op, path, 2, main.out))
            M, C = bottom + 2 * RADIUS, max(main.C, x_side + side_C)
            out = main.out if op == "+" else side.inp
            if op == "+":
                where = "the identity shortcut" if side is None else f"the projection shortcut {side.alt}"
                alt = f"{main.alt or 'identity'}; added (+) to {where}"
            else:
                alt = f"multiplied (×) channel by channel by the gate ({side.alt})"
        if note:                                   # the bare wire's label, half-way down it
            text, tm, tc = note
            items.append(_T((SPLIT + centre) / 2, x_side + 4.0, text, SMALL, "wire", tm, tc))
        return _El(M, C, main.cin, main.cout, tuple(items), alt, False, 0.0, 0.0, main.inp, out, path=path,
                   merges=op != "×")

    def concat(self, branches: list[_El], path: str) -> _El:
        top = SPLIT + GAP_M
        items, c, ins, outs = [], 0.0, [], []
        for b in branches:
            items += b.moved(top, c)
            ins.append(c + b.cin)
            outs.append(c + b.cout)
            c += b.C + GAP_C
        cin = (ins[0] + ins[-1]) / 2
        cout = (outs[0] + outs[-1]) / 2
        items.append(_L(((0.0, cin), (SPLIT, cin)), False))
        items.append(_L(((SPLIT, ins[0]), (SPLIT, ins[-1])), False))
        items.append(_D(SPLIT, cin))
        for b, x in zip(branches, ins, strict=True):
            items.append(_L(((SPLIT, x), (top + b.lead_in, x)), b.head_in))
        bottom = top + max(b.M for b in branches) + GAP_M
        for b, x in zip(branches, outs, strict=True):
            items.append(_L(((top + b.M - b.lead_out, x), (bottom, x)), True))
        text_w = _text_size("concat", FONT)[0] + 2 * PAD_X
        width = max(outs[-1] - outs[0] + 2 * 12.0, text_w)
        c0 = cout - width / 2
        shape = _concat_shape([b.out for b in branches])
        items.append(_Mg(bottom, c0, BAR, width, "concat", path, len(branches), shape))
        C = max(c - GAP_C, c0 + width)
        note = self.annotation(shape, None)
        if note:
            tm, tc = self.mc(*_text_size(note, SMALL))
            items.append(_T(bottom + BAR / 2, c0 + width + ANNOT_GAP, note, SMALL, "annotation", tm, tc))
            C = max(C, c0 + width + ANNOT_GAP + tc)
        shift = max(0.0, -c0)
        if shift:
            items = [_move(i, 0.0, shift) for i in items]
        parts = "; ".join(f"({i + 1}) {b.alt or 'identity'}" for i, b in enumerate(branches))
        alt = f"{len(branches)} parallel branches: {parts}; concatenated on channels (concat)"
        return _El(bottom + BAR, C + shift, cin + shift, cout + shift, tuple(items), alt, False,
                   inp=branches[0].inp, out=shape, path=path, merges=True)


def _join(children: list[_El]) -> str:
    """Alt texts in order: "a → b", but "...; then b" after a block that ends in a + or concat node."""
    text, merges = "", False
    for child in children:
        if child.alt:
            text += ("" if not text else "; then " if merges else " → ") + child.alt
            merges = child.merges
    return text


def _narrow(text: str) -> str:
    """A label on two shorter lines: ``3×3 conv, 128, /2`` -> ``3×3 conv`` / ``128, /2``."""
    if len(text) <= 10:
        return text
    for prefix in ("max pool ", "avg pool ", "global avg "):
        if text.startswith(prefix):
            return prefix.rstrip() + "\n" + text[len(prefix):]
    if ", " in text:
        head, tail = text.split(", ", 1)
        return f"{head}\n{tail}"
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    if not spaces:
        return text
    cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
    return text[:cut] + "\n" + text[cut + 1:]


def _concat_shape(shapes):
    """Channels summed, spatial size kept; None when a shape is unknown."""
    if any(s is None for s in shapes):
        return None
    return (sum(s[0] for s in shapes), *shapes[0][1:])


def _build(definition, input_shape, builder: _Builder) -> _El:
    if input_shape is None:
        return _walk_structure(definition, builder.leaf, builder.combine)
    return walk(definition, input_shape, builder.leaf, builder.combine)[1]


def _flatten(el: _El, builder: _Builder, input_shape) -> Layout:
    """Add the input and output arrows, fit everything in a rectangle, and turn (m, c) into (x, y)."""
    items = list(el.items)
    stub = STUB
    if builder.shapes and input_shape is not None:
        text = f"input {shape_text(input_shape)}"
        tm, tc = builder.mc(*_text_size(text, SMALL))
        stub = max(STUB, tm + 8.0)
        items.append(_T(-stub / 2, el.cin + 5.0, text, SMALL, "input", tm, tc))
    items.append(_L(((-stub, el.cin), (el.lead_in, el.cin)), el.head_in))
    items.append(_L(((el.M - el.lead_out, el.cout), (el.M + STUB, el.cout)), True))
    m_lo, m_hi, c_lo, c_hi = -stub, el.M + STUB, 0.0, el.C
    for it in items:
        if isinstance(it, _T):
            m_lo, m_hi = min(m_lo, it.m - it.mm / 2), max(m_hi, it.m + it.mm / 2)
            c_hi = max(c_hi, it.c + it.cc)
    items = [_move(i, MARGIN - m_lo, MARGIN - c_lo) for i in items]
    M, C = m_hi - m_lo + 2 * MARGIN, c_hi - c_lo + 2 * MARGIN
    vertical = builder.vertical

    def xy(m, c):
        return (c, m) if vertical else (m, c)

    nodes, edges, labels, dots = [], [], [], []
    for it in items:
        if isinstance(it, (_B, _Mg)):
            x, y = xy(it.m, it.c)
            w, h = (it.cc, it.mm) if vertical else (it.mm, it.cc)
            if isinstance(it, _B):
                nodes.append(Box(it.label, it.kind, it.path, x, y, w, h, it.shape, it.params, it.layers, it.text))
            else:
                nodes.append(Merge(it.op, it.path, x, y, w, h, it.inputs, it.shape))
        elif isinstance(it, _L):
            edges.append(Edge(tuple(xy(m, c) for m, c in it.pts), it.arrow))
        elif isinstance(it, _T):
            x, y = xy(it.m, it.c)
            ha, va = ("left", "center") if vertical else ("center", "top")
            labels.append(Label(it.text, x, y, it.size, ha, va, it.role))
        elif isinstance(it, _D):
            dots.append(xy(it.m, it.c))
    width, height = (C, M) if vertical else (M, C)
    where = _WHERE["vertical" if vertical else "horizontal"]
    return Layout(tuple(nodes), tuple(edges), tuple(labels), tuple(dots), width, height,
                  f"Block diagram, {where}: {el.alt or 'identity'}.", "vertical" if vertical else "horizontal",
                  (), el.alt)


_WHERE = {"vertical": "top to bottom", "horizontal": "left to right"}


def _options(*, direction="vertical", shapes=False, params=False, compact=False, narrow=False) -> dict:
    one_of("direction", direction, {"vertical", "horizontal"})
    for name, value in (("shapes", shapes), ("params", params), ("compact", compact), ("narrow", narrow)):
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, got {value!r}")
    return dict(direction=direction, shapes=shapes, params=params, compact=compact, narrow=narrow)


def _box_span(definitions, input_shapes, options: dict) -> float:
    """The common box width (vertical) or height (horizontal): the largest label decides."""
    probe = _Builder(**options, box_span=0.0)
    span = 0.0
    for definition, input_shape in zip(definitions, input_shapes, strict=True):
        for it in _build(definition, input_shape, probe).items:
            if isinstance(it, _B):
                span = max(span, it.cc)
    return span


def layout(definition, input_shape=None, *, shapes: bool = False, params: bool = False, compact: bool = False,
           narrow: bool = False, direction: str = "vertical", box_span: float | None = None) -> Layout:
    """The abstract diagram of ``definition`` (a :mod:`convnets.spec` layer or container).

    ``input_shape`` = (C, H, W) or (F,) lets the accounting give each box its output shape and
    parameter count; ``shapes`` / ``params`` print them beside the boxes (shapes where a layer has
    weights or changes the shape, parameters where there are any). ``compact`` draws a convolution
    (or FC layer) with the BN and activation after it ("conv, BN, ReLU") or before it ("BN, ReLU,
    conv") as one box. ``narrow`` puts long labels on two lines ("3×3 conv" / "128, /2").
    ``direction``: "vertical" (input at the top) or "horizontal" (input on the left). ``box_span``
    fixes the common box width (vertical) or height (horizontal), in points.
    Raises ``TypeError`` naming ``definition`` when it is not a spec tree.
    """
    _check_definition(definition)
    options = _options(direction=direction, shapes=shapes, params=params, compact=compact, narrow=narrow)
    input_shape = _input_shape(input_shape, definition)
    if (shapes or params) and input_shape is None:
        raise ValueError("shapes=True or params=True needs an input_shape, such as (64, 56, 56)")
    if box_span is None:
        box_span = _box_span([definition], [input_shape], options)
    builder = _Builder(**options, box_span=box_span)
    return _flatten(_build(definition, input_shape, builder), builder, input_shape)


def alt_text(definition, input_shape=None, *, compact: bool = False) -> str:
    """What feeds what, in words, for a figure's alt attribute (the same text as ``draw(...).alt``).

    >>> from convnets import blocks
    >>> alt_text(blocks.basic_block(64, 64))[30:]
    '3×3 conv, 64 → BN → ReLU → 3×3 conv, 64 → BN; added (+) to the identity shortcut; then ReLU.'
    """
    return layout(definition, input_shape, compact=compact).alt


# ---------------------------------------------------------------- the figures
class SvgFigure(Figure):
    """A matplotlib ``Figure`` made without pyplot that shows itself once, as SVG, in a notebook.

    ``alt`` is its description for the page's alt attribute. Nothing is shown when it is made; the
    last expression of a cell displays it (IPython asks ``_repr_svg_``; with matplotlib's inline
    backend it also gets a PNG, and notebook clients and myst-nb prefer the SVG).
    """

    alt: str = ""

    def _repr_svg_(self):
        # the alt text also goes in the output's metadata, where the site takes it from
        # (code/sphinx_ext/figure_alt.py)
        svg = to_svg(self, alt=self.alt)
        # sizes in the SVG are points, which a browser shows at 96/72 CSS px each
        metadata = {"min_text_px": round(smallest_text_pt(self) * 96 / 72, 2)}
        if self.alt:
            metadata["alt"] = self.alt
        return svg, metadata

    def to_svg(self) -> str:
        """Deterministic SVG text (the same bytes for the same figure), with the alt text as its title."""
        return to_svg(self, alt=self.alt)

    def to_html(self) -> str:
        """An ``<img>`` tag with the SVG inline as a data URI, its alt text, width and height (in CSS px)."""
        svg = self.to_svg()
        width, height = (round(v * 96) for v in self.get_size_inches())
        data = base64.b64encode(svg.encode()).decode()
        return (f'<img src="data:image/svg+xml;base64,{data}" alt="{html.escape(self.alt)}" '
                f'width="{width}" height="{height}" style="max-width: 100%; height: auto">')


class Diagram(SvgFigure):
    """A block diagram: an :class:`SvgFigure` that also carries its :class:`Layout` in ``.layout``."""

    layout: Layout | None = None


SVG_HASHSALT = "convnets"


def to_svg(fig: Figure, alt: str | None = None) -> str:
    """``fig`` as SVG text, byte-identical across calls (fixed ``svg.hashsalt``, no date).

    ``alt`` becomes the SVG's ``<title>`` and ``aria-label`` (read when the SVG is inline).
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": SVG_HASHSALT, "svg.fonttype": "path", "svg.id": None}):
        fig.savefig(buffer, format="svg", metadata={"Date": None}, facecolor=fig.get_facecolor())
    svg = buffer.getvalue()
    if alt:
        escaped = html.escape(alt)
        svg = re.sub(r"<svg\b([^>]*)>", lambda m: f'<svg{m.group(1)} role="img" aria-label="{escaped}">'
                     f"\n <title>{escaped}</title>", svg, count=1)
    return svg


def _new_figure(cls, width_pt: float, height_pt: float):
    fig = cls(figsize=(width_pt / 72, height_pt / 72))
    fig.patch.set_facecolor("white")
    fig.patch.set_alpha(1.0)
    return fig


def paint(lay: Layout, title: str | None = None) -> Diagram:
    """Paint a :class:`Layout` on a new :class:`Diagram` (1 point of the layout = 1 point of the figure)."""
    title_h, wrapped = 0.0, ""
    if title:
        wrapped = _wrap(title, FONT, max(lay.width - 2 * MARGIN, 120.0), "bold")
        title_h = _text_size(wrapped, FONT, "bold")[1] + 4.0
        lay = lay.moved(0.0, title_h)
    width = max(lay.width, _text_size(wrapped, FONT, "bold")[0] + 2 * MARGIN if wrapped else 0.0)
    height = lay.height + title_h
    if width > lay.width:
        lay = lay.moved((width - lay.width) / 2, 0.0)
    fig = _new_figure(Diagram, width, height)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")
    if wrapped:
        ax.text(width / 2, MARGIN, wrapped, ha="center", va="top", fontsize=FONT, fontweight="bold",
                family=FONT_FAMILY, color=_TEXT_COLOUR, linespacing=LINE)
    _paint_into(ax, lay)
    fig.layout = dataclasses.replace(lay, width=width, height=height)
    fig.alt = lay.alt if not title else f"{title}. {lay.alt}"
    return fig


def _paint_into(ax, lay: Layout) -> None:
    for edge in lay.edges:
        path = Path(np.array(edge.points, float))
        arrow = FancyArrowPatch(path=path, arrowstyle="-|>,head_length=5.5,head_width=2.6" if edge.arrow else "-",
                                mutation_scale=1.0, color=_EDGE_COLOUR, linewidth=1.2, shrinkA=0, shrinkB=0,
                                joinstyle="miter", capstyle="butt", zorder=1)
        ax.add_patch(arrow)
    if lay.dots:
        xs, ys = zip(*lay.dots, strict=True)
        ax.plot(xs, ys, "o", color=_EDGE_COLOUR, markersize=3.6, zorder=2)
    for node in lay.nodes:
        if isinstance(node, Box):
            fill, edge = KIND_STYLE.get(node.kind, KIND_STYLE["other"])
            ax.add_patch(FancyBboxPatch((node.x, node.y), node.width, node.height,
                                        boxstyle="round,pad=0,rounding_size=4", facecolor=fill, edgecolor=edge,
                                        linewidth=1.3, zorder=3))
            ax.text(node.x + node.width / 2, node.y + node.height / 2, node.text, ha="center", va="center",
                    fontsize=FONT, family=FONT_FAMILY, color=_TEXT_COLOUR, linespacing=LINE, zorder=4)
        else:
            fill, edge = KIND_STYLE["merge"]
            cx, cy = node.x + node.width / 2, node.y + node.height / 2
            if node.op == "concat":
                ax.add_patch(FancyBboxPatch((node.x, node.y), node.width, node.height,
                                            boxstyle="round,pad=0,rounding_size=4", facecolor=_tint(edge, 0.12),
                                            edgecolor=edge, linewidth=1.5, zorder=3))
                ax.text(cx, cy, "concat", ha="center", va="center", fontsize=FONT, family=FONT_FAMILY,
                        color=_TEXT_COLOUR, rotation=90 if node.height > node.width else 0, zorder=4)
            else:
                ax.add_patch(Circle((cx, cy), node.width / 2, facecolor=fill, edgecolor=edge, linewidth=1.6,
                                    zorder=3))
                ax.text(cx, cy, node.op, ha="center", va="center_baseline", fontsize=SYMBOL, fontweight="bold",
                        family=FONT_FAMILY, color=_TEXT_COLOUR, zorder=4)
    for text in lay.labels:
        ax.text(text.x, text.y, text.text, ha=text.ha, va=text.va, fontsize=text.size, family=FONT_FAMILY,
                fontweight=text.weight, color=_NOTE_COLOUR if text.role != "title" else _TEXT_COLOUR,
                linespacing=LINE, zorder=4)


def draw(definition, input_shape=None, *, shapes: bool = False, params: bool = False, compact: bool = False,
         narrow: bool = False, direction: str = "vertical", title: str | None = None) -> Diagram:
    """Draw ``definition`` (a :mod:`convnets.spec` block or network) as a block diagram.

    Returns a :class:`Diagram` (a matplotlib ``Figure``, not registered with pyplot): the last
    expression of a notebook cell shows it once, as SVG; ``.alt`` is its alt text, ``.layout`` the
    boxes and merge nodes drawn. ``shapes`` and ``params`` (with ``input_shape``) print each box's
    output shape and parameter count from :mod:`convnets.accounting`. The other options are
    those of :func:`layout`.

    >>> from convnets import blocks
    >>> draw(blocks.basic_block(64, 64)).layout.sequence()
    ['3×3 conv, 64', 'BN', 'ReLU', '3×3 conv, 64', 'BN', '+', 'ReLU']
    """
    return paint(layout(definition, input_shape, shapes=shapes, params=params, compact=compact, narrow=narrow,
                        direction=direction), title)


def compare(definitions: dict, input_shape=None, *, shapes: bool = False, params: bool = False,
            compact: bool = False, narrow: bool | None = None, direction: str = "vertical", ncols: int = 2,
            title: str | None = None) -> Diagram:
    """Several definitions in one figure, ``ncols`` per row, each under its title (the dict's keys).

    ``input_shape`` is one shape for all, or a dict with one per title. All boxes share one width,
    so equal layers look equal. ``narrow`` (default: when two or more sit side by side) puts long
    labels on two lines, so that two columns stay readable on a phone. With ``params``, each
    diagram ends with its total parameter count (:func:`convnets.accounting.count`).
    """
    nonempty_dict("definitions", definitions, "of title -> spec definition")
    positive_int("ncols", ncols)
    for name, definition in definitions.items():
        if not isinstance(name, str):
            raise TypeError(f"definitions' keys must be titles (strings), got {name!r}")
        _check_definition(definition, f"definitions[{name!r}]")
    if narrow is None:
        narrow = ncols > 1 and len(definitions) > 1
    options = _options(direction=direction, shapes=shapes, params=params, compact=compact, narrow=narrow)
    if isinstance(input_shape, dict):
        shapes_in = [_input_shape(input_shape.get(n), d) for n, d in definitions.items()]
    else:
        shapes_in = [_input_shape(input_shape, d) for d in definitions.values()]
    span = _box_span(list(definitions.values()), shapes_in, options)
    parts = []
    for (name, definition), shape in zip(definitions.items(), shapes_in, strict=True):
        lay = layout(definition, shape, **options, box_span=span)
        wrapped = _wrap(name, FONT, max(lay.width - 2 * MARGIN, 100.0), "bold")
        tw, th = _text_size(wrapped, FONT, "bold")
        width = max(lay.width, tw + 2 * MARGIN)
        lay = lay.moved((width - lay.width) / 2, th + MARGIN)
        head = Label(wrapped, width / 2, MARGIN, FONT, "center", "top", "title", "bold")
        extra, labels = 0.0, (head, *lay.labels)
        if params and shape is not None:
            total = count(definition if isinstance(definition, CONTAINERS) else Seq("", definition), shape).params
            text = f"{total:,} params in all"
            width = max(width, _text_size(text, SMALL)[0] + 2 * MARGIN)
            labels += (Label(text, width / 2, lay.height + th + MARGIN, SMALL, "center", "top", "total"),)
            extra = _text_size(text, SMALL)[1] + MARGIN
        lay = dataclasses.replace(lay, labels=labels, width=width, height=lay.height + th + MARGIN + extra)
        parts.append((name, lay))
    rows = [parts[i:i + ncols] for i in range(0, len(parts), ncols)]
    col_w = [max(row[j][1].width for row in rows if j < len(row)) for j in range(min(ncols, len(parts)))]
    placed, y = [], 0.0
    for row in rows:
        x = 0.0
        for j, (name, lay) in enumerate(row):
            placed.append((name, lay.moved(x + (col_w[j] - lay.width) / 2, y)))
            x += col_w[j] + GAP_C
        y += max(lay.height for _, lay in row) + GAP_C
    arrangement = ("one under the other" if len(col_w) == 1 else "one beside the other" if len(rows) == 1
                   else f"in rows of {ncols}")
    combined = Layout(
        nodes=tuple(n for _, lay in placed for n in lay.nodes), edges=tuple(e for _, lay in placed for e in lay.edges),
        labels=tuple(t for _, lay in placed for t in lay.labels), dots=tuple(d for _, lay in placed for d in lay.dots),
        width=sum(col_w) + GAP_C * (len(col_w) - 1), height=y - GAP_C,
        alt=f"{len(placed)} block diagrams, {_WHERE[direction]}, {arrangement}. "
            + " ".join(f"{name}: {lay.description}." for name, lay in placed),
        direction=direction, parts=tuple(placed))
    return paint(combined, title)


# ------------------------------------------------------------- shape ribbons
@dataclass(frozen=True)
class Ribbon:
    """Channels and spatial size after each weight layer along a network's longest path."""

    name: str
    channels: tuple[int, ...]
    spatial: tuple[int, ...]
    input_shape: tuple[int, ...]
    params: int = 0


@dataclass
class _Trace:
    inp: tuple | None
    out: tuple | None
    points: list = field(default_factory=list)


def ribbon(network, input_shape, name: str = "") -> Ribbon:
    """The :class:`Ribbon` of ``network`` on ``input_shape``, from :func:`convnets.accounting.walk`.

    One point per weight layer on the longest path (the accounting's depth): a block's last point
    is its output (a concat's summed channels); a gate's layers count at the shape they scale.
    """
    _check_definition(network, "network")
    input_shape = _input_shape(input_shape, network)
    params = 0

    def leaf(node, in_shape, out, n_params, macs, weighted, path):
        nonlocal params
        params += n_params
        return _Trace(in_shape, out, [out] if weighted else [])

    def combine(node, values, path):
        if isinstance(node, Seq):
            known = [v for v in values if v.inp is not None]
            return _Trace(known[0].inp if known else None, known[-1].out if known else None,
                          [p for v in values for p in v.points])
        if isinstance(node, Gate):
            gate = values[0]
            return _Trace(gate.inp, gate.inp, [gate.inp] * len(gate.points))
        if isinstance(node, Residual):
            longest = max((v for v in values if v is not None), key=lambda v: len(v.points))
            body = values[0]
            points = list(longest.points)
            if points:
                points[-1] = body.out
            return _Trace(body.inp, body.out, points)
        outs = [v.out for v in values]
        if isinstance(node, DenseConcat):
            outs = [values[0].inp, values[0].out]
        out = _concat_shape(outs)
        longest = max(values, key=lambda v: len(v.points))
        points = list(longest.points)
        if points:
            points[-1] = out
        return _Trace(values[0].inp, out, points)

    _, trace = walk(network, input_shape, leaf, combine)
    return Ribbon(name or getattr(network, "name", ""), tuple(int(p[0]) for p in trace.points),
                  tuple(int(p[1]) if len(p) == 3 else 1 for p in trace.points), input_shape, params)


FLAGSHIPS = {"AlexNet": "alexnet", "VGG-16": "vgg16", "GoogLeNet": "googlenet", "ResNet-50": "resnet50",
             "DenseNet-121": "densenet121", "EfficientNet-B0": "efficientnet-b0"}


def flagship_networks() -> tuple[dict, dict]:
    """The six flagship networks from :mod:`convnets.zoo` and their input sizes, keyed by display name."""
    from . import zoo

    return ({title: zoo.get(name).make() for title, name in FLAGSHIPS.items()},
            {title: zoo.get(name).input_size for title, name in FLAGSHIPS.items()})


RIBBON_FONT = 12.0
_RIBBON_CHANNELS = (64, 1024)           # tick marks, up
_RIBBON_SPATIAL = (7, 112)              # tick marks, down


def shape_ribbons(networks: dict | None = None, input_sizes: dict | int | None = None, *,
                  width: float = 4.6, panel_height: float = 1.3) -> SvgFigure:
    """How each network trades depth, width and resolution: one small panel per network, stacked.

    x: weight layers from the input (the accounting's depth; the same scale in every panel);
    up (blue): channels after each layer; down (orange): spatial size H = W; both on log scales.
    ``networks`` maps a title to a definition (default: the six flagships from :mod:`convnets.zoo`);
    ``input_sizes`` maps the same titles to input sizes H = W (or one int for all; 3 channels).
    The figure's ``ribbons`` holds the :class:`Ribbon` of each panel, ``alt`` its description.
    """
    if networks is None:
        networks, default_sizes = flagship_networks()
        input_sizes = default_sizes if input_sizes is None else input_sizes
    nonempty_dict("networks", networks, "of title -> spec network")
    ribbons = []
    for title, network in networks.items():
        size = input_sizes.get(title) if isinstance(input_sizes, dict) else input_sizes
        if size is None:
            raise ValueError(f"input_sizes has no size for {title!r}")
        positive_int(f"input_sizes[{title!r}]", size)
        ribbons.append(ribbon(network, (3, size, size), title))
    depth = max(len(r.channels) for r in ribbons)
    head, foot = 0.62, 0.62                             # inches: key at the top, x label at the bottom
    fig_h = len(ribbons) * panel_height + head + foot
    fig = _new_figure(SvgFigure, width * 72, fig_h * 72)
    blue, orange = OKABE_ITO["blue"], _shade(OKABE_ITO["orange"], 0.3)
    left, right = 0.62 / width, 1 - 0.15 / width
    up_top, down_bottom = math.log2(4096 / 8) + 0.4, -math.log2(224) - 0.4
    axes = []
    for i, r in enumerate(ribbons):
        bottom = (fig_h - head - (i + 1) * panel_height) / fig_h
        ax = fig.add_axes((left, bottom, right - left, (panel_height - 0.34) / fig_h))
        axes.append(ax)
        x = np.arange(len(r.channels) + 1)
        up = np.log2(np.array((*r.channels, r.channels[-1])) / 8)
        down = -np.log2(np.array((*r.spatial, r.spatial[-1]), float))
        ax.fill_between(x, 0, up, step="post", facecolor=_tint(OKABE_ITO["sky"], 0.55), edgecolor=blue,
                        linewidth=1.0)
        ax.fill_between(x, 0, down, step="post", facecolor=_tint(OKABE_ITO["orange"], 0.5), edgecolor=orange,
                        linewidth=1.0)
        ax.axhline(0, color="#444444", linewidth=0.8)
        ax.set_xlim(0, depth + 1)
        ax.set_ylim(down_bottom, up_top)
        ticks = [math.log2(t / 8) for t in _RIBBON_CHANNELS] + [-math.log2(t) for t in _RIBBON_SPATIAL]
        ax.set_yticks(ticks, [str(t) for t in (*_RIBBON_CHANNELS, *_RIBBON_SPATIAL)], fontsize=RIBBON_FONT - 2)
        colours = [blue] * len(_RIBBON_CHANNELS) + [orange] * len(_RIBBON_SPATIAL)
        for tick, colour in zip(ax.get_yticklabels(), colours, strict=True):
            tick.set_color(colour)
        ax.tick_params(axis="x", labelsize=RIBBON_FONT - 1, length=3)
        ax.tick_params(axis="y", length=2, pad=2)
        ax.grid(True, axis="x", alpha=0.3)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.text(0.0, 1.03, f"{r.name}: {len(r.channels)} layers, {r.params / 1e6:.1f} M params",
                transform=ax.transAxes, fontsize=RIBBON_FONT, ha="left", va="bottom", family=FONT_FAMILY)
        if i < len(ribbons) - 1:
            ax.tick_params(axis="x", labelbottom=False)
    axes[-1].set_xlabel("weight layers from the input", fontsize=RIBBON_FONT)
    fig.text(left, 1 - 0.06 / fig_h, "▲ channels", color=blue, fontsize=RIBBON_FONT, ha="left", va="top",
             fontweight="bold")
    fig.text(left + 1.25 / width, 1 - 0.06 / fig_h, "▼ spatial size H = W", color=orange, fontsize=RIBBON_FONT,
             ha="left", va="top", fontweight="bold")
    fig.text(left, 1 - 0.3 / fig_h, "after each weight layer; log scales", color=_NOTE_COLOUR,
             fontsize=RIBBON_FONT - 1, ha="left", va="top")
    fig.ribbons = tuple(ribbons)
    fig.alt = ("Shape ribbons: for each network, channels (up) and spatial size (down) after each weight layer, "
               "on log scales. " + " ".join(
                   f"{r.name}: {len(r.channels)} weight layers; channels from {r.channels[0]} to "
                   f"{max(r.channels)} at most; spatial size from {r.input_shape[1]} down to {min(r.spatial)}."
                   for r in ribbons))
    return fig


# ---------------------------------------------------------------- text size
def min_text_pt(fig: Figure) -> float:
    """The smallest font size (points) of any visible, non-empty text in ``fig``."""
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    fig.draw_without_rendering()             # tick labels get their text at draw time
    return smallest_text_pt(fig)


def min_text_px(fig: Figure, content_px: float, *, ppi: float | None = 96.0) -> float:
    """The smallest text of ``fig`` in CSS pixels on a page whose content column is ``content_px`` wide.

    The image shows at its natural width (``ppi`` CSS px per inch: 96 for SVG, whose sizes are in
    points; a PNG's dpi for PNG) or shrunk to the column if wider. ``ppi=None``: stretched to the
    column width (rendered px = font_pt * content_px / (72 * fig_width_in)).
    """
    if not isinstance(content_px, (int, float)) or content_px <= 0:
        raise ValueError(f"content_px must be a positive number, got {content_px!r}")
    width_in = fig.get_size_inches()[0]
    shown = content_px if ppi is None else min(content_px, width_in * ppi)
    return min_text_pt(fig) * shown / (72 * width_in)


__all__ = ["Box", "Diagram", "Edge", "Label", "Layout", "Merge", "Ribbon", "SvgFigure", "alt_text", "compare",
           "draw", "flagship_networks", "kind", "label", "layout", "min_text_pt", "min_text_px", "paint", "ribbon",
           "shape_ribbons", "shape_text", "to_svg"]
