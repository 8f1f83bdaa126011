"""`BoundedField`: a scalar function over a detector's pixel box (constant or 2-D Chebyshev)."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.polynomial import chebyshev
from numpy.typing import ArrayLike, NDArray

from osprey.geom import Box2D, Box2I, Extent2I, Point2D, Point2I

from ..errors import AfwShapeError, AfwValueError

__all__ = ["BoundedField", "ChebyshevBoundedField", "ConstantBoundedField"]


def _box_to_list(box: Box2I) -> list[int]:
    return [box.x0, box.y0, box.width, box.height]


def _box_from_list(value: Any) -> Box2I:
    try:
        x0, y0, w, h = (int(v) for v in value)
    except (TypeError, ValueError):
        raise AfwValueError(f"bbox must be [x0, y0, width, height], got {value!r}") from None
    return Box2I(Point2I(x0, y0), Extent2I(w, h))


def _check_bbox(bbox: Any) -> Box2I:
    if not isinstance(bbox, Box2I) or bbox.is_empty():
        raise AfwValueError(f"a BoundedField needs a non-empty Box2I, got {bbox!r}")
    return bbox


def _xy(x: Any, y: Any) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
    """Broadcast positions; ``x`` may be a Point2D (y None). The flag says 'return a float'."""
    if y is None:
        if isinstance(x, (Point2D, Point2I)):
            return np.array(float(x.x)), np.array(float(x.y)), True
        raise AfwValueError("evaluate(x, y) needs both coordinates, or a single Point2D")
    xa, ya = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return xa, ya, xa.ndim == 0


class BoundedField(abc.ABC):
    """A scalar function of pixel position, defined over a `Box2I` (``bbox``).

    `evaluate` is vectorised: ``field.evaluate(x_array, y_array)`` returns an array of the
    broadcast shape, ``field.evaluate(point)`` a float. Positions outside ``bbox`` are
    extrapolated, not refused.
    """

    _registry: ClassVar[dict[str, type[BoundedField]]] = {}

    def __init__(self, bbox: Box2I) -> None:
        self._bbox = _check_bbox(bbox)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        BoundedField._registry[cls.__name__] = cls

    @property
    def bbox(self) -> Box2I:
        """Region the field is defined on (inclusive begin, exclusive end), pixels."""
        return self._bbox

    @abc.abstractmethod
    def _evaluate(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        """Values at the broadcast positions."""

    @abc.abstractmethod
    def mean(self) -> float:
        """Average of the field over ``Box2D(bbox)`` (the pixels' full area)."""

    @abc.abstractmethod
    def _params(self) -> dict[str, Any]:
        """Everything but the bbox, as plain Python values."""

    def evaluate(self, x: Any, y: Any = None) -> Any:
        """Field value at ``(x, y)`` (pixels); arrays broadcast, a Point2D or scalars give a float."""
        xa, ya, scalar = _xy(x, y)
        out = self._evaluate(xa, ya)
        return float(out) if scalar else out

    def __call__(self, x: Any, y: Any = None) -> Any:
        return self.evaluate(x, y)

    def make_image(self, bbox: Box2I | None = None) -> NDArray[np.float64]:
        """Values at every pixel centre of ``bbox`` (default: the field's), as a ``[y, x]`` array."""
        box = self._bbox if bbox is None else bbox
        xs = np.arange(box.x0, box.x_end, dtype=np.float64)
        ys = np.arange(box.y0, box.y_end, dtype=np.float64)
        return np.asarray(self._evaluate(xs[None, :], ys[:, None]), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """``{"type": ..., "bbox": [x0, y0, width, height], ...}`` with plain values (JSON/YAML safe)."""
        return {"type": type(self).__name__, "bbox": _box_to_list(self._bbox), **self._params()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BoundedField:
        """Rebuild any bounded field type from `to_dict` output."""
        params = dict(data)
        name = params.pop("type", None)
        target = BoundedField._registry.get(name) if isinstance(name, str) else None
        if target is None:
            raise AfwValueError(f"unknown BoundedField type {name!r}; known: {sorted(BoundedField._registry)}")
        bbox = _box_from_list(params.pop("bbox", None))
        try:
            return target(bbox, **params)
        except TypeError as exc:
            raise AfwValueError(f"bad {name} description {sorted(params)}: {exc}") from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BoundedField):
            return NotImplemented
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return BoundedField.from_dict, (self.to_dict(),)


class ConstantBoundedField(BoundedField):
    """The same ``value`` everywhere in ``bbox``."""

    def __init__(self, bbox: Box2I, value: float) -> None:
        super().__init__(bbox)
        if not np.isfinite(value):
            raise AfwValueError(f"ConstantBoundedField value must be finite, got {value!r}")
        self._value = float(value)

    @property
    def value(self) -> float:
        return self._value

    def _evaluate(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.full(np.shape(x), self._value)

    def mean(self) -> float:
        return self._value

    def _params(self) -> dict[str, Any]:
        return {"value": self._value}

    def __repr__(self) -> str:
        return f"ConstantBoundedField({self._bbox!r}, {self._value!r})"


def _orders(order: int | Sequence[int]) -> tuple[int, int]:
    ox, oy = (order, order) if isinstance(order, (int, np.integer)) else tuple(order)
    if min(ox, oy) < 0:
        raise AfwValueError(f"Chebyshev order must be >= 0, got {order!r}")
    return int(ox), int(oy)


class ChebyshevBoundedField(BoundedField):
    """A 2-D Chebyshev series (first kind) over ``bbox``.

    ``f(x, y) = sum_{j, i} coefficients[j, i] T_i(x') T_j(y')`` where ``x'`` and ``y'`` map
    ``Box2D(bbox)`` (the pixels' outer edges, ``x0 - 0.5 .. x_end - 0.5``) onto ``[-1, 1]``.
    Note the ``[y order, x order]`` indexing, as for images.

    Parameters
    ----------
    bbox : `Box2I`
        Domain of the field.
    coefficients : array_like, shape (order_y + 1, order_x + 1)
        Series coefficients.
    """

    def __init__(self, bbox: Box2I, coefficients: ArrayLike) -> None:
        super().__init__(bbox)
        c = np.array(coefficients, dtype=np.float64)
        if c.ndim != 2 or c.size == 0:
            raise AfwShapeError("Chebyshev coefficients must be a 2-D array", "(order_y + 1, order_x + 1)", c.shape)
        if not np.all(np.isfinite(c)):
            raise AfwValueError("Chebyshev coefficients must be finite")
        c.setflags(write=False)
        self._coefficients = c
        box = Box2D(bbox)
        self._scale = (2.0 / box.width, 2.0 / box.height)
        self._offset = (-(box.min.x + box.max.x) / box.width, -(box.min.y + box.max.y) / box.height)

    @property
    def coefficients(self) -> NDArray[np.float64]:
        """Coefficients ``[j, i]`` of ``T_i(x') T_j(y')`` (read-only)."""
        return self._coefficients

    def _normalize(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return (
            np.asarray(x, dtype=np.float64) * self._scale[0] + self._offset[0],
            np.asarray(y, dtype=np.float64) * self._scale[1] + self._offset[1],
        )

    def _evaluate(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        xn, yn = np.broadcast_arrays(*self._normalize(x, y))
        return chebyshev.chebval2d(yn, xn, self._coefficients)

    def mean(self) -> float:
        """Exact average over ``Box2D(bbox)``: the mean of ``T_n`` on [-1, 1] is ``1/(1 - n^2)`` for even n, else 0."""

        def averages(n: int) -> NDArray[np.float64]:
            out = np.zeros(n)
            even = np.arange(0, n, 2, dtype=np.float64)
            out[::2] = 1.0 / (1.0 - even**2)
            return out

        ny, nx = self._coefficients.shape
        return float(averages(ny) @ self._coefficients @ averages(nx))

    @classmethod
    def fit(
        cls,
        bbox: Box2I,
        x: ArrayLike,
        y: ArrayLike,
        values: ArrayLike,
        order: int | Sequence[int],
        *,
        weights: ArrayLike | None = None,
        triangular: bool = True,
    ) -> ChebyshevBoundedField:
        """Least-squares fit of a Chebyshev series to samples.

        Parameters
        ----------
        bbox : `Box2I`
            Domain of the result.
        x, y, values : array_like, shape (n,)
            Sample positions (pixels) and values.
        order : `int` or (order_x, order_y)
            Maximum order per axis.
        weights : array_like, shape (n,), optional
            Weights (1 / sigma) of the residuals; uniform by default.
        triangular : `bool`
            Keep only terms with ``i + j <= max(order_x, order_y)`` (the usual choice,
            as in LSST afw); otherwise the full rectangle.
        """
        box = _check_bbox(bbox)
        ox, oy = _orders(order)
        xs, ys, vs = (np.asarray(v, dtype=np.float64).ravel() for v in (x, y, values))
        if not (xs.shape == ys.shape == vs.shape):
            raise AfwShapeError("x, y and values must have the same length", xs.shape, (ys.shape, vs.shape))
        probe = cls(box, np.zeros((oy + 1, ox + 1)))
        xn, yn = probe._normalize(xs, ys)
        design = chebyshev.chebvander2d(yn, xn, [oy, ox])  # column j * (ox + 1) + i is T_j(y') T_i(x')
        jj, ii = np.divmod(np.arange(design.shape[1]), ox + 1)
        keep = (ii + jj <= max(ox, oy)) if triangular else np.ones(design.shape[1], dtype=bool)
        if np.count_nonzero(keep) > xs.size:
            raise AfwValueError(f"{xs.size} samples cannot constrain {np.count_nonzero(keep)} Chebyshev terms")
        a, b = design[:, keep], vs
        if weights is not None:
            w = np.asarray(weights, dtype=np.float64).ravel()
            if w.shape != xs.shape:
                raise AfwShapeError("weights must match the samples", xs.shape, w.shape)
            a, b = a * w[:, None], b * w
        solution, *_ = np.linalg.lstsq(a, b, rcond=None)
        coeffs = np.zeros(design.shape[1])
        coeffs[keep] = solution
        return cls(box, coeffs.reshape(oy + 1, ox + 1))

    def _params(self) -> dict[str, Any]:
        return {"coefficients": self._coefficients.tolist()}

    def __repr__(self) -> str:
        ny, nx = self._coefficients.shape
        return f"ChebyshevBoundedField({self._bbox!r}, orders x {nx - 1}, y {ny - 1})"
