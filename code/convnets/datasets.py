"""Real data that ships inside a package, so nothing is downloaded at build time.

scikit-learn's copy of the UCI handwritten digits (Alpaydin & Kaynak, 1998):
1,797 grey-scale images of 8x8 pixels, ten classes, shipped in its wheel.
"""

from __future__ import annotations

import numpy as np

from .checks import probability


def digits(test_fraction: float = 0.2, *, seed: int = 0, dtype=np.float32):
    """Return (x_train, y_train, x_test, y_test): images (N, 1, 8, 8) standardised, labels (N,).

    A stratified split with ``test_fraction`` of each class held out, fixed by ``seed``.
    Pixels (0..16) are scaled by the training set's mean and standard deviation.
    """
    from sklearn.datasets import load_digits

    probability("test_fraction", test_fraction)
    data = load_digits()
    x = data.images.astype(np.float64)[:, None]          # (1797, 1, 8, 8)
    y = data.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), bool)
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        test[idx[: int(round(test_fraction * len(idx)))]] = True
    mean, std = x[~test].mean(), x[~test].std()
    x = ((x - mean) / std).astype(dtype)
    return x[~test], y[~test], x[test], y[test]
