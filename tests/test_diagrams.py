"""Block diagrams drawn from definitions: what is drawn matches the definition and the accounting."""

import dataclasses
import functools

import matplotlib
import pytest
from convnets import architectures, blocks, zoo
from convnets import diagrams as D
from convnets.accounting import count
from convnets.build import build
from convnets.spec import (
    LRN,
    Act,
    AvgPool,
    BatchNorm,
    Concat,
    Conv,
    Dropout,
    GlobalAvgPool,
    Linear,
    MaxPool,
    Seq,
)
from matplotlib.figure import Figure

matplotlib.use("Agg")

# The diagrams the chapter's pages show (issue 15), with the input shapes the pages use.
NAIVE_INCEPTION = Concat("naive", Seq("1x1", Conv(64, 1), Act()), Seq("3x3", Conv(128, 3), Act()),
                         Seq("5x5", Conv(32, 5), Act()), Seq("pool", MaxPool(3, 1, 1)))
DENSE_BLOCK = Seq("denseblock", blocks.dense_layer(32), blocks.dense_layer(32), blocks.dense_layer(32),
                  blocks.transition(80))
THREE_3X3 = Seq("three", Conv(64, 3), Act(), Conv(64, 3), Act(), Conv(64, 3), Act())
ONE_7X7 = Seq("one", Conv(64, 7), Act())


@functools.cache
def page_diagrams():
    """Every diagram issue 15 asks for, drawn as the pages will draw them."""
    return {
        "residual post vs pre": D.compare({"post-activation": blocks.basic_block(64, 128, 2, variant="post"),
                                           "pre-activation": blocks.basic_block(64, 128, 2, variant="pre")}),
        "bottleneck": D.draw(blocks.bottleneck_block(256, 64), (256, 56, 56), shapes=True),
        "inception naive vs reduced": D.compare(
            {"naive": NAIVE_INCEPTION, "with 1×1 reductions": blocks.inception("3a", 64, 96, 128, 16, 32, 32)},
            (192, 28, 28), ncols=1, narrow=True),
        "dense block": D.draw(DENSE_BLOCK, (64, 56, 56), shapes=True, compact=True),
        "mbconv": D.draw(blocks.mbconv(40, 40, 5, 1, 6, se_ratio=0.25), (40, 28, 28), shapes=True),
        "vgg stack vs one": D.compare({"three 3×3 convs": THREE_3X3, "one 7×7 conv": ONE_7X7}, (64, 56, 56),
                                      params=True),
    }


# ------------------------------------------------------------------ labels
def test_labels_read_like_papers():
    assert D.label(Conv(64, 3)) == "3×3 conv, 64"
    assert D.label(Conv(128, 3, 2)) == "3×3 conv, 128, /2"
    assert D.label(Conv(256, 1)) == "1×1 conv, 256"
    assert D.label(Conv(96, 5, 2, groups=96)) == "DW 5×5, /2"
    assert D.label(Conv(96, 3, groups=96)) == "DW 3×3"
    assert D.label(Conv(128, 3, groups=32)) == "group conv 3×3, 128, g=32"
    assert D.label(BatchNorm()) == "BN"
    assert D.label(LRN()) == "LRN"
    assert [D.label(Act(k)) for k in ("relu", "relu6", "silu", "sigmoid")] == ["ReLU", "ReLU6", "SiLU", "sigmoid"]
    assert D.label(MaxPool(3, 2)) == "max pool 3×3, /2"
    assert D.label(MaxPool(3, 1, 1)) == "max pool 3×3"
    assert D.label(AvgPool(2, 2)) == "avg pool 2×2, /2"
    assert D.label(GlobalAvgPool()) == "global avg pool"
    assert D.label(Linear(1000)) == "FC 1000"
    assert D.label(Dropout(0.5)) == "dropout 0.5"
    assert [D.kind(x) for x in (Conv(8, 3), BatchNorm(), Act(), MaxPool(2, 2), Linear(10), Dropout())] == \
        ["conv", "norm", "activation", "pooling", "linear", "other"]


def test_a_new_leaf_type_is_drawn_without_drawing_code():
    """Leaves added to convnets.spec later (LayerNorm, LayerScale) are labelled through spec.describe."""
    layer_norm = dataclasses.make_dataclass("LayerNorm", [("eps", float, 1e-6)], frozen=True)
    layer_scale = dataclasses.make_dataclass("LayerScale", [("init", float, 1e-6)], frozen=True)
    layer_norm.__module__ = layer_scale.__module__ = "convnets.spec"
    lay = D.layout(Seq("block", Conv(96, 7, groups=96), layer_norm(), Conv(384, 1), Act(), layer_scale()))
    assert lay.sequence() == ["DW 7×7", "LN", "1×1 conv, 384", "ReLU", "layer scale"]
    assert [b.kind for b in lay.boxes] == ["conv", "norm", "conv", "activation", "other"]


# --------------------------------------------------- boxes match definitions
def test_basic_block_boxes_and_merge_in_order():
    # He et al. (2015), Fig. 2 and Fig. 5 (left): conv-BN-ReLU-conv-BN, + x, ReLU
    assert D.layout(blocks.basic_block(64, 64)).sequence() == \
        ["3×3 conv, 64", "BN", "ReLU", "3×3 conv, 64", "BN", "+", "ReLU"]
    post = D.layout(blocks.basic_block(64, 128, 2, variant="post"))
    assert post.sequence() == ["3×3 conv, 128, /2", "BN", "ReLU", "3×3 conv, 128", "BN",
                               "1×1 conv, 128, /2", "BN", "+", "ReLU"]
    # He et al. (2016), Fig. 4(e): BN-ReLU-conv twice, added to the shortcut, nothing after
    pre = D.layout(blocks.basic_block(64, 128, 2, variant="pre"))
    assert pre.sequence() == ["BN", "ReLU", "3×3 conv, 128, /2", "BN", "ReLU", "3×3 conv, 128",
                              "1×1 conv, 128, /2", "+"]
    for lay in (post, pre):
        assert [m.op for m in lay.merges] == ["+"]
        assert lay.merges[0].inputs == 2


def test_shortcut_is_a_side_column_identity_or_projection():
    identity = D.layout(blocks.bottleneck_block(256, 64))
    assert [t.text for t in identity.labels if t.role == "wire"] == ["identity"]
    body_right = max(b.x + b.width for b in identity.boxes)
    assert [t.x for t in identity.labels if t.role == "wire"][0] > body_right
    projection = D.layout(blocks.basic_block(64, 128, 2))
    assert not [t for t in projection.labels if t.role == "wire"]
    body = [b for b in projection.boxes if ".body." in f".{b.path}."]
    shortcut = [b for b in projection.boxes if ".shortcut." in f".{b.path}."]
    assert [b.label for b in shortcut] == ["1×1 conv, 128, /2", "BN"]
    assert min(b.x for b in shortcut) > max(b.x + b.width for b in body)     # beside the body, not in it


def test_bottleneck_block():
    lay = D.layout(blocks.bottleneck_block(256, 64))
    assert lay.sequence() == ["1×1 conv, 64", "BN", "ReLU", "3×3 conv, 64", "BN", "ReLU", "1×1 conv, 256", "BN",
                              "+", "ReLU"]


def test_inception_four_branches_side_by_side_and_one_concat():
    lay = D.layout(blocks.inception("3a", 64, 96, 128, 16, 32, 32))     # Szegedy et al. (2015), Table 1, 3a
    assert [m.op for m in lay.merges] == ["concat"]
    assert lay.merges[0].inputs == 4
    first = {}
    for b in lay.boxes:
        first.setdefault(b.path.strip(".").split(".")[0], b)
    assert list(first) == ["1x1", "3x3", "5x5", "pool"]
    assert [b.label for b in first.values()] == ["1×1 conv, 64", "1×1 conv, 96", "1×1 conv, 16", "max pool 3×3"]
    xs = [b.x for b in first.values()]
    assert xs == sorted(xs) and len(set(xs)) == 4                        # four columns, left to right
    assert len({round(b.y) for b in first.values()}) == 1                # starting at the same height
    assert len(lay.boxes) == 2 + 4 + 4 + 3
    naive = D.layout(NAIVE_INCEPTION)
    assert naive.sequence() == ["1×1 conv, 64", "ReLU", "3×3 conv, 128", "ReLU", "5×5 conv, 32", "ReLU",
                                "max pool 3×3", "concat"]


def test_squeeze_excite_gate_goes_to_the_side_and_back_into_a_times_node():
    lay = D.layout(blocks.squeeze_excite(240, 10))
    assert lay.sequence() == ["global avg pool", "1×1 conv, 10", "SiLU", "1×1 conv, 240", "sigmoid", "×"]
    (times,) = lay.merges
    assert min(b.x for b in lay.boxes) > times.x + times.width              # the gate column is beside the path
    assert max(b.y + b.height for b in lay.boxes) < times.y                 # and comes back into the × node


def test_mbconv_with_se():
    lay = D.layout(blocks.mbconv(40, 40, 5, 1, 6, se_ratio=0.25))
    assert lay.sequence() == ["1×1 conv, 240", "BN", "SiLU", "DW 5×5", "BN", "SiLU",
                              "global avg pool", "1×1 conv, 10", "SiLU", "1×1 conv, 240", "sigmoid", "×",
                              "1×1 conv, 40", "BN", "+"]
    strided = D.layout(blocks.mbconv(40, 80, 3, 2, 6, se_ratio=0.25))   # stride 2: no shortcut
    assert [m.op for m in strided.merges] == ["×"]
    assert "DW 3×3, /2" in strided.sequence()
    assert "×" not in D.layout(blocks.mbconv(40, 40, 5, 1, 6, se_ratio=0)).sequence()


def test_dense_block_with_transition():
    lay = D.layout(DENSE_BLOCK, (64, 56, 56), shapes=True)
    assert [m.op for m in lay.merges] == ["concat"] * 3
    assert len(lay.boxes) == 3 * 6 + 4
    assert lay.sequence()[-5:] == ["concat", "BN", "ReLU", "1×1 conv, 80", "avg pool 2×2, /2"]
    # Huang et al. (2017): layer l of a block sees k0 + k * l channels (k0 = 64, k = 32)
    assert [m.shape for m in lay.merges] == [(64 + 32 * i, 56, 56) for i in (1, 2, 3)]
    texts = [t.text for t in lay.labels if t.role == "annotation"]
    assert [f"{64 + 32 * i}×56×56" in texts for i in (1, 2, 3)] == [True] * 3


def test_vgg_stack_against_one_large_kernel():
    fig = D.compare({"three 3×3 convs": THREE_3X3, "one 7×7 conv": ONE_7X7}, (64, 56, 56), params=True)
    (a, left), (b, right) = fig.layout.parts
    assert (a, b) == ("three 3×3 convs", "one 7×7 conv")
    assert left.sequence() == ["3×3 conv, 64", "ReLU"] * 3
    assert right.sequence() == ["7×7 conv, 64", "ReLU"]
    assert max(n.x + n.width for n in left.nodes) < min(n.x for n in right.nodes)    # side by side
    # Simonyan & Zisserman (2015), section 2.3: 3 (3^2 C^2) against 7^2 C^2 weights (biases here are off)
    totals = [t.text for t in fig.layout.labels if t.role == "total"]
    assert totals == [f"{3 * 9 * 64 * 64:,} params in all", f"{49 * 64 * 64:,} params in all"]


# ------------------------------------------------- changes follow the definition
def test_more_blocks_more_boxes_and_stride_shows():
    def stage(n):
        return Seq("stage", *(blocks.basic_block(64, 64) for _ in range(n)))

    for n in (1, 2, 5):
        lay = D.layout(stage(n))
        assert len(lay.boxes) == 6 * n
        assert [m.op for m in lay.merges] == ["+"] * n
    assert not any("/2" in s for s in D.layout(blocks.basic_block(64, 64)).sequence())
    assert D.layout(blocks.basic_block(64, 64, 2)).sequence()[0] == "3×3 conv, 64, /2"
    assert D.layout(Seq("a", Conv(64, 3))).sequence() != D.layout(Seq("a", Conv(65, 3))).sequence()


def test_compact_merges_conv_bn_act_both_orders():
    post = D.layout(blocks.basic_block(64, 128, 2), compact=True)
    assert post.sequence() == ["3×3 conv, 128, /2\nBN, ReLU", "3×3 conv, 128\nBN", "1×1 conv, 128, /2\nBN", "+",
                               "ReLU"]
    assert [len(b.layers) for b in post.boxes] == [3, 2, 2, 1]
    pre = D.layout(blocks.basic_block(64, 128, 2, variant="pre"), compact=True)
    assert pre.sequence() == ["BN, ReLU\n3×3 conv, 128, /2", "BN, ReLU\n3×3 conv, 128", "1×1 conv, 128, /2", "+"]
    network = D.layout(architectures.resnet(18), compact=True)
    assert len(network.merges) == 8 and len(network.boxes) < len(count(architectures.resnet(18), (3, 224, 224)).rows)


def test_horizontal_layout_runs_left_to_right():
    vertical = D.layout(blocks.basic_block(64, 64))
    horizontal = D.layout(blocks.basic_block(64, 64), direction="horizontal")
    assert horizontal.sequence() == vertical.sequence()
    xs = [b.x for b in horizontal.boxes]
    assert xs == sorted(xs)
    assert horizontal.width > horizontal.height and vertical.height > vertical.width


# ----------------------------------------------------------- bad input
@pytest.mark.parametrize("bad", ["3x3 conv", [Conv(8, 3)], None, 3])
def test_not_a_spec_raises_type_error_naming_the_argument(bad):
    with pytest.raises(TypeError, match=r"^definition must be a convnets\.spec layer or container"):
        D.draw(bad)
    with pytest.raises(TypeError, match="^definition must be"):
        D.alt_text(bad)


def test_built_layers_and_bad_items_are_refused():
    layers = build(Seq("net", Conv(4, 3), Act()), (3, 8, 8))
    with pytest.raises(TypeError, match="got Sequential"):
        D.draw(layers)
    with pytest.raises(TypeError, match=r"definition at '1' must be .* got str: 'relu'"):
        D.layout(Seq("net", Conv(4, 3), "relu"))
    with pytest.raises(TypeError, match=r"definitions\['b'\] must be"):
        D.compare({"a": Seq("a", Conv(4, 3)), "b": "conv"})
    with pytest.raises(TypeError, match="definitions must be a non-empty dict"):
        D.compare([Seq("a", Conv(4, 3))])
    with pytest.raises(TypeError, match="^network must be"):
        D.ribbon("resnet50", (3, 224, 224))
    with pytest.raises(TypeError, match="^fig must be a matplotlib Figure"):
        D.to_svg("figure")
    with pytest.raises(ValueError, match="direction must be one of"):
        D.layout(Seq("a", Conv(4, 3)), direction="diagonal")
    with pytest.raises(ValueError, match="needs an input_shape"):
        D.layout(Seq("a", Conv(4, 3)), shapes=True)
    with pytest.raises(ValueError, match="input_shape must be a tuple"):
        D.layout(Seq("a", Conv(4, 3)), (3, 8))


# ------------------------------------------------ numbers from the accounting
@pytest.mark.parametrize("definition, shape", [
    (blocks.bottleneck_block(256, 64, 2), (256, 56, 56)),
    (blocks.inception("3a", 64, 96, 128, 16, 32, 32), (192, 28, 28)),
    (blocks.mbconv(40, 80, 5, 2, 6), (40, 28, 28)),
])
def test_shapes_and_params_are_the_accountings(definition, shape):
    rows = {r.path: r for r in count(definition, shape).rows}
    lay = D.layout(definition, shape, shapes=True, params=True)
    assert len(lay.boxes) == len(rows)
    notes = {(round(t.x), round(t.y)): t.text for t in lay.labels if t.role == "annotation"}
    for box in lay.boxes:
        row = rows[box.path]
        assert (box.shape, box.params) == (row.output_shape, row.params)
        text = notes.get((round(box.x + box.width + D.ANNOT_GAP), round(box.y + box.height / 2)), "")
        assert (f"{row.params:,} params" in text) == (row.params > 0)
        changes_shape = box.kind in ("conv", "linear") or "/" in box.label or box.label.startswith("global")
        assert (D.shape_text(row.output_shape) in text) == changes_shape      # not repeated beside BN, ReLU
    compact = D.layout(definition, shape, compact=True, params=True)
    assert sum(b.params for b in compact.boxes) == count(definition, shape).params


def test_input_shape_is_labelled():
    lay = D.layout(blocks.basic_block(64, 64), (64, 56, 56), shapes=True)
    assert [t.text for t in lay.labels if t.role == "input"] == ["input 64×56×56"]


# ------------------------------------------------------------------- alt text
@pytest.mark.parametrize("definition", [
    blocks.basic_block(64, 128, 2), blocks.basic_block(64, 128, 2, variant="pre"), blocks.bottleneck_block(256, 64),
    blocks.inception("3a", 64, 96, 128, 16, 32, 32), DENSE_BLOCK, blocks.mbconv(40, 40, 5, 1, 6), THREE_3X3,
])
def test_alt_text_names_every_layer_in_order(definition):
    alt = D.alt_text(definition)
    lay = D.layout(definition)
    position = 0
    for box in lay.boxes:
        found = alt.find(box.label, position)
        assert found >= 0, (box.label, alt[position:])
        position = found + len(box.label)
    for op in ("+", "×", "concat"):
        assert alt.count(f"({op})") == [m.op for m in lay.merges].count(op)


def test_alt_text_says_what_is_added_to_what():
    assert D.alt_text(blocks.basic_block(64, 64)) == (
        "Block diagram, top to bottom: 3×3 conv, 64 → BN → ReLU → 3×3 conv, 64 → BN; added (+) to the identity "
        "shortcut; then ReLU.")
    assert "projection shortcut 1×1 conv, 128, /2 → BN" in D.alt_text(blocks.basic_block(64, 128, 2))
    assert "multiplied (×) channel by channel by the gate (global avg pool" in D.alt_text(blocks.mbconv(8, 8, 3, 1, 6))
    assert D.draw(blocks.basic_block(64, 64)).alt == D.alt_text(blocks.basic_block(64, 64))
    assert D.draw(blocks.basic_block(64, 64), title="A block").alt.startswith("A block. Block diagram")


# --------------------------------------------------------------- the figure
def test_draw_returns_a_figure_outside_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = D.draw(blocks.basic_block(64, 64))
    assert isinstance(fig, Figure) and isinstance(fig, D.Diagram)
    assert plt.get_fignums() == before                        # nothing for a notebook to show a second time
    assert fig.layout.boxes and fig.get_facecolor()[3] == 1.0   # opaque white background


def test_svg_is_deterministic_and_carries_the_alt_text():
    one = D.to_svg(D.draw(blocks.mbconv(40, 40, 5, 1, 6)))
    two = D.to_svg(D.draw(blocks.mbconv(40, 40, 5, 1, 6)))
    assert one == two
    fig = D.draw(blocks.basic_block(64, 64))
    svg, metadata = fig._repr_svg_()
    assert svg == fig.to_svg() and "<dc:date>" not in svg
    # the site's alt text (code/sphinx_ext/figure_alt.py); the smallest text at natural size, 96/72 px a point
    assert metadata == {"alt": fig.alt, "min_text_px": pytest.approx(D.min_text_pt(fig) * 96 / 72, abs=0.01)}
    assert metadata["min_text_px"] >= 0.8 * 16
    assert "<title>Block diagram, top to bottom: 3×3 conv, 64 → BN" in svg
    assert one != D.to_svg(D.draw(blocks.mbconv(40, 40, 3, 1, 6)))
    html = fig.to_html()
    assert html.startswith('<img src="data:image/svg+xml;base64,') and 'alt="Block diagram' in html


def test_notebook_shows_the_diagram_as_svg():
    formatters = pytest.importorskip("IPython.core.formatters")
    diagram = D.draw(blocks.basic_block(64, 64))
    data, metadata = formatters.DisplayFormatter().format(diagram)
    assert data["image/svg+xml"].startswith("<?xml")
    assert metadata["image/svg+xml"]["alt"] == diagram.alt


def _overlap(a, b, margin=0.0):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw - margin and bx < ax + aw - margin and ay < by + bh - margin and by < ay + ah - margin


def _label_rect(t):
    w, h = D._text_size(t.text, t.size)
    x = t.x if t.ha == "left" else t.x - w / 2
    y = t.y - h / 2 if t.va == "center" else t.y
    return (x, y, w, h)


@pytest.mark.parametrize("name", list(page_diagrams()))
def test_page_diagrams_are_tidy(name):
    """No box, merge node or label overlaps another; every node has an arrow coming into it."""
    lay = page_diagrams()[name].layout
    rects = [(n.x, n.y, n.width, n.height) for n in lay.nodes] + [_label_rect(t) for t in lay.labels]
    for i, a in enumerate(rects):
        assert 0 <= a[0] and a[0] + a[2] <= lay.width + 0.5 and 0 <= a[1] and a[1] + a[3] <= lay.height + 0.5
        for b in rects[i + 1:]:
            assert not _overlap(a, b, margin=0.5), (a, b)
    ends = [e.points[-1] for e in lay.edges if e.arrow]
    for n in lay.nodes:
        on_edge = [(x, y) for x, y in ends if n.x - 0.5 <= x <= n.x + n.width + 0.5
                   and n.y - 0.5 <= y <= n.y + n.height + 0.5]
        assert on_edge, n


# ------------------------------------------------------------- text size
def test_min_text_px_formula():
    fig = Figure(figsize=(5, 2))
    fig.text(0.5, 0.5, "big", fontsize=14)
    fig.text(0.5, 0.2, "small", fontsize=11)
    assert D.min_text_pt(fig) == 11
    assert D.min_text_px(fig, 730, ppi=None) == pytest.approx(11 * 730 / (72 * 5))      # stretched to the column
    assert D.min_text_px(fig, 730) == pytest.approx(11 * 96 / 72)                       # natural size, 480 px
    assert D.min_text_px(fig, 350) == pytest.approx(11 * 350 / (72 * 5))                # shrunk to a phone


@pytest.mark.parametrize("name", list(page_diagrams()))
def test_page_diagrams_read_on_desktop_and_phone(name):
    fig = page_diagrams()[name]
    assert D.min_text_px(fig, 730) >= 0.8 * 16              # >= 0.8x the 16 px body text at 1280 px
    assert D.min_text_px(fig, 350) >= 10                    # a 390 px phone's ~350 px column


# ------------------------------------------------------------ shape ribbons
def test_ribbon_follows_vgg16_table():
    r = D.ribbon(architectures.vgg(16), (3, 224, 224))
    # Simonyan & Zisserman (2015), Table 1, configuration D: widths, 2x2 pools, then FC-4096, FC-4096, FC-1000
    assert r.channels == (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512, 4096, 4096, 1000)
    assert r.spatial == (224, 224, 112, 112, 56, 56, 56, 28, 28, 28, 14, 14, 14, 1, 1, 1)


def test_ribbons_of_the_flagships():
    networks, sizes = D.flagship_networks()
    assert list(networks) == ["AlexNet", "VGG-16", "GoogLeNet", "ResNet-50", "DenseNet-121", "EfficientNet-B0"]
    fig = D.shape_ribbons()
    depths = {r.name: len(r.channels) for r in fig.ribbons}
    # the names' own depths (AlexNet 8, VGG-16 16, GoogLeNet 22, ResNet-50 50, DenseNet-121 121)
    assert [depths[n] for n in ("AlexNet", "VGG-16", "GoogLeNet", "ResNet-50", "DenseNet-121")] == \
        [8, 16, 22, 50, 121]
    for r in fig.ribbons:
        c = count(networks[r.name], (3, sizes[r.name], sizes[r.name]))
        assert len(r.channels) == c.depth and r.params == c.params
        assert r.channels[-1] == 1000 and r.spatial[-1] == 1
    resnet = next(r for r in fig.ribbons if r.name == "ResNet-50")
    assert resnet.spatial[0] == 112 and min(resnet.spatial[:-1]) == 7
    assert D.min_text_px(fig, 730) >= 0.8 * 16 and D.min_text_px(fig, 350) >= 10
    assert D.to_svg(fig) == D.to_svg(D.shape_ribbons()) and "ResNet-50: 50 weight layers" in fig.alt
    assert zoo.get("efficientnet-b0").input_size == sizes["EfficientNet-B0"]
