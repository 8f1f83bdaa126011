"""Each ISR step removes exactly what IsrMockLSST put in, to within the noise."""

import numpy as np
import pytest
from scipy.special import erf

from osprey.ip.isr import (
    IsrConfig,
    IsrMockLSST,
    IsrValueError,
    Linearizer,
    apply_gains,
    assemble,
    crosstalk_correct,
    mask_saturation,
    overscan_correct,
    parallel_overscan_correct,
    run_isr,
)

QUIET = dict(
    add_noise=False,
    n_stars=0,
    do_flat=False,
    do_dark=False,
    do_defects=False,
    do_nonlinearity=False,
    do_crosstalk=False,
    do_bias=False,
)
ALL_OFF = dict(
    do_saturation=False,
    do_overscan=False,
    do_apply_gains=False,
    do_crosstalk=False,
    do_parallel_overscan=False,
    do_linearize=False,
    do_bias=False,
    do_variance=False,
    do_dark=False,
    do_defect=False,
    do_flat=False,
    do_interpolate=False,
)


def _amp_data(exposure, amp):
    ox, oy = amp.raw_xy_offset.x, amp.raw_xy_offset.y
    d = amp.raw_data_bbox
    return exposure.image.array[oy + d.y0 : oy + d.y_end, ox + d.x0 : ox + d.x_end]


@pytest.mark.parametrize(("statistic", "fit"), [("MEANCLIP", "POLY"), ("MEDIAN", "SPLINE"), ("MEAN", "POLY")])
def test_serial_overscan_leaves_zero_within_read_noise(statistic, fit):
    m = IsrMockLSST(**{**QUIET, "add_noise": True, "sky": 0.0}).run()
    exp = m.raw.clone()
    res = overscan_correct(exp, statistic=statistic, fit=fit)
    for amp in m.detector:
        rn_adu = amp.read_noise / amp.gain
        n_rows = amp.raw_bbox.height
        data = _amp_data(exp, amp)
        # The residual level of the data region is consistent with zero within read_noise/sqrt(N_rows).
        assert abs(data.mean()) < rn_adu / np.sqrt(n_rows), (amp.name, data.mean())
        # The smooth fit follows the injected per-row drift to better than one row's overscan noise.
        err = res[amp.name].fitted - m.truth.overscan_rows[amp.name]
        assert np.sqrt(np.mean(err**2)) < rn_adu / np.sqrt(amp.raw_serial_overscan_bbox.width)


def test_parallel_overscan_removes_column_residuals():
    m = IsrMockLSST(**{**QUIET, "add_noise": True, "sky": 0.0}).run()
    exp = m.raw.clone()
    overscan_correct(exp)
    pres = parallel_overscan_correct(exp)
    for amp in m.detector:
        rn_adu = amp.read_noise / amp.gain
        assert np.abs(pres[amp.name].fitted).max() < 3 * rn_adu / np.sqrt(amp.raw_parallel_overscan_bbox.height)
        # The parallel overscan rows sit at the end of the serial fit's range, where a polynomial is
        # least constrained, so allow 3x the serial-only tolerance.
        assert abs(_amp_data(exp, amp).mean()) < 3 * rn_adu / np.sqrt(amp.raw_bbox.height)


def test_saturation_and_suspect_masks():
    m = IsrMockLSST(**{**QUIET, "stars": [(40.0, 60.0, 2.0e7)]}).run()
    exp = m.raw.clone()
    counts = mask_saturation(exp, grow_radius=0)
    sat = exp.mask.select(["SAT"])
    amp = m.detector["C00"]
    assert counts["C00"] > 0 and sum(counts.values()) == counts["C00"]
    np.testing.assert_array_equal(sat, exp.image.array >= amp.saturation)
    grown = m.raw.clone()
    mask_saturation(grown, grow_radius=2)
    assert grown.mask.select(["SAT"]).sum() > sat.sum()
    # A star whose peak lands between the suspect and saturation levels: SUSPECT only.
    peak_fraction = erf(0.5 / (np.sqrt(2) * 1.5)) ** 2  # centred pixel of a sigma = 1.5 px Gaussian
    flux = (55000.0 - 1100.0) * amp.gain / peak_fraction
    m2 = IsrMockLSST(**{**QUIET, "stars": [(40.0, 60.0, flux)]}).run()
    exp2 = m2.raw.clone()
    counts2 = mask_saturation(exp2)
    suspect = exp2.mask.select(["SUSPECT"])
    assert sum(counts2.values()) == 0 and suspect.any()
    np.testing.assert_array_equal(suspect, exp2.image.array >= amp.suspect_level)


def test_gain_recovers_electrons():
    m = IsrMockLSST(**{**QUIET, "stars": [(100.0, 70.0, 1e6)]}).run()
    exp = m.raw.clone()
    overscan_correct(exp, fit="POLY")
    apply_gains(exp)
    assert exp.image.units == "electron"
    post = assemble(exp)
    np.testing.assert_allclose(post.image.array, m.truth.electrons, rtol=1e-5, atol=0.02)
    with pytest.raises(IsrValueError, match="already in electrons"):
        apply_gains(exp)


def test_crosstalk_residual_below_one_percent():
    star = [(20.0, 64.0, 7.0e5)]  # bright (unsaturated) star in amp C00 only
    with_xt = IsrMockLSST(**{**QUIET, "do_crosstalk": True, "stars": star}).run()
    without = IsrMockLSST(**{**QUIET, "do_crosstalk": False, "stars": star}).run()
    cfg = IsrConfig(**{**ALL_OFF, "do_overscan": True, "do_apply_gains": True})
    ref = run_isr(without.raw, without.calibs, cfg).post_isr_image.image.array
    uncorrected = run_isr(with_xt.raw, with_xt.calibs, cfg).post_isr_image.image.array
    corrected = run_isr(with_xt.raw, with_xt.calibs, cfg.model_copy(update={"do_crosstalk": True})).post_isr_image
    det = with_xt.detector
    victims = [a for a in det if a.name != "C00"]
    for amp in victims:
        sl = amp.bbox.slices_in(det.bbox)
        injected = np.abs(uncorrected[sl] - ref[sl]).max()
        residual = np.abs(corrected.image.array[sl] - ref[sl]).max()
        assert residual < 0.01 * injected, (amp.name, residual, injected)
    # The neighbour's ghost is ~1e-3 of the star: big enough for the 1% test to mean something.
    c01 = det["C01"].bbox.slices_in(det.bbox)
    assert np.abs(uncorrected[c01] - ref[c01]).max() > 20.0
    # Assembled-frame application (sources flipped into each victim's readout order) agrees.
    cfg_asm = IsrConfig(**{**ALL_OFF, "do_overscan": True, "do_apply_gains": True})
    asm = run_isr(with_xt.raw, with_xt.calibs, cfg_asm).post_isr_image
    crosstalk_correct(asm, with_xt.calibs.crosstalk)
    np.testing.assert_allclose(asm.image.array, corrected.image.array, atol=0.05)


def test_crosstalk_needs_electrons_for_electron_coefficients():
    m = IsrMockLSST(**QUIET).run()
    with pytest.raises(IsrValueError, match="apply the gains first"):
        crosstalk_correct(m.raw.clone(), m.calibs.crosstalk)


def test_linearity_inverts_forward_model():
    lin = Linearizer({"A": ("POLYNOMIAL", (-1.2e-6, 3e-12))})
    x = np.linspace(0, 60000, 2001)
    m = lin.distort("A", x)
    assert np.max(np.abs(m - x)[1:] / x[1:]) > 0.05  # a strong non-linearity...
    np.testing.assert_allclose(lin.correct("A", m), x, rtol=1e-9, atol=1e-6)  # ...removed exactly
    spline = Linearizer.spline_from_polynomial(lin, maximum=60000.0, n_nodes=40)
    rel = np.abs(spline.correct("A", m)[1:] - x[1:]) / x[1:]
    assert rel[x[1:] > 100].max() < 1e-3  # lookup/spline form: < 0.1%
    np.testing.assert_allclose(spline.distort("A", x), m, rtol=1e-3)


def test_linearity_through_isr_recovers_star_flux():
    star = [(150.0, 200.0, 5.0e5)]  # peak ~3.4e4 e: non-linear, unsaturated
    m = IsrMockLSST(**{**QUIET, "do_nonlinearity": True, "stars": star, "sky": 0.0}).run()
    base = {**ALL_OFF, "do_overscan": True, "do_apply_gains": True}
    raw = run_isr(m.raw, m.calibs, IsrConfig(**base)).post_isr_image.image.array
    lin = run_isr(m.raw, m.calibs, IsrConfig(**{**base, "do_linearize": True})).post_isr_image.image.array
    truth = m.truth.electrons
    box = (slice(185, 216), slice(135, 166))
    assert abs(raw[box].sum() / truth[box].sum() - 1) > 0.005
    assert abs(lin[box].sum() / truth[box].sum() - 1) < 1e-3
    peak = np.unravel_index(np.argmax(truth), truth.shape)
    assert abs(lin[peak] / truth[peak] - 1) < 1e-3


def _noiseless_full():
    return IsrMockLSST(add_noise=False, do_defects=False).run()


def test_bias_dark_flat_each_remove_what_was_put_in():
    m = _noiseless_full()
    truth = m.truth
    cfg = IsrConfig(do_interpolate=False)
    full = run_isr(m.raw, m.calibs, cfg).post_isr_image.image.array
    assert np.abs(full - truth.electrons).max() < 0.05 * 1000 / 1000 + 0.5  # < 0.55 e everywhere
    no_bias = run_isr(m.raw, m.calibs, cfg.model_copy(update={"do_bias": False})).post_isr_image.image.array
    np.testing.assert_allclose(no_bias - full, truth.bias / truth.flat, atol=0.05)
    no_dark = run_isr(m.raw, m.calibs, cfg.model_copy(update={"do_dark": False})).post_isr_image.image.array
    np.testing.assert_allclose(no_dark - full, truth.dark_rate * 31.0 / truth.flat, atol=0.05)
    no_flat = run_isr(m.raw, m.calibs, cfg.model_copy(update={"do_flat": False})).post_isr_image.image.array
    np.testing.assert_allclose(no_flat, truth.electrons * truth.flat, rtol=2e-4, atol=0.5)


def test_defects_masked_exactly_and_interpolated_within_noise():
    m = IsrMockLSST(n_stars=4).run()
    post = run_isr(m.raw, m.calibs, IsrConfig()).post_isr_image
    bad = post.mask.select(["BAD"])
    np.testing.assert_array_equal(bad, m.truth.defect_mask)
    assert (post.mask.select(["INTRP"]) >= bad).all()
    z = (post.image.array - m.truth.electrons)[bad] / np.sqrt(post.variance.array[bad])
    # Linear interpolation between two noisy neighbours: scatter ~ 1/sqrt(2) of a pixel's noise.
    assert np.sqrt(np.mean(z**2)) < 1.0, np.sqrt(np.mean(z**2))
    assert np.abs(z).max() < 5.0


def test_missing_calibration_is_named():
    m = IsrMockLSST(**QUIET).run()
    with pytest.raises(IsrValueError, match="do_bias=True needs calibs.bias"):
        run_isr(m.raw, None, IsrConfig(do_crosstalk=False, do_linearize=False))
