"""Benchmark HEALPix indexing of random sky positions: osprey.geom vs healpy and hpgeom.

    python bench/bench_healpix.py [--n 1000000] [--orders 8,16,29] [--repeats 5] [--quick]

Single-threaded: our kernel is one GIL-free loop on the calling thread, healpy's ang2pix is a
single-threaded numpy ufunc and hpgeom runs with ``n_threads=1``.  Each peer is called the
fastest way it offers for radian input: healpy with (theta, phi) radians (its ``lonlat=True``
path converts degrees in numpy first), hpgeom with ``lonlat=True, degrees=False``.  Before
timing, every implementation's indices are checked to be identical to ours.  The last line
printed is one JSON object in the Osprey benchmark format (ratio = peer_s / ours_s, so > 1
means we are faster; the peer named is the fastest one).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import timeit

import numpy as np

from osprey.geom.healpix import HealpixPixelization

try:
    import healpy
except ImportError:  # pragma: no cover - healpy is a hard dependency of osprey-geom
    healpy = None
try:
    import hpgeom
except ImportError:  # optional peer
    hpgeom = None


def time_best(fn, repeats: int) -> float:
    """Minimum wall time over ``repeats`` single calls (the least noisy estimate)."""
    return min(timeit.repeat(fn, number=1, repeat=repeats))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000, help="number of random points")
    p.add_argument("--orders", default="8,16,29", help="comma-separated HEALPix orders")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--quick", action="store_true", help="same workloads, fewer repeats")
    a = p.parse_args(argv)
    if a.quick:
        a.repeats = min(a.repeats, 3)
    return a


def main(argv=None) -> int:
    a = parse_args(argv)
    rng = np.random.default_rng(a.seed)
    lon = rng.uniform(0.0, 2.0 * np.pi, a.n)
    lat = np.arcsin(rng.uniform(-1.0, 1.0, a.n))  # uniform on the sphere
    theta = np.pi / 2 - lat
    orders = [int(o) for o in a.orders.split(",")]

    peers = {}
    if healpy is not None:
        peers["healpy"] = lambda order, nest: healpy.ang2pix(1 << order, theta, lon, nest=nest)
    if hpgeom is not None:
        peers["hpgeom"] = lambda order, nest: hpgeom.angle_to_pixel(
            1 << order, lon, lat, nest=nest, lonlat=True, degrees=False, n_threads=1
        )

    valid = True
    rows, results = [], {}
    for order in orders:
        for scheme in ("nest", "ring"):
            nest = scheme == "nest"
            ours_fn = HealpixPixelization(order, scheme).index  # the public API, validation included
            ours_fn = lambda f=ours_fn: f(lon, lat)  # noqa: E731
            ref = ours_fn()
            mismatches = {name: int(np.count_nonzero(fn(order, nest) != ref)) for name, fn in peers.items()}
            valid &= all(m == 0 for m in mismatches.values())
            ours_s = time_best(ours_fn, a.repeats)
            peer_times = {
                name: time_best(lambda fn=fn, order=order, nest=nest: fn(order, nest), a.repeats)
                for name, fn in peers.items()
            }
            rows.append((order, scheme, ours_s, peer_times, mismatches))
            key = f"ang2pix_{scheme}_order{order}_n{a.n}"
            if peer_times:
                best = min(peer_times, key=peer_times.get)
                results[key] = {
                    "ours_s": ours_s,
                    "peer": best,
                    "peer_s": peer_times[best],
                    "ratio": peer_times[best] / ours_s,
                    "valid": mismatches[best] == 0,
                }
            else:
                results[key] = {"ours_s": ours_s, "peer": None, "peer_s": None, "ratio": None, "valid": True}

    print(
        f"python {platform.python_version()} numpy {np.__version__} "
        f"healpy {getattr(healpy, '__version__', None)} hpgeom {getattr(hpgeom, '__version__', None)} "
        f"cpus {os.cpu_count()} | n={a.n} repeats={a.repeats} single-threaded | "
        f"validation {'OK (identical indices)' if valid else 'FAILED'}"
    )
    names = list(peers)
    header = f"{'order':>5} {'scheme':<6} {'osprey ns/pt':>13}" + "".join(
        f" {n + ' ns/pt':>13} {'ratio':>6}" for n in names
    )
    print(header)
    for order, scheme, ours_s, peer_times, _ in rows:
        line = f"{order:>5} {scheme:<6} {ours_s / a.n * 1e9:>13.2f}"
        for n in names:
            line += f" {peer_times[n] / a.n * 1e9:>13.2f} {peer_times[n] / ours_s:>5.2f}x"
        print(line)
    print(json.dumps(results))
    return 0 if valid else 1


if __name__ == "__main__":
    sys.exit(main())
