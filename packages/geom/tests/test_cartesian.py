"""Tests of osprey.geom.cartesian: points, extents, Box2I and Box2D against explicit numbers."""

import pickle

import numpy as np
import pytest

from osprey.geom import _geom
from osprey.geom.cartesian import Box2D, Box2I, Extent2D, Extent2I, Point2D, Point2I
from osprey.geom.errors import GeomValueError


def box(x0, y0, x1, y1):
    return Box2I.from_begin_end(x0, y0, x1, y1)


def test_point_extent_arithmetic():
    assert Point2I(3, 4) + Extent2I(1, -2) == Point2I(4, 2)
    assert Point2I(3, 4) - Point2I(1, 1) == Extent2I(2, 3)
    assert Point2I(3, 4) - Extent2I(1, 1) == Point2I(2, 3)
    assert Point2D(1.5, 2) - Point2D(0.5, 0.5) == Extent2D(1.0, 1.5)
    assert Point2I(1, 2) + Extent2D(0.25, 0.5) == Point2D(1.25, 2.5)
    assert Extent2I(2, 3) * 2 == Extent2I(4, 6)
    assert Extent2I(5) == Extent2I(5, 5)
    assert -Extent2D(1, -2) == Extent2D(-1, 2)
    assert Point2D(0, 0).distance(Point2D(3, 4)) == 5.0
    assert Point2I(1, 2) != Point2D(1, 2)  # distinct types never compare equal
    assert hash(Point2I(1, 2)) == hash(Point2I(1, 2))
    assert tuple(Point2D(1, 2)) == (1.0, 2.0)


def test_value_types_reject_bad_input():
    with pytest.raises(GeomValueError, match="needs both x and y"):
        Point2I(3)
    with pytest.raises(GeomValueError, match="integer"):
        Point2I(1.5, 2)
    with pytest.raises(GeomValueError, match="32-bit"):
        Point2I(2**31, 0)
    with pytest.raises(GeomValueError, match="NaN"):
        Point2D(float("nan"), 0.0)
    with pytest.raises(AttributeError, match="immutable"):
        Point2I(1, 2).x = 3


def test_box2i_accessors():
    b = Box2I(Point2I(2, 3), Extent2I(4, 5))
    assert b == box(2, 3, 6, 8)
    assert b.begin == Point2I(2, 3) and b.xy0 == Point2I(2, 3)
    assert b.end == Point2I(6, 8)
    assert b.min == Point2I(2, 3) and b.max == Point2I(5, 7)
    assert (b.x0, b.y0, b.x_end, b.y_end) == (2, 3, 6, 8)
    assert (b.width, b.height, b.area) == (4, 5, 20)
    assert b.dimensions == Extent2I(4, 5)
    assert b.center == Point2D(3.5, 5.0)
    assert Box2I.from_min_max(Point2I(2, 3), Point2I(5, 7)) == b
    assert len(list(b)) == 20 and list(b)[:2] == [Point2I(2, 3), Point2I(3, 3)]
    assert list(b)[-1] == Point2I(5, 7)
    assert b.get_corners() == [Point2I(2, 3), Point2I(5, 3), Point2I(5, 7), Point2I(2, 7)]


def test_box2i_contains_edges_end_exclusive():
    b = box(0, 0, 10, 5)
    assert b.contains(Point2I(0, 0)) and b.contains(Point2I(9, 4))
    assert not b.contains(Point2I(10, 0)) and not b.contains(Point2I(0, 5))
    assert not b.contains(Point2I(-1, 2))
    # Floating positions: pixel 9 covers [8.5, 9.5), so 9.49 is in and 9.5 is out.
    assert b.contains(Point2D(9.49, 0.0)) and not b.contains(Point2D(9.5, 0.0))
    assert b.contains(Point2D(-0.5, -0.5)) and not b.contains(Point2D(-0.51, 0.0))
    x = np.array([0, 9, 10, -1, 5, 9.49, 9.5, -0.5])
    y = np.array([0, 4, 0, 2, 5, 0.0, 0.0, -0.5])
    np.testing.assert_array_equal(b.contains(x, y), [1, 1, 0, 0, 0, 1, 0, 1])
    assert b.contains(box(0, 0, 10, 5)) and b.contains(box(3, 1, 4, 2))
    assert not b.contains(box(0, 0, 11, 5)) and b.contains(Box2I())


def test_box2i_intersection_union_overlaps():
    a, b = box(0, 0, 10, 10), box(5, 8, 20, 30)
    assert a.intersection(b) == box(5, 8, 10, 10)
    assert a.union(b) == box(0, 0, 20, 30)
    assert a.overlaps(b)
    touching = box(10, 0, 12, 10)  # shares only the edge x=10, which a does not contain
    assert a.intersection(touching).is_empty() and not a.overlaps(touching)
    assert a.union(Box2I()) == a and Box2I().union(a) == a
    assert a.intersection(Box2I()) == Box2I()
    assert a.intersection(touching) == Box2I()  # one canonical empty box


def test_box2i_grow_shift_flip():
    b = box(2, 3, 6, 8)
    assert b.grow(1) == box(1, 2, 7, 9)
    assert b.grow(Extent2I(2, 0)) == box(0, 3, 8, 8)
    assert b.grow(-2).is_empty() and b.grow(-1) == box(3, 4, 5, 7)
    assert b.shift(Extent2I(-2, 10)) == box(0, 13, 4, 18)
    assert b.flipped_lr(10) == box(4, 3, 8, 8)
    assert b.flipped_tb(10) == box(2, 2, 6, 7)


def test_box2i_slices():
    parent = box(100, 200, 110, 206)
    child = box(103, 201, 105, 205)
    arr = np.arange(60).reshape(6, 10)  # arr[y - 200, x - 100]
    sub = arr[child.slices_in(parent)]
    assert sub.shape == (4, 2)
    assert sub[0, 0] == arr[1, 3] and sub[-1, -1] == arr[4, 4]
    assert child.slices_in(Point2I(100, 200)) == (slice(1, 5), slice(3, 5))
    assert box(1, 2, 3, 4).slices == (slice(2, 4), slice(1, 3))
    with pytest.raises(GeomValueError, match="not contained"):
        box(99, 200, 101, 201).slices_in(parent)


def test_box2i_errors_and_empty():
    with pytest.raises(GeomValueError, match="before begin"):
        box(5, 0, 4, 3)
    with pytest.raises(GeomValueError, match=">= 0"):
        Box2I(Point2I(0, 0), Extent2I(-1, 3))
    e = Box2I(Point2I(4, 4), Extent2I(0, 3))
    assert e.is_empty() and e == Box2I() and e.area == 0 and list(e) == []
    for attr in ("min", "max", "center"):
        with pytest.raises(GeomValueError, match="empty Box2I"):
            getattr(e, attr)
    with pytest.raises(GeomValueError, match="empty Box2I"):
        e.grow(1)


def test_box2i_box2d_convention():
    b = box(0, 0, 4, 3)
    d = Box2D(b)
    assert d == Box2D(Point2D(-0.5, -0.5), Point2D(3.5, 2.5))
    assert d.dimensions == Extent2D(4.0, 3.0) and d.center == b.center
    assert Box2I.from_box2d(d) == b and Box2I.from_box2d(d, "shrink") == b
    # A floating box reaching into a pixel includes it when expanding, not when shrinking.
    d2 = Box2D(Point2D(-0.4, 0.6), Point2D(2.6, 2.4))
    assert Box2I.from_box2d(d2, "expand") == box(0, 1, 4, 3)
    assert Box2I.from_box2d(d2, "shrink").is_empty()  # y: no pixel lies wholly in [0.6, 2.4)
    d3 = Box2D(Point2D(0.4, 0.4), Point2D(3.6, 3.6))  # pixels 1..3 lie inside, 0..4 touch it
    assert Box2I.from_box2d(d3, "shrink") == box(1, 1, 4, 4)
    assert Box2I.from_box2d(d3, "expand") == box(0, 0, 5, 5)
    assert Box2D(Box2I()).is_empty()


def test_box2d_algebra():
    a = Box2D(Point2D(0, 0), Point2D(4, 2))
    b = Box2D(Point2D(1, -1), Extent2D(5, 2))
    assert a.intersection(b) == Box2D(Point2D(1, 0), Point2D(4, 1))
    assert a.union(b) == Box2D(Point2D(0, -1), Point2D(6, 2))
    assert a.grow(0.5) == Box2D(Point2D(-0.5, -0.5), Point2D(4.5, 2.5))
    assert a.shift(Extent2D(1, 1)) == Box2D(Point2D(1, 1), Point2D(5, 3))
    assert a.contains(Point2D(0, 0)) and not a.contains(Point2D(4, 1))  # max exclusive
    assert a.area == 8.0 and a.center == Point2D(2, 1)
    assert not a.overlaps(Box2D(Point2D(4, 0), Point2D(5, 1)))
    x, y = np.array([[0.0, 3.999], [4.0, 2.0]]), np.array([[0.0, 1.999], [0.0, 2.0]])
    np.testing.assert_array_equal(a.contains(x, y), [[True, True], [False, False]])
    with pytest.raises(GeomValueError, match="below minimum"):
        Box2D(Point2D(1, 1), Point2D(0, 2))


def test_box2d_contains_kernel_matches_numpy():
    rng = np.random.default_rng(5)
    x, y = rng.uniform(-2, 6, 10_000), rng.uniform(-2, 6, 10_000)
    x[:10] = 4.0  # exactly on the exclusive edge
    got = _geom.box2d_contains(0.0, -1.0, 4.0, 3.0, x, y)
    np.testing.assert_array_equal(got, (x >= 0) & (x < 4) & (y >= -1) & (y < 3))
    with pytest.raises(TypeError):
        _geom.box2d_contains(0.0, 0.0, 1.0, 1.0, x.astype(np.float32), y)


@pytest.mark.parametrize(
    "obj",
    [
        Point2I(1, -2),
        Point2D(0.5, 3),
        Extent2I(4, 5),
        Extent2D(1.5, 2.5),
        box(1, 2, 5, 9),
        Box2I(),
        Box2D(Point2D(0.5, 1), Point2D(2, 3)),
        Box2D(),
    ],
)
def test_pickle_hash_repr(obj):
    clone = pickle.loads(pickle.dumps(obj))
    assert clone == obj and hash(clone) == hash(obj)
    from osprey.geom import cartesian

    assert eval(repr(obj), vars(cartesian)) == obj
