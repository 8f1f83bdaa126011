"""Amp offsets, brighter-fatter, the full run_isr against truth, and the real LSSTCam calibrations."""

import numpy as np
import pytest

from osprey.ip.isr import (
    CrosstalkCalib,
    Defects,
    IsrConfig,
    IsrMockLSST,
    IsrPipeline,
    amp_offset_correct,
    bf_kernel_from_a_matrix,
    find_amp_interfaces,
    run_isr,
)
from osprey.ip.isr.mock import _a_matrix

MASKED = ["BAD", "SAT", "SUSPECT", "INTRP", "NO_DATA"]


def test_full_run_isr_reproduces_truth_chi2():
    m = IsrMockLSST().run()
    result = IsrPipeline().run(m.raw, m.calibs)
    post = result.post_isr_image
    assert post.bbox == m.detector.bbox and post.image.units == "electron"
    good = ~post.mask.select(MASKED)
    chi2 = ((post.image.array - m.truth.electrons) ** 2 / post.variance.array)[good]
    n = chi2.size
    assert n > 0.98 * good.size
    # Mean chi^2 of n independent unit normals: 1 +- sqrt(2/n); allow 5 sigma.
    assert abs(chi2.mean() - 1.0) < 5 * np.sqrt(2.0 / n), chi2.mean()
    assert result.binned.image.array.shape == (256 // 8, 256 // 8)
    assert set(result.stats["amps"]) == {a.name for a in m.detector}
    for s in result.stats["amps"].values():
        assert s["meanclip"] == pytest.approx(1000.0, abs=3.0)


def test_amp_offsets_recovered_within_strip_noise():
    # Sky + read noise + overscan + gains + pedestals (sum zero); no sources.
    quiet = dict(
        n_stars=0,
        do_flat=False,
        do_dark=False,
        do_defects=False,
        do_nonlinearity=False,
        do_crosstalk=False,
        do_bias=False,
    )
    m = IsrMockLSST(do_amp_offsets=True, amp_offset_rms=10.0, **quiet).run()
    truth = m.truth.amp_pedestals
    assert abs(sum(truth.values())) < 1e-9
    cfg = IsrConfig(
        do_crosstalk=False,
        do_linearize=False,
        do_bias=False,
        do_dark=False,
        do_defect=False,
        do_flat=False,
        do_amp_offset=True,
    )
    result = run_isr(m.raw, m.calibs, cfg)
    ao = result.amp_offset
    det = m.detector
    # 2 x 4 amps: 6 vertical interfaces (length 128) + 4 horizontal ones (length 64).
    assert len(ao.interfaces) == 10 and len(find_amp_interfaces(det)) == 10
    assert sorted(i.length for i in ao.interfaces) == [64] * 4 + [128] * 6
    np.testing.assert_allclose(ao.amp_offset_matrix.sum(axis=1), 0.0, atol=1e-9)
    assert ao.amp_offset_matrix[0, 0] == 128 + 64  # corner amp: one long and one short side
    noise = np.sqrt(1000.0 + 36.0)
    tol = noise / np.sqrt(10 * 128)  # noise / sqrt(strip pixels) = 0.90 e
    err = np.array([ao.pedestals[n] - truth[n] for n in truth])
    assert abs(sum(ao.pedestals.values())) < 1e-6
    # Each pedestal's own statistical error is ~tol (one strip pair per interface, 2-3 interfaces),
    # so tol is a 1-sigma bound per amp: the RMS over the 8 amps must stay within 1.5 tol and
    # every amp within 4 of its propagated sigma.
    assert np.sqrt(np.mean(err**2)) < 1.5 * tol, (err, tol)
    for name, e in zip(truth, err, strict=True):
        assert abs(e) < 4 * ao.pedestal_errors[name], (name, e, ao.pedestal_errors[name])
    # Injected offsets have an RMS of 10 e: what is left is < 15% of that.
    assert np.sqrt(np.mean(err**2)) < 0.15 * 10.0
    # The corrected image has continuous background: a second pass finds nothing left.
    again = amp_offset_correct(result.post_isr_image.clone(), apply=False)
    assert max(abs(v) for v in again.pedestals.values()) < 0.1


def _moment_sigma(img, x, y, r=8):
    yy, xx = np.mgrid[0 : img.shape[0], 0 : img.shape[1]]
    sel = (xx - x) ** 2 + (yy - y) ** 2 <= r * r
    w = img[sel]
    return np.sqrt(0.5 * np.sum(w * ((xx[sel] - x) ** 2 + (yy[sel] - y) ** 2)) / np.sum(w))


def test_brighter_fatter_kernel_solves_poisson():
    a = _a_matrix(-2e-6)
    k = bf_kernel_from_a_matrix(a, size=33, pad=128)
    lap = k[:-2, 1:-1] + k[2:, 1:-1] + k[1:-1, :-2] + k[1:-1, 2:] - 4 * k[1:-1, 1:-1]
    c = 15  # lap index of lag (0, 0)
    np.testing.assert_allclose(lap[c : c + 6, c : c + 6], a, atol=2e-8)


def test_brighter_fatter_correction_restores_faint_star_shape():
    stars = [(64.0, 64.0, 2.0e4), (192.0, 192.0, 1.5e6)]  # faint and bright, same PSF
    common = dict(add_noise=False, n_stars=0, stars=stars, do_defects=False, sky=0.0, psf_sigma=2.0)
    m = IsrMockLSST(**common, do_brighter_fatter=True, bf_a00=-1.0e-5).run()
    base = IsrConfig(do_interpolate=False)
    plain = run_isr(m.raw, m.calibs, base).post_isr_image.image.array
    corrected = run_isr(
        m.raw, m.calibs, base.model_copy(update={"do_brighter_fatter": True})
    ).post_isr_image.image.array
    truth = m.truth.electrons
    faint = _moment_sigma(truth, 64, 64)
    bright_plain = _moment_sigma(plain, 192, 192)
    bright_corr = _moment_sigma(corrected, 192, 192)
    assert _moment_sigma(plain, 64, 64) == pytest.approx(faint, rel=1e-3)  # faint star: no BF
    assert bright_plain > faint * 1.01  # brighter is fatter...
    assert abs(bright_corr - faint) < 0.1 * (bright_plain - faint)  # ...and corrected back
    # The forward model pushed flux out into the wings; the correction brings it back.
    box = (slice(176, 209), slice(176, 209))
    assert plain[box].sum() < 0.999 * truth[box].sum()
    assert corrected[box].sum() == pytest.approx(truth[box].sum(), rel=1e-4)


def test_real_lsstcam_crosstalk_matrix(lsstcam_calibs):
    xt = CrosstalkCalib.from_ecsv(lsstcam_calibs / "crosstalk" / "r22_s11.ecsv")
    assert xt.coeffs.shape == (16, 16) and xt.coeffs_sqr.shape == (16, 16)
    assert xt.units == "electron"
    assert xt.metadata["DETECTOR"] == 94 and xt.metadata["DETECTOR_NAME"] == "R22_S11"
    assert xt.coeffs[0, 1] == 0.00023459230349434464
    assert xt.coeffs[1, 0] == 0.00020311693999043291
    assert xt.coeffs[15, 14] == pytest.approx(2.3876782714732725e-04, rel=1e-12)
    assert np.all(np.diag(xt.coeffs) == 0)
    assert xt.coeffs_sqr[0, 1] == pytest.approx(-3.72345647e-10, rel=1e-8)
    for name in ("r10_s02", "r22_s00", "r22_s22"):
        assert CrosstalkCalib.from_ecsv(lsstcam_calibs / "crosstalk" / f"{name}.ecsv").coeffs.shape == (16, 16)
    # Applied to a 16-amp noiseless mock then removed: residual at float precision of the signal.
    m = IsrMockLSST(add_noise=False, n_amp_x=8, do_crosstalk=False, do_defects=False, stars=[(30.0, 60.0, 5e5)]).run()
    cfg = IsrConfig(do_crosstalk=False, do_linearize=False, do_interpolate=False, do_parallel_overscan=False)
    clean = run_isr(m.raw, m.calibs, cfg).post_isr_image
    from osprey.ip.isr import crosstalk_correct, crosstalk_distort

    work = clean.clone()
    injected = crosstalk_distort(work, xt)
    crosstalk_correct(work, xt)
    resid = np.abs(work.image.array.astype(np.float64) - clean.image.array).max()
    assert np.abs(injected).max() > 1.0
    assert resid < 1e-6 * np.abs(clean.image.array).max() + 1e-3


def test_real_lsstcam_defects(lsstcam_calibs):
    d = Defects.from_ecsv(lsstcam_calibs / "manual_defects" / "r22_s00.ecsv")
    assert len(d) == 1
    assert d.boxes.tolist() == [[3031, 0, 21, 2000]]
    assert d.metadata["DETECTOR"] == 90
    assert d.to_bboxes()[0].width == 21
    assert len(Defects.from_ecsv(lsstcam_calibs / "manual_defects" / "r22_s11.ecsv")) == 0
