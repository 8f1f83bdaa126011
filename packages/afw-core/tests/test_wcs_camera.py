"""A detector WCS composed from camera geometry (pixels -> field angle) and a TAN at the boresight."""

import math

import numpy as np
import pytest

from osprey.afw.camera_geom import Camera
from osprey.afw.wcs import make_camera_wcs
from osprey.geom import Angle, Point2D, SpherePoint, bearing, degrees, separation

PLATE_SCALE = 20.0  # arcsec/mm
PIXEL_UM = 10.0  # so 0.2 arcsec/pixel


@pytest.fixture(scope="module")
def detector():
    return Camera.single_detector("TestCam", 400, 300, pixel_size_um=PIXEL_UM, plate_scale=PLATE_SCALE)[0]


@pytest.mark.parametrize("orientation_deg", [0.0, 30.0, 271.5])
def test_angle_from_boresight_is_atan_of_field_angle(detector, orientation_deg):
    boresight = SpherePoint(150.0, -30.0, degrees)
    wcs = make_camera_wcs(detector, boresight, Angle(orientation_deg, degrees))
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-0.5, 399.5, 200), rng.uniform(-0.5, 299.5, 200)
    ra, dec = wcs.pixel_to_sky_array(x, y)
    fa = detector.transform(np.stack([x, y], axis=-1), "PIXELS", "FIELD_ANGLE")
    expected = np.arctan(np.hypot(fa[:, 0], fa[:, 1]))  # TAN: tan(rho) = |field angle|
    sep = separation(boresight.longitude.as_radians(), boresight.latitude.as_radians(), ra, dec)
    np.testing.assert_allclose(sep, expected, rtol=1e-9, atol=1e-14)
    # Round trip sky -> pixel -> sky through the camera transform's inverse.
    x2, y2 = wcs.sky_to_pixel_array(ra, dec)
    np.testing.assert_allclose(x2, x, atol=1e-7)
    np.testing.assert_allclose(y2, y, atol=1e-7)


@pytest.mark.parametrize(("flip_x", "x_bearing_deg"), [(False, 270.0), (True, 90.0)])
def test_orientation_and_flip_put_axes_on_the_sky(detector, flip_x, x_bearing_deg):
    boresight = SpherePoint(10.0, 20.0, degrees)
    wcs = make_camera_wcs(detector, boresight, Angle(0.0, degrees), flip_x=flip_x)
    centre = detector.transform(Point2D(0.0, 0.0), "FIELD_ANGLE", "PIXELS")
    lon0, lat0 = (float(v[0]) for v in wcs.pixel_to_sky_array(np.array([centre.x]), np.array([centre.y])))
    b_lon, b_lat = boresight.longitude.as_radians(), boresight.latitude.as_radians()
    assert math.degrees(separation(lon0, lat0, b_lon, b_lat)) < 1e-9
    for dx, dy, want in ((0.0, 50.0, 0.0), (50.0, 0.0, x_bearing_deg)):
        lon, lat = wcs.pixel_to_sky_array(np.array([centre.x + dx]), np.array([centre.y + dy]))
        got = math.degrees(float(bearing(lon0, lat0, lon[0], lat[0]))) % 360.0
        assert abs((got - want + 180.0) % 360.0 - 180.0) < 1e-6
    # 50 pixels of 10 um at 20 arcsec/mm is 10 arcsec.
    lon, lat = wcs.pixel_to_sky_array(np.array([centre.x]), np.array([centre.y + 50.0]))
    assert math.degrees(float(separation(lon0, lat0, lon[0], lat[0]))) * 3600 == pytest.approx(10.0, rel=1e-6)
