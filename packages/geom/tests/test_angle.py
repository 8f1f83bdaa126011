"""Tests of osprey.geom.angle: units, arithmetic, wrapping, value semantics and astropy."""

import math
import pickle

import numpy as np
import pytest

from osprey.geom.angle import Angle, AngleUnit, arcminutes, arcseconds, degrees, hours, radians
from osprey.geom.errors import GeomValueError


def test_units_and_accessors():
    a = Angle(45, degrees)
    assert a == 45 * degrees
    assert a.as_radians() == math.pi / 4
    assert a.as_degrees() == pytest.approx(45.0, abs=1e-13)
    assert (1 * degrees).as_arcminutes() == pytest.approx(60.0, rel=1e-15)
    assert (1 * arcminutes).as_arcseconds() == pytest.approx(60.0, rel=1e-15)
    assert (1.5 * hours).as_degrees() == pytest.approx(22.5, rel=1e-15)
    assert (3600 * arcseconds).as_degrees() == pytest.approx(1.0, rel=1e-15)
    assert Angle(2.0).as_radians() == 2.0 and Angle(2.0, radians) == Angle(2.0)
    assert Angle(90, degrees).as_unit(hours) == pytest.approx(6.0, rel=1e-15)
    assert Angle(Angle(1.0)) == Angle(1.0)


def test_arithmetic():
    a, b = Angle(1.25), Angle(0.5)
    assert a + b == Angle(1.75)
    assert a - b == Angle(0.75)
    assert a * 2 == Angle(2.5) and 2 * a == Angle(2.5)
    assert a / 2 == Angle(0.625)
    assert a / b == 2.5
    assert -a == Angle(-1.25) and abs(-a) == a
    assert b < a and a > b and a >= a and b <= a and a != b
    with pytest.raises(TypeError):
        a + 1.0
    with pytest.raises(TypeError):
        _ = a < 1.0
    with pytest.raises(TypeError):
        np.array([1.0, 2.0]) * degrees


def test_value_semantics():
    a = Angle(0.1 + 0.2)
    assert eval(repr(a)) == a  # repr round-trips to the bit
    assert pickle.loads(pickle.dumps(a)) == a
    assert pickle.loads(pickle.dumps(degrees)) is degrees
    assert hash(Angle(1.0)) == hash(Angle(1.0))
    assert len({Angle(1.0), Angle(1.0), Angle(2.0)}) == 2
    assert repr(degrees) == "degrees"
    with pytest.raises(AttributeError):
        a._rad = 3.0


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_raises(value):
    with pytest.raises(GeomValueError, match="finite"):
        Angle(value)
    with pytest.raises(GeomValueError, match="finite"):
        Angle(value, degrees)


def test_bad_types_and_units():
    with pytest.raises(TypeError):
        Angle("1.0")
    with pytest.raises(TypeError):
        Angle(1.0, 2.0)
    with pytest.raises(GeomValueError):
        AngleUnit("bad", -1.0)
    with pytest.raises(GeomValueError):
        Angle(Angle(1.0), degrees)


def test_wrapping_random():
    rng = np.random.default_rng(11)
    values = np.concatenate(
        [rng.uniform(-50, 50, 2000), [0.0, -0.0, 2 * math.pi, -2 * math.pi, math.pi, -math.pi, -1e-300]]
    )
    for v in values.tolist():
        a = Angle(v)
        w = a.wrap().as_radians()
        assert 0.0 <= w < 2 * math.pi
        assert math.remainder(w - v, 2 * math.pi) == pytest.approx(0.0, abs=1e-13)
        c = a.wrap_ctr().as_radians()
        assert -math.pi <= c < math.pi
        assert math.remainder(c - v, 2 * math.pi) == pytest.approx(0.0, abs=1e-13)
        ref = Angle(rng.uniform(-20, 20))
        n = a.wrap_near(ref).as_radians()
        assert ref.as_radians() - math.pi <= n < ref.as_radians() + math.pi
        assert math.remainder(n - v, 2 * math.pi) == pytest.approx(0.0, abs=1e-12)


def test_wrap_edge_cases():
    assert Angle(-1e-300).wrap().as_radians() == 0.0  # 2*pi - tiny rounds to 2*pi: wrapped to 0
    assert Angle(2 * math.pi).wrap().as_radians() == 0.0
    assert Angle(math.pi).wrap_ctr().as_radians() == -math.pi
    assert Angle(-math.pi).wrap_ctr().as_radians() == -math.pi
    assert (370 * degrees).wrap().as_degrees() == pytest.approx(10.0, abs=1e-12)
    assert (350 * degrees).wrap_ctr().as_degrees() == pytest.approx(-10.0, abs=1e-12)
    assert (10 * degrees).wrap_near(360 * degrees).as_degrees() == pytest.approx(370.0, abs=1e-12)


def test_astropy_round_trip():
    from astropy import units as u
    from astropy.coordinates import Angle as AstropyAngle

    a = Angle(12.345, degrees)
    q = a.to_astropy()
    assert isinstance(q, AstropyAngle)
    assert q.to_value(u.deg) == pytest.approx(12.345, rel=1e-15)
    assert Angle.from_astropy(q) == a
    assert Angle.from_astropy(30 * u.arcmin).as_degrees() == pytest.approx(0.5, rel=1e-15)
    assert Angle.from_astropy(AstropyAngle("1h")).as_hours() == pytest.approx(1.0, rel=1e-15)
    with pytest.raises(GeomValueError, match="angular"):
        Angle.from_astropy(3 * u.m)
    with pytest.raises(GeomValueError, match="scalar"):
        Angle.from_astropy([1.0, 2.0] * u.deg)
    with pytest.raises(GeomValueError, match="Quantity"):
        Angle.from_astropy(1.0)
