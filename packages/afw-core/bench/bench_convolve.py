"""Benchmark osprey.afw.math.convolve against scipy.

    python bench/bench_convolve.py [--quick] [--size N] [--repeats R]

Single-threaded (scipy.fft with workers=1, our kernels are single-threaded). A float32
``N x N`` image (4096, an LSSTCam detector; 1024 with --quick):

* ``conv41``: a 41x41 PSF-like kernel (a Moffat profile, full rank) through
  ``convolve(method="auto")`` (overlap-save FFT) vs ``scipy.signal.fftconvolve(mode="same")``.
* ``gauss``: a separable Gaussian, sigma 2 px, truncate 4 (17 taps) vs
  ``scipy.ndimage.gaussian_filter`` (which filters in float64 and writes float32).

Both sides are validated on the interior before timing (relative error < 1e-5). The
memory-bandwidth floor is one read plus one write of the image at 19 GB/s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import timeit

import numpy as np

from osprey.afw.image import Image
from osprey.afw.math import FixedKernel, GaussianKernel, choose_method, convolve

try:
    import scipy
    from scipy import ndimage, signal
except ImportError:  # the peer is optional
    scipy = None

BANDWIDTH = 19e9  # bytes per second, one core streaming


def time_best(fn, repeats):
    return min(timeit.repeat(fn, number=1, repeat=repeats))


def moffat(half, alpha=3.0, beta=2.5):
    u = np.arange(-half, half + 1, dtype=np.float64)
    r2 = u[None, :] ** 2 + u[:, None] ** 2
    k = (1.0 + r2 / alpha**2) ** -beta
    return k / k.sum()


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1024 x 1024 instead of 4096 x 4096")
    p.add_argument("--size", type=int, default=None)
    p.add_argument("--repeats", type=int, default=3)
    return p.parse_args(argv)


def rel_err(ours, ref, h):
    o, r = ours[h:-h, h:-h].astype(np.float64), ref[h:-h, h:-h].astype(np.float64)
    return float(np.max(np.abs(o - r)) / np.max(np.abs(r)))


def main(argv=None):
    a = parse_args(argv)
    n = a.size or (1024 if a.quick else 4096)
    rng = np.random.default_rng(42)
    arr = rng.normal(1000.0, 30.0, (n, n)).astype(np.float32)
    img = Image.from_array(arr)
    k41 = moffat(20)
    kern41 = FixedKernel(k41)
    gauss = GaussianKernel(2.0)
    floor = 2 * arr.nbytes / BANDWIDTH
    rows, valid, errs = [], True, {}

    def run(name, ours_fn, peer_name, peer_fn, h):
        nonlocal valid
        ours_out = ours_fn()
        if peer_fn is not None:
            err = rel_err(ours_out, peer_fn(), h)
            errs[name] = err
            valid = valid and err < 1e-5
        t_ours = time_best(ours_fn, a.repeats)
        t_peer = time_best(peer_fn, a.repeats) if peer_fn is not None else None
        rows.append((name, t_ours, peer_name if peer_fn else None, t_peer))

    have = scipy is not None
    run(
        "conv41",
        lambda: convolve(img, kern41, normalize=False).array,
        "scipy.signal.fftconvolve",
        (lambda: signal.fftconvolve(arr, k41.astype(np.float32), mode="same")) if have else None,
        20,
    )
    run(
        "gauss",
        lambda: convolve(img, gauss).array,
        "scipy.ndimage.gaussian_filter",
        (lambda: ndimage.gaussian_filter(arr, 2.0, truncate=4.0)) if have else None,
        8,
    )
    print(
        f"python {platform.python_version()} numpy {np.__version__} scipy {getattr(scipy, '__version__', None)} "
        f"cpus {os.cpu_count()} | {n}x{n} float32, 1 thread | method conv41={choose_method(arr.shape, kern41)} "
        f"| validation {'OK' if valid else 'FAILED'} {json.dumps({k: float(f'{v:.1e}') for k, v in errs.items()})}"
    )
    print(
        f"memory-bandwidth floor (read + write {arr.nbytes / 1e6:.0f} MB at {BANDWIDTH / 1e9:.0f} GB/s):"
        f" {floor * 1e3:.1f} ms"
    )
    print(f"{'workload':<10}{'ours ms':>10}{'peer ms':>10}{'ratio':>8}{'x floor':>9}  peer")
    result = {}
    for name, t, peer, tp in rows:
        ratio = tp / t if tp else None
        ptxt = f"{tp * 1e3:>10.1f}" if tp else f"{'-':>10}"
        rtxt = f"{ratio:>7.2f}x" if ratio else f"{'-':>8}"
        print(f"{name:<10}{t * 1e3:>10.1f}{ptxt}{rtxt}{t / floor:>9.1f}  {peer}")
        result[name] = {"ours_s": t, "peer": peer, "peer_s": tp, "ratio": ratio, "floor_s": floor, "valid": valid}
    print(json.dumps(result))
    return 0 if valid else 1


if __name__ == "__main__":
    raise SystemExit(main())
