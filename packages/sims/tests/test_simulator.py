"""Science exposures against truth: photometry, astrometry, sky, headers, raw files, determinism."""

import numpy as np
import pytest

from osprey.obs.base import translate
from osprey.sims import Simulator, calibration_sequence
from osprey.sims.testing import calibrate_with_truth


def _isolated_bright_stars(exp, min_electrons=1e4, radius=10.0, edge=32):
    src = exp.sources
    det = exp.detector
    x, y = src["x"], src["y"]
    stars = np.flatnonzero((src["kind"] == "star") & (src["electrons"] > min_electrons))
    keep = []
    for i in stars:  # a few dozen candidates at most
        d = np.hypot(x - x[i], y - y[i])
        neighbours = (d < 3 * radius) & (d > 0) & (src["electrons"] > 0.005 * src["electrons"][i])
        inside = edge < x[i] < det.bbox.width - edge and edge < y[i] < det.bbox.height - edge
        if inside and not neighbours.any() and src["electrons"][i] < 1e6:  # peak well below full well
            keep.append(i)
    return np.array(keep, dtype=int)


def _measure(img, x, y, radius):
    """Background-subtracted aperture flux and Gaussian-weighted iterated centroid."""
    ix, iy = int(round(x)), int(round(y))
    half = int(3 * radius)
    cut = img[iy - half : iy + half + 1, ix - half : ix + half + 1]
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1].astype(float)
    r = np.hypot(xx - (x - ix), yy - (y - iy))
    annulus = (r > 2 * radius) & (r < 3 * radius)
    bkg = np.median(cut[annulus])
    data = cut - bkg
    ap = r < radius
    flux = data[ap].sum()
    cx, cy = x - ix, y - iy
    for _ in range(20):
        w = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 2.0**2))
        cx, cy = (w * data * xx).sum() / (w * data).sum(), (w * data * yy).sum() / (w * data).sum()
    return flux, ix + cx, iy + cy, bkg, ap.sum(), cut[annulus].std()


def test_star_positions_and_fluxes_match_truth(quiet_exposure):
    sim, exp = quiet_exposure
    img = calibrate_with_truth(exp, sim.band("r").wavelength)
    idx = _isolated_bright_stars(exp)
    assert idx.size >= 5
    radius = 8.0
    for i in idx:
        x, y, e = exp.sources["x"][i], exp.sources["y"][i], exp.sources["electrons"][i]
        flux, mx, my, bkg, npix, bkg_rms = _measure(img, x, y, radius)
        # The same measurement on the true PSF gives the aperture fraction and the PSF's own centroid offset.
        psf = exp.psf.image_at(x, y, 64)
        ref = np.zeros((64 + 60, 64 + 60))
        ref[30:94, 30:94] = psf
        pf, pcx, pcy, *_ = _measure(ref, 30 + 32, 30 + 32, radius)
        expected = e * pf
        sigma = np.sqrt(expected + npix * bkg_rms**2 + npix**2 * bkg_rms**2 / 200)
        assert abs(flux - expected) < 5 * sigma + 0.003 * expected, (i, flux, expected, sigma)
        sig_pos = 2 * exp.psf.fwhm() / (2.355 * np.sqrt(1 + expected / max(bkg, 1) / npix)) / np.sqrt(expected) * 3
        assert abs((mx - x) - (pcx - 62)) < 5 * sig_pos + 0.01
        assert abs((my - y) - (pcy - 62)) < 5 * sig_pos + 0.01


def test_sky_level_from_empty_regions(quiet_exposure):
    sim, exp = quiet_exposure
    img = calibrate_with_truth(exp, sim.band("r").wavelength)
    band = sim.band("r")
    area = exp.psf.pixel_scale**2
    expected = band.sky_electrons(exp.spec.exposure_time, area, exp.spec.airmass)
    # Empty pixels: far from every drawn object (> 12 px), sigma-clipped.
    mask = np.ones(img.shape, bool)
    yy, xx = np.mgrid[0 : img.shape[0], 0 : img.shape[1]]
    for x, y in zip(exp.sources["x"], exp.sources["y"], strict=True):
        ix, iy = int(round(x)), int(round(y))
        mask[max(iy - 12, 0) : iy + 13, max(ix - 12, 0) : ix + 13] = False
    mask &= ~exp.signature.dark_rate.astype(bool) | (exp.signature.dark_rate < 1)
    values = img[mask]
    assert values.size > 5000
    med = np.median(values)
    assert med == pytest.approx(expected, rel=0.03)  # sky gradient and faint wings stay below 3%
    assert exp.sky == pytest.approx(expected, rel=0.03)


def test_truth_totals_match_the_noiseless_image(instrument, scene, fast_config, science_spec):
    sim = Simulator(instrument, fast_config(add_noise=False, add_cosmic_rays=False), scene)
    exp = sim.simulate(science_spec(counter=3), 94)
    sig = exp.signature
    objects = exp.result.electrons - sig.dark_rate * exp.spec.dark_time
    objects = objects / sig.flat(sim.band("r").wavelength)
    band = sim.band("r")
    # Subtract the sky model used (recompute it the same way).
    sky_img, _ = sim._sky(exp.spec, exp.detector, exp.wcs, band, np.random.default_rng(0), objects.shape)
    del sky_img  # the gradient draw differs; use the median instead
    resid = objects - np.median(objects)
    det = exp.detector
    src = exp.sources
    inside = (src["x"] > 40) & (src["x"] < det.bbox.width - 40) & (src["y"] > 40) & (src["y"] < det.bbox.height - 40)
    # Every drawn source's truth position is where the WCS puts its truth sky position.
    x, y = exp.wcs.sky_to_pixel_array(np.radians(src["ra"]), np.radians(src["dec"]))
    np.testing.assert_allclose(x, src["x"], atol=1e-6)
    np.testing.assert_allclose(y, src["y"], atol=1e-6)
    total = src["electrons"][inside].sum()
    assert resid[40:-40, 40:-40].sum() == pytest.approx(total, rel=0.05)


def test_header_translates_to_the_exposure(quiet_exposure):
    _, exp = quiet_exposure
    info = translate(exp.header)
    spec = exp.spec
    assert info.instrument == "LSSTCam"
    assert info.exposure_id == (spec.day_obs + 40_000_000) * 100_000 + spec.seq_num  # controller S: simulated
    assert info.has_simulated_content
    assert info.detector_num == 94 and info.detector_name == "S11" and info.detector_group == "R22"
    assert info.physical_filter == "r_57"
    assert info.observation_type == "science"
    assert info.day_obs == spec.day_obs and info.seq_num == spec.seq_num
    assert info.datetime_begin.tai.mjd == pytest.approx(spec.mjd, abs=1e-8)
    assert info.exposure_time == spec.exposure_time
    assert info.tracking_radec.longitude.as_degrees() == pytest.approx(spec.ra)
    assert info.tracking_radec.latitude.as_degrees() == pytest.approx(spec.dec)
    assert info.boresight_rotation_angle.as_degrees() == pytest.approx(spec.rotation)


def test_raw_file_round_trip(quiet_exposure, instrument, tmp_path):
    sim, exp = quiet_exposure
    path = sim.write(exp, tmp_path / "raw.fits")
    back = instrument.read_raw(path)
    np.testing.assert_array_equal(back.image.array, exp.raw)
    info = translate(instrument.read_raw_header(path))
    assert info.detector_num == 94 and info.physical_filter == "r_57"


def test_same_seed_same_raw(instrument, scene, fast_config, science_spec):
    a = Simulator(instrument, fast_config(), scene).simulate(science_spec(counter=1), 95)
    b = Simulator(instrument, fast_config(), scene).simulate(science_spec(counter=1), 95)
    c = Simulator(instrument, fast_config(seed=6), scene).simulate(science_spec(counter=1), 95)
    np.testing.assert_array_equal(a.raw, b.raw)
    assert a.header == b.header
    assert not np.array_equal(a.raw, c.raw)


def test_calibration_frames(simulator):
    specs = calibration_sequence(60676.0, n_bias=1, n_dark=1, flat_levels=(5000.0,))
    bias, dark, flat, _ = (simulator.simulate(s, 94) for s in specs)
    assert translate(bias.header).observation_type == "bias"
    assert translate(flat.header).physical_filter == "r_57"
    assert translate(dark.header).dark_time == specs[1].dark_time
    img = calibrate_with_truth(flat, 622.0)
    assert np.median(img) == pytest.approx(5000.0, rel=0.01)
    assert bias.cosmic_rays["x0"].size == 0 and not bias.sources


def test_moving_objects_are_trailed(instrument, fast_config, science_spec):
    from osprey.sims import Scene, SceneConfig

    cfg = SceneConfig(
        star_density=0,
        galaxy_density=0,
        transient_density=0,
        mover_density=3e4,
        fast_mover_fraction=1.0,
        epoch=60676.2 + 10 * 40 / 86400,
    )
    scene = Scene.generate((150.0, -30.0), 0.05, cfg, seed=2)
    exp = Simulator(instrument, fast_config(), scene).simulate(science_spec(), 94)
    m = exp.sources
    assert m["id"].size > 0 and set(m["kind"]) == {"mover"}
    length = np.hypot(m["x_end"] - m["x_start"], m["y_end"] - m["y_start"])
    rate = np.hypot(m["rate_ra"], m["rate_dec"])  # deg/day
    expected = rate * 30.0 / 86400.0 * 3600.0 / exp.psf.pixel_scale
    np.testing.assert_allclose(length, expected, rtol=0.02)
