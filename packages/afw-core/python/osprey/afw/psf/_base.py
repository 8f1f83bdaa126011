"""`Psf`: the abstract point-spread-function model and its shared numerics."""

from __future__ import annotations

import abc
import math
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import NDArray

from osprey.geom import Box2I, Extent2I, Point2D, Point2I

from ..errors import AfwValueError
from ..image import Image
from ._lanczos import interpolation_matrix

__all__ = ["Psf", "PsfShape", "as_point2d", "measure_moments"]

_APERTURE_SUBSAMPLE = 16  # sub-pixels per pixel side when integrating a pixelised PSF over a circle


class PsfShape(NamedTuple):
    """Second moments of a PSF about its centroid, in pixels squared."""

    ixx: float
    iyy: float
    ixy: float

    @property
    def determinant_radius(self) -> float:
        """``(ixx * iyy - ixy**2) ** 0.25``: sigma for a round Gaussian, pixels."""
        return float((self.ixx * self.iyy - self.ixy**2) ** 0.25)

    @property
    def trace_radius(self) -> float:
        """``sqrt((ixx + iyy) / 2)``, pixels."""
        return math.sqrt((self.ixx + self.iyy) / 2.0)


def as_point2d(point: Any) -> Point2D:
    """A `Point2D` from a Point2D/Point2I or an ``(x, y)`` pair."""
    if isinstance(point, Point2D):
        return point
    if isinstance(point, Point2I):
        return point.to_point2d()
    try:
        x, y = point
        return Point2D(float(x), float(y))
    except (TypeError, ValueError):
        raise AfwValueError(f"a PSF position must be a Point2D or an (x, y) pair of pixels, got {point!r}") from None


def measure_moments(array: NDArray[np.float64], x0: float = 0.0, y0: float = 0.0) -> tuple[float, float, PsfShape]:
    """Unweighted centroid ``(x, y)`` and second moments of a pixel array whose ``[0, 0]`` is at ``(x0, y0)``."""
    a = np.asarray(array, dtype=np.float64)
    total = a.sum()
    if not total > 0:
        raise AfwValueError("cannot measure moments of an image whose sum is not positive")
    ys = np.arange(a.shape[0]) + y0
    xs = np.arange(a.shape[1]) + x0
    px, py = a.sum(axis=0), a.sum(axis=1)
    xc = float(px @ xs / total)
    yc = float(py @ ys / total)
    dx, dy = xs - xc, ys - yc
    ixx = float(px @ dx**2 / total)
    iyy = float(py @ dy**2 / total)
    ixy = float(dy @ a @ dx / total)
    return xc, yc, PsfShape(ixx, iyy, ixy)


def _check_dimension(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1 or value % 2 == 0:
        raise AfwValueError(
            f"PSF {name} must be a positive odd number of pixels (so a middle pixel exists), got {value!r}"
        )
    return int(value)


class Psf(abc.ABC):
    """A point-spread-function model: how a point source is spread over pixels at each position.

    Positions are in the parent (detector) pixel frame, pixel centres at integers. A
    subclass implements `_realize`, which draws the PSF on a ``height x width`` grid
    with its centre offset by ``(dx, dy)`` pixels from the middle pixel; this class turns
    that into normalised images, moments, aperture fluxes and boxes.

    Parameters
    ----------
    width, height : `int`
        Size in pixels of the realised images; odd, so there is a middle pixel.
    """

    _registry: ClassVar[dict[str, type[Psf]]] = {}

    def __init__(self, width: int, height: int) -> None:
        self._width = _check_dimension(width, "width")
        self._height = _check_dimension(height, "height")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Psf._registry[cls.__name__] = cls

    # -- what subclasses provide -------------------------------------------------------------
    @abc.abstractmethod
    def _realize(self, dx: float, dy: float, point: Point2D) -> NDArray[np.float64]:
        """PSF on the ``(height, width)`` grid, centred ``(dx, dy)`` from the middle pixel (any normalisation)."""

    @abc.abstractmethod
    def _params(self) -> dict[str, Any]:
        """Constructor arguments as plain Python values (for equality and `to_dict`)."""

    # -- geometry ------------------------------------------------------------------------------
    @property
    def dimensions(self) -> Extent2I:
        """Size of realised images, pixels."""
        return Extent2I(self._width, self._height)

    @property
    def width(self) -> int:
        return self._width

    @property
    def height(self) -> int:
        return self._height

    def _normalized(self, dx: float, dy: float, point: Point2D) -> NDArray[np.float64]:
        arr = np.asarray(self._realize(dx, dy, point), dtype=np.float64)
        total = arr.sum()
        if not (np.isfinite(total) and total > 0):
            raise AfwValueError(f"{type(self).__name__} realised an image with sum {total}; cannot normalise it")
        return arr / total

    def compute_kernel_image(self, point: Any = None) -> Image:
        """The PSF centred on the middle pixel, summing to 1 (float64).

        The image's ``xy0`` is ``(-(width // 2), -(height // 2))``, so the middle pixel is
        at (0, 0). ``point`` (parent pixels) selects where on the detector, for
        spatially varying models; the default is the origin.
        """
        p = Point2D(0.0, 0.0) if point is None else as_point2d(point)
        arr = self._normalized(0.0, 0.0, p)
        return Image.from_array(arr, xy0=Point2I(-(self._width // 2), -(self._height // 2)))

    def compute_bbox(self, point: Any = None) -> Box2I:
        """Parent-frame box of `compute_image` at ``point`` (the kernel box when ``point`` is None)."""
        if point is None:
            return Box2I(Point2I(-(self._width // 2), -(self._height // 2)), self.dimensions)
        p = as_point2d(point)
        ix, iy = int(math.floor(p.x + 0.5)), int(math.floor(p.y + 0.5))
        return Box2I(Point2I(ix - self._width // 2, iy - self._height // 2), self.dimensions)

    def compute_image(self, point: Any) -> Image:
        """The PSF of a point source at ``point`` (parent pixels, sub-pixel), summing to 1 (float64).

        The image covers `compute_bbox` ``(point)``: the nearest pixel to ``point`` is its
        middle pixel and the profile is shifted by the fractional part, so the image's
        centroid is at ``point``.
        """
        p = as_point2d(point)
        box = self.compute_bbox(p)
        cx, cy = box.x0 + self._width // 2, box.y0 + self._height // 2
        arr = self._normalized(p.x - cx, p.y - cy, p)
        return Image.from_array(arr, xy0=box.begin)

    def compute_shape(self, point: Any = None) -> PsfShape:
        """Second moments ``(ixx, iyy, ixy)`` in pixels^2, measured on the kernel image (unweighted)."""
        return measure_moments(self.compute_kernel_image(point).array)[2]

    def compute_aperture_flux(self, radius: float, point: Any = None) -> float:
        """Fraction of the PSF flux within ``radius`` pixels of the kernel's middle pixel.

        Generic version: the kernel pixels are Lanczos-5 interpolated onto a 16x16 sub-grid
        per pixel and the circle is integrated on that grid (about 1e-4 accurate for a
        well-sampled PSF); models with a closed form override it.
        """
        if not radius >= 0:
            raise AfwValueError(f"aperture radius must be >= 0 pixels, got {radius!r}")
        kernel = self.compute_kernel_image(point).array
        n = _APERTURE_SUBSAMPLE
        offsets = (np.arange(n) + 0.5) / n - 0.5
        xs = (np.arange(self._width)[:, None] + offsets[None, :]).ravel()  # sub-pixel centres, array index
        ys = (np.arange(self._height)[:, None] + offsets[None, :]).ravel()
        values = interpolation_matrix(self._height, ys) @ kernel @ interpolation_matrix(self._width, xs).T
        dx = xs - self._width // 2
        dy = ys - self._height // 2
        inside = dy[:, None] ** 2 + dx[None, :] ** 2 <= radius * radius
        return float(values[inside].sum() / values.sum())

    # -- persistence and equality ----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """``{"type": class name, **constructor arguments}``; plain Python values only (JSON/YAML safe)."""
        return {"type": type(self).__name__, **self._params()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Psf:
        """Rebuild any registered PSF type from `to_dict` output."""
        params = dict(data)
        name = params.pop("type", None)
        target = Psf._registry.get(name) if isinstance(name, str) else None
        if target is None:
            raise AfwValueError(f"unknown PSF type {name!r} in PSF description; known: {sorted(Psf._registry)}")
        if cls is not Psf and not issubclass(target, cls):
            raise AfwValueError(f"{cls.__name__}.from_dict got a description of a {name}")
        try:
            return target(**params)
        except TypeError as exc:
            raise AfwValueError(f"bad {name} description {sorted(params)}: {exc}") from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Psf):
            return NotImplemented
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items() if k != "array")
        return f"{type(self).__name__}({args})"

    def __reduce__(self) -> tuple[Any, ...]:
        return Psf.from_dict, (self.to_dict(),)
