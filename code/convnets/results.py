"""Published ImageNet results (``data/imagenet_results.csv``), joined with the zoo's counts.

Every accuracy in the chapter comes from this file, each row with a citation key
into ``references.bib``, its source (the paper's own table, or reference weights)
and its evaluation protocol (crops, test size). Reference weights come in versions:
torchvision's ``IMAGENET1K_V1`` and, for some networks, ``IMAGENET1K_V2``, the same
architecture trained with a later recipe; :func:`weights_version` tells them apart.
"""

from __future__ import annotations

import csv
import re
from importlib import resources

from . import zoo

SOURCES = {"paper", "weights"}
VERSIONS = {"V1", "V2"}
FIELDS = ["network", "top1", "top5", "cite", "source", "where", "crops", "test_size", "resize", "recipe"]
_WEIGHTS = re.compile(r"\w+_Weights\.IMAGENET1K_(V\d)")


def _number(text: str):
    return float(text) if text.strip() else None


def load(path=None) -> list[dict]:
    """Read the results file (comment lines start with #), check every row, return dicts.

    ``top1``/``top5`` are floats or None; ``test_size`` an int. A row naming an unknown
    network or source, or reference weights not named like ``ResNet50_Weights.IMAGENET1K_V2``,
    raises ``ValueError`` with its line number.
    """
    if path is None:
        text = resources.files("convnets").joinpath("data/imagenet_results.csv").read_text()
    else:
        with open(path) as f:
            text = f.read()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    reader = csv.DictReader(lines)
    if reader.fieldnames != FIELDS:
        raise ValueError(f"results file columns must be {FIELDS}, got {reader.fieldnames}")
    rows = []
    for i, raw in enumerate(reader, start=2):
        if raw["network"] not in zoo.ZOO:
            raise ValueError(f"results row {i}: unknown network {raw['network']!r}")
        if raw["source"] not in SOURCES:
            raise ValueError(f"results row {i}: source must be one of {sorted(SOURCES)}, got {raw['source']!r}")
        if raw["source"] == "weights" and not _WEIGHTS.fullmatch(raw["where"]):
            raise ValueError(f"results row {i}: reference weights must be named like "
                             f"ResNet50_Weights.IMAGENET1K_V1, got {raw['where']!r}")
        row = dict(raw, top1=_number(raw["top1"]), top5=_number(raw["top5"]), test_size=int(raw["test_size"]))
        for key in ("top1", "top5"):
            if row[key] is not None and not 0 < row[key] < 100:
                raise ValueError(f"results row {i}: {key} must be a percentage, got {row[key]}")
        rows.append(row)
    return rows


def weights_version(row: dict) -> str | None:
    """Which reference weights a row reports, "V1" or "V2" (from ``where``); None for a paper's result."""
    if row["source"] != "weights":
        return None
    return _WEIGHTS.fullmatch(row["where"]).group(1)


def _check_versions(versions) -> tuple[str, ...]:
    if isinstance(versions, str):
        versions = (versions,)
    for v in versions:
        if v not in VERSIONS:
            raise ValueError(f"version must be one of {sorted(VERSIONS)}, got {v!r}")
    return tuple(versions)


def top1(source: str = "weights", version: str = "V1") -> dict[str, float]:
    """Top-1 accuracy by network for one source.

    ``source="weights"``: torchvision's reference weights, all measured one way (one centre
    crop), of the given ``version`` ("V1", the default, or "V2", which only some networks
    have). ``source="paper"``: the papers' own results (``version`` does not apply to them).
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {sorted(SOURCES)}, got {source!r}")
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {sorted(VERSIONS)}, got {version!r}")
    return {r["network"]: r["top1"] for r in load()
            if r["source"] == source and r["top1"] is not None and weights_version(r) in (None, version)}


def recipe_gains() -> dict[str, float]:
    """Top-1 points each network gains from torchvision's V1 weights to its V2 weights (the same
    architecture retrained with a later recipe, and evaluated at a re-tuned resize), by network."""
    v1, v2 = top1("weights", "V1"), top1("weights", "V2")
    return {name: v2[name] - v1[name] for name in v2}


def source(row: dict) -> str:
    """Where a result comes from, briefly: the paper's table, or which reference weights."""
    if row["source"] == "weights":
        return f"reference weights {row['where'].rsplit('.', 1)[-1]}"     # e.g. IMAGENET1K_V1
    return f"paper, {row['where']}"


def protocol(row: dict) -> str:
    """A short human description of how a result was measured."""
    if row["crops"] == "dense":
        return f"dense evaluation, smallest side {row['test_size']}"
    crops = "1 crop" if row["crops"] == "1" else f"{row['crops']} crops"
    return f"{crops} of {row['test_size']}x{row['test_size']}"


def with_counts(rows: list[dict] | None = None, *, versions=("V1",), after_efficientnet: bool = False) -> list[dict]:
    """Results that have a top-1 value, each with the network's family, parameters and MACs added.

    Reference-weight results are counted at their own test size (torchvision evaluates
    EfficientNet-B2 at 288, not the paper's 260, which costs more MACs); paper results at the
    network's nominal input size (AlexNet's 227, which its "224" needs; VGG's dense evaluation
    at 384 is counted at the usual 224).

    ``versions`` selects the reference weights: ("V1",) by default, ("V1", "V2") to add the
    retrained ones. ``after_efficientnet=True`` adds the networks of
    :data:`convnets.zoo.FAMILIES_AFTER_EFFICIENTNET` (ResNeXt to ConvNeXt), left out by
    default so that the milestone pages' figures show the milestones only.
    """
    versions = _check_versions(versions)
    out = []
    for row in load() if rows is None else rows:
        if row["top1"] is None or weights_version(row) not in (None, *versions):
            continue
        if not after_efficientnet and zoo.get(row["network"]).family in zoo.FAMILIES_AFTER_EFFICIENTNET:
            continue
        entry = zoo.get(row["network"])
        size = row["test_size"] if row["source"] == "weights" else entry.input_size
        counts = zoo.counts(row["network"], size)
        label = row["network"].replace("-torchvision", "").replace("efficientnet-", "EffNet-").replace("-v1", "")
        label += " (V2)" if weights_version(row) == "V2" else ""
        out.append(dict(row, family=entry.family, params=counts.params, macs=counts.macs, label=label))
    return out
