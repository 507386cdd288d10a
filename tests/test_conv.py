"""The convolution layers: ``convnets.conv.Conv2d`` (the reference) against plain loops and
finite differences (float64); ``convnets.conv_fast.FastConv2d`` against the reference
(output, dx, dW, db) and finite differences, on every way it can take: flat runs of the
image's phases (stride 1 with enough padding, and strided ones whose output is ceil(H / s)
wide), sliding windows for the rest, in one chunk or several, grouped, and the
dense-matrix form for tiny images. Then what they must refuse, the work arrays the fast
layers share, and NaN."""

import threading

import numpy as np
import pytest
from convnets import build
from convnets import conv_fast as F
from convnets.architectures import small_resnet
from convnets.conv import Conv2d
from convnets.conv_fast import FastConv2d
from gradcheck import check_layer, rand

# (kernel, stride, padding, groups) on 8 x 7 images. Runs: stride-1 "same" ones (2p = k - 1:
# 3x3, 1x1, 5x5, grouped), stride 1 with more padding, an even kernel, strided 3x3 with
# p = 1, 1x1 with p = 0, 5x5 at stride 3. Windows: no padding (3x3 at stride 1, grouped 3x3
# and 2x2 at stride 2).
CONV_CASES = [(3, 1, 1, 1), (1, 1, 0, 1), (5, 1, 2, 1), (3, 1, 1, 4), (3, 1, 1, 2),
              (3, 1, 2, 1), (1, 1, 1, 1), (2, 1, 1, 1), (3, 2, 1, 1), (1, 2, 0, 1), (5, 3, 2, 2),
              (3, 1, 0, 1), (3, 2, 0, 2), (2, 2, 0, 1)]
# tiny images take the dense-matrix path (H * W <= 2 k*k, groups = 1, batches of k*k or more)
TINY_CASES = [((2, 2), 3, 1, 1), ((3, 4), 3, 1, 1), ((4, 4), 3, 2, 1), ((3, 3), 3, 1, 0), ((2, 3), 2, 1, 1),
              ((5, 5), 5, 2, 2)]


def expected_way(kernel, stride, padding, groups, h, w, n=2):
    """FastConv2d's rule, restated: dense for tiny images in batches of k*k or more, runs when
    the output is at least ceil(H / s) x ceil(W / s), sliding windows otherwise."""
    if groups == 1 and h * w <= 2 * kernel ** 2 and n >= kernel ** 2:
        return "dense"
    out_h, out_w = (h + 2 * padding - kernel) // stride + 1, (w + 2 * padding - kernel) // stride + 1
    return "runs" if out_h >= -(-h // stride) and out_w >= -(-w // stride) else "windows"


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


def pair(kernel, stride, padding, groups, c_in=4, c_out=8, bias=True, seed=0):
    """The reference and the fast layer with the same (float64) weights and a non-zero bias."""
    args = (c_in, c_out, kernel, stride, padding, groups, bias)
    ref = Conv2d(*args, rng=np.random.default_rng(seed), dtype=np.float64)
    fast = FastConv2d(*args, rng=np.random.default_rng(seed), dtype=np.float64)
    if bias:
        ref.params["b"] = fast.params["b"] = rand(c_out, seed=seed + 1)
    return ref, fast


def assert_same_as_reference(ref, fast, x, rtol=1e-12):
    """Output, dx and every parameter gradient of the two layers agree."""
    out = ref.forward(x)
    dout = rand(*out.shape, seed=7)
    assert np.allclose(fast.forward(x), out, rtol=rtol, atol=rtol)
    ref.zero_grad()
    fast.zero_grad()
    assert np.allclose(fast.backward(dout), ref.backward(dout), rtol=rtol, atol=rtol)
    for key in ref.params:
        assert np.allclose(fast.grads[key], ref.grads[key], rtol=rtol, atol=rtol), key


# --------------------------------------------------------------- the reference
@pytest.mark.parametrize("kernel, stride, padding, groups", CONV_CASES)
@pytest.mark.parametrize("which", [0, 1], ids=["Conv2d", "FastConv2d"])
def test_forward_matches_loops(kernel, stride, padding, groups, which):
    conv = pair(kernel, stride, padding, groups, c_out=4, seed=3)[which]
    x = rand(3, 4, 8, 7)
    expected = conv_by_loops(x, conv.params["W"], conv.params["b"], stride, padding, groups)
    assert np.allclose(conv.forward(x), expected, atol=1e-12)


@pytest.mark.parametrize("kernel, stride, padding, groups", CONV_CASES)
def test_reference_gradients(kernel, stride, padding, groups):
    conv, _ = pair(kernel, stride, padding, groups)
    check_layer(conv, rand(2, 4, 8, 7))


def test_reference_depthwise_and_tiny_gradients():
    check_layer(Conv2d(3, 3, 5, 2, 2, groups=3, bias=False, rng=np.random.default_rng(0), dtype=np.float64),
                rand(2, 3, 7, 7))
    check_layer(Conv2d(3, 4, 3, 1, 1, rng=np.random.default_rng(0), dtype=np.float64), rand(2, 3, 2, 2))


# ----------------------------------------------------------- the fast layer
@pytest.mark.parametrize("kernel, stride, padding, groups", CONV_CASES)
@pytest.mark.parametrize("chunk_bytes", [FastConv2d.CHUNK_BYTES, 1], ids=["one chunk", "one example per chunk"])
def test_fast_matches_reference(kernel, stride, padding, groups, chunk_bytes):
    ref, fast = pair(kernel, stride, padding, groups)
    fast.CHUNK_BYTES = chunk_bytes
    x = rand(3, 4, 8, 7)
    assert_same_as_reference(ref, fast, x)
    assert fast.way == expected_way(kernel, stride, padding, groups, 8, 7)
    assert_same_as_reference(ref, fast, x[:2])          # a new batch size reuses nothing stale


@pytest.mark.parametrize("kernel, stride, padding, groups", CONV_CASES)
def test_fast_gradients(kernel, stride, padding, groups):
    _, conv = pair(kernel, stride, padding, groups)
    check_layer(conv, rand(2, 4, 8, 7))                 # 8 x 7: not tiny for a 5x5 kernel
    assert conv.way == expected_way(kernel, stride, padding, groups, 8, 7)


@pytest.mark.parametrize("stride, padding", [(1, 1), (2, 1), (1, 0)])
def test_fast_in_chunks(stride, padding):
    """A batch of 3 in chunks of 2 and 1 examples (the chunking that keeps cols in cache),
    on runs at stride 1 and 2, and on windows."""
    ref, conv = pair(3, stride, padding, 1)
    out_h, out_w = (6 + 2 * padding - 3) // stride + 1, (5 + 2 * padding - 3) // stride + 1
    conv.CHUNK_BYTES = 2 * out_h * out_w * (4 * 3 * 3) * 8          # two examples' cols, float64
    assert conv._chunks(3, out_h * out_w, 4 * 3 * 3) == [(0, 2), (2, 3)]
    check_layer(conv, rand(3, 4, 6, 5))
    assert conv.way == expected_way(3, stride, padding, 1, 6, 5)
    assert_same_as_reference(ref, conv, rand(3, 4, 6, 5))


@pytest.mark.parametrize("kernel, stride", [(3, 2), (3, 1), (5, 1)])
def test_fast_depthwise(kernel, stride):
    """MBConv's depthwise convolutions: 3x3 and 5x5, stride 1 ("same") and 2."""
    ref, conv = pair(kernel, stride, kernel // 2, 3, c_in=3, c_out=3, bias=False)
    check_layer(conv, rand(2, 3, 7, 7))
    assert_same_as_reference(ref, conv, rand(2, 3, 7, 7))


@pytest.mark.parametrize("size, kernel, stride, padding", TINY_CASES)
def test_fast_dense_on_tiny_images(size, kernel, stride, padding):
    ref, conv = pair(kernel, stride, padding, 1, c_in=3, c_out=4, seed=5)
    x = rand(kernel * kernel, 3, *size)                  # a batch that pays for building the matrix
    expected = conv_by_loops(x, conv.params["W"], conv.params["b"], stride, padding, 1)
    assert np.allclose(conv.forward(x), expected, atol=1e-12)
    assert conv.way == "dense"
    check_layer(conv, x)
    assert_same_as_reference(ref, conv, x)


def test_fast_takes_the_reference_for_mixed_dtypes_and_empty_batches():
    """A float64 input into float32 weights is computed as Conv2d computes it (in float64)."""
    ref = Conv2d(4, 8, 3, 1, 1, rng=np.random.default_rng(0))
    fast = FastConv2d(4, 8, 3, 1, 1, rng=np.random.default_rng(0))
    assert_same_as_reference(ref, fast, rand(2, 4, 6, 6))
    assert fast.way == "reference" and fast.forward(rand(2, 4, 6, 6)).dtype == np.float64
    assert fast.forward(np.zeros((0, 4, 6, 6), np.float32)).shape == (0, 8, 6, 6)


def test_runs_layout_of_the_chapter_convolutions():
    """Worked by hand from tap i reading phase (i - p) mod s, shifted by floor((i - p) / s)."""
    same = F.runs_layout(8, 8, 3, 1, 1)              # 3x3 "same": one phase, shifts -1, 0, 1;
    assert same == (8, 8, (0, 0, 0), (-1, 0, 1), 9)   # a window reaches one row and pixel out
    assert same.start(0, 0) == 0 and same.start(1, 1) == 9 and same.start(2, 2) == 18
    strided = F.runs_layout(32, 32, 3, 2, 1)         # ResNet's downsampling 3x3: taps 0 and 2
    assert strided == (16, 16, (1, 0, 1), (-1, 0, 0), 17)   # read phase 1, tap 1 phase 0
    assert F.runs_layout(32, 32, 1, 2, 0) == (16, 16, (0,), (0,), 0)     # 1x1 projection
    assert F.runs_layout(8, 8, 3, 1, 0) is None       # 6x6 output: no padding to read
    assert F.runs_layout(224, 224, 11, 4, 2) is None  # AlexNet's first layer: 55 < 224 / 4


def test_tap_matrix_counts_every_tap_inside_the_image():
    taps = F.tap_matrix(4, 4, 3, 1, 1)                       # 3x3 "same" on 4x4: 16 outputs
    per_output = taps.sum(axis=(0, 1))                       # taps landing inside, per output pixel
    assert per_output.reshape(4, 4).tolist() == [[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]]
    assert taps.max() == 1 and not taps.flags.writeable


def test_tap_matrix_checks_its_arguments():
    with pytest.raises(ValueError, match="padding must be an integer >= 0, got -1"):
        F.tap_matrix(4, 4, 3, 1, -1)
    with pytest.raises(TypeError, match="kernel must be an integer, got 3.0"):
        F.tap_matrix(4, 4, 3.0, 1, 1)


# ------------------------------------------------------- dout of another dtype
@pytest.mark.parametrize("layer_dtype, dout_dtype", [(np.float32, np.float64), (np.float64, np.float32)])
@pytest.mark.parametrize("cls", [Conv2d, FastConv2d])
@pytest.mark.parametrize("size", [(8, 7), (2, 2)], ids=["im2col", "tiny"])
def test_conv_rejects_a_dout_of_another_dtype(layer_dtype, dout_dtype, cls, size):
    """Rejected, not cast. (A backward that looked the kept columns up in dout's dtype would
    get an uninitialised array back and return a wrong dW.)"""
    conv = cls(4, 8, 3, 1, 1, rng=np.random.default_rng(0), dtype=layer_dtype)
    out = conv.forward(rand(2, 4, *size).astype(layer_dtype))
    with pytest.raises(TypeError, match=rf"dout has dtype {np.dtype(dout_dtype)}, expected {np.dtype(layer_dtype)}"):
        conv.backward(rand(*out.shape).astype(dout_dtype))


@pytest.mark.parametrize("cls", [Conv2d, FastConv2d])
def test_conv_rejects_a_dout_of_another_shape(cls):
    conv = cls(4, 8, 3, 1, 1, rng=np.random.default_rng(0))
    conv.forward(np.zeros((2, 4, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"dout has shape \(3, 8, 5, 5\), expected \(2, 8, 5, 5\)"):
        conv.backward(np.zeros((3, 8, 5, 5), np.float32))


# ----------------------------------------------- the work arrays layers share
def test_scratch_gives_back_only_what_was_kept_for_the_same_key_shape_and_dtype():
    s = F.Scratch()
    kept = s.matrix("cols", 3, 5, np.float32)
    kept[...] = 7
    s.keep("cols", ("token", 0, 2))
    assert np.array_equal(s.held("cols", ("token", 0, 2), 3, 5, np.float32), np.full((3, 5), 7))
    assert s.held("cols", ("token", 0, 2), 3, 5, np.float64) is None         # another dtype
    assert s.held("cols", ("token", 0, 2), 3, 4, np.float32) is None         # another shape
    assert s.held("cols", ("token", 0, 1), 3, 5, np.float32) is None         # another chunk
    assert s.held("cols", ("other", 0, 2), 3, 5, np.float32) is None         # another call or layer
    s.matrix("cols", 3, 5, np.float32)                                         # handed out again
    assert s.held("cols", ("token", 0, 2), 3, 5, np.float32) is None


def test_scratch_is_per_thread():
    seen = []
    worker = threading.Thread(target=lambda: seen.append(F.scratch()))
    worker.start()
    worker.join()
    assert seen[0] is not F.scratch() and F.scratch() is F.scratch()


def alone(conv, x, dout):
    """conv's dx and gradients from a forward and backward with nothing in between."""
    conv.forward(x)
    conv.zero_grad()
    return conv.backward(dout), {k: v.copy() for k, v in conv.grads.items()}


def assert_same_gradients(a, b):
    assert np.allclose(a[0], b[0], rtol=1e-12, atol=1e-12)
    for key in a[1]:
        assert np.allclose(a[1][key], b[1][key], rtol=1e-12, atol=1e-12), key


def two_layers(padding, other_dtype=np.float64, chunk_bytes=FastConv2d.CHUNK_BYTES):
    """Two 3x3 convolutions of the same shapes (the second's weights and input of other_dtype),
    their inputs, a dout for the first, and the first's dx and gradients when it runs alone."""
    first = FastConv2d(4, 4, 3, 1, padding, rng=np.random.default_rng(0), dtype=np.float64)
    second = FastConv2d(4, 4, 3, 1, padding, rng=np.random.default_rng(1), dtype=other_dtype)
    first.CHUNK_BYTES = second.CHUNK_BYTES = chunk_bytes
    x, other = rand(2, 4, 5, 5), rand(2, 4, 5, 5, seed=2).astype(other_dtype)
    dout = rand(2, 4, 5 + 2 * padding - 2, 5 + 2 * padding - 2, seed=3)
    return first, second, x, other, dout, alone(first, x, dout)


@pytest.mark.parametrize("padding, chunk_bytes", [(1, FastConv2d.CHUNK_BYTES), (0, FastConv2d.CHUNK_BYTES), (1, 1)],
                         ids=["runs", "windows", "runs, one example per chunk"])
@pytest.mark.parametrize("other_dtype", [np.float64, np.float32])
def test_backward_after_another_layers_forward(padding, chunk_bytes, other_dtype):
    """Convolutions share their work space; backward must not take another layer's columns,
    of the same shapes or of another dtype."""
    first, second, x, other, dout, expected = two_layers(padding, other_dtype, chunk_bytes)
    first.forward(x)
    second.forward(other)                  # same shapes: its columns overwrite the scratch
    first.zero_grad()
    assert_same_gradients((first.backward(dout), first.grads), expected)


def test_two_networks_used_in_turn():
    """Two networks of the same shapes (20x20 inputs: every stage's convolutions build
    columns): forward A, forward B, backward A, backward B, against each alone."""
    nets = [build(small_resnet(8, widths=(4, 8, 8)), (1, 20, 20), seed=s, dtype=np.float64) for s in (0, 1)]
    xs, douts = [rand(5, 1, 20, 20, seed=s) for s in (2, 3)], [rand(5, 10, seed=s) for s in (4, 5)]
    expected = []
    for net, x, dout in zip(nets, xs, douts, strict=True):
        dx, _ = alone(net, x, dout)
        expected.append((dx, [layer.grads[key].copy() for layer, key in net.named_parameters()]))
    for net, x in zip(nets, xs, strict=True):
        net.forward(x)
        net.zero_grad()
    for net, dout, (dx, grads) in zip(nets, douts, expected, strict=True):
        assert np.allclose(net.backward(dout), dx, rtol=1e-12, atol=1e-12)
        for got, (layer, key) in zip(grads, net.named_parameters(), strict=True):
            assert np.allclose(layer.grads[key], got, rtol=1e-12, atol=1e-12), layer.name


class Interrupted(Exception):
    pass


def interrupt_after_im2col(conv):
    """Make conv's next forward fail after it has written its columns and its kept input."""
    def fail(*args):
        raise Interrupted
    conv._grouped = fail


@pytest.mark.parametrize("padding", [1, 0], ids=["runs", "windows"])
def test_exception_between_forward_and_backward(padding):
    """A forward that fails half-way (after writing the shared columns and the layer's kept
    input) leaves neither another layer's backward nor its own with stale data."""
    first, second, x, other, dout, expected = two_layers(padding)
    first.forward(x)
    interrupt_after_im2col(second)
    with pytest.raises(Interrupted):
        second.forward(other)
    first.zero_grad()
    assert_same_gradients((first.backward(dout), first.grads), expected)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        second.backward(dout)
    interrupt_after_im2col(first)          # the layer's own second forward fails: its first is gone
    with pytest.raises(Interrupted):
        first.forward(other)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        first.backward(dout)


# ------------------------------------------------------------------------- NaN
NAN_CASES = TINY_CASES + [((8, 7), 3, 1, 1), ((8, 7), 3, 2, 0)]       # dense, runs and windows


def influence(shape, pixel, kernel, stride, padding, c_out):
    """Which outputs read input pixel (c, y, x) of example 0: plain loops over windows."""
    n, _, h, w = shape
    _, y0, x0 = pixel
    out_h, out_w = (h + 2 * padding - kernel) // stride + 1, (w + 2 * padding - kernel) // stride + 1
    reads = np.zeros((n, c_out, out_h, out_w), bool)
    for r in range(out_h):
        for q in range(out_w):
            rows = range(r * stride - padding, r * stride - padding + kernel)
            cols = range(q * stride - padding, q * stride - padding + kernel)
            reads[0, :, r, q] = y0 in rows and x0 in cols
    return reads


def test_nan_in_one_pixel_of_a_tiny_image_counted_by_hand():
    """3x3 "same" convolution, 4 output channels, on 4x4 images: a NaN in a corner pixel is
    read by the 2x2 outputs around it, 4 positions x 4 channels = 16 of the example's 64;
    a NaN at (1, 1) by the 3x3 outputs around it, 36."""
    conv = FastConv2d(3, 4, 3, 1, 1, rng=np.random.default_rng(0), dtype=np.float64)
    for pixel, count in (((0, 0), 16), ((1, 1), 36)):
        x = rand(2, 3, 4, 4)
        x[0, 1][pixel] = np.nan
        assert np.isnan(conv.forward(x)).sum() == count


@pytest.mark.parametrize("size, kernel, stride, padding", NAN_CASES)
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nan_reaches_only_the_outputs_it_influences(size, kernel, stride, padding, value):
    conv = FastConv2d(3, 4, kernel, stride, padding, rng=np.random.default_rng(0), dtype=np.float64)
    conv.params["W"] = np.abs(conv.params["W"]) + 0.1          # positive: inf stays inf, never inf - inf
    for y in range(size[0]):
        for x0 in range(size[1]):
            x = rand(2, 3, *size)
            x[0, 1, y, x0] = value
            out = conv.forward(x)
            assert np.array_equal(~np.isfinite(out), influence(x.shape, (1, y, x0), kernel, stride, padding, 4))


@pytest.mark.parametrize("size, kernel, stride, padding", NAN_CASES)
def test_nan_in_dout_reaches_only_the_input_pixels_of_its_window(size, kernel, stride, padding):
    conv = FastConv2d(3, 4, kernel, stride, padding, rng=np.random.default_rng(0), dtype=np.float64)
    x = rand(2, 3, *size)
    out = conv.forward(x)
    for r in range(out.shape[2]):
        for q in range(out.shape[3]):
            dout = rand(*out.shape, seed=4)
            dout[0, 2, r, q] = np.nan
            conv.forward(x)
            dx = conv.backward(dout)
            window = np.zeros(x.shape, bool)
            for i in range(kernel):
                for j in range(kernel):
                    y, x0 = r * stride - padding + i, q * stride - padding + j
                    if 0 <= y < size[0] and 0 <= x0 < size[1]:
                        window[0, :, y, x0] = True
            assert np.array_equal(np.isnan(dx), window)


def test_dense_way_only_where_it_pays():
    """Batch 1, or a matrix too large to build (ResNet's last stage: 512 channels at 4x4 gives a
    8192 x 8192 matrix), take im2col instead; a training batch of small maps takes the dense way."""
    small = FastConv2d(32, 32, 3, 1, 1, rng=np.random.default_rng(0))
    assert small.takes_dense_way(64, 4, 4) and not small.takes_dense_way(1, 4, 4)
    wide = FastConv2d(512, 512, 3, 1, 1, rng=np.random.default_rng(0))
    assert not wide.takes_dense_way(64, 4, 4)
    x = np.random.default_rng(1).standard_normal((1, 512, 4, 4)).astype(np.float32)
    wide.forward(x)
    assert wide.way == "runs"
