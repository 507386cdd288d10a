"""Layer behaviour against PyTorch: what convnets computes, and what it refuses.

Optional (needs the ``bench`` extra: torch, torchvision); the default tests do not import
torch. Checks, each printing its largest difference or its verdict:

* ``AdaptiveAvgPool2d`` forward and input gradient against
  ``torch.nn.functional.adaptive_avg_pool2d``, on sizes the output divides and sizes it does
  not (overlapping bins), and on inputs smaller than the output;
* NaN in one input pixel: the outputs ``FastConv2d`` (on its dense tiny-image way and on
  im2col) and ``conv2d`` leave NaN, position by position;
* which pooling paddings, batch-norm batches and Flatten inputs each side refuses;
* torchvision GoogLeNet's batch-norm eps against ``architectures.googlenet("torchvision")``.

    PYTHONPATH=code python benchmarks/crosscheck_layers.py
"""

from __future__ import annotations

import numpy as np
from convnets import layers as L
from convnets.architectures import googlenet
from convnets.conv_fast import FastConv2d
from convnets.spec import BatchNorm, Concat, Seq


def adaptive_pool(torch) -> float:
    """Largest difference of output and dx over the shapes tried (float64)."""
    rng, worst = np.random.default_rng(0), 0.0
    for (h, w), size in [((7, 7), 3), ((13, 13), 6), ((5, 9), 4), ((6, 6), 3), ((2, 3), 3), ((14, 10), 7)]:
        x, layer = rng.standard_normal((2, 3, h, w)), L.AdaptiveAvgPool2d(size)
        out = layer.forward(x)
        dout = rng.standard_normal(out.shape)
        xt = torch.from_numpy(x).requires_grad_(True)
        ref = torch.nn.functional.adaptive_avg_pool2d(xt, size)
        ref.backward(torch.from_numpy(dout))
        dx = layer.backward(dout)
        worst = max(worst, np.abs(out - ref.detach().numpy()).max(), np.abs(dx - xt.grad.numpy()).max())
        print(f"  adaptive pool {h}x{w} -> {size}x{size}: max difference so far {worst:.1e}")
    return worst


def nan_outputs(torch) -> bool:
    """Whether NaN lands on the same outputs in FastConv2d and torch's conv2d, for every pixel."""
    same = True
    for size, kernel, stride, padding in [((4, 4), 3, 1, 1), ((2, 2), 3, 1, 1), ((4, 4), 3, 2, 1), ((8, 8), 3, 1, 1)]:
        conv = FastConv2d(3, 4, kernel, stride, padding, rng=np.random.default_rng(0), dtype=np.float64)
        for y in range(size[0]):
            for x0 in range(size[1]):
                x = np.random.default_rng(1).standard_normal((2, 3, *size))
                x[0, 1, y, x0] = np.nan
                ours = np.isnan(conv.forward(x))
                theirs = torch.isnan(torch.nn.functional.conv2d(
                    torch.from_numpy(x), torch.from_numpy(conv.params["W"]), torch.from_numpy(conv.params["b"]),
                    stride=stride, padding=padding)).numpy()
                same &= np.array_equal(ours, theirs)
        print(f"  NaN in one pixel, {size[0]}x{size[1]}, k={kernel} s={stride} p={padding} ({conv.way}): "
              f"{int(ours.sum())} NaN outputs for the last pixel; same as torch for every pixel so far: {same}")
    return same


def refusals(torch) -> bool:
    """Whether both refuse exactly the same pooling paddings, one-value batch norms and 1-D Flatten inputs."""
    def refused(fn):
        try:
            fn()
        except (ValueError, RuntimeError, IndexError):
            return True
        return False

    agree = True
    x = np.zeros((1, 1, 8, 8), np.float32)
    for kernel in range(1, 6):
        for padding in range(4):
            for ours, theirs in ((L.MaxPool2d, torch.nn.MaxPool2d), (L.AvgPool2d, torch.nn.AvgPool2d)):
                a = refused(lambda: ours(kernel, 1, padding).forward(x))                     # noqa: B023
                b = refused(lambda: theirs(kernel, 1, padding)(torch.from_numpy(x)))         # noqa: B023
                agree &= a == b
    for shape in [(1, 4), (1, 4, 1, 1), (2, 4), (1, 4, 2, 1)]:
        z = np.ones(shape, np.float32)
        norm = torch.nn.BatchNorm1d(4) if len(shape) == 2 else torch.nn.BatchNorm2d(4)
        agree &= refused(lambda: L.BatchNorm(4).forward(z)) == refused(lambda: norm(torch.from_numpy(z)))  # noqa: B023
    agree &= refused(lambda: L.Flatten().forward(np.zeros(5, np.float32))) == refused(
        lambda: torch.nn.Flatten()(torch.zeros(5)))
    print(f"  pooling padding 0-3 for kernels 1-5, batch norm on one value per channel, Flatten of 1-D: "
          f"same refusals: {agree}")
    return agree


def googlenet_eps(torchvision) -> bool:
    def leaves(node):
        items = node.items if isinstance(node, Seq) else node.branches if isinstance(node, Concat) else None
        return [node] if items is None else [leaf for item in items for leaf in leaves(item)]

    theirs = [m.eps for m in torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False).modules()
              if type(m).__name__ == "BatchNorm2d"]
    ours = [leaf.eps for leaf in leaves(googlenet("torchvision")) if isinstance(leaf, BatchNorm)]
    print(f"  GoogLeNet batch norms: torchvision {len(theirs)} with eps {sorted(set(theirs))}, "
          f"ours {len(ours)} with eps {sorted(set(ours))}")
    return sorted(theirs) == sorted(ours)


def main() -> None:
    import torch
    import torchvision

    torch.set_num_threads(1)
    worst = adaptive_pool(torch)
    results = {"adaptive pooling (max difference < 1e-12)": worst < 1e-12, "NaN outputs": nan_outputs(torch),
               "refusals": refusals(torch), "GoogLeNet eps": googlenet_eps(torchvision)}
    for name, ok in results.items():
        print(f"{name}: {'agrees' if ok else 'DIFFERS'}")


if __name__ == "__main__":
    main()
