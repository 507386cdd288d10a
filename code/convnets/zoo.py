"""The architecture zoo: every network of the chapter, counted, and a command line.

    python -m convnets.zoo              # table of all networks
    python -m convnets.zoo --csv        # the same, as CSV
    python -m convnets.zoo resnet50     # one network's per-layer summary
"""

from __future__ import annotations

import argparse
import csv
import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from . import architectures as A
from .accounting import Counts, count, summary


@dataclass(frozen=True)
class Entry:
    """One network: how to build it, when it appeared, what it is evaluated at.

    ``year`` is when the work first appeared: the challenge entry or the arXiv preprint,
    which for most of these came a year before the peer-reviewed paper ``cite`` names.
    """

    name: str
    family: str
    year: int
    input_size: int
    make: Callable
    cite: str
    note: str = ""


def _entries():
    yield Entry("alexnet", "AlexNet", 2012, 227, lambda: A.alexnet("paper"), "krizhevsky2012imagenet",
                "paper: two-GPU grouped convolutions, LRN")
    yield Entry("alexnet-torchvision", "AlexNet", 2014, 224, lambda: A.alexnet("torchvision"),
                "krizhevsky2014weird", "one-weird-trick widths, as torchvision ships")
    for d in (11, 13, 16, 19):
        yield Entry(f"vgg{d}", "VGG", 2014, 224, functools.partial(A.vgg, d), "simonyan2015vgg",
                    f"configuration {A.VGG_DEPTHS[d]}")
        yield Entry(f"vgg{d}-bn", "VGG", 2014, 224, functools.partial(A.vgg, d, True), "simonyan2015vgg",
                    f"configuration {A.VGG_DEPTHS[d]} with batch norm")
    yield Entry("googlenet", "GoogLeNet", 2014, 224, lambda: A.googlenet("paper"), "szegedy2015going",
                "paper: true 5x5 branch, biases, LRN, no BN, no auxiliary heads")
    yield Entry("googlenet-torchvision", "GoogLeNet", 2014, 224, lambda: A.googlenet("torchvision"),
                "szegedy2015going", "torchvision: 3x3 in the 5x5 branch, BN, no auxiliary heads")
    for d in (18, 34, 50, 101, 152):
        yield Entry(f"resnet{d}", "ResNet", 2015, 224, functools.partial(A.resnet, d), "he2016deep",
                    "v1.5: stride in the 3x3" if d >= 50 else "")
    for d in (50, 101, 152):
        yield Entry(f"resnet{d}-v1", "ResNet", 2015, 224, functools.partial(A.resnet, d, stride_in_3x3=False),
                    "he2016deep", "paper: stride in the first 1x1")
    for d in (121, 169, 201):
        yield Entry(f"densenet{d}", "DenseNet", 2016, 224, functools.partial(A.densenet, d), "huang2017densely")
    yield Entry("mobilenet-v2", "MobileNetV2", 2018, 224, A.mobilenet_v2, "sandler2018mobilenetv2")
    for b, (_, _, resolution, _) in A.EFFICIENTNET_COEFFICIENTS.items():
        yield Entry(f"efficientnet-{b}", "EfficientNet", 2019, resolution, functools.partial(A.efficientnet, b),
                    "tan2019efficientnet")
    # after EfficientNet; years are when each work first appeared (arXiv), input sizes torchvision's evaluation crops
    yield Entry("resnext50-32x4d", "ResNeXt", 2016, 224, A.resnext50_32x4d, "xie2017aggregated",
                "cardinality 32: grouped 3x3 convolutions, 4 channels per group")
    yield Entry("wide-resnet50-2", "Wide ResNet", 2016, 224, A.wide_resnet50_2, "zagoruyko2016wide",
                "ResNet-50 with bottlenecks twice as wide inside")
    for name in A.REGNET_MODELS:
        yield Entry(name, "RegNet", 2020, 224, functools.partial(A.regnet, name), "radosavovic2020designing",
                    "widths and depths from the quantised linear rule" + (", SE" if "regnety" in name else ""))
    for name in A.CONVNEXT_STAGES:
        yield Entry(name, "ConvNeXt", 2022, 224, functools.partial(A.convnext, name), "liu2022convnet",
                    "depthwise 7x7, layer norm, inverted bottleneck, layer scale")
    yield Entry("efficientnetv2-s", "EfficientNetV2", 2021, 384, A.efficientnet_v2_s, "tan2021efficientnetv2",
                "Fused-MBConv then MBConv; evaluated at 384")
    yield Entry("mobilenet-v3-large", "MobileNetV3", 2019, 224, A.mobilenet_v3_large, "howard2019searching",
                "hard-swish, SE with hard-sigmoid gate")


ZOO: dict[str, Entry] = {e.name: e for e in _entries()}
#  the families that came after EfficientNet (the chapter's closing page); the others are the milestones and MobileNetV2
FAMILIES_AFTER_EFFICIENTNET = ("ResNeXt", "Wide ResNet", "RegNet", "ConvNeXt", "EfficientNetV2", "MobileNetV3")


def get(name: str) -> Entry:
    """The zoo entry called ``name``; a ``KeyError`` lists the valid names."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if name not in ZOO:
        raise KeyError(f"unknown network {name!r}; valid names: {', '.join(ZOO)}")
    return ZOO[name]


@functools.cache
def counts(name: str, input_size: int | None = None) -> Counts:
    """Count the zoo network ``name`` at its own input size (or ``input_size``)."""
    entry = get(name)
    size = entry.input_size if input_size is None else input_size
    return count(entry.make(), (3, size, size))


def table() -> list[dict]:
    """One row per network: name, family, year, input size, params, MACs, depth."""
    rows = []
    for e in ZOO.values():
        c = counts(e.name)
        rows.append({"name": e.name, "family": e.family, "year": e.year, "input": e.input_size,
                     "params": c.params, "macs": c.macs, "depth": c.depth, "cite": e.cite, "note": e.note})
    return rows


@dataclass(frozen=True)
class TorchvisionCounts:
    """What torchvision documents for a network's first weights (``data/torchvision_counts.csv``).

    ``params`` is exact; ``gflops`` is multiply-accumulates in billions as torchvision writes them
    (its decimals are the precision of the comparison), or None where the file gives none.
    """

    params: int
    gflops: str | None

    def gmacs(self, macs: int) -> str:
        """``macs`` in billions, written with as many decimals as torchvision's ``gflops``."""
        if self.gflops is None:
            raise ValueError("this network has no published GFLOPS to compare with")
        decimals = len(self.gflops.partition(".")[2])
        return f"{macs / 1e9:.{decimals}f}"


@functools.cache
def torchvision_counts() -> dict[str, TorchvisionCounts]:
    """Network name -> what torchvision 0.29.1 documents for it (comment lines give the sources)."""
    text = resources.files("convnets").joinpath("data/torchvision_counts.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#"))
    table = {}
    for row in rows:
        if row["network"] not in ZOO:
            raise ValueError(f"torchvision_counts.csv: unknown network {row['network']!r}")
        table[row["network"]] = TorchvisionCounts(int(row["params"]), row["gflops"] or None)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convnets.zoo", description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?", help="print this network's per-layer summary")
    parser.add_argument("--csv", action="store_true", help="print the table as CSV")
    parser.add_argument("--size", type=int, help="input size (default: the network's own)")
    args = parser.parse_args(argv)
    if args.name:
        if args.name not in ZOO:
            print(f"unknown network {args.name!r}; valid names:\n  " + "\n  ".join(ZOO), file=sys.stderr)
            return 2
        try:
            print(summary(counts(args.name, args.size)))
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        return 0
    rows = table()
    if args.csv:
        print("name,family,year,input,params,macs,depth")
        for r in rows:
            print(f"{r['name']},{r['family']},{r['year']},{r['input']},{r['params']},{r['macs']},{r['depth']}")
    else:
        print(f"{'name':<24}{'year':>6}{'input':>7}{'params':>14}{'MACs':>17}{'depth':>7}")
        for r in rows:
            print(f"{r['name']:<24}{r['year']:>6}{r['input']:>7}{r['params']:>14,}{r['macs']:>17,}{r['depth']:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
