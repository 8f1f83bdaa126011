"""Benchmark osprey.afw.math.warp_image against reproject.reproject_interp.

    python bench/bench_warp.py [--quick] [--size N] [--repeats R]

Single-threaded. A float32 ``N x N`` image (4096; 1024 with --quick) with a TAN SkyWcs is
warped onto a TAN WCS rotated by 10 degrees, shifted and with 5% larger pixels, over the
same ``N x N`` destination box. Ours: Lanczos-3 (36 taps per pixel), the mapping evaluated
exactly every 20 pixels and interpolated; plain `Image` (no variance or mask). The peer,
``reproject.reproject_interp(order="bilinear")`` (4 taps, every pixel through the full WCS
with astropy), is a different, cheaper interpolant, so the two outputs are compared only
loosely (median |difference| of a smooth image below 1e-3 of its range); our exactness is
checked against a numpy Lanczos reference in tests/test_warp.py. The memory-bandwidth floor
is one read plus one write of the image at 19 GB/s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import timeit

import numpy as np

from osprey.afw.image import Image
from osprey.afw.math import warp_image
from osprey.afw.wcs import SkyWcs
from osprey.geom import Box2I, SpherePoint, degrees

try:
    import reproject
    from reproject import reproject_interp
except ImportError:  # the peer is optional
    reproject = None

BANDWIDTH = 19e9


def time_best(fn, repeats):
    return min(timeit.repeat(fn, number=1, repeat=repeats))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1024 x 1024 instead of 4096 x 4096")
    p.add_argument("--size", type=int, default=None)
    p.add_argument("--repeats", type=int, default=3)
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    n = a.size or (1024 if a.quick else 4096)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    arr = (1000.0 + 50.0 * np.sin(xx / 37.0) * np.cos(yy / 53.0)).astype(np.float32)
    scale = 0.2 / 3600
    centre = SpherePoint(150.0, 2.0, degrees)
    src_wcs = SkyWcs.from_tan((n / 2, n / 2), centre, [[-scale, 0.0], [0.0, scale]])
    th = np.deg2rad(10.0)
    s2 = 1.05 * scale
    cd = s2 * np.array([[-np.cos(th), np.sin(th)], [np.sin(th), np.cos(th)]])
    dest_wcs = SkyWcs.from_tan((n / 2 + 3.3, n / 2 - 7.1), centre, cd)
    box = Box2I.from_begin_end(0, 0, n, n)
    img = Image.from_array(arr)

    def ours():
        return warp_image(img, src_wcs, dest_wcs, box, kernel="lanczos3").image.array

    def peer():
        out, _ = reproject_interp(
            (arr, src_wcs.to_astropy()), dest_wcs.to_astropy(), shape_out=(n, n), order="bilinear"
        )
        return out

    o = ours()
    valid, diff = True, None
    if reproject is not None:
        p = peer()
        ok = np.isfinite(o) & np.isfinite(p)
        diff = float(np.median(np.abs(o[ok] - p[ok])) / 100.0)
        valid = bool(diff < 1e-3 and abs(ok.sum() / np.isfinite(o).sum() - 1) < 0.01)
    t_ours = time_best(ours, a.repeats)
    t_peer = time_best(peer, max(1, a.repeats - 2)) if reproject is not None else None
    floor = 2 * arr.nbytes / BANDWIDTH
    print(
        f"python {platform.python_version()} numpy {np.__version__} reproject {getattr(reproject, '__version__', None)}"
        f" cpus {os.cpu_count()} | {n}x{n} float32, 1 thread | validation {'OK' if valid else 'FAILED'}"
        f" (median |diff| / range {diff})"
    )
    print(
        f"memory-bandwidth floor (read + write {arr.nbytes / 1e6:.0f} MB at {BANDWIDTH / 1e9:.0f} GB/s):"
        f" {floor * 1e3:.1f} ms"
    )
    print(f"{'workload':<10}{'ours ms':>10}{'peer ms':>10}{'ratio':>8}{'x floor':>9}  peer")
    ratio = t_peer / t_ours if t_peer else None
    ptxt = f"{t_peer * 1e3:>10.1f}" if t_peer else f"{'-':>10}"
    rtxt = f"{ratio:>7.2f}x" if ratio else f"{'-':>8}"
    print(f"{'lanczos3':<10}{t_ours * 1e3:>10.1f}{ptxt}{rtxt}{t_ours / floor:>9.1f}  reproject_interp bilinear")
    peer_name = "reproject.reproject_interp" if t_peer else None
    print(
        json.dumps(
            {
                "warp_lanczos3": {
                    "ours_s": t_ours,
                    "peer": peer_name,
                    "peer_s": t_peer,
                    "ratio": ratio,
                    "floor_s": floor,
                    "valid": valid,
                }
            }
        )
    )
    return 0 if valid else 1


if __name__ == "__main__":
    raise SystemExit(main())
