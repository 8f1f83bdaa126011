import pickle

import numpy as np
import pytest
from astropy.io import fits
from numpy.testing import assert_array_equal

from osprey.afw.errors import AfwKeyError, AfwShapeError, AfwValueError, MaskPlaneConflictError
from osprey.afw.image import DEFAULT_MASK_PLANES, Mask, MaskPlaneDict
from osprey.afw.metadata import PropertyList
from osprey.geom import Box2I, Extent2I, Point2I

BOX = Box2I.from_begin_end(10, 20, 15, 24)  # 5 x 4 at a non-zero origin
STANDARD = [
    "BAD", "SAT", "INTRP", "CR", "EDGE", "DETECTED", "DETECTED_NEGATIVE",
    "SUSPECT", "NO_DATA", "CROSSTALK", "STREAK", "UNMASKEDNAN",
]  # fmt: skip


def test_standard_planes_in_bit_order():
    mask = Mask(BOX)
    assert mask.plane_names() == STANDARD
    assert [mask.get_plane_bit(n) for n in STANDARD] == list(range(12))
    assert mask.planes is DEFAULT_MASK_PLANES and mask.dtype == np.int32 and mask.bbox == BOX
    assert mask.get_plane_bitmask(["BAD", "CR", "EDGE"]) == 0b11001
    assert mask.get_plane_bitmask("SAT") == 2


def test_unknown_plane_names_the_known_ones():
    with pytest.raises(AfwKeyError, match=r"mask plane 'NOPE' is not defined; known planes are \['BAD', 'SAT'"):
        Mask(BOX).get_plane_bit("NOPE")
    with pytest.raises(AfwKeyError, match="'NOPE'"):
        Mask(BOX).set("NOPE")


def test_add_plane_is_copy_on_write():
    mask, other = Mask(BOX), Mask(BOX)
    view = mask[BOX]
    assert mask.add_plane("FAKE") == 12
    assert mask.add_plane("FAKE") == 12  # idempotent
    assert mask.add_plane("OTHER") == 13
    assert "FAKE" in mask.planes and "FAKE" not in other.planes and "FAKE" not in view.planes
    assert "FAKE" not in DEFAULT_MASK_PLANES
    mask.set("FAKE", where=Box2I.from_begin_end(10, 20, 11, 21))
    assert mask.array[0, 0] == 1 << 12
    mask.remove_plane("FAKE")
    assert "FAKE" not in mask.planes and mask.array[0, 0] == 0
    assert mask.add_plane("LATER") == 12  # the freed bit is reused


def test_all_32_bits_including_the_sign_bit():
    mask = Mask(BOX)
    bits = [mask.add_plane(f"P{i}") for i in range(20)]
    assert bits == list(range(12, 32))
    mask.set("P19", where=Box2I.from_begin_end(14, 23, 15, 24))
    assert mask.get_plane_bitmask("P19") == -(2**31)
    assert mask.array[3, 4] == -(2**31) and mask.select("P19").sum() == 1
    mask.clear("P19")
    assert not mask.array.any()
    with pytest.raises(AfwValueError, match="cannot add mask plane 'ONE_TOO_MANY': all 32 bits are in use"):
        mask.add_plane("ONE_TOO_MANY")


def test_set_clear_and_select():
    mask = Mask(BOX)
    where = np.zeros((4, 5), bool)
    where[1, 2] = where[3, 0] = True
    mask.set(["CR", "DETECTED"], where=where)
    mask.set("SAT", where=Box2I.from_begin_end(10, 20, 12, 21))  # parent coordinates
    mask.set("EDGE")
    assert mask.select("CR").sum() == 2 and mask.select(["SAT", "CR"]).sum() == 4
    assert mask.array[1, 2] == (1 << 3) | (1 << 5) | (1 << 4)
    mask.clear("EDGE")
    mask.clear("CR", where=where)
    assert mask.array[1, 2] == 1 << 5 and mask.select("SAT").sum() == 2
    mask.clear(where=Box2I.from_begin_end(10, 20, 11, 21))
    assert mask.array[0, 0] == 0 and mask.array[0, 1] == 2
    mask.clear()
    assert not mask.array.any()
    with pytest.raises(AfwShapeError, match="'where' must match the mask's"):
        mask.set("BAD", where=np.ones((2, 2), bool))
    with pytest.raises(AfwValueError, match="'where' must be a boolean array or a Box2I, got int64"):
        mask.set("BAD", where=np.ones((4, 5), np.int64))


def test_sub_mask_is_a_view_sharing_planes():
    mask = Mask(BOX)
    sub = mask[Box2I.from_begin_end(12, 21, 14, 23)]
    assert sub.xy0 == Point2I(12, 21) and sub.planes is mask.planes
    sub.set("BAD")
    assert mask.select("BAD").sum() == 4 and mask.select("BAD")[1:3, 2:4].all()
    assert mask[Point2I(12, 21)] == 1


def test_or_and_with_masks_and_ints():
    a, b = Mask(BOX), Mask(BOX)
    a.set("BAD", where=Box2I.from_begin_end(10, 20, 12, 24))
    b.set("SAT", where=Box2I.from_begin_end(11, 20, 15, 24))
    buffer = a.array
    a |= b
    assert a.array is buffer
    assert (a.array[:, 0] == 1).all() and (a.array[:, 1] == 3).all() and (a.array[:, 2:] == 2).all()
    a &= 2
    assert a.select("BAD").sum() == 0 and a.select("SAT").sum() == 16
    c = (b | 1) & b
    assert_array_equal(c.array, b.array)
    assert c.xy0 == b.xy0
    assert_array_equal((1 | Mask(BOX)).array, np.ones((4, 5)))
    with pytest.raises(AfwValueError, match=r"Mask \| Mask needs identical bounding boxes"):
        a |= Mask(BOX.shift(Extent2I(1, 1)))
    with pytest.raises(AfwValueError, match="does not fit in 32 bits"):
        a |= 2**33


def test_combining_masks_merges_compatible_planes_and_refuses_conflicts():
    a, b = Mask(BOX), Mask(BOX)
    b.add_plane("STREAK2")
    b.set("STREAK2")
    a |= b
    assert a.get_plane_bit("STREAK2") == 12 and a.select("STREAK2").all()
    c = Mask(BOX)
    c.add_plane("OTHER")  # also bit 12, under another name
    with pytest.raises(MaskPlaneConflictError, match="bit 12 is mask plane 'STREAK2' in one mask and 'OTHER'"):
        a |= c
    moved = Mask(BOX, planes={"BAD": 5})
    with pytest.raises(MaskPlaneConflictError, match="mask plane 'BAD' is bit 0 in one mask and bit 5 in the other"):
        a & moved
    with pytest.raises(MaskPlaneConflictError, match="'BAD' is bit 0"):
        a[BOX] = moved
    assert not a.select("BAD").any()


def test_conformed_to_remaps_bits():
    planes = MaskPlaneDict({"CR": 0, "BAD": 7, "CUSTOM": 3})
    mask = Mask.from_array(np.array([[1 | 1 << 7, 1 << 3], [1 << 9, 0]], np.int32), planes=planes)
    out = mask.conformed_to(DEFAULT_MASK_PLANES)
    assert out.get_plane_bit("CR") == 3 and out.get_plane_bit("BAD") == 0 and out.get_plane_bit("CUSTOM") == 12
    assert_array_equal(out.array, [[1 << 3 | 1, 1 << 12], [0, 0]])  # bit 9 had no name: dropped
    for name in planes:
        assert_array_equal(out.select(name), mask.select(name))
    merged = Mask(Extent2I(2, 2)) | out  # now combinable with a default mask
    assert merged.select("CUSTOM")[0, 1]


def test_plane_dict_validation():
    with pytest.raises(AfwValueError, match="'BAD' and 'ALSO' both claim bit 0"):
        MaskPlaneDict({"BAD": 0, "ALSO": 0})
    with pytest.raises(AfwValueError, match="'X': bit must be an int in 0-31, got 32"):
        MaskPlaneDict({"X": 32})
    with pytest.raises(AfwValueError, match="'has space' must be letters, digits and underscores"):
        MaskPlaneDict({"has space": 1})
    planes = MaskPlaneDict([("B", 4), ("A", 1)])
    assert list(planes) == ["A", "B"] and pickle.loads(pickle.dumps(planes)) == planes
    assert hash(planes) == hash(MaskPlaneDict({"A": 1, "B": 4}))


def test_fits_keywords_round_trip():
    mask = Mask(BOX)
    mask.add_plane("INJECTED")
    keywords = mask.to_fits_keywords()
    assert isinstance(keywords, PropertyList)
    assert keywords["MP_BAD"] == 0 and keywords["MP_INJECTED"] == 12 and len(keywords) == 13
    header = keywords.to_fits_header()
    header["NAXIS"] = 2  # unrelated keys are ignored
    again = Mask.from_fits_keywords(header, mask.array, xy0=mask.xy0)
    assert again.planes == mask.planes and again.equals(mask)
    assert MaskPlaneDict.from_fits_keywords({"MP_A": 3, "OTHER": 1}) == MaskPlaneDict({"A": 3})


def test_from_array_dtypes():
    arr = np.array([[1, 2], [3, 65535]], np.uint16)
    mask = Mask.from_array(arr)
    assert mask.dtype == np.int32 and mask.array[1, 1] == 65535
    i32 = np.zeros((2, 2), np.int32)
    assert Mask.from_array(i32).array is i32
    assert Mask.from_array(np.array([[2**32 - 1]], np.uint32)).array[0, 0] == -1
    assert Mask.from_array(np.array([[2**31]], np.int64)).array[0, 0] == -(2**31)
    with pytest.raises(AfwValueError, match="do not fit in 32 bits"):
        Mask.from_array(np.array([[2**40]], np.int64))
    with pytest.raises(AfwValueError, match="a Mask holds integer bit planes; got a float32 array"):
        Mask.from_array(np.zeros((2, 2), np.float32))


def test_binned_ors_each_block():
    mask = Mask(Extent2I(5, 4))
    mask.set("BAD", where=Box2I.from_begin_end(1, 1, 2, 2))
    mask.set("SAT", where=Box2I.from_begin_end(3, 0, 4, 1))
    mask.set("CR", where=Box2I.from_begin_end(4, 0, 5, 4))  # in the dropped remainder column
    binned = mask.binned(2)
    assert_array_equal(binned.array, [[1, 2], [0, 0]])
    assert binned.planes is mask.planes


def test_clone_and_pickle_keep_planes():
    mask = Mask(BOX)
    mask.add_plane("EXTRA")
    mask.set("EXTRA", where=Box2I.from_begin_end(10, 20, 11, 21))
    for other in (mask.clone(), pickle.loads(pickle.dumps(mask))):
        assert other.equals(mask) and other.get_plane_bit("EXTRA") == 12
        other.clear()
        assert mask.array[0, 0] == 1 << 12


def test_real_afw_mask_planes(hsc_afw_path):
    with fits.open(hsc_afw_path) as hdul:
        header, data = hdul[2].header, hdul[2].data
        mask = Mask.from_fits_keywords(PropertyList.from_fits_header(header), data, xy0=(100, 100))
    assert mask.get_plane_bit("CROSSTALK") == 8 and mask.get_plane_bit("NO_DATA") == 9  # the file's numbering
    assert mask.bbox == Box2I.from_begin_end(100, 100, 300, 300)
    assert set(np.unique(mask.array)) == {0, 32, 256}
    assert mask.select("DETECTED").sum() == (data == 32).sum() > 0
    conformed = mask.conformed_to(DEFAULT_MASK_PLANES)
    assert conformed.planes == DEFAULT_MASK_PLANES  # every plane in the file is a standard one
    for name in mask.plane_names():
        assert_array_equal(conformed.select(name), mask.select(name))
    assert (conformed.array == 256).sum() == 0 and conformed.select("CROSSTALK").sum() == (data == 256).sum()
