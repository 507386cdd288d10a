"""Shared by the layer tests: central finite differences and a gradient check."""

import numpy as np

RTOL = 1e-6


def rel_error(a, b):
    """Largest absolute difference, relative to the largest entry of either gradient.

    (An entry-by-entry ratio would divide finite-difference noise of ~1e-10 by entries
    that happen to be ~1e-6 and report nonsense.)
    """
    return np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-12)


def numeric_grad(f, x, eps=1e-5):
    """Central differences of the scalar f() with respect to every entry of x (in place)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        plus = f()
        x[i] = old - eps
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def check_layer(layer, x, seed=0):
    """Compare backward's dx and every parameter gradient with finite differences of <layer(x), r>."""
    rng = np.random.default_rng(seed)
    out = layer.forward(x)
    r = rng.standard_normal(out.shape).astype(out.dtype)      # backward takes forward's dtype only

    def loss():
        return float(np.sum(layer.forward(x) * r))

    layer.zero_grad()
    dx = layer.backward(r)
    assert rel_error(dx, numeric_grad(loss, x)) < RTOL
    for owner, key in list(layer.named_parameters()):
        analytic = owner.grads[key].copy()
        assert rel_error(analytic, numeric_grad(loss, owner.params[key])) < RTOL, f"{owner.name}.{key}"


def rand(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)
