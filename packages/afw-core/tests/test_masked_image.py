import copy
import pickle

import numpy as np
import pytest
from astropy.nddata import CCDData, NDData, StdDevUncertainty, VarianceUncertainty
from numpy.testing import assert_allclose, assert_array_equal

from osprey.afw.errors import AfwValueError, MaskPlaneConflictError
from osprey.afw.image import Image, Mask, MaskedImage
from osprey.geom import Box2I, Extent2I, Point2I

BOX = Box2I.from_begin_end(-7, 12, 1, 17)  # 8 x 5, negative x origin


def make(seed, bbox=BOX, planes=("BAD",)):
    """A MaskedImage with random positive pixels, random variance and one plane set in a corner."""
    rng = np.random.default_rng(seed)
    shape = (bbox.height, bbox.width)
    mi = MaskedImage.from_arrays(rng.uniform(1, 10, shape), variance=rng.uniform(0.5, 2, shape), xy0=bbox.begin)
    for name in planes:
        mi.mask.set(name, where=Box2I.from_begin_end(bbox.x0, bbox.y0, bbox.x0 + 2, bbox.y0 + 2))
    return mi


def test_construction_and_planes():
    mi = MaskedImage(BOX, units="adu")
    assert mi.bbox == BOX and mi.xy0 == Point2I(-7, 12) and mi.dimensions == Extent2I(8, 5)
    assert (mi.image.dtype, mi.mask.dtype, mi.variance.dtype) == (np.float32, np.int32, np.float32)
    assert mi.image.bbox == mi.mask.bbox == mi.variance.bbox == BOX and mi.units == "adu"
    image = Image(BOX)
    assert MaskedImage.from_images(image).image is image
    with pytest.raises(AfwValueError, match="image must be a float32 Image"):
        MaskedImage.from_images(Image(BOX, dtype=np.float64))
    with pytest.raises(
        AfwValueError, match=r"variance bbox Box2I.from_begin_end\(0, 0, 8, 5\) differs from image bbox"
    ):
        MaskedImage.from_images(image, variance=Image(Extent2I(8, 5)))
    arr = np.zeros((5, 8), np.float32)
    assert MaskedImage.from_arrays(arr, xy0=BOX.begin).image.array is arr  # float32 is wrapped, not copied
    mi.xy0 = Point2I(0, 0)
    assert mi.mask.xy0 == mi.variance.xy0 == Point2I(0, 0)


def test_sub_views_share_all_three_planes():
    mi = make(1)
    box = Box2I.from_begin_end(-5, 13, -2, 16)
    sub = mi[box]
    assert sub.xy0 == Point2I(-5, 13) and sub.bbox == box
    sub.image.array[:] = 100
    sub.variance.array[:] = 9
    sub.mask.set("CR")
    assert (mi.image.array == 100).sum() == 9 and (mi.variance.array == 9).sum() == 9
    assert mi.mask.select("CR").sum() == 9 and mi.mask.select("CR")[1:4, 2:5].all()
    target = MaskedImage(BOX)
    target[box] = sub
    assert target[box].equals(sub)
    target[box] = (1.0, 8, 2.0)  # 8 = 1 << 3, the CR bit
    assert (target[box].image.array == 1).all() and target[box].mask.select("CR").all()


def reference(a, b, op):
    """Propagation written out in float64: the specification the implementation must match."""
    x, vx = a.image.array.astype(np.float64), a.variance.array.astype(np.float64)
    y, vy = b.image.array.astype(np.float64), b.variance.array.astype(np.float64)
    if op == "+":
        return x + y, vx + vy
    if op == "-":
        return x - y, vx + vy
    if op == "*":
        return x * y, vy * x**2 + vx * y**2
    return x / y, (vx + vy * (x / y) ** 2) / y**2


@pytest.mark.parametrize("op", ["+", "-", "*", "/"])
def test_binary_operations_match_the_propagation_formulas(op):
    a, b = make(2), make(3, planes=("SAT",))
    result = {"+": a + b, "-": a - b, "*": a * b, "/": a / b}[op]
    image, variance = reference(a, b, op)
    assert_allclose(result.image.array, image, rtol=1e-6)
    assert_allclose(result.variance.array, variance, rtol=1e-5)
    assert_array_equal(result.mask.array, a.mask.array | b.mask.array)
    assert result.mask.select("BAD").sum() == 4 and result.mask.select("SAT").sum() == 4
    assert result.xy0 == a.xy0 and result.image.dtype == np.float32
    in_place = a.clone()
    buffers = (in_place.image.array, in_place.mask.array, in_place.variance.array)
    {"+": in_place.__iadd__, "-": in_place.__isub__, "*": in_place.__imul__, "/": in_place.__itruediv__}[op](b)
    assert in_place.equals(result)
    assert (in_place.image.array, in_place.mask.array, in_place.variance.array) == buffers


def test_scalar_operations_scale_the_variance():
    a = make(4)
    va = a.variance.array
    assert_array_equal((a + 3).variance.array, va)
    assert_array_equal((a - 3).variance.array, va)
    assert_allclose((a * 3).variance.array, va * 9, rtol=1e-6)
    assert_allclose((a / 4).variance.array, va / 16, rtol=1e-6)
    assert_allclose((2 * a).image.array, 2 * a.image.array)
    assert_allclose((10 - a).image.array, 10 - a.image.array)
    assert_array_equal((10 - a).variance.array, va)
    inv = 2 / a
    assert_allclose(inv.image.array, 2 / a.image.array, rtol=1e-6)
    assert_allclose(inv.variance.array, va * 4 / a.image.array.astype(np.float64) ** 4, rtol=1e-5)
    assert (a * np.float64(2)).image.dtype == np.float32
    b = a.clone()
    b *= 3
    assert_allclose(b.variance.array, va * 9, rtol=1e-6)
    assert not np.shares_memory((a + 0).variance.array, va)
    assert_array_equal((a + 0).mask.array, a.mask.array)


def test_image_operand_is_exact():
    a = make(5)
    scale = Image.from_array(np.full((5, 8), 2.0, np.float32), xy0=BOX.begin)
    assert_allclose((a * scale).variance.array, a.variance.array * 4, rtol=1e-6)
    assert_allclose((a / scale).variance.array, a.variance.array / 4, rtol=1e-6)
    assert_array_equal((a + scale).variance.array, a.variance.array)


@pytest.mark.parametrize("op", ["+", "-", "*", "/"])
def test_propagated_variance_matches_monte_carlo(op):
    """Every pixel is an independent draw of the same two Gaussians, so the pixel-to-pixel
    scatter of the result is its true variance. With n = 200,000 draws the sample variance
    has relative standard error sqrt(2 / (n - 1)) = 0.32%; we allow 5 of those (1.6%). The
    first-order formulas are biased by O((sigma/mu)^2) <= 0.1% at these signal-to-noise
    ratios, well inside that."""
    rng = np.random.default_rng(20240611)
    n_y, n_x = 400, 500
    mu_a, var_a, mu_b, var_b = 100.0, 4.0, 50.0, 1.0
    a = MaskedImage.from_arrays(
        rng.normal(mu_a, np.sqrt(var_a), (n_y, n_x)), variance=np.full((n_y, n_x), var_a, np.float32)
    )
    b = MaskedImage.from_arrays(
        rng.normal(mu_b, np.sqrt(var_b), (n_y, n_x)), variance=np.full((n_y, n_x), var_b, np.float32)
    )
    result = {"+": a + b, "-": a - b, "*": a * b, "/": a / b}[op]
    empirical = result.image.array.astype(np.float64).var(ddof=1)
    propagated = result.variance.array.astype(np.float64).mean()
    tolerance = 5 * np.sqrt(2 / (n_y * n_x - 1))
    assert abs(empirical / propagated - 1) < tolerance, (op, empirical, propagated)


def test_arithmetic_checks_boxes_and_plane_compatibility():
    a = make(6)
    with pytest.raises(AfwValueError, match=r"MaskedImage \+ needs identical bounding boxes"):
        a + make(6, bbox=BOX.shift(Extent2I(1, 0)))
    other = make(7)
    other.mask.add_plane("MINE")
    fine = a * other
    assert fine.mask.get_plane_bit("MINE") == 12
    clash = make(8)
    clash.mask.add_plane("THEIRS")
    before = fine.clone()
    with pytest.raises(MaskPlaneConflictError, match="bit 12 is mask plane 'MINE' in one mask and 'THEIRS'"):
        fine += clash
    assert fine.equals(before)  # nothing changed
    with pytest.raises(TypeError):
        a + Mask(BOX)


def test_binned_propagates_mean_variance_and_ors_masks():
    mi = MaskedImage(Extent2I(4, 2))
    mi.image.array[:] = [[1, 3, 5, 7], [1, 3, 5, 7]]
    mi.variance.array[:] = [[1, 2, 3, 4], [1, 2, 3, 4]]
    mi.mask.set("SAT", where=Box2I.from_begin_end(3, 1, 4, 2))
    binned = mi.binned(2)
    assert_array_equal(binned.image.array, [[2, 6]])
    assert_array_equal(binned.variance.array, [[(1 + 2 + 1 + 2) / 16, (3 + 4 + 3 + 4) / 16]])
    assert_array_equal(binned.mask.array, [[0, 2]])


def test_clone_copy_pickle_equals():
    mi = make(9)
    for other in (mi.clone(), copy.deepcopy(mi), pickle.loads(pickle.dumps(mi))):
        assert other.equals(mi)
        other.variance.array[0, 0] = -1
        assert mi.variance.array[0, 0] != -1
        assert not other.equals(mi)


# -- astropy -------------------------------------------------------------------------------
def test_ccddata_round_trip_is_bit_exact():
    mi = make(10, planes=("BAD", "INTRP"))
    mi.image.units = "electron"
    mi.mask.add_plane("CUSTOM")
    mi.mask.set("CUSTOM", where=Box2I.from_begin_end(0, 16, 1, 17))
    mi.image.array[4, 7] = np.nan
    ccd = mi.to_ccddata()
    assert isinstance(ccd, CCDData) and ccd.unit == "electron"
    assert isinstance(ccd.uncertainty, VarianceUncertainty)
    assert np.shares_memory(ccd.data, mi.image.array) and ccd.flags is mi.mask.array
    assert ccd.meta["LTV1"] == 7 and ccd.meta["LTV2"] == -12
    assert ccd.meta["MP_CUSTOM"] == 12 and ccd.meta["MP_BAD"] == 0
    assert_array_equal(ccd.mask, mi.mask.select(["BAD", "SAT", "CR", "NO_DATA", "EDGE"]))
    assert ccd.mask.sum() == 4  # INTRP and CUSTOM pixels stay usable
    back = MaskedImage.from_ccddata(ccd)
    assert back.equals(mi)  # pixels (NaN included), bits, plane names, variance, xy0, units
    assert back.mask.planes == mi.mask.planes and back.xy0 == mi.xy0
    # a deep copy through astropy, so nothing is shared
    again = MaskedImage.from_ccddata(CCDData(ccd, copy=True))
    assert again.equals(mi) and not np.shares_memory(again.image.array, mi.image.array)


def test_ccddata_options_and_foreign_ccddata():
    mi = make(11)
    assert mi.to_ccddata(unit="adu").unit == "adu"
    assert mi.to_ccddata().unit.to_string() == ""  # dimensionless when nothing is known
    assert mi.to_ccddata(bad_planes=["BAD"]).mask.sum() == 4
    with pytest.raises(AfwValueError, match="'furlongs' is not an astropy unit string"):
        mi.to_ccddata(unit="furlongs")
    data = np.arange(6, dtype=np.float64).reshape(2, 3)
    foreign = CCDData(data, unit="adu", uncertainty=StdDevUncertainty(np.full((2, 3), 3.0)), mask=data > 3)
    converted = MaskedImage.from_ccddata(foreign)
    assert converted.image.dtype == np.float32 and converted.xy0 == Point2I(0, 0) and converted.units == "adu"
    assert_array_equal(converted.variance.array, np.full((2, 3), 9.0))
    assert_array_equal(converted.mask.select("BAD"), data > 3)
    assert not MaskedImage.from_ccddata(CCDData(data, unit="adu")).variance.array.any()


def test_to_nddata():
    mi = make(12)
    nd = mi.to_nddata(unit="nJy")
    assert isinstance(nd, NDData) and nd.unit == "nJy" and nd.mask.sum() == 4
    assert_array_equal(nd.uncertainty.array, mi.variance.array)
    assert nd.meta["LTV1"] == 7
