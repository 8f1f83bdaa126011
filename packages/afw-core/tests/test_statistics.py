"""osprey.afw.math.make_statistics against numpy references and astropy's sigma_clipped_stats."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from osprey.afw import _afw
from osprey.afw.errors import AfwKeyError, AfwValueError, BoxOutsideImageError
from osprey.afw.image import Image, MaskedImage
from osprey.afw.math import Property, StatisticsControl, make_statistics
from osprey.geom import Box2I

P = Property
EVERYTHING = (
    P.NPOINT
    | P.MEAN
    | P.STDEV
    | P.VARIANCE
    | P.MEDIAN
    | P.IQRANGE
    | P.MEANCLIP
    | P.STDEVCLIP
    | P.VARIANCECLIP
    | P.MIN
    | P.MAX
    | P.SUM
    | P.MADSIGMA
    | P.NCLIP
)


def reference_clip(x: np.ndarray, n_sigma: float, n_iter: int) -> np.ndarray:
    """The survivors of median-centred clipping with the population std (the documented algorithm)."""
    x = np.asarray(x, dtype=np.float64)
    for _ in range(n_iter):
        c, s = np.median(x), x.std()
        keep = (x >= c - n_sigma * s) & (x <= c + n_sigma * s)
        if keep.all():
            break
        x = x[keep]
    return x


def reference_statistics(x: np.ndarray, n_sigma: float = 3.0, n_iter: int = 3) -> dict[Property, float]:
    """Every quantity of EVERYTHING from the good values ``x`` (1-D), in float64."""
    x = np.asarray(x, dtype=np.float64)
    med = np.median(x)
    q25, q75 = np.percentile(x, [25, 75])
    kept = reference_clip(x, n_sigma, n_iter)
    return {
        P.NPOINT: x.size,
        P.MEAN: x.mean(),
        P.STDEV: x.std(ddof=1),
        P.VARIANCE: x.var(ddof=1),
        P.MEDIAN: med,
        P.IQRANGE: q75 - q25,
        P.MADSIGMA: 1.482602218505602 * np.median(np.abs(x - med)),
        P.MIN: x.min(),
        P.MAX: x.max(),
        P.SUM: x.sum(),
        P.MEANCLIP: kept.mean(),
        P.STDEVCLIP: kept.std(ddof=1),
        P.VARIANCECLIP: kept.var(ddof=1),
        P.NCLIP: kept.size,
    }


@pytest.fixture
def scene():
    """A 173 x 211 sky with 5% outliers, NaNs, infinities and masked pixels (some bright)."""
    rng = np.random.default_rng(20240611)
    shape = (173, 211)
    data = rng.normal(1000.0, 12.0, shape)
    hot = rng.random(shape) < 0.05
    data[hot] += rng.exponential(300.0, hot.sum())
    data[rng.random(shape) < 0.01] = np.nan
    data[rng.random(shape) < 0.002] = np.inf
    mask = np.zeros(shape, dtype=np.int32)
    sat = rng.random(shape) < 0.03
    mask[sat] |= 1 << 1  # SAT
    data[sat] = 65000.0
    mask[rng.random(shape) < 0.02] |= 1 << 5  # DETECTED: not a default bad plane
    variance = rng.uniform(100.0, 200.0, shape).astype(np.float32)
    return data, mask, variance


@pytest.mark.parametrize("kind", ["masked-float32", "array-float64"])
def test_matches_numpy_reference(scene, kind):
    data, mask, _ = scene
    if kind == "masked-float32":  # MaskedImage pixels are float32; SAT pixels (65000) must be ignored
        source = MaskedImage.from_arrays(data, mask)
        data = source.image.array
        good = np.isfinite(data) & ((mask & 0b10) == 0)
    else:  # float64 array: no mask, the NaNs and infinities alone are ignored
        source = data
        good = np.isfinite(data)
    stats = make_statistics(source, EVERYTHING)
    ref = reference_statistics(data[good])
    assert stats.npoint == good.sum() > 30000
    for prop, expected in ref.items():
        assert_allclose(stats.value(prop), expected, rtol=1e-10, err_msg=prop.name)
    assert stats.clip_iterations >= 2  # the outliers really were clipped


def test_plain_array_and_image_agree(scene):
    data, _, _ = scene
    finite = data[np.isfinite(data)]
    a = make_statistics(data, P.MEAN | P.MEDIAN | P.STDEV)
    b = make_statistics(Image.from_array(data, xy0=(5, 7)), P.MEAN | P.MEDIAN | P.STDEV)
    assert a.values == b.values
    assert_allclose([a.mean, a.median, a.stdev], [finite.mean(), np.median(finite), finite.std(ddof=1)], rtol=1e-10)


@pytest.mark.parametrize("n_iter", [1, 3, 5])
def test_clipped_matches_astropy(n_iter):
    """astropy clips around the median with the population std (cenfunc='median', stdfunc='std',
    maxiters); std_ddof=1 gives the sample deviation of the survivors that STDEVCLIP reports."""
    from astropy.stats import sigma_clipped_stats

    rng = np.random.default_rng(7 + n_iter)
    data = rng.normal(250.0, 4.0, (400, 500))
    out = rng.random(data.shape) < 0.05
    data[out] += rng.uniform(10.0, 2000.0, out.sum()) * rng.choice([-0.05, 1.0], out.sum())
    mean, median, std = sigma_clipped_stats(
        data, sigma=3.0, maxiters=n_iter, cenfunc="median", stdfunc="std", std_ddof=1
    )
    stats = make_statistics(data, P.MEANCLIP | P.STDEVCLIP, control=StatisticsControl(n_sigma=3.0, n_iter=n_iter))
    assert_allclose(stats.meanclip, mean, rtol=1e-6)
    assert_allclose(stats.stdevclip, std, rtol=1e-6)
    # The agreement is in fact to rounding, and clipping matters here: the plain mean is far off.
    assert_allclose([stats.meanclip, stats.stdevclip], [mean, std], rtol=1e-11)
    assert abs(make_statistics(data, P.MEAN).mean - mean) > 100 * stats.stdevclip / math.sqrt(data.size)
    assert median == pytest.approx(np.median(reference_clip(data, 3.0, n_iter)), rel=1e-15)


def test_clipped_with_mask_matches_astropy():
    from astropy.stats import sigma_clipped_stats

    rng = np.random.default_rng(99)
    data = rng.normal(0.0, 1.0, (300, 300)).astype(np.float32)
    data[rng.random(data.shape) < 0.05] = 40.0
    mask = np.zeros(data.shape, np.int32)
    mask[:, :50] = 1 << 4  # EDGE
    data[:, :50] = 1e6  # would dominate if the mask were ignored
    mean, _, std = sigma_clipped_stats(
        data.astype(np.float64), mask=mask != 0, sigma=2.5, maxiters=4, cenfunc="median", stdfunc="std", std_ddof=1
    )
    ctrl = StatisticsControl(n_sigma=2.5, n_iter=4)
    stats = make_statistics(MaskedImage.from_arrays(data, mask), P.MEANCLIP | P.STDEVCLIP, control=ctrl)
    assert_allclose([stats.meanclip, stats.stdevclip], [mean, std], rtol=1e-6)


def test_variance_weighted(scene):
    data, mask, variance = scene
    mi = MaskedImage.from_arrays(data, mask, variance)
    variance = mi.variance.array.astype(np.float64)  # the float32 weights the kernel sees
    variance[5, :] = 0.0  # zero variance: no usable weight, ignored
    variance[6, :] = np.nan
    mi.variance.array[:] = variance
    x = mi.image.array.astype(np.float64)
    good = np.isfinite(x) & ((mask & 0b10) == 0) & (variance > 0)
    xs, w = x[good], 1.0 / variance[good]
    flags = P.MEAN | P.STDEV | P.VARIANCE | P.MEANCLIP | P.ERRORS
    stats = make_statistics(mi, flags, control=StatisticsControl(weighted=True))
    mean = np.average(xs, weights=w)
    var = np.sum(w * (xs - mean) ** 2) / (w.sum() - np.sum(w**2) / w.sum())
    assert stats.npoint == good.sum()
    assert_allclose(stats.mean, mean, rtol=1e-10)
    assert_allclose(stats.value(P.VARIANCE), var, rtol=1e-10)
    assert_allclose(stats.error(P.MEAN), 1.0 / math.sqrt(w.sum()), rtol=1e-10)
    kept = reference_clip(xs, 3.0, 3)
    in_kept = np.isin(xs, kept)
    assert_allclose(stats.meanclip, np.average(xs[in_kept], weights=w[in_kept]), rtol=1e-10)
    assert_allclose(stats.error(P.MEANCLIP), 1.0 / math.sqrt(w[in_kept].sum()), rtol=1e-10)
    # Weighting changes the answer (so the test above can fail).
    assert abs(stats.mean - xs.mean()) > 1e-3


def test_errors_are_gaussian_approximations():
    rng = np.random.default_rng(3)
    x = rng.normal(10.0, 2.0, 10_001)
    flags = P.MEAN | P.STDEV | P.VARIANCE | P.MEDIAN | P.SUM | P.MEANCLIP | P.MIN | P.ERRORS
    s = make_statistics(x[None, :], flags)
    n, sd = x.size, x.std(ddof=1)
    assert_allclose(s.error(P.MEAN), sd / math.sqrt(n), rtol=1e-10)
    assert_allclose(s.error(P.MEDIAN), math.sqrt(math.pi / 2) * sd / math.sqrt(n), rtol=1e-10)
    assert_allclose(s.error(P.STDEV), sd / math.sqrt(2 * (n - 1)), rtol=1e-10)
    assert_allclose(s.error(P.VARIANCE), sd**2 * math.sqrt(2 / (n - 1)), rtol=1e-10)
    assert_allclose(s.error(P.SUM), sd * math.sqrt(n), rtol=1e-10)
    assert math.isnan(s.error(P.MIN))
    with pytest.raises(AfwKeyError, match="ERRORS"):
        make_statistics(x[None, :], P.MEAN).error(P.MEAN)
    with pytest.raises(AfwKeyError, match="MEDIAN"):
        make_statistics(x[None, :], P.MEAN).value(P.MEDIAN)


@pytest.mark.parametrize(
    "values",
    [
        np.arange(1.0, 2.0),  # one value
        np.array([3.0, 1.0]),
        np.full(10_000, 7.25),  # all equal
        np.repeat(np.arange(4.0), 5_001),  # heavy ties across the selection buckets
        np.concatenate([np.random.default_rng(1).normal(0, 1, 50_000), [1e30, -1e30, 3e29]]),  # extreme range
        np.random.default_rng(2).standard_cauchy(123_457),
        np.concatenate([np.zeros(30_000), np.ones(30_001) * 1e-300]),  # tiny separations
    ],
    ids=["one", "two", "constant", "ties", "extreme", "cauchy", "denormal-ish"],
)
def test_order_statistics_exact(values):
    """Histogram selection must give numpy's exact order statistics whatever the distribution."""
    s = make_statistics(values[None, :], P.MEDIAN | P.IQRANGE | P.MIN | P.MAX | P.MADSIGMA)
    assert s.median == np.median(values)
    q25, q75 = np.percentile(values, [25, 75])
    assert_allclose(s.value(P.IQRANGE), q75 - q25, rtol=1e-14, atol=0)
    med = np.median(values)
    assert_allclose(s.value(P.MADSIGMA), 1.482602218505602 * np.median(np.abs(values - med)), rtol=1e-14)
    assert (s.value(P.MIN), s.value(P.MAX)) == (values.min(), values.max())
    f32 = values.astype(np.float32)
    if np.isfinite(f32).all():
        assert make_statistics(f32[None, :], P.MEDIAN).median == np.median(f32.astype(np.float64))


def _clip_cases():
    """Distributions that steer the one-pass clipping path (a core and a median band planned
    from a sample) into each of its exact fallbacks: misleading samples, tiny or constant
    inputs, heavy tails, ties, clipping so tight that the bounds cut into the core."""
    rng = np.random.default_rng(31)
    sky = rng.normal(100.0, 5.0, 60_000)
    hot = rng.random(sky.size) < 0.08
    sky[hot] += 50.0 + rng.exponential(400.0, hot.sum())
    bimodal = np.concatenate([rng.normal(0.0, 1.0, 30_001), rng.normal(50.0, 1.0, 29_999)])
    rng.shuffle(bimodal)
    skewed = rng.lognormal(0.0, 1.5, 50_000)
    return {
        "one": (np.array([3.5]), 3.0, 3),
        "two": (np.array([1.0, 2.0]), 3.0, 3),
        "five": (np.array([5.0, 1.0, 4.0, 2.0, 100.0]), 1.5, 5),
        "constant": (np.full(5_000, 7.25), 3.0, 3),
        "ties": (rng.integers(0, 6, 40_000).astype(float), 2.0, 4),
        "sky": (sky, 3.0, 3),
        "sky-tight": (sky, 0.7, 6),  # bounds inside the core: exact passes over the region
        "bimodal": (bimodal, 1.0, 5),  # the sample median may sit in either mode
        "skewed": (skewed, 2.5, 10),  # the median drifts far from the first band
        "cauchy": (rng.standard_cauchy(70_001), 3.0, 5),
        "extreme": (np.concatenate([rng.normal(0, 1, 9_000), [1e30, -1e30, 3e29]]), 3.0, 3),
    }


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", sorted(_clip_cases()))
def test_clipping_and_median_exact_on_hard_inputs(case, dtype):
    """MEANCLIP, STDEVCLIP, NCLIP and MEDIAN equal the numpy reference whatever the data do to
    the sample-planned fast path (its fallbacks are exact passes)."""
    values, n_sigma, n_iter = _clip_cases()[case]
    values = values.astype(dtype)
    x64 = values.astype(np.float64)
    for shape in [(1, values.size), (values.size, 1)] + ([(values.size // 100, 100)] if values.size % 100 == 0 else []):
        s = make_statistics(
            values.reshape(shape),
            P.MEANCLIP | P.STDEVCLIP | P.NCLIP | P.MEDIAN | P.MEAN | P.MIN | P.MAX | P.SUM,
            control=StatisticsControl(n_sigma=n_sigma, n_iter=n_iter),
        )
        kept = reference_clip(x64, n_sigma, n_iter)
        assert s.median == np.median(x64)
        assert s.value(P.NCLIP) == kept.size
        assert (s.value(P.MIN), s.value(P.MAX)) == (x64.min(), x64.max())
        scale = np.abs(kept).max()  # rounding of sums about a central value scales with the data
        assert_allclose(s.meanclip, kept.mean(), rtol=1e-12, atol=1e-13 * scale)
        if kept.size > 1:
            assert_allclose(s.stdevclip, kept.std(ddof=1), rtol=1e-9, atol=1e-13 * scale)
        if np.isfinite(x64.sum()):
            assert_allclose(s.mean, x64.mean(), rtol=1e-12, atol=1e-13 * np.abs(x64).max())


def test_median_exact_random_shapes():
    """The band median (bucket counts, then a selection in one bucket) is numpy's exact median
    for many sizes, parities, dtypes, NaN fractions and masks."""
    rng = np.random.default_rng(8)
    for trial in range(40):
        ny, nx = rng.integers(1, 90, 2)
        data = rng.normal(rng.uniform(-1e3, 1e3), rng.uniform(1e-3, 1e3), (ny, nx))
        if trial % 3 == 0:
            data = np.round(data, 1)  # ties
        data[rng.random(data.shape) < 0.05] = np.nan
        mask = np.where(rng.random(data.shape) < 0.1, 1 << 1, 0).astype(np.int32)
        dtype = np.float32 if trial % 2 else np.float64
        data = data.astype(dtype)
        good = np.isfinite(data)
        s = make_statistics(data, P.MEDIAN | P.MEANCLIP)
        assert s.median == np.median(data[good].astype(np.float64)) or good.sum() == 0
        mi = MaskedImage.from_arrays(data.astype(np.float32), mask)
        good &= mask == 0
        s = make_statistics(mi, P.MEDIAN | P.MEANCLIP | P.NCLIP)
        if good.sum():
            ref = data.astype(np.float32)[good].astype(np.float64)
            assert s.median == np.median(ref)
            assert s.value(P.NCLIP) == reference_clip(ref, 3.0, 3).size


def test_bbox_and_views(scene):
    data, mask, _ = scene
    mi = MaskedImage.from_arrays(data, mask, xy0=(100, 200))
    box = Box2I.from_begin_end(130, 210, 260, 333)
    whole = make_statistics(mi, EVERYTHING, bbox=box)
    cut = make_statistics(mi[box].clone(), EVERYTHING)
    assert whole.values == cut.values
    strided = data.astype(np.float32)[::2, ::3]  # non-adjacent columns: copied, same answer
    assert make_statistics(strided, EVERYTHING).values == make_statistics(strided.copy(), EVERYTHING).values
    big_endian = data.astype(">f8")
    assert make_statistics(big_endian, EVERYTHING).values == make_statistics(data, EVERYTHING).values
    ints = np.arange(12, dtype=np.uint16).reshape(3, 4)
    assert make_statistics(ints, P.MEAN | P.MEDIAN).values == {P.MEAN: 5.5, P.MEDIAN: 5.5}
    with pytest.raises(BoxOutsideImageError, match="not contained"):
        make_statistics(mi, P.MEAN, bbox=Box2I.from_begin_end(0, 0, 10, 10))


def test_mask_planes_selection(scene):
    data, mask, _ = scene
    mi = MaskedImage.from_arrays(data, mask)
    with_detected = make_statistics(mi, P.NPOINT, control=StatisticsControl(bad_mask_planes=("SAT", "DETECTED")))
    finite = np.isfinite(data)
    assert with_detected.npoint == (finite & ((mask & 0b100010) == 0)).sum()
    assert make_statistics(mi, P.NPOINT, control=StatisticsControl(bad_mask_planes=())).npoint == finite.sum()
    with pytest.raises(AfwKeyError, match="NOT_A_PLANE"):
        make_statistics(mi, P.MEAN, control=StatisticsControl(bad_mask_planes=("NOT_A_PLANE",)))
    with pytest.raises(AfwValueError, match="no mask"):
        make_statistics(data, P.MEAN, control=StatisticsControl(bad_mask_planes=("SAT",)))


def test_empty_and_validation():
    empty = make_statistics(np.full((3, 3), np.nan), P.MEAN | P.MEDIAN | P.MEANCLIP | P.SUM | P.NPOINT)
    assert empty.npoint == 0 and empty.value(P.SUM) == 0.0
    assert all(math.isnan(empty.value(p)) for p in (P.MEAN, P.MEDIAN, P.MEANCLIP))
    one = make_statistics(np.array([[4.0]]), P.MEAN | P.STDEV | P.MEDIAN)
    assert one.mean == one.median == 4.0 and math.isnan(one.stdev)
    with pytest.raises(AfwValueError, match="request nothing"):
        make_statistics(np.ones((2, 2)), Property.ERRORS)
    with pytest.raises(AfwValueError, match="variance"):
        make_statistics(np.ones((2, 2)), P.MEAN, control=StatisticsControl(weighted=True))
    with pytest.raises(AfwValueError, match="n_sigma"):
        StatisticsControl(n_sigma=0.0)
    with pytest.raises(AfwValueError, match="n_iter"):
        StatisticsControl(n_iter=-1)
    with pytest.raises(AfwValueError, match="2-D"):
        make_statistics(np.ones(5), P.MEAN)
    with pytest.raises(TypeError):  # the binding refuses float16: the wrapper converts
        _afw.statistics_compute(np.ones((2, 2), np.float16), None, None, 0, 1, 3.0, 3, np.empty(16))


def test_threads_identical(scene):
    data, mask, _ = scene
    mi = MaskedImage.from_arrays(data, mask)
    boxes = [Box2I.from_begin_end(0, y, 211, y + 40) for y in range(0, 133, 19)]
    serial = [make_statistics(mi, EVERYTHING, bbox=b).values for b in boxes]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda b: make_statistics(mi, EVERYTHING, bbox=b).values, boxes))
    assert parallel == serial
    assert_array_equal([s[P.NPOINT] for s in serial], [s[P.NPOINT] for s in parallel])
