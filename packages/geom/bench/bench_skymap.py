"""Benchmark RingsSkyMap.find_tract_patch_list on visit-sized regions: vectorised path vs exact path.

    python bench/bench_skymap.py [--quick] [--n N] [--peer-n M] [--repeats R]

Single-threaded, default `RingsSkyMap()` configuration (LSST-like: 120 rings, 0.2"/pixel,
4000-pixel patches). Workloads: N LSSTCam-like visits (3.5-degree squares at random
boresights over the whole sphere, random rotation, as in scripts/demo_night.py), and N
circles of radius 1.75 degrees. lsst.skymap is not a dependency, so the peer is our own
exact path (`RingsSkyMap._find_tract_patch_list_exact`: one `ConvexPolygon` relation per
patch of every candidate tract, the implementation before vectorisation). It is slow, so it
runs once on the first M regions and its time is extrapolated to N; those same M answers
validate the fast path before it is timed (every exact patch found, equal for >= 90% of
regions, at most 2 extra patches per region). Tracts are built once, before any timing.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
import timeit

import numpy as np

from osprey.geom import Angle, Circle, ConvexPolygon, RingsSkyMap, SpherePoint, degrees, offset, radians

FIELD_SIDE_DEG = 3.5


def visit_polygon(lon, lat, rotation):
    """The field's four corners, half a diagonal from the boresight (radians in)."""
    half_diagonal = math.radians(FIELD_SIDE_DEG) / math.sqrt(2.0)
    bearings = rotation + np.radians([45.0, 135.0, 225.0, 315.0])
    lons, lats = offset(np.full(4, lon), np.full(4, lat), bearings, np.full(4, half_diagonal))
    return ConvexPolygon.convex_hull(
        [SpherePoint(float(a), float(b), radians) for a, b in zip(lons, lats, strict=True)]
    )


def keys(found):
    return {(t.tract_id, p.sequential_index) for t, ps in found for p in ps}


def run_workload(skymap, regions, peer_n, repeats):
    """Validate on the first peer_n regions (timing the exact path there), then time the fast path."""
    for r in regions:  # warm-up: builds every tract either path will touch
        skymap.find_tract_patch_list(r)
    sub = regions[:peer_n]
    t0 = time.perf_counter()
    exact = [skymap._find_tract_patch_list_exact(r) for r in sub]
    peer_per_region = (time.perf_counter() - t0) / len(sub)
    n_equal, max_extra, superset = 0, 0, True
    for r, e in zip(sub, exact, strict=True):
        kf, ke = keys(skymap.find_tract_patch_list(r)), keys(e)
        superset &= ke <= kf
        n_equal += kf == ke
        max_extra = max(max_extra, len(kf - ke))
    valid = bool(superset and n_equal >= 0.9 * len(sub) and max_extra <= 2)
    ours_s = min(timeit.repeat(lambda: [skymap.find_tract_patch_list(r) for r in regions], number=1, repeat=repeats))
    mean_patches = float(np.mean([len(keys(e)) for e in exact]))
    return {
        "ours_s": ours_s,
        "peer": "exact-path",
        "peer_s": peer_per_region * len(regions),
        "ratio": peer_per_region * len(regions) / ours_s,
        "valid": valid,
        "n": len(regions),
        "peer_n": len(sub),
        "equal": n_equal,
        "max_extra_patches": max_extra,
        "mean_patches": mean_patches,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="50 regions, exact path on 5 (well under a minute)")
    ap.add_argument("--n", type=int, default=200, help="regions per workload (default 200)")
    ap.add_argument("--peer-n", type=int, default=20, help="regions run through the (slow) exact path")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    n = 50 if a.quick else a.n
    peer_n = max(1, min(n, 5 if a.quick else a.peer_n))
    rng = np.random.default_rng(a.seed)
    lon, lat = rng.uniform(0.0, 2.0 * np.pi, n), np.arcsin(rng.uniform(-1.0, 1.0, n))
    rot = rng.uniform(0.0, 2.0 * np.pi, n)
    polygons = [visit_polygon(x, y, t) for x, y, t in zip(lon, lat, rot, strict=True)]
    circles = [
        Circle(SpherePoint(math.degrees(x), math.degrees(y), degrees), Angle(0.5 * FIELD_SIDE_DEG, degrees))
        for x, y in zip(lon, lat, strict=True)
    ]
    skymap = RingsSkyMap()
    results = {
        "find_tract_patch_list": run_workload(skymap, polygons, peer_n, a.repeats),
        "find_tract_patch_list_circle": run_workload(skymap, circles, peer_n, a.repeats),
    }
    valid = all(r["valid"] for r in results.values())
    print(
        f"python {platform.python_version()} numpy {np.__version__} | single-threaded | RingsSkyMap() default config "
        f"({len(skymap)} tracts) | validation {'OK' if valid else 'FAILED'}"
    )
    print(
        f"{'workload':<30}{'n':>6}{'patches':>9}{'ours ms/region':>16}{'peer ms/region':>16}{'ratio':>8}"
        f"{'equal':>9}  peer"
    )
    for name, r in results.items():
        print(
            f"{name:<30}{r['n']:>6}{r['mean_patches']:>9.0f}{r['ours_s'] / r['n'] * 1e3:>16.2f}"
            f"{r['peer_s'] / r['n'] * 1e3:>16.1f}{r['ratio']:>7.1f}x{r['equal']:>5}/{r['peer_n']:<3}  {r['peer']}"
        )
    print(json.dumps(results))
    return 0 if valid else 1


if __name__ == "__main__":
    sys.exit(main())
