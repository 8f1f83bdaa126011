"""DECam camera geometry against CTIO's chip-centre table and the real raw header layout."""

from __future__ import annotations

import math

import numpy as np
import pytest

from osprey.afw.camera_geom import FIELD_ANGLE, FOCAL_PLANE, PIXELS
from osprey.geom import Box2I
from osprey.obs.base import read_header
from osprey.obs.decam import (
    DecamGeometryError,
    amplifiers_from_header,
    camera_description,
    format_section,
    load_camera,
    parse_section,
    read_chip_centers,
    section_cards,
)
from osprey.obs.decam._build import build_resources
from osprey.utils.testing import realdata_path

# Every section and electronics card of the real raw HDU of S1 (CCDNUM 25), exposure 229388.
S1_CARDS = (
    "DATASEC", "TRIMSEC", "CCDSEC", "DATASECA", "TRIMSECA", "CCDSECA", "AMPSECA", "BIASSECA", "PRESECA",
    "POSTSECA", "DATASECB", "TRIMSECB", "CCDSECB", "AMPSECB", "BIASSECB", "PRESECB", "POSTSECB",
)  # fmt: skip


@pytest.fixture(scope="module")
def centers():
    return {row.ccdnum: row for row in read_chip_centers(realdata_path("calibs/decam/chipcenters.txt", __file__))}


@pytest.fixture(scope="module")
def s1_header():
    return read_header(realdata_path("headers/decam/fitsheader-decam.yaml", __file__))


def test_62_science_ccds_named_and_numbered_as_ctio(centers):
    camera = load_camera()
    assert camera.name == "DECam" and camera.ids == list(range(1, 63))
    assert {d.name for d in camera} == {f"S{i}" for i in range(1, 32)} | {f"N{i}" for i in range(1, 32)}
    for det in camera:
        assert det.name == centers[det.id].name
        assert (det.bbox.width, det.bbox.height) == (2048, 4096)
        assert det.pixel_size.x == det.pixel_size.y == 0.015
        assert [a.name for a in det] == ["A", "B"]


def test_ccd_centres_and_corners_match_chipcenters(centers):
    camera = load_camera()
    for det in camera:
        row = centers[det.id]
        centre = det.transform(np.array([[1023.5, 2047.5]]), PIXELS, FOCAL_PLANE)[0]
        np.testing.assert_allclose(centre, row.center_mm, atol=1e-9)
        corners = det.get_corners(FOCAL_PLANE)
        # rotcor turns the CCD by at most 0.05 deg: corners move by < 61.44 mm * sin(0.05 deg) = 0.054 mm.
        tol = 61.44 * math.sin(math.radians(abs(row.rotation_deg))) + 1e-9
        assert abs(corners[:, 0].min() - row.x_min_mm) <= tol and abs(corners[:, 0].max() - row.x_max_mm) <= tol
        assert abs(corners[:, 1].min() - row.y_min_mm) <= tol and abs(corners[:, 1].max() - row.y_max_mm) <= tol
    # A point in the gap between S4 and N4 (3 mm wide, CTIO) is on no CCD; their centres are.
    ids = camera.find_detector_ids(np.array([[0.0, 0.0], centers[28].center_mm, centers[35].center_mm]))
    assert ids.tolist() == [-1, 28, 35]


def test_field_angle_is_the_027_arcsec_pixel_scale():
    det = load_camera()["N4"]
    a, b = det.transform(np.array([[1000.0, 2000.0], [1100.0, 2000.0]]), PIXELS, FIELD_ANGLE)
    assert np.hypot(*(a - b)) * 206264.80624709636 / 100 == pytest.approx(0.27, rel=1e-3)


def test_shipped_resources_regenerate_from_the_ctio_files(tmp_path):
    from pathlib import Path

    import osprey.obs.decam as pkg

    calibs = realdata_path("calibs/decam", __file__)
    shipped = Path(pkg.__file__).parent / "resources"
    for path in build_resources(calibs, tmp_path):
        assert path.read_text() == (shipped / path.name).read_text(), path.name


def test_section_cards_reproduce_the_real_s1_header(s1_header):
    cards = section_cards(load_camera()["S1"])
    for key in S1_CARDS:
        assert cards[key] == s1_header[key], key


def test_amplifiers_from_the_real_s1_header(s1_header):
    camera_s1 = load_camera()["S1"]
    det = amplifiers_from_header(s1_header, camera_s1, "S1 header")
    for amp, nominal in zip(det, camera_s1, strict=True):
        for attr in (
            "bbox",
            "raw_bbox",
            "raw_data_bbox",
            "raw_serial_overscan_bbox",
            "raw_serial_prescan_bbox",
            "raw_parallel_overscan_bbox",
            "raw_flip_x",
            "raw_flip_y",
            "raw_xy_offset",
        ):
            assert getattr(amp, attr) == getattr(nominal, attr), (amp.name, attr)
    assert (det["A"].gain, det["B"].gain) == (s1_header["GAINA"], s1_header["GAINB"])
    assert (det["A"].read_noise, det["B"].saturation) == (s1_header["RDNOISEA"], s1_header["SATURATB"])
    # The readout-order frame: every amplifier reads prescan (6), overscan (50), then 1024 data columns.
    for amp in det:
        assert amp.raw_serial_prescan_bbox == Box2I.from_begin_end(0, 0, 6, 4096)
        assert amp.raw_serial_overscan_bbox == Box2I.from_begin_end(6, 0, 56, 4096)
        assert amp.raw_data_bbox == Box2I.from_begin_end(56, 0, 1080, 4096)
        assert amp.raw_parallel_overscan_bbox == Box2I.from_begin_end(56, 4096, 1080, 4146)
    assert det["A"].readout_corner.value == "UR" and det["B"].readout_corner.value == "UL"  # AMPSEC [2048:1025,4096:1]


def test_north_ccds_mirror_the_south_layout_and_round_trip_their_cards():
    camera = load_camera()
    for name in ("S1", "N1", "S31", "N31"):
        det = camera[name]
        again = amplifiers_from_header(section_cards(det), det, name)
        assert again == det
    n1 = camera["N1"]
    assert n1["A"].bbox.x0 == 0 and n1["B"].bbox.x0 == 1024
    assert section_cards(n1)["DATASECA"] == "[57:1080,51:4146]"


def test_sections_parse_and_errors_name_the_card():
    assert parse_section("[2048:1025,4096:1]") == (Box2I.from_begin_end(1024, 0, 2048, 4096), True, True)
    assert format_section(Box2I.from_begin_end(1024, 0, 2048, 4096), True, True) == "[2048:1025,4096:1]"
    with pytest.raises(DecamGeometryError, match=r"HDU 3 DATASECA: '\[1:2048\]' is not an IRAF section"):
        parse_section("[1:2048]", "HDU 3 DATASECA")
    with pytest.raises(DecamGeometryError, match="below 1"):
        parse_section("[0:10,1:5]")
    bad = dict(section_cards(load_camera()["S1"]), DATASECA="[1000:2104,51:4146]")
    with pytest.raises(DecamGeometryError, match="DATASECA .* straddles"):
        amplifiers_from_header(bad, load_camera()["S1"], "file x.fits HDU 1")


def test_chip_table_errors_name_the_line(tmp_path):
    path = tmp_path / "chips.txt"
    path.write_text("ccdnum ID xmin xmax ymin ymax rotcor\n1 S29 -200.9 -170.2 -94.4\n")
    with pytest.raises(DecamGeometryError, match=r"chips.txt:2: expected 7 columns"):
        read_chip_centers(path)
    path.write_text("1 S29 -200.952 -170.232 -94.468 -33.028 -0.010\n")
    with pytest.raises(DecamGeometryError, match="lacks science CCDs"):
        camera_description(path)
