"""Image statistics: mean, median, quantiles, robust widths and sigma-clipped moments of a region.

`make_statistics` visits the good pixels of an `Image`, a `MaskedImage` or a 2-D array in
one GIL-free C++ call (``osprey.afw._afw.statistics_compute``). A pixel is good when it is
finite, has none of the ``bad_mask_planes`` set in the mask (MaskedImage only) and, for
weighted statistics, has a finite positive variance. Moments use double-precision sums
(blocked, with the corrected two-pass variance); order statistics use an exact histogram
selection on a compact copy of the good values; clipping is median-centred, as in astropy's
``sigma_clip`` with ``cenfunc="median", stdfunc="std"`` (see `StatisticsControl`).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from osprey.geom import Box2I

from .. import _afw
from ..errors import AfwKeyError, AfwValueError, BoxOutsideImageError
from ..image import DEFAULT_BAD_PLANES, Image, MaskedImage

__all__ = ["Property", "Statistics", "StatisticsControl", "make_statistics"]


class Property(enum.IntFlag):
    """Quantities `make_statistics` can compute; combine with ``|``.

    ``ERRORS`` asks for the Gaussian-approximation uncertainty of every requested
    quantity that has one (see `Statistics.error`).
    """

    NPOINT = 1
    """Number of good pixels."""
    MEAN = 2
    """Mean (inverse-variance weighted when ``StatisticsControl.weighted``)."""
    STDEV = 4
    """Sample standard deviation (``n - 1``; reliability-weighted when weighted)."""
    VARIANCE = 8
    """Square of ``STDEV``."""
    MEDIAN = 16
    """Median; the mean of the two middle values for an even count."""
    IQRANGE = 32
    """75th minus 25th percentile (numpy's default "linear" rule)."""
    MEANCLIP = 64
    """Mean of the pixels that survive sigma clipping."""
    STDEVCLIP = 128
    """Sample standard deviation of the survivors."""
    VARIANCECLIP = 256
    """Square of ``STDEVCLIP``."""
    MIN = 512
    """Smallest good value."""
    MAX = 1024
    """Largest good value."""
    SUM = 2048
    """Plain (unweighted) sum of the good values."""
    MADSIGMA = 4096
    """Robust sigma ``1.4826 * median(|x - median|)``."""
    NCLIP = 8192
    """Number of pixels that survive sigma clipping."""
    ERRORS = 1 << 20
    """Also compute uncertainties."""


_ALL = Property(0)
for _p in Property:
    if _p is not Property.ERRORS:
        _ALL |= _p

# C++ work requests and output slots (src/statistics.cpp).
_NEED_MOMENTS, _NEED_MEDIAN, _NEED_QUARTILES, _NEED_CLIP, _NEED_MAD = 1, 2, 4, 8, 16
(
    _S_NPOINT,
    _S_SUM,
    _S_MIN,
    _S_MAX,
    _S_MEAN,
    _S_VARIANCE,
    _S_SUMW,
    _S_MEDIAN,
    _S_Q25,
    _S_Q75,
    _S_MADSIGMA,
    _S_MEANCLIP,
    _S_VARCLIP,
    _S_NCLIP,
    _S_SUMWCLIP,
    _S_ITERATIONS,
) = range(16)
_N_SLOTS = 16


@dataclass(frozen=True)
class StatisticsControl:
    """How `make_statistics` selects and clips pixels.

    Clipping (``MEANCLIP``, ``STDEVCLIP``, ``VARIANCECLIP``, ``NCLIP``): iteration k takes
    the median ``c`` and the *population* standard deviation ``s`` (``ddof=0``) of the
    current survivors and keeps ``c - n_sigma s <= x <= c + n_sigma s``. It stops after
    ``n_iter`` iterations or when an iteration rejects nothing. This is astropy's
    ``sigma_clip(sigma=n_sigma, maxiters=n_iter, cenfunc="median", stdfunc="std")``; the
    reported ``STDEVCLIP`` is then the sample (``ddof=1``) deviation of the survivors, i.e.
    astropy's ``sigma_clipped_stats(..., std_ddof=1)``. (LSST afw's MEANCLIP differs: it
    clips the first iteration around the median with a width from the interquartile range
    and later ones around the previous clipped mean.)

    Parameters
    ----------
    n_sigma : `float`
        Clipping half-width in units of the standard deviation, > 0. Default 3.
    n_iter : `int`
        Largest number of clipping iterations, >= 0 (0: no clipping). Default 3, as LSST.
    bad_mask_planes : `tuple` of `str`, optional
        Mask planes whose pixels are ignored. ``None`` (default) means
        ``osprey.afw.image.DEFAULT_BAD_PLANES`` (BAD, SAT, CR, NO_DATA, EDGE), skipping any
        the mask does not define; explicitly named planes must exist in the mask.
    weighted : `bool`
        Weight MEAN, STDEV, VARIANCE and the clipped moments by the inverse variance
        (MaskedImage only; pixels without a finite positive variance are ignored). Medians,
        quantiles, MIN, MAX and SUM stay unweighted, and clipping itself is unweighted.
    """

    n_sigma: float = 3.0
    n_iter: int = 3
    bad_mask_planes: tuple[str, ...] | None = None
    weighted: bool = False

    def __post_init__(self) -> None:
        if not (isinstance(self.n_sigma, (int, float)) and math.isfinite(self.n_sigma) and self.n_sigma > 0):
            raise AfwValueError(f"StatisticsControl.n_sigma must be a finite number > 0, got {self.n_sigma!r}")
        if isinstance(self.n_iter, bool) or not isinstance(self.n_iter, int) or self.n_iter < 0:
            raise AfwValueError(f"StatisticsControl.n_iter must be an int >= 0, got {self.n_iter!r}")
        if self.bad_mask_planes is not None:
            if isinstance(self.bad_mask_planes, str):
                object.__setattr__(self, "bad_mask_planes", (self.bad_mask_planes,))
            else:
                object.__setattr__(self, "bad_mask_planes", tuple(self.bad_mask_planes))


@dataclass(frozen=True)
class Statistics:
    """Result of `make_statistics`: the requested values and, with ``ERRORS``, their errors.

    Use ``stats.value(Property.MEDIAN)`` or the shortcuts (``stats.mean``...); asking for
    a quantity that was not requested raises `AfwKeyError`. Values are NaN when no pixel
    (or, for variances, fewer than two) is usable.
    """

    flags: Property
    npoint: int
    """Number of good pixels (always computed)."""
    values: Mapping[Property, float] = field(repr=False)
    errors: Mapping[Property, float] = field(repr=False)
    clip_iterations: int = 0
    """Clipping iterations performed (0 unless a clipped quantity was requested)."""

    def value(self, prop: Property) -> float:
        """The value of one requested quantity."""
        try:
            return self.values[Property(prop)]
        except KeyError:
            raise AfwKeyError(f"{Property(prop)!r} was not requested; add it to the flags of make_statistics") from None

    def error(self, prop: Property) -> float:
        """Uncertainty of one requested quantity (needs ``Property.ERRORS``).

        Gaussian approximations from ``n`` good pixels with sample deviation ``s``: MEAN
        ``s / sqrt(n)`` (weighted: ``1 / sqrt(sum(w))``), SUM ``s sqrt(n)``, MEDIAN
        ``sqrt(pi / 2) s / sqrt(n)``, STDEV ``s / sqrt(2 (n - 1))``, VARIANCE
        ``s**2 sqrt(2 / (n - 1))``; the clipped quantities use the survivors the same way.
        NPOINT, NCLIP, MIN, MAX, IQRANGE and MADSIGMA have NaN errors.
        """
        if not self.flags & Property.ERRORS:
            raise AfwKeyError("errors were not requested; add Property.ERRORS to the flags of make_statistics")
        self.value(prop)
        return self.errors[Property(prop)]

    def __repr__(self) -> str:
        parts = ", ".join(f"{p.name}={v:.6g}" for p, v in self.values.items())
        return f"Statistics(npoint={self.npoint}, {parts})"

    @property
    def mean(self) -> float:
        return self.value(Property.MEAN)

    @property
    def median(self) -> float:
        return self.value(Property.MEDIAN)

    @property
    def stdev(self) -> float:
        return self.value(Property.STDEV)

    @property
    def meanclip(self) -> float:
        return self.value(Property.MEANCLIP)

    @property
    def stdevclip(self) -> float:
        return self.value(Property.STDEVCLIP)


def _bitmask(mask: Any, planes: tuple[str, ...] | None, defaults: Iterable[str]) -> int:
    """The OR of the bits of ``planes`` in ``mask`` (defaults: only the planes it defines)."""
    if planes is None:
        return int(mask.get_plane_bitmask([p for p in defaults if p in mask.planes]))
    missing = [p for p in planes if p not in mask.planes]
    if missing:
        raise AfwKeyError(f"bad_mask_planes {missing} are not planes of this mask (it has {mask.plane_names()})")
    return int(mask.get_plane_bitmask(list(planes)))


def _float_pixels(array: NDArray[Any]) -> NDArray[Any]:
    """float32/float64 pixels in native byte order with adjacent columns (copied only if needed)."""
    if array.dtype.kind != "f" or array.dtype.itemsize not in (4, 8):
        array = array.astype(np.float64)
    elif not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return _adjacent_columns(array)


def _adjacent_columns(array: NDArray[Any]) -> NDArray[Any]:
    if array.ndim == 2 and array.shape[1] > 1 and array.strides[1] != array.itemsize:
        return np.ascontiguousarray(array)
    return array


def as_int32_bits(bitmask: int) -> int:
    """The signed int32 holding the low 32 bits of ``bitmask`` (bit 31 is the sign)."""
    bitmask &= 0xFFFFFFFF
    return bitmask - (1 << 32) if bitmask >= 1 << 31 else bitmask


def source_arrays(
    source: Any,
    bbox: Box2I | None,
    bad_mask_planes: tuple[str, ...] | None,
    default_planes: Iterable[str],
    *,
    want_variance: bool = False,
    what: str = "make_statistics",
) -> tuple[NDArray[Any], NDArray[np.int32] | None, NDArray[np.float32] | None, int, Box2I]:
    """Pixel, mask and variance views of ``source`` inside ``bbox`` (parent coordinates).

    Returns ``(pixels, mask_or_None, variance_or_None, bitmask, region_bbox)``; pixels are
    float32 or float64 (other types converted), every plane has adjacent columns.
    """
    if isinstance(source, MaskedImage):
        image, mask, variance = source.image, source.mask, source.variance
    elif isinstance(source, Image):
        image, mask, variance = source, None, None
    elif isinstance(source, np.ndarray):
        if source.ndim != 2:
            raise AfwValueError(f"{what}: a pixel array must be 2-D (rows, columns), got shape {source.shape}")
        image, mask, variance = Image.from_array(source), None, None
    else:
        raise AfwValueError(f"{what} takes an Image, a MaskedImage or a 2-D numpy array, got {type(source).__name__}")
    region = image.bbox if bbox is None else bbox
    if not isinstance(region, Box2I):
        raise AfwValueError(f"{what}: bbox must be a Box2I in parent coordinates, got {region!r}")
    if not image.bbox.contains(region):
        raise BoxOutsideImageError(f"{what}: bbox {region!r} is not contained in the image bbox {image.bbox!r}")
    slices = region.slices_in(image.xy0)
    pixels = _float_pixels(image.array[slices])
    mask_arr = None
    bitmask = 0
    if mask is not None:
        bitmask = _bitmask(mask, bad_mask_planes, default_planes)
        if bitmask:
            mask_arr = _adjacent_columns(mask.array[slices])
    elif bad_mask_planes:
        raise AfwValueError(f"{what}: bad_mask_planes {list(bad_mask_planes)} given, but the input has no mask")
    var_arr = None
    if want_variance:
        if variance is None:
            raise AfwValueError(
                f"{what}: weighted statistics need a MaskedImage (its variance plane gives the weights)"
            )
        var_arr = _adjacent_columns(variance.array[slices].astype(np.float32, copy=False))
    return pixels, mask_arr, var_arr, bitmask, region


def _need(flags: Property) -> int:
    need = 0
    if flags & (Property.MEAN | Property.STDEV | Property.VARIANCE):
        need |= _NEED_MOMENTS
    if flags & Property.ERRORS and flags & (Property.SUM | Property.MEDIAN):
        need |= _NEED_MOMENTS
    if flags & Property.MEDIAN:
        need |= _NEED_MEDIAN
    if flags & Property.IQRANGE:
        need |= _NEED_QUARTILES
    if flags & Property.MADSIGMA:
        need |= _NEED_MAD
    if flags & (Property.MEANCLIP | Property.STDEVCLIP | Property.VARIANCECLIP | Property.NCLIP):
        need |= _NEED_CLIP
    return need


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else math.nan


def _derive(flags: Property, raw: NDArray[np.float64], weighted: bool) -> tuple[dict, dict]:
    n = raw[_S_NPOINT]
    var = raw[_S_VARIANCE]
    nclip = raw[_S_NCLIP]
    varclip = raw[_S_VARCLIP]
    nan = math.nan
    table: dict[Property, tuple[float, float]] = {
        Property.NPOINT: (n, nan),
        Property.SUM: (raw[_S_SUM], _sqrt(var * n) if n > 0 else nan),
        Property.MEAN: (raw[_S_MEAN], 1.0 / _sqrt(raw[_S_SUMW]) if weighted else _sqrt(var / n) if n > 0 else nan),
        Property.STDEV: (_sqrt(var), _sqrt(var / (2.0 * (n - 1))) if n > 1 else nan),
        Property.VARIANCE: (var, var * math.sqrt(2.0 / (n - 1)) if n > 1 else nan),
        Property.MEDIAN: (raw[_S_MEDIAN], _sqrt(math.pi / 2.0 * var / n) if n > 0 else nan),
        Property.IQRANGE: (raw[_S_Q75] - raw[_S_Q25], nan),
        Property.MADSIGMA: (raw[_S_MADSIGMA], nan),
        Property.MIN: (raw[_S_MIN], nan),
        Property.MAX: (raw[_S_MAX], nan),
        Property.MEANCLIP: (
            raw[_S_MEANCLIP],
            1.0 / _sqrt(raw[_S_SUMWCLIP]) if weighted else _sqrt(varclip / nclip) if nclip > 0 else nan,
        ),
        Property.STDEVCLIP: (_sqrt(varclip), _sqrt(varclip / (2.0 * (nclip - 1))) if nclip > 1 else nan),
        Property.VARIANCECLIP: (varclip, varclip * math.sqrt(2.0 / (nclip - 1)) if nclip > 1 else nan),
        Property.NCLIP: (nclip, nan),
    }
    values, errors = {}, {}
    for prop, (v, e) in table.items():
        if flags & prop:
            values[prop] = float(v)
            errors[prop] = float(e)
    return values, errors


def make_statistics(
    source: Image | MaskedImage | NDArray[Any],
    flags: Property | int,
    *,
    control: StatisticsControl | None = None,
    bbox: Box2I | None = None,
) -> Statistics:
    """Statistics of the good pixels of an image region, in one GIL-free pass (two for variances).

    Parameters
    ----------
    source : `Image`, `MaskedImage` or `numpy.ndarray`
        Pixels; a MaskedImage's mask selects bad pixels and its variance gives the weights
        when ``control.weighted``. Integer pixels are converted to float64 (one copy);
        float32/float64 pixels, views included, are read in place.
    flags : `Property`
        What to compute, e.g. ``Property.MEAN | Property.MEANCLIP | Property.ERRORS``.
    control : `StatisticsControl`, optional
        Clipping, bad mask planes and weighting; the defaults of `StatisticsControl`.
    bbox : `osprey.geom.Box2I`, optional
        Region in parent coordinates (end exclusive); the whole image by default. Arrays
        have ``xy0 = (0, 0)``.

    Returns
    -------
    stats : `Statistics`
        Values (and errors) in the pixel units of ``source``; ``npoint`` good pixels.

    Raises
    ------
    AfwValueError
        For empty or unknown flags, an unsupported source, weighting without a variance,
        or bad mask planes named for an input without a mask.
    AfwKeyError
        For an explicitly named mask plane that the mask does not define.
    BoxOutsideImageError
        If ``bbox`` is not inside the image.

    Examples
    --------
    >>> import numpy as np
    >>> stats = make_statistics(np.array([[1.0, 2.0], [3.0, 100.0]]), Property.MEDIAN | Property.MEAN)
    >>> stats.median, stats.mean
    (2.5, 26.5)
    """
    control = StatisticsControl() if control is None else control
    if not isinstance(control, StatisticsControl):
        raise AfwValueError(f"control must be a StatisticsControl, got {type(control).__name__}")
    try:
        flags = Property(flags)
    except ValueError as err:
        raise AfwValueError(f"flags {flags!r} are not a combination of osprey.afw.math.Property values") from err
    if not flags & _ALL:
        raise AfwValueError(f"flags {flags!r} request nothing; combine Property values such as MEAN | MEDIAN")
    pixels, mask, variance, bitmask, _ = source_arrays(
        source, bbox, control.bad_mask_planes, DEFAULT_BAD_PLANES, want_variance=control.weighted
    )
    raw = np.empty(_N_SLOTS, dtype=np.float64)
    need = _need(flags)
    _afw.statistics_compute(
        pixels, mask, variance, as_int32_bits(bitmask), need, float(control.n_sigma), int(control.n_iter), raw
    )
    values, errors = _derive(flags, raw, control.weighted)
    iterations = 0 if math.isnan(raw[_S_ITERATIONS]) else int(raw[_S_ITERATIONS])
    return Statistics(
        flags=flags,
        npoint=int(raw[_S_NPOINT]),
        values=MappingProxyType(values),
        errors=MappingProxyType(errors),
        clip_iterations=iterations,
    )
