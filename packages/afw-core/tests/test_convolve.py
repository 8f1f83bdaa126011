"""Tests of osprey.afw.math.convolve and the kernel classes against scipy and brute-force references."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from osprey.afw.errors import AfwValueError
from osprey.afw.image import Image, MaskedImage
from osprey.afw.math import (
    DoubleGaussianKernel,
    FixedKernel,
    GaussianKernel,
    LinearCombinationKernel,
    SeparableKernel,
    choose_method,
    convolve,
    polynomial_terms,
)
from osprey.afw.math._convolve import _convolve_varying
from osprey.afw.psf import GaussianPsf
from osprey.geom import Box2I

signal = pytest.importorskip("scipy.signal")
ndimage = pytest.importorskip("scipy.ndimage")


def reference_convolve(a, k, cx, cy):
    """out[y, x] = sum_{v,u} k[v, u] a[y - (v - cy), x - (u - cx)]; NaN where the kernel does not fit."""
    ny, nx = a.shape
    kh, kw = k.shape
    out = np.full(a.shape, np.nan)
    for y in range(kh - 1 - cy, ny - cy):
        for x in range(kw - 1 - cx, nx - cx):
            patch = a[y - (kh - 1 - cy) : y + cy + 1, x - (kw - 1 - cx) : x + cx + 1]
            out[y, x] = np.sum(patch * k[::-1, ::-1])
    return out


def reference_mask_or(m, fp, cx, cy):
    ny, nx = m.shape
    kh, kw = fp.shape
    out = np.zeros_like(m)
    for v, u in zip(*np.nonzero(fp), strict=True):
        dv, du = v - cy, u - cx
        for y in range(kh - 1 - cy, ny - cy):
            for x in range(kw - 1 - cx, nx - cx):
                out[y, x] |= m[y - dv, x - du]
    return out


@pytest.fixture
def rng():
    return np.random.default_rng(20240917)


def _rel_interior(ours, ref, box):
    x0, x1, y0, y1 = box
    o, r = ours[y0:y1, x0:x1].astype(np.float64), ref[y0:y1, x0:x1]
    return float(np.max(np.abs(o - r)) / np.max(np.abs(r)))


def test_convention_shift_by_offset():
    a = np.zeros((9, 11), np.float32)
    a[4, 5] = 1.0
    k = np.zeros((3, 3))
    k[1, 2] = 1.0  # offset (+1, 0) from the centre (1, 1)
    out = convolve(Image.from_array(a), FixedKernel(k), edge="zero").array
    assert out[4, 6] == 1.0 and out.sum() == 1.0  # moved by +1 in x: a convolution, not a correlation


@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize(
    ("shape", "ctr"), [((5, 7), (3, 2)), ((5, 7), (0, 4)), ((31, 31), (15, 15)), ((25, 18), (4, 20))]
)
def test_matches_scipy(rng, method, shape, ctr):
    kh, kw = shape
    cx, cy = ctr[0] % kw, ctr[1] % kh
    a = rng.normal(50.0, 10.0, (97, 113)).astype(np.float32)
    k = rng.uniform(-0.2, 1.0, shape)
    out = convolve(Image.from_array(a), FixedKernel(k, ctr=(cx, cy)), normalize=False, method=method).array
    full = signal.fftconvolve(a.astype(np.float64), k, mode="full")  # full[n] = sum k[m] a[n - m]
    ref = full[cy : cy + a.shape[0], cx : cx + a.shape[1]]  # out[y, x] = full[y + cy, x + cx]
    box = (kw - 1 - cx, a.shape[1] - cx, kh - 1 - cy, a.shape[0] - cy)
    assert _rel_interior(out, ref, box) < 1e-5
    if shape == (5, 7):  # odd kernel: also scipy's convolve2d "same", plus the brute-force spec
        assert _rel_interior(out, reference_convolve(a.astype(np.float64), k, cx, cy), box) < 1e-5
        if (cx, cy) == (kw // 2, kh // 2):
            same = signal.convolve2d(a.astype(np.float64), k, mode="same")
            assert _rel_interior(out, same, box) < 1e-5


def test_float64_direct_is_exact_to_rounding(rng):
    a = rng.normal(0.0, 1.0, (40, 37))
    k = rng.normal(0.0, 1.0, (5, 5))
    out = convolve(Image.from_array(a), FixedKernel(k), normalize=False, method="direct").array
    assert out.dtype == np.float64
    assert_allclose(out[2:-2, 2:-2], reference_convolve(a, k, 2, 2)[2:-2, 2:-2], rtol=0, atol=1e-12)


@pytest.mark.parametrize("sigma", [0.8, 2.0, 3.7])
def test_separable_gaussian_matches_gaussian_filter(rng, sigma):
    a = rng.normal(100.0, 5.0, (120, 90)).astype(np.float32)
    g = GaussianKernel(sigma)
    assert choose_method(a.shape, g) == "separable"
    out = convolve(Image.from_array(a), g).array
    ref = ndimage.gaussian_filter(a.astype(np.float64), sigma, truncate=4.0)
    h = int(4.0 * sigma + 0.5)
    assert g.width == 2 * h + 1
    assert _rel_interior(out, ref, (h, a.shape[1] - h, h, a.shape[0] - h)) < 1e-5
    # the separable path equals the 2-D direct sum of the same kernel
    direct = convolve(Image.from_array(a), FixedKernel(g.array), method="direct").array
    assert _rel_interior(out, direct.astype(np.float64), (h, a.shape[1] - h, h, a.shape[0] - h)) < 1e-5


def test_separable_asymmetric_centre(rng):
    a = rng.normal(10.0, 1.0, (50, 60)).astype(np.float32)
    kx, ky = rng.uniform(0.1, 1.0, 6), rng.uniform(0.1, 1.0, 4)
    sk = SeparableKernel(kx, ky, ctr=(1, 3))
    out = convolve(Image.from_array(a), sk, normalize=False).array
    ref = reference_convolve(a.astype(np.float64), np.outer(ky, kx), 1, 3)
    assert _rel_interior(out, ref, (4, 59, 0, 47)) < 1e-5


@pytest.mark.parametrize("kernel", [FixedKernel(np.arange(35.0).reshape(5, 7) + 1), GaussianKernel(1.5)])
@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
def test_masked_image_variance_and_mask(rng, kernel, method):
    ny, nx = 45, 52
    mi = MaskedImage.from_arrays(
        rng.normal(100.0, 3.0, (ny, nx)),
        (rng.uniform(size=(ny, nx)) < 0.01).astype(np.int32) * rng.choice([1, 2, 8, 32], (ny, nx)),
        rng.uniform(1.0, 9.0, (ny, nx)),
    )
    out = convolve(mi, kernel, method=method)
    k = kernel.array / kernel.array.sum()
    cx, cy = kernel.ctr_x, kernel.ctr_y
    box = (kernel.width - 1 - cx, nx - cx, kernel.height - 1 - cy, ny - cy)
    ref_img = reference_convolve(mi.image.array.astype(np.float64), k, cx, cy)
    ref_var = reference_convolve(mi.variance.array.astype(np.float64), k**2, cx, cy)
    assert _rel_interior(out.image.array, ref_img, box) < 1e-5
    assert _rel_interior(out.variance.array, ref_var, box) < 1e-5
    ref_mask = reference_mask_or(mi.mask.array, kernel.array != 0, cx, cy)
    x0, x1, y0, y1 = box
    assert_array_equal(out.mask.array[y0:y1, x0:x1], ref_mask[y0:y1, x0:x1])


def test_mask_or_sparse_footprint(rng):
    fp = rng.uniform(size=(7, 9)) < 0.4
    fp[3, 4] = True
    k = np.where(fp, rng.uniform(0.5, 1.0, fp.shape), 0.0)
    m = (rng.uniform(size=(40, 47)) < 0.03).astype(np.int32) << rng.integers(0, 12, (40, 47))
    mi = MaskedImage.from_arrays(np.zeros((40, 47)), m)
    out = convolve(mi, FixedKernel(k, ctr=(2, 5)))
    ref = reference_mask_or(m, fp, 2, 5)
    assert_array_equal(out.mask.array[1:35, 6:45], ref[1:35, 6:45])


@pytest.mark.parametrize("edge", ["EDGE", "copy", "zero"])
def test_edge_band_exact(rng, edge):
    ny, nx = 30, 40
    mi = MaskedImage.from_arrays(rng.normal(5.0, 1.0, (ny, nx)), np.full((ny, nx), 2, np.int32), np.ones((ny, nx)))
    kernel = FixedKernel(np.ones((5, 8)), ctr=(2, 1))  # left 5, right 2, bottom 3, top 1
    out = convolve(mi, kernel, edge=edge)
    edge_bit = mi.mask.get_plane_bitmask("EDGE")
    band = (out.mask.array & edge_bit) != 0
    expect = np.ones((ny, nx), bool)
    expect[3 : ny - 1, 5 : nx - 2] = False
    assert_array_equal(band, expect)
    inside = out.image.array[~expect]
    assert np.all(np.isfinite(inside))
    if edge == "EDGE":
        assert np.all(np.isnan(out.image.array[expect])) and np.all(np.isinf(out.variance.array[expect]))
        assert np.all(out.mask.array[expect] == edge_bit)
    elif edge == "copy":
        assert_array_equal(out.image.array[expect], mi.image.array[expect])
        assert np.all(out.mask.array[expect] == 2 | edge_bit)
    else:
        assert np.all(out.image.array[expect] == 0) and np.all(out.variance.array[expect] == 0)
    plain = convolve(mi.image, kernel, edge=edge)
    assert isinstance(plain, Image) and plain.bbox == mi.bbox


def test_fft_nan_footprint_matches_direct(rng):
    a = rng.normal(10.0, 1.0, (80, 90)).astype(np.float32)
    a[40, 45] = np.nan
    a[5, 80] = np.inf
    k = FixedKernel(rng.uniform(0.0, 1.0, (9, 9)))
    d = convolve(Image.from_array(a), k, method="direct").array
    f = convolve(Image.from_array(a), k, method="fft").array
    assert_array_equal(np.isfinite(d), np.isfinite(f))
    # interior [4:76, 4:86]: the whole 9x9 footprint of (45, 40), rows 4..9 x 9 columns of (80, 5)
    assert np.count_nonzero(~np.isfinite(f[4:76, 4:86])) == 81 + 6 * 9
    ok = np.isfinite(d)
    assert_allclose(f[ok], d[ok], rtol=1e-5)


def test_auto_method_cost_model():
    assert choose_method((2048, 2048), FixedKernel(np.ones((3, 3)))) == "direct"
    assert choose_method((2048, 2048), FixedKernel(np.ones((41, 41)))) == "fft"
    assert choose_method((2048, 2048), GaussianKernel(5.0)) == "separable"


def _lck(rng, order, bbox, n_basis=3):
    basis = [FixedKernel(GaussianKernel(s, half_size=4).array) for s in (1.0, 1.8, 2.5)][:n_basis]
    nt = len(polynomial_terms(order))
    coeffs = rng.uniform(-0.2, 0.2, (n_basis, nt))  # a realistic PSF-matching kernel: variation < 50%
    coeffs[:, 0] = rng.uniform(0.5, 1.0, n_basis)
    return LinearCombinationKernel(basis, coeffs, bbox=bbox)


def test_lck_constant_coefficients_equal_summed_kernel(rng):
    a = rng.normal(100.0, 5.0, (50, 60)).astype(np.float32)
    mi = MaskedImage.from_arrays(a, None, rng.uniform(1.0, 2.0, a.shape))
    kern = _lck(rng, 0, None)
    assert not kern.is_spatially_varying
    summed = FixedKernel(kern.array)
    ref = convolve(mi, summed)
    via_lck = convolve(mi, kern)
    assert via_lck.image.allclose(ref.image, rtol=1e-6)
    # the per-pixel combination path (basis images weighted per pixel) gives the same
    img, var = _convolve_varying(a, mi.variance.array, kern, True, "auto", (0, 0))
    assert _rel_interior(img, ref.image.array.astype(np.float64), (4, 56, 4, 46)) < 1e-6
    assert _rel_interior(var, ref.variance.array.astype(np.float64), (4, 56, 4, 46)) < 1e-6


@pytest.mark.parametrize("normalize", [True, False])
def test_lck_linear_variation_matches_per_pixel_reference(rng, normalize):
    ny, nx = 32, 37
    xy0 = (100, 200)
    bbox = Box2I.from_begin_end(100, 200, 100 + nx, 200 + ny)
    kern = _lck(rng, 1, bbox)
    assert kern.is_spatially_varying
    a = rng.normal(100.0, 5.0, (ny, nx))
    var = rng.uniform(1.0, 3.0, (ny, nx))
    mi = MaskedImage.from_arrays(a, None, var, xy0=xy0)
    out = convolve(mi, kern, normalize=normalize)
    ref_i = np.full((ny, nx), np.nan)
    ref_v = np.full((ny, nx), np.nan)
    af, vf = mi.image.array.astype(np.float64), mi.variance.array.astype(np.float64)
    for y in range(4, ny - 4):
        for x in range(4, nx - 4):
            k = kern.compute_image(x + xy0[0], y + xy0[1], normalize=normalize).array
            ref_i[y, x] = np.sum(af[y - 4 : y + 5, x - 4 : x + 5] * k[::-1, ::-1])
            ref_v[y, x] = np.sum(vf[y - 4 : y + 5, x - 4 : x + 5] * (k**2)[::-1, ::-1])
    box = (4, nx - 4, 4, ny - 4)
    assert _rel_interior(out.image.array, ref_i, box) < 1e-6
    assert _rel_interior(out.variance.array, ref_v, box) < 1e-6


def test_kernels_from_psf_and_double_gaussian():
    psf = GaussianPsf(21, 21, 2.0)
    k = FixedKernel.from_psf(psf)
    assert (k.ctr_x, k.ctr_y) == (10, 10) and abs(k.sum - 1.0) < 1e-12
    img = k.compute_image()
    assert img.xy0.x == -10 and img.xy0.y == -10
    dg = DoubleGaussianKernel(1.0, 3.0, b=0.2)
    assert dg.width == 25 and abs(dg.sum - 1.2) < 1e-12


def test_constant_image_preserved_and_errors(rng):
    a = np.full((30, 30), 7.0, np.float32)
    out = convolve(Image.from_array(a), FixedKernel(rng.uniform(0.1, 1.0, (5, 5))))
    assert_allclose(out.array[2:-2, 2:-2], 7.0, rtol=1e-6)
    with pytest.raises(AfwValueError, match="sum to zero"):
        convolve(Image.from_array(a), FixedKernel([[1.0, -1.0]]))
    with pytest.raises(AfwValueError, match="edge must be"):
        convolve(Image.from_array(a), GaussianKernel(1.0), edge="wrap")
    with pytest.raises(AfwValueError, match="method"):
        convolve(Image.from_array(a), GaussianKernel(1.0), method="magic")
    with pytest.raises(AfwValueError, match="SeparableKernel"):
        convolve(Image.from_array(a), FixedKernel(np.ones((3, 3))), method="separable")
    with pytest.raises(AfwValueError, match="centre"):
        FixedKernel(np.ones((3, 3)), ctr=(3, 0))
    with pytest.raises(AfwValueError, match="bbox"):
        LinearCombinationKernel([np.ones((3, 3))], [[1.0, 0.1, 0.0]])


def test_threads_identical(rng):
    a = rng.normal(0.0, 1.0, (200, 150)).astype(np.float32)
    k = FixedKernel(rng.uniform(0, 1, (7, 7)))
    ref = convolve(Image.from_array(a), k).array
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda _: convolve(Image.from_array(a), k).array, range(8)))
    for o in outs:
        assert_array_equal(o, ref)


def test_fft_multi_tile_nan_matches_direct(rng):
    """Only the tiles holding a non-finite pixel are transformed again, with those pixels zeroed."""
    a = rng.normal(10.0, 1.0, (700, 650)).astype(np.float32)
    a[350, 20] = np.nan
    a[690, 640] = -np.inf
    k = FixedKernel(rng.uniform(0.0, 1.0, (41, 41)))
    d = convolve(Image.from_array(a), k, method="direct").array
    f = convolve(Image.from_array(a), k, method="fft").array
    assert_array_equal(np.isfinite(d), np.isfinite(f))
    # interior [20:680, 20:630]: columns 0..40 of the NaN's 41 rows; rows and columns 670..679 of the -inf's
    assert np.count_nonzero(~np.isfinite(f[20:-20, 20:-20])) == 41 * 21 + 10 * 10
    ok = np.isfinite(d)
    assert_allclose(f[ok], d[ok], rtol=1e-5)
