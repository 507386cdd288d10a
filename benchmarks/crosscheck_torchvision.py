"""Cross-check the zoo's counts against torchvision's reference implementations.

Optional: needs ``pip install torch==2.14.1 torchvision==0.29.1`` (see README,
"Optional extras"); the book and its tests never import torch.

For every zoo entry that torchvision ships, build the torchvision model, count
its trainable parameters, and count its convolution and linear MACs with
forward hooks (the same convention as ``convnets.accounting``), then print
both side by side. Exit status 1 if any parameter count differs or any MAC
count differs by more than 0.01 %.

    python benchmarks/crosscheck_torchvision.py
"""

from __future__ import annotations

import sys

import torch
import torchvision
from convnets import zoo

TORCHVISION_NAMES = {
    "alexnet-torchvision": "alexnet", "googlenet-torchvision": "googlenet",
    **{f"vgg{d}": f"vgg{d}" for d in (11, 13, 16, 19)},
    **{f"vgg{d}-bn": f"vgg{d}_bn" for d in (11, 13, 16, 19)},
    **{f"resnet{d}": f"resnet{d}" for d in (18, 34, 50, 101, 152)},
    **{f"densenet{d}": f"densenet{d}" for d in (121, 169, 201)},
    **{f"efficientnet-b{i}": f"efficientnet_b{i}" for i in range(8)},
    "mobilenet-v2": "mobilenet_v2",
}


def torch_counts(name: str, size: int) -> tuple[int, int]:
    kwargs = {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}
    model = torchvision.models.get_model(name, weights=None, **kwargs).eval()
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    macs = 0

    def hook(module, inputs, output):
        nonlocal macs
        if isinstance(module, torch.nn.Conv2d):
            macs += output.numel() * module.weight[0].numel()
        elif isinstance(module, torch.nn.Linear):
            macs += module.in_features * module.out_features

    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            m.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    return params, macs


def main() -> int:
    failed = 0
    print(f"{'zoo name':<24}{'ours params':>14}{'torchvision':>14}{'ours MACs':>16}{'torchvision':>16}")
    for ours, theirs in TORCHVISION_NAMES.items():
        entry = zoo.ZOO[ours]
        counts = zoo.counts(ours)
        params, macs = torch_counts(theirs, entry.input_size)
        bad = params != counts.params or abs(macs - counts.macs) > 1e-4 * macs
        failed += bad
        print(f"{ours:<24}{counts.params:>14,}{params:>14,}{counts.macs:>16,}{macs:>16,}{'  MISMATCH' if bad else ''}")
    print(f"{len(TORCHVISION_NAMES) - failed} matched, {failed} mismatched")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
