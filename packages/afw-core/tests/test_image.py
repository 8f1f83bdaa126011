import copy
import inspect
import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import osprey.afw.errors as afw_errors
import osprey.afw.image as afw_image
from osprey.afw.errors import AfwShapeError, AfwValueError, BoxOutsideImageError
from osprey.afw.image import IMAGE_DTYPES, Image
from osprey.geom import Box2I, Extent2I, Point2I

BOX = Box2I.from_begin_end(100, 200, 106, 204)  # 6 columns x 4 rows, non-zero origin


def ramp(bbox=BOX, dtype=np.float32):
    """Pixel value = 1000 * y + x in parent coordinates, so every value says where it came from."""
    yy, xx = np.mgrid[bbox.y0 : bbox.y_end, bbox.x0 : bbox.x_end]
    return Image.from_array((1000 * yy + xx).astype(dtype), xy0=bbox.begin)


# -- package hygiene -----------------------------------------------------------------------
def test_all_is_sorted_and_complete():
    for module in (afw_image, afw_errors):
        assert module.__all__ == sorted(module.__all__, key=lambda n: (not n.isupper(), n))
        defined = {
            n for n, v in vars(module).items() if inspect.isclass(v) and v.__module__.startswith(module.__name__)
        }
        assert defined <= set(module.__all__)


@pytest.mark.parametrize("name", afw_errors.__all__)
def test_every_error_pickles(name):
    cls = getattr(afw_errors, name)
    err = cls("message", (1, 2), (3, 4)) if name == "AfwShapeError" else cls("message")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls and str(back) == str(err)
    assert isinstance(err, afw_errors.AfwError)


# -- construction and geometry -------------------------------------------------------------
def test_new_image_has_bbox_origin_and_float32_default():
    image = Image(BOX)
    assert image.bbox == BOX and image.xy0 == Point2I(100, 200)
    assert image.dimensions == Extent2I(6, 4) and (image.width, image.height) == (6, 4)
    assert image.array.shape == (4, 6) and image.dtype == np.float32
    assert not image.array.any()
    assert Image((3, 2), fill=7, dtype=np.int32).bbox == Box2I.from_begin_end(0, 0, 3, 2)
    assert (Image(Extent2I(3, 2), fill=7, dtype=np.int32).array == 7).all()


@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_allowed_dtypes(dtype):
    assert Image(BOX, dtype=dtype).dtype == dtype


def test_bad_construction_raises():
    with pytest.raises(AfwValueError, match="must be one of float32, float64, int32, uint16, int64; got int8"):
        Image(BOX, dtype=np.int8)
    with pytest.raises(AfwShapeError, match=r"needs a 2-D array \(expected \(height, width\), got \(3,\)\)"):
        Image.from_array(np.zeros(3, np.float32))
    with pytest.raises(AfwValueError, match="xy0 must be a Point2I"):
        Image.from_array(np.zeros((2, 2), np.float32), xy0="origin")
    with pytest.raises(AfwValueError, match="units must be a non-empty unit string"):
        Image(BOX, units=5)


def test_from_array_wraps_without_copy_and_converts_on_request():
    arr = np.zeros((4, 6), np.float32)
    image = Image.from_array(arr, xy0=(100, 200))
    assert image.array is arr and image.bbox == BOX
    converted = Image.from_array(arr, dtype=np.float64)
    assert converted.dtype == np.float64 and not np.shares_memory(converted.array, arr)


def test_xy0_can_be_moved_without_touching_pixels():
    image = ramp()
    image.xy0 = Point2I(-3, 5)
    assert image.bbox == Box2I.from_begin_end(-3, 5, 3, 9)
    assert image.array[0, 0] == 200100


# -- views ---------------------------------------------------------------------------------
def test_sub_image_is_a_view_with_parent_coordinates():
    image = ramp()
    sub_box = Box2I.from_begin_end(102, 201, 105, 203)
    sub = image[sub_box]
    assert sub.xy0 == Point2I(102, 201) and sub.bbox == sub_box
    assert np.shares_memory(sub.array, image.array)
    assert_array_equal(sub.array, [[201102, 201103, 201104], [202102, 202103, 202104]])
    sub.array[:] = -1  # writing through the view changes the parent
    assert (image.array == -1).sum() == 6
    assert image[Point2I(103, 202)] == -1 and image[Point2I(100, 200)] == 200100
    # a view of a view is still placed in the parent frame
    inner = sub[Box2I.from_begin_end(104, 202, 105, 203)]
    inner.array[0, 0] = 42
    assert image.array[202 - 200, 104 - 100] == 42


def test_box_outside_the_image_names_both_boxes():
    image = ramp()
    outside = Box2I.from_begin_end(99, 200, 102, 202)
    with pytest.raises(
        BoxOutsideImageError,
        match=r"Box2I.from_begin_end\(99, 200, 102, 202\) is not contained in the image bbox "
        r"Box2I.from_begin_end\(100, 200, 106, 204\)",
    ):
        image[outside]
    with pytest.raises(BoxOutsideImageError, match=r"Point2I\(0, 0\) is outside the image bbox"):
        image[Point2I(0, 0)]
    with pytest.raises(AfwValueError, match="regions are selected with a Box2I"):
        image[1:2]


def test_assignment_into_a_region():
    image = Image(BOX)
    box = Box2I.from_begin_end(101, 201, 103, 203)
    image[box] = 5.0
    other = ramp(Box2I.from_begin_end(0, 0, 2, 2))
    image[Box2I.from_begin_end(104, 202, 106, 204)] = other  # dimensions must match, origin need not
    image[Point2I(100, 203)] = 9
    assert image.array.sum() == pytest.approx(4 * 5 + other.array.sum() + 9)
    assert_array_equal(image.array[2:4, 4:6], other.array)
    image[box] = np.full((2, 2), 3, np.float32)
    assert (image.array[1:3, 1:3] == 3).all()
    with pytest.raises(AfwShapeError, match=r"array shape \(rows, columns\) does not match \(expected \(2, 2\)"):
        image[box] = np.zeros((3, 2))
    with pytest.raises(AfwValueError, match="cannot store 2.5 in int32 pixels without loss"):
        Image(BOX, dtype=np.int32)[box] = 2.5


# -- arithmetic ----------------------------------------------------------------------------
def test_arithmetic_with_scalars_and_images():
    a, b = ramp(), Image(BOX, fill=2.0)
    assert_array_equal((a + b).array, a.array + 2)
    assert_array_equal((a - b).array, a.array - 2)
    assert_array_equal((a * b).array, a.array * 2)
    assert_array_equal((a / b).array, a.array / 2)
    assert_array_equal((a + 1).array, a.array + 1)
    assert_array_equal((10 - a).array, 10 - a.array)
    assert_array_equal((3 * a).array, 3 * a.array)
    assert_array_equal((1 / a).array, np.float32(1) / a.array)
    assert_array_equal((-a).array, -a.array)
    for result in (a + b, a * 2.5, np.float64(2) * a, a / np.float64(3)):
        assert result.dtype == np.float32 and result.xy0 == a.xy0  # scalars never widen the image
    assert not np.shares_memory((a + 0).array, a.array)


def test_in_place_arithmetic_keeps_the_buffer():
    a = ramp()
    buffer, expected = a.array, (a.array.astype(np.float64) + 1) * 2 - 3
    a += 1
    a *= Image(BOX, fill=2.0)
    a -= 3
    a /= 1
    assert a.array is buffer
    assert_array_equal(a.array, expected.astype(np.float32))


def test_arithmetic_refuses_mismatched_boxes_and_lossy_in_place():
    a = ramp()
    shifted = ramp(BOX.shift(Extent2I(1, 0)))
    with pytest.raises(AfwValueError, match=r"Image \+ Image needs identical bounding boxes, got Box2I"):
        a + shifted
    with pytest.raises(AfwValueError, match=r"Image \*= Image needs identical bounding boxes"):
        a *= shifted
    ints = Image(BOX, dtype=np.int32, fill=3)
    with pytest.raises(AfwValueError, match=r"Image /= 2 would change the int32 pixel type; use '/'"):
        ints /= 2
    assert (ints / 2).dtype == np.float64 and (ints / 2).array[0, 0] == 1.5
    assert (ints + Image(BOX, dtype=np.int64)).dtype == np.int64
    with pytest.raises(TypeError):
        a + "text"


def test_units_are_carried_by_scalar_ops_and_sums_only():
    a = Image(BOX, units="electron")
    assert (a * 2).units == "electron" and (a + a).units == "electron" and a.clone().units == "electron"
    assert (a * a).units is None and a[BOX].units == "electron"
    a.units = None
    assert a.units is None


# -- copies and comparison -----------------------------------------------------------------
def test_clone_copy_and_pickle_are_deep():
    a = ramp()
    a.units = "adu"
    for other in (a.clone(), copy.copy(a), copy.deepcopy(a), pickle.loads(pickle.dumps(a))):
        assert other.equals(a) and other.xy0 == a.xy0 and other.units == "adu"
        other.array[0, 0] = -5
        assert a.array[0, 0] == 200100


def test_equality_helpers():
    a = ramp()
    b = a.clone()
    assert a.equals(b) and a.allclose(b)
    b.array[0, 0] += 0.01
    assert not a.equals(b) and a.allclose(b, rtol=1e-6) and not a.allclose(b, rtol=0, atol=1e-4)
    nan = Image(BOX, fill=np.nan)
    assert nan.equals(nan.clone())
    assert not a.equals(a.array) and not a.equals(ramp(BOX.shift(Extent2I(0, 1))))
    assert not a.equals(ramp(dtype=np.float64))


# -- binning -------------------------------------------------------------------------------
def test_binned_is_the_block_mean_and_drops_the_remainder():
    image = Image.from_array(np.arange(7 * 5, dtype=np.float32).reshape(5, 7), xy0=(4, -6))
    binned = image.binned(2)
    assert binned.dimensions == Extent2I(3, 2) and binned.xy0 == Point2I(2, -3)
    arr = image.array
    expected = (arr[0:4:2, 0:6:2] + arr[1:4:2, 0:6:2] + arr[0:4:2, 1:6:2] + arr[1:4:2, 1:6:2]) / 4
    assert_array_equal(binned.array, expected)
    assert binned.dtype == np.float32
    ints = Image.from_array(np.array([[1, 2], [2, 2]], dtype=np.int32)).binned(2)
    assert ints.dtype == np.float64 and ints.array[0, 0] == 1.75
    with pytest.raises(AfwShapeError, match="binning factor 8 is larger than the image"):
        image.binned(8)
    with pytest.raises(AfwValueError, match="binning factor must be a positive int, got 0"):
        image.binned(0)
