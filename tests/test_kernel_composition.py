"""compose_kernels and kernel_family_dimension (the AlexNet and VGG page): a stack of linear
convolutions is one convolution, and the kernels it can reach form a smaller family."""

import numpy as np
import pytest
from convnets.build import build
from convnets.experiments import compose_kernels, kernel_family_dimension
from convnets.spec import Conv, Seq


def _run(kernels, x):
    """Apply the kernels one after the other with the chapter's NumPy convolution layer (no padding)."""
    for w in kernels:
        layer = build(Seq("c", Conv(w.shape[0], w.shape[2], padding=0)), x.shape[1:], dtype=np.float64)
        layer[0].params["W"][...] = w
        x = layer.forward(x)
    return x


@pytest.mark.parametrize("channels, sizes", [((2, 3, 3, 2), (3, 3, 3)), ((1, 4, 2), (5, 3)), ((3, 2), (1,))])
def test_composed_kernel_computes_what_the_stack_computes(channels, sizes):
    rng = np.random.default_rng(0)
    kernels = [rng.standard_normal((c_out, c_in, k, k))
               for c_in, c_out, k in zip(channels[:-1], channels[1:], sizes, strict=True)]
    x = rng.standard_normal((3, channels[0], 15, 15))
    one = compose_kernels(*kernels)
    assert one.shape == (channels[-1], channels[0], sum(sizes) - len(sizes) + 1, sum(sizes) - len(sizes) + 1)
    np.testing.assert_allclose(_run([one], x), _run(kernels, x), atol=1e-12)


def test_one_by_one_kernels_compose_by_matrix_product():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((4, 3, 1, 1)), rng.standard_normal((2, 4, 1, 1))
    np.testing.assert_allclose(compose_kernels(a, b)[:, :, 0, 0], b[:, :, 0, 0] @ a[:, :, 0, 0])


def test_single_channel_composition_is_the_full_convolution_of_the_kernels():
    from scipy.signal import convolve2d

    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((1, 1, 3, 3)), rng.standard_normal((1, 1, 3, 3))
    np.testing.assert_allclose(compose_kernels(a, b)[0, 0], convolve2d(a[0, 0], b[0, 0], mode="full"))


def test_compose_kernels_checks_its_input():
    w = np.zeros((2, 2, 3, 3))
    with pytest.raises(ValueError, match="at least one kernel"):
        compose_kernels()
    with pytest.raises(TypeError, match=r"kernels\[0\] must be a numpy.ndarray"):
        compose_kernels([[1.0]])
    with pytest.raises(ValueError, match=r"kernels\[1\] must be 4-D"):
        compose_kernels(w, np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match=r"kernels\[0\] must be square"):
        compose_kernels(np.zeros((2, 2, 3, 1)))
    with pytest.raises(ValueError, match=r"kernels\[1\] reads 3 channels but the stack before it gives 2"):
        compose_kernels(w, np.zeros((2, 3, 3, 3)))


@pytest.mark.parametrize("channels, layers, kernel, expected", [
    (2, 1, 3, 9 * 4),            # one layer reaches every 3x3 kernel
    (1, 2, 3, 9 + 9 - 1),        # two 3x3 filters: 18 weights, one lost to the scale shared between them
    (1, 3, 3, 27 - 2),           # three: two scales
    (2, 3, 3, 27 * 4 - 2 * 4),   # C channels: an invertible C x C mixing between each pair of layers
    (2, 2, 1, 4),                # 1x1 convolutions: W2 @ W1 reaches every 2x2 matrix, not more
])
def test_kernel_family_dimension_is_the_weights_less_the_invisible_directions(channels, layers, kernel, expected):
    assert kernel_family_dimension(channels, layers, kernel) == expected


def test_kernel_family_dimension_checks_its_input():
    with pytest.raises(ValueError, match="channels must be an integer >= 1, got 0"):
        kernel_family_dimension(0)
    with pytest.raises(TypeError, match="layers must be an integer"):
        kernel_family_dimension(2, 1.5)
