"""The experiments' findings, as the chapter states them, and their inputs' checks."""

import numpy as np
import pytest
from convnets import count
from convnets import layers as L
from convnets.architectures import small_resnet
from convnets.datasets import digits
from convnets.experiments import dense_stack, gradient_flow, input_jacobian, residual_euler, shattered_gradients, train


def ratio(flow):
    assert flow.growth == flow.input_grad[0] / flow.input_grad[-1]
    return flow.growth


def test_he_init_plain_stack_neither_vanishes_nor_explodes():
    assert 0.3 < ratio(gradient_flow(50, residual=False)) < 3


def test_small_init_plain_vanishes_residual_does_not():
    assert ratio(gradient_flow(50, residual=False, gain=0.5)) < 1e-20
    assert 1 < ratio(gradient_flow(50, residual=True, gain=0.5)) < 100


def test_unnormalised_residual_stack_explodes_and_batchnorm_plain_too():
    assert ratio(gradient_flow(50, residual=True)) > 1e4
    assert ratio(gradient_flow(50, residual=False, norm=True)) > 1e6
    assert ratio(gradient_flow(50, residual=True, norm=True)) < 1e3


def test_scaled_shortcut_follows_lambda_to_the_depth():
    for lam in (0.9, 1.1):
        assert 0.5 < ratio(gradient_flow(50, residual=True, gain=0.25, shortcut_scale=lam)) / lam ** 50 < 2.5


def test_gradient_flow_output_gradient_is_the_same_for_every_network():
    a, b = gradient_flow(10, residual=True), gradient_flow(10, residual=False, norm=True)
    assert a.input_grad[-1] == b.input_grad[-1]
    assert len(a.input_grad) == 11 and len(a.weight_grad) == 10


def test_shattering_is_faster_without_shortcuts():
    plain = shattered_gradients((1, 16), residual=False)
    residual = shattered_gradients((1, 16), residual=True)
    assert plain[0] > 0.9 and residual[0] > 0.9
    assert plain[1] < 0.1 < residual[1]


def test_euler_error_is_first_order():
    flow = residual_euler((16, 32, 64, 128))
    slope = np.polyfit(np.log(flow.depths), np.log(flow.errors), 1)[0]
    assert slope == pytest.approx(-1, abs=0.1)


def test_dense_stack_variants_count():
    # pre-activation, width 4: two 4x4 linear layers with bias (2 * 20) and two batch norms (2 * 8)
    assert count(dense_stack(3, 4, norm=True), (4,)).params == 3 * (40 + 16)
    assert count(dense_stack(3, 4, norm=False, shortcut_scale=0.5), (4,)).params == 3 * 40


def test_scale_layer():
    layer = L.Scale(0.5)
    x = np.ones((2, 3))
    assert np.array_equal(layer.forward(x), 0.5 * x) and np.array_equal(layer.backward(x), 0.5 * x)


def test_digits_split_is_stratified_and_standardised():
    x_train, y_train, x_test, y_test = digits(0.2, seed=0)
    assert x_train.shape == (1438, 1, 8, 8) and x_test.shape == (359, 1, 8, 8)
    assert abs(float(x_train.mean())) < 1e-5 and float(x_train.std()) == pytest.approx(1, abs=1e-5)
    assert np.all(np.bincount(y_test) >= 35)


def test_digits_are_scikit_learns_read_without_importing_it():
    """digits() reads the file scikit-learn ships (load_digits()'s images and labels exactly),
    without importing scikit-learn, which costs every page that trains about a second."""
    import subprocess
    import sys

    from convnets.datasets import digits_file
    from sklearn.datasets import load_digits
    reference = load_digits()
    table = np.loadtxt(digits_file(), delimiter=",")
    assert np.array_equal(table[:, :64], reference.data) and np.array_equal(table[:, 64], reference.target)
    code = "import sys; from convnets.datasets import digits; digits(); print('sklearn' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_training_reduces_loss_and_is_seeded():
    x_train, y_train, x_test, y_test = digits(0.2, seed=0)
    data = (x_train[:256], y_train[:256], x_test[:128], y_test[:128])
    a = train(small_resnet(8, widths=(4, 8, 8)), data, epochs=3, lr=0.05, seed=1)
    b = train(small_resnet(8, widths=(4, 8, 8)), data, epochs=3, lr=0.05, seed=1)
    assert a.train_loss[-1] < a.train_loss[0]
    assert a.train_loss == b.train_loss


def test_bad_arguments():
    with pytest.raises(ValueError, match="depth must be 6n \\+ 2"):
        small_resnet(21)
    with pytest.raises(ValueError, match="gain must be > 0"):
        gradient_flow(5, gain=0)
    with pytest.raises(ValueError, match="variant must be one of"):
        gradient_flow(5, variant="middle")
    with pytest.raises(ValueError, match="test_fraction must be in"):
        digits(1.5)


def test_empirical_receptive_field_matches_the_formula():
    from convnets import receptive_field
    from convnets.experiments import empirical_receptive_field
    from convnets.spec import Conv, MaxPool, Seq

    for n in (1, 2, 3):
        assert empirical_receptive_field(Seq("s", *[Conv(2, 3) for _ in range(n)])) == 2 * n + 1
    net = Seq("p", Conv(2, 3), MaxPool(2, 2), Conv(2, 3))
    assert empirical_receptive_field(net) == receptive_field([(3, 1), (2, 2), (3, 1)]) == 8


def test_input_jacobian_of_a_linear_layer_is_its_weights():
    layer = L.Linear(5, 3, rng=np.random.default_rng(0), dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((4, 5))
    assert np.allclose(input_jacobian(layer, x, example=2), layer.params["W"])


def test_input_jacobian_through_batch_norm_matches_finite_differences():
    """Batch norm couples the examples: moving x[1] moves the statistics that y[1] sees."""
    layer = L.BatchNorm(3, dtype=np.float64)
    x = np.random.default_rng(2).standard_normal((6, 3))
    eps, numeric = 1e-6, np.zeros((3, 3))
    for i in range(3):
        plus, minus = x.copy(), x.copy()
        plus[1, i] += eps
        minus[1, i] -= eps
        numeric[:, i] = (layer.forward(plus)[1] - layer.forward(minus)[1]) / (2 * eps)
    jacobian = input_jacobian(layer, x, example=1)
    assert np.abs(jacobian - numeric).max() < 1e-7
    assert np.abs(jacobian - np.diag(np.diag(jacobian))).max() == 0        # channels stay separate
    assert not np.allclose(jacobian, np.diag(1 / x.std(axis=0)))            # not the constant-statistics one


def test_input_jacobian_checks_the_example():
    layer = L.Linear(2, 2, dtype=np.float64)
    with pytest.raises(ValueError, match="example must be an index into the batch of 3, got 3"):
        input_jacobian(layer, np.zeros((3, 2)), example=3)


def test_train_can_measure_errors_after_the_last_epoch_only():
    """errors="last epoch" skips the per-epoch passes over the data; the losses and the final errors
    are the same as when every epoch is measured (the error passes change no weight)."""
    data = tuple(a[:200] for a in digits())
    net = small_resnet(8, widths=(4, 8, 16))
    every = train(net, data, epochs=2, batch=50)
    last = train(net, data, epochs=2, batch=50, errors="last epoch")
    assert len(every.test_error) == 2 and len(last.test_error) == len(last.train_error) == 1
    assert last.train_loss == every.train_loss
    assert last.test_error[-1] == every.test_error[-1] and last.train_error[-1] == every.train_error[-1]
    with pytest.raises(ValueError, match="errors must be one of"):
        train(net, data, epochs=1, errors="never")
