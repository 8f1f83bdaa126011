"""`Threshold`: the detection level and how it turns into pixel units for one image."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._errors import DetectionError

__all__ = ["Threshold", "robust_stdev"]

_TYPES = ("VALUE", "STDEV", "VARIANCE", "PIXEL_STDEV")
_MAD_TO_SIGMA = 1.482602218505602  # 1 / Phi^-1(3/4): MAD of a Gaussian times this is sigma


def robust_stdev(array: NDArray[Any]) -> float:
    """Standard deviation of the finite pixels from their median absolute deviation (x 1.4826).

    Robust against the sources being detected: a few percent of bright pixels barely move
    it. NaN when no pixel is finite.
    """
    values = np.asarray(array, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan
    med = np.median(values)
    return float(_MAD_TO_SIGMA * np.median(np.abs(values - med)))


class PixelThreshold(NamedTuple):
    """A `Threshold` evaluated for one image (what the C++ kernel takes)."""

    t_pix: float
    """Pixels with ``sign * value >= t_pix`` (times ``sqrt(variance)`` if ``per_pixel``) join footprints."""
    t_keep: float
    """A footprint is kept only if one of its pixels reaches this (``t_pix * include_multiplier``)."""
    sign: int
    per_pixel: bool
    sigma: float
    """Noise level used for peak significances when there is no variance plane (NaN: unknown)."""


@dataclass(frozen=True)
class Threshold:
    """A detection threshold: a level, its units, the polarity, and a keep multiplier.

    Parameters
    ----------
    value : `float`
        The level, in the units ``type`` names; >= 0 for the scaled types.
    type : `str`
        * ``"VALUE"``: pixel values (image units: ADU, electrons, nJy);
        * ``"STDEV"``: multiples of the image's noise σ, the robust standard deviation of
          its finite pixels (1.4826 x median absolute deviation);
        * ``"VARIANCE"``: multiples of the noise variance (mean of the variance plane of a
          `MaskedImage`, else σ² as for ``"STDEV"``);
        * ``"PIXEL_STDEV"``: per-pixel signal to noise ``value / sqrt(variance)``, using the
          variance plane (a `MaskedImage` is required).
    polarity : `str`
        ``"positive"`` finds pixels ``>=`` the level; ``"negative"`` finds pixels
        ``<= -level`` (dark sources, negative difference-image detections).
    include_multiplier : `float`
        Footprints are the connected pixels beyond the level; a footprint is kept only when
        at least one pixel reaches ``level x include_multiplier`` (>= 1 requires brighter
        peaks without shrinking footprints; 1 keeps every footprint).

    Examples
    --------
    >>> Threshold(5.0, "STDEV")
    Threshold(value=5.0, type='STDEV', polarity='positive', include_multiplier=1.0)
    """

    value: float
    type: str = "VALUE"
    polarity: str = "positive"
    include_multiplier: float = 1.0

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise DetectionError(f"Threshold type must be one of {', '.join(_TYPES)}; got {self.type!r}")
        if self.polarity not in ("positive", "negative"):
            raise DetectionError(f"Threshold polarity must be 'positive' or 'negative'; got {self.polarity!r}")
        if not math.isfinite(self.value):
            raise DetectionError(f"Threshold value must be finite, got {self.value!r}")
        if self.type != "VALUE" and self.value < 0:
            raise DetectionError(f"a {self.type} threshold must be >= 0, got {self.value!r}")
        if not (math.isfinite(self.include_multiplier) and self.include_multiplier > 0):
            raise DetectionError(f"include_multiplier must be finite and > 0, got {self.include_multiplier!r}")
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "include_multiplier", float(self.include_multiplier))

    @property
    def sign(self) -> int:
        """+1 for positive polarity, -1 for negative."""
        return 1 if self.polarity == "positive" else -1

    def evaluate(self, image: NDArray[Any], variance: NDArray[Any] | None) -> PixelThreshold:
        """The threshold in pixel units for ``image`` (and its ``variance`` plane, if any)."""
        sign = self.sign
        if self.type == "VALUE":
            sigma = robust_noise(variance) if variance is not None else math.nan
            t = self.value
            per_pixel = False
        elif self.type == "PIXEL_STDEV":
            if variance is None:
                raise DetectionError("a PIXEL_STDEV threshold needs a MaskedImage (its variance plane)")
            t, per_pixel, sigma = self.value, True, math.nan
        else:
            sigma = robust_stdev(image)
            if not math.isfinite(sigma):
                raise DetectionError(f"cannot evaluate a {self.type} threshold: the image has no finite pixel")
            if self.type == "STDEV":
                t = self.value * sigma
            else:
                scale = _mean_variance(variance) if variance is not None else sigma * sigma
                t = self.value * scale
            per_pixel = False
        return PixelThreshold(t, t * self.include_multiplier, sign, per_pixel, sigma)


def robust_noise(variance: NDArray[Any]) -> float:
    """sqrt of the median of the finite, positive variances (NaN if none)."""
    v = np.asarray(variance, dtype=np.float64).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    return float(np.sqrt(np.median(v))) if v.size else math.nan


def _mean_variance(variance: NDArray[Any]) -> float:
    v = np.asarray(variance, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise DetectionError("cannot evaluate a VARIANCE threshold: the variance plane has no finite value")
    return float(v.mean())
