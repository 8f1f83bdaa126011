"""Tests of osprey.afw.camera_geom: the real LSSTCam description, transforms, and the declarative format."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from osprey.afw.camera_geom import (
    FIELD_ANGLE,
    FOCAL_PLANE,
    PIXELS,
    Amplifier,
    Camera,
    CameraGeomError,
    Detector,
    DetectorType,
    Orientation,
    RadialDistortion,
    ReadoutCorner,
)
from osprey.afw.errors import AfwValueError
from osprey.geom import Angle, Box2I, Extent2D, Extent2I, Point2D, Point2I, degrees
from osprey.utils.testing import realdata_path

LSSTCAM = "camera/lsstCam"
ARCSEC = math.pi / 180.0 / 3600.0


@pytest.fixture(scope="module")
def lsst_dir() -> Path:
    return realdata_path(f"{LSSTCAM}/R22.yaml", __file__).parent


@pytest.fixture(scope="module")
def lsstcam(lsst_dir: Path) -> Camera:
    return Camera.from_lsst_policy(lsst_dir)


# -- the real LSSTCam description ----------------------------------------------------------
def test_lsstcam_loads_science_rafts(lsstcam: Camera) -> None:
    assert lsstcam.name == "LSSTCam"
    assert len(lsstcam) == 189  # 21 science rafts x 9 CCDs; corner rafts need an explicit layout
    assert lsstcam.ids == list(range(189))
    assert lsstcam[94].name == "R22_S11"
    assert lsstcam["R22_S22"].id == 98  # the real raw file raw-layout/.../R22-S22-det098.fits
    assert lsstcam["R01_S00"].id == 0 and lsstcam["R43_S22"].id == 188
    assert all(len(d) == 16 for d in lsstcam)
    assert all(d.type is DetectorType.SCIENCE for d in lsstcam)
    assert lsstcam.plate_scale == pytest.approx(20.005867576692737)


def test_lsstcam_values_from_the_files(lsstcam: Camera) -> None:
    # R22.yaml: S00 C10 gain 1.46712, readNoise 5.420, saturation 132814; serial E2V-CCD250-369.
    det = lsstcam["R22_S00"]
    assert det.serial == "E2V-CCD250-369" and det.physical_type == "E2V"
    amp = det["C10"]
    assert (amp.gain, amp.read_noise, amp.saturation) == (1.46712, 5.420, 132814.0)
    assert (det["C00"].gain, det["C00"].read_noise) == (1.51775, 5.318)
    # R01.yaml: S00 C10 gain 1.74075, readNoise 6.255 on an ITL sensor.
    itl = lsstcam["R01_S00"]
    assert itl.physical_type == "ITL" and itl.serial == "ITL-3800C-083"
    assert (itl["C10"].gain, itl["C10"].read_noise) == (1.74075, 6.255)
    # Geometry from cameraHeader.yaml: E2V 4096x4004 px of 10 um, ITL 4072x4000.
    assert det.bbox == Box2I(Point2I(0, 0), Extent2I(4096, 4004))
    assert itl.bbox == Box2I(Point2I(0, 0), Extent2I(4072, 4000))
    assert det.pixel_size == Extent2D(0.010, 0.010)
    assert amp.raw_bbox == Box2I(Point2I(0, 0), Extent2I(576, 2048))
    assert amp.raw_data_bbox == Box2I(Point2I(10, 0), Extent2I(512, 2002))
    assert amp.raw_serial_overscan_bbox == Box2I(Point2I(522, 0), Extent2I(54, 2002))
    assert amp.raw_parallel_overscan_bbox == Box2I(Point2I(10, 2002), Extent2I(512, 46))
    assert amp.raw_parallel_prescan_bbox.is_empty()
    assert amp.bbox == Box2I(Point2I(0, 2002), Extent2I(512, 2002))  # ixy = (0, 1)
    assert (amp.raw_flip_x, amp.raw_flip_y, amp.readout_corner) == (True, True, ReadoutCorner.UR)
    assert det["C00"].readout_corner is ReadoutCorner.LL
    assert (amp.linearity_type, amp.linearity_coeffs) == ("PROPORTIONAL", (0.0, 142857.0))


def test_pixel_focal_plane_round_trip(lsstcam: Camera) -> None:
    rng = np.random.default_rng(5)
    for name in ("R22_S11", "R01_S00", "R43_S22", "R30_S12"):
        det = lsstcam[name]
        pix = rng.uniform(-0.5, 4000.0, (1000, 2))
        fp = det.transform(pix, PIXELS, FOCAL_PLANE)
        back = det.transform(fp, FOCAL_PLANE, PIXELS)
        assert np.max(np.abs(back - pix)) < 1e-9
        fa = det.transform(pix, PIXELS, FIELD_ANGLE)
        assert np.max(np.abs(det.transform(fa, FIELD_ANGLE, PIXELS) - pix)) < 1e-9


def test_reference_point_maps_to_orientation_position(lsstcam: Camera) -> None:
    for det in lsstcam:
        fp = det.transform(det.orientation.reference_point, PIXELS, FOCAL_PLANE)
        assert fp.x == pytest.approx(det.orientation.fp_position.x, abs=1e-12)
        assert fp.y == pytest.approx(det.orientation.fp_position.y, abs=1e-12)
    # Nominal layout: R22 at the centre, R01 at (-127, -254) mm, CCD S00 at (-42.25, -42.25) in its raft.
    assert lsstcam["R22_S11"].orientation.fp_position == Point2D(0.0, 0.0)
    assert lsstcam["R01_S00"].orientation.fp_position == Point2D(-127.0 - 42.25, -254.0 - 42.25)
    e2v = lsstcam["R22_S11"]  # the E2V reference pixel (2047.5, 2001.5) is the centre of 4096x4004
    assert e2v.orientation.reference_point == e2v.center
    # One pixel step in x is 10 um along the focal-plane x axis (yaw 0).
    step = e2v.transform(np.array([[100.0, 7.0], [101.0, 7.0]]), PIXELS, FOCAL_PLANE)
    assert_allclose(step[1] - step[0], [0.010, 0.0], atol=1e-15)


def test_field_angle_matches_polynomial(lsst_dir: Path, lsstcam: Camera) -> None:
    # cameraTransforms.yaml: coeffs (mm) [0, 1, 0, -8.33713991e-09, 0, -1.41389858e-15], 20.0058... arcsec/mm.
    scale = 20.005867576692737 * ARCSEC
    r = np.array([0.0, 1.0, 50.0, 200.0, 330.0])
    expected = scale * (r - 8.33713991e-09 * r**3 - 1.41389858e-15 * r**5)
    fp = np.stack([r * 0.6, r * 0.8], axis=-1)  # radius r along a 3-4-5 direction
    fa = lsstcam.transform(fp, FOCAL_PLANE, FIELD_ANGLE)
    assert_allclose(np.hypot(fa[:, 0], fa[:, 1]), expected, rtol=1e-13, atol=1e-18)
    assert_allclose(fa[1:, 1] / fa[1:, 0], 0.8 / 0.6, rtol=1e-13)  # direction kept
    assert_allclose(lsstcam.transform(fa, FIELD_ANGLE, FOCAL_PLANE), fp, atol=1e-11)
    # The edge of the field (r = 330 mm) is about 1.83 deg from the boresight.
    assert math.degrees(expected[-1]) == pytest.approx(1.8329, abs=1e-3)


def test_find_detectors(lsstcam: Camera) -> None:
    centres = np.array([d.transform(d.center, PIXELS, FOCAL_PLANE) for d in lsstcam])
    assert_array_equal(lsstcam.find_detector_ids(centres), lsstcam.ids)
    for det in (lsstcam["R22_S11"], lsstcam["R03_S20"], lsstcam["R41_S02"]):
        found = lsstcam.find_detectors(det.transform(det.center, PIXELS, FOCAL_PLANE))
        assert [d.name for d in found] == [det.name]
        fa = det.transform(det.center, PIXELS, FIELD_ANGLE)
        assert [d.name for d in lsstcam.find_detectors(fa, FIELD_ANGLE)] == [det.name]
    # Between S11 and S12 of R22 (x = 21.125 mm) is a gap; far outside the camera is nothing.
    assert lsstcam.find_detectors(Point2D(21.125, 0.0)) == []
    assert lsstcam.find_detector_ids([[1000.0, 0.0]])[0] == -1


def test_lsstcam_dict_round_trip_is_exact(lsstcam: Camera) -> None:
    again = Camera.from_dict(lsstcam.to_dict())
    assert again == lsstcam
    assert again["R22_S00"]["C10"] == lsstcam["R22_S00"]["C10"]


def test_corner_raft_needs_layout(lsst_dir: Path) -> None:
    with pytest.raises(CameraGeomError, match="R00W.*raft_layout"):
        Camera.from_lsst_policy(lsst_dir, rafts=["R00W"])
    cam = Camera.from_lsst_policy(
        lsst_dir,
        rafts=["R00", "R00W"],
        raft_layout={
            "R00": {"offset_mm": [-254.0, -254.0], "id0": 189},
            "R00W": {"offset_mm": [-254.0, -254.0], "id0": 191},
        },
    )
    assert cam.names == ["R00_SG0", "R00_SG1", "R00_SW0", "R00_SW1"]
    assert cam["R00_SG0"].type is DetectorType.GUIDER and cam["R00_SW1"].type is DetectorType.WAVEFRONT
    assert cam["R00_SG0"].orientation.yaw == Angle(270.0, degrees)  # geometryWithinRaft yaw
    assert cam["R00_SW0"].bbox.height == 2000 and cam["R00_SG1"]["C00"].gain == 1.45189


def test_lsst_policy_errors_name_file_and_key(tmp_path: Path, lsst_dir: Path) -> None:
    for name in ("cameraHeader.yaml", "cameraTransforms.yaml"):
        src = lsst_dir / name if (lsst_dir / name).is_file() else lsst_dir.parent / name
        (tmp_path / name).write_text(src.read_text())
    text = (lsst_dir / "R22.yaml").read_text().replace("readNoise : 5.420", "readNois : 5.420", 1)
    (tmp_path / "R22.yaml").write_text(text)
    with pytest.raises(CameraGeomError, match=r"R22\.yaml: R22\.amplifiers\.S00\.C10.*readNoise"):
        Camera.from_lsst_policy(tmp_path)
    with pytest.raises(CameraGeomError, match="does not exist"):
        Camera.from_lsst_policy(tmp_path / "missing")


# -- the declarative format ------------------------------------------------------------------
TWO_CCD_YAML = """
name: TinyCam
plate_scale_arcsec_per_mm: 16.0
field_angle:
  radial_coeffs_mm: [0.0, 1.0, 0.0, -1.0e-7]
detector_templates:
  CCD42:
    physical_type: CCD42-40
    bbox_px: [[0, 0], [200, 100]]
    pixel_size_um: 15.0
    amplifier_defaults:
      read_noise_e: 4.5
      saturation_adu: 65535
      linearity: {type: POLYNOMIAL, coeffs: [0.0, 1.0, 1.0e-7]}
      raw: {bbox_px: [[0, 0], [110, 110]], data_bbox_px: [[10, 0], [100, 100]],
            serial_prescan_bbox_px: [[0, 0], [10, 100]], parallel_overscan_bbox_px: [[10, 100], [100, 10]]}
    amplifiers:
      - {name: A, bbox_px: [[0, 0], [100, 100]], gain_e_per_adu: 1.5}
      - {name: B, bbox_px: [[100, 0], [100, 100]], gain_e_per_adu: 1.6, raw: {flip_x: true}}
detectors:
  - id: 1
    name: left
    serial: SN-001
    template: CCD42
    orientation: {focal_plane_position_mm: [-1.6, 0.0], reference_point_px: [99.5, 49.5]}
  - id: 2
    name: right
    type: FOCUS
    template: CCD42
    orientation: {focal_plane_position_mm: [1.6, 0.0], reference_point_px: [99.5, 49.5], yaw_deg: 90.0}
"""


@pytest.fixture
def tiny_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "tinycam.yaml"
    path.write_text(TWO_CCD_YAML)
    return path


def test_declarative_yaml(tiny_yaml: Path) -> None:
    cam = Camera.from_yaml(tiny_yaml)
    assert cam.names == ["left", "right"] and cam["right"].type is DetectorType.FOCUS
    left = cam["left"]
    assert left.pixel_size == Extent2D(0.015, 0.015) and left.serial == "SN-001"
    assert (left["A"].gain, left["A"].read_noise, left["A"].saturation) == (1.5, 4.5, 65535.0)
    assert left["B"].raw_flip_x and left["B"].readout_corner is ReadoutCorner.LR
    assert left["A"].raw_serial_prescan_bbox == Box2I(Point2I(0, 0), Extent2I(10, 100))
    assert left["A"].linearity_coeffs == (0.0, 1.0, 1e-7)
    # yaw 90 deg: +x in pixels is +y on the focal plane.
    right = cam["right"]
    d = right.transform(np.array([[99.5, 49.5], [100.5, 49.5]]), PIXELS, FOCAL_PLANE)
    assert_allclose(d[0], [1.6, 0.0], atol=1e-15)
    assert_allclose(d[1] - d[0], [0.0, 0.015], atol=1e-15)
    # Field angle: (r - 1e-7 r^3) * 16 arcsec/mm.
    fa = cam.transform(Point2D(3.0, 4.0), FOCAL_PLANE, FIELD_ANGLE)
    assert math.hypot(fa.x, fa.y) == pytest.approx((5.0 - 1e-7 * 125.0) * 16.0 * ARCSEC, rel=1e-14)
    assert cam.find_detectors(Point2D(-1.6, 0.0))[0].name == "left"


def test_declarative_round_trips(tiny_yaml: Path, tmp_path: Path) -> None:
    cam = Camera.from_yaml(tiny_yaml)
    assert Camera.from_dict(cam.to_dict()) == cam
    out = tmp_path / "again.yaml"
    cam.to_yaml(out)
    assert Camera.from_yaml(out) == cam
    assert pickle.loads(pickle.dumps(cam)) == cam


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "gain_e_per_adu: 1.5",
            "gain: 1.5",
            r"tinycam\.yaml: detectors\[0\]\.amplifiers\[0\]: required key 'gain_e_per_adu'.*'gain'",
        ),
        ("pixel_size_um: 15.0", "pixel_size: 15.0", r"detectors\[0\].*pixel_size_um or pixel_size_mm"),
        ("gain_e_per_adu: 1.6", "gain_e_per_adu: -1.6", r"amplifiers\[1\]\.gain_e_per_adu: must be > 0"),
        ("[[100, 0], [100, 100]], gain", "[[90, 0], [100, 100]], gain", "tile the detector"),
        (
            "template: CCD42\n    orientation: {focal_plane_position_mm: [1.6",
            "template: CCD43\n    orientation: {focal_plane_position_mm: [1.6",
            r"detectors\[1\]\.template.*CCD43",
        ),
        ("yaw_deg: 90.0", "yaw: 90.0", r"orientation: unknown key.*'yaw'"),
    ],
)
def test_declarative_errors_name_the_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in TWO_CCD_YAML
    path = tmp_path / "tinycam.yaml"
    path.write_text(TWO_CCD_YAML.replace(old, new, 1))
    with pytest.raises(CameraGeomError, match=message) as info:
        Camera.from_yaml(path)
    assert isinstance(info.value, AfwValueError) and isinstance(info.value, ValueError)
    assert str(pickle.loads(pickle.dumps(info.value))) == str(info.value)


def test_single_detector_camera() -> None:
    cam = Camera.single_detector("MyScope", 2048, 1024, gain=1.9, read_noise=5.0, pixel_size_um=13.5, plate_scale=15.0)
    det = cam[0]
    assert det.bbox == Box2I(Point2I(0, 0), Extent2I(2048, 1024)) and det["A00"].gain == 1.9
    assert det.transform(det.center, PIXELS, FOCAL_PLANE) == Point2D(0.0, 0.0)
    fa = det.transform(Point2D(det.center.x + 100.0, det.center.y), PIXELS, FIELD_ANGLE)
    assert fa.x == pytest.approx(100 * 0.0135 * 15.0 * ARCSEC, rel=1e-14)
    with pytest.raises(CameraGeomError, match="no detector with id 3"):
        cam[3]


def test_detector_without_camera_has_no_field_angle() -> None:
    amp = Amplifier("A", Box2I(Point2I(0, 0), Extent2I(10, 10)), gain=2.0, read_noise=3.0)
    det = Detector(7, "solo", Box2I(Point2I(0, 0), Extent2I(10, 10)), Extent2D(0.01, 0.01), Orientation(), (amp,))
    with pytest.raises(CameraGeomError, match="no focal plane -> field angle"):
        det.transform(Point2D(1.0, 1.0), PIXELS, FIELD_ANGLE)
    assert amp.raw_bbox == amp.bbox and amp.raw_data_bbox == amp.bbox
    with pytest.raises(CameraGeomError, match="coeffs\\[0\\] must be 0"):
        RadialDistortion([1.0, 1.0])
