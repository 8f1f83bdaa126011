"""Angles as an immutable value type that stores radians, with named units.

Build one with ``Angle(45, degrees)`` or ``45 * degrees``; read it back with
``as_radians()``, ``as_degrees()``, ``as_arcminutes()``, ``as_arcseconds()`` or
``as_hours()``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from .errors import GeomValueError

__all__ = [
    "Angle",
    "AngleUnit",
    "arcminutes",
    "arcseconds",
    "degrees",
    "hours",
    "radians",
]

_TWO_PI = 2.0 * math.pi


class AngleUnit:
    """A unit of angle: a name and the number of radians in one unit.

    Multiplying a real number by a unit makes an `Angle`: ``30 * degrees``.

    Parameters
    ----------
    name : `str`
        Name of the module-level instance (used by `repr`).
    radians_per_unit : `float`
        Size of one unit in radians; must be positive and finite.
    """

    __slots__ = ("_name", "_factor")
    __array_ufunc__ = None  # ``ndarray * degrees`` defers to __rmul__ (which refuses arrays)

    def __init__(self, name: str, radians_per_unit: float):
        factor = float(radians_per_unit)
        if not (math.isfinite(factor) and factor > 0.0):
            raise GeomValueError(f"AngleUnit {name!r}: radians_per_unit must be > 0 and finite, got {factor!r}")
        object.__setattr__(self, "_name", str(name))
        object.__setattr__(self, "_factor", factor)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("AngleUnit is immutable")

    @property
    def name(self) -> str:
        """Name of the unit, e.g. ``"degrees"``."""
        return self._name

    @property
    def radians_per_unit(self) -> float:
        """Size of one unit in radians."""
        return self._factor

    def __rmul__(self, value: Any) -> Angle:
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return Angle(value, self)
        return NotImplemented

    __mul__ = __rmul__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AngleUnit):
            return NotImplemented
        return self._factor == other._factor

    def __hash__(self) -> int:
        return hash(("AngleUnit", self._factor))

    def __repr__(self) -> str:
        if _UNITS.get(self._name) is self:
            return self._name
        return f"AngleUnit({self._name!r}, {self._factor!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        if _UNITS.get(self._name) is self:
            return (_unit_by_name, (self._name,))
        return (AngleUnit, (self._name, self._factor))


def _unit_by_name(name: str) -> AngleUnit:
    return _UNITS[name]


radians = AngleUnit("radians", 1.0)
degrees = AngleUnit("degrees", math.pi / 180.0)
arcminutes = AngleUnit("arcminutes", math.pi / (180.0 * 60.0))
arcseconds = AngleUnit("arcseconds", math.pi / (180.0 * 3600.0))
hours = AngleUnit("hours", math.pi / 12.0)
_UNITS = {u.name: u for u in (radians, degrees, arcminutes, arcseconds, hours)}


def _wrap_0_2pi(x: float) -> float:
    """Reduce ``x`` radians into ``[0, 2*pi)`` (never returning 2*pi itself)."""
    w = math.fmod(x, _TWO_PI)
    if w < 0.0:
        w += _TWO_PI
    if w >= _TWO_PI:  # -tiny + 2*pi rounds up to 2*pi
        w = 0.0
    return w


class Angle:
    """An immutable angle, stored in radians.

    Parameters
    ----------
    value : `float` or `Angle`
        The size of the angle in ``unit``; must be finite. An `Angle` is copied
        (``unit`` must then be left at its default).
    unit : `AngleUnit`, optional
        Unit of ``value``; default `radians`.

    Notes
    -----
    Supported arithmetic: ``Angle +/- Angle``, ``Angle * real``, ``real * Angle``,
    ``Angle / real`` (an `Angle`), ``Angle / Angle`` (a `float`), unary ``-``,
    `abs`, comparisons between angles, hashing and pickling. ``repr`` evaluates
    back to an equal angle given ``from osprey.geom.angle import Angle``.

    Examples
    --------
    >>> Angle(90, degrees).as_radians() == math.pi / 2
    True
    >>> (1.5 * hours).as_degrees()
    22.5
    """

    __slots__ = ("_rad",)

    def __init__(self, value: float | Angle, unit: AngleUnit = radians):
        if isinstance(value, Angle):
            if unit is not radians:
                raise GeomValueError("Angle(angle, unit): an Angle already has a unit; pass a number instead")
            rad = value._rad
        else:
            if not isinstance(unit, AngleUnit):
                raise TypeError(f"unit must be an AngleUnit such as degrees, got {type(unit).__name__}")
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"Angle value must be a real number, got {type(value).__name__}")
            v = float(value)
            if not math.isfinite(v):
                raise GeomValueError(f"Angle value must be finite, got {v!r}")
            rad = v if unit._factor == 1.0 else v * unit._factor
        object.__setattr__(self, "_rad", rad)

    @classmethod
    def _from_radians(cls, rad: float) -> Angle:
        """Build without validation; for results computed from valid angles."""
        self = object.__new__(cls)
        object.__setattr__(self, "_rad", float(rad))
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Angle is immutable")

    # --- accessors --------------------------------------------------------------------
    def as_radians(self) -> float:
        """Return the angle in radians."""
        return self._rad

    def as_degrees(self) -> float:
        """Return the angle in degrees."""
        return self._rad / degrees._factor

    def as_arcminutes(self) -> float:
        """Return the angle in arcminutes."""
        return self._rad / arcminutes._factor

    def as_arcseconds(self) -> float:
        """Return the angle in arcseconds."""
        return self._rad / arcseconds._factor

    def as_hours(self) -> float:
        """Return the angle in hours (24 h = 360 degrees)."""
        return self._rad / hours._factor

    def as_unit(self, unit: AngleUnit) -> float:
        """Return the angle expressed in ``unit``."""
        return self._rad / unit._factor

    # --- wrapping ---------------------------------------------------------------------
    def wrap(self) -> Angle:
        """Return the equivalent angle in ``[0, 2*pi)`` radians."""
        return Angle._from_radians(_wrap_0_2pi(self._rad))

    def wrap_ctr(self) -> Angle:
        """Return the equivalent angle in ``[-pi, pi)`` radians."""
        w = _wrap_0_2pi(self._rad + math.pi) - math.pi
        if w >= math.pi:
            w -= _TWO_PI
        return Angle._from_radians(w)

    def wrap_near(self, ref: Angle) -> Angle:
        """Return the equivalent angle in ``[ref - pi, ref + pi)`` radians."""
        if not isinstance(ref, Angle):
            raise TypeError(f"wrap_near needs an Angle, got {type(ref).__name__}")
        d = self._rad - ref._rad
        w = ref._rad + (_wrap_0_2pi(d + math.pi) - math.pi)
        # Rounding of the final sum can leave w a hair outside the half-open interval.
        if w < ref._rad - math.pi:
            w += _TWO_PI
        elif w >= ref._rad + math.pi:
            w -= _TWO_PI
        return Angle._from_radians(w)

    # --- arithmetic -------------------------------------------------------------------
    def __add__(self, other: Any) -> Angle:
        if isinstance(other, Angle):
            return Angle._from_radians(self._rad + other._rad)
        return NotImplemented

    def __sub__(self, other: Any) -> Angle:
        if isinstance(other, Angle):
            return Angle._from_radians(self._rad - other._rad)
        return NotImplemented

    def __mul__(self, other: Any) -> Angle:
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return Angle(self._rad * float(other))
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Angle | float:
        if isinstance(other, Angle):
            return self._rad / other._rad
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return Angle(self._rad / float(other))
        return NotImplemented

    def __neg__(self) -> Angle:
        return Angle._from_radians(-self._rad)

    def __pos__(self) -> Angle:
        return self

    def __abs__(self) -> Angle:
        return Angle._from_radians(abs(self._rad))

    # --- comparisons, hashing, pickling -----------------------------------------------
    def __eq__(self, other: object) -> bool:
        if isinstance(other, Angle):
            return self._rad == other._rad
        return NotImplemented

    def __lt__(self, other: Any) -> bool:
        if isinstance(other, Angle):
            return self._rad < other._rad
        return NotImplemented

    def __le__(self, other: Any) -> bool:
        if isinstance(other, Angle):
            return self._rad <= other._rad
        return NotImplemented

    def __gt__(self, other: Any) -> bool:
        if isinstance(other, Angle):
            return self._rad > other._rad
        return NotImplemented

    def __ge__(self, other: Any) -> bool:
        if isinstance(other, Angle):
            return self._rad >= other._rad
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Angle", self._rad))

    def __bool__(self) -> bool:
        return self._rad != 0.0

    def __reduce__(self) -> tuple[Any, ...]:
        return (Angle, (self._rad,))

    def __repr__(self) -> str:
        return f"Angle({self._rad!r})"

    def __str__(self) -> str:
        return f"{self._rad!r} rad"

    # --- astropy ----------------------------------------------------------------------
    def to_astropy(self) -> Any:
        """Return an `astropy.coordinates.Angle` in radians holding the same value."""
        from astropy import units as u
        from astropy.coordinates import Angle as AstropyAngle

        return AstropyAngle(self._rad, u.rad)

    @classmethod
    def from_astropy(cls, value: Any) -> Angle:
        """Build an `Angle` from a scalar angular astropy `~astropy.units.Quantity`.

        Raises
        ------
        GeomValueError
            If ``value`` is not a scalar quantity with angular units, or not finite.
        """
        from astropy import units as u

        if not isinstance(value, u.Quantity):
            raise GeomValueError(f"from_astropy needs an astropy Quantity or Angle, got {type(value).__name__}")
        if not value.unit.is_equivalent(u.rad):
            raise GeomValueError(f"from_astropy needs angular units, got {value.unit}")
        if not value.isscalar:
            raise GeomValueError(f"from_astropy needs a scalar, got shape {value.shape}")
        return cls(float(value.to_value(u.rad)))
