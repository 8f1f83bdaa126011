"""Benchmark ConvexPolygon point containment: osprey.geom vs lsst.sphgeom and pure numpy.

    python bench/bench_contains.py [--quick] [--n N] [--repeats R]

Single-threaded. Two workloads: points given as lon/lat radians (everyone pays the
trigonometry), and points given as x, y, z unit-vector components. The peer reported
in the JSON line is the fastest of lsst-sphgeom's array overloads and a pure numpy
implementation (edge normals, one matrix product).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import timeit

import numpy as np

from osprey.geom.angle import degrees
from osprey.geom.regions import ConvexPolygon
from osprey.geom.sphere import SpherePoint

try:
    import lsst.sphgeom as sphgeom
except ImportError:
    sphgeom = None

CORNERS = [(0, 0), (40, -5), (60, 30), (35, 52), (5, 48), (-10, 25)]  # degrees, counter-clockwise


def time_best(fn, repeats):
    return min(timeit.repeat(fn, number=1, repeat=repeats))


def numpy_contains_xyz(vertices, x, y, z):
    normals = np.cross(vertices, np.roll(vertices, -1, axis=0))
    d = np.stack([x, y, z], axis=1) @ normals.T
    return np.all(d >= 0, axis=1)


def numpy_contains_lonlat(vertices, lon, lat):
    cl = np.cos(lat)
    return numpy_contains_xyz(vertices, cl * np.cos(lon), cl * np.sin(lon), np.sin(lat))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2*10^5 points")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=2)
    a = ap.parse_args(argv)
    n = 200_000 if a.quick else a.n
    rng = np.random.default_rng(a.seed)
    lon = rng.uniform(-0.5, 1.5, n)  # about a third of the points fall inside
    lat = np.arcsin(rng.uniform(-0.5, 1.0, n))
    cl = np.cos(lat)
    x, y, z = cl * np.cos(lon), cl * np.sin(lon), np.sin(lat)

    poly = ConvexPolygon([SpherePoint(lo, la, degrees) for lo, la in CORNERS])
    verts = poly.vertex_array
    peer_poly = None
    if sphgeom is not None:
        peer_poly = sphgeom.ConvexPolygon([sphgeom.UnitVector3d(*row) for row in verts.tolist()])

    # 1. validate before timing: all implementations agree on every point
    ours_ll, ours_xyz = poly.contains(lon, lat), poly.contains_xyz(x, y, z)
    checks = {
        "numpy lonlat": np.array_equal(ours_ll, numpy_contains_lonlat(verts, lon, lat)),
        "numpy xyz": np.array_equal(ours_xyz, numpy_contains_xyz(verts, x, y, z)),
    }
    if peer_poly is not None:
        checks["sphgeom lonlat"] = np.array_equal(ours_ll, np.asarray(peer_poly.contains(lon, lat), dtype=bool))
        checks["sphgeom xyz"] = np.array_equal(ours_xyz, np.asarray(peer_poly.contains(x, y, z), dtype=bool))
    valid = all(checks.values())

    # 2. time
    workloads = {
        "polygon_contains_lonlat": (
            lambda: poly.contains(lon, lat),
            {"numpy": lambda: numpy_contains_lonlat(verts, lon, lat)},
        ),
        "polygon_contains_xyz": (
            lambda: poly.contains_xyz(x, y, z),
            {"numpy": lambda: numpy_contains_xyz(verts, x, y, z)},
        ),
    }
    if peer_poly is not None:
        workloads["polygon_contains_lonlat"][1]["lsst.sphgeom"] = lambda: peer_poly.contains(lon, lat)
        workloads["polygon_contains_xyz"][1]["lsst.sphgeom"] = lambda: peer_poly.contains(x, y, z)

    print(
        f"python {platform.python_version()} numpy {np.__version__} | single-threaded | n={n} | validation "
        f"{'OK' if valid else 'FAILED'} ({', '.join(f'{k}: {v}' for k, v in checks.items())})"
    )
    print(f"{'workload':<26}{'impl':<14}{'ns/pt':>9}{'ratio':>8}")
    results = {}
    for name, (ours_fn, peers) in workloads.items():
        ours_s = time_best(ours_fn, a.repeats)
        print(f"{name:<26}{'osprey':<14}{ours_s / n * 1e9:>9.2f}{1.0:>7.2f}x")
        timed = {}
        for pname, fn in peers.items():
            timed[pname] = time_best(fn, a.repeats)
            print(f"{'':<26}{pname:<14}{timed[pname] / n * 1e9:>9.2f}{timed[pname] / ours_s:>7.2f}x")
        best = min(timed, key=timed.get)
        results[name] = {
            "ours_s": ours_s,
            "peer": best,
            "peer_s": timed[best],
            "ratio": timed[best] / ours_s,
            "valid": bool(valid),
            "n": n,
        }
    print(json.dumps(results))
    return 0 if valid else 1


if __name__ == "__main__":
    sys.exit(main())
