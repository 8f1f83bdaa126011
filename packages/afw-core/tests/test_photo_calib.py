"""Tests of osprey.afw.photo_calib: conversions, LSST error propagation, Chebyshev fields and ApCorrMap."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose

from osprey.afw.errors import AfwKeyError, AfwValueError
from osprey.afw.image import MaskedImage
from osprey.afw.photo_calib import (
    ApCorrMap,
    BoundedField,
    ChebyshevBoundedField,
    ConstantBoundedField,
    PhotoCalib,
    magnitude_to_nanojansky,
    nanojansky_to_magnitude,
)
from osprey.geom import Box2I, Extent2I, Point2D, Point2I

BBOX = Box2I(Point2I(10, -5), Extent2I(400, 300))
LN10 = math.log(10.0)


def test_known_conversions() -> None:
    calib = PhotoCalib(1.0)
    assert calib.instflux_to_magnitude(1.0) == pytest.approx(31.4, abs=1e-14)
    assert calib.instflux_to_nanojansky(1.0) == 1.0
    # 3631 Jy is AB magnitude 0.
    assert nanojansky_to_magnitude(3631e9) == pytest.approx(0.0, abs=1e-3)
    assert magnitude_to_nanojansky(31.4) == pytest.approx(1.0, rel=1e-14)
    calib = PhotoCalib(2.5)
    assert calib.instflux_to_nanojansky(100.0) == 250.0
    assert calib.instflux_to_magnitude(100.0) == pytest.approx(-2.5 * math.log10(250.0) + 31.4, rel=1e-15)
    assert calib.magnitude_to_instflux(calib.instflux_to_magnitude(123.4)) == pytest.approx(123.4, rel=1e-13)
    assert calib.nanojansky_to_instflux(250.0) == 100.0
    assert calib.instflux_at_zero_magnitude == pytest.approx(3631e9 / 2.5, rel=1e-3)
    assert math.isnan(calib.instflux_to_magnitude(-5.0))


def test_error_propagation_numbers() -> None:
    # flux 1000 +/- 10 counts (1 %), calibration 2 +/- 0.04 nJy/count (2 %): nJy 2000 +/- 2000 * sqrt(5) %.
    calib = PhotoCalib(2.0, 0.04)
    flux, err = calib.instflux_to_nanojansky(1000.0, 10.0)
    assert flux == 2000.0
    assert err == pytest.approx(2000.0 * math.sqrt(0.01**2 + 0.02**2), rel=1e-14)
    assert err == pytest.approx(44.72135954999579, rel=1e-14)
    mag, mag_err = calib.instflux_to_magnitude(1000.0, 10.0)
    assert mag == pytest.approx(31.4 - 2.5 * math.log10(2000.0), rel=1e-15)
    assert mag_err == pytest.approx(2.5 / LN10 * math.sqrt(0.01**2 + 0.02**2), rel=1e-14)
    # Zero flux: the error is the flux error times the calibration (finite, unlike hypot of ratios).
    assert calib.instflux_to_nanojansky(0.0, 10.0) == (0.0, 20.0)
    # Vectorised, broadcast shapes.
    fluxes, errs = calib.instflux_to_nanojansky(np.array([1000.0, 500.0]), np.array([10.0, 10.0]))
    assert_allclose(errs, [err, math.hypot(20.0, 500.0 * 0.04)], rtol=1e-14)
    assert fluxes.shape == (2,)
    # A zero point of 28 mag +/- 0.01 mag.
    zp = PhotoCalib.from_zero_point(28.0, 0.01)
    assert zp.instflux_to_magnitude(1.0) == pytest.approx(28.0, abs=1e-12)
    assert zp.instflux_to_magnitude(1e6, 0.0)[1] == pytest.approx(0.01, rel=1e-12)


def test_spatial_calibration() -> None:
    field = ChebyshevBoundedField(BBOX, [[2.0, 0.1], [0.05, 0.0]])
    calib = PhotoCalib(calibration=field, calibration_err=0.01)
    assert calib.calibration_mean == pytest.approx(2.0, rel=1e-14)  # odd orders average to zero
    assert calib.bbox == BBOX and not calib.is_spatially_constant
    x, y = np.array([20.0, 300.0]), np.array([0.0, 250.0])
    assert_allclose(calib.instflux_to_nanojansky(np.array([10.0, 10.0]), x=x, y=y), 10.0 * field.evaluate(x, y))
    assert calib.instflux_to_nanojansky(10.0, point=Point2D(20.0, 0.0)) == pytest.approx(10 * field.evaluate(20.0, 0.0))
    with pytest.raises(AfwValueError, match="pass the source position"):
        calib.instflux_to_nanojansky(10.0)


def test_calibrate_image() -> None:
    rng = np.random.default_rng(1)
    mi = MaskedImage.from_arrays(
        rng.normal(100, 5, (30, 40)).astype(np.float32),
        np.zeros((30, 40), np.int32),
        np.full((30, 40), 25.0, np.float32),
        xy0=(10, -5),
    )
    calib = PhotoCalib(3.0, 0.3)
    out = calib.calibrate_image(mi)
    assert out.image.units == "nJy" and out.bbox == mi.bbox
    assert_allclose(out.image.array, mi.image.array * 3.0, rtol=1e-6)
    assert_allclose(out.variance.array, 25.0 * 9.0, rtol=1e-6)
    assert mi.image.array[0, 0] != out.image.array[0, 0]  # the input is untouched
    with_scale = calib.calibrate_image(mi, include_scale_uncertainty=True)
    assert_allclose(with_scale.variance.array, 225.0 + (mi.image.array.astype(float) * 0.3) ** 2, rtol=1e-6)
    spatial = PhotoCalib(calibration=ChebyshevBoundedField(BBOX, [[2.0, 0.5]]))
    out = spatial.calibrate_image(mi)
    expected = mi.image.array * spatial.calibration.make_image(mi.bbox)
    assert_allclose(out.image.array, expected, rtol=1e-6)
    assert_allclose(out.image.array[0, 0], mi.image.array[0, 0] * spatial.calibration.evaluate(10.0, -5.0), rtol=1e-6)


@pytest.mark.parametrize(("ox", "oy", "triangular"), [(2, 2, True), (3, 1, False), (4, 4, True)])
def test_chebyshev_fit_recovers_coefficients(ox: int, oy: int, triangular: bool) -> None:
    rng = np.random.default_rng(42)
    truth = rng.normal(0, 1, (oy + 1, ox + 1))
    if triangular:
        jj, ii = np.indices(truth.shape)
        truth[ii + jj > max(ox, oy)] = 0.0
    field = ChebyshevBoundedField(BBOX, truth)
    x = rng.uniform(BBOX.x0 - 0.5, BBOX.x_end - 0.5, 500)
    y = rng.uniform(BBOX.y0 - 0.5, BBOX.y_end - 0.5, 500)
    fitted = ChebyshevBoundedField.fit(BBOX, x, y, field.evaluate(x, y), (ox, oy), triangular=triangular)
    assert np.max(np.abs(fitted.coefficients - truth)) < 1e-10
    weighted = ChebyshevBoundedField.fit(
        BBOX, x, y, field.evaluate(x, y), (ox, oy), weights=rng.uniform(0.5, 2, 500), triangular=triangular
    )
    assert np.max(np.abs(weighted.coefficients - truth)) < 1e-10


def test_chebyshev_definition_and_mean() -> None:
    # T_1(x') with x' mapping the pixel edges [x0 - 0.5, x_end - 0.5] onto [-1, 1].
    field = ChebyshevBoundedField(BBOX, [[0.0, 1.0]])
    assert field.evaluate(BBOX.x0 - 0.5, 0.0) == pytest.approx(-1.0, abs=1e-15)
    assert field.evaluate(BBOX.x_end - 0.5, 0.0) == pytest.approx(1.0, abs=1e-15)
    t2y = ChebyshevBoundedField(BBOX, [[0.0], [0.0], [1.0]])  # T_2(y') = 2 y'^2 - 1
    yc = (BBOX.y0 - 0.5 + BBOX.y_end - 0.5) / 2
    assert t2y.evaluate(Point2D(50.0, yc)) == pytest.approx(-1.0, abs=1e-15)
    # Mean over the box: exact, checked by a fine midpoint grid.
    c = np.array([[1.0, 0.3, -0.2], [0.1, 0.4, 0.0], [0.5, 0.0, 0.0]])
    f = ChebyshevBoundedField(BBOX, c)
    n = 800
    xs = BBOX.x0 - 0.5 + (np.arange(n) + 0.5) * BBOX.width / n
    ys = BBOX.y0 - 0.5 + (np.arange(n) + 0.5) * BBOX.height / n
    assert f.mean() == pytest.approx(f.evaluate(xs[None, :], ys[:, None]).mean(), abs=1e-5)
    assert f.make_image().shape == (BBOX.height, BBOX.width)
    assert f.make_image()[3, 7] == pytest.approx(f.evaluate(BBOX.x0 + 7, BBOX.y0 + 3), rel=1e-15)


def test_bounded_field_persistence() -> None:
    for field in (ConstantBoundedField(BBOX, 0.97), ChebyshevBoundedField(BBOX, [[1.0, 2e-3], [3e-4, 0.0]])):
        again = BoundedField.from_dict(json.loads(json.dumps(field.to_dict())))
        assert again == field and type(again) is type(field)
        assert pickle.loads(pickle.dumps(field)) == field
    assert ConstantBoundedField(BBOX, 1.0) != ConstantBoundedField(BBOX, 2.0)
    with pytest.raises(AfwValueError, match="unknown BoundedField type"):
        BoundedField.from_dict({"type": "Spline", "bbox": [0, 0, 1, 1]})


def test_photo_calib_persistence_and_validation() -> None:
    for calib in (
        PhotoCalib(1.7, 0.02, BBOX),
        PhotoCalib(calibration=ChebyshevBoundedField(BBOX, [[2.0, 0.1]]), calibration_err=0.1),
    ):
        again = PhotoCalib.from_dict(json.loads(json.dumps(calib.to_dict())))
        assert again == calib
        assert pickle.loads(pickle.dumps(calib)) == calib
    with pytest.raises(AfwValueError, match="calibration_mean"):
        PhotoCalib(-1.0)
    with pytest.raises(AfwValueError, match="calibration_err"):
        PhotoCalib(1.0, -0.1)
    with pytest.raises(AfwValueError, match="unknown PhotoCalib keys"):
        PhotoCalib.from_dict({"calibration_mean_njy_per_count": 1.0, "zeropoint": 27})


def test_ap_corr_map() -> None:
    ap = ApCorrMap()
    ap["base_PsfFlux_instFlux"] = ChebyshevBoundedField(BBOX, [[0.98, 0.01]])
    ap["base_PsfFlux_instFluxErr"] = ConstantBoundedField(BBOX, 0.002)
    assert sorted(ap) == ["base_PsfFlux_instFlux", "base_PsfFlux_instFluxErr"] and len(ap) == 2
    assert ap["base_PsfFlux_instFluxErr"].evaluate(Point2D(20.0, 30.0)) == 0.002
    assert ApCorrMap.from_dict(json.loads(json.dumps(ap.to_dict()))) == ap
    with pytest.raises(AfwKeyError, match="no aperture correction for 'missing'"):
        ap["missing"]
    with pytest.raises(AfwValueError, match="must be a BoundedField"):
        ap["x"] = 1.0
    del ap["base_PsfFlux_instFluxErr"]
    assert list(ap) == ["base_PsfFlux_instFlux"]
