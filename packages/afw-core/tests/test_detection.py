"""Detection and footprints (osprey.afw.detection) against scipy.ndimage, simulated stars,
sep and the Source Extractor catalogue of a real ESO NTT image."""

from __future__ import annotations

import pickle
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import ndimage

from osprey.afw.detection import (
    DetectionError,
    Footprint,
    FootprintSet,
    HeavyFootprint,
    PeakCatalog,
    SpanSet,
    Threshold,
)
from osprey.afw.image import Image, Mask, MaskedImage
from osprey.geom import Box2I, Point2I
from osprey.utils.testing import realdata_path

EIGHT = np.ones((3, 3), bool)
NTT_DIR = "images/ntt-sextractor"


def disk(r: int) -> np.ndarray:
    """The circle structuring element: offsets with dx² + dy² <= r²."""
    d = np.arange(-r, r + 1)
    return (d[:, None] ** 2 + d[None, :] ** 2) <= r * r


def diamond(r: int) -> np.ndarray:
    """The manhattan structuring element: |dx| + |dy| <= r."""
    d = np.abs(np.arange(-r, r + 1))
    return (d[:, None] + d[None, :]) <= r


STRUCTURES = {"circle": disk, "manhattan": diamond}


def same_labels_up_to_relabelling(a: np.ndarray, b: np.ndarray) -> bool:
    """True when the two label images define the same partition (0 = background in both)."""
    if not np.array_equal(a == 0, b == 0):
        return False
    fg = a != 0
    pairs = np.unique(np.stack([a[fg], b[fg]]), axis=1)
    return len(np.unique(pairs[0])) == pairs.shape[1] == len(np.unique(pairs[1]))


@pytest.fixture
def rng():
    return np.random.default_rng(20250611)


# -- connected components -----------------------------------------------------------------------
@pytest.mark.parametrize("density", [0.2, 0.45, 0.6])
def test_labels_match_scipy_on_random_binary_images(rng, density):
    binary = rng.random((157, 203)) < density
    fs = FootprintSet.from_image(binary.astype(np.float32), 0.5, find_peaks=False)
    ref, n = ndimage.label(binary, structure=EIGHT)
    ours = fs.to_label_image().array
    assert len(fs) == n
    assert same_labels_up_to_relabelling(ours, ref)
    assert_array_equal(ours, ref)  # stronger: we number in scipy's raster order of first pixels


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_labels_areas_bboxes_centroids_on_thresholded_noise(rng, dtype):
    noise = rng.normal(size=(240, 180)).astype(dtype)
    xy0 = Point2I(1000, -37)
    img = Image.from_array(noise, xy0=xy0)
    fs = FootprintSet.from_image(img, Threshold(1.0), find_peaks=False)
    ref, n = ndimage.label(noise >= dtype(1.0), structure=EIGHT)
    assert len(fs) == n > 1000
    label = fs.to_label_image()
    assert label.xy0 == xy0
    assert_array_equal(label.array, ref)
    idx = np.arange(1, n + 1)
    assert_array_equal(fs.areas, ndimage.sum_labels(np.ones_like(ref), ref, idx))
    slices = ndimage.find_objects(ref)
    expect = np.array([[s[1].start, s[0].start, s[1].stop - 1, s[0].stop - 1] for s in slices]) + [
        xy0.x,
        xy0.y,
        xy0.x,
        xy0.y,
    ]
    assert_array_equal(fs.bboxes, expect)
    com = np.array(ndimage.center_of_mass(np.ones_like(ref), ref, idx))  # (y, x)
    assert_allclose(fs.centroids, com[:, ::-1] + [xy0.x, xy0.y], rtol=0, atol=1e-9)
    fp = fs[17]
    assert fp.area == fs.areas[17]
    assert fp.bbox == Box2I.from_min_max(Point2I(*fs.bboxes[17, :2].tolist()), Point2I(*fs.bboxes[17, 2:].tolist()))


def test_strided_view_npix_min_nan_and_negative_polarity(rng):
    big = rng.normal(size=(300, 260)).astype(np.float32)
    big[5:9, 40:80] = np.nan
    view = big[::2, 1::3]  # not C-contiguous: the kernel reads strides
    fs = FootprintSet.from_image(view, Threshold(0.8), npix_min=4)
    ref, n = ndimage.label(view >= np.float32(0.8), structure=EIGHT)
    sizes = ndimage.sum_labels(np.ones_like(ref), ref, np.arange(1, n + 1))
    keep = np.flatnonzero(sizes >= 4) + 1
    assert len(fs) == keep.size
    ours = fs.to_label_image().array
    assert same_labels_up_to_relabelling(ours, np.where(np.isin(ref, keep), ref, 0))
    neg = FootprintSet.from_image(view, Threshold(0.8, polarity="negative"))
    ref_neg, n_neg = ndimage.label(view <= np.float32(-0.8), structure=EIGHT)
    assert len(neg) == n_neg
    assert_array_equal(neg.to_label_image().array, ref_neg)
    assert np.all(neg.peaks["peak_value"] <= -0.8)


def test_pixel_stdev_and_include_multiplier(rng):
    shape = (120, 150)
    var = rng.uniform(0.5, 4.0, shape).astype(np.float32)
    data = (rng.normal(size=shape) * np.sqrt(var)).astype(np.float32)
    mi = MaskedImage.from_arrays(data, variance=var, xy0=(3, 4))
    fs = FootprintSet.from_image(mi, Threshold(1.5, "PIXEL_STDEV"))
    snr = data.astype(np.float64) / np.sqrt(var.astype(np.float64))
    ref, n = ndimage.label(snr >= 1.5, structure=EIGHT)
    assert len(fs) == n
    assert same_labels_up_to_relabelling(fs.to_label_image().array, ref)
    # significance is value / sqrt(variance) at the peak pixel
    p = fs.peaks
    assert_allclose(p["significance"], snr[p["iy"] - 4, p["ix"] - 3], rtol=1e-6)
    # include_multiplier: same pixels grouped, only footprints whose maximum reaches 2x kept
    hyst = FootprintSet.from_image(mi, Threshold(1.5, "PIXEL_STDEV", include_multiplier=2.0))
    maxima = ndimage.maximum(snr, ref, np.arange(1, n + 1))
    keep = np.flatnonzero(maxima >= 3.0) + 1
    assert len(hyst) == keep.size < n
    assert same_labels_up_to_relabelling(hyst.to_label_image().array, np.where(np.isin(ref, keep), ref, 0))
    with pytest.raises(DetectionError, match="needs a MaskedImage"):
        FootprintSet.from_image(mi.image, Threshold(1.5, "PIXEL_STDEV"))


def test_stdev_threshold_uses_robust_sigma(rng):
    data = rng.normal(0, 7.0, (400, 400)).astype(np.float32)
    fs = FootprintSet.from_image(data, Threshold(3.0, "STDEV"), find_peaks=False)
    sigma = 1.482602218505602 * np.median(np.abs(data - np.median(data)))
    ref, n = ndimage.label(data >= np.float32(3.0 * sigma), structure=EIGHT)
    assert len(fs) == n
    assert abs(sigma - 7.0) < 0.1


# -- span sets -----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", ["circle", "manhattan"])
@pytest.mark.parametrize("radius", [0, 1, 2, 3, 5, 8])
def test_dilation_erosion_match_scipy(rng, shape, radius):
    mask = ndimage.binary_opening(rng.random((70, 90)) < 0.55) | (rng.random((70, 90)) < 0.05)
    xy0 = Point2I(-20, 15)
    s = SpanSet.from_mask(mask, xy0)
    se = STRUCTURES[shape](radius) if radius else np.ones((1, 1), bool)
    # dilation: compare on a frame padded so nothing is clipped
    padded = np.pad(mask, radius)
    frame = Box2I.from_begin_end(xy0.x - radius, xy0.y - radius, xy0.x + 90 + radius, xy0.y + 70 + radius)
    assert_array_equal(s.dilated(radius, shape).to_mask(frame), ndimage.binary_dilation(padded, se))
    assert_array_equal(s.dilated(radius, shape).to_mask(frame).sum(), s.dilated(radius, shape).area)
    # erosion: scipy's border_value=0 treats the outside as unset, as we do
    frame = Box2I.from_begin_end(xy0.x, xy0.y, xy0.x + 90, xy0.y + 70)
    assert_array_equal(s.eroded(radius, shape).to_mask(frame), ndimage.binary_erosion(mask, se))


def test_structuring_elements_are_exactly_defined():
    for r in range(7):
        assert_array_equal(SpanSet.from_shape(r, "circle").to_mask(Box2I.from_begin_end(-r, -r, r + 1, r + 1)), disk(r))
        assert_array_equal(
            SpanSet.from_shape(r, "manhattan").to_mask(Box2I.from_begin_end(-r, -r, r + 1, r + 1)), diamond(r)
        )
    assert SpanSet.from_shape(5).area == 81  # Gauss circle problem: N(5) = 81


def test_set_algebra_shift_clip_contains(rng):
    a_mask = rng.random((60, 70)) < 0.4
    b_mask = rng.random((60, 70)) < 0.4
    a, b = SpanSet.from_mask(a_mask), SpanSet.from_mask(b_mask)
    box = Box2I.from_begin_end(0, 0, 70, 60)
    assert_array_equal((a | b).to_mask(box), a_mask | b_mask)
    assert_array_equal((a & b).to_mask(box), a_mask & b_mask)
    assert_array_equal((a - b).to_mask(box), a_mask & ~b_mask)
    assert (a | b).area == int((a_mask | b_mask).sum())
    assert a.overlaps(b) and not (a - b).overlaps(b)
    shifted = a.shifted(5, -3)
    assert_array_equal(shifted.to_mask(Box2I.from_begin_end(5, -3, 75, 57)), a_mask)
    clip = Box2I.from_begin_end(10, 20, 33, 41)
    assert_array_equal(a.clipped_to(clip).to_mask(box), a_mask & SpanSet.from_box(clip).to_mask(box))
    ys, xs = np.mgrid[-2:62, -2:72]
    inside = a.contains(xs, ys)
    expect = np.zeros(xs.shape, bool)
    expect[2:62, 2:72] = a_mask
    assert_array_equal(inside, expect)
    assert a.contains(xs[5, 5] + 0.4, ys[5, 5] - 0.5) == bool(expect[5, 5])  # pixel i covers [i-0.5, i+0.5)
    assert not a.contains(np.nan, 3.0)
    x, y = a.pixels()
    assert_array_equal(a_mask[y, x], True) and x.size == a.area


def test_spanset_normalization_equality_persistence():
    s = SpanSet([3, 0, 0, 0, 3], [1, 0, 2, 7, 4], [3, 1, 4, 6, 9])  # unsorted, abutting, one empty
    assert_array_equal(s.y, [0, 3]) and assert_array_equal(s.x0, [0, 1]) and assert_array_equal(s.x1, [4, 9])
    assert s == SpanSet.from_arrays(s.to_arrays()) == pickle.loads(pickle.dumps(s))
    assert hash(s) == hash(SpanSet([0, 3], [0, 1], [4, 9]))
    assert s.area == 14 and s.bbox == Box2I.from_begin_end(0, 0, 10, 4)
    assert_allclose([s.centroid.x, s.centroid.y], [(10 + 45) / 14, 27 / 14])
    with pytest.raises(ValueError):
        s.y[0] = 5  # immutable
    with pytest.raises(DetectionError, match="shape must be"):
        s.dilated(2, "square")
    with pytest.raises(DetectionError, match="radius must be an int"):
        s.eroded(-1)
    assert SpanSet().is_empty() and SpanSet().area == 0 and SpanSet().bbox.is_empty()
    with pytest.raises(DetectionError, match="no centroid"):
        _ = SpanSet().centroid


def test_flatten_unflatten_and_masks(rng):
    data = rng.normal(size=(50, 40)).astype(np.float32)
    img = Image.from_array(data, xy0=(100, 200))
    s = SpanSet.from_mask(rng.random((50, 40)) < 0.3, xy0=(100, 200))
    values = s.flatten(img)
    x, y = s.pixels()
    assert_array_equal(values, data[y - 200, x - 100])
    out = Image(img.bbox)
    s.unflatten(values, out)
    assert_array_equal(out.array, np.where(s.to_mask(img.bbox), data, 0))
    for dtype in (np.float64, np.int32, np.int64, np.uint16, np.bool_):
        arr = (data * 10).astype(dtype)
        assert_array_equal(s.flatten(arr, xy0=(100, 200)), arr[y - 200, x - 100])
    mask = Mask(img.bbox)
    s.set_mask(mask, "DETECTED")
    assert_array_equal(mask.select("DETECTED"), s.to_mask(img.bbox))
    s.clear_mask(mask, ["DETECTED"])
    assert not mask.array.any()
    with pytest.raises(DetectionError, match="outside"):
        s.shifted(10, 0).flatten(img)


# -- peaks ---------------------------------------------------------------------------------------
def simulated_stars(rng, n=60, shape=(256, 256), psf_sigma=1.5, noise=10.0):
    """Gaussian stars at least 8 px apart, log-uniform fluxes; returns image and truth."""
    xs, ys = [], []
    while len(xs) < n:
        x, y = rng.uniform(6, shape[1] - 7), rng.uniform(6, shape[0] - 7)
        if all((x - a) ** 2 + (y - b) ** 2 >= 64 for a, b in zip(xs, ys, strict=True)):
            xs.append(x)
            ys.append(y)
    xs, ys = np.array(xs), np.array(ys)
    flux = 10 ** rng.uniform(2.5, 4.5, n)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    image = rng.normal(0, noise, shape)
    for x, y, f in zip(xs, ys, flux, strict=True):
        image += f / (2 * np.pi * psf_sigma**2) * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * psf_sigma**2))
    snr = flux / (noise * np.sqrt(4 * np.pi) * psf_sigma)  # optimal (PSF-weighted) S/N
    return image.astype(np.float32), xs, ys, flux, snr


def test_every_bright_star_has_a_peak_within_one_pixel(rng):
    image, xs, ys, _, snr = simulated_stars(rng)
    smoothed = ndimage.gaussian_filter(image, 1.5, mode="constant").astype(np.float32)  # PSF-matched filter
    fs = FootprintSet.from_image(smoothed, Threshold(5.0, "STDEV"), npix_min=3)
    bright = snr > 10
    assert bright.sum() > 30
    d = np.hypot(xs[:, None] - fs.peaks["fx"][None], ys[:, None] - fs.peaks["fy"][None]).min(axis=1)
    assert np.all(d[bright] < 1.0), d[bright].max()
    assert np.median(d[bright]) < 0.25  # parabolic refinement does better than the pixel grid
    # peaks of a footprint are sorted brightest first and all lie in it
    for fp in fs:
        assert np.all(np.diff(fp.peaks["peak_value"]) <= 0)
        assert fp.contains(fp.peaks["ix"], fp.peaks["iy"]).all()
    assert_array_equal(fs.peaks["id"], np.arange(1, len(fs.peaks) + 1))
    assert_array_equal(np.bincount(fs.peak_footprint_index, minlength=len(fs)), [len(fp.peaks) for fp in fs])


def test_peak_deduplication():
    yy, xx = np.mgrid[:40, :60]
    img = np.zeros((40, 60), np.float32)
    for x, y, a in ((20, 20, 100.0), (23, 20, 90.0), (40, 20, 80.0)):  # two bumps 3 px apart
        img += a * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 0.7**2))
    all_peaks = FootprintSet.from_image(img, 1.0).peaks
    assert len(all_peaks) == 3
    culled = FootprintSet.from_image(img, 1.0, peak_min_separation=4.0).peaks
    assert_array_equal(culled["ix"], [20, 40]) and culled["peak_value"][0] == all_peaks["peak_value"].max()
    assert_array_equal(all_peaks.sorted_by_value().deduplicated(4.0)["ix"], [20, 40])
    plateau = np.zeros((9, 9), np.float32)
    plateau[3:6, 2:7] = 5.0  # a flat top yields one peak, its first pixel in raster order
    p = FootprintSet.from_image(plateau, 1.0).peaks
    assert len(p) == 1 and (p[0].ix, p[0].iy) == (2, 3)


# -- footprints, heavy footprints, growing and merging ------------------------------------------
def test_heavy_footprint_round_trip_and_merge(rng):
    shape = (80, 90)
    mi = MaskedImage.from_arrays(
        rng.normal(size=shape).astype(np.float32),
        rng.integers(0, 1 << 12, shape).astype(np.int32),
        rng.uniform(1, 2, shape).astype(np.float32),
        xy0=(-5, 7),
    )
    fs = FootprintSet.from_image(mi, 1.0, npix_min=3)
    blank = MaskedImage(mi.bbox)
    for fp in fs:
        fp.to_heavy(mi).insert(blank)
    covered = fs.spans.to_mask(mi.bbox)
    for plane in ("image", "mask", "variance"):
        got, src = getattr(blank, plane).array, getattr(mi, plane).array
        assert_array_equal(got[covered], src[covered])
        assert not got[~covered].any()
    a = Footprint(SpanSet.from_box(Box2I.from_begin_end(0, 10, 30, 40)))
    b = Footprint(SpanSet.from_shape(12, center=(35, 30)))
    a_mask, b_mask = a.spans.to_mask(mi.bbox), b.spans.to_mask(mi.bbox)
    merged = a.merged(b)
    assert merged.area == int((a_mask | b_mask).sum()) < a.area + b.area
    ha, hb = a.to_heavy(mi), b.clipped_to(mi.bbox).to_heavy(mi)
    hm = ha.merged(hb)
    canvas = MaskedImage(mi.bbox)
    hm.insert(canvas)
    union = hm.spans.to_mask(mi.bbox)
    assert_array_equal(canvas.image.array[union], mi.image.array[union])
    assert hm == ha.merged(hb) and hm != ha


def test_grow_matches_scipy_dilation_then_labels(rng):
    noise = rng.normal(size=(160, 140)).astype(np.float32)
    for grow, iso in ((2, True), (3, False)):
        fs = FootprintSet.from_image(noise, 2.0, grow=grow, is_isotropic=iso)
        base = noise >= np.float32(2.0)
        se = disk(grow) if iso else diamond(grow)
        grown, n = ndimage.label(ndimage.binary_dilation(base, se), structure=EIGHT)
        assert len(fs) == n
        assert_array_equal(fs.to_label_image().array, grown)
        plain = FootprintSet.from_image(noise, 2.0)
        assert len(fs.peaks) == len(plain.peaks)  # growing merges footprints, never drops peaks
        again = plain.grown(grow, is_isotropic=iso)
        assert_array_equal(again.to_label_image().array, grown)
        for fp in fs:
            assert np.all(np.diff(fp.peaks["peak_value"]) <= 0)


def test_merge_two_bands(rng):
    shape = (120, 130)
    g = rng.normal(size=shape).astype(np.float32)
    r = (0.6 * g + 0.8 * rng.normal(size=shape)).astype(np.float32)
    fg, fr = FootprintSet.from_image(g, 2.0), FootprintSet.from_image(r, 2.0)
    merged = fg.merge(fr, min_new_peak_distance=2.0)
    union_mask = (g >= np.float32(2.0)) | (r >= np.float32(2.0))
    ref, n = ndimage.label(union_mask, structure=EIGHT)
    assert len(merged) == n
    assert_array_equal(merged.to_label_image().array, ref)
    assert merged.spans.area == int(union_mask.sum())
    # every g peak survives; an r peak survives only if >= 2 px from every g peak of its footprint
    p = merged.peaks
    assert len(np.unique(p["id"])) == len(p)
    assert len(fg.peaks) <= len(p) <= len(fg.peaks) + len(fr.peaks)
    fi = merged.peak_footprint_index
    is_g = p["id"] <= fg.peaks["id"].max()
    assert is_g.sum() == len(fg.peaks)
    for k in np.flatnonzero(~is_g):
        same = is_g & (fi == fi[k])
        assert np.all(np.hypot(p["ix"][same] - p["ix"][k], p["iy"][same] - p["iy"][k]) >= 2.0)
    mask = Mask(Box2I.from_begin_end(0, 0, 130, 120))
    merged.set_mask(mask, "DETECTED")
    assert_array_equal(mask.select("DETECTED"), union_mask)


def test_threads_identical_and_errors(rng):
    img = rng.normal(size=(300, 300)).astype(np.float32)
    ref = FootprintSet.from_image(img, 1.5).span_arrays
    with ThreadPoolExecutor(4) as pool:
        for got in pool.map(lambda _: FootprintSet.from_image(img, 1.5).span_arrays, range(8)):
            for a, b in zip(got, ref, strict=True):
                assert_array_equal(a, b)
    with pytest.raises(DetectionError, match="type must be one of"):
        Threshold(1.0, "SIGMA")
    with pytest.raises(DetectionError, match="npix_min"):
        FootprintSet.from_image(img, 1.0, npix_min=0)
    with pytest.raises(DetectionError, match="2-D"):
        FootprintSet.from_image(img[0], 1.0)
    with pytest.raises(DetectionError, match="from_image"):
        FootprintSet()
    assert PeakCatalog().to_dict()["fx"].dtype == np.float64
    assert isinstance(FootprintSet.from_image(img, 1.0)[0].to_heavy(Image.from_array(img)), HeavyFootprint)


# -- real data: ESO NTT image vs sep and Source Extractor ---------------------------------------
def _sextractor_config(path: Path) -> dict[str, str]:
    cfg = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Z_]+)\s+([^#]+?)\s*(#.*)?$", line)
        if m:
            cfg[m.group(1)] = m.group(2).strip()
    return cfg


def test_ntt_image_vs_sep_and_sextractor():
    root = realdata_path(f"{NTT_DIR}/image.fits", __file__).parents[2]
    sep = pytest.importorskip("sep", reason="sep (peer) not installed")
    fits = pytest.importorskip("astropy.io.fits")
    d = root / NTT_DIR
    cfg = _sextractor_config(d / "default.sex")
    thresh, minarea = float(cfg["DETECT_THRESH"]), int(cfg["DETECT_MINAREA"])
    back = int(cfg["BACK_SIZE"])
    assert (thresh, minarea, back, cfg["FILTER"]) == (1.5, 5, 64, "Y")
    with warnings.catch_warnings():  # the ESO-LOG cards of this 1992 file are non-standard
        warnings.simplefilter("ignore")
        data = np.asarray(fits.getdata(d / "image.fits"), dtype=np.float32)
    cat = np.loadtxt(d / "image.cat", comments="#")
    assert cat.shape[0] == 65
    # Background as SExtractor's mesh (BACK_SIZE, BACK_FILTERSIZE); FILTER_NAME default.conv is
    # not shipped, so use SExtractor's default.conv: the 3x3 pyramid 1 2 1 / 2 4 2 / 1 2 1.
    fsize = int(cfg["BACK_FILTERSIZE"])
    bkg = sep.Background(data, bw=back, bh=back, fw=fsize, fh=fsize)
    sub = (data - bkg.back()).astype(np.float32)
    rms = bkg.globalrms
    kernel = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32)
    filtered = ndimage.convolve(sub, kernel / kernel.sum(), mode="constant").astype(np.float32)
    fs = FootprintSet.from_image(filtered, Threshold(thresh * rms), npix_min=minarea)
    # isophotal flux and barycentre on the unfiltered image, as SExtractor's X_IMAGE / FLUX_ISO
    values = fs.flatten(sub)
    xs, ys = fs.pixels()
    off = fs.pixel_offsets[:-1]
    flux = np.add.reduceat(values.astype(np.float64), off)
    bx = np.add.reduceat(values * xs, off) / flux
    by = np.add.reduceat(values * ys, off) / flux

    def nearest(ax, ay, qx, qy):
        dist = np.hypot(ax[:, None] - qx[None], ay[:, None] - qy[None])
        j = dist.argmin(axis=1)
        return j, dist[np.arange(ax.size), j]

    sx, sy = cat[:, 1] - 1, cat[:, 2] - 1  # SExtractor is 1-based
    k, d_sex = nearest(sx, sy, bx, by)
    frac_sex = float(np.mean(d_sex < 2.0))
    good = (d_sex < 2.0) & (cat[:, 15] > 0) & (cat[:, 20] == 0)  # FLUX_AUTO measured, FLAGS clean
    auto_ratio = flux[k[good]] / cat[good, 15]
    # sep with the detection stage alone (no cleaning; DEBLEND_MINCONT = 1.0 means no deblending)
    objs = sep.extract(sub, thresh, err=rms, minarea=minarea, filter_kernel=kernel, deblend_cont=1.0, clean=False)
    j, d_sep = nearest(objs["x"], objs["y"], bx, by)
    frac_sep = float(np.mean(d_sep < 2.0))
    ratio = flux[j[d_sep < 2]] / objs["flux"][d_sep < 2]
    print(
        f"\nNTT: ours {len(fs)} footprints, sep {len(objs)}, SExtractor {len(cat)}; matched within 2 px: "
        f"SExtractor {frac_sex:.1%}, sep {frac_sep:.1%}; iso flux ours/sep median {np.median(ratio):.4f} "
        f"[{ratio.min():.4f}, {ratio.max():.4f}]; iso/FLUX_AUTO median {np.median(auto_ratio):.3f} "
        f"({good.sum()} unflagged objects)"
    )
    assert frac_sex >= 0.85
    assert frac_sep >= 0.95 and abs(len(fs) - len(objs)) <= 3
    assert_allclose(np.median(ratio), 1.0, rtol=0.01)
    assert_array_equal(fs.areas[j[d_sep < 2]], objs["npix"][d_sep < 2])  # same isophotal pixels
    assert 0.6 < np.median(auto_ratio) < 1.05  # isophotal flux misses the wings a Kron aperture holds
