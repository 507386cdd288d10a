"""Real data that ships inside a package, so nothing is downloaded at build time.

scikit-learn's copy of the UCI handwritten digits (Alpaydin & Kaynak, 1998):
1,797 grey-scale images of 8x8 pixels, ten classes, shipped in its wheel.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from .checks import probability


def digits_file() -> Path:
    """The digits as scikit-learn ships them: ``sklearn/datasets/data/digits.csv.gz``, one image a
    row (64 pixels, then the label). Found without importing scikit-learn, which takes a second."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the digits ship with scikit-learn: pip install -r requirements.txt")
    return Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"


def digits(test_fraction: float = 0.2, *, seed: int = 0, dtype=np.float32):
    """Return (x_train, y_train, x_test, y_test): images (N, 1, 8, 8) standardised, labels (N,).

    A stratified split with ``test_fraction`` of each class held out, fixed by ``seed``.
    Pixels (0..16) are scaled by the training set's mean and standard deviation.
    """
    probability("test_fraction", test_fraction)
    table = np.loadtxt(digits_file(), delimiter=",")        # what sklearn.datasets.load_digits reads
    x = table[:, :64].reshape(-1, 1, 8, 8)                  # (1797, 1, 8, 8)
    y = table[:, 64].astype(np.int64)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), bool)
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        test[idx[: int(round(test_fraction * len(idx)))]] = True
    mean, std = x[~test].mean(), x[~test].std()
    x = ((x - mean) / std).astype(dtype)
    return x[~test], y[~test], x[test], y[test]
