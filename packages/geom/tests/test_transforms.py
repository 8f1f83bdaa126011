"""Tests of osprey.geom.transforms against plain numpy matrix arithmetic."""

import math
import pickle

import numpy as np
import pytest

from osprey.geom import _geom
from osprey.geom.cartesian import Extent2D, Point2D, Point2I
from osprey.geom.errors import GeomValueError
from osprey.geom.transforms import AffineTransform, LinearTransform


class _FakeAngle:  # anything with as_radians() is accepted as an angle
    def __init__(self, degrees):
        self._deg = degrees

    def as_radians(self):
        return math.radians(self._deg)


@pytest.fixture
def affine():
    return AffineTransform([[1.2, -0.3], [0.25, 0.9]], (10.5, -3.25))


def test_rotation_by_90_degrees():
    for angle in (math.pi / 2, _FakeAngle(90.0)):
        r = LinearTransform.rotation(angle)
        p = r(Point2D(1, 0))
        assert p.x == pytest.approx(0.0, abs=1e-15) and p.y == pytest.approx(1.0, abs=1e-15)
        q = r(Point2D(0, 1))
        assert q.x == pytest.approx(-1.0, abs=1e-15) and q.y == pytest.approx(0.0, abs=1e-15)
        assert r.determinant() == pytest.approx(1.0, abs=1e-15)


def test_linear_basics():
    s = LinearTransform.scaling(2.0, 3.0)
    assert s(Point2D(1, 1)) == Point2D(2, 3)
    assert s.determinant() == 6.0
    assert s.inverse().matrix.tolist() == [[0.5, 0.0], [0.0, 1 / 3]]
    m = LinearTransform([[1, 2], [3, 4]])
    np.testing.assert_array_equal((m @ s).matrix, np.array([[1, 2], [3, 4]]) @ np.diag([2, 3]))
    assert (m * s) == (m @ s)
    np.testing.assert_allclose((m @ m.inverse()).matrix, np.eye(2), atol=1e-15)
    with pytest.raises(GeomValueError, match="singular"):
        LinearTransform([[1, 2], [2, 4]]).inverse()
    with pytest.raises(GeomValueError, match="shape"):
        LinearTransform([1, 2, 3])
    with pytest.raises(GeomValueError, match="finite"):
        LinearTransform([[1, np.nan], [0, 1]])


def test_affine_arrays_match_numpy(affine):
    rng = np.random.default_rng(11)
    x, y = rng.uniform(-4000, 4000, (2, 5000))
    xo, yo = affine(x, y)
    ref = affine.matrix @ np.vstack([x, y, np.ones_like(x)])
    np.testing.assert_allclose(xo, ref[0], rtol=0, atol=1e-12 * 4000)
    np.testing.assert_allclose(yo, ref[1], rtol=0, atol=1e-12 * 4000)
    # arbitrary shapes and lists are accepted; output keeps the input shape
    xo2, yo2 = affine(x.reshape(50, 100), y.reshape(50, 100))
    assert xo2.shape == (50, 100)
    np.testing.assert_array_equal(xo2.ravel(), xo)
    p = affine(Point2D(x[3], y[3]))
    assert (p.x, p.y) == pytest.approx((xo[3], yo[3]), abs=1e-9)
    assert affine(Point2I(1, 2)) == affine(Point2D(1.0, 2.0))


def test_affine_extent_not_translated(affine):
    e = affine(Extent2D(1.0, 0.0))
    assert e == Extent2D(1.2, 0.25)


def test_inverse_and_compose(affine):
    ident = affine @ affine.inverse()
    np.testing.assert_allclose(ident.matrix, np.eye(3), atol=1e-14)
    np.testing.assert_allclose((affine.inverse() @ affine).matrix, np.eye(3), atol=1e-14)
    b = AffineTransform(LinearTransform.rotation(0.3), (1.0, 2.0))
    np.testing.assert_allclose((affine @ b).matrix, affine.matrix @ b.matrix, atol=1e-14)
    p = Point2D(3.0, -7.0)
    q1, q2 = (affine @ b)(p), affine(b(p))  # apply b first
    assert (q1.x, q1.y) == pytest.approx((q2.x, q2.y), abs=1e-12)
    x, y = np.array([1.0, 5.0]), np.array([2.0, -1.0])
    xr, yr = affine.inverse()(*affine(x, y))
    np.testing.assert_allclose(xr, x, atol=1e-12)
    np.testing.assert_allclose(yr, y, atol=1e-12)
    lin = LinearTransform.scaling(2.0)
    np.testing.assert_allclose((lin @ affine).matrix, np.diag([2.0, 2.0, 1.0]) @ affine.matrix)


def test_constructors_and_parameters(affine):
    assert AffineTransform.from_matrix(affine.matrix) == affine
    assert AffineTransform.from_parameters(affine.parameters) == affine
    assert affine.parameters == (1.2, -0.3, 0.25, 0.9, 10.5, -3.25)
    assert affine.translation == Extent2D(10.5, -3.25)
    assert AffineTransform.translation_only((1, 2))(Point2D(0, 0)) == Point2D(1, 2)
    with pytest.raises(GeomValueError, match="last row"):
        AffineTransform.from_matrix([[1, 0, 0], [0, 1, 0], [1, 0, 1]])
    with pytest.raises(GeomValueError, match="same shape"):
        affine(np.zeros(3), np.zeros(4))


def test_fit_recovers_exact_affine(affine):
    rng = np.random.default_rng(3)
    x, y = rng.uniform(1000, 1100, (2, 40))  # far from the origin: the fit centres its inputs
    fitted = AffineTransform.fit(x, y, *affine(x, y))
    np.testing.assert_allclose(fitted.matrix, affine.matrix, rtol=0, atol=1e-9)
    with pytest.raises(GeomValueError, match="collinear"):
        AffineTransform.fit([0, 1, 2], [0, 1, 2], [0, 1, 2], [0, 1, 2])


def test_pickle_and_kernel_refuses_float32(affine):
    assert pickle.loads(pickle.dumps(affine)) == affine
    assert pickle.loads(pickle.dumps(affine.linear)) == affine.linear
    with pytest.raises(TypeError):
        _geom.affine_apply(1, 0, 0, 1, 0, 0, np.zeros(2, np.float32), np.zeros(2))
