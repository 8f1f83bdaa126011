"""The C++ kernels (osprey.ip.isr._isr) match their numpy references to float precision."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from osprey.afw.image import MaskedImage
from osprey.ip.isr import (
    IsrMockLSST,
    Linearizer,
    _isr,
    apply_calibs,
    assemble,
    clipped_mean_stack,
    combine_exposures,
    crosstalk_correct,
    interpolate_masked,
    linearity_correct,
    new_exposure,
)
from osprey.ip.isr import combine as C
from osprey.ip.isr import steps as S


@pytest.fixture(scope="module")
def mock():
    return IsrMockLSST(seed=7, n_stars=30).run()


def _exposure(rng, shape=(37, 53)):
    mi = MaskedImage.from_arrays(
        rng.normal(100.0, 10.0, shape).astype(np.float32),
        variance=rng.uniform(1.0, 5.0, shape).astype(np.float32),
        units="electron",
    )
    return new_exposure(mi)


@pytest.mark.parametrize("statistic", ["MEDIAN", "MEAN", "MEANCLIP"])
@pytest.mark.parametrize("transpose", [False, True])
def test_line_levels_match_numpy(statistic, transpose):
    rng = np.random.default_rng(3)
    block = rng.normal(1000.0, 5.0, (200, 49)).astype(np.float32)
    block[rng.random(block.shape) < 0.02] += 500.0  # cosmic rays / hot pixels to clip
    block[::7, :] = np.round(block[::7, :])  # ties for the median
    view = block.T if transpose else block
    ours = S._line_levels(view[:, 1:] if not transpose else view[1:, :], statistic, 3.0, 3)
    ref = S._line_levels_numpy((view[:, 1:] if not transpose else view[1:, :]).astype(np.float64), statistic, 3.0, 3)
    assert_allclose(ours, ref, rtol=1e-12, atol=1e-9)


def test_line_levels_even_and_nan_rows():
    values = np.array([[1, 2, 3, 4], [np.nan, 1, 5, 9], [np.nan] * 4], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy on the all-NaN row
        ref = S._line_levels_numpy(values.astype(np.float64), "MEANCLIP", 3.0, 3)
    with np.errstate(all="ignore"):
        assert_allclose(S._line_levels(values, "MEANCLIP", 3.0, 3), ref, equal_nan=True)
    assert_allclose(S._line_levels(values[:1], "MEDIAN", 3.0, 3), [2.5])


def test_interpolate_matches_numpy_both_axes():
    rng = np.random.default_rng(5)
    for axis in ("rows", "columns"):
        a = _exposure(rng)
        bad = rng.random(a.image.array.shape) < 0.15
        bad[:, 10:13] = True  # bad columns
        bad[20, :] = True  # a fully bad row (no good pixel along rows: fallback + NO_DATA)
        bad[:, 0] = True  # edge: one good side only
        a.mask.set("BAD", where=bad)
        b = new_exposure(a.masked_image.clone())
        n_ours = interpolate_masked(a, ("BAD",), axis=axis, fallback=-1.0)
        n_ref = S._interpolate_masked_numpy(b, ("BAD",), axis=axis, fallback=-1.0)
        assert n_ours == n_ref == bad.sum()
        assert_allclose(a.image.array, b.image.array, rtol=1e-6, atol=1e-4, equal_nan=True)
        assert_allclose(a.variance.array, b.variance.array, rtol=1e-6, equal_nan=True)
        assert_array_equal(a.mask.array, b.mask.array)


def test_apply_calibs_matches_numpy_steps():
    rng = np.random.default_rng(11)
    exp, bias, dark, flat = (_exposure(rng) for _ in range(4))
    flat.image.array[:] = rng.uniform(0.8, 1.2, flat.image.array.shape)
    flat.image.array[3, 4] = 0.0
    flat.image.array[5, 6] = np.nan
    bias.mask.set("SAT", where=bias.image.array > 115)
    ref = new_exposure(exp.masked_image.clone())
    out = apply_calibs(exp, bias=bias, dark=dark, flat=flat, dark_time=30.0)
    S._bias_correct_numpy(ref, bias)
    S._dark_correct_numpy(ref, dark, out["dark_scale"])
    norm = float(np.median(flat.image.array[np.isfinite(flat.image.array) & (flat.image.array > 0)]))
    assert out["flat_median"] == norm
    S._flat_correct_numpy(ref, flat, norm)
    assert_array_equal(exp.image.array, ref.image.array)  # same float32/float64 steps: bit for bit
    assert_allclose(exp.variance.array, ref.variance.array, rtol=1e-6, equal_nan=True)
    assert_array_equal(exp.mask.array, ref.mask.array)


def test_linearity_polynomial_matches_numpy():
    rng = np.random.default_rng(2)
    exp = _exposure(rng)
    exp.image.array[:] = rng.uniform(0, 1.2e5, exp.image.array.shape)
    lin = Linearizer({"A": ("POLYNOMIAL", (-3e-7, 1e-12))})
    want = lin.correct("A", exp.image.array).astype(np.float32)
    _isr.linearize_polynomial(exp.image.array, [-3e-7, 1e-12])
    assert_allclose(exp.image.array, want, rtol=2e-7)


def test_linearity_and_crosstalk_steps_match_numpy(mock):
    det = mock.detector
    a, b = mock.raw.clone(), mock.raw.clone()
    a.image.units = b.image.units = "electron"  # the kernel does not care; the step checks units
    linearity_correct(a, mock.calibs.linearizer, det)
    for amp in det:
        sl = S._amp_slices(b, amp, True)
        b.image.array[sl] = mock.calibs.linearizer.correct(amp.name, b.image.array[sl]).astype(np.float32)
    assert_allclose(a.image.array, b.image.array, rtol=2e-7, atol=1e-3)
    for frame in ("raw", "assembled"):  # assembled: flipped (negative-stride) readout views
        x, y = (a.clone(), a.clone()) if frame == "raw" else (assemble(a, det), assemble(a, det))
        x.image.units = y.image.units = "electron"
        sig = crosstalk_correct(x, mock.calibs.crosstalk, det)
        coeffs, sqr = S._crosstalk_matrix(mock.calibs.crosstalk, det)
        ref = S._crosstalk_correct_numpy(S._crosstalk_views(y, det), coeffs, sqr, 3)
        assert_allclose(sig, ref, rtol=1e-9, atol=1e-9)
        assert_allclose(x.image.array, y.image.array, rtol=1e-6, atol=1e-3)
        assert crosstalk_correct(x, mock.calibs.crosstalk, det, return_signal=False) is None


@pytest.mark.parametrize("n", [1, 2, 3, 6, 11])
def test_combine_matches_clipped_mean_stack(n):
    rng = np.random.default_rng(n)
    shape = (23, 31)
    frames = [rng.normal(0.0, 6.0, shape).astype(np.float32) for _ in range(n)]
    frames[0][2, 3] = 500.0  # an outlier to clip
    exps = [new_exposure(MaskedImage.from_arrays(f, units="electron")) for f in frames]
    if n > 2:
        exps[1].mask.set("SAT", where=rng.random(shape) < 0.3)
        exps[2].mask.set("SAT", where=np.ones(shape, bool))
    inv = (1.0 / rng.uniform(0.5, 2.0, n)).astype(np.float32)
    bits = [C._plane_bits(e, ("SAT", "NO_DATA")) for e in exps]
    for n_iter in (0, 1, 3):
        ours = C._combine_native(exps, inv, bits, 3.0, n_iter, 8)
        ref = C._combine_numpy(exps, inv, bits, 3.0, n_iter, 8)
        with np.errstate(all="ignore"):
            assert_allclose(ours[0], ref[0], rtol=1e-6, atol=1e-5, equal_nan=True)
            assert_allclose(ours[1], ref[1], rtol=1e-5, atol=1e-6, equal_nan=True)
        assert_array_equal(ours[2], ref[2])


def test_combine_reference_is_clipped_mean_stack():
    rng = np.random.default_rng(9)
    stack = rng.normal(0.0, 1.0, (7, 5, 4)).astype(np.float32)
    exps = [new_exposure(MaskedImage.from_arrays(f, units="electron")) for f in stack]
    mean, std, kept = clipped_mean_stack(stack, None, 3.0, 2)
    out = combine_exposures(exps, n_sigma=3.0, n_iter=2)
    assert_allclose(out.image.array, mean, rtol=1e-6, atol=1e-6)
    assert_allclose(out.variance.array, std * std / kept, rtol=1e-5)


def test_kernels_validate_shapes_and_dtypes():
    img = np.zeros((4, 5), np.float32)
    with pytest.raises(ValueError, match=r"variance must have shape \(4, 5\)"):
        _isr.interpolate_masked(img, np.zeros((4, 4), np.float32), np.zeros((4, 5), np.int32), 1, 2, 4, False, 0.0)
    with pytest.raises(TypeError):  # no silent float64 copy of an array updated in place
        _isr.linearize_polynomial(np.zeros((4, 5)), [1e-7])
    with pytest.raises(ValueError, match="out must have shape"):
        _isr.line_levels(img, 0, 3.0, 3, np.zeros(3))


def test_threads_give_identical_results():
    rng = np.random.default_rng(4)
    frames = [rng.normal(0.0, 6.0, (64, 80)).astype(np.float32) for _ in range(9)]
    exps = [new_exposure(MaskedImage.from_arrays(f, units="electron")) for f in frames]
    want = combine_exposures(exps).image.array
    with ThreadPoolExecutor(4) as pool:
        for got in pool.map(lambda _: combine_exposures(exps).image.array, range(8)):
            assert_array_equal(got, want)


@pytest.mark.parametrize("size", [1, 2, 7, 1000, 1001, 40000])
def test_positive_median_is_numpy_median_exactly(size):
    rng = np.random.default_rng(size)
    f = rng.normal(1.0, 0.3, size).astype(np.float32)
    f[rng.random(size) < 0.1] = np.nan
    f[0] = 2.0
    good = np.isfinite(f) & (f > 0)
    med, n = _isr.positive_median(f.reshape(1, -1))
    assert n == good.sum()
    assert med == np.median(f[good].astype(np.float64))
    assert _isr.positive_median(np.full((2, 2), -1.0, np.float32))[1] == 0


def test_brighter_fatter_matches_fft_reference():
    from osprey.ip.isr.brighter_fatter import _brighter_fatter_correct_numpy, brighter_fatter_correct

    m = IsrMockLSST(seed=3, do_brighter_fatter=True, n_stars=40).run()
    kernel = m.calibs.bf_kernel.kernel
    exp = assemble(m.raw, m.detector)
    exp.image.array[:] = np.abs(exp.image.array) * 20.0  # bright, so the correction matters
    exp.image.array[5, 7] = np.nan  # NaNs count as 0 and stay NaN
    exp.image.units = "electron"
    ref = new_exposure(exp.masked_image.clone())
    n, change = brighter_fatter_correct(exp, kernel, max_iter=4, threshold=0.0)
    n_ref, change_ref = _brighter_fatter_correct_numpy(ref, kernel, max_iter=4, threshold=0.0)
    assert n == n_ref == 4
    assert change == pytest.approx(change_ref, rel=1e-6, abs=1e-9)
    assert np.isnan(exp.image.array[5, 7])
    assert_allclose(exp.image.array, ref.image.array, rtol=1e-6, atol=1e-3, equal_nan=True)


@pytest.mark.parametrize("statistic", ["MEDIAN", "MEANCLIP"])
def test_overscan_assemble_equals_the_step_sequence(mock, statistic):
    from osprey.ip.isr import apply_gains, overscan_assemble, overscan_correct

    raw = mock.raw
    before = raw.image.array.copy()
    fused, res = overscan_assemble(raw, statistic=statistic, fit="POLY", leading_columns=2)
    assert_array_equal(raw.image.array, before)  # the input is left alone
    exp = raw.clone()
    ref_res = overscan_correct(exp, statistic=statistic, fit="POLY", leading_columns=2)
    apply_gains(exp)
    ref = assemble(exp)
    assert fused.image.units == ref.image.units == "electron"
    assert_array_equal(fused.image.array, ref.image.array)
    assert_array_equal(fused.variance.array, ref.variance.array)
    assert_array_equal(fused.mask.array, ref.mask.array)
    for name, r in res.items():
        assert_array_equal(r.fitted, ref_res[name].fitted)
