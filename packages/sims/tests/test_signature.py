"""The instrument signature: bleeding, cosmic rays, crosstalk ghosts, overscan, read noise, gain."""

import numpy as np
import pytest

from osprey.sims import DetectorSignature, SignatureConfig, calibration_sequence
from osprey.sims.signature import bleed_columns
from osprey.sims.testing import amp_data, overscan_rows, small_camera


@pytest.fixture(scope="module")
def det():
    return small_camera()[94]


def _sig(det, **kw):
    return DetectorSignature(SignatureConfig(**kw), det, seed=3, field_radius_mm=30.0)


def test_bleeding_conserves_charge_and_runs_along_columns():
    img = np.full((200, 20), 100.0)
    img[100, 5] = 1e6
    img[101, 5] = 5e5
    total = img.sum()
    mask = bleed_columns(img, 1e5)
    assert img.max() <= 1e5
    assert img.sum() == pytest.approx(total)
    assert mask[:, 5].sum() >= 14 and not mask[:, 4].any() and not mask[:, 6].any()
    rows = np.flatnonzero(mask[:, 5])
    assert abs(rows.mean() - 100.5) <= 1.0  # spread evenly up and down


def test_signature_is_fixed_per_detector_and_seed(det):
    a, b = _sig(det), _sig(det)
    np.testing.assert_array_equal(a.flat(620.0), b.flat(620.0))
    np.testing.assert_array_equal(a.defects.boxes, b.defects.boxes)
    assert a.bias_levels == b.bias_levels
    other = DetectorSignature(SignatureConfig(), small_camera()[95], seed=3, field_radius_mm=30.0)
    assert other.bias_levels != a.bias_levels


def test_crosstalk_ghosts_at_the_readout_mirrored_positions(det):
    sig = _sig(
        det,
        dark_current=0.0,
        hot_pixel_density=0.0,
        hot_columns=0,
        dead_columns=0,
        dead_pixel_density=0,
        bias_jitter=0.0,
        prnu=0.0,
        vignetting=0.0,
        flat_gradient=0.0,
    )
    amps = list(det)
    src = amps[0]  # top row, flipped in x and y
    img = np.zeros(sig.shape)
    b = src.bbox
    img[b.y0 + 20 : b.y0 + 80, b.x0 + 10 : b.x0 + 70] = 60000.0
    kw = {"add_noise": False, "add_cosmic_rays": False}
    res = sig.expose(img, 0.0, np.random.default_rng(0), **kw)
    empty = sig.expose(np.zeros(sig.shape), 0.0, np.random.default_rng(0), **kw)
    # In readout order (the raw frame as stored) a ghost sits where the source sits in its own readout order,
    # whatever the flips: amplifiers of the other row see it mirrored in the assembled image.
    src_e = amp_data(res.raw, src) * src.gain
    block = src_e > 1e4
    assert block.sum() == 3600
    for v, amp in enumerate(amps[1:], start=1):
        ghost = (amp_data(res.raw, amp) - amp_data(empty.raw, amp)) * amp.gain
        expected = sig.crosstalk.coeffs[v, 0] * src_e[block].mean()
        assert ghost[block].mean() == pytest.approx(expected, rel=0.02, abs=0.15)  # 1-ADU quantisation
        assert np.abs(ghost[~block]).max() <= amp.gain * 1.0  # nothing else moved (rounding only)


def test_overscan_levels_read_noise_and_bias_per_amp(det):
    sig = _sig(det)
    rng = np.random.default_rng(9)
    res = sig.expose(np.zeros(sig.shape), 0.0, rng, add_cosmic_rays=False)
    for amp in det:
        ox, oy = amp.raw_xy_offset.x, amp.raw_xy_offset.y
        b = amp.raw_serial_overscan_bbox
        over = res.raw[oy + b.y0 : oy + b.y_end, ox + b.x0 : ox + b.x_end].astype(float)
        truth_rows = res.overscan_levels[amp.name][b.y0 : b.y_end]
        resid = over - truth_rows[:, None]
        n = resid.size
        sigma_adu = amp.read_noise / amp.gain
        assert resid.mean() == pytest.approx(0.0, abs=5 * sigma_adu / np.sqrt(n) + 0.01)
        # Read noise from the overscan: std error of a std estimate is sigma / sqrt(2n).
        measured = np.sqrt(resid.var() - 1 / 12) * amp.gain  # remove the rounding variance
        assert measured == pytest.approx(amp.read_noise, rel=5 / np.sqrt(2 * n) + 0.005)
        # Bias level: the nominal level per amp, jittered by bias_jitter per exposure.
        assert over.mean() == pytest.approx(sig.bias_levels[amp.name], abs=5 * sig.config.bias_jitter + 1)


def test_gain_from_a_flat_pair(det):
    sig = _sig(det)
    spec = [s for s in calibration_sequence(60676.0, n_bias=0, n_dark=0, flat_levels=(20000.0,))]
    assert [s.observation_type for s in spec] == ["flat", "flat"] and spec[0].group == spec[1].group
    frames = []
    for i, s in enumerate(spec):
        img = np.full(sig.shape, s.flat_level)
        frames.append(sig.expose(img, s.dark_time, np.random.default_rng(100 + i), add_cosmic_rays=False).raw)
    for amp in det:
        ox, oy = amp.raw_xy_offset.x, amp.raw_xy_offset.y
        d = amp.raw_data_bbox
        cut = [
            (f[oy + d.y0 : oy + d.y_end, ox + d.x0 : ox + d.x_end] - overscan_rows(f, amp)[d.y0 : d.y_end, None])
            for f in frames
        ]
        mean = 0.5 * (cut[0].mean() + cut[1].mean())
        var = np.var(cut[0] - cut[1]) / 2 - (amp.read_noise / amp.gain) ** 2
        gain = mean / var
        n = cut[0].size
        assert gain == pytest.approx(amp.gain, rel=5 * np.sqrt(2 / n) + 0.005)


def test_cosmic_rays_and_hot_pixels_in_darks(det):
    sig = _sig(det, cosmic_ray_rate=20.0)
    res = sig.expose(np.zeros(sig.shape), 300.0, np.random.default_rng(4))
    crs = res.cosmic_rays
    area = det.bbox.area * 1e-6  # cm² for 10 µm pixels
    assert crs["x0"].size == pytest.approx(20.0 * area * 300.0, rel=0.5)
    assert np.all(crs["electrons"] > 0)
    hot = sig.dark_rate[sig.hot_pixels[:, 1], sig.hot_pixels[:, 0]]
    assert np.all(hot >= sig.config.hot_pixel_rate[0])
    assert {k for k in sig.defect_kinds} >= {"hot_pixel", "dead_pixel", "hot_column", "dead_column"}
