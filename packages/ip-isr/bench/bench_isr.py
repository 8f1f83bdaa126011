"""ISR and calibration-combine benchmarks against ccdproc, single thread, same run.

Workloads (full size: one LSSTCam-sized detector, 16 amps of 509 × 2000 data pixels, 3
prescan, 48 serial and 48 parallel overscan columns/rows; 4072 × 4000 assembled):

* ``isr_full``: `run_isr` with every step but brighter-fatter and amp offsets (saturation,
  overscan MEANCLIP+POLY, gains, crosstalk, parallel overscan, linearity, assembly, bias,
  variance, dark, defects, flat, interpolation, statistics, binning). No peer.
* ``isr_full_bf``: the same with brighter-fatter. No peer.
* ``isr_subset``: overscan (per-row median, no fit) + trim + gain + bias + dark + flat, ours
  fused (`overscan_assemble` then `apply_calibs`: image, variance and mask) vs ccdproc's
  `subtract_overscan` / `trim_image` / `gain_correct` / `subtract_bias` / `subtract_dark` /
  `flat_correct` on one amp-by-amp loop (ccdproc works on one CCDData per amp, image only).
  ``isr_subset_steps``: ours with one call per step (clone, in-place steps, `assemble`).
* ``combine_20_bias``: clipped mean of 20 bias frames (4k × 4k) vs `ccdproc.combine`
  (average, sigma clipping with median/MAD, 3 sigma).

Run ``python bench/bench_isr.py`` (``--quick`` for a 1k × 1k detector). Threads are pinned to
one (OMP/OPENBLAS/MKL) before numpy is imported. The last line is one JSON object.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

from osprey.ip.isr import (  # noqa: E402
    IsrConfig,
    IsrMockLSST,
    apply_calibs,
    apply_gains,
    assemble,
    bias_correct,
    combine_exposures,
    dark_correct,
    flat_correct,
    overscan_assemble,
    overscan_correct,
    run_isr,
)
from osprey.ip.isr.steps import new_exposure  # noqa: E402


def best_of(fn, repeat: int) -> float:
    """Minimum wall time over ``repeat`` calls (perf_counter)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def lsstcam_like(quick: bool, **overrides):
    size = dict(amp_width=127, amp_height=500) if quick else dict(amp_width=509, amp_height=2000)
    return IsrMockLSST(
        n_amp_x=8, n_amp_y=2, prescan=3, serial_overscan=48, parallel_overscan=48, n_stars=200, **size, **overrides
    ).run()


def ccdproc_subset(raw, det, bias_ccd, dark_ccd, flat_ccd, dark_time):
    """ccdproc per amp: overscan (median per row), trim, then bias/dark/flat on the assembled image."""
    import astropy.units as u
    import ccdproc
    from astropy.nddata import CCDData

    arr = raw.image.array
    out = np.empty((det.bbox.height, det.bbox.width), np.float32)
    for amp in det:
        ox, oy = amp.raw_xy_offset.x, amp.raw_xy_offset.y
        rb = amp.raw_bbox
        ccd = CCDData(arr[oy + rb.y0 : oy + rb.y_end, ox + rb.x0 : ox + rb.x_end], unit="adu")
        o, d = amp.raw_serial_overscan_bbox, amp.raw_data_bbox
        ccd = ccdproc.subtract_overscan(ccd, overscan=ccd[:, o.x0 : o.x_end], overscan_axis=1, median=True, model=None)
        ccd = ccdproc.trim_image(ccd[d.y0 : d.y_end, d.x0 : d.x_end])
        ccd = ccdproc.gain_correct(ccd, amp.gain * u.electron / u.adu)
        data = ccd.data
        if amp.raw_flip_y:
            data = data[::-1]
        if amp.raw_flip_x:
            data = data[:, ::-1]
        out[amp.bbox.slices_in(det.bbox)] = data
    full = CCDData(out, unit="electron")
    full = ccdproc.subtract_bias(full, bias_ccd)
    full = ccdproc.subtract_dark(full, dark_ccd, dark_exposure=1.0 * u.s, data_exposure=dark_time * u.s, scale=True)
    return ccdproc.flat_correct(full, flat_ccd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k x 1k detector, 5 biases")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    quick = args.quick
    repeat = 1 if quick else args.repeat
    print(
        f"# osprey-ip-isr benchmarks; python {platform.python_version()}, numpy {np.__version__}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs visible, single thread"
    )
    mock = lsstcam_like(quick)
    det, raw, calibs = mock.detector, mock.raw, mock.calibs
    npix = det.bbox.width * det.bbox.height
    results: dict[str, dict] = {}
    rows = []

    cfg = IsrConfig()
    t = best_of(lambda: run_isr(raw, calibs, cfg), repeat)
    results["isr_full"] = {"ours_s": t, "peer": None, "peer_s": None, "ratio": None}
    rows.append(("isr_full (all steps but BF)", f"{det.bbox.width}x{det.bbox.height}", t, None, None))

    bf = lsstcam_like(quick, do_brighter_fatter=True)
    cfg_bf = IsrConfig(do_brighter_fatter=True)
    t = best_of(lambda: run_isr(bf.raw, bf.calibs, cfg_bf), repeat)
    results["isr_full_bf"] = {"ours_s": t, "peer": None, "peer_s": None, "ratio": None}
    rows.append(("isr_full_bf", f"{det.bbox.width}x{det.bbox.height}", t, None, None))

    # overscan + trim + gain + bias + dark + flat: the fused steps (one pass from the raw frame
    # to the assembled one, one pass for the three calibration frames), image, variance and mask
    def ours_subset():
        exp, _ = overscan_assemble(raw, det, statistic="MEDIAN", fit="NONE")
        apply_calibs(exp, bias=calibs.bias, dark=calibs.dark, flat=calibs.flat)
        return exp

    def ours_subset_steps():  # the same with one call per step (clone, in-place steps, assemble)
        exp = raw.clone()
        overscan_correct(exp, det, statistic="MEDIAN", fit="NONE")
        apply_gains(exp, det)
        exp = assemble(exp, det)
        bias_correct(exp, calibs.bias)
        dark_correct(exp, calibs.dark)
        flat_correct(exp, calibs.flat)
        return exp

    np.testing.assert_array_equal(ours_subset().image.array, ours_subset_steps().image.array)
    t_steps = best_of(ours_subset_steps, repeat)

    t_ours = best_of(ours_subset, repeat)
    peer = None
    try:
        from astropy.nddata import CCDData

        bias_ccd = CCDData(calibs.bias.image.array, unit="electron")
        dark_ccd = CCDData(calibs.dark.image.array, unit="electron")
        flat_ccd = CCDData(calibs.flat.image.array / np.median(calibs.flat.image.array), unit="")
        dark_time = raw.visit_info.dark_time
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = ccdproc_subset(raw, det, bias_ccd, dark_ccd, flat_ccd, dark_time)
            np.testing.assert_allclose(ref.data, ours_subset().image.array, rtol=1e-4, atol=0.05)
            peer = best_of(lambda: ccdproc_subset(raw, det, bias_ccd, dark_ccd, flat_ccd, dark_time), repeat)
    except ImportError:
        pass
    results["isr_subset"] = {
        "ours_s": t_ours,
        "peer": "ccdproc",
        "peer_s": peer,
        "ratio": None if peer is None else peer / t_ours,
    }
    results["isr_subset_steps"] = {
        "ours_s": t_steps,
        "peer": "ccdproc",
        "peer_s": peer,
        "ratio": None if peer is None else peer / t_steps,
    }
    rows.append(
        (
            "  same, one call per step",
            f"{det.bbox.width}x{det.bbox.height}",
            t_steps,
            peer,
            None if peer is None else peer / t_steps,
        )
    )
    rows.insert(
        len(rows) - 1,
        (
            "overscan+trim+gain+bias+dark+flat",
            f"{det.bbox.width}x{det.bbox.height}",
            t_ours,
            peer,
            None if peer is None else peer / t_ours,
        ),
    )

    # combine 20 biases (assembled frames, electrons)
    n_bias = 5 if quick else 20
    rng = np.random.default_rng(1)
    shape = (det.bbox.height, det.bbox.width)
    frames = [rng.normal(0.0, 6.0, shape).astype(np.float32) for _ in range(n_bias)]
    exposures = [new_exposure(_mi(f)) for f in frames]
    t_ours = best_of(lambda: combine_exposures(exposures, n_sigma=3.0, n_iter=1), 1 if not quick else repeat)
    peer = None
    try:
        import ccdproc
        from astropy.nddata import CCDData

        ccds = [CCDData(f, unit="electron") for f in frames]

        def peer_combine():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ccdproc.combine(
                    ccds,
                    method="average",
                    sigma_clip=True,
                    sigma_clip_low_thresh=3,
                    sigma_clip_high_thresh=3,
                    sigma_clip_func=np.ma.median,
                    sigma_clip_dev_func=_mad_std,
                    mem_limit=4e9,
                )

        peer = best_of(peer_combine, 1)
    except ImportError:
        pass
    results["combine_20_bias"] = {
        "ours_s": t_ours,
        "peer": "ccdproc.combine",
        "peer_s": peer,
        "ratio": None if peer is None else peer / t_ours,
    }
    rows.append(
        (
            f"combine {n_bias} biases (clipped mean)",
            f"{shape[1]}x{shape[0]}",
            t_ours,
            peer,
            None if peer is None else peer / t_ours,
        )
    )

    print(f"{'workload':38s} {'size':>10s} {'ours_s':>8s} {'peer_s':>8s} {'ratio':>7s}")
    for name, size, ours, peer_s, ratio in rows:
        p = f"{peer_s:8.2f}" if peer_s is not None else f"{'-':>8s}"
        r = f"{ratio:7.1f}" if ratio is not None else f"{'-':>7s}"
        print(f"{name:38s} {size:>10s} {ours:8.2f} {p} {r}")
    print(f"# {npix / 1e6:.1f} Mpix per detector")
    print(json.dumps(results))


def _mi(array):
    from osprey.afw.image import MaskedImage

    return MaskedImage.from_arrays(array, units="electron")


def _mad_std(data, axis=None):
    from astropy.stats import mad_std

    return mad_std(data, axis=axis, ignore_nan=True)


if __name__ == "__main__":
    main()
