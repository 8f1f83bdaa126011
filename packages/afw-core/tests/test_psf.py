"""Tests of osprey.afw.psf: normalisation, moments, aperture fluxes, sub-pixel placement and persistence."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose

from osprey.afw.errors import AfwValueError
from osprey.afw.image import Image
from osprey.afw.psf import DoubleGaussianPsf, GaussianPsf, ImagePsf, Psf, PsfShape, lanczos_shift
from osprey.geom import Box2I, Extent2I, Point2D, Point2I


def moments(image: Image) -> tuple[float, float, float, float, float]:
    """Reference: unweighted centroid and second moments of an Image in its parent frame (a plain loop-free oracle)."""
    a = image.array.astype(np.float64)
    yy, xx = np.mgrid[0 : a.shape[0], 0 : a.shape[1]]
    xx = xx + image.xy0.x
    yy = yy + image.xy0.y
    total = a.sum()
    xc, yc = (a * xx).sum() / total, (a * yy).sum() / total
    ixx = (a * (xx - xc) ** 2).sum() / total
    iyy = (a * (yy - yc) ** 2).sum() / total
    ixy = (a * (xx - xc) * (yy - yc)).sum() / total
    return xc, yc, ixx, iyy, ixy


@pytest.mark.parametrize("sigma", [1.0, 2.0, 3.7])
def test_gaussian_kernel_sum_and_moments(sigma: float) -> None:
    psf = GaussianPsf(51, 51, sigma)
    kernel = psf.compute_kernel_image()
    assert kernel.xy0 == Point2I(-25, -25) and kernel.dtype == np.float64
    assert kernel.array.sum() == pytest.approx(1.0, abs=1e-14)
    assert kernel.array[25, 25] == kernel.array.max()  # centred on the middle pixel
    xc, yc, ixx, iyy, ixy = moments(kernel)
    assert abs(xc) < 1e-12 and abs(yc) < 1e-12
    assert ixx == pytest.approx(sigma**2, abs=1e-3) and iyy == pytest.approx(sigma**2, abs=1e-3)
    assert abs(ixy) < 1e-12
    assert psf.compute_shape() == PsfShape(sigma**2, sigma**2, 0.0)
    measured = Psf.compute_shape(psf)  # the generic (measured) path agrees with the analytic one
    assert measured.ixx == pytest.approx(sigma**2, abs=1e-3)


def test_gaussian_aperture_flux_analytic() -> None:
    psf = GaussianPsf(41, 41, 2.5)
    for r in (0.0, 1.0, 2.5, 5.0, 10.0):
        assert psf.compute_aperture_flux(r) == pytest.approx(1 - math.exp(-(r**2) / (2 * 2.5**2)), abs=1e-12)


@pytest.mark.parametrize("radius", [2.0, 3.0, 5.0, 8.0, 15.0])
def test_pixelised_aperture_flux_matches_analytic(radius: float) -> None:
    # The generic numeric integration (used by ImagePsf) against the closed form: 1e-3.
    pixelised = ImagePsf.from_psf(GaussianPsf(41, 41, 2.5))
    expected = 1 - math.exp(-(radius**2) / (2 * 2.5**2))
    assert pixelised.compute_aperture_flux(radius) == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize("point", [(100.3, 57.8), (10.5, 3.49), (-4.25, 0.0), (2047.0, 2001.999)])
@pytest.mark.parametrize(
    "psf",
    [GaussianPsf(41, 35, 2.2), DoubleGaussianPsf(41, 41, 1.5, 4.0, 0.1), ImagePsf.from_psf(GaussianPsf(31, 31, 2.0))],
    ids=["gaussian", "double", "image"],
)
def test_compute_image_centroid_at_point(psf: Psf, point: tuple[float, float]) -> None:
    image = psf.compute_image(point)
    xc, yc, *_ = moments(image)
    assert abs(xc - point[0]) < 1e-3 and abs(yc - point[1]) < 1e-3
    assert image.array.sum() == pytest.approx(1.0, abs=1e-12)
    assert image.bbox == psf.compute_bbox(point) and image.dimensions == psf.dimensions
    nearest = Point2I(math.floor(point[0] + 0.5), math.floor(point[1] + 0.5))
    assert image.bbox.center == nearest.to_point2d()  # the nearest pixel is the middle pixel


def test_double_gaussian_moments_are_flux_weighted() -> None:
    s1, s2, b = 1.5, 4.0, 0.1
    psf = DoubleGaussianPsf(61, 61, s1, s2, b)
    w1, w2 = s1**2, b * s2**2  # flux of each component: central amplitude x 2 pi sigma^2
    expected = (w1 * s1**2 + w2 * s2**2) / (w1 + w2)
    _, _, ixx, iyy, _ = moments(psf.compute_kernel_image())
    assert ixx == pytest.approx(expected, abs=1e-3) and iyy == pytest.approx(expected, abs=1e-3)
    assert psf.compute_shape().ixx == pytest.approx(expected, rel=1e-14)
    assert psf.flux_fractions == pytest.approx((w1 / (w1 + w2), w2 / (w1 + w2)))
    r = 3.0
    analytic = (w1 * (1 - math.exp(-(r**2) / 2 / s1**2)) + w2 * (1 - math.exp(-(r**2) / 2 / s2**2))) / (w1 + w2)
    assert psf.compute_aperture_flux(r) == pytest.approx(analytic, abs=1e-12)
    # b = 0 is a single Gaussian.
    assert np.allclose(
        DoubleGaussianPsf(21, 21, 2.0, 5.0, 0.0).compute_kernel_image().array,
        GaussianPsf(21, 21, 2.0).compute_kernel_image().array,
        rtol=0,
        atol=1e-15,
    )


def test_image_psf_from_array_and_shift() -> None:
    rng = np.random.default_rng(3)
    arr = rng.uniform(0.0, 1.0, (15, 21))
    psf = ImagePsf(arr)
    assert psf.dimensions == Extent2I(21, 15)
    assert_allclose(psf.compute_kernel_image().array, arr / arr.sum(), rtol=1e-15)
    assert psf.compute_bbox() == Box2I(Point2I(-10, -7), Extent2I(21, 15))
    # Integer positions are exact copies; the shift keeps the sum.
    assert_allclose(psf.compute_image(Point2D(30.0, -2.0)).array, arr / arr.sum(), rtol=1e-15)
    # A profile that stays inside the array keeps its sum and moves its centroid by exactly the shift.
    inner = np.pad(arr, 6)
    shifted = Image.from_array(lanczos_shift(inner, 0.37, -0.21))
    assert shifted.array.sum() == pytest.approx(inner.sum(), rel=1e-13)
    before, after = moments(Image.from_array(inner)), moments(shifted)
    assert after[0] - before[0] == pytest.approx(0.37, abs=1e-12)
    assert after[1] - before[1] == pytest.approx(-0.21, abs=1e-12)


def test_validation() -> None:
    with pytest.raises(AfwValueError, match="odd"):
        GaussianPsf(40, 41, 2.0)
    with pytest.raises(AfwValueError, match="sigma must be a positive"):
        GaussianPsf(41, 41, -1.0)
    with pytest.raises(AfwValueError, match="b \\(amplitude ratio\\)"):
        DoubleGaussianPsf(41, 41, 1.0, 2.0, -0.5)
    with pytest.raises(AfwValueError, match="positive sum"):
        ImagePsf(np.zeros((5, 5)))
    with pytest.raises(AfwValueError, match="unknown PSF type 'MoffatPsf'"):
        Psf.from_dict({"type": "MoffatPsf", "width": 5})
    with pytest.raises(AfwValueError, match="radius"):
        GaussianPsf(11, 11, 1.0).compute_aperture_flux(-1.0)


@pytest.mark.parametrize(
    "psf",
    [GaussianPsf(25, 27, 1.7), DoubleGaussianPsf(31, 31, 1.2, 3.3, 0.05), ImagePsf.from_psf(GaussianPsf(9, 11, 1.3))],
    ids=["gaussian", "double", "image"],
)
def test_persistence_and_equality(psf: Psf) -> None:
    as_json = json.loads(json.dumps(psf.to_dict()))
    again = Psf.from_dict(as_json)
    assert again == psf and type(again) is type(psf)
    assert type(psf).from_dict(as_json) == psf
    assert pickle.loads(pickle.dumps(psf)) == psf
    assert np.array_equal(again.compute_image((3.3, 4.4)).array, psf.compute_image((3.3, 4.4)).array)
    assert psf != GaussianPsf(25, 27, 1.8)
