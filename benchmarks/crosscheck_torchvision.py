"""Cross-check the zoo's counts against torchvision's reference implementations and published metadata.

Optional: needs ``pip install torch==2.14.1 torchvision==0.29.1`` (see README,
"Optional extras"); the book and its tests never import torch.

For every zoo entry that torchvision ships:

1. build the torchvision model, count its trainable parameters, and count its
   convolution and linear MACs with forward hooks (the convention of
   ``convnets.accounting``; a linear layer applied per pixel, as in ConvNeXt,
   costs in * out per pixel), at the zoo entry's input size;
2. compare with the metadata of its IMAGENET1K_V1 weights: ``num_params``, and
   ``_ops`` (GFLOPS, at 2 or 3 decimals) against the zoo's MACs counted at the
   weights' own evaluation crop (EfficientNet-B2: 288, not the paper's 260),
   rounded to the same decimals.

RegNet's quantised linear rule (``convnets.architectures.regnet_widths``) is also
checked against ``torchvision.models.regnet.BlockParams``, and every reference-weights
row of ``convnets/data/imagenet_results.csv`` (top-1, top-5, crop, resize, recipe)
against the metadata of the weights it names; and the NumPy layers added for these
networks (hard-swish, hard-sigmoid, GELU, layer norm over channels) against PyTorch's,
forward and backward, in float64. Exit status 1 if any parameter count differs, any MAC
count differs by more than 0.01 %, any published GFLOPS differs at its decimals, any
RegNet stage differs, any results row differs from its weights, or any layer differs
from PyTorch's by more than 1e-6.

    python benchmarks/crosscheck_torchvision.py
"""

from __future__ import annotations

import sys
from decimal import Decimal

import numpy as np
import torch
import torchvision
from convnets import architectures as A
from convnets import layers as L
from convnets import results, zoo
from torchvision.models import get_model_weights
from torchvision.models.regnet import BlockParams

TORCHVISION_NAMES = {
    "alexnet-torchvision": "alexnet", "googlenet-torchvision": "googlenet",
    **{f"vgg{d}": f"vgg{d}" for d in (11, 13, 16, 19)},
    **{f"vgg{d}-bn": f"vgg{d}_bn" for d in (11, 13, 16, 19)},
    **{f"resnet{d}": f"resnet{d}" for d in (18, 34, 50, 101, 152)},
    **{f"densenet{d}": f"densenet{d}" for d in (121, 169, 201)},
    **{f"efficientnet-b{i}": f"efficientnet_b{i}" for i in range(8)},
    "mobilenet-v2": "mobilenet_v2",
    # after EfficientNet
    "resnext50-32x4d": "resnext50_32x4d", "wide-resnet50-2": "wide_resnet50_2",
    "regnetx-400mf": "regnet_x_400mf", "regnety-400mf": "regnet_y_400mf", "regnety-800mf": "regnet_y_800mf",
    "convnext-tiny": "convnext_tiny", "convnext-small": "convnext_small",
    "efficientnetv2-s": "efficientnet_v2_s", "mobilenet-v3-large": "mobilenet_v3_large",
}
REGNET_INIT = {
    "regnetx-400mf": {"depth": 22, "w_0": 24, "w_a": 24.48, "w_m": 2.54, "group_width": 16},
    "regnety-400mf": {"depth": 16, "w_0": 48, "w_a": 27.89, "w_m": 2.09, "group_width": 8},
    "regnety-800mf": {"depth": 14, "w_0": 56, "w_a": 38.84, "w_m": 2.4, "group_width": 16},
}


def torch_counts(name: str, size: int) -> tuple[int, int]:
    """(trainable parameters, conv + linear MACs) of torchvision's ``name`` on one size x size image."""
    kwargs = {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}
    model = torchvision.models.get_model(name, weights=None, **kwargs).eval()
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    macs = 0

    def hook(module, inputs, output):
        nonlocal macs
        if isinstance(module, torch.nn.Conv2d):
            macs += output.numel() * module.weight[0].numel()
        elif isinstance(module, torch.nn.Linear):
            macs += output.numel() * module.in_features          # per pixel when applied channels-last

    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            m.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    return params, macs


def published(name: str) -> tuple[int, float, int]:
    """(num_params, _ops in GFLOPS, evaluation crop) of the IMAGENET1K_V1 weights' metadata."""
    weights = get_model_weights(name).IMAGENET1K_V1
    return weights.meta["num_params"], weights.meta["_ops"], weights.transforms().crop_size[0]


def regnet_mismatches() -> int:
    failed = 0
    for ours, init in REGNET_INIT.items():
        theirs = BlockParams.from_init_params(**init)
        rule = A.regnet_widths(*A.REGNET_MODELS[ours][:5])
        same = (list(rule.stage_widths), list(rule.stage_depths), list(rule.group_widths)) == \
            (theirs.widths, theirs.depths, theirs.group_widths)
        failed += not same
        print(f"{ours:<24}widths {list(rule.stage_widths)} depths {list(rule.stage_depths)} "
              f"groups {list(rule.group_widths)}{'' if same else '  MISMATCH: torchvision ' + str(theirs.widths)}")
    return failed


def results_mismatches() -> int:
    """Rows of the results file that differ from the torchvision weights they name."""
    failed = checked = 0
    for row in results.load():
        if row["source"] != "weights":
            continue
        enum_name, member = row["where"].split(".")
        weights = getattr(torchvision.models, enum_name)[member]
        acc = weights.meta["_metrics"]["ImageNet-1K"]
        transforms = weights.transforms()
        theirs = (acc["acc@1"], acc["acc@5"], transforms.crop_size[0], str(transforms.resize_size[0]),
                  weights.meta["recipe"])
        ours = (row["top1"], row["top5"], row["test_size"], row["resize"], row["recipe"])
        checked += 1
        if ours != theirs:
            failed += 1
            print(f"MISMATCH {row['where']}: file {ours}, torchvision {theirs}")
    print(f"{checked - failed} of {checked} reference-weights rows of imagenet_results.csv equal their metadata")
    return failed


def layer_mismatches(tolerance: float = 1e-6) -> int:
    """The layers of the networks after EfficientNet against PyTorch's: largest forward and input-gradient error."""
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((2, 6, 5, 5)) * 3, rng.standard_normal((2, 6, 5, 5))
    norm = L.LayerNorm2d(6, dtype=np.float64)
    norm.params["gamma"], norm.params["beta"] = rng.standard_normal(6), rng.standard_normal(6)
    torch_norm = torch.nn.LayerNorm(6, eps=1e-6).double()
    with torch.no_grad():
        torch_norm.weight.copy_(torch.from_numpy(norm.params["gamma"]))
        torch_norm.bias.copy_(torch.from_numpy(norm.params["beta"]))
    pairs = {"Hardswish": (L.Hardswish(), torch.nn.functional.hardswish),
             "Hardsigmoid": (L.Hardsigmoid(), torch.nn.functional.hardsigmoid),
             "GELU": (L.GELU(), torch.nn.functional.gelu),
             "LayerNorm2d": (norm, lambda t: torch_norm(t.permute(0, 2, 3, 1)).permute(0, 3, 1, 2))}
    failed = 0
    for name, (ours, theirs) in pairs.items():
        ours.zero_grad()
        out, dx = ours.forward(x), ours.backward(dout)
        t = torch.from_numpy(x).requires_grad_(True)
        out_t = theirs(t)
        out_t.backward(torch.from_numpy(dout))
        errors = np.abs(out - out_t.detach().numpy()).max(), np.abs(dx - t.grad.numpy()).max()
        bad = max(errors) > tolerance
        failed += bad
        print(f"{name:<14}forward {errors[0]:.1e}  backward {errors[1]:.1e}{'  MISMATCH' if bad else ''}")
    return failed


def main() -> int:
    failed = 0
    print(f"{'zoo name':<22}{'ours params':>13}{'torchvision':>13}{'num_params':>13}"
          f"{'ours MACs':>16}{'torchvision':>16}{'crop':>6}{'ours G':>9}{'_ops':>8}")
    for ours, theirs in TORCHVISION_NAMES.items():
        entry = zoo.ZOO[ours]
        counts = zoo.counts(ours)
        params, macs = torch_counts(theirs, entry.input_size)
        meta_params, ops, crop = published(theirs)
        decimals = -Decimal(str(ops)).as_tuple().exponent               # 2 or 3, as published
        ours_g = round(zoo.counts(ours, crop).macs / 1e9, max(decimals, 2))
        bad = (params != counts.params or meta_params != counts.params
               or abs(macs - counts.macs) > 1e-4 * macs or ours_g != ops)
        failed += bad
        print(f"{ours:<22}{counts.params:>13,}{params:>13,}{meta_params:>13,}{counts.macs:>16,}{macs:>16,}"
              f"{crop:>6}{ours_g:>9}{ops:>8}{'  MISMATCH' if bad else ''}")
    print(f"{len(TORCHVISION_NAMES) - failed} of {len(TORCHVISION_NAMES)} networks matched")
    print("\nRegNet stages from the quantised linear rule, against torchvision's BlockParams:")
    regnet_failed = regnet_mismatches()
    print(f"{len(REGNET_INIT) - regnet_failed} of {len(REGNET_INIT)} RegNets matched\n")
    results_failed = results_mismatches()
    print("\nLayers of the networks after EfficientNet against PyTorch's (float64, largest absolute error):")
    layers_failed = layer_mismatches()
    return 1 if failed or regnet_failed or results_failed or layers_failed else 0


if __name__ == "__main__":
    sys.exit(main())
