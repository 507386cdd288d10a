"""Convolution arithmetic: output sizes and receptive fields.

The one formula every layer of the chapter uses (Dumoulin & Visin, 2016):

    out = floor((size + 2 * padding - kernel) / stride) + 1

With ``ceil_mode=True`` (Caffe's pooling, kept by torchvision's GoogLeNet) the
floor becomes a ceiling, except that a window may not start inside the right
padding.
"""

from __future__ import annotations

import math

from .checks import positive_int


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0,
                     *, ceil_mode: bool = False, dilation: int = 1) -> int:
    """Spatial output size of a convolution or pooling window.

    >>> conv_output_size(224, kernel=7, stride=2, padding=3)
    112
    >>> conv_output_size(112, kernel=3, stride=2, padding=0, ceil_mode=True)
    56
    """
    size = positive_int("size", size)
    kernel = positive_int("kernel", kernel)
    stride = positive_int("stride", stride)
    padding = positive_int("padding", padding, minimum=0)
    dilation = positive_int("dilation", dilation)
    span = dilation * (kernel - 1) + 1
    if span > size + 2 * padding:
        raise ValueError(
            f"kernel {kernel} (span {span}) is larger than the padded input "
            f"{size} + 2*{padding} = {size + 2 * padding}"
        )
    room = size + 2 * padding - span
    if not ceil_mode:
        return room // stride + 1
    out = math.ceil(room / stride) + 1
    if (out - 1) * stride >= size + padding:  # last window would start in the padding
        out -= 1
    return out


def receptive_field(layers: list[tuple[int, int]]) -> int:
    """Receptive field of a stack of (kernel, stride) layers, in input pixels.

    Each layer adds ``(kernel - 1) * jump`` where ``jump`` is the product of the
    strides before it.

    >>> receptive_field([(3, 1), (3, 1)])   # two 3x3 convolutions see 5x5
    5
    """
    field, jump = 1, 1
    for i, (kernel, stride) in enumerate(layers):
        positive_int(f"layers[{i}] kernel", kernel)
        positive_int(f"layers[{i}] stride", stride)
        field += (kernel - 1) * jump
        jump *= stride
    return field
