"""Sky background: a grid of robust bin statistics, interpolated (or Chebyshev-fitted) to pixels.

`estimate_background` divides the image into ``ceil(width / bin_size_x) x ceil(height /
bin_size_y)`` nearly equal bins (edges at ``floor(i * width / n)``), takes MEANCLIP or
MEDIAN of each bin's good pixels in C++ (``osprey.afw._afw.background_bin_statistics``),
replaces bins with too few good pixels by the mean of their good 8-neighbours (repeated
outwards until every bin has a value), and keeps that grid. `Background.get_image` then
evaluates, for any region, either

* a separable interpolant through the bin centres, LSST-style: along x through each bin
  row, then along y through those values at every column (Akima, not-a-knot or natural
  cubic spline, linear, or nearest-bin constant; linear continuation beyond the outer
  bin centres), or
* a 2-D Chebyshev series of order ``(order_x, order_y)`` fitted by least squares to the
  bin values (weighted by their numbers of good pixels; filled bins are left out).

Both evaluations are per-pixel C++ loops that write, or subtract in place.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from osprey.geom import Box2I

from .. import _afw
from ..errors import AfwValueError, BoxOutsideImageError
from ..image import DEFAULT_BAD_PLANES, Image, MaskedImage
from ._statistics import as_int32_bits, source_arrays

__all__ = [
    "DEFAULT_BACKGROUND_BAD_PLANES",
    "Background",
    "BackgroundControl",
    "estimate_background",
    "subtract_background",
]

DEFAULT_BACKGROUND_BAD_PLANES: tuple[str, ...] = (*DEFAULT_BAD_PLANES, "DETECTED", "DETECTED_NEGATIVE")
"""Planes a background ignores by default: the bad planes plus detected sources (as LSST)."""

_STATISTICS = {"MEANCLIP": 0, "MEDIAN": 1}
_INTERPOLATIONS = {"CONSTANT": 0, "LINEAR": 1, "NATURAL_SPLINE": 2, "CUBIC_SPLINE": 3, "AKIMA_SPLINE": 4}
_FORMAT = "osprey.afw.math.Background"
_VERSION = 1


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise AfwValueError(f"BackgroundControl.{name} must be an int >= 1 (pixels), got {value!r}")
    return int(value)


@dataclass(frozen=True)
class BackgroundControl:
    """How `estimate_background` bins, measures and interpolates the sky.

    Parameters
    ----------
    bin_size_x, bin_size_y : `int`
        Largest bin size in pixels (``bin_size_y`` defaults to ``bin_size_x``). The number
        of bins along x is ``ceil(width / bin_size_x)``, and the bins share the width as
        equally as integers allow.
    statistic : {"MEANCLIP", "MEDIAN"}
        Bin statistic: the sigma-clipped mean (``n_sigma``, ``n_iter``; see
        `StatisticsControl`) or the median. The bin width (``rms``) is the clipped
        standard deviation, or 1.4826 MAD for MEDIAN.
    interpolation : {"AKIMA_SPLINE", "CUBIC_SPLINE", "NATURAL_SPLINE", "LINEAR", "CONSTANT"}
        Interpolant through the bin centres. CUBIC_SPLINE has not-a-knot ends (scipy's
        ``CubicSpline`` default; LSST afw's CUBIC_SPLINE is the natural one). Axes with one
        bin are constant and with two linear.
    approximation_order : `int` or ``(int, int)``, optional
        Fit a Chebyshev series of this order (``(order_x, order_y)``) instead of
        interpolating; each order must be below the number of bins along its axis.
    n_sigma, n_iter : `float`, `int`
        Clipping of MEANCLIP (default 3 sigma, 3 iterations).
    bad_mask_planes : `tuple` of `str`, optional
        Mask planes to ignore; ``None`` means `DEFAULT_BACKGROUND_BAD_PLANES` (BAD, SAT, CR,
        NO_DATA, EDGE, DETECTED, DETECTED_NEGATIVE), skipping planes the mask lacks.
    min_fraction_good : `float`
        A bin whose good pixels are fewer than this fraction of its area (and at least
        one) takes its value from its neighbours. Default 0.1.
    """

    bin_size_x: int = 128
    bin_size_y: int | None = None
    statistic: str = "MEANCLIP"
    interpolation: str = "AKIMA_SPLINE"
    approximation_order: int | tuple[int, int] | None = None
    n_sigma: float = 3.0
    n_iter: int = 3
    bad_mask_planes: tuple[str, ...] | None = None
    min_fraction_good: float = 0.1

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "bin_size_x", _positive_int(self.bin_size_x, "bin_size_x"))
        set_(
            self,
            "bin_size_y",
            _positive_int(self.bin_size_x if self.bin_size_y is None else self.bin_size_y, "bin_size_y"),
        )
        if self.statistic not in _STATISTICS:
            raise AfwValueError(
                f"BackgroundControl.statistic must be one of {sorted(_STATISTICS)}, got {self.statistic!r}"
            )
        if self.interpolation not in _INTERPOLATIONS:
            raise AfwValueError(
                f"BackgroundControl.interpolation must be one of {sorted(_INTERPOLATIONS)}, got {self.interpolation!r}"
            )
        order = self.approximation_order
        if order is not None:
            pair = (order, order) if isinstance(order, (int, np.integer)) and not isinstance(order, bool) else order
            try:
                ox, oy = pair
                ok = all(isinstance(o, (int, np.integer)) and not isinstance(o, bool) and o >= 0 for o in (ox, oy))
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise AfwValueError(
                    "BackgroundControl.approximation_order must be an int >= 0 or a pair (order_x, order_y), "
                    f"got {order!r}"
                )
            set_(self, "approximation_order", (int(ox), int(oy)))
        if not (isinstance(self.n_sigma, (int, float)) and math.isfinite(self.n_sigma) and self.n_sigma > 0):
            raise AfwValueError(f"BackgroundControl.n_sigma must be a finite number > 0, got {self.n_sigma!r}")
        if isinstance(self.n_iter, bool) or not isinstance(self.n_iter, int) or self.n_iter < 0:
            raise AfwValueError(f"BackgroundControl.n_iter must be an int >= 0, got {self.n_iter!r}")
        if self.bad_mask_planes is not None:
            planes = (self.bad_mask_planes,) if isinstance(self.bad_mask_planes, str) else tuple(self.bad_mask_planes)
            set_(self, "bad_mask_planes", planes)
        if not (isinstance(self.min_fraction_good, (int, float)) and 0 <= self.min_fraction_good <= 1):
            raise AfwValueError(
                f"BackgroundControl.min_fraction_good must be in [0, 1], got {self.min_fraction_good!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible fields."""
        out = dataclasses.asdict(self)
        for key in ("approximation_order", "bad_mask_planes"):
            if out[key] is not None:
                out[key] = list(out[key])
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BackgroundControl:
        """Inverse of `to_dict`."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise AfwValueError(f"BackgroundControl.from_dict: unknown fields {sorted(unknown)}")
        kwargs = dict(data)
        for key in ("approximation_order", "bad_mask_planes"):
            if kwargs.get(key) is not None:
                kwargs[key] = tuple(kwargs[key])
        return cls(**kwargs)


def _edges(begin: int, size: int, bin_size: int) -> NDArray[np.int64]:
    n = -(-size // bin_size)
    return begin + (np.arange(n + 1, dtype=np.int64) * size) // n


def _centers(edges: NDArray[np.int64]) -> NDArray[np.float64]:
    return (edges[:-1] + edges[1:] - 1).astype(np.float64) / 2.0


def _fill(grid: NDArray[np.float64], known: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Unknown bins take the mean of their known 8-neighbours, repeated outwards."""
    grid = np.where(known, grid, 0.0)
    known = known.copy()
    ny, nx = grid.shape
    while not known.all():
        padded = np.pad(grid, 1)
        count = np.pad(known, 1).astype(np.int64)
        total = np.zeros_like(grid)
        n = np.zeros(grid.shape, dtype=np.int64)
        for dy in (0, 1, 2):
            for dx in (0, 1, 2):
                if dy == 1 and dx == 1:
                    continue
                total += padded[dy : dy + ny, dx : dx + nx]
                n += count[dy : dy + ny, dx : dx + nx]
        new = ~known & (n > 0)
        grid[new] = total[new] / n[new]
        known |= new
    return grid


class Background:
    """A background model: the bin grid (values, widths, counts) and how to evaluate it.

    Built by `estimate_background` or `from_dict`. Pixel positions are parent coordinates;
    the model covers ``bbox``, the box of the image it was estimated from.

    Attributes
    ----------
    control : `BackgroundControl`
    bbox : `osprey.geom.Box2I`
    x_edges, y_edges : `numpy.ndarray` of int64
        Bin edges in parent pixels (``n_bins + 1``; bin k is ``[edges[k], edges[k+1])``).
    values : `numpy.ndarray`, shape (n_bins_y, n_bins_x)
        Bin statistic, with filled bins holding their neighbours' mean (pixel units).
    rms : `numpy.ndarray`, shape (n_bins_y, n_bins_x)
        Robust width of each bin's pixels, filled the same way.
    n_good : `numpy.ndarray` of int64
        Good pixels per bin.
    filled : `numpy.ndarray` of bool
        Bins whose value came from their neighbours.
    chebyshev : `numpy.ndarray`, shape (order_y + 1, order_x + 1), or None
        Coefficients ``c[j, i]`` of ``T_i(u) T_j(v)`` when approximating, where ``u`` and
        ``v`` map the bbox's pixel edges ``[x0 - 0.5, x_end - 0.5]`` to ``[-1, 1]``.
    """

    def __init__(
        self,
        *,
        control: BackgroundControl,
        bbox: Box2I,
        x_edges: NDArray[np.int64],
        y_edges: NDArray[np.int64],
        values: NDArray[np.float64],
        rms: NDArray[np.float64],
        n_good: NDArray[np.int64],
        filled: NDArray[np.bool_],
        chebyshev: NDArray[np.float64] | None = None,
    ) -> None:
        self.control = control
        self.bbox = bbox
        self.x_edges = np.ascontiguousarray(x_edges, dtype=np.int64)
        self.y_edges = np.ascontiguousarray(y_edges, dtype=np.int64)
        shape = (len(self.y_edges) - 1, len(self.x_edges) - 1)
        self.values = np.ascontiguousarray(values, dtype=np.float64)
        self.rms = np.ascontiguousarray(rms, dtype=np.float64)
        self.n_good = np.ascontiguousarray(n_good, dtype=np.int64)
        self.filled = np.ascontiguousarray(filled, dtype=bool)
        for name in ("values", "rms", "n_good", "filled"):
            if getattr(self, name).shape != shape:
                raise AfwValueError(
                    f"Background.{name} must have shape {shape} (bins y, x), got {getattr(self, name).shape}"
                )
        if (
            self.x_edges[0] != bbox.x0
            or self.x_edges[-1] != bbox.x_end
            or self.y_edges[0] != bbox.y0
            or self.y_edges[-1] != bbox.y_end
            or (np.diff(self.x_edges) <= 0).any()
            or (np.diff(self.y_edges) <= 0).any()
        ):
            raise AfwValueError(f"Background bin edges must increase and span the bbox {bbox!r}")
        if not np.isfinite(self.values).all():
            raise AfwValueError("Background.values must be finite (filled bins included)")
        self.chebyshev = None if chebyshev is None else np.ascontiguousarray(chebyshev, dtype=np.float64)
        self.x_centers = _centers(self.x_edges)
        self.y_centers = _centers(self.y_edges)

    def __repr__(self) -> str:
        return (
            f"Background(bbox={self.bbox!r}, bins={self.values.shape[1]}x{self.values.shape[0]}, "
            f"level={self.global_level:.6g}, rms={self.global_rms:.6g})"
        )

    @property
    def global_level(self) -> float:
        """Median of the measured (not filled) bin values, like SExtractor's global background."""
        measured = self.values[~self.filled]
        return float(np.median(measured)) if measured.size else float(np.median(self.values))

    @property
    def global_rms(self) -> float:
        """Median of the measured bin widths (``rms``)."""
        measured = self.rms[~self.filled]
        return float(np.median(measured)) if measured.size else float(np.median(self.rms))

    def _evaluate(self, out: NDArray[Any], region: Box2I, subtract: bool) -> None:
        if self.chebyshev is not None:
            b = self.bbox
            _afw.background_chebyshev(
                self.chebyshev,
                b.x0 - 0.5,
                b.x_end - 0.5,
                b.y0 - 0.5,
                b.y_end - 0.5,
                float(region.x0),
                float(region.y0),
                out,
                subtract,
            )
        else:
            _afw.background_interpolate(
                self.values,
                self.x_centers,
                self.y_centers,
                _INTERPOLATIONS[self.control.interpolation],
                float(region.x0),
                float(region.y0),
                out,
                subtract,
            )

    def _check_region(self, region: Box2I, what: str) -> None:
        if not isinstance(region, Box2I):
            raise AfwValueError(f"{what}: bbox must be a Box2I in parent coordinates, got {region!r}")
        if not self.bbox.contains(region):
            raise BoxOutsideImageError(f"{what}: {region!r} is not inside the background's bbox {self.bbox!r}")

    def get_image(self, bbox: Box2I | None = None, dtype: DTypeLike = np.float32) -> Image:
        """The background over ``bbox`` (parent coordinates; default the whole ``self.bbox``).

        Only the pixels of ``bbox`` are evaluated, and they equal the same cut of the full
        image exactly.

        Parameters
        ----------
        bbox : `osprey.geom.Box2I`, optional
            Region inside ``self.bbox``.
        dtype : float32 or float64
            Pixel type of the result (computed in double either way).
        """
        region = self.bbox if bbox is None else bbox
        self._check_region(region, "Background.get_image")
        dtype = np.dtype(dtype)
        if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise AfwValueError(f"Background.get_image: dtype must be float32 or float64, got {dtype}")
        out = np.empty((region.height, region.width), dtype=dtype)
        self._evaluate(out, region, subtract=False)
        return Image.from_array(out, xy0=region.begin)

    def subtract_from(self, target: Image | MaskedImage | NDArray[Any]) -> None:
        """Subtract the background in place from ``target``'s pixels (over its own bbox).

        A MaskedImage's image plane is changed; its variance and mask are not. Arrays have
        ``xy0 = (0, 0)``. Pixels must be float32 or float64.
        """
        if isinstance(target, MaskedImage):
            target = target.image
        if isinstance(target, Image):
            array, region = target.array, target.bbox
        elif isinstance(target, np.ndarray) and target.ndim == 2:
            array, region = target, Box2I.from_begin_end(0, 0, target.shape[1], target.shape[0])
        else:
            raise AfwValueError(f"subtract_from takes an Image, MaskedImage or 2-D array, got {type(target).__name__}")
        self._check_region(region, "Background.subtract_from")
        if array.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise AfwValueError(
                f"Background.subtract_from: pixels must be native float32 or float64, got {array.dtype}"
            )
        if not array.flags.writeable:
            raise AfwValueError("Background.subtract_from: the pixel array is read-only")
        if array.shape[1] > 1 and array.strides[1] != array.itemsize:
            raise AfwValueError("Background.subtract_from: pixel columns must be adjacent in memory")
        self._evaluate(array, region, subtract=True)

    # -- persistence ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible description (bin grid, edges, control); `from_dict` re-evaluates identically."""
        b = self.bbox
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "control": self.control.to_dict(),
            "bbox": [b.x0, b.y0, b.x_end, b.y_end],
            "x_edges": self.x_edges.tolist(),
            "y_edges": self.y_edges.tolist(),
            "values": self.values.tolist(),
            "rms": self.rms.tolist(),
            "n_good": self.n_good.tolist(),
            "filled": self.filled.tolist(),
            "chebyshev": None if self.chebyshev is None else self.chebyshev.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Background:
        """Rebuild a `Background` written by `to_dict`."""
        if data.get("format") != _FORMAT or data.get("version") != _VERSION:
            raise AfwValueError(
                f"not a Background dictionary of version {_VERSION} (format={data.get('format')!r}, "
                f"version={data.get('version')!r})"
            )
        try:
            bbox = Box2I.from_begin_end(*data["bbox"])
            return cls(
                control=BackgroundControl.from_dict(data["control"]),
                bbox=bbox,
                x_edges=np.asarray(data["x_edges"], dtype=np.int64),
                y_edges=np.asarray(data["y_edges"], dtype=np.int64),
                values=np.asarray(data["values"], dtype=np.float64),
                rms=np.asarray(data["rms"], dtype=np.float64),
                n_good=np.asarray(data["n_good"], dtype=np.int64),
                filled=np.asarray(data["filled"], dtype=bool),
                chebyshev=None if data.get("chebyshev") is None else np.asarray(data["chebyshev"], dtype=np.float64),
            )
        except KeyError as err:
            raise AfwValueError(f"Background dictionary lacks the key {err.args[0]!r}") from None


def _fit_chebyshev(
    bg_bbox: Box2I,
    xc: NDArray[np.float64],
    yc: NDArray[np.float64],
    values: NDArray[np.float64],
    weight: NDArray[np.float64],
    use: NDArray[np.bool_],
    order: tuple[int, int],
) -> NDArray[np.float64]:
    ox, oy = order
    nby, nbx = values.shape
    if ox >= nbx or oy >= nby:
        raise AfwValueError(
            f"approximation_order {order} needs more bins than the grid has ({nbx} x {nby}); lower the order "
            "or the bin size"
        )
    n_terms = (ox + 1) * (oy + 1)
    if int(use.sum()) < n_terms:
        raise AfwValueError(
            f"approximation_order {order} has {n_terms} coefficients but only {int(use.sum())} bins have enough "
            "good pixels; lower the order or min_fraction_good"
        )
    u = (2.0 * xc - (bg_bbox.x0 - 0.5) - (bg_bbox.x_end - 0.5)) / bg_bbox.width
    v = (2.0 * yc - (bg_bbox.y0 - 0.5) - (bg_bbox.y_end - 0.5)) / bg_bbox.height
    tx = np.polynomial.chebyshev.chebvander(u, ox)  # (nbx, ox + 1)
    ty = np.polynomial.chebyshev.chebvander(v, oy)  # (nby, oy + 1)
    design = np.einsum("aj,bi->abji", ty, tx).reshape(nby * nbx, n_terms)
    sw = np.sqrt(weight.ravel()[use.ravel()])
    coef = np.linalg.lstsq(design[use.ravel()] * sw[:, None], values.ravel()[use.ravel()] * sw, rcond=None)[0]
    return coef.reshape(oy + 1, ox + 1)


def estimate_background(
    source: Image | MaskedImage | NDArray[Any], control: BackgroundControl | None = None
) -> Background:
    """Measure the sky in bins of ``source`` and build the `Background` model over its bbox.

    Parameters
    ----------
    source : `Image`, `MaskedImage` or 2-D `numpy.ndarray`
        Pixels (integer types are converted to float64); a MaskedImage's mask excludes
        ``control.bad_mask_planes``. Non-finite pixels are always excluded.
    control : `BackgroundControl`, optional
        Bins, statistic, interpolation or approximation; the defaults by default.

    Returns
    -------
    background : `Background`
        Evaluate with ``get_image()``, subtract with ``subtract_from()``.

    Raises
    ------
    AfwValueError
        If no bin has enough good pixels, or an approximation order needs more bins.
    """
    control = BackgroundControl() if control is None else control
    if not isinstance(control, BackgroundControl):
        raise AfwValueError(f"control must be a BackgroundControl, got {type(control).__name__}")
    pixels, mask, _, bitmask, bbox = source_arrays(
        source, None, control.bad_mask_planes, DEFAULT_BACKGROUND_BAD_PLANES, what="estimate_background"
    )
    if bbox.is_empty():
        raise AfwValueError("estimate_background: the image is empty")
    x_edges = _edges(bbox.x0, bbox.width, control.bin_size_x)
    y_edges = _edges(bbox.y0, bbox.height, control.bin_size_y)
    shape = (len(y_edges) - 1, len(x_edges) - 1)
    values = np.empty(shape, dtype=np.float64)
    rms = np.empty(shape, dtype=np.float64)
    n_good = np.empty(shape, dtype=np.int64)
    _afw.background_bin_statistics(
        pixels,
        mask,
        as_int32_bits(bitmask),
        x_edges - bbox.x0,
        y_edges - bbox.y0,
        _STATISTICS[control.statistic],
        float(control.n_sigma),
        int(control.n_iter),
        values,
        rms,
        n_good,
    )
    area = np.outer(np.diff(y_edges), np.diff(x_edges))
    enough = (n_good >= np.maximum(1, np.ceil(control.min_fraction_good * area))) & np.isfinite(values)
    if not enough.any():
        raise AfwValueError(
            f"estimate_background: no bin of {bbox!r} has enough good pixels (min_fraction_good="
            f"{control.min_fraction_good}); check the mask planes {control.bad_mask_planes or 'default'}"
        )
    rms_known = enough & np.isfinite(rms)
    filled_values = _fill(values, enough)
    filled_rms = _fill(rms, rms_known) if rms_known.any() else np.zeros(shape)
    chebyshev = None
    if control.approximation_order is not None:
        chebyshev = _fit_chebyshev(
            bbox,
            _centers(x_edges),
            _centers(y_edges),
            filled_values,
            n_good.astype(np.float64),
            enough,
            control.approximation_order,
        )
    return Background(
        control=control,
        bbox=bbox,
        x_edges=x_edges,
        y_edges=y_edges,
        values=filled_values,
        rms=filled_rms,
        n_good=n_good,
        filled=~enough,
        chebyshev=chebyshev,
    )


def subtract_background(
    source: Image | MaskedImage | NDArray[Any], control: BackgroundControl | None = None
) -> Background:
    """Estimate the background of ``source`` and subtract it in place; returns the `Background`.

    Equivalent to ``bg = estimate_background(source, control); bg.subtract_from(source)``.
    The pixels must be float32 or float64 (a MaskedImage's always are).
    """
    background = estimate_background(source, control)
    background.subtract_from(source)
    return background
