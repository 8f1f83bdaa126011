"""Benchmark exposure FITS I/O: osprey.afw.fits write+read vs raw astropy.io.fits on the same arrays.

    python bench/bench_fits.py [--quick] [--size N] [--repeats R]

Single-threaded. The workload is an Exposure of N x N pixels (4096 by default, a
LSSTCam detector; 1024 with --quick): float32 image with NaNs and -0.0, int32 mask,
float32 variance, a SkyWcs, a PSF and metadata, written uncompressed and read back.

Peer: astropy writes the same three arrays (``HDUList([PrimaryHDU(), ImageHDU(image),
ImageHDU(mask), ImageHDU(variance)]).writeto``) and reads them into memory
(``fits.open(memmap=True)`` then ``np.array(hdu.data)``, the faster of astropy's two
read routes here; its arrays stay big-endian, ours are native). Both sides are
validated bit for bit before timing. Informational rows time each half, a 512 x 512
sub-box read and a lossless compressed round trip (ours only).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import timeit

import astropy
import numpy as np
from astropy.io import fits

from osprey.afw.fits import read_exposure, write_exposure
from osprey.afw.image import Exposure, MaskedImage
from osprey.afw.psf import GaussianPsf
from osprey.afw.wcs import SkyWcs
from osprey.geom import Box2I, SpherePoint, degrees


def time_best(fn, repeats):
    return min(timeit.repeat(fn, number=1, repeat=repeats))


def make_exposure(n, seed):
    rng = np.random.default_rng(seed)
    image = rng.normal(1000.0, 30.0, (n, n)).astype(np.float32)
    image[rng.integers(0, n, 50), rng.integers(0, n, 50)] = np.nan
    image[0, :8] = -0.0
    mask = rng.integers(0, 1 << 12, (n, n), dtype=np.int32)
    variance = np.abs(image) + np.float32(25.0)
    exposure = Exposure(MaskedImage.from_arrays(image, mask, variance, xy0=(100, 200)))
    exposure.wcs = SkyWcs.from_tan((n / 2, n / 2), SpherePoint(150.0, 2.0, degrees), [[-5.5e-5, 0], [0, 5.5e-5]])
    exposure.psf = GaussianPsf(25, 25, 2.1)
    exposure.metadata.set("EXPTIME", 30.0, "exposure time (s)")
    return exposure


def astropy_write(path, arrays):
    hdus = [fits.PrimaryHDU()] + [fits.ImageHDU(a) for a in arrays]
    fits.HDUList(hdus).writeto(path, overwrite=True)


def astropy_read(path):
    with fits.open(path, memmap=True) as hdul:
        return [np.array(hdu.data) for hdu in hdul[1:4]]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1024 x 1024 pixels (well under a minute)")
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", default=None, help="directory for the temporary files (default: system temp)")
    a = ap.parse_args(argv)
    n = 1024 if a.quick else a.size
    exposure = make_exposure(n, a.seed)
    arrays = [exposure.image.array, exposure.mask.array, exposure.variance.array]

    with tempfile.TemporaryDirectory(dir=a.dir) as tmp:
        ours_path, peer_path = os.path.join(tmp, "ours.fits"), os.path.join(tmp, "peer.fits")

        # 1. validate before timing: both sides give back the arrays bit for bit
        write_exposure(ours_path, exposure)
        back = read_exposure(ours_path)
        valid = back.masked_image.equals(exposure.masked_image) and back.wcs == exposure.wcs
        astropy_write(peer_path, arrays)
        valid &= all(
            np.array_equal(x.view(np.uint8), y.astype(y.dtype.newbyteorder("=")).view(np.uint8))
            for x, y in zip(arrays, astropy_read(peer_path), strict=True)
        )

        # 2. time
        def ours():
            write_exposure(ours_path, exposure)
            read_exposure(ours_path)

        def peer():
            astropy_write(peer_path, arrays)
            astropy_read(peer_path)

        ours_s, peer_s = time_best(ours, a.repeats), time_best(peer, a.repeats)
        info = {
            "ours write": time_best(lambda: write_exposure(ours_path, exposure), a.repeats),
            "ours read": time_best(lambda: read_exposure(ours_path), a.repeats),
            "astropy write": time_best(lambda: astropy_write(peer_path, arrays), a.repeats),
            "astropy read (memmap + copy)": time_best(lambda: astropy_read(peer_path), a.repeats),
        }
        box = Box2I.from_begin_end(100 + n // 4, 200 + n // 4, 100 + n // 4 + 512, 200 + n // 4 + 512)
        info["ours read 512x512 bbox"] = time_best(lambda: read_exposure(ours_path, bbox=box), a.repeats)
        comp_path = os.path.join(tmp, "ours_rice.fits")
        info["ours write+read compression='rice'"] = time_best(
            lambda: (write_exposure(comp_path, exposure, compression="rice"), read_exposure(comp_path)),
            1,  # astropy's tile compression takes seconds at 4k: timed once
        )
        info["compressed size / uncompressed size"] = os.path.getsize(comp_path) / os.path.getsize(ours_path)

    name = f"exposure_fits_write_read_{n}"
    mbytes = sum(x.nbytes for x in arrays) / 1e6
    print(
        f"python {platform.python_version()} numpy {np.__version__} astropy {astropy.__version__} | "
        f"single-threaded | {n}x{n} ({mbytes:.0f} MB of pixels) | validation {'OK' if valid else 'FAILED'}"
    )
    print(f"{'workload':<36}{'ours s':>10}{'peer s':>10}{'ratio':>8}  peer")
    print(f"{name:<36}{ours_s:>10.4f}{peer_s:>10.4f}{peer_s / ours_s:>7.2f}x  astropy.io.fits")
    print("informational (not the peer):")
    for label, value in info.items():
        unit = "" if "size" in label else " s"
        print(f"  {label:<44}{value:>10.4f}{unit}")
    results = {
        name: {
            "ours_s": ours_s,
            "peer": "astropy.io.fits",
            "peer_s": peer_s,
            "ratio": peer_s / ours_s,
            "valid": bool(valid),
            "n": n,
        },
        "info": info,
    }
    print(json.dumps(results))
    return 0 if valid else 1


if __name__ == "__main__":
    sys.exit(main())
