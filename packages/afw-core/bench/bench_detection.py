"""Benchmark detection: osprey.afw.detection vs sep (detection) and scipy.ndimage (dilation).

    python bench/bench_detection.py [--quick] [--size N] [--sources N] [--repeats R]

Single-threaded (sep and our kernels are single-threaded; run with OMP/BLAS threads = 1 to
be safe). Image: float32 Gaussian noise (sigma 10) plus Gaussian stars (PSF sigma 1.5 px,
log-uniform fluxes), 4k x 4k with 5,000 sources (1k x 1k with 320 with --quick).

Workloads
* ``detect``: ``FootprintSet.from_image(image, Threshold(50), npix_min=5)`` (footprints and
  sorted peaks) vs ``sep.extract(image, 50, minarea=5, filter_kernel=None,
  deblend_cont=1.0, clean=False)``: sep's extraction with deblending and cleaning switched
  off approximates its detection stage, but it still measures every object (moments,
  fluxes), which we leave to measurement; no filtering on either side. Validated first:
  the number of objects must agree within 1% and 99% of sep's objects must have one of our
  footprint centroids within 2 px.
* ``dilate_r3``: dilating every detected pixel by a disk of radius 3 (dx² + dy² <= 9):
  ``SpanSet.dilated(3)`` on the runs vs ``scipy.ndimage.binary_dilation`` of the boolean
  image. Validated: identical pixels. Informational row: our time including the image
  round trip (``SpanSet.from_mask`` + ``to_mask``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import timeit

import numpy as np
from scipy import ndimage

from osprey.afw.detection import FootprintSet, SpanSet, Threshold

try:
    import sep
except ImportError:  # the peer is optional
    sep = None


def time_best(fn, repeats):
    return min(timeit.repeat(fn, number=1, repeat=repeats))


def make_image(size, n_sources, seed):
    """Noise (sigma 10) plus Gaussian stars stamped in 15x15 cut-outs (fast to build)."""
    rng = np.random.default_rng(seed)
    image = rng.normal(0, 10.0, (size, size)).astype(np.float32)
    xs = rng.uniform(8, size - 9, n_sources)
    ys = rng.uniform(8, size - 9, n_sources)
    flux = 10 ** rng.uniform(3.0, 5.0, n_sources)
    d = np.arange(-7, 8)
    for x, y, f in zip(xs, ys, flux, strict=True):
        ix, iy = int(round(x)), int(round(y))
        gx = np.exp(-((ix + d - x) ** 2) / (2 * 1.5**2))
        gy = np.exp(-((iy + d - y) ** 2) / (2 * 1.5**2))
        image[iy - 7 : iy + 8, ix - 7 : ix + 8] += (f / (2 * np.pi * 1.5**2) * np.outer(gy, gx)).astype(np.float32)
    return image


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1k x 1k, 320 sources (well under a minute)")
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--sources", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    size, n_src = (1024, 320) if a.quick else (a.size, a.sources)
    image = make_image(size, n_src, a.seed)
    threshold = 50.0
    results, rows, extra, valid = {}, [], [], True

    # 1. detection -----------------------------------------------------------------------------
    fs = FootprintSet.from_image(image, Threshold(threshold), npix_min=5)
    ours_s = time_best(lambda: FootprintSet.from_image(image, Threshold(threshold), npix_min=5), a.repeats)
    peer, peer_s, ok = None, None, True
    if sep is not None:
        sep.set_extract_pixstack(max(300_000, size * size // 4))
        sep.set_sub_object_limit(4096)

        def run_sep():
            return sep.extract(image, threshold, minarea=5, filter_kernel=None, deblend_cont=1.0, clean=False)

        objs = run_sep()
        cx, cy = fs.centroids[:, 0], fs.centroids[:, 1]
        order = np.argsort(cy)
        matched = 0
        for x, y in zip(objs["x"], objs["y"], strict=True):
            lo, hi = np.searchsorted(cy[order], [y - 2, y + 2])
            near = order[lo:hi]
            matched += bool(np.any(np.hypot(cx[near] - x, cy[near] - y) < 2))
        ok = abs(len(objs) - len(fs)) <= 0.01 * len(objs) and matched >= 0.99 * len(objs)
        peer, peer_s = "sep.extract (no filter, deblend_cont=1, clean=False)", time_best(run_sep, a.repeats)
        extra.append(("detect: objects ours / sep", f"{len(fs)} / {len(objs)} ({matched} of sep's matched)"))
    valid &= ok
    rows.append(("detect", f"{size}x{size}", ours_s, peer, peer_s, ok))
    results["detect"] = {
        "ours_s": ours_s,
        "peer": peer,
        "peer_s": peer_s,
        "ratio": peer_s / ours_s if peer_s else None,
        "valid": ok,
        "n_footprints": len(fs),
        "n_peaks": len(fs.peaks),
    }

    # 2. dilation ------------------------------------------------------------------------------
    spans = fs.spans
    se = np.add.outer(np.arange(-3, 4) ** 2, np.arange(-3, 4) ** 2) <= 9
    binary = spans.to_mask(fs.region)
    ours_d = time_best(lambda: spans.dilated(3), a.repeats)
    round_trip = time_best(lambda: SpanSet.from_mask(binary).dilated(3).to_mask(fs.region), a.repeats)
    peer_d = time_best(lambda: ndimage.binary_dilation(binary, se), a.repeats)
    ok_d = bool(np.array_equal(spans.dilated(3).to_mask(fs.region), ndimage.binary_dilation(binary, se)))
    valid &= ok_d
    rows.append(("dilate_r3", f"{size}x{size}", ours_d, "scipy.ndimage.binary_dilation", peer_d, ok_d))
    extra.append(("dilate_r3 ours incl. from_mask + to_mask", f"{round_trip:.4f} s ({peer_d / round_trip:.1f}x)"))
    results["dilate_r3"] = {
        "ours_s": ours_d,
        "peer": "scipy.ndimage.binary_dilation",
        "peer_s": peer_d,
        "ratio": peer_d / ours_d,
        "valid": ok_d,
        "detected_pixels": spans.area,
    }

    print(
        f"python {platform.python_version()} numpy {np.__version__} sep {getattr(sep, '__version__', None)} | "
        f"single-threaded | {n_src} sources | validation {'OK' if valid else 'FAILED'}"
    )
    print(f"{'workload':<12}{'size':>11}{'ours s':>10}{'peer s':>10}{'ratio':>8}  peer")
    for name, sz, o, p_name, p_s, _ok in rows:
        peer_txt = f"{p_s:>10.4f}{p_s / o:>7.1f}x" if p_s else f"{'-':>10}{'-':>8}"
        print(f"{name:<12}{sz:>11}{o:>10.4f}{peer_txt}  {p_name}")
    print("informational:")
    for label, value in extra:
        print(f"  {label:<45}{value}")
        results.setdefault("info", {})[label] = value
    print(json.dumps(results))
    return 0 if valid else 1


if __name__ == "__main__":
    sys.exit(main())
