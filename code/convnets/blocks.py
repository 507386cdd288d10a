"""The building blocks of the six milestones, as definitions (see :mod:`convnets.spec`).

Each function returns a tree that :mod:`convnets.accounting` can count and
:mod:`convnets.build` can run. Input channels are passed only where a block's
structure depends on them (a projection shortcut, squeeze-and-excitation's width).
"""

from __future__ import annotations

from .checks import one_of, positive_int, probability
from .spec import (
    Act,
    AvgPool,
    BatchNorm,
    Concat,
    Conv,
    DenseConcat,
    Gate,
    GlobalAvgPool,
    LayerNorm,
    LayerScale,
    MaxPool,
    Residual,
    Seq,
    StochasticDepth,
)


def conv_bn_act(name: str, out: int, kernel: int, stride: int = 1, *, groups: int = 1,
                act: str | None = "relu", bn: bool = True, padding: int | None = None,
                eps: float = BatchNorm.eps) -> Seq:
    """Convolution (no bias when batch norm follows), batch norm (``eps`` added to the variance), activation."""
    items = [Conv(out, kernel, stride, padding, groups=groups, bias=not bn)]
    if bn:
        items.append(BatchNorm(eps=eps))
    if act:
        items.append(Act(act))
    return Seq(name, *items)


def _projection(in_channels: int, out: int, stride: int, bn: bool = True) -> Seq | None:
    """1x1 convolution shortcut when the shape changes, else None (identity)."""
    if stride == 1 and in_channels == out:
        return None
    return conv_bn_act("shortcut", out, 1, stride, act=None, bn=bn)


# ---------------------------------------------------------------------- ResNet
def basic_block(in_channels: int, out: int, stride: int = 1, *, variant: str = "post",
                residual: bool = True, bn: bool = True) -> Seq:
    """Two 3x3 convolutions (ResNet-18/34).

    variant "post" (He et al., 2015):  relu(BN(conv(relu(BN(conv x)))) + x)
    variant "pre"  (He et al., 2016):  conv(relu(BN(conv(relu(BN x))))) + x
    ``residual=False`` drops the shortcut: the "plain" network of the same depth.
    """
    one_of("variant", variant, {"post", "pre"})
    positive_int("in_channels", in_channels)
    if variant == "post":
        body = Seq("body", *conv_bn_act("a", out, 3, stride, bn=bn).items,
                   *conv_bn_act("b", out, 3, act=None, bn=bn).items)
        if not residual:
            return Seq("block", body, Act("relu"))
        return Seq("block", Residual(body, _projection(in_channels, out, stride, bn)), Act("relu"))
    pre = [BatchNorm()] if bn else []
    body = Seq("body", *pre, Act("relu"), Conv(out, 3, stride, bias=not bn),
               *pre, Act("relu"), Conv(out, 3, bias=not bn))
    if not residual:
        return Seq("block", body)
    shortcut = None if stride == 1 and in_channels == out else Seq("shortcut", Conv(out, 1, stride))
    return Seq("block", Residual(body, shortcut))


def bottleneck_block(in_channels: int, width: int, stride: int = 1, *,
                     expansion: int = 4, stride_in_3x3: bool = True,
                     groups: int = 1, out: int | None = None) -> Seq:
    """1x1 reduce, 3x3, 1x1 expand (ResNet-50/101/152).

    The output has ``expansion * width`` channels, or ``out`` when given
    (ResNeXt and Wide ResNet widen the inner layers, not the output).

    ``stride_in_3x3=False`` strides in the first 1x1 convolution, as the
    authors' released models do ("v1"); the default strides in the 3x3, as
    torchvision, timm and NVIDIA's "ResNet50 v1.5" do (more MACs; about 0.5
    points more top-1 accuracy, by NVIDIA's report).

    ``groups`` splits the 3x3 into that many independent groups: ResNeXt's
    cardinality (Xie et al., 2017, Fig. 3c).
    """
    out = expansion * width if out is None else positive_int("out", out)
    s1, s3 = (1, stride) if stride_in_3x3 else (stride, 1)
    body = Seq("body",
               *conv_bn_act("reduce", width, 1, s1).items,
               *conv_bn_act("conv3x3", width, 3, s3, groups=groups).items,
               *conv_bn_act("expand", out, 1, act=None).items)
    shortcut = _projection(in_channels, out, stride)
    return Seq("block", Residual(body, shortcut), Act("relu"))


# -------------------------------------------------------------------- DenseNet
def dense_layer(growth: int, bottleneck: int = 4) -> DenseConcat:
    """BN-ReLU-1x1 (bottleneck * growth) - BN-ReLU-3x3 (growth), concatenated to its input."""
    return DenseConcat(Seq("layer", BatchNorm(), Act("relu"), Conv(bottleneck * growth, 1),
                           BatchNorm(), Act("relu"), Conv(growth, 3)))


def transition(out: int) -> Seq:
    """BN-ReLU-1x1 convolution to ``out`` channels, then 2x2 average pooling."""
    return Seq("transition", BatchNorm(), Act("relu"), Conv(out, 1), AvgPool(2, 2))


# ------------------------------------------------------------------- GoogLeNet
#  torchvision's GoogLeNet normalises with eps 1e-3, not PyTorch's default 1e-5
#  (torchvision/models/googlenet.py, BasicConv2d: nn.BatchNorm2d(out_channels, eps=0.001)).
GOOGLENET_TORCHVISION_BN_EPS = 1e-3


def inception(name: str, c1: int, c3_reduce: int, c3: int, c5_reduce: int, c5: int, pool_proj: int,
              *, faithful: bool = True) -> Concat:
    """Inception module: four parallel branches, concatenated (Szegedy et al., 2015, Table 1).

    ``faithful=True``: convolutions with bias and ReLU, no batch norm, a true 5x5 branch.
    ``faithful=False``: torchvision's reference: conv (no bias) + BN (eps 1e-3) + ReLU, and a 3x3
    where the paper has its 5x5 (a known quirk kept for compatibility with its weights).
    """
    def conv(out, kernel):
        return conv_bn_act("", out, kernel, bn=not faithful, eps=GOOGLENET_TORCHVISION_BN_EPS).items

    k5 = 5 if faithful else 3
    return Concat(name,
                  Seq("1x1", *conv(c1, 1)),
                  Seq("3x3", *conv(c3_reduce, 1), *conv(c3, 3)),
                  Seq("5x5", *conv(c5_reduce, 1), *conv(c5, k5)),     # a 3x3 in torchvision
                  Seq("pool", MaxPool(3, 1, 1, ceil_mode=True), *conv(pool_proj, 1)))


# ----------------------------------------------------------- MobileNet / EfficientNet
def squeeze_excite(channels: int, squeezed: int, act: str = "silu", gate: str = "sigmoid") -> Gate:
    """Global pool, 1x1 down to ``squeezed``, act, 1x1 back up, ``gate``: one weight per channel.

    MobileNetV3 gates with the hard sigmoid (``gate="hardsigmoid"``) instead of the sigmoid.
    """
    return Gate(Seq("se", GlobalAvgPool(keepdims=True), Conv(squeezed, 1, bias=True), Act(act),
                    Conv(channels, 1, bias=True), Act(gate)))


def mbconv(in_channels: int, out: int, kernel: int, stride: int, expand: int, *,
           se_ratio: float = 0.25, act: str = "silu", drop: float = 0.0) -> Seq:
    """Inverted residual (MobileNetV2) with optional squeeze-and-excitation (EfficientNet's MBConv).

    1x1 expand to ``expand * in`` (skipped when expand = 1), depthwise k x k with the stride,
    SE squeezing to ``se_ratio * in`` channels, linear 1x1 projection; identity shortcut when
    the shape is unchanged. ``drop`` > 0 ends a body that has a shortcut with stochastic depth
    (EfficientNetV2 as torchvision builds it).
    """
    positive_int("in_channels", in_channels)
    hidden = in_channels * positive_int("expand", expand)
    items = []
    if expand != 1:
        items += conv_bn_act("expand", hidden, 1, act=act).items
    items += conv_bn_act("depthwise", hidden, kernel, stride, groups=hidden, act=act).items
    if se_ratio:
        items.append(squeeze_excite(hidden, max(1, int(in_channels * se_ratio))))
    items += conv_bn_act("project", out, 1, act=None).items
    return _inverted_residual(in_channels, out, stride, items, drop)


def _inverted_residual(in_channels: int, out: int, stride: int, items: list, drop: float = 0.0) -> Seq:
    """The layers ``items`` as a block, with an identity shortcut (and stochastic depth) when the shape is kept."""
    if stride == 1 and in_channels == out:
        drop_path = [StochasticDepth(probability("drop", drop))] if drop else []
        return Seq("block", Residual(Seq("body", *items, *drop_path)))
    return Seq("block", Seq("body", *items))


# ------------------------------------------------------------ after EfficientNet
def fused_mbconv(in_channels: int, out: int, kernel: int, stride: int, expand: int, *, drop: float = 0.0) -> Seq:
    """EfficientNetV2's Fused-MBConv (Tan & Le, 2021, Fig. 2): MBConv's 1x1 expansion and depthwise k x k
    fused into one full k x k convolution, then the linear 1x1 projection; no squeeze-and-excitation.

    With ``expand`` = 1 the block is the k x k convolution alone (to ``out``, with its activation).
    Identity shortcut (and stochastic depth ``drop``) when the shape is unchanged.
    """
    positive_int("in_channels", in_channels)
    hidden = in_channels * positive_int("expand", expand)
    if expand == 1:
        items = conv_bn_act("fused", out, kernel, stride, act="silu").items
    else:
        items = (*conv_bn_act("fused", hidden, kernel, stride, act="silu").items,
                 *conv_bn_act("project", out, 1, act=None).items)
    return _inverted_residual(in_channels, out, stride, list(items), drop)


def mobilenet_v3_block(in_channels: int, expanded: int, out: int, kernel: int, stride: int, *,
                       se_squeeze: int = 0, act: str) -> Seq:
    """MobileNetV3's bneck (Howard et al., 2019, sections 4-5): MobileNetV2's inverted residual with the expansion
    width given directly (``expanded``, the table's "exp size"), hard-swish or ReLU (``act``), and, when
    ``se_squeeze`` > 0, squeeze-and-excitation after the depthwise convolution, squeezing to ``se_squeeze``
    channels with ReLU inside and a hard-sigmoid gate.
    """
    positive_int("in_channels", in_channels)
    items = []
    if expanded != in_channels:
        items += conv_bn_act("expand", expanded, 1, act=act).items
    items += conv_bn_act("depthwise", expanded, kernel, stride, groups=expanded, act=act).items
    if se_squeeze:
        items.append(squeeze_excite(expanded, se_squeeze, act="relu", gate="hardsigmoid"))
    items += conv_bn_act("project", out, 1, act=None).items
    return _inverted_residual(in_channels, out, stride, items)


def regnet_block(in_channels: int, out: int, stride: int, group_width: int, *, se_ratio: float = 0.0) -> Seq:
    """RegNet's X block (Radosavovic et al., 2020, Fig. 4): a ResNeXt bottleneck with bottleneck ratio 1.

    1x1, 3x3 in groups of ``group_width`` channels (with the stride), 1x1, all ``out`` wide; a 1x1
    projection shortcut when the shape changes; ReLU after the addition. ``se_ratio`` > 0 makes it
    the Y block: squeeze-and-excitation after the 3x3, squeezing to ``se_ratio`` times the block's
    *input* width (torchvision's and pycls' convention), with ReLU inside and a sigmoid gate.
    """
    positive_int("in_channels", in_channels)
    if out % positive_int("group_width", group_width):
        raise ValueError(f"group_width {group_width} must divide the block width {out}")
    items = [*conv_bn_act("a", out, 1).items, *conv_bn_act("b", out, 3, stride, groups=out // group_width).items]
    if se_ratio:
        items.append(squeeze_excite(out, int(round(se_ratio * in_channels)), act="relu"))
    items += conv_bn_act("c", out, 1, act=None).items
    return Seq("block", Residual(Seq("body", *items), _projection(in_channels, out, stride)), Act("relu"))


def convnext_block(channels: int, *, drop: float = 0.0, layer_scale: float = 1e-6) -> Seq:
    """ConvNeXt's block (Liu et al., 2022, section 2): depthwise 7x7, layer norm, 1x1 to 4C, GELU, 1x1 back to C,
    layer scale, stochastic depth, plus the input. One normalisation and one activation per block.

    The two 1x1 convolutions are the reference code's per-pixel linear layers (``nn.Linear`` on
    channels-last tensors): the same weights, biases and multiply-accumulates.
    """
    c = positive_int("channels", channels)
    body = Seq("body", Conv(c, 7, groups=c, bias=True), LayerNorm(), Conv(4 * c, 1, bias=True), Act("gelu"),
               Conv(c, 1, bias=True), LayerScale(layer_scale), StochasticDepth(drop))
    return Seq("block", Residual(body))


# ---- depthwise, squeeze_excite and efficientnet pages: MobileNetV1's separable layer, SE-ResNet's block
def depthwise_separable(in_channels: int, out: int, kernel: int = 3, stride: int = 1, *, bn: bool = True,
                        act: str | None = "relu") -> Seq:
    """A depthwise-separable convolution (Howard et al., 2017, section 3.1 and Fig. 3; Chollet, 2017).

    A depthwise k x k convolution filters each of the ``in_channels`` on its own (one filter per
    channel, with the stride), then a 1x1 "pointwise" convolution mixes them into ``out``
    channels; MobileNetV1 puts batch norm and ReLU after each. ``bn=False, act=None`` leaves the
    two bare convolutions (no biases), whose parameters and MACs are ``1/out + 1/kernel**2`` times
    those of one full k x k convolution from ``in_channels`` to ``out``.
    """
    c = positive_int("in_channels", in_channels)
    positive_int("out", out)
    positive_int("kernel", kernel)
    positive_int("stride", stride)
    if not isinstance(bn, bool):
        raise TypeError(f"bn must be True or False, got {bn!r}")

    def after(*convs):
        return [*convs, *([BatchNorm()] if bn else []), *([Act(act)] if act else [])]

    return Seq("separable", Seq("depthwise", *after(Conv(c, kernel, stride, groups=c))),
               Seq("pointwise", *after(Conv(out, 1))))


def se_bottleneck_block(in_channels: int, width: int, stride: int = 1, *, reduction: int = 16,
                        stride_in_3x3: bool = False) -> Seq:
    """SE-ResNet's bottleneck (Hu et al., 2020, Fig. 3 and Table 1): ResNet's 1x1-3x3-1x1 residual body
    followed by squeeze-and-excitation on its ``4 * width`` output channels, before the addition.

    The gate squeezes to ``4 * width // reduction`` channels (r = 16 in the paper) with ReLU inside and a
    sigmoid; its two 1x1 convolutions (the paper's two fully connected layers) have biases.
    ``stride_in_3x3=False`` (the default) strides in the first 1x1, as the original ResNet-50 whose
    3.86 GFLOPs the SENet paper reports.
    """
    positive_int("reduction", reduction)
    out = 4 * positive_int("width", width)
    if out // reduction < 1:
        raise ValueError(f"reduction {reduction} leaves no channel in the gate of a {out}-channel block")
    residual, relu = bottleneck_block(in_channels, width, stride, stride_in_3x3=stride_in_3x3).items
    body = Seq("body", *residual.body.items, squeeze_excite(out, out // reduction, act="relu"))
    return Seq("block", Residual(body, residual.shortcut), relu)
