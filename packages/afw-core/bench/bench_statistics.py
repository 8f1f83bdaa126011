"""Benchmark osprey.afw.math.make_statistics on a 4k x 4k float32 sky (single thread).

    python packages/afw-core/bench/bench_statistics.py [--quick] [--repeats N]

Workloads (ours vs a peer, timed alternately in the same run; best of ``--repeats``):

* meanclip: MEANCLIP + STDEVCLIP (3 sigma, 3 iterations) vs astropy ``sigma_clipped_stats``
  configured identically (``cenfunc="median", stdfunc="std", maxiters=3, std_ddof=1``).
* median: MEDIAN vs ``numpy.median``.
* mean_stdev: MEAN + STDEV vs ``numpy`` ``mean`` and ``std(ddof=1)`` (float64 accumulation).

Also prints the memory-bandwidth floor: the time of one streaming read of the image
(``numpy.max``), and how many such reads each kernel costs. The last line is one JSON
object in the CONVENTIONS.md form.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

from osprey.afw.math import Property, StatisticsControl, make_statistics

P = Property


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1k x 1k instead of 4k x 4k")
    p.add_argument("--size", type=int, default=None, help="image side in pixels")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seed", type=int, default=20240611)
    return p.parse_args(argv)


def make_sky(size: int, seed: int) -> np.ndarray:
    """Gaussian sky (100 +- 5) with 5% positive outliers (exponential, scale 300), float32."""
    rng = np.random.default_rng(seed)
    sky = rng.normal(100.0, 5.0, (size, size)).astype(np.float32)
    hot = rng.random(sky.shape) < 0.05
    sky[hot] += rng.exponential(300.0, int(hot.sum())).astype(np.float32)
    return sky


def best_alternating(fns: dict, repeats: int) -> dict:
    """Min wall time of each callable, running them in turn so machine load hits all alike."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def main(argv=None) -> int:
    a = parse_args(argv)
    size = a.size or (1024 if a.quick else 4096)
    image = make_sky(size, a.seed)
    clip_ctrl = StatisticsControl(n_sigma=3.0, n_iter=3)
    try:
        from astropy.stats import sigma_clipped_stats
    except ImportError:
        sigma_clipped_stats = None

    # 1. Validate before timing.
    ours = make_statistics(image, P.MEANCLIP | P.STDEVCLIP | P.MEDIAN | P.MEAN | P.STDEV, control=clip_ctrl)
    x64 = image.astype(np.float64)
    errors = {
        "median": abs(ours.median - np.median(x64)) / abs(np.median(x64)),
        "mean_stdev": max(
            abs(ours.mean - x64.mean()) / abs(x64.mean()), abs(ours.stdev - x64.std(ddof=1)) / x64.std(ddof=1)
        ),
    }
    if sigma_clipped_stats is not None:
        mean, _, std = sigma_clipped_stats(x64, sigma=3.0, maxiters=3, cenfunc="median", stdfunc="std", std_ddof=1)
        errors["meanclip"] = max(abs(ours.meanclip - mean) / abs(mean), abs(ours.stdevclip - std) / std)
    valid = all(e < 1e-6 for e in errors.values())

    # 2. Time: each workload against its peer, alternately.
    workloads = {
        "median": (
            "numpy.median",
            lambda: make_statistics(image, P.MEDIAN),
            lambda: np.median(image),
        ),
        "mean_stdev": (
            "numpy mean+std",
            lambda: make_statistics(image, P.MEAN | P.STDEV),
            lambda: (image.mean(dtype=np.float64), image.std(dtype=np.float64, ddof=1)),
        ),
    }
    if sigma_clipped_stats is not None:
        workloads["meanclip"] = (
            "astropy.sigma_clipped_stats",
            lambda: make_statistics(image, P.MEANCLIP | P.STDEVCLIP, control=clip_ctrl),
            lambda: sigma_clipped_stats(image, sigma=3.0, maxiters=3, cenfunc="median", stdfunc="std", std_ddof=1),
        )
    floor = best_alternating({"read": lambda: np.max(image)}, max(a.repeats, 5))["read"]
    results = {}
    for name, (peer, ours_fn, peer_fn) in workloads.items():
        peer_repeats = a.repeats if name != "meanclip" else max(1, min(a.repeats, 3))
        t = best_alternating({"ours": ours_fn, "peer": peer_fn}, peer_repeats)
        results[name] = (peer, t["ours"], t["peer"])

    # 3. Table for humans.
    mb = image.nbytes / 1e6
    print(
        f"python {platform.python_version()} numpy {np.__version__} cpus {os.cpu_count()} single-threaded | "
        f"image {size}x{size} float32 ({mb:.0f} MB) | validation {'OK' if valid else 'FAILED'} "
        + " ".join(f"{k}={v:.1e}" for k, v in errors.items())
    )
    print(f"memory floor: one read of the image takes {floor * 1e3:.1f} ms ({mb / 1e3 / floor:.1f} GB/s)")
    print(f"{'workload':<12}{'peer':<30}{'ours ms':>10}{'peer ms':>10}{'ratio':>8}{'reads':>8}")
    for name, (peer, ours_s, peer_s) in results.items():
        ratio, reads = peer_s / ours_s, ours_s / floor
        print(f"{name:<12}{peer:<30}{ours_s * 1e3:>10.1f}{peer_s * 1e3:>10.1f}{ratio:>7.1f}x{reads:>8.1f}")
    print(
        json.dumps(
            {
                name: {"ours_s": ours_s, "peer": peer, "peer_s": peer_s, "ratio": peer_s / ours_s, "valid": valid}
                for name, (peer, ours_s, peer_s) in results.items()
            }
        )
    )
    return 0 if valid else 1


if __name__ == "__main__":
    raise SystemExit(main())
