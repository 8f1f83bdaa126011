"""osprey.afw.math background estimation: interpolants vs scipy, recovery of a known sky, sep on real data."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from osprey.afw import _afw
from osprey.afw.errors import AfwValueError, BoxOutsideImageError
from osprey.afw.image import Image, MaskedImage
from osprey.afw.math import (
    Background,
    BackgroundControl,
    Property,
    StatisticsControl,
    estimate_background,
    make_statistics,
    subtract_background,
)
from osprey.geom import Box2I
from osprey.utils.testing import realdata_path

NTT_IMAGE = "images/ntt-sextractor/image.fits"
SIGMA = 10.0  # noise of the simulated sky (counts)
BIN = 64


@pytest.fixture(scope="module")
def sky():
    """640 x 512 image: 100 + 5 x/W + 3 sin(pi y/H), Gaussian noise sigma=10 and 300 stars (PSF sigma 2 px).

    Pixels where a star adds more than 0.2 sigma are flagged DETECTED (~11% of the image).
    """
    rng = np.random.default_rng(5)
    h, w = 512, 640
    yy, xx = np.mgrid[0:h, 0:w]
    truth = 100.0 + 5.0 * xx / w + 3.0 * np.sin(yy / h * np.pi)
    stars = np.zeros((h, w))
    for x, y, a in zip(rng.uniform(0, w, 300), rng.uniform(0, h, 300), 10 ** rng.uniform(1.5, 3.5, 300), strict=True):
        sl = np.s_[max(0, int(y) - 15) : int(y) + 16, max(0, int(x) - 15) : int(x) + 16]
        stars[sl] += a * np.exp(-((xx[sl] - x) ** 2 + (yy[sl] - y) ** 2) / (2 * 2.0**2))
    image = (truth + stars + rng.normal(0.0, SIGMA, (h, w))).astype(np.float32)
    mask = np.where(stars > 0.2 * SIGMA, 1 << 5, 0).astype(np.int32)
    return MaskedImage.from_arrays(image, mask, xy0=(1000, 2000)), truth


# -- interpolants ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grid():
    rng = np.random.default_rng(11)
    xc = np.cumsum(rng.uniform(20, 40, 7))
    yc = np.cumsum(rng.uniform(20, 40, 6))
    return xc, yc, rng.normal(0.0, 1.0, (6, 7))


def _scipy(style):
    from scipy.interpolate import Akima1DInterpolator, CubicSpline

    return {
        2: lambda x, y, axis: CubicSpline(x, y, axis=axis, bc_type="natural"),
        3: lambda x, y, axis: CubicSpline(x, y, axis=axis, bc_type="not-a-knot"),
        4: lambda x, y, axis: Akima1DInterpolator(x, y, axis=axis),
    }[style]


@pytest.mark.parametrize("style", [2, 3, 4], ids=["natural", "not-a-knot", "akima"])
def test_interpolants_match_scipy(grid, style):
    """Along x through each bin row, then along y per column, as scipy's splines do it."""
    xc, yc, g = grid
    x = np.arange(int(xc[0]) - 6, int(xc[-1]) + 7)
    y = np.arange(int(yc[0]) - 6, int(yc[-1]) + 7)
    out = np.empty((y.size, x.size))
    _afw.background_interpolate(g, xc, yc, style, float(x[0]), float(y[0]), out, False)
    inx, iny = (x >= xc[0]) & (x <= xc[-1]), (y >= yc[0]) & (y <= yc[-1])
    make = _scipy(style)
    ref = make(yc, make(xc, g, 1)(x[inx]), 0)(y[iny])
    assert_allclose(out[np.ix_(iny, inx)], ref, rtol=0, atol=1e-12)
    # Beyond the outer centres: straight lines with the end slope of the interpolant.
    row = np.empty((1, x.size))
    _afw.background_interpolate(g[:1], xc, yc[:1], style, float(x[0]), float(yc[0]), row, False)
    spline = make(xc, g[0], 0)
    left = x < xc[0]
    assert_allclose(row[0, left], g[0, 0] + spline(xc[0], 1) * (x[left] - xc[0]), atol=1e-12)


def test_linear_constant_and_few_bins(grid):
    xc, yc, g = grid
    x = np.arange(int(xc[0]) + 1, int(xc[-1]) + 1)  # inside the centres, where np.interp does not clamp
    out = np.empty((1, x.size))
    _afw.background_interpolate(g[:1], xc, yc[:1], 1, float(x[0]), float(yc[0]), out, False)
    assert_allclose(out[0], np.interp(x, xc, g[0]), atol=1e-12)
    _afw.background_interpolate(g[:1], xc, yc[:1], 0, float(x[0]), float(yc[0]), out, False)
    nearest = np.abs(x[:, None] - xc[None, :]).argmin(axis=1)
    assert_array_equal(out[0], g[0, nearest])
    for style in (2, 3, 4):  # two bins per axis: linear, whatever the style
        two = np.empty((1, x.size))
        _afw.background_interpolate(g[:1, :2], xc[:2], yc[:1], style, float(x[0]), float(yc[0]), two, False)
        slope = (g[0, 1] - g[0, 0]) / (xc[1] - xc[0])
        assert_allclose(two[0], g[0, 0] + slope * (x - xc[0]), atol=1e-12)


# -- recovery of a known sky -------------------------------------------------------------


@pytest.mark.parametrize("statistic", ["MEANCLIP", "MEDIAN"])
@pytest.mark.parametrize("interpolation", ["AKIMA_SPLINE", "CUBIC_SPLINE", "NATURAL_SPLINE", "LINEAR"])
def test_recovers_known_background(sky, statistic, interpolation):
    """Residual RMS below 2 sigma / sqrt(pixels per bin) = 0.31 counts.

    Each bin value has error sigma / sqrt(N) (N = 4096 less masked pixels; x1.03 for a 3-sigma
    clipped mean, x1.25 for a median). An interpolated pixel is a combination of nearby bin
    values with weights summing to one, so its noise is about the same, up to ~1.6 where the
    surface is extrapolated linearly over the outer half bins; the smooth sky adds a model error
    of a few hundredths. A factor 2 covers all of this; wrong bin centres, a bad spline or
    unmasked stars (residual bias ~0.9 count, checked below) would not pass.
    """
    mi, truth = sky
    control = BackgroundControl(BIN, statistic=statistic, interpolation=interpolation)
    bg = estimate_background(mi, control)
    residual = bg.get_image().array - truth
    tolerance = 2.0 * SIGMA / BIN
    assert residual.std() < tolerance
    assert abs(residual.mean()) < tolerance / 2
    assert bg.values.shape == (8, 10) and not bg.filled.any()
    assert bg.global_rms == pytest.approx(SIGMA, rel=0.05)


def _reference_clip(x, n_sigma, n_iter):
    x = np.asarray(x, dtype=np.float64)
    for _ in range(n_iter):
        c, s = np.median(x), x.std()
        keep = (x >= c - n_sigma * s) & (x <= c + n_sigma * s)
        if keep.all():
            break
        x = x[keep]
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bin_statistics_match_reference(sky, dtype):
    """Each bin's MEANCLIP and clipped sigma equal numpy's clipping of that bin's good pixels
    (uneven bins, masked stars, NaNs, a bin with one good pixel and an empty one)."""
    mi, _ = sky
    image = mi.image.array.astype(dtype)
    mask = mi.mask.array.copy()
    image[np.random.default_rng(3).random(image.shape) < 0.01] = np.nan
    mask[0:50, 0:45] = 1 << 8  # bin (0, 0): every pixel NO_DATA ...
    mask[7, 9] = 0  # ... but one
    mask[50:100, 45:90] = 1 << 8  # bin (1, 1): empty
    x_edges = np.array([0, 45, 90, 200, 333, 640], np.int64)
    y_edges = np.array([0, 50, 100, 256, 512], np.int64)
    shape = (4, 5)
    value, rms, n_good = np.empty(shape), np.empty(shape), np.empty(shape, np.int64)
    bits = (1 << 8) | (1 << 5)
    _afw.background_bin_statistics(image, mask, bits, x_edges, y_edges, 0, 2.5, 4, value, rms, n_good)
    for by in range(4):
        for bx in range(5):
            sl = np.s_[y_edges[by] : y_edges[by + 1], x_edges[bx] : x_edges[bx + 1]]
            good = image[sl][np.isfinite(image[sl]) & ((mask[sl] & bits) == 0)]
            assert n_good[by, bx] == good.size
            if good.size == 0:
                assert np.isnan(value[by, bx]) and np.isnan(rms[by, bx])
                continue
            kept = _reference_clip(good, 2.5, 4)
            assert_allclose(value[by, bx], kept.mean(), rtol=1e-12)
            if kept.size > 1:
                assert_allclose(rms[by, bx], kept.std(ddof=1), rtol=1e-9)
            else:
                assert np.isnan(rms[by, bx])


def test_unmasked_stars_bias_the_background(sky):
    mi, truth = sky
    biased = estimate_background(mi.image, BackgroundControl(BIN)).get_image().array - truth
    assert biased.mean() > 2 * SIGMA / BIN  # why the recovery test masks DETECTED pixels


def test_chebyshev_approximation(sky):
    mi, truth = sky
    bg = estimate_background(mi, BackgroundControl(BIN, approximation_order=(1, 5)))
    residual = bg.get_image().array - truth
    assert residual.std() < SIGMA / BIN  # 10 coefficients from 80 bins: well below one bin's noise
    assert bg.chebyshev.shape == (6, 2)
    with pytest.raises(AfwValueError, match="more bins"):
        estimate_background(mi, BackgroundControl(BIN, approximation_order=10))


def test_masked_bins_are_filled(sky):
    mi, truth = sky
    holed = mi.clone()
    hole = Box2I.from_begin_end(1000 + 2 * BIN, 2000 + 3 * BIN, 1000 + 4 * BIN, 2000 + 5 * BIN)  # 2 x 2 bins
    holed.mask.set("NO_DATA", where=hole)
    holed.image[hole] = 1e6  # garbage that must not leak in
    corner = Box2I.from_begin_end(1000, 2000, 1000 + 3 * BIN, 2000 + 2 * BIN)  # 3 x 2 bins in a corner
    holed.mask.set("BAD", where=corner)
    bg = estimate_background(holed, BackgroundControl(BIN))
    expected = np.zeros((8, 10), bool)
    expected[3:5, 2:4] = expected[0:2, 0:3] = True
    assert_array_equal(bg.filled, expected)
    assert_array_equal(bg.n_good[expected], 0)
    residual = bg.get_image()[hole].array - truth[3 * BIN : 5 * BIN, 2 * BIN : 4 * BIN]
    assert np.abs(residual).max() < 1.0  # the sky changes by < 1 count across the hole
    # The corner cannot follow the sine's curvature (filling is flat), but each filled bin is a
    # mean of measured or already filled bins, so it stays within the measured bins' range.
    measured = bg.values[~bg.filled]
    assert (bg.values[0:2, 0:3] >= measured.min()).all() and (bg.values[0:2, 0:3] <= measured.max()).all()


def test_get_image_subregion_equals_cut(sky):
    mi, _ = sky
    for control in (BackgroundControl(BIN), BackgroundControl(48, 80, approximation_order=3)):
        bg = estimate_background(mi, control)
        full = bg.get_image()
        for box in (
            Box2I.from_begin_end(1013, 2007, 1100, 2300),
            Box2I.from_begin_end(1000, 2000, 1001, 2512),
            Box2I.from_begin_end(1500, 2400, 1640, 2512),
        ):
            part = bg.get_image(box)
            assert part.bbox == box
            assert_allclose(part.array, full[box].array, rtol=0, atol=1e-6)
            assert_array_equal(part.array, full[box].array)  # in fact identical
        assert_allclose(bg.get_image(dtype=np.float64).array, full.array, rtol=1e-6)
        with pytest.raises(BoxOutsideImageError, match="not inside"):
            bg.get_image(Box2I.from_begin_end(0, 0, 10, 10))


def test_persistence_round_trip(sky):
    mi, _ = sky
    holed = mi.clone()
    holed.mask.set("BAD", where=Box2I.from_begin_end(1000, 2000, 1100, 2100))
    for control in (
        BackgroundControl(BIN, 50, statistic="MEDIAN", interpolation="NATURAL_SPLINE", bad_mask_planes=("BAD",)),
        BackgroundControl(BIN, approximation_order=(2, 3), min_fraction_good=0.5),
    ):
        bg = estimate_background(holed, control)
        text = json.dumps(bg.to_dict())
        back = Background.from_dict(json.loads(text))
        assert back.control == bg.control
        assert back.bbox == bg.bbox
        for name in ("x_edges", "y_edges", "values", "rms", "n_good", "filled"):
            assert_array_equal(getattr(back, name), getattr(bg, name))
        assert_array_equal(back.get_image().array, bg.get_image().array)
    with pytest.raises(AfwValueError, match="version"):
        Background.from_dict({"format": "something else"})


def test_subtract_background_in_place(sky):
    mi, truth = sky
    work = mi.clone()
    control = BackgroundControl(BIN)
    bg = subtract_background(work, control)
    assert_allclose(work.image.array, mi.image.array - bg.get_image().array, atol=1e-4)
    assert_array_equal(work.variance.array, mi.variance.array)
    # What is left of the sky (good pixels) is zero within the noise of its mean.
    stats = make_statistics(work, Property.MEANCLIP, control=StatisticsControl(bad_mask_planes=("DETECTED",)))
    assert abs(stats.meanclip) < 3 * SIGMA / np.sqrt(stats.npoint) + 0.05
    plain = mi.image.array.astype(np.float64)
    bg64 = subtract_background(plain, control)
    assert_allclose(plain, mi.image.array - bg64.get_image(dtype=np.float64).array, atol=1e-9)


def test_validation(sky):
    mi, _ = sky
    with pytest.raises(AfwValueError, match="bin_size_x"):
        BackgroundControl(0)
    with pytest.raises(AfwValueError, match="statistic"):
        BackgroundControl(statistic="MODE")
    with pytest.raises(AfwValueError, match="interpolation"):
        BackgroundControl(interpolation="SPLINE")
    with pytest.raises(AfwValueError, match="approximation_order"):
        BackgroundControl(approximation_order=(1, -1))
    with pytest.raises(AfwValueError, match="enough good pixels"):
        estimate_background(MaskedImage.from_arrays(np.full((50, 50), np.nan)), BackgroundControl(10))
    one_bin = estimate_background(mi, BackgroundControl(10_000))  # bigger than the image: one bin, constant
    assert one_bin.values.shape == (1, 1)
    assert np.ptp(one_bin.get_image().array) == 0.0
    with pytest.raises(AfwValueError, match="float32 or float64"):
        one_bin.subtract_from(Image.from_array(np.zeros((512, 640), np.int32), xy0=(1000, 2000)))


# -- real data ---------------------------------------------------------------------------


def test_ntt_image_matches_sep():
    """ESO NTT 256x256 frame: bins of 64 like its SExtractor run (BACK_SIZE 64, BACK_FILTERSIZE 3).

    sep (SExtractor's background) takes a clipped mode estimate per bin and median-filters the
    3x3 bin grid; we take the clipped mean with no filter. The sky here is ~6850 ADU with an rms
    of ~65 ADU, and the two agree to 0.1% in level and a few % in rms.
    """
    sep = pytest.importorskip("sep")
    path = realdata_path(NTT_IMAGE, __file__)
    from astropy.io import fits

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the ESO-LOG cards are not standard FITS
        data = fits.getdata(path).astype(np.float32)
    theirs = sep.Background(data, bw=BIN, bh=BIN, fw=3, fh=3)
    ours = estimate_background(data, BackgroundControl(BIN, n_iter=10))
    assert ours.global_level == pytest.approx(theirs.globalback, rel=1e-3)
    assert ours.global_rms == pytest.approx(theirs.globalrms, rel=0.03)
    difference = ours.get_image().array - theirs.back()
    assert np.median(np.abs(difference)) < 0.15 * theirs.globalrms
    assert np.abs(difference).max() < 1.0 * theirs.globalrms
