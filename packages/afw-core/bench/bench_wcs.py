"""Benchmark osprey.afw.wcs.SkyWcs against astropy.wcs (WCSLIB) on real TAN-SIP and TPV headers.

python bench/bench_wcs.py [--quick] [--n-points N] [--repeats R]

Workloads (single-threaded, both libraries):
  pixel_to_sky_sip  SkyWcs.pixel_to_sky_array vs WCS.all_pix2world   (TAN-SIP, HSC afw header)
  sky_to_pixel_sip  SkyWcs.sky_to_pixel_array vs WCS.all_world2pix   (TAN-SIP, Newton vs fixed point)
  pixel_to_sky_tpv  SkyWcs.pixel_to_sky_array vs WCS.all_pix2world   (TPV, DECam header)
Headers come from OSPREY_REALDATA (default <repo>/../shared/realdata); astropy's own test
headers (siponly.hdr, tpvonly.hdr) stand in when it is absent. Every workload is validated
against astropy (< 1 mas, < 1e-3 pixel) and against the pure-numpy reference before timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import timeit
import warnings
from pathlib import Path

import astropy
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from osprey.afw.wcs import SkyWcs
from osprey.afw.wcs._reference import reference_pixel_to_sky
from osprey.geom import separation

MAS = np.radians(1.0 / 3.6e6)
ASTROPY_DATA = Path(astropy.__file__).parent / "wcs" / "tests" / "data"


def _realdata() -> Path:
    default = Path(__file__).resolve().parents[3].parent / "shared" / "realdata"
    return Path(os.environ.get("OSPREY_REALDATA", default))


def _sip_header() -> tuple[str, fits.Header, tuple[int, int]]:
    path = _realdata() / "images/hsc-afw/HSC-0908120-056-small.fits"
    if path.is_file():
        # the 200x200 cut-out's WCS, evaluated over a full 2048x4176 HSC CCD
        return "HSC afw TAN-SIP", fits.getheader(path, 1), (2048, 4176)
    header = fits.Header.fromstring((ASTROPY_DATA / "siponly.hdr").read_bytes().decode("ascii"))
    return "astropy siponly.hdr TAN-SIP", header, (2048, 4096)


def _tpv_header() -> tuple[str, fits.Header, tuple[int, int]]:
    path = _realdata() / "headers/decam/fitsheader-decam-raw_dec050441_25.yaml"
    if path.is_file():
        import yaml

        cards = yaml.safe_load(path.read_text())
        header = fits.Header()
        for key, value in cards.items():
            if key.startswith(("CTYPE", "CRPIX", "CRVAL", "CD1_", "CD2_", "PV1_", "PV2_", "RADESYS", "EQUINOX")):
                header[key] = value
        return "DECam raw TPV", header, (2048, 4096)
    header = fits.Header.fromstring((ASTROPY_DATA / "tpvonly.hdr").read_bytes().decode("ascii"))
    return "astropy tpvonly.hdr TPV", header, (2048, 4096)


def time_best(fn, repeats: int) -> float:
    """Minimum wall time over ``repeats`` single calls (the least noisy estimate)."""
    return min(timeit.repeat(fn, number=1, repeat=repeats))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer points and repeats (under a minute)")
    parser.add_argument("--n-points", type=int, default=None, help="points per workload (default 4e6, quick 1e6)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--seed", type=int, default=20240601)
    a = parser.parse_args(argv)
    n = a.n_points or (1_000_000 if a.quick else 4_000_000)
    repeats = a.repeats or (3 if a.quick else 5)
    rng = np.random.default_rng(a.seed)
    warnings.simplefilter("ignore")  # astropy's FITSFixedWarning chatter on real headers

    rows, valid = [], True
    for kind, (label, header, (nx, ny)) in (("sip", _sip_header()), ("tpv", _tpv_header())):
        ours, peer = SkyWcs.from_fits_header(header), WCS(header)
        x, y = rng.uniform(-0.5, nx - 0.5, n), rng.uniform(-0.5, ny - 0.5, n)
        # 1. validate before timing
        k = 20_000
        ra, dec = ours.pixel_to_sky_array(x[:k], y[:k])
        ra_p, dec_p = peer.all_pix2world(x[:k], y[:k], 0)
        err_mas = float(separation(ra, dec, np.radians(ra_p), np.radians(dec_p)).max() / MAS)
        err_ref = float(separation(ra, dec, *reference_pixel_to_sky(ours, x[:k], y[:k])).max() / MAS)
        xb, yb = ours.sky_to_pixel_array(ra, dec)
        err_rt = float(np.hypot(xb - x[:k], yb - y[:k]).max())
        ok = err_mas < 1.0 and err_ref < 1e-6 and err_rt < 1e-3
        valid &= ok
        print(
            f"{label}: {nx}x{ny} CCD, {n:,} points; vs astropy {err_mas:.2e} mas, vs numpy reference "
            f"{err_ref:.2e} mas, round trip {err_rt:.1e} pixel -> {'OK' if ok else 'FAILED'}"
        )
        # 2. time
        t_ours = time_best(lambda o=ours, x=x, y=y: o.pixel_to_sky_array(x, y), repeats)
        t_peer = time_best(lambda p=peer, x=x, y=y: p.all_pix2world(x, y, 0), repeats)
        rows.append((f"pixel_to_sky_{kind}", t_ours, t_peer))
        if kind == "sip":
            ra_all, dec_all = ours.pixel_to_sky_array(x, y)
            ra_deg, dec_deg = np.degrees(ra_all), np.degrees(dec_all)
            t_ours = time_best(lambda o=ours, r=ra_all, d=dec_all: o.sky_to_pixel_array(r, d), repeats)
            t_peer = time_best(lambda p=peer, r=ra_deg, d=dec_deg: p.all_world2pix(r, d, 0, quiet=True), repeats)
            rows.append((f"sky_to_pixel_{kind}", t_ours, t_peer))

    print(
        f"python {platform.python_version()} numpy {np.__version__} astropy {astropy.__version__} "
        f"cpus {os.cpu_count()} | single-threaded | best of {repeats}"
    )
    print(f"{'workload':<20}{'points':>10}{'ours_s':>10}{'astropy_s':>11}{'ns/pt ours':>12}{'ratio':>8}")
    for name, t_ours, t_peer in rows:
        print(f"{name:<20}{n:>10}{t_ours:>10.4f}{t_peer:>11.4f}{t_ours / n * 1e9:>12.1f}{t_peer / t_ours:>8.2f}")
    result = {
        name: {
            "ours_s": t_ours,
            "peer": "astropy.wcs",
            "peer_s": t_peer,
            "ratio": t_peer / t_ours,
            "n_points": n,
            "valid": bool(valid),
        }
        for name, t_ours, t_peer in rows
    }
    print(json.dumps(result))
    return 0 if valid else 1


if __name__ == "__main__":
    raise SystemExit(main())
