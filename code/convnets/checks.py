"""Input checks shared by every module: clear errors that name the argument.

Each helper raises ``TypeError`` for a value of the wrong kind and ``ValueError``
for a value of the right kind but the wrong size, always naming the argument,
the value received and what was expected.
"""

from __future__ import annotations

import numbers

import numpy as np


def positive_int(name: str, value, *, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` after checking it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def probability(name: str, value) -> float:
    """Return ``value`` as a ``float`` after checking 0 <= value < 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1), got {value!r}")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return float(value)


def array(name: str, value, *, ndim: int | tuple[int, ...], layer: str = "") -> np.ndarray:
    """Check that ``value`` is a floating NumPy array with ``ndim`` dimensions.

    ``ndim`` may be a tuple of allowed dimension counts. ``layer`` names the
    layer in the message, so a failure deep inside a network says where it is.
    """
    where = f"{layer}: " if layer else ""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{where}{name} must be a numpy.ndarray, got {type(value).__name__}")
    if not np.issubdtype(value.dtype, np.floating):
        raise TypeError(f"{where}{name} must have a floating dtype, got {value.dtype}")
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if value.ndim not in allowed:
        expected = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(f"{where}{name} must be {expected}, got shape {value.shape}")
    return value


def one_of(name: str, value, choices) -> object:
    """Check that ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)!r}, got {value!r}")
    return value


def nonempty_dict(name: str, value, entries: str) -> dict:
    """Check that ``value`` is a dict with at least one entry; ``entries`` says what it maps ("{label: History}")."""
    if not isinstance(value, dict) or not value:
        got = "an empty dict" if isinstance(value, dict) else type(value).__name__
        raise TypeError(f"{name} must be a non-empty dict {entries}, got {got}")
    return value
