"""The six milestones (and MobileNetV2), and the networks after EfficientNet, each written like its paper's table.

Every function returns a :mod:`convnets.spec` tree for a 3-channel ImageNet
input and 1000 classes unless told otherwise. Where the paper and the
reference implementation most libraries ship differ, both are here:

=============  ==================================  ======================================
network        paper                               reference implementation (torchvision)
=============  ==================================  ======================================
AlexNet        2 GPUs: grouped conv2/4/5, LRN,     "one weird trick" widths 64-192-384-
               96-256-384-384-256, 227x227 input   256-256, no groups, no LRN
GoogLeNet      true 5x5 branch, biases, no BN      3x3 in the "5x5" branch, BN, no bias
ResNet-50+     stride in the first 1x1             stride in the 3x3 ("v1.5")
=============  ==================================  ======================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import groupby

import numpy as np

from .blocks import (
    GOOGLENET_TORCHVISION_BN_EPS,
    basic_block,
    bottleneck_block,
    conv_bn_act,
    convnext_block,
    dense_layer,
    fused_mbconv,
    inception,
    mbconv,
    mobilenet_v3_block,
    regnet_block,
    transition,
)
from .checks import one_of, positive_int
from .spec import (
    LRN,
    Act,
    AdaptiveAvgPool,
    BatchNorm,
    Conv,
    Dropout,
    Flatten,
    GlobalAvgPool,
    LayerNorm,
    Linear,
    MaxPool,
    Seq,
)


def _classifier(*hidden: int, classes: int, dropout: float) -> Seq:
    """Flatten, then (dropout?) linear + ReLU per hidden width, then the output layer."""
    items = [Flatten()]
    for width in hidden:
        items += [Dropout(dropout), Linear(width), Act("relu")] if dropout else [Linear(width), Act("relu")]
    if dropout and not hidden:
        items.append(Dropout(dropout))
    items.append(Linear(classes))
    return Seq("classifier", *items)


# ----------------------------------------------------------------------- AlexNet
#  Krizhevsky et al. (2012), Fig. 2; conv2, conv4 and conv5 see only their own GPU's half.
ALEXNET_2012 = [
    #  name     out  kernel stride pad  groups  LRN    max-pool
    ("conv1",   96,  11,    4,     0,   1,      True,  True),
    ("conv2",   256, 5,     1,     2,   2,      True,  True),
    ("conv3",   384, 3,     1,     1,   1,      False, False),
    ("conv4",   384, 3,     1,     1,   2,      False, False),
    ("conv5",   256, 3,     1,     1,   2,      False, True),
]
#  Krizhevsky (2014), "one weird trick": the widths torchvision's AlexNet ships.
ALEXNET_ONE_WEIRD_TRICK = [
    ("conv1",   64,  11,    4,     2,   1,      False, True),
    ("conv2",   192, 5,     1,     2,   1,      False, True),
    ("conv3",   384, 3,     1,     1,   1,      False, False),
    ("conv4",   256, 3,     1,     1,   1,      False, False),
    ("conv5",   256, 3,     1,     1,   1,      False, True),
]


def alexnet(variant: str = "paper", classes: int = 1000) -> Seq:
    """AlexNet: ``variant="paper"`` (2012, input 227x227) or ``"torchvision"`` (input 224x224)."""
    one_of("variant", variant, {"paper", "torchvision"})
    table = ALEXNET_2012 if variant == "paper" else ALEXNET_ONE_WEIRD_TRICK
    stages = []
    for name, out, k, s, p, groups, lrn, pool in table:
        items = [Conv(out, k, s, p, groups=groups, bias=True), Act("relu")]
        items += [LRN()] if lrn else []
        items += [MaxPool(3, 2)] if pool else []
        stages.append(Seq(name, *items))
    pool = [] if variant == "paper" else [AdaptiveAvgPool(6)]
    return Seq("alexnet", *stages, *pool, _classifier(4096, 4096, classes=classes, dropout=0.5))


# --------------------------------------------------------------------------- VGG
#  Simonyan & Zisserman (2015), Table 1: numbers are 3x3 convolutions' widths, "M" a 2x2 max-pool.
VGG_CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],                       # VGG-11
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],               # VGG-13
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],  # VGG-16
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],                                                               # VGG-19
}
VGG_DEPTHS = {11: "A", 13: "B", 16: "D", 19: "E"}


def vgg(depth: int = 16, batch_norm: bool = False, classes: int = 1000) -> Seq:
    """VGG-11/13/16/19 (configurations A, B, D, E); ``batch_norm`` adds BN after each conv (biases kept)."""
    one_of("depth", depth, set(VGG_DEPTHS))
    stages, items, block = [], [], 1
    for v in VGG_CONFIGS[VGG_DEPTHS[depth]]:
        if v == "M":
            stages.append(Seq(f"block{block}", *items, MaxPool(2, 2)))
            items, block = [], block + 1
        else:
            items += [Conv(v, 3, bias=True)] + ([BatchNorm()] if batch_norm else []) + [Act("relu")]
    return Seq(f"vgg{depth}", *stages, AdaptiveAvgPool(7), _classifier(4096, 4096, classes=classes, dropout=0.5))


# --------------------------------------------------------------------- GoogLeNet
#  Szegedy et al. (2015), Table 1.
GOOGLENET_INCEPTIONS = [
    #  name  #1x1  #3x3 reduce  #3x3  #5x5 reduce  #5x5  pool proj
    ("3a",   64,   96,          128,  16,          32,   32),
    ("3b",   128,  128,         192,  32,          96,   64),
    ("4a",   192,  96,          208,  16,          48,   64),
    ("4b",   160,  112,         224,  24,          64,   64),
    ("4c",   128,  128,         256,  24,          64,   64),
    ("4d",   112,  144,         288,  32,          64,   64),
    ("4e",   256,  160,         320,  32,          128,  128),
    ("5a",   256,  160,         320,  32,          128,  128),
    ("5b",   384,  192,         384,  48,          128,  128),
]


def googlenet(variant: str = "paper", classes: int = 1000) -> Seq:
    """GoogLeNet without its auxiliary heads: ``"paper"`` (Caffe's bvlc_googlenet) or ``"torchvision"``."""
    one_of("variant", variant, {"paper", "torchvision"})
    faithful = variant == "paper"

    def conv(name, out, kernel, stride=1):
        return conv_bn_act(name, out, kernel, stride, bn=not faithful, eps=GOOGLENET_TORCHVISION_BN_EPS).items

    lrn = [LRN()] if faithful else []
    stem = Seq("stem", *conv("conv1", 64, 7, 2), MaxPool(3, 2, ceil_mode=True), *lrn,
               *conv("conv2", 64, 1), *conv("conv3", 192, 3), *lrn, MaxPool(3, 2, ceil_mode=True))
    modules = {name: inception(name, *widths, faithful=faithful) for name, *widths in GOOGLENET_INCEPTIONS}
    last_pool = MaxPool(3, 2, ceil_mode=True) if faithful else MaxPool(2, 2, ceil_mode=True)
    return Seq("googlenet", stem,
               Seq("inception3", modules["3a"], modules["3b"], MaxPool(3, 2, ceil_mode=True)),
               Seq("inception4", *(modules[n] for n in ("4a", "4b", "4c", "4d", "4e")), last_pool),
               Seq("inception5", modules["5a"], modules["5b"]),
               GlobalAvgPool(), _classifier(classes=classes, dropout=0.4 if faithful else 0.2))


# ------------------------------------------------------------------------ ResNet
#  He et al. (2015), Table 1: blocks per stage; stage widths 64, 128, 256, 512.
RESNET_STAGES = {
    #     block         conv2_x conv3_x conv4_x conv5_x
    18:  ("basic",      (2,      2,      2,      2)),
    34:  ("basic",      (3,      4,      6,      3)),
    50:  ("bottleneck", (3,      4,      6,      3)),
    101: ("bottleneck", (3,      4,      23,     3)),
    152: ("bottleneck", (3,      8,      36,     3)),
}
RESNET_WIDTHS = (64, 128, 256, 512)


def resnet(depth: int = 50, *, stride_in_3x3: bool = True, classes: int = 1000) -> Seq:
    """ResNet-18/34/50/101/152. ``stride_in_3x3=False`` is the paper's v1 bottleneck."""
    one_of("depth", depth, set(RESNET_STAGES))
    kind, counts = RESNET_STAGES[depth]
    stem = Seq("stem", *conv_bn_act("conv1", 64, 7, 2).items, MaxPool(3, 2, 1))
    stages, channels = [], 64
    for i, (width, count) in enumerate(zip(RESNET_WIDTHS, counts, strict=True)):
        blocks = []
        for j in range(count):
            stride = 2 if i > 0 and j == 0 else 1
            if kind == "basic":
                blocks.append(basic_block(channels, width, stride))
                channels = width
            else:
                blocks.append(bottleneck_block(channels, width, stride, stride_in_3x3=stride_in_3x3))
                channels = 4 * width
        stages.append(Seq(f"conv{i + 2}_x", *blocks))
    return Seq(f"resnet{depth}", stem, *stages, GlobalAvgPool(), _classifier(classes=classes, dropout=0))


# ---------------------------------------------------------------------- DenseNet
#  Huang et al. (2017), Table 1: dense layers per block (growth rate k = 32, bottleneck 4k, compression 0.5).
DENSENET_BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32)}


def densenet(depth: int = 121, *, growth: int = 32, compression: float = 0.5, classes: int = 1000) -> Seq:
    """DenseNet-BC: stem of 2k channels, four dense blocks, transitions that halve channels."""
    one_of("depth", depth, set(DENSENET_BLOCKS))
    channels = 2 * growth
    stem = Seq("stem", *conv_bn_act("conv0", channels, 7, 2).items, MaxPool(3, 2, 1))
    stages = []
    for i, layers in enumerate(DENSENET_BLOCKS[depth]):
        items = [dense_layer(growth) for _ in range(layers)]
        channels += layers * growth
        if i < 3:
            channels = int(channels * compression)
            items.append(transition(channels))
        stages.append(Seq(f"denseblock{i + 1}", *items))
    return Seq(f"densenet{depth}", stem, *stages, BatchNorm(), Act("relu"), GlobalAvgPool(),
               _classifier(classes=classes, dropout=0))


# ------------------------------------------------------------------ EfficientNet
#  Tan & Le (2019), Table 1: EfficientNet-B0, one MBConv stage per line.
EFFICIENTNET_B0 = [
    #  expand  kernel  stride  out   repeats
    (1,        3,      1,      16,   1),
    (6,        3,      2,      24,   2),
    (6,        5,      2,      40,   2),
    (6,        3,      2,      80,   3),
    (6,        5,      1,      112,  3),
    (6,        5,      2,      192,  4),
    (6,        3,      1,      320,  1),
]
#  The released coefficients (width, depth, resolution, dropout) of the reference code
#  (tensorflow/tpu efficientnet_builder.py). The paper gives no phi per model, and these are not
#  alpha**phi, beta**phi, 224 * gamma**phi for phi = 1..7 (see compound_scaling).
EFFICIENTNET_COEFFICIENTS = {
    "b0": (1.0, 1.0, 224, 0.2),
    "b1": (1.0, 1.1, 240, 0.2),
    "b2": (1.1, 1.2, 260, 0.3),
    "b3": (1.2, 1.4, 300, 0.3),
    "b4": (1.4, 1.8, 380, 0.4),
    "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5),
    "b7": (2.0, 3.1, 600, 0.5),
}


def round_channels(channels: float, width: float = 1.0, divisor: int = 8) -> int:
    """Scale a channel count and round it to a multiple of ``divisor``, never down by more than 10%.

    The rule of the reference code (``round_filters`` in tensorflow/tpu's EfficientNet,
    ``_make_divisible`` in MobileNetV2 and torchvision).
    """
    scaled = channels * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * scaled:
        rounded += divisor
    return int(rounded)


def round_repeats(repeats: int, depth: float) -> int:
    """Scale a stage's number of blocks and round up (``round_repeats`` in the reference code)."""
    return int(math.ceil(depth * repeats))


def efficientnet(name: str = "b0", classes: int = 1000) -> Seq:
    """EfficientNet-B0..B7: B0's table scaled by the released width and depth coefficients."""
    one_of("name", name, set(EFFICIENTNET_COEFFICIENTS))
    width, depth, _, dropout = EFFICIENTNET_COEFFICIENTS[name]
    channels = round_channels(32, width)
    stem = conv_bn_act("stem", channels, 3, 2, act="silu")
    stages = []
    for i, (expand, kernel, stride, out, repeats) in enumerate(EFFICIENTNET_B0):
        out = round_channels(out, width)
        blocks = []
        for j in range(round_repeats(repeats, depth)):
            blocks.append(mbconv(channels, out, kernel, stride if j == 0 else 1, expand))
            channels = out
        stages.append(Seq(f"stage{i + 1}", *blocks))
    head = conv_bn_act("head", round_channels(1280, width), 1, act="silu")
    return Seq(f"efficientnet-{name}", stem, *stages, head, GlobalAvgPool(),
               _classifier(classes=classes, dropout=dropout))


#  Sandler et al. (2018), Table 2: t (expansion), c (channels), n (repeats), s (stride).
MOBILENET_V2 = [
    #  t  c    n  s
    (1, 16,  1, 1),
    (6, 24,  2, 2),
    (6, 32,  3, 2),
    (6, 64,  4, 2),
    (6, 96,  3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


def mobilenet_v2(classes: int = 1000) -> Seq:
    """MobileNetV2 (width 1.0): inverted residuals with ReLU6 and no squeeze-and-excitation."""
    channels = 32
    stem = conv_bn_act("stem", channels, 3, 2, act="relu6")
    stages = []
    for i, (t, c, n, s) in enumerate(MOBILENET_V2):
        blocks = []
        for j in range(n):
            blocks.append(mbconv(channels, c, 3, s if j == 0 else 1, t, se_ratio=0, act="relu6"))
            channels = c
        stages.append(Seq(f"stage{i + 1}", *blocks))
    head = conv_bn_act("head", 1280, 1, act="relu6")
    return Seq("mobilenet_v2", stem, *stages, head, GlobalAvgPool(), _classifier(classes=classes, dropout=0.2))


# ------------------------------------------------------------ small, runnable nets
def small_resnet(depth: int, *, residual: bool = True, widths: tuple[int, ...] = (16, 32, 64),
                 in_channels: int = 1, classes: int = 10, variant: str = "post") -> Seq:
    """The CIFAR-style networks of He et al. (2015, section 4.2), sized for small images.

    depth = 6n + 2: a 3x3 stem, three stages of n basic blocks (widths doubling, stride 2
    between stages), global average pooling and a linear layer. ``residual=False`` is the
    plain network with the same layers. Shortcuts that change shape are 1x1 projections
    (the paper's option B).

    ``variant="pre"`` builds pre-activation blocks (He et al., 2016) and, as that paper's
    appendix does, "for the last Residual Unit ... an extra activation right after its
    element-wise addition": batch norm and ReLU before the pooling. Without it the sum of
    all the branches reaches the classifier unnormalised.
    """
    depth = positive_int("depth", depth, minimum=8)
    if (depth - 2) % 6:
        raise ValueError(f"depth must be 6n + 2 (8, 14, 20, 26, 32, 44, 56, ...), got {depth}")
    positive_int("in_channels", in_channels)
    n = (depth - 2) // 6
    channels = widths[0]
    stages = []
    for i, width in enumerate(widths):
        blocks = []
        for j in range(n):
            stride = 2 if i > 0 and j == 0 else 1
            blocks.append(basic_block(channels, width, stride, residual=residual, variant=variant))
            channels = width
        stages.append(Seq(f"stage{i + 1}", *blocks))
    final = [Seq("final", BatchNorm(), Act("relu"))] if variant == "pre" else []
    return Seq(f"{'res' if residual else 'plain'}{depth}", conv_bn_act("stem", widths[0], 3), *stages, *final,
               GlobalAvgPool(), _classifier(classes=classes, dropout=0))


#  Tan & Le (2019), section 3.3: depth d = alpha**phi, width w = beta**phi, resolution r = gamma**phi,
#  with alpha * beta**2 * gamma**2 ~ 2 found by a grid search at phi = 1.
COMPOUND_ALPHA, COMPOUND_BETA, COMPOUND_GAMMA = 1.2, 1.1, 1.15


def compound_scaling(phi: float) -> tuple[float, float, float]:
    """(depth, width, resolution) multipliers alpha**phi, beta**phi, gamma**phi of the compound rule."""
    return COMPOUND_ALPHA ** phi, COMPOUND_BETA ** phi, COMPOUND_GAMMA ** phi


# =========================================================== after EfficientNet
# ---------------------------------------------------- ResNeXt and Wide ResNet
#  Xie et al. (2017), Table 1 (right column), ResNeXt-50 (32x4d): each bottleneck's 1x1 and 3x3 layers are
#  `width` wide, the 3x3 split into 32 groups of 4 channels ("32x4d" is cardinality x group width).
RESNEXT50_32X4D = [
    #  stage       blocks  width  groups  out
    ("conv2_x",    3,      128,   32,     256),
    ("conv3_x",    4,      256,   32,     512),
    ("conv4_x",    6,      512,   32,     1024),
    ("conv5_x",    3,      1024,  32,     2048),
]
#  Zagoruyko & Komodakis (2016), ImageNet experiments, WRN-50-2-bottleneck: ResNet-50 with the inner 1x1 and
#  3x3 layers of every bottleneck twice as wide (widening factor 2); the outputs stay ResNet-50's.
WIDE_RESNET50_2 = [
    #  stage       blocks  width  groups  out
    ("conv2_x",    3,      128,   1,      256),
    ("conv3_x",    4,      256,   1,      512),
    ("conv4_x",    6,      512,   1,      1024),
    ("conv5_x",    3,      1024,  1,      2048),
]


def wide_bottleneck_resnet(table: list, name: str, classes: int = 1000) -> Seq:
    """A ResNet-50-like network from a stage table of (stage, blocks, width, groups, out): ResNeXt or Wide ResNet.

    The stem, strides (in the 3x3, "v1.5", as torchvision) and head are ResNet-50's.
    """
    stem = Seq("stem", *conv_bn_act("conv1", 64, 7, 2).items, MaxPool(3, 2, 1))
    stages, channels = [], 64
    for i, (stage, blocks, width, groups, out) in enumerate(table):
        items = []
        for j in range(blocks):
            items.append(bottleneck_block(channels, width, 2 if i > 0 and j == 0 else 1, groups=groups, out=out))
            channels = out
        stages.append(Seq(stage, *items))
    return Seq(name, stem, *stages, GlobalAvgPool(), _classifier(classes=classes, dropout=0))


def resnext50_32x4d(classes: int = 1000) -> Seq:
    """ResNeXt-50 (32x4d) (Xie et al., 2017, Table 1)."""
    return wide_bottleneck_resnet(RESNEXT50_32X4D, "resnext50-32x4d", classes)


def wide_resnet50_2(classes: int = 1000) -> Seq:
    """Wide ResNet-50-2 (Zagoruyko & Komodakis, 2016): ResNet-50 with bottlenecks twice as wide inside."""
    return wide_bottleneck_resnet(WIDE_RESNET50_2, "wide-resnet50-2", classes)


# ----------------------------------------------------------------------- RegNet
#  Radosavovic et al. (2020): a RegNet is not a table but six numbers: depth d (blocks), initial width w0,
#  slope wa, width multiplier wm, group width g, and for RegNetY the squeeze-and-excitation ratio. The values
#  are those of the authors' model zoo (pycls, configs/dds_baselines), which torchvision uses.
REGNET_MODELS = {
    #                 d   w0  wa     wm    g   SE ratio
    "regnetx-400mf": (22, 24, 24.48, 2.54, 16, 0),
    "regnety-400mf": (16, 48, 27.89, 2.09, 8,  0.25),
    "regnety-800mf": (14, 56, 38.84, 2.40, 16, 0.25),
}
REGNET_STEM = 32          # the stem: one 3x3 convolution, stride 2, to 32 channels (fixed in the design space)


@dataclass(frozen=True)
class RegNetWidths:
    """Every step of RegNet's quantised linear rule for one model (see :func:`regnet_widths`)."""

    u: tuple[float, ...]            # u_j = w0 + wa * j, the linear ramp, one per block
    s: tuple[float, ...]            # s_j with u_j = w0 * wm ** s_j
    steps: tuple[int, ...]          # round(s_j): how many factors of wm above w0
    powers: tuple[float, ...]       # w0 * wm ** round(s_j), before rounding to a multiple of 8
    block_widths: tuple[int, ...]   # w0 * wm ** round(s_j), rounded to a multiple of 8: one per block
    stage_widths: tuple[int, ...]   # one width per run of equal block widths, fitted to the group width
    stage_depths: tuple[int, ...]   # blocks in each stage
    group_widths: tuple[int, ...]   # each stage's group width, min(g, stage width)


def regnet_widths(depth: int, w0: int, wa: float, wm: float, group_width: int, *, quantum: int = 8) -> RegNetWidths:
    """RegNet's quantised linear rule: from (d, w0, wa, wm, g) to stage widths and depths.

    Radosavovic et al. (2020), section 3.3:

    1. a linear ramp of block widths, u_j = w0 + wa * j for 0 <= j < d (their eq. 2);
    2. each u_j written as a power of wm times w0, u_j = w0 * wm ** s_j, so s_j = log(u_j / w0) / log(wm)
       (eq. 3);
    3. s_j rounded to the nearest integer, so that widths are whole steps of wm apart:
       w_j = w0 * wm ** round(s_j) (eq. 4); then rounded to a multiple of ``quantum`` = 8, as in the
       reference code (pycls ``generate_regnet``, torchvision ``BlockParams.from_init_params``);
    4. consecutive blocks of equal width form one stage, whose depth is their number;
    5. each stage width made a multiple of its group width min(g, w) (torchvision's
       ``_adjust_widths_groups_compatibilty`` with bottleneck ratio 1, rounding as ``round_channels``).

    Halves round to the even neighbour, as NumPy's and PyTorch's ``round`` do. Every intermediate
    value is returned, for showing the rule step by step.
    """
    positive_int("depth", depth)
    positive_int("w0", w0)
    positive_int("group_width", group_width)
    positive_int("quantum", quantum)
    if w0 % quantum:
        raise ValueError(f"w0 must be a multiple of quantum={quantum}, got {w0}")
    if not wa >= 0:
        raise ValueError(f"wa must be >= 0, got {wa}")
    if not wm > 1:
        raise ValueError(f"wm must be > 1, got {wm}")
    u = w0 + wa * np.arange(depth)                                      # eq. 2
    s = np.log(u / w0) / np.log(wm)                                     # eq. 3
    steps = np.round(s)
    powers = w0 * wm ** steps                                           # eq. 4
    quantised = np.round(powers / quantum).astype(int) * quantum        # then multiples of 8
    runs = [(int(w), len(list(blocks))) for w, blocks in groupby(quantised)]
    groups = tuple(min(group_width, w) for w, _ in runs)
    widths = tuple(round_channels(w, 1.0, g) for (w, _), g in zip(runs, groups, strict=True))
    return RegNetWidths(tuple(float(x) for x in u), tuple(float(x) for x in s), tuple(int(k) for k in steps),
                        tuple(float(p) for p in powers), tuple(int(w) for w in quantised), widths,
                        tuple(n for _, n in runs), groups)


def regnet(name: str = "regnetx-400mf", classes: int = 1000) -> Seq:
    """RegNetX-400MF, RegNetY-400MF or RegNetY-800MF: a 3x3 stem, stages of X (or Y) blocks whose widths and
    depths come from :func:`regnet_widths`, stride 2 at the start of every stage, pooling and a linear layer."""
    one_of("name", name, set(REGNET_MODELS))
    depth, w0, wa, wm, group_width, se_ratio = REGNET_MODELS[name]
    rule = regnet_widths(depth, w0, wa, wm, group_width)
    channels = REGNET_STEM
    stages = []
    for i, (width, blocks, groups) in enumerate(zip(rule.stage_widths, rule.stage_depths, rule.group_widths,
                                                    strict=True)):
        items = []
        for j in range(blocks):
            items.append(regnet_block(channels, width, 2 if j == 0 else 1, groups, se_ratio=se_ratio))
            channels = width
        stages.append(Seq(f"stage{i + 1}", *items))
    return Seq(name, conv_bn_act("stem", REGNET_STEM, 3, 2), *stages, GlobalAvgPool(),
               _classifier(classes=classes, dropout=0))


# --------------------------------------------------------------------- ConvNeXt
#  Liu et al. (2022), section 3 ("ConvNeXt-T: C = (96, 192, 384, 768), B = (3, 3, 9, 3)", and ConvNeXt-S);
#  stochastic depth rates of torchvision's (and the paper's) ImageNet-1K training: 0.1 and 0.4.
CONVNEXT_STAGES = {
    #                 channels C             blocks B         stochastic depth
    "convnext-tiny":  ((96, 192, 384, 768),  (3, 3, 9, 3),    0.1),
    "convnext-small": ((96, 192, 384, 768),  (3, 3, 27, 3),   0.4),
}


def convnext(name: str = "convnext-tiny", classes: int = 1000) -> Seq:
    """ConvNeXt-T or -S: a 4x4 stride-4 "patchify" stem, four stages of ConvNeXt blocks with a layer norm and a
    2x2 stride-2 convolution between them, global pooling, layer norm, linear.

    Stochastic depth rises linearly over the blocks from 0 to the model's rate (a no-op at inference).
    """
    one_of("name", name, set(CONVNEXT_STAGES))
    widths, blocks, rate = CONVNEXT_STAGES[name]
    total, done = sum(blocks), 0
    stages = []
    for i, (width, n) in enumerate(zip(widths, blocks, strict=True)):
        items = [Seq("downsample", LayerNorm(), Conv(width, 2, 2, padding=0, bias=True))] if i else []
        for _ in range(n):
            items.append(convnext_block(width, drop=rate * done / (total - 1)))
            done += 1
        stages.append(Seq(f"stage{i + 1}", *items))
    stem = Seq("stem", Conv(widths[0], 4, 4, padding=0, bias=True), LayerNorm())
    return Seq(name, stem, *stages, Seq("head", GlobalAvgPool(), LayerNorm(), Linear(classes)))


# --------------------------------------------------------------- EfficientNetV2
#  Tan & Le (2021), Table 4: EfficientNetV2-S, one stage per line (stage 0, the stem, and stage 7, the head,
#  are in efficientnet_v2_s); squeeze-and-excitation ratio 0.25 in the MBConv stages.
EFFICIENTNETV2_S = [
    #  block     expand  kernel  stride  out   layers
    ("fused",    1,      3,      1,      24,   2),
    ("fused",    4,      3,      2,      48,   4),
    ("fused",    4,      3,      2,      64,   4),
    ("mbconv",   4,      3,      2,      128,  6),
    ("mbconv",   6,      3,      1,      160,  9),
    ("mbconv",   6,      3,      2,      256,  15),
]


def efficientnet_v2_s(classes: int = 1000, *, drop_rate: float = 0.2) -> Seq:
    """EfficientNetV2-S: a 3x3 stem to 24 channels, Fused-MBConv then MBConv stages (Table 4), a 1x1 head to
    1280, pooling, dropout 0.2, linear. Stochastic depth rises linearly to ``drop_rate`` (torchvision's)."""
    stem = conv_bn_act("stem", 24, 3, 2, act="silu")
    total, done, channels = sum(row[-1] for row in EFFICIENTNETV2_S), 0, 24
    stages = []
    for i, (kind, expand, kernel, stride, out, layers) in enumerate(EFFICIENTNETV2_S):
        make = fused_mbconv if kind == "fused" else mbconv
        items = []
        for j in range(layers):
            items.append(make(channels, out, kernel, stride if j == 0 else 1, expand, drop=drop_rate * done / total))
            channels, done = out, done + 1
        stages.append(Seq(f"stage{i + 1}", *items))
    head = conv_bn_act("head", 1280, 1, act="silu")
    return Seq("efficientnetv2-s", stem, *stages, head, GlobalAvgPool(), _classifier(classes=classes, dropout=0.2))


# ------------------------------------------------------------------ MobileNetV3
#  Howard et al. (2019), Table 1: MobileNetV3-Large, one bneck per line. SE: squeeze-and-excitation
#  (squeezing to a quarter of the expansion, section 5.3); NL: ReLU (RE) or hard-swish (HS).
MOBILENET_V3_LARGE = [
    #  kernel  exp size  out  SE     NL    stride
    (3,        16,       16,  False, "RE", 1),
    (3,        64,       24,  False, "RE", 2),
    (3,        72,       24,  False, "RE", 1),
    (5,        72,       40,  True,  "RE", 2),
    (5,        120,      40,  True,  "RE", 1),
    (5,        120,      40,  True,  "RE", 1),
    (3,        240,      80,  False, "HS", 2),
    (3,        200,      80,  False, "HS", 1),
    (3,        184,      80,  False, "HS", 1),
    (3,        184,      80,  False, "HS", 1),
    (3,        480,      112, True,  "HS", 1),
    (3,        672,      112, True,  "HS", 1),
    (5,        672,      160, True,  "HS", 2),
    (5,        960,      160, True,  "HS", 1),
    (5,        960,      160, True,  "HS", 1),
]


def mobilenet_v3_large(classes: int = 1000) -> Seq:
    """MobileNetV3-Large: a 3x3 stem to 16 channels with hard-swish, the bnecks of Table 1, a 1x1 to 960,
    pooling, then two 1x1 layers without batch norm (960 -> 1280 with hard-swish, dropout 0.2, -> classes),
    written as linear layers since they act on a 1x1 map.

    The SE squeeze width is a quarter of the expansion rounded to a multiple of 8 (``round_channels``, the
    reference code's ``_make_divisible``): 72 -> 24, 120 -> 32, 480 -> 120, 672 -> 168, 960 -> 240.
    """
    act = {"RE": "relu", "HS": "hardswish"}
    channels = 16
    blocks = []
    for kernel, expanded, out, se, nl, stride in MOBILENET_V3_LARGE:
        squeeze = round_channels(expanded // 4) if se else 0
        blocks.append(mobilenet_v3_block(channels, expanded, out, kernel, stride, se_squeeze=squeeze, act=act[nl]))
        channels = out
    classifier = Seq("classifier", Linear(1280), Act("hardswish"), Dropout(0.2), Linear(classes))
    return Seq("mobilenet-v3-large", conv_bn_act("stem", 16, 3, 2, act="hardswish"), Seq("bnecks", *blocks),
               conv_bn_act("head", 960, 1, act="hardswish"), GlobalAvgPool(), classifier)


# ---- squeeze_excite and efficientnet pages: SE-ResNet, and EfficientNet at any width and depth
def se_resnet(depth: int = 50, *, reduction: int = 16, stride_in_3x3: bool = False, classes: int = 1000) -> Seq:
    """SE-ResNet-50/101/152 (Hu et al., 2020, Table 1): ResNet with squeeze-and-excitation, reduction
    ratio ``reduction``, in every bottleneck (see :func:`convnets.blocks.se_bottleneck_block`).

    The stride sits in the first 1x1 of each stage's first block unless ``stride_in_3x3``: the original
    ResNet, which the SENet paper's 3.86 GFLOPs for ResNet-50 counts.
    """
    from .blocks import se_bottleneck_block

    one_of("depth", depth, {d for d, (kind, _) in RESNET_STAGES.items() if kind == "bottleneck"})
    _, counts = RESNET_STAGES[depth]
    stem = Seq("stem", *conv_bn_act("conv1", 64, 7, 2).items, MaxPool(3, 2, 1))
    stages, channels = [], 64
    for i, (width, count) in enumerate(zip(RESNET_WIDTHS, counts, strict=True)):
        blocks = []
        for j in range(count):
            blocks.append(se_bottleneck_block(channels, width, 2 if i > 0 and j == 0 else 1, reduction=reduction,
                                              stride_in_3x3=stride_in_3x3))
            channels = 4 * width
        stages.append(Seq(f"conv{i + 2}_x", *blocks))
    return Seq(f"se-resnet{depth}", stem, *stages, GlobalAvgPool(), _classifier(classes=classes, dropout=0))


def efficientnet_scaled(width: float = 1.0, depth: float = 1.0, *, dropout: float = 0.2, drop_connect: float = 0.0,
                        classes: int = 1000, name: str = "efficientnet") -> Seq:
    """EfficientNet-B0's table (:data:`EFFICIENTNET_B0`) scaled by any ``width`` and ``depth`` coefficients.

    Channels are scaled and rounded by :func:`round_channels`, repeats by :func:`round_repeats`, as in
    :func:`efficientnet`, which this reproduces for the released coefficients:
    ``efficientnet_scaled(*EFFICIENTNET_COEFFICIENTS["b3"][:2])`` is EfficientNet-B3.

    ``drop_connect`` > 0 adds stochastic depth (Huang et al., 2016) to every block with an identity
    shortcut, at the rate of the reference code (tensorflow/tpu, ``efficientnet_model.py``): block i of
    the N blocks, counted from 0, is dropped with probability ``drop_connect * i / N`` (0.2 for the
    released models; Tan and Le's "survival probability 0.8").
    """
    from .checks import probability

    for argument, value in (("width", width), ("depth", depth)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{argument} must be a positive number, got {value!r}")
    probability("drop_connect", drop_connect)
    repeats = [round_repeats(r, depth) for *_, r in EFFICIENTNET_B0]
    total, index = sum(repeats), 0
    channels = round_channels(32, width)
    stem = conv_bn_act("stem", channels, 3, 2, act="silu")
    stages = []
    for i, ((expand, kernel, stride, out, _), n) in enumerate(zip(EFFICIENTNET_B0, repeats, strict=True)):
        out = round_channels(out, width)
        blocks = []
        for j in range(n):
            blocks.append(mbconv(channels, out, kernel, stride if j == 0 else 1, expand,
                                 drop=drop_connect * index / total))
            channels, index = out, index + 1
        stages.append(Seq(f"stage{i + 1}", *blocks))
    head = conv_bn_act("head", round_channels(1280, width), 1, act="silu")
    return Seq(name, stem, *stages, head, GlobalAvgPool(), _classifier(classes=classes, dropout=dropout))
