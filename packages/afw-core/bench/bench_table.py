"""Benchmark osprey.afw.table: sky matching vs astropy match_coordinates_sky, and catalog file I/O.

    python bench/bench_table.py [--quick] [--n N] [--io-n N] [--repeats R]

Single-threaded. The sky match takes lon/lat arrays in radians on both sides, so the peer's
time includes building its two SkyCoords (and its KD-tree, which astropy caches on the
SkyCoord: it is rebuilt in every timed call, as in real use). 60% of the first catalog lies
within ~1 arcsec of a second-catalog source; the radius is 1 arcsec. Before timing, the
match is checked on a subsample against astropy: identical indices where astropy's nearest
is within the radius, -1 elsewhere, separations within 1e-6 arcsec.

The I/O workload writes then reads a catalog of --io-n rows and 20 columns (float64,
float32, int64, int32, bool) as Parquet and as FITS, against astropy Table.write/read of
the same columns (informational: both end in the same libraries).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import timeit

import numpy as np

import osprey.afw.table as aft
from osprey.geom import arcseconds

try:
    import scipy  # noqa: F401  # astropy's matcher needs it
    from astropy import units as u
    from astropy.coordinates import SkyCoord, match_coordinates_sky
    from astropy.table import Table
except ImportError:  # the peer is optional
    SkyCoord = None

ARCSEC = np.pi / 180 / 3600


def time_best(fn, repeats):
    return min(timeit.repeat(fn, number=1, repeat=repeats))


def make_positions(rng, n):
    lon2, lat2 = rng.uniform(0, 2 * np.pi, n), np.arcsin(rng.uniform(-1, 1, n))
    lon1, lat1 = rng.uniform(0, 2 * np.pi, n), np.arcsin(rng.uniform(-1, 1, n))
    near = rng.random(n) < 0.6
    take = rng.integers(0, n, near.sum())
    dist = np.abs(rng.normal(0, 0.7 * ARCSEC, take.size))
    lat1[near] = np.clip(lat2[take] + dist * rng.choice([-1, 1], take.size) / np.sqrt(2), -np.pi / 2, np.pi / 2)
    lon1[near] = (lon2[take] + dist / np.sqrt(2) / np.maximum(np.cos(lat2[take]), 1e-3)) % (2 * np.pi)
    return lon1, lat1, lon2, lat2


def peer_match(lon1, lat1, lon2, lat2):
    c1 = SkyCoord(lon1 * u.rad, lat1 * u.rad)
    c2 = SkyCoord(lon2 * u.rad, lat2 * u.rad)
    idx, sep, _ = match_coordinates_sky(c1, c2)
    sep = sep.to_value(u.rad)
    return np.where(sep <= ARCSEC, idx, -1), sep


def validate_match(lon1, lat1, lon2, lat2, k):
    ours = aft.match_sky((lon1[:k], lat1[:k]), (lon2, lat2), 1 * arcseconds)
    if SkyCoord is None:
        return True, None
    idx, sep = peer_match(lon1[:k], lat1[:k], lon2, lat2)
    within = idx >= 0
    ok = bool(np.array_equal(ours.index, idx))
    err = float(np.max(np.abs(ours.separation[within] - sep[within]), initial=0.0) / ARCSEC)
    return ok and err < 1e-6, err


def make_catalog(rng, n):
    schema = aft.SourceCatalog.minimal_schema()
    kinds = ["f8", "f4", "i8", "i4", "?"]
    for i in range(16):
        schema.add_field(f"col_{i:02d}", kinds[i % len(kinds)], "nJy" if kinds[i % 5][0] == "f" else "", f"Column {i}.")
    columns = {
        "id": np.arange(1, n + 1, dtype=np.int64),
        "coord_ra": rng.uniform(0, 2 * np.pi, n),
        "coord_dec": np.arcsin(rng.uniform(-1, 1, n)),
    }
    for f in schema.fields[4:]:
        columns[f.name] = (rng.normal(size=n) * 1000).astype(f.dtype) if f.dtype.kind != "b" else rng.random(n) < 0.5
    return aft.SourceCatalog(schema, columns)


def io_rows(cat, tmp, repeats):
    rows, results, valid = [], {}, True
    peer_table = cat.to_astropy()
    peer_table.meta.clear()  # astropy's writers take flat meta only
    for fmt, ext in (("parquet", "parquet"), ("fits", "fits")):
        path = os.path.join(tmp, f"ours.{ext}")
        write, read = getattr(cat, f"write_{fmt}"), getattr(aft.SourceCatalog, f"read_{fmt}")
        write(path)
        ok = read(path).equals(cat)  # 1. validate before timing
        valid &= ok
        ours_s = time_best(lambda w=write, r=read, p=path: (w(p), r(p)), repeats)
        peer_path = os.path.join(tmp, f"peer.{ext}")

        def peer(p=peer_path, f=fmt):
            peer_table.write(p, format=f, overwrite=True)
            return Table.read(p, format=f)

        peer_s = time_best(peer, repeats)
        name = f"{fmt}_write_read"
        rows.append((name, len(cat), ours_s, "astropy Table", peer_s, ok))
        results[name] = {
            "ours_s": ours_s,
            "peer": "astropy Table",
            "peer_s": peer_s,
            "ratio": peer_s / ours_s,
            "valid": ok,
            "n": len(cat),
        }
    return rows, results, valid


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10^5 rows (well under a minute)")
    ap.add_argument("--n", type=int, default=1_000_000, help="rows in each catalog of the sky match")
    ap.add_argument("--io-n", type=int, default=1_000_000, help="rows of the 20-column I/O catalog")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    n = 100_000 if a.quick else a.n
    io_n = 100_000 if a.quick else a.io_n
    rng = np.random.default_rng(a.seed)

    lon1, lat1, lon2, lat2 = make_positions(rng, n)
    ok, err = validate_match(lon1, lat1, lon2, lat2, min(n, 20_000))
    valid = ok
    ours_s = time_best(lambda: aft.match_sky((lon1, lat1), (lon2, lat2), 1 * arcseconds), a.repeats)
    all_s = time_best(lambda: aft.match_sky_all((lon1, lat1), (lon2, lat2), 1 * arcseconds), a.repeats)
    peer_s = time_best(lambda: peer_match(lon1, lat1, lon2, lat2), max(1, a.repeats - 1)) if SkyCoord else None
    peer = "astropy match_coordinates_sky" if SkyCoord else None
    rows = [
        ("match_sky", n, ours_s, peer, peer_s, ok),
        ("match_sky_all", n, all_s, peer, peer_s, ok),
    ]
    results = {
        name: {
            "ours_s": t,
            "peer": peer,
            "peer_s": peer_s,
            "ratio": (peer_s / t) if peer_s else None,
            "valid": ok,
            "n": n,
            "rows_per_s": n / t,
            "max_sep_err_arcsec": err,
        }
        for name, _n, t, *_ in rows
    }
    if SkyCoord is not None:
        with tempfile.TemporaryDirectory() as tmp:
            io, io_results, io_ok = io_rows(make_catalog(rng, io_n), tmp, a.repeats)
        rows += io
        results.update(io_results)
        valid &= io_ok

    print(
        f"python {platform.python_version()} numpy {np.__version__} cpus {os.cpu_count()} | single-threaded | "
        f"validation {'OK' if valid else 'FAILED'} (max sep err {err} arcsec)"
    )
    print(f"{'workload':<18}{'n':>10}{'ours s':>10}{'peer s':>10}{'ratio':>8}  peer")
    for name, nn, t, peer_name, p, _ok in rows:
        peer_txt = f"{p:>10.3f}{p / t:>7.1f}x" if p else f"{'-':>10}{'-':>8}"
        print(f"{name:<18}{nn:>10}{t:>10.3f}{peer_txt}  {peer_name}")
    print(json.dumps(results))
    return 0 if valid else 1


if __name__ == "__main__":
    sys.exit(main())
