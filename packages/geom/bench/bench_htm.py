"""Benchmark HTM indexing: osprey.geom.HtmPixelization.index vs lsst.sphgeom.HtmPixelization.index.

    python bench/bench_htm.py [--quick] [--n N] [--repeats R]

Single-threaded. Inputs are longitude/latitude arrays in radians, so both sides pay for
the lon/lat -> unit vector conversion. lsst-sphgeom's ``index`` takes one UnitVector3d
per call (it has no array overload), so its best path is a Python loop; we time both
of its construction routes (from LonLat, and from precomputed x, y, z) and keep the
faster as the peer, and extrapolate it from a subsample when --peer-n is below n.

Informational rows (not the peer): "ours, one-point exact loop" times our exact
one-point kernel (the fallback of the fast kernel; its rounding copies sphgeom's), and
"sphgeom C++ index (est.)" estimates sphgeom's own per-point C++ cost as the LonLat loop
minus the same loop calling a trivial method (UnitVector3d.dot) in place of index, which
leaves out Python's loop, the vector construction and the call overhead.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import timeit

import numpy as np

from osprey.geom.htm import HtmPixelization

try:
    import lsst.sphgeom as sphgeom
except ImportError:  # the peer is optional
    sphgeom = None


def time_best(fn, repeats):
    return min(timeit.repeat(fn, number=1, repeat=repeats))


def sphgeom_from_lonlat(pix, lon, lat):
    uv, ll = sphgeom.UnitVector3d, sphgeom.LonLat.fromRadians
    return np.fromiter(
        (pix.index(uv(ll(a, b))) for a, b in zip(lon.tolist(), lat.tolist(), strict=True)),
        dtype=np.uint64,
        count=lon.size,
    )


def sphgeom_from_xyz(pix, lon, lat):
    cl = np.cos(lat)
    x, y, z = (cl * np.cos(lon)).tolist(), (cl * np.sin(lon)).tolist(), np.sin(lat).tolist()
    uv = sphgeom.UnitVector3d
    return np.fromiter((pix.index(uv(a, b, c)) for a, b, c in zip(x, y, z, strict=True)), dtype=np.uint64, count=len(x))


def sphgeom_loop_overhead(lon, lat):
    """The LonLat loop of sphgeom_from_lonlat with index replaced by a trivial method call."""
    uv, ll = sphgeom.UnitVector3d, sphgeom.LonLat.fromRadians
    return np.fromiter(
        ((v := uv(ll(a, b))).dot(v) for a, b in zip(lon.tolist(), lat.tolist(), strict=True)),
        dtype=np.float64,
        count=lon.size,
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10^5 points (well under a minute)")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--peer-n", type=int, default=200_000, help="points timed for the (slow) peer")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    n = 100_000 if a.quick else a.n
    peer_n = min(n, 50_000 if a.quick else a.peer_n)
    rng = np.random.default_rng(a.seed)
    lon = rng.uniform(0, 2 * np.pi, n)
    lat = np.arcsin(rng.uniform(-1, 1, n))

    from osprey.geom import _geom

    rows, extra, results, valid = [], [], {}, True
    for level in (7, 20):
        ours_pix = HtmPixelization(level)
        # 1. validate before timing: identical ids on 20k points
        k = min(20_000, n)
        ours_ids = ours_pix.index(lon[:k], lat[:k])
        ok = True
        if sphgeom is not None:
            ref = sphgeom_from_lonlat(sphgeom.HtmPixelization(level), lon[:k], lat[:k])
            ok = bool(np.array_equal(ours_ids, ref))
        valid &= ok
        # 2. time
        ours_s = time_best(lambda p=ours_pix: p.index(lon, lat), a.repeats)
        peer_name, peer_s = None, None
        if sphgeom is not None:
            pix = sphgeom.HtmPixelization(level)
            sl, sa = lon[:peer_n], lat[:peer_n]
            t_ll = (
                time_best(lambda p=pix, sl=sl, sa=sa: sphgeom_from_lonlat(p, sl, sa), max(1, a.repeats - 1))
                * n
                / peer_n
            )
            t_xyz = (
                time_best(lambda p=pix, sl=sl, sa=sa: sphgeom_from_xyz(p, sl, sa), max(1, a.repeats - 1)) * n / peer_n
            )
            peer_name, peer_s = (
                ("lsst.sphgeom (LonLat loop)", t_ll) if t_ll <= t_xyz else ("lsst.sphgeom (xyz loop)", t_xyz)
            )
        name = f"htm_index_level{level}"
        rows.append((name, n, ours_s, peer_name, peer_s, ok))
        # informational: our exact one-point loop, and sphgeom's own per-point C++ cost
        k = min(n, peer_n)
        exact_s = time_best(lambda lv=level, k=k: _geom.htm_index(lon[:k], lat[:k], lv, kernel=2), a.repeats) * n / k
        extra.append((f"{name} ours, one-point exact loop", exact_s / n * 1e9))
        if sphgeom is not None:
            sl, sa = lon[:peer_n], lat[:peer_n]
            t_loop = time_best(lambda p=pix, sl=sl, sa=sa: sphgeom_from_lonlat(p, sl, sa), a.repeats)
            t_base = time_best(lambda sl=sl, sa=sa: sphgeom_loop_overhead(sl, sa), a.repeats)
            extra.append((f"{name} sphgeom C++ index (est.)", max(t_loop - t_base, 0.0) / peer_n * 1e9))
        results[name] = {
            "ours_s": ours_s,
            "peer": peer_name,
            "peer_s": peer_s,
            "ratio": (peer_s / ours_s) if peer_s else None,
            "valid": ok,
            "n": n,
        }

    print(
        f"python {platform.python_version()} numpy {np.__version__} sphgeom "
        f"{getattr(sphgeom, '__version__', None) if sphgeom else None} | single-threaded | "
        f"validation {'OK' if valid else 'FAILED'}"
    )
    print(f"{'workload':<20}{'n':>10}{'ours ns/pt':>12}{'peer ns/pt':>12}{'ratio':>8}  peer")
    for name, nn, ours_s, peer_name, peer_s, _ok in rows:
        peer_txt = f"{peer_s / nn * 1e9:>12.1f}{peer_s / ours_s:>7.1f}x" if peer_s else f"{'-':>12}{'-':>8}"
        print(f"{name:<20}{nn:>10}{ours_s / nn * 1e9:>12.1f}{peer_txt}  {peer_name}")
    print("informational (not the peer):")
    for label, ns in extra:
        print(f"  {label:<52}{ns:>8.1f} ns/pt")
        results.setdefault("info", {})[label] = ns
    print(json.dumps(results))
    return 0 if valid else 1


if __name__ == "__main__":
    sys.exit(main())
