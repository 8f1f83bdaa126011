"""`PhotoCalib`: instrumental flux to nJy and AB magnitudes, with LSST error propagation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from osprey.geom import Box2I, Point2D, Point2I

from ..errors import AfwValueError
from ..image import MaskedImage
from ._bounded_field import BoundedField, _box_from_list, _box_to_list

__all__ = ["AB_ZERO_POINT_NJY_MAG", "PhotoCalib", "magnitude_to_nanojansky", "nanojansky_to_magnitude"]

AB_ZERO_POINT_NJY_MAG = 31.4
"""AB magnitude of 1 nJy: ``m = -2.5 log10(f / nJy) + 31.4`` (3631 Jy = 3.631e12 nJy at m = 0)."""

_MAG_PER_LN = 2.5 / math.log(10.0)  # d(mag) / d(ln flux)


def nanojansky_to_magnitude(flux: ArrayLike) -> Any:
    """AB magnitude of a flux in nJy (NaN for non-positive fluxes)."""
    f = np.asarray(flux, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(f > 0, -2.5 * np.log10(np.where(f > 0, f, 1.0)) + AB_ZERO_POINT_NJY_MAG, np.nan)
    return float(out) if out.ndim == 0 else out


def magnitude_to_nanojansky(mag: ArrayLike) -> Any:
    """Flux in nJy of an AB magnitude."""
    out = 10.0 ** ((AB_ZERO_POINT_NJY_MAG - np.asarray(mag, dtype=np.float64)) / 2.5)
    return out if np.ndim(out) else float(out)


def _scalar_or_array(value: NDArray[np.float64], scalar: bool) -> Any:
    return float(value) if scalar else value


class PhotoCalib:
    """Photometric calibration of one detector: instrumental flux (counts) to nJy.

    ``flux_nJy = instflux * c(x, y)``, where ``c`` is ``calibration_mean`` everywhere, or the
    `BoundedField` ``calibration`` evaluated at the source position when the calibration
    varies over the detector. Errors follow LSST: the relative errors of the flux and of
    the calibration add in quadrature, ``err_nJy = sqrt((instflux_err * c)^2 + (instflux *
    calibration_err)^2)`` (the same as ``|flux_nJy| * hypot(instflux_err / instflux,
    calibration_err / c)``, but finite at zero flux).

    Parameters
    ----------
    calibration_mean : `float`
        nJy per instrumental count (> 0); for a spatial calibration, its mean over ``bbox``.
    calibration_err : `float`
        1-sigma uncertainty of the calibration, nJy per count (>= 0).
    bbox : `Box2I`, optional
        Detector region the calibration is valid on; taken from ``calibration`` if given.
    calibration : `BoundedField`, optional
        Spatially varying nJy-per-count field; its mean is used when ``calibration_mean`` is None.

    Examples
    --------
    >>> calib = PhotoCalib(1.0)
    >>> calib.instflux_to_magnitude(1.0)
    31.4
    """

    __slots__ = ("_bbox", "_field", "_err", "_mean")

    def __init__(
        self,
        calibration_mean: float | None = None,
        calibration_err: float = 0.0,
        bbox: Box2I | None = None,
        calibration: BoundedField | None = None,
    ) -> None:
        if calibration is not None and not isinstance(calibration, BoundedField):
            raise AfwValueError(f"calibration must be a BoundedField, got {type(calibration).__name__}")
        if calibration_mean is None:
            if calibration is None:
                raise AfwValueError("PhotoCalib needs calibration_mean (nJy per count) or a calibration field")
            calibration_mean = calibration.mean()
        if not (calibration_mean > 0 and math.isfinite(calibration_mean)):
            raise AfwValueError(
                f"calibration_mean must be a finite number of nJy per count > 0, got {calibration_mean!r}"
            )
        if not (calibration_err >= 0 and math.isfinite(calibration_err)):
            raise AfwValueError(f"calibration_err must be a finite number >= 0, got {calibration_err!r}")
        if bbox is None and calibration is not None:
            bbox = calibration.bbox
        if bbox is not None and (not isinstance(bbox, Box2I)):
            raise AfwValueError(f"bbox must be a Box2I, got {bbox!r}")
        self._mean = float(calibration_mean)
        self._err = float(calibration_err)
        self._bbox = bbox
        self._field = calibration

    @classmethod
    def from_zero_point(cls, zero_point: float, zero_point_err: float = 0.0, bbox: Box2I | None = None) -> PhotoCalib:
        """From an AB zero point (magnitude of 1 count) and its error in magnitudes."""
        mean = magnitude_to_nanojansky(zero_point)
        return cls(mean, mean * zero_point_err / _MAG_PER_LN, bbox)

    # -- properties -----------------------------------------------------------------------
    @property
    def calibration_mean(self) -> float:
        """Mean calibration, nJy per instrumental count."""
        return self._mean

    @property
    def calibration_err(self) -> float:
        """Calibration uncertainty, nJy per instrumental count."""
        return self._err

    @property
    def bbox(self) -> Box2I | None:
        """Region the calibration is valid on (None when unrestricted)."""
        return self._bbox

    @property
    def calibration(self) -> BoundedField | None:
        """The spatial calibration field, or None for a constant calibration."""
        return self._field

    @property
    def is_spatially_constant(self) -> bool:
        return self._field is None

    @property
    def instflux_at_zero_magnitude(self) -> float:
        """Instrumental flux of an AB magnitude 0 source (at the mean calibration)."""
        return magnitude_to_nanojansky(0.0) / self._mean

    def get_local_calibration(self, point: Any = None, y: Any = None) -> Any:
        """nJy per count at a position (``point`` a Point2D, or arrays ``x``, ``y``); the mean if none."""
        if point is None:
            if self._field is not None:
                raise AfwValueError("this PhotoCalib varies over the detector: give the source position (x, y)")
            return self._mean
        if self._field is None:
            if y is None:
                return self._mean
            shape = np.broadcast_shapes(np.shape(point), np.shape(y))
            return np.full(shape, self._mean) if shape else self._mean
        return self._field.evaluate(point, y)

    # -- conversions -----------------------------------------------------------------------
    def _factor(self, flux: NDArray[np.float64], x: Any, y: Any) -> NDArray[np.float64]:
        if self._field is None:
            return np.asarray(self._mean)
        if x is None:
            raise AfwValueError("this PhotoCalib varies over the detector: pass the source position (x=, y= or point=)")
        return np.asarray(self._field.evaluate(x, y), dtype=np.float64)

    @staticmethod
    def _position(point: Any, x: Any, y: Any) -> tuple[Any, Any]:
        if point is not None:
            if isinstance(point, (Point2D, Point2I)):
                return float(point.x), float(point.y)
            px, py = point
            return px, py
        if (x is None) != (y is None):
            raise AfwValueError("give both x and y (pixels) or neither")
        return x, y

    def instflux_to_nanojansky(
        self,
        instflux: ArrayLike,
        instflux_err: ArrayLike | None = None,
        *,
        point: Any = None,
        x: Any = None,
        y: Any = None,
    ) -> Any:
        """Instrumental flux (counts) to nJy; with ``instflux_err`` returns ``(flux, err)``.

        Scalars give floats, arrays give arrays of the broadcast shape. The position
        (``point`` or ``x``, ``y`` in pixels) is needed only for a spatial calibration.
        """
        px, py = self._position(point, x, y)
        flux = np.asarray(instflux, dtype=np.float64)
        c = self._factor(flux, px, py)
        value = flux * c
        scalar = value.ndim == 0
        if instflux_err is None:
            return _scalar_or_array(value, scalar)
        ferr = np.asarray(instflux_err, dtype=np.float64)
        err = np.hypot(ferr * c, flux * self._err)
        return _scalar_or_array(value, scalar), _scalar_or_array(err, scalar)

    def instflux_to_magnitude(
        self,
        instflux: ArrayLike,
        instflux_err: ArrayLike | None = None,
        *,
        point: Any = None,
        x: Any = None,
        y: Any = None,
    ) -> Any:
        """Instrumental flux to AB magnitude; with ``instflux_err`` returns ``(mag, mag_err)``.

        ``mag_err = 2.5 / ln(10) * hypot(instflux_err / instflux, calibration_err / c)``;
        non-positive fluxes give NaN magnitudes.
        """
        px, py = self._position(point, x, y)
        flux = np.asarray(instflux, dtype=np.float64)
        c = self._factor(flux, px, py)
        njy = flux * c
        scalar = njy.ndim == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            mag = np.where(njy > 0, -2.5 * np.log10(np.where(njy > 0, njy, 1.0)) + AB_ZERO_POINT_NJY_MAG, np.nan)
            if instflux_err is None:
                return _scalar_or_array(mag, scalar)
            ferr = np.asarray(instflux_err, dtype=np.float64)
            mag_err = _MAG_PER_LN * np.hypot(ferr / flux, self._err / c)
        return _scalar_or_array(mag, scalar), _scalar_or_array(mag_err, scalar)

    def magnitude_to_instflux(self, magnitude: ArrayLike, *, point: Any = None, x: Any = None, y: Any = None) -> Any:
        """AB magnitude to instrumental flux (counts) at the given position."""
        px, py = self._position(point, x, y)
        njy = np.asarray(magnitude_to_nanojansky(magnitude), dtype=np.float64)
        out = njy / self._factor(njy, px, py)
        return _scalar_or_array(out, out.ndim == 0)

    def nanojansky_to_instflux(self, flux: ArrayLike, *, point: Any = None, x: Any = None, y: Any = None) -> Any:
        """nJy to instrumental flux (counts) at the given position."""
        px, py = self._position(point, x, y)
        f = np.asarray(flux, dtype=np.float64)
        out = f / self._factor(f, px, py)
        return _scalar_or_array(out, out.ndim == 0)

    def calibrate_image(self, masked_image: MaskedImage, *, include_scale_uncertainty: bool = False) -> MaskedImage:
        """A copy of ``masked_image`` (counts) in nJy: image times ``c(x, y)``, variance times ``c^2``.

        With ``include_scale_uncertainty`` the calibration error is added per pixel,
        ``var += (image * calibration_err)^2``; it is off by default because that error
        is common to all pixels (a correlated scale), not pixel noise. The mask is copied.
        """
        if not isinstance(masked_image, MaskedImage):
            raise AfwValueError(f"calibrate_image needs a MaskedImage, got {type(masked_image).__name__}")
        out = masked_image.clone()
        if self._field is None:
            c: Any = self._mean
        else:
            c = self._field.make_image(masked_image.bbox)
        image = masked_image.image.array.astype(np.float64)
        variance = masked_image.variance.array.astype(np.float64) * np.square(c)
        if include_scale_uncertainty:
            variance = variance + np.square(image * self._err)
        out.image.array[:] = image * c
        out.variance.array[:] = variance
        out.image.units = "nJy"
        return out

    # -- persistence -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain-value description (JSON/YAML safe); `from_dict` rebuilds an equal object."""
        return {
            "calibration_mean_njy_per_count": self._mean,
            "calibration_err_njy_per_count": self._err,
            "bbox": None if self._bbox is None else _box_to_list(self._bbox),
            "calibration": None if self._field is None else self._field.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PhotoCalib:
        known = {"calibration_mean_njy_per_count", "calibration_err_njy_per_count", "bbox", "calibration"}
        unknown = set(data) - known
        if unknown:
            raise AfwValueError(f"unknown PhotoCalib keys {sorted(unknown)}; expected {sorted(known)}")
        field = data.get("calibration")
        bbox = data.get("bbox")
        return cls(
            data["calibration_mean_njy_per_count"],
            data.get("calibration_err_njy_per_count", 0.0),
            None if bbox is None else _box_from_list(bbox),
            None if field is None else BoundedField.from_dict(field),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PhotoCalib):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return PhotoCalib.from_dict, (self.to_dict(),)

    def __repr__(self) -> str:
        kind = "spatially constant" if self._field is None else f"spatial {type(self._field).__name__}"
        return f"PhotoCalib({self._mean!r} +/- {self._err!r} nJy/count, {kind})"
