"""The Fourier-space renderer against GalSim drawing the same objects directly."""

import galsim
import numpy as np
import pytest

from osprey.sims import PsfConfig
from osprey.sims.psf import DetectorPsf, FieldPsf
from osprey.sims.render import Component, choose_stamp_sizes, render_objects, shape_matrices
from osprey.sims.testing import small_camera


@pytest.fixture(scope="module")
def psf():
    det = small_camera()[94]
    cfg = PsfConfig(grid=1, stamp_size=64)
    field = FieldPsf(cfg, 0.7, 1.1, 622.0, 8.36, 0.61, 1.75, np.random.default_rng(1))
    return DetectorPsf(field, det), field, det


def _jacobian(det):
    from osprey.sims.psf import local_jacobians

    def to_arcsec(p):
        return det.transform(p, "PIXELS", "FIELD_ANGLE") * 206264.80624709636

    return local_jacobians(to_arcsec, [255.5], [127.5])[0]


def test_point_source_flux_and_centroid(psf):
    p, _, _ = psf
    img = np.zeros((256, 512))
    x, y = np.array([100.3, 300.71]), np.array([60.45, 190.2])
    render_objects(img, p, x, y, np.array([1e4, 2e4]), np.array([64, 64]))
    for xi, yi, f in zip(x, y, (1e4, 2e4), strict=True):
        ix, iy = int(round(xi)), int(round(yi))
        cut = img[iy - 32 : iy + 32, ix - 32 : ix + 32]
        assert cut.sum() == pytest.approx(f * p.images[0].sum(), rel=1e-9)
        ref = p.image_at(xi, yi, 64)
        yy, xx = np.mgrid[0:64, 0:64]
        cx = (cut * xx).sum() / cut.sum() - (ref * xx).sum() / ref.sum()
        cy = (cut * yy).sum() / cut.sum() - (ref * yy).sum() / ref.sum()
        assert cx == pytest.approx(xi - ix, abs=2e-3)  # wrap-around of the truncated wings
        assert cy == pytest.approx(yi - iy, abs=2e-3)


def test_bulge_disk_galaxy_matches_galsim(psf):
    p, field, det = psf
    jac_fa = _jacobian(det)
    # A sky frame rotated 30 degrees from the field-angle frame and slightly sheared.
    rot = np.radians(30.0)
    sky_from_fa = np.array([[np.cos(rot), -np.sin(rot)], [np.sin(rot), np.cos(rot)]]) @ np.array(
        [[1.02, 0.01], [0.0, 0.99]]
    )
    jac_sky = sky_from_fa @ jac_fa
    hlr_b, q_b, hlr_d, q_d, pa, frac_b = 0.5, 0.8, 1.2, 0.45, 35.0, 0.3
    flux, x, y = 5e4, 255.3, 127.2
    comps = [
        Component(np.array([frac_b]), shape_matrices([hlr_b], [q_b], [pa], jac_sky[None]), "bulge"),
        Component(np.array([1 - frac_b]), shape_matrices([hlr_d], [q_d], [pa], jac_sky[None]), "disk"),
    ]
    ours = np.zeros((256, 512))
    render_objects(ours, p, [x], [y], [flux], [64], components=comps)
    ours = ours[127 - 32 : 127 + 32, 255 - 32 : 255 + 32]

    beta = (90.0 - pa) * galsim.degrees  # PA north through east -> angle from +east
    bulge = galsim.DeVaucouleurs(half_light_radius=hlr_b, trunc=5 * hlr_b, flux_untruncated=False)
    gal = frac_b * bulge.shear(q=q_b, beta=beta) + (1 - frac_b) * galsim.Exponential(half_light_radius=hlr_d).shear(
        q=q_d, beta=beta
    )
    fa_from_sky = np.linalg.inv(sky_from_fa)
    gal_fa = gal.transform(*fa_from_sky.ravel())
    psf_profile = field.profile(*p.field_angles[0])
    wcs = galsim.JacobianWCS(*jac_fa.ravel())
    ref = galsim.ImageD(64, 64, wcs=wcs)
    galsim.Convolve(gal_fa, psf_profile).withFlux(flux).drawImage(
        image=ref, center=galsim.PositionD(33.3, 33.2), method="auto"
    )
    diff = ours - ref.array
    assert np.abs(diff).max() < 0.01 * ref.array.max()
    assert ours.sum() == pytest.approx(ref.array.sum(), rel=0.01)


def test_trail_spreads_flux_along_the_motion(psf):
    p, _, _ = psf
    img = np.zeros((256, 512))
    render_objects(img, p, [255.0], [127.0], [1e5], [64], trail=np.array([[20.0, 0.0]]))
    row = img[127, 255 - 32 : 255 + 32]
    above = np.flatnonzero(row > 0.5 * row.max())
    assert 18 <= above[-1] - above[0] + 1 <= 24  # a 20-pixel trail, blurred by the PSF at its ends
    assert img.sum() == pytest.approx(1e5 * p.images[0].sum(), rel=1e-3)


def test_stamps_grow_with_flux(psf):
    p, _, _ = psf
    sizes = choose_stamp_sizes(p, np.array([10.0, 1e4, 1e8]), tolerance=1.0)
    assert sizes[0] == 16 and sizes[0] <= sizes[1] <= sizes[2] and sizes[2] >= 64
