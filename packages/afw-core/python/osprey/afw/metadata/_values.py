"""Validation of metadata values shared by `PropertyList` and `PropertySet`.

Metadata holds only the scalar types that FITS headers can carry, so that it can be
written anywhere without surprises: ``bool``, ``int``, ``float``, ``complex``, ``str``
and ``None`` (an undefined FITS value). numpy scalars are converted to the matching
Python type here, once, so stored values compare and pickle predictably.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import AfwValueError

__all__ = ["Scalar", "normalize_scalar", "normalize_values", "same_value"]

Scalar = bool | int | float | complex | str | None


def normalize_scalar(key: str, value: Any) -> Scalar:
    """Return ``value`` as a plain Python scalar, or raise `AfwValueError` naming ``key``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (complex, np.complexfloating)):
        return complex(value)
    if isinstance(value, np.str_):
        return str(value)
    raise AfwValueError(
        f"metadata key {key!r}: value {value!r} of type {type(value).__name__} is not supported; "
        "use bool, int, float, complex, str or None"
    )


def normalize_values(key: str, value: Any) -> list[Scalar]:
    """Return the list of scalars that ``value`` stands for.

    A scalar gives one value; a list, tuple or 1-D numpy array gives one value per
    element, which is how a multi-valued key is set in one call.
    """
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise AfwValueError(f"metadata key {key!r}: arrays must be 1-D, got shape {value.shape}")
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if not value:
            raise AfwValueError(f"metadata key {key!r}: an empty sequence has no value to store")
        return [normalize_scalar(key, v) for v in value]
    return [normalize_scalar(key, value)]


def same_value(a: Scalar, b: Scalar) -> bool:
    """Type-strict equality where NaN equals NaN (``1 != 1.0 != True`` here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)  # type: ignore[arg-type]
    if isinstance(a, complex):
        return all(same_value(x, y) for x, y in ((a.real, b.real), (a.imag, b.imag)))  # type: ignore[union-attr]
    return a == b
