"""The convolution layer (convnets.conv): forward against plain loops, backward against
finite differences (float64), on every way it can take: flat runs of the image's phases
(stride 1 with enough padding, and strided ones whose output is ceil(H / s) wide), sliding
windows for the rest, in one chunk or several, grouped, and the dense-matrix form for tiny
images."""

import numpy as np
import pytest
from convnets import conv as C
from convnets.conv import Conv2d
from gradcheck import check_layer, rand

# (kernel, stride, padding, groups) on 8 x 7 images. Runs: stride-1 "same" ones (2p = k - 1:
# 3x3, 1x1, 5x5, grouped), stride 1 with more padding, an even kernel, strided 3x3 with
# p = 1, 1x1 with p = 0, 5x5 at stride 3. Windows: no padding (3x3 at stride 1, grouped 3x3
# and 2x2 at stride 2).
CONV_CASES = [(3, 1, 1, 1), (1, 1, 0, 1), (5, 1, 2, 1), (3, 1, 1, 4), (3, 1, 1, 2),
              (3, 1, 2, 1), (1, 1, 1, 1), (2, 1, 1, 1), (3, 2, 1, 1), (1, 2, 0, 1), (5, 3, 2, 2),
              (3, 1, 0, 1), (3, 2, 0, 2), (2, 2, 0, 1)]


def expected_way(kernel, stride, padding, groups, h, w):
    """Conv2d's rule, restated: dense for tiny images, runs when the output is at least
    ceil(H / s) x ceil(W / s), sliding windows otherwise."""
    if groups == 1 and h * w <= 2 * kernel ** 2:
        return "dense"
    out_h, out_w = (h + 2 * padding - kernel) // stride + 1, (w + 2 * padding - kernel) // stride + 1
    return "runs" if out_h >= -(-h // stride) and out_w >= -(-w // stride) else "windows"


@pytest.mark.parametrize("kernel, stride, padding, groups", CONV_CASES)
def test_conv_gradients(kernel, stride, padding, groups):
    conv = Conv2d(4, 8, kernel, stride, padding, groups, rng=np.random.default_rng(0), dtype=np.float64)
    check_layer(conv, rand(2, 4, 8, 7))                 # 8 x 7: not tiny for a 5x5 kernel
    assert conv.cache[0] == expected_way(kernel, stride, padding, groups, 8, 7)


@pytest.mark.parametrize("stride, padding", [(1, 1), (2, 1), (1, 0)])
def test_conv_in_chunks_gradients(stride, padding):
    """A batch of 3 in chunks of 2 and 1 examples (the chunking that keeps cols in cache),
    on runs at stride 1 and 2, and on windows."""
    conv = Conv2d(4, 8, 3, stride, padding, rng=np.random.default_rng(0), dtype=np.float64)
    out_h, out_w = conv._output_size(6, 5)
    conv.CHUNK_BYTES = 2 * out_h * out_w * (4 * 3 * 3) * 8          # two examples' cols, float64
    assert conv._chunks(3, out_h * out_w, 4 * 3 * 3) == [(0, 2), (2, 3)]
    check_layer(conv, rand(3, 4, 6, 5))
    assert conv.cache[0] == expected_way(3, stride, padding, 1, 6, 5)


@pytest.mark.parametrize("kernel, stride", [(3, 2), (3, 1), (5, 1)])
def test_depthwise_conv_gradients(kernel, stride):
    """MBConv's depthwise convolutions: 3x3 and 5x5, stride 1 ("same") and 2."""
    conv = Conv2d(3, 3, kernel, stride, kernel // 2, groups=3, bias=False, rng=np.random.default_rng(0),
                  dtype=np.float64)
    check_layer(conv, rand(2, 3, 7, 7))


def conv_by_loops(x, w, b, stride, padding, groups):
    n, c, h, wd = x.shape
    o, cg, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = (h + 2 * padding - k) // stride + 1, (wd + 2 * padding - k) // stride + 1
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for i in range(n):
        for f in range(o):
            g = f // og
            for y in range(oh):
                for z in range(ow):
                    patch = xp[i, g * cg:(g + 1) * cg, y * stride:y * stride + k, z * stride:z * stride + k]
                    out[i, f, y, z] = np.sum(patch * w[f]) + b[f]
    return out


@pytest.mark.parametrize("kernel, stride, padding, groups", CONV_CASES)
@pytest.mark.parametrize("chunk_bytes", [Conv2d.CHUNK_BYTES, 1], ids=["one chunk", "one example per chunk"])
def test_conv_forward_matches_loops(kernel, stride, padding, groups, chunk_bytes):
    conv = Conv2d(4, 4, kernel, stride, padding, groups, rng=np.random.default_rng(3), dtype=np.float64)
    conv.params["b"] = rand(4, seed=4)
    conv.CHUNK_BYTES = chunk_bytes
    x = rand(3, 4, 8, 7)
    expected = conv_by_loops(x, conv.params["W"], conv.params["b"], stride, padding, groups)
    assert np.allclose(conv.forward(x), expected, atol=1e-12)
    assert conv.cache[0] == expected_way(kernel, stride, padding, groups, 8, 7)
    assert np.allclose(conv.forward(x[:2]), expected[:2], atol=1e-12)     # a new batch size reuses nothing stale


def test_runs_layout_of_the_chapter_convolutions():
    """Worked by hand from tap i reading phase (i - p) mod s, shifted by floor((i - p) / s)."""
    same = C.runs_layout(8, 8, 3, 1, 1)              # 3x3 "same": one phase, shifts -1, 0, 1;
    assert same == (8, 8, (0, 0, 0), (-1, 0, 1), 9)   # a window reaches one row and pixel out
    assert same.start(0, 0) == 0 and same.start(1, 1) == 9 and same.start(2, 2) == 18
    strided = C.runs_layout(32, 32, 3, 2, 1)         # ResNet's downsampling 3x3: taps 0 and 2
    assert strided == (16, 16, (1, 0, 1), (-1, 0, 0), 17)   # read phase 1, tap 1 phase 0
    assert C.runs_layout(32, 32, 1, 2, 0) == (16, 16, (0,), (0,), 0)     # 1x1 projection
    assert C.runs_layout(8, 8, 3, 1, 0) is None       # 6x6 output: no padding to read
    assert C.runs_layout(224, 224, 11, 4, 2) is None  # AlexNet's first layer: 55 < 224 / 4


def test_conv_backward_after_another_conv_used_the_shared_scratch():
    """Convolutions share their work space; backward must not take another layer's columns."""
    first = Conv2d(4, 4, 3, 1, 1, rng=np.random.default_rng(0), dtype=np.float64)
    second = Conv2d(4, 4, 3, 1, 1, rng=np.random.default_rng(1), dtype=np.float64)
    x, other, dout = rand(2, 4, 5, 5), rand(2, 4, 5, 5, seed=2), rand(2, 4, 5, 5, seed=3)
    first.forward(x)
    first.zero_grad()
    alone = first.backward(dout), first.grads["W"].copy()
    first.forward(x)
    second.forward(other)                  # same shapes: its columns overwrite the scratch
    first.zero_grad()
    interleaved = first.backward(dout), first.grads["W"]
    assert np.allclose(alone[0], interleaved[0]) and np.allclose(alone[1], interleaved[1])


# tiny images take the dense-matrix path (H * W <= 2 k*k and groups = 1)
TINY_CASES = [((2, 2), 3, 1, 1), ((3, 4), 3, 1, 1), ((4, 4), 3, 2, 1), ((3, 3), 3, 1, 0), ((2, 3), 2, 1, 1),
              ((5, 5), 5, 2, 2)]


@pytest.mark.parametrize("size, kernel, stride, padding", TINY_CASES)
def test_dense_conv_on_tiny_images(size, kernel, stride, padding):
    conv = Conv2d(3, 4, kernel, stride, padding, rng=np.random.default_rng(5), dtype=np.float64)
    conv.params["b"] = rand(4, seed=6)
    x = rand(2, 3, *size)
    expected = conv_by_loops(x, conv.params["W"], conv.params["b"], stride, padding, 1)
    assert np.allclose(conv.forward(x), expected, atol=1e-12)
    assert conv.cache[0] == "dense"
    check_layer(conv, x)


def test_tap_matrix_counts_every_tap_inside_the_image():
    taps = C.tap_matrix(4, 4, 3, 1, 1)                       # 3x3 "same" on 4x4: 16 outputs
    per_output = taps.sum(axis=(0, 1))                       # taps landing inside, per output pixel
    assert per_output.reshape(4, 4).tolist() == [[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]]
    assert taps.max() == 1 and not taps.flags.writeable


def test_tap_matrix_checks_its_arguments():
    with pytest.raises(ValueError, match="padding must be an integer >= 0, got -1"):
        C.tap_matrix(4, 4, 3, 1, -1)
    with pytest.raises(TypeError, match="kernel must be an integer, got 3.0"):
        C.tap_matrix(4, 4, 3.0, 1, 1)
