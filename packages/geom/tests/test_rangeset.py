"""Tests of osprey.geom.rangeset.RangeSet against Python set() references."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from osprey.geom.errors import GeomValueError
from osprey.geom.rangeset import RangeSet

TOP = 2**64


def to_set(rs):
    out = set()
    for b, e in rs:
        out.update(range(b, e))
    return out


def random_set(rng, universe=60):
    k = rng.integers(0, 25)
    return set(rng.integers(0, universe, k).tolist())


@pytest.mark.parametrize("seed", range(40))
def test_algebra_matches_python_sets(seed):
    rng = np.random.default_rng(seed)
    a, b = random_set(rng), random_set(rng)
    ra, rb = RangeSet(sorted(a)), RangeSet(np.array(sorted(b), dtype=np.int64))
    assert to_set(ra) == a and to_set(rb) == b
    assert to_set(ra | rb) == a | b
    assert to_set(ra & rb) == a & b
    assert to_set(ra - rb) == a - b
    assert to_set(ra ^ rb) == a ^ b
    assert ra.size() == len(a)
    assert ra.issubset(rb) == (a <= b)
    assert ra.issuperset(rb) == (a >= b)
    assert ra.isdisjoint(rb) == a.isdisjoint(b)
    assert ra.intersects(rb) == (not a.isdisjoint(b))
    assert ((ra | rb) == (rb | ra)) and hash(ra | rb) == hash(rb | ra)
    probe = np.arange(-3, 70)
    assert_array_equal(ra.contains(probe), [int(x) in a for x in probe])
    assert all((x in ra) == (x in a) for x in range(-2, 65))
    # complement, within a bounded window, and its size
    comp = ~ra
    assert comp.size() == TOP - len(a)
    assert to_set(comp & RangeSet(0, 60)) == set(range(60)) - a
    assert ~comp == ra
    # ranges are sorted, disjoint and non-adjacent
    r = (ra | rb).ranges()
    assert r.dtype == np.uint64 and np.all(r[:, 0] < r[:, 1]) and np.all(r[1:, 0] > r[:-1, 1])


def test_construction_forms():
    assert RangeSet().empty() and not RangeSet()
    assert to_set(RangeSet(5)) == {5}
    assert to_set(RangeSet(3, 7)) == {3, 4, 5, 6}
    assert RangeSet(7, 3).empty()
    assert to_set(RangeSet([[1, 3], [2, 5], [10, 11], [5, 6], [8, 8]])) == {1, 2, 3, 4, 5, 10}
    assert RangeSet.from_range(0, TOP).full() and RangeSet.universe().full()
    assert RangeSet([[5, 0]]) == RangeSet(5, TOP)  # end 0 means 2**64
    big = RangeSet([TOP - 1])
    assert big.size() == 1 and big.last() == TOP - 1 and list(big) == [(TOP - 1, TOP)]
    assert big.ranges().tolist() == [[TOP - 1, 0]]
    assert RangeSet([[0, 2**63]]).first() == 0 and RangeSet([[0, 2**63]]).last() == 2**63 - 1
    assert len(RangeSet([1, 2, 5])) == 2 and list(RangeSet([1, 2, 5])) == [(1, 3), (5, 6)]
    assert RangeSet(RangeSet(4)) == RangeSet(4)


@pytest.mark.parametrize("bad", [[-1], [1.5], np.array([0.5]), [[3, 2]], [[1, 2, 3]]])
def test_bad_input_raises(bad):
    with pytest.raises(GeomValueError):
        RangeSet(bad)


def test_errors():
    with pytest.raises(GeomValueError):
        RangeSet(0, TOP + 1)
    with pytest.raises(GeomValueError, match="empty"):
        RangeSet().first()
    with pytest.raises(GeomValueError, match="overflow"):
        RangeSet(1, 2**62 + 1).scaled(4)
    with pytest.raises(GeomValueError, match="2\\*\\*64"):
        RangeSet(5, TOP).scaled(4)


def test_scaled_and_simplify():
    rs = RangeSet([[8, 10], [13, 14]])
    s4 = rs.scaled(4)
    assert to_set(s4) == {i for p in (8, 9, 13) for i in range(4 * p, 4 * p + 4)}
    assert RangeSet([[0, 2**62]]).scaled(4).full()
    # simplify(2): every range boundary snapped outwards to multiples of 4
    assert RangeSet([[5, 9], [11, 13]]).simplify(2) == RangeSet(4, 16)
    assert RangeSet([[1, 2], [30, 31]]).simplify(2) == RangeSet([[0, 4], [28, 32]])
    rng = np.random.default_rng(1)
    for _ in range(20):
        a = RangeSet(rng.integers(0, 1000, 30))
        for n in (1, 3, 5):
            s = a.simplify(n)
            assert s.issuperset(a)
            assert np.all(s.ranges() % (1 << n) == 0)
    assert RangeSet(TOP - 3, TOP).simplify(4) == RangeSet(TOP - 16, TOP)
    assert RangeSet(3).simplify(64).full()


def test_pickle_and_repr():
    for rs in (RangeSet(), RangeSet([1, 2, 9]), RangeSet(7, TOP), RangeSet.universe()):
        assert pickle.loads(pickle.dumps(rs)) == rs
        assert eval(repr(rs), {"RangeSet": RangeSet}) == rs
    a = RangeSet([1, 2, 3])
    with pytest.raises(ValueError):
        a._b[0] = 5  # immutable storage


def test_large_sets_are_vectorised():
    rng = np.random.default_rng(3)
    a = RangeSet(rng.integers(0, 10**6, 50_000))
    b = RangeSet(rng.integers(0, 10**6, 50_000))
    u = a | b
    assert (
        u.size()
        == np.union1d(a.contains(np.arange(10**6)).nonzero()[0], b.contains(np.arange(10**6)).nonzero()[0]).size
    )
    assert (a & b).size() + u.size() == a.size() + b.size()
