"""Tests of osprey.afw.math.warp_image / warp_with_transform against a numpy Lanczos reference and a star field."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from osprey.afw.errors import AfwValueError
from osprey.afw.image import Image, MaskedImage
from osprey.afw.math import warp_image, warp_with_transform
from osprey.afw.wcs import SkyWcs
from osprey.geom import Box2I, SpherePoint, degrees


def lanczos(d, a):
    d = np.asarray(d, dtype=np.float64)
    if a == 1:
        return np.clip(1.0 - np.abs(d), 0.0, None)
    return np.where(np.abs(d) < a, np.sinc(d) * np.sinc(d / a), 0.0)


def reference_warp(a, sx, sy, order):
    """Slow, obviously correct separable Lanczos (normalised weights); NaN where the kernel leaves the image."""
    out = np.full(sx.shape, np.nan)
    for idx in np.ndindex(sx.shape):
        x, y = sx[idx], sy[idx]
        ix = np.arange(np.floor(x) - order + 1, np.floor(x) + order + 1).astype(int)
        iy = np.arange(np.floor(y) - order + 1, np.floor(y) + order + 1).astype(int)
        if ix[0] < 0 or iy[0] < 0 or ix[-1] >= a.shape[1] or iy[-1] >= a.shape[0]:
            continue
        wx, wy = lanczos(x - ix, order), lanczos(y - iy, order)
        out[idx] = (wy / wy.sum()) @ a[np.ix_(iy, ix)] @ (wx / wx.sum())
    return out


def affine(theta=0.3, sx=1.05, sy=0.97, tx=20.3, ty=18.1):
    c, s = np.cos(theta), np.sin(theta)

    def t(x, y):
        return tx + sx * (c * (x - 15) - s * (y - 12)), ty + sy * (s * (x - 15) + c * (y - 12))

    return t


@pytest.mark.parametrize(("kernel", "order"), [("lanczos3", 3), ("lanczos2", 2), ("lanczos5", 5), ("bilinear", 1)])
def test_matches_numpy_reference(kernel, order):
    rng = np.random.default_rng(7)
    a = rng.normal(0.0, 1.0, (40, 50))
    t = affine()
    box = Box2I.from_begin_end(0, 0, 30, 25)
    res = warp_with_transform(Image.from_array(a), t, box, kernel=kernel, grid_spacing=7)
    yy, xx = np.mgrid[0:25, 0:30].astype(np.float64)
    ref = reference_warp(a, *t(xx, yy), order)
    ok = np.isfinite(ref)
    assert ok.sum() > 600
    assert np.max(np.abs(res.image.array[ok] - ref[ok])) < 1e-6
    assert res.max_grid_error_px < 1e-9  # an affine map is exact under bilinear grid interpolation


def test_integer_shift_is_exact_and_variance_mask():
    rng = np.random.default_rng(8)
    mi = MaskedImage.from_arrays(rng.normal(5.0, 1.0, (30, 40)), None, rng.uniform(1.0, 2.0, (30, 40)), xy0=(10, 20))
    mi.mask.array[15, 20] = mi.mask.get_plane_bitmask("BAD")
    box = Box2I.from_begin_end(13, 22, 43, 44)
    res = warp_with_transform(mi, lambda x, y: (x + 2.0, y - 1.0), box)
    out = res.image
    src = mi.image.array
    # dest (x, y) samples source (x + 2, y - 1): array [j, i] of dest <-> source [j + 2 - 1 ... ]
    inner = (slice(5, 18), slice(3, 20))
    j, i = np.mgrid[inner]
    sj, si = j + 22 - 1 - 20, i + 13 + 2 - 10
    assert_array_equal(out.image.array[inner], src[sj, si])
    assert_array_equal(out.variance.array[inner], mi.variance.array[sj, si])
    assert_array_equal(res.sum_w2[inner], 1.0)
    bad = out.mask.array & mi.mask.get_plane_bitmask("BAD")
    assert list(zip(*np.nonzero(bad), strict=True)) == [(15 + 20 + 1 - 22, 20 + 10 - 2 - 13)]


def test_variance_mask_and_noise_factor():
    rng = np.random.default_rng(9)
    ny, nx = 40, 45
    mi = MaskedImage.from_arrays(rng.normal(0, 1, (ny, nx)), None, np.full((ny, nx), 4.0))
    mi.mask.array[20, 22] = 1  # BAD
    t = affine(theta=0.1, sx=1.0, sy=1.0, tx=22.4, ty=20.3)
    res = warp_with_transform(mi, t, Box2I.from_begin_end(0, 0, 30, 25), mask_threshold=0.01)
    good = np.isfinite(res.sum_w2)
    assert_allclose(res.image.variance.array[good], 4.0 * res.sum_w2[good], rtol=1e-6)
    assert 0.3 < res.mean_sum_w2 < 1.0
    # mask: every output pixel whose 2-D weight on (22, 20) exceeds the threshold, and no other
    yy, xx = np.mgrid[0:25, 0:30].astype(np.float64)
    sx, sy = t(xx, yy)
    ix0, iy0 = np.floor(sx) - 2, np.floor(sy) - 2
    norm_x = sum(lanczos(sx - (ix0 + k), 3) for k in range(6))
    norm_y = sum(lanczos(sy - (iy0 + k), 3) for k in range(6))
    w = lanczos(sx - 22, 3) / norm_x * lanczos(sy - 20, 3) / norm_y
    expect = np.abs(w) > 0.01
    got = (res.image.mask.array & 1) != 0
    assert expect.sum() > 4
    assert_array_equal(got, expect)


def test_no_data_where_source_does_not_cover():
    rng = np.random.default_rng(10)
    mi = MaskedImage.from_arrays(rng.normal(0, 1, (30, 30)), None, np.ones((30, 30)))
    t = affine(theta=0.5, sx=1.0, sy=1.0, tx=5.0, ty=5.0)
    res = warp_with_transform(mi, t, Box2I.from_begin_end(-10, -10, 50, 50), grid_spacing=8)
    yy, xx = np.mgrid[-10:50, -10:50].astype(np.float64)
    sx, sy = t(xx, yy)
    inside = (sx >= -0.5) & (sx <= 29.5) & (sy >= -0.5) & (sy <= 29.5)
    nod = (res.image.mask.array & mi.mask.get_plane_bitmask("NO_DATA")) != 0
    assert_array_equal(nod, ~inside)
    assert np.all(np.isnan(res.image.image.array[nod])) and np.all(np.isfinite(res.image.image.array[~nod]))
    edge = (res.image.mask.array & mi.mask.get_plane_bitmask("EDGE")) != 0
    fx, fy = np.floor(sx), np.floor(sy)
    full = (fx >= 2) & (fx <= 26) & (fy >= 2) & (fy <= 26)  # all 6 x 6 Lanczos-3 taps inside
    assert_array_equal(edge, inside & ~full)


def test_grid_error_bound_is_met():
    def distort(x, y):  # strongly non-linear: quadratic radial term
        r2 = (x - 50.0) ** 2 + (y - 50.0) ** 2
        return x + 2e-4 * r2 * (x - 50.0) / 10 + 3.0, y + 2e-4 * r2 * (y - 50.0) / 10 - 2.0

    rng = np.random.default_rng(11)
    img = Image.from_array(ndimage_smooth(rng.normal(0, 1, (120, 120))))
    box = Box2I.from_begin_end(5, 5, 105, 105)
    coarse = warp_with_transform(img, distort, box, grid_spacing=32)
    assert coarse.max_grid_error_px > 1e-3
    fine = warp_with_transform(img, distort, box, grid_spacing=32, max_error_px=1e-3)
    assert fine.grid_spacing < 32 and fine.max_grid_error_px <= 1e-3
    exact = warp_with_transform(img, distort, box, grid_spacing=1)
    assert exact.max_grid_error_px == 0.0
    # positions within 1e-3 px: pixel values differ by at most max|gradient| * 1e-3
    grad = np.max(np.abs(np.gradient(img.array)))
    ok = np.isfinite(exact.image.array)
    assert np.max(np.abs(fine.image.array[ok] - exact.image.array[ok])) < 2 * grad * 1e-3


def ndimage_smooth(a):
    k = np.exp(-0.5 * (np.arange(-6, 7) / 2.0) ** 2)
    k /= k.sum()
    a = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 0, a)
    return np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 1, a)


def _star_field():
    n = 256
    sigma = 2.0
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64)
    gx, gy = np.meshgrid(np.arange(40, 220, 30.0), np.arange(40, 220, 30.0))
    rng = np.random.default_rng(12)
    xs = gx.ravel() + rng.uniform(-0.5, 0.5, gx.size)
    ys = gy.ravel() + rng.uniform(-0.5, 0.5, gx.size)
    flux = rng.uniform(1e3, 1e4, gx.size)
    img = np.zeros((n, n))
    for x, y, f in zip(xs, ys, flux, strict=True):
        img += f / (2 * np.pi * sigma**2) * np.exp(-0.5 * ((xx - x) ** 2 + (yy - y) ** 2) / sigma**2)
    return img, xs, ys, flux


def test_star_field_flux_and_positions():
    img, xs, ys, flux = _star_field()
    centre = SpherePoint(150.0, 2.0, degrees)
    scale = 0.2 / 3600
    src_wcs = SkyWcs.from_tan((128.0, 128.0), centre, [[-scale, 0.0], [0.0, scale]])
    th = np.deg2rad(25.0)
    s2 = scale * 1.1  # coarser destination pixels
    cd = s2 * np.array([[-np.cos(th), np.sin(th)], [np.sin(th), np.cos(th)]])
    dest_wcs = SkyWcs.from_tan((140.0, 110.0), SpherePoint(150.001, 2.0005, degrees), cd)
    box = Box2I.from_begin_end(-20, -40, 300, 280)
    mi = MaskedImage.from_arrays(img, None, np.ones_like(img))
    res = warp_image(mi, src_wcs, dest_wcs, box, conserve_flux=True, max_error_px=1e-4)
    out = res.image.image.array.astype(np.float64)
    assert abs(np.nansum(out) / img.sum() - 1.0) < 1e-3
    # truth positions mapped through the WCSs
    ra, dec = src_wcs.pixel_to_sky_array(xs, ys)
    dx, dy = dest_wcs.sky_to_pixel_array(ra, dec)
    yy, xx = np.mgrid[box.begin.y : box.end.y, box.begin.x : box.end.x].astype(np.float64)
    for x, y, f in zip(dx, dy, flux, strict=True):
        sel = (xx - x) ** 2 + (yy - y) ** 2 < 12.0**2
        v = np.nan_to_num(out[sel])
        assert abs(v.sum() / f - 1.0) < 1e-3
        cx, cy = (v * xx[sel]).sum() / v.sum(), (v * yy[sel]).sum() / v.sum()
        assert np.hypot(cx - x, cy - y) < 0.01
    # surface brightness mode: peak values instead keep their height, flux scales by the area ratio
    res2 = warp_image(mi, src_wcs, dest_wcs, box, conserve_flux=False)
    assert abs(np.nansum(res2.image.image.array) / np.nansum(out) - 1.0 / 1.1**2) < 1e-3


def test_errors():
    img = Image.from_array(np.ones((10, 10), np.float32))
    box = Box2I.from_begin_end(0, 0, 5, 5)
    with pytest.raises(AfwValueError, match="lanczos"):
        warp_with_transform(img, lambda x, y: (x, y), box, kernel="lanczos9")
    with pytest.raises(AfwValueError, match="grid_spacing"):
        warp_with_transform(img, lambda x, y: (x, y), box, grid_spacing=0)
    with pytest.raises(AfwValueError, match="max_error_px"):
        warp_with_transform(img, lambda x, y: (x, y), box, max_error_px=-1.0)
    res = warp_with_transform(img, lambda x, y: (x + 0.25, y), box)
    assert res.image.array.dtype == np.float32
    assert_allclose(res.image.array[:, :4], 1.0, rtol=1e-6)  # normalised weights keep a constant
