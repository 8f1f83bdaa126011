"""2-D linear and affine transforms of pixel-space points.

``LinearTransform`` is a 2x2 matrix ``L``; ``AffineTransform`` maps ``p -> L p + t``.
Composition follows function composition: ``(a @ b)(p) == a(b(p))`` (apply ``b`` first).
Points are translated, extents (displacements) are not.  Arrays of positions are transformed
by one compiled, GIL-free pass.  The C++ twins live in ``include/osprey/geom/cartesian.h``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _geom
from .cartesian import Extent2D, Extent2I, Point2D, Point2I
from .errors import GeomValueError

__all__ = ["AffineTransform", "LinearTransform"]


def _as_matrix(value: ArrayLike, shape: tuple[int, int], name: str) -> NDArray[np.float64]:
    m = np.array(value, dtype=np.float64)
    if m.shape != shape:
        raise GeomValueError(f"{name} must have shape {shape}, got {m.shape}")
    if not np.all(np.isfinite(m)):
        raise GeomValueError(f"{name} must be finite, got {m.tolist()}")
    m.setflags(write=False)
    return m


def _radians(angle: Any) -> float:
    """An `Angle` (anything with ``as_radians()``) or a float in radians."""
    if hasattr(angle, "as_radians"):
        return float(angle.as_radians())
    value = float(angle)
    if not math.isfinite(value):
        raise GeomValueError(f"rotation angle must be finite, got {angle!r}")
    return value


def _xy_arrays(x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    xs = np.ascontiguousarray(x, dtype=np.float64)
    ys = np.ascontiguousarray(y, dtype=np.float64)
    if xs.shape != ys.shape:
        raise GeomValueError(f"x and y must have the same shape, got {xs.shape} and {ys.shape}")
    return xs, ys


class LinearTransform:
    """A 2x2 linear map of the plane, ``(x, y) -> M @ (x, y)``.

    Parameters
    ----------
    matrix : array_like, shape (2, 2), optional
        ``[[a00, a01], [a10, a11]]``; identity when omitted.

    Examples
    --------
    >>> LinearTransform.rotation(math.pi / 2)(Point2D(1, 0))  # doctest: +SKIP
    Point2D(6.1e-17, 1.0)
    """

    __slots__ = ("_m",)
    _m: NDArray[np.float64]

    def __init__(self, matrix: ArrayLike | None = None) -> None:
        m = np.eye(2) if matrix is None else matrix
        object.__setattr__(self, "_m", _as_matrix(m, (2, 2), "LinearTransform matrix"))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("LinearTransform is immutable")

    @classmethod
    def scaling(cls, sx: float, sy: float | None = None) -> LinearTransform:
        """Scale x by ``sx`` and y by ``sy`` (default ``sx``)."""
        return cls([[sx, 0.0], [0.0, sx if sy is None else sy]])

    @classmethod
    def rotation(cls, angle: Any) -> LinearTransform:
        """Counter-clockwise rotation by ``angle`` (an `Angle` or a float in radians)."""
        t = _radians(angle)
        c, s = math.cos(t), math.sin(t)
        return cls([[c, -s], [s, c]])

    @property
    def matrix(self) -> NDArray[np.float64]:
        """The read-only 2x2 matrix."""
        return self._m

    @property
    def parameters(self) -> tuple[float, float, float, float]:
        """``(a00, a01, a10, a11)``."""
        return tuple(float(v) for v in self._m.ravel())  # type: ignore[return-value]

    def determinant(self) -> float:
        """``a00 a11 - a01 a10``."""
        (a, b), (c, d) = self._m
        return float(a * d - b * c)

    def inverse(self) -> LinearTransform:
        """The inverse map; raises `GeomValueError` if the matrix is singular."""
        det = self.determinant()
        if det == 0.0 or not math.isfinite(det):
            raise GeomValueError(f"LinearTransform {self._m.tolist()} is singular (det={det})")
        (a, b), (c, d) = self._m
        return LinearTransform([[d / det, -b / det], [-c / det, a / det]])

    def __matmul__(self, other: Any) -> Any:
        if isinstance(other, AffineTransform):
            return AffineTransform(self) @ other
        if isinstance(other, LinearTransform):
            return LinearTransform(self._m @ other._m)
        return NotImplemented

    __mul__ = __matmul__

    def __call__(self, p: Any, y: ArrayLike | None = None) -> Any:
        """Apply to a `Point2D`/`Extent2D` (same type back) or to ``x, y`` arrays."""
        return AffineTransform(self)(p, y)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LinearTransform):
            return NotImplemented
        return bool(np.array_equal(self._m, other._m))

    def __hash__(self) -> int:
        return hash(("LinearTransform", self.parameters))

    def __repr__(self) -> str:
        return f"LinearTransform({self._m.tolist()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return LinearTransform, (self._m.tolist(),)


class AffineTransform:
    """Affine map of the plane, ``p -> linear(p) + translation``.

    Parameters
    ----------
    linear : `LinearTransform` or array_like (2, 2), optional
        Linear part; identity when omitted.
    translation : `Extent2D` or pair of float, optional
        Offset in pixels added after the linear part; zero when omitted.
    """

    __slots__ = ("_linear", "_t")
    _linear: LinearTransform
    _t: tuple[float, float]

    def __init__(
        self,
        linear: LinearTransform | ArrayLike | None = None,
        translation: Extent2D | tuple[float, float] | None = None,
    ) -> None:
        lin = linear if isinstance(linear, LinearTransform) else LinearTransform(linear)
        t = (0.0, 0.0) if translation is None else tuple(Extent2D(*translation))
        if not all(math.isfinite(v) for v in t):
            raise GeomValueError(f"translation must be finite, got {t}")
        object.__setattr__(self, "_linear", lin)
        object.__setattr__(self, "_t", (float(t[0]), float(t[1])))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("AffineTransform is immutable")

    @classmethod
    def from_matrix(cls, matrix: ArrayLike) -> AffineTransform:
        """From a 3x3 homogeneous matrix whose last row is ``[0, 0, 1]``."""
        m = _as_matrix(matrix, (3, 3), "AffineTransform matrix")
        if not np.array_equal(m[2], [0.0, 0.0, 1.0]):
            raise GeomValueError(f"the last row of an affine matrix must be [0, 0, 1], got {m[2].tolist()}")
        return cls(m[:2, :2], (m[0, 2], m[1, 2]))

    @classmethod
    def from_parameters(cls, parameters: ArrayLike) -> AffineTransform:
        """From ``(a00, a01, a10, a11, tx, ty)`` (the order of `parameters`)."""
        p = np.asarray(parameters, dtype=np.float64)
        if p.shape != (6,):
            raise GeomValueError(f"affine parameters must have shape (6,), got {p.shape}")
        return cls(p[:4].reshape(2, 2), (p[4], p[5]))

    @classmethod
    def translation_only(cls, offset: Extent2D | tuple[float, float]) -> AffineTransform:
        """A pure translation by ``offset`` pixels."""
        return cls(None, offset)

    @classmethod
    def fit(cls, x_in: ArrayLike, y_in: ArrayLike, x_out: ArrayLike, y_out: ArrayLike) -> AffineTransform:
        """Least-squares affine transform mapping ``(x_in, y_in)`` onto ``(x_out, y_out)``.

        Needs at least three non-collinear points; exact for exactly affine data.
        """
        xi, yi = _xy_arrays(x_in, y_in)
        xo, yo = _xy_arrays(x_out, y_out)
        if xi.shape != xo.shape or xi.ndim != 1:
            raise GeomValueError(f"fit needs four 1-D arrays of one length, got {xi.shape} and {xo.shape}")
        if xi.size < 3:
            raise GeomValueError(f"fit needs at least 3 points, got {xi.size}")
        # Centre the inputs so the normal equations stay well conditioned far from the origin.
        cx, cy = xi.mean(), yi.mean()
        design = np.column_stack([xi - cx, yi - cy, np.ones_like(xi)])
        if np.linalg.matrix_rank(design) < 3:
            raise GeomValueError("fit points are collinear; an affine transform is not determined")
        coef, *_ = np.linalg.lstsq(design, np.column_stack([xo, yo]), rcond=None)
        lin = coef[:2].T  # rows: output x, output y
        t = coef[2] - lin @ np.array([cx, cy])
        return cls(lin, (t[0], t[1]))

    @property
    def linear(self) -> LinearTransform:
        """The linear (2x2) part."""
        return self._linear

    @property
    def translation(self) -> Extent2D:
        """The translation, in pixels."""
        return Extent2D(*self._t)

    @property
    def matrix(self) -> NDArray[np.float64]:
        """The 3x3 homogeneous matrix ``[[L, t], [0, 0, 1]]`` (a new array)."""
        m = np.eye(3)
        m[:2, :2] = self._linear.matrix
        m[:2, 2] = self._t
        return m

    @property
    def parameters(self) -> tuple[float, float, float, float, float, float]:
        """``(a00, a01, a10, a11, tx, ty)``, the order the C++ kernels take."""
        return (*self._linear.parameters, *self._t)  # type: ignore[return-value]

    def inverse(self) -> AffineTransform:
        """The inverse map; raises `GeomValueError` if the linear part is singular."""
        inv = self._linear.inverse()
        tx, ty = inv(Point2D(*self._t))
        return AffineTransform(inv, (-tx, -ty))

    def __matmul__(self, other: Any) -> Any:
        if isinstance(other, LinearTransform):
            other = AffineTransform(other)
        if isinstance(other, AffineTransform):
            lin = self._linear @ other._linear
            tx, ty = self(Point2D(*other._t))
            return AffineTransform(lin, (tx, ty))
        return NotImplemented

    __mul__ = __matmul__

    def __rmatmul__(self, other: Any) -> Any:
        if isinstance(other, LinearTransform):
            return AffineTransform(other) @ self
        return NotImplemented

    def __call__(self, p: Any, y: ArrayLike | None = None) -> Any:
        """Apply the transform.

        * ``t(Point2D)`` or ``t(Point2I)`` -> `Point2D` (translated);
        * ``t(Extent2D)`` or ``t(Extent2I)`` -> `Extent2D` (linear part only);
        * ``t(x, y)`` with arrays of any matching shape -> ``(x', y')`` float64 arrays.
        """
        a00, a01, a10, a11 = self._linear.parameters
        if y is not None:
            xs, ys = _xy_arrays(p, y)
            xo, yo = _geom.affine_apply(a00, a01, a10, a11, self._t[0], self._t[1], xs.ravel(), ys.ravel())
            return xo.reshape(xs.shape), yo.reshape(xs.shape)
        if isinstance(p, (Point2D, Point2I)):
            return Point2D(a00 * p.x + a01 * p.y + self._t[0], a10 * p.x + a11 * p.y + self._t[1])
        if isinstance(p, (Extent2D, Extent2I)):
            return Extent2D(a00 * p.x + a01 * p.y, a10 * p.x + a11 * p.y)
        raise GeomValueError(f"cannot apply a transform to {p!r}; pass a point, an extent or x, y arrays")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AffineTransform):
            return NotImplemented
        return self._linear == other._linear and self._t == other._t

    def __hash__(self) -> int:
        return hash(("AffineTransform", self.parameters))

    def __repr__(self) -> str:
        return f"AffineTransform({self._linear.matrix.tolist()!r}, {self._t!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return AffineTransform.from_parameters, (list(self.parameters),)
