"""Time to simulate one full LSSTCam science detector (4k x 4k, 16 amplifiers) on one core.

python bench/bench_detector.py [--quick]

Workload: detector R22_S11, r band, 30 s, ~5k stars and ~10k galaxies (bulge+disk) on the
detector plus transients and moving objects, the spatially varying PSF (3x3 GalSim
atmosphere+optics nodes), the distorted WCS and the full instrument signature (flat, dark,
Poisson noise, cosmic rays, bleed trails, non-linearity, crosstalk, bias/overscan, read
noise, digitisation). Ours: `Simulator.simulate` (warm: the detector's fixed patterns
exist). Peer: GalSim drawing the same objects one by one (``drawImage`` of each object
convolved with the node PSF into a bounds-checked sub-image, no photon shooting), timed
on a random sample and scaled to the full count. Single-threaded (OMP/BLAS threads 1).
"""

from __future__ import annotations

import argparse
import os
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from osprey.utils.bench import Comparison, report  # noqa: E402


def _instrument():
    from osprey.obs.base import Instrument

    return Instrument.from_name("LSSTCam")


def _peer_seconds(exp, n_sample: int, rng: np.random.Generator) -> float:
    """GalSim per-object drawing of a sample of the detector's objects, scaled to all of them."""
    import galsim

    src = exp.sources
    from osprey.sims import PsfConfig
    from osprey.sims.psf import FieldPsf

    psf = exp.psf
    node = psf.images.shape[0] // 2
    fa = psf.field_angles[node]
    field = FieldPsf(PsfConfig(), exp.spec.seeing, exp.spec.airmass, 622.0, 8.36, 0.61, 1.75, rng)
    psf_profile = field.profile(float(fa[0]), float(fa[1]))
    j = psf.jacobians[node]
    wcs = galsim.JacobianWCS(j[0, 0], j[0, 1], j[1, 0], j[1, 1])
    full = galsim.ImageF(exp.detector.bbox.width, exp.detector.bbox.height, wcs=wcs)
    idx = rng.choice(src["id"].size, size=min(n_sample, src["id"].size), replace=False)
    t0 = time.perf_counter()
    for i in idx:  # the peer's way: one GalSim draw per object
        flux = float(src["electrons"][i])
        if src["kind"][i] == "galaxy":
            beta = (90.0 - float(src["pa"][i])) * galsim.degrees
            bulge = galsim.DeVaucouleurs(
                half_light_radius=float(src["bulge_hlr"][i]),
                trunc=5 * float(src["bulge_hlr"][i]),
                flux_untruncated=False,
            ).shear(q=float(src["bulge_q"][i]), beta=beta)
            disk = galsim.Exponential(half_light_radius=float(src["disk_hlr"][i])).shear(
                q=float(src["disk_q"][i]), beta=beta
            )
            bf = float(src["bulge_fraction"][i])
            obj = bf * bulge + (1 - bf) * disk
        else:
            obj = galsim.DeltaFunction()
        conv = galsim.Convolve(obj, psf_profile).withFlux(flux)
        size = int(src["stamp_size"][i])
        x, y = float(src["x"][i]) + 1, float(src["y"][i]) + 1
        bounds = galsim.BoundsI(int(x) - size // 2, int(x) + size // 2 - 1, int(y) - size // 2, int(y) + size // 2 - 1)
        bounds = bounds & full.bounds
        if not bounds.isDefined():
            continue
        stamp = full[bounds]
        conv.drawImage(image=stamp, center=galsim.PositionD(x, y), add_to_image=True, method="auto")
    dt = time.perf_counter() - t0
    return dt * src["id"].size / idx.size


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one repeat, smaller peer sample")
    args = parser.parse_args(argv)
    from osprey.sims import ExposureSpec, Scene, SceneConfig, SimConfig, Simulator

    instrument = _instrument()
    det = instrument.get_camera()["R22_S11"]
    # Densities chosen for ~5k stars and ~10k galaxies on one 0.05 deg² detector.
    cfg = SceneConfig(star_density=1.0e5, galaxy_density=2.0e5)
    t0 = time.perf_counter()
    scene = Scene.generate((150.0, -30.0), 0.25, cfg, seed=3)
    t_scene = time.perf_counter() - t0
    sim = Simulator(instrument, SimConfig(seed=1), scene)
    spec = ExposureSpec(
        counter=1,
        day_obs=20241231,
        seq_num=1,
        observation_type="science",
        band="r",
        mjd=60676.2,
        exposure_time=30.0,
        dark_time=30.9,
        ra=150.0,
        dec=-30.0,
        rotation=0.0,
        seeing=0.7,
        airmass=1.2,
    )
    t0 = time.perf_counter()
    exp = sim.simulate(spec, det.id)  # cold: builds the detector's flat, dark and bias patterns
    t_cold = time.perf_counter() - t0
    times = []
    for k in range(1 if args.quick else 3):
        spec_k = ExposureSpec(**{**spec.__dict__, "counter": 2 + k, "seq_num": 2 + k})
        t0 = time.perf_counter()
        exp = sim.simulate(spec_k, det.id)
        times.append(time.perf_counter() - t0)
    ours = min(times)
    kinds, counts = np.unique(exp.sources["kind"], return_counts=True)
    peer = _peer_seconds(exp, 150 if args.quick else 600, np.random.default_rng(0))
    print(
        f"detector {det.name} {det.bbox.width}x{det.bbox.height}, {len(det.amplifiers)} amps; objects: "
        + ", ".join(f"{k}={c}" for k, c in zip(kinds, counts, strict=True))
    )
    print(
        f"scene generation {t_scene:.2f} s; first exposure (cold) {t_cold:.2f} s; warm best of {len(times)}: "
        f"{ours:.2f} s"
    )
    report([Comparison("lsstcam_detector", ours, "galsim per-object (extrapolated)", peer)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
