"""benchmarks/conv_alternatives.py: the two other convolution algorithms it times must compute
what Conv2d computes (out, dx, dW, db), or its timings mean nothing."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from convnets.conv import Conv2d

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "conv_alternatives.py"
spec = importlib.util.spec_from_file_location("conv_alternatives", SCRIPT)
alternatives = importlib.util.module_from_spec(spec)
spec.loader.exec_module(alternatives)


@pytest.mark.parametrize("variant", ["ShiftedTaps", "OverlappingRows"])
@pytest.mark.parametrize("kernel, batch, size", [(3, 2, (6, 7)), (5, 3, (5, 4)), (1, 2, (3, 3))])
def test_alternative_matches_conv2d(variant, kernel, batch, size):
    rng = np.random.default_rng(1)
    conv = Conv2d(3, 5, kernel, 1, kernel // 2, rng=rng, dtype=np.float64)
    conv.params["b"][:] = rng.standard_normal(5)
    x = rng.standard_normal((batch, 3, *size))
    dout = rng.standard_normal((batch, 5, *size))
    layer = getattr(alternatives, variant)(conv)
    if variant == "ShiftedTaps":
        layer.CHUNK_BYTES = 3 * 8 * 8            # rows of 3 + 5 float64 channels: 3 per chunk, many chunks
    alternatives.check(layer, conv, x, dout, rtol=1e-12)
    layer.forward(x)                             # a second call reuses the kept arrays
    alternatives.check(layer, conv, x, dout, rtol=1e-12)
