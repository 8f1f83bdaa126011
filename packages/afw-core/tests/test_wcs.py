"""Tests of osprey.afw.wcs against astropy.wcs (WCSLIB) on real TAN, TAN-SIP and TPV headers."""

from __future__ import annotations

import json
import math
import pickle
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import astropy
import numpy as np
import pytest
import yaml
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning
from numpy.testing import assert_allclose, assert_array_equal

from osprey.afw import _afw
from osprey.afw.errors import AfwValueError
from osprey.afw.metadata import PropertyList
from osprey.afw.wcs import FunctionPixelTransform, PixelTransform, SkyWcs, WcsError
from osprey.afw.wcs._reference import reference_pixel_to_sky, reference_sky_to_pixel
from osprey.geom import (
    AffineTransform,
    Angle,
    Extent2D,
    Point2D,
    RingsSkyMap,
    RingsSkyMapConfig,
    SpherePoint,
    arcseconds,
    degrees,
    separation,
)
from osprey.utils.testing import realdata_path

MAS = math.radians(1.0 / 3.6e6)  # one milliarcsecond in radians
ASTROPY_DATA = Path(astropy.__file__).parent / "wcs" / "tests" / "data"  # WCSLIB's real test headers
WCS_KEY = re.compile(
    r"^(WCSAXES|CTYPE[12]|CRPIX[12]|CRVAL[12]|CUNIT[12]|CDELT[12]|CROTA2|CD[12]_[12]|PC[12]_[12]|PV[12]_\d+"
    r"|(A|B|AP|BP)_(ORDER|\d+_\d+)|RADESYS|EQUINOX|LONPOLE|LATPOLE)$"
)


# ---- real headers ---------------------------------------------------------------------------
class _PropertyListLoader(yaml.SafeLoader):
    """Reads the daf_base PropertyList YAML dumps: a tagged list of [key, type, value, comment]."""


_PropertyListLoader.add_constructor(
    "lsst.daf.base.PropertyList", lambda loader, node: loader.construct_sequence(node, deep=True)
)


def _load_cards(path: Path) -> dict:
    """Every card of a realdata header file (YAML list or mapping, or JSON), last value winning."""
    text = path.read_text()
    data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_PropertyListLoader)  # noqa: S506
    if isinstance(data, list):
        return {entry[0]: entry[2] for entry in data}
    return dict(data)


def _wcs_cards(cards: dict) -> dict:
    return {k: v for k, v in cards.items() if WCS_KEY.match(k) and v is not None}


def _astropy_header_file(name: str) -> dict:
    path = ASTROPY_DATA / name
    if name.endswith(".hdr"):
        header = fits.Header.fromstring(path.read_bytes().decode("ascii"))
    else:
        header = fits.getheader(path)
    return dict(header.items())


def _detector_size(cards: dict) -> tuple[int, int]:
    if cards.get("ZNAXIS1"):
        return int(cards["ZNAXIS1"]), int(cards["ZNAXIS2"])
    if cards.get("NAXIS") == 2 and cards.get("NAXIS1", 0) > 8:
        return int(cards["NAXIS1"]), int(cards["NAXIS2"])
    return int(round(2 * cards["CRPIX1"])), int(round(2 * cards["CRPIX2"]))


REAL_HEADERS = [
    "decam/fitsheader-decam-0160496.yaml",  # TPV (raw)
    "decam/fitsheader-decam-raw_dec050441_25.yaml",  # TPV (raw, plain YAML mapping)
    "decam/fitsheader-decam.yaml",  # TPV (raw)
    "decam/fitsheader-decam-instcal-c4d_190402_050618_ooi_VR_v1.yaml",  # TPV (community pipeline)
    "decam/fitsheader-decam-calexp-0412037_10.yaml",  # TAN (LSST calexp)
    "hsc/fitsheader-hsc.yaml",  # TAN (raw)
    "hsc/fitsheader-hsc-HSCA04090107.yaml",  # TAN (raw)
    "hsc/fitsheader-hsc-HSCA04090107.json",  # TAN (raw, JSON)
]
ASTROPY_HEADERS = ["irac_sip.hdr", "siponly.hdr", "tpvonly.hdr", "sip.fits", "sip2.fits"]
HSC_AFW = "images/hsc-afw/HSC-0908120-056-small.fits"


def _cards_for(case: str) -> dict:
    if case.startswith("astropy:"):
        return _astropy_header_file(case.split(":", 1)[1])
    if case == "hsc-afw":
        return dict(fits.getheader(realdata_path(HSC_AFW, __file__), 1).items())
    return _load_cards(realdata_path(f"headers/{case}", __file__))


ALL_CASES = [*REAL_HEADERS, "hsc-afw", *(f"astropy:{n}" for n in ASTROPY_HEADERS)]


def _astropy_wcs(cards: dict) -> WCS:
    header = fits.Header()
    for k, v in _wcs_cards(cards).items():
        header[k] = v
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        return WCS(header)


def _grid(cards: dict, n: int = 20) -> tuple[np.ndarray, np.ndarray]:
    nx, ny = _detector_size(cards)
    x, y = np.meshgrid(np.linspace(0.0, nx - 1.0, n), np.linspace(0.0, ny - 1.0, n))
    return x.ravel(), y.ravel()


@pytest.fixture(params=ALL_CASES)
def case(request):
    cards = _cards_for(request.param)
    return request.param, cards, SkyWcs.from_fits_header(_wcs_cards(cards))


# ---- accuracy against astropy ---------------------------------------------------------------
def test_pixel_to_sky_matches_astropy_over_the_detector(case):
    name, cards, wcs = case
    x, y = _grid(cards)
    ra, dec = wcs.pixel_to_sky_array(x, y)
    ra_ap, dec_ap = _astropy_wcs(cards).all_pix2world(x, y, 0)
    sep = separation(ra, dec, np.radians(ra_ap), np.radians(dec_ap))
    assert sep.max() < 1.0 * MAS, f"{name}: max {sep.max() / MAS:.3g} mas"


def test_sky_to_pixel_inverts_and_matches_astropy(case):
    name, cards, wcs = case
    x, y = _grid(cards)
    ra, dec = wcs.pixel_to_sky_array(x, y)
    xb, yb = wcs.sky_to_pixel_array(ra, dec)
    assert np.hypot(xb - x, yb - y).max() < 1e-6, name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xa, ya = _astropy_wcs(cards).all_world2pix(np.degrees(ra), np.degrees(dec), 0, quiet=True, maxiter=50)
    ok = np.isfinite(xa) & np.isfinite(ya)
    assert ok.mean() > 0.9, name
    assert np.hypot(xb - xa, yb - ya)[ok].max() < 1e-3, name


def test_kernels_match_the_numpy_reference(case):
    _, cards, wcs = case
    rng = np.random.default_rng(7)
    nx, ny = _detector_size(cards)
    x, y = rng.uniform(-20, nx + 20, 500), rng.uniform(-20, ny + 20, 500)
    for w in (wcs, wcs.with_pixel_transform(AffineTransform([[0.5, 0.1], [-0.2, 0.5]], (30.0, -12.0)))):
        ra, dec = w.pixel_to_sky_array(x, y)
        ra_ref, dec_ref = reference_pixel_to_sky(w, x, y)
        assert separation(ra, dec, ra_ref, dec_ref).max() < 1e-6 * MAS
        xr, yr = reference_sky_to_pixel(w, ra, dec)
        xs, ys = w.sky_to_pixel_array(ra, dec)
        assert np.hypot(xs - xr, ys - yr).max() < 1e-6


# ---- FITS header, dict and astropy round trips ----------------------------------------------
def test_fits_header_round_trip(case):
    name, cards, wcs = case
    header = wcs.to_fits_header()
    assert isinstance(header, PropertyList)
    assert header["CTYPE1"] == ("RA---TAN-SIP" if wcs.sip_order else "RA---TAN")
    again = SkyWcs.from_fits_header(header)
    x, y = _grid(cards)
    sep = separation(*wcs.pixel_to_sky_array(x, y), *again.pixel_to_sky_array(x, y))
    assert np.degrees(sep.max()) < 1e-12, name
    # through astropy's own FITS header class and WCSLIB
    again = SkyWcs.from_fits_header(header.to_fits_header())
    assert np.degrees(separation(*wcs.pixel_to_sky_array(x, y), *again.pixel_to_sky_array(x, y)).max()) < 1e-12
    ra_ap, dec_ap = wcs.to_astropy().all_pix2world(x, y, 0)
    assert separation(*wcs.pixel_to_sky_array(x, y), np.radians(ra_ap), np.radians(dec_ap)).max() < 0.1 * MAS


def test_dict_round_trip_is_json_and_exact(case):
    _, cards, wcs = case
    shifted = wcs.copy_at_shifted_pixel_origin(Extent2D(100.0, -40.0))
    for w in (wcs, shifted):
        data = json.loads(json.dumps(w.to_dict()))
        again = SkyWcs.from_dict(data)
        assert again == w
        x, y = _grid(cards, 5)
        assert_array_equal(np.stack(again.pixel_to_sky_array(x, y)), np.stack(w.pixel_to_sky_array(x, y)))
    assert pickle.loads(pickle.dumps(shifted)) == shifted


def test_astropy_round_trip_and_full_property_list():
    cards = _astropy_header_file("siponly.hdr")
    wcs = SkyWcs.from_fits_header(PropertyList.from_mapping(_wcs_cards(cards)))
    back = SkyWcs.from_astropy(wcs.to_astropy())
    x, y = _grid(cards, 6)
    assert separation(*wcs.pixel_to_sky_array(x, y), *back.pixel_to_sky_array(x, y)).max() < 1e-3 * MAS


def test_hsc_afw_header_matches_its_archived_wcs_in_parent_pixels():
    """The afw file's image header describes the 200x200 cut-out's own grid (LTV = -xy0); its
    binary-table TanWcs is in parent pixels. Shifting by xy0 must reproduce the latter."""
    with fits.open(realdata_path(HSC_AFW, __file__)) as hdus:
        header = hdus[1].header
        tan, sip = hdus[5].data[0], hdus[6].data[0]
        xy0 = (-header["LTV1"], -header["LTV2"])
        cd = np.array(tan["cd"]).reshape(2, 2).T  # stored (1_1, 2_1, 1_2, 2_2)
        archived = SkyWcs(
            Point2D(*tan["crpix"]),
            SpherePoint(*tan["crval"], degrees),
            cd,
            sip_a=np.array(sip["A"]).reshape(4, 4).T,  # column-major
            sip_b=np.array(sip["B"]).reshape(4, 4).T,
            radesys="FK5",
        )
    parent = SkyWcs.from_fits_header(header).copy_at_shifted_pixel_origin(Extent2D(*xy0))
    x, y = np.meshgrid(np.arange(100.0, 300.0, 20.0), np.arange(100.0, 300.0, 20.0))
    sep = separation(*parent.pixel_to_sky_array(x, y), *archived.pixel_to_sky_array(x, y))
    assert sep.max() < 1e-6 * MAS
    assert parent.to_fits_header()["CRPIX1"] == pytest.approx(header["CRPIX1"] + xy0[0], abs=1e-9)


# ---- SIP inverse handling -------------------------------------------------------------------
def test_newton_inverse_without_ap_bp_equals_refined_ap_bp():
    cards = _wcs_cards(_astropy_header_file("sip.fits"))
    with_ap = SkyWcs.from_fits_header(cards)
    no_ap = SkyWcs.from_fits_header({k: v for k, v in cards.items() if not k.startswith(("AP_", "BP_"))})
    literal = SkyWcs.from_fits_header(cards, refine_inverse=False)
    x, y = _grid(cards)
    ra, dec = with_ap.pixel_to_sky_array(x, y)
    xa, ya = with_ap.sky_to_pixel_array(ra, dec)
    xn, yn = no_ap.sky_to_pixel_array(ra, dec)
    assert np.hypot(xa - xn, ya - yn).max() < 1e-8
    xl, yl = literal.sky_to_pixel_array(ra, dec)
    err = np.hypot(xl - x, yl - y)
    assert 1e-6 < err.max() < 1.0  # AP/BP alone: an approximation, as FITS-literal readers get


def test_points_behind_the_tangent_plane():
    wcs = SkyWcs.from_tan(Point2D(0, 0), SpherePoint(10.0, 20.0, degrees), np.eye(2) * 1e-4)
    x, y = wcs.sky_to_pixel_array(np.radians([190.0, 10.0]), np.radians([-20.0, 20.0]))
    assert np.isnan(x[0]) and np.isnan(y[0]) and abs(x[1]) < 1e-9
    with pytest.raises(WcsError, match="cannot be projected"):
        wcs.sky_to_pixel(SpherePoint(190.0, -20.0, degrees))


def test_sky_to_pixel_is_nan_where_the_distortion_has_no_inverse():
    """u + 1e-6 u^2 = U has no real root for U < -250000: Newton cannot converge, and must say so."""
    a = np.zeros((3, 3))
    a[2, 0] = 1e-6
    crval = SpherePoint(10.0, 20.0, degrees)
    sip = SkyWcs(Point2D(0, 0), crval, np.eye(2) * 1e-5, sip_a=a, sip_b=np.zeros((3, 3)))
    tan = SkyWcs.from_tan(Point2D(0, 0), crval, np.eye(2) * 1e-5)
    ra, dec = tan.pixel_to_sky_array(np.array([200.0, -300000.0]), np.array([0.0, 0.0]))  # U = 200, -3e5
    x, y = sip.sky_to_pixel_array(ra, dec)
    assert x[0] + 1e-6 * x[0] ** 2 == pytest.approx(200.0, abs=1e-8)
    assert np.isnan(x[1]) and np.isnan(y[1])


# ---- scalar API, skymap, pixel transforms ---------------------------------------------------
def test_scalar_api_and_properties():
    crval = SpherePoint(150.0, 2.0, degrees)
    wcs = SkyWcs.from_tan(Point2D(1000.0, 2000.0), crval, [[-5.5e-5, 1e-7], [2e-7, 5.5e-5]])
    assert wcs.pixel_to_sky(Point2D(1000.0, 2000.0)).separation(crval).as_arcseconds() < 1e-9
    p = wcs.sky_to_pixel(SpherePoint(150.01, 2.02, degrees))
    assert wcs.pixel_to_sky(p).separation(SpherePoint(150.01, 2.02, degrees)).as_arcseconds() < 1e-9
    assert wcs.get_pixel_origin().distance(Point2D(1000.0, 2000.0)) < 1e-9
    assert wcs.get_sky_origin() == crval and wcs.crval == crval
    assert not wcs.has_distortion and wcs.sip_order == 0
    assert "SkyWcs(crval=(150.00000000, 2.00000000)" in repr(wcs)


@pytest.mark.parametrize("which", ["south cap", "ring", "north cap"])
def test_from_skymap_parameters_matches_the_tract(which):
    skymap = RingsSkyMap(RingsSkyMapConfig(num_rings=20))
    tract = skymap[{"south cap": 0, "ring": len(skymap) // 3, "north cap": len(skymap) - 1}[which]]
    wcs = SkyWcs.from_skymap_parameters(tract.wcs_parameters())
    bbox = tract.bbox
    x, y = np.meshgrid(np.linspace(0, bbox.width - 1, 7), np.linspace(0, bbox.height - 1, 7))
    assert separation(*wcs.pixel_to_sky_array(x, y), *tract.pixel_to_sky(x, y)).max() < 1e-3 * MAS
    astropy_wcs = wcs.to_astropy()
    ra, dec = astropy_wcs.all_pix2world(x, y, 0)
    assert separation(*wcs.pixel_to_sky_array(x, y), np.radians(ra), np.radians(dec)).max() < 1e-3 * MAS


def test_with_pixel_transform_affine_general_and_folded():
    cards = _wcs_cards(_astropy_header_file("siponly.hdr"))
    wcs = SkyWcs.from_fits_header(cards)
    aff = AffineTransform([[0.9, 0.05], [-0.04, 1.1]], (25.0, -7.0))
    composed = wcs.with_pixel_transform(aff)
    general = wcs.with_pixel_transform(FunctionPixelTransform(aff, aff.inverse()))
    assert isinstance(aff, PixelTransform)
    x, y = _grid(cards, 8)
    xt, yt = aff(x, y)
    expect = wcs.pixel_to_sky_array(xt, yt)
    assert separation(*composed.pixel_to_sky_array(x, y), *expect).max() < 1e-6 * MAS
    assert separation(*general.pixel_to_sky_array(x, y), *expect).max() < 1e-6 * MAS
    xb, yb = general.sky_to_pixel_array(*expect)
    assert np.hypot(xb - x, yb - y).max() < 1e-8
    folded = SkyWcs.from_fits_header(composed.to_fits_header())
    assert separation(*folded.pixel_to_sky_array(x, y), *expect).max() < 1e-3 * MAS
    # the local linearisation sees through general transforms
    assert_allclose(
        general.get_cd_matrix(Point2D(100.0, 200.0)), composed.get_cd_matrix(Point2D(100.0, 200.0)), rtol=1e-7
    )
    with pytest.raises(WcsError, match="non-affine pixel transform"):
        general.to_fits_header()
    with pytest.raises(WcsError, match="pixel transform must be callable"):
        wcs.with_pixel_transform(lambda x, y: (x, y))


# ---- linearisation and pixel scale ----------------------------------------------------------
def _gnomonic(ra0, dec0, ra, dec):
    """Gnomonic (xi, eta) in radians of (ra, dec) about (ra0, dec0)."""
    cosc = np.sin(dec0) * np.sin(dec) + np.cos(dec0) * np.cos(dec) * np.cos(ra - ra0)
    xi = np.cos(dec) * np.sin(ra - ra0) / cosc
    eta = (np.cos(dec0) * np.sin(dec) - np.sin(dec0) * np.cos(dec) * np.cos(ra - ra0)) / cosc
    return xi, eta


def _linearisation_error(wcs, p0, point, radius):
    """Max |affine - full| (degrees) of the gnomonic offsets on a circle of ``radius`` pixels."""
    sky0 = wcs.pixel_to_sky(p0)
    ra0, dec0 = sky0.longitude.as_radians(), sky0.latitude.as_radians()
    lin = wcs.linearize_pixel_to_sky(point, degrees)
    ang = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    x, y = p0.x + radius * np.cos(ang), p0.y + radius * np.sin(ang)
    xi, eta = _gnomonic(ra0, dec0, *wcs.pixel_to_sky_array(x, y))
    lx, ly = lin(x, y)
    return max(np.abs(np.degrees(xi) - lx).max(), np.abs(np.degrees(eta) - ly).max()), x, y, xi, eta


@pytest.mark.parametrize("name", ["siponly.hdr", "tpvonly.hdr", "irac_sip.hdr"])
def test_linearize_pixel_to_sky_is_exact_to_first_order(name):
    cards = _wcs_cards(_astropy_header_file(name))
    wcs = SkyWcs.from_fits_header(cards)
    p0 = Point2D(37.0, 211.5)
    for point in (p0, wcs.pixel_to_sky(p0)):
        err1, x, y, xi, eta = _linearisation_error(wcs, p0, point, 1.0)
        err01, *_ = _linearisation_error(wcs, p0, point, 0.1)
        # the residual is the second-order term: 100x smaller at a tenth of the radius
        assert err1 / err01 == pytest.approx(100.0, rel=0.05)
        if name != "irac_sip.hdr":  # IRAC's 1.2"/pixel SIP curves by ~1e-8 deg within a pixel
            assert err1 < 1e-9
        inv = wcs.linearize_sky_to_pixel(point, arcseconds)
        px, py = inv(np.degrees(xi) * 3600, np.degrees(eta) * 3600)
        assert np.hypot(px - x, py - y).max() < 1e-3
    assert_allclose(wcs.get_cd_matrix(p0), wcs.linearize_pixel_to_sky(p0, degrees).linear.matrix, rtol=1e-14)


def test_pixel_scale_and_area_of_a_pure_tan():
    cd = np.array([[-5.1e-5, 1.2e-6], [0.9e-6, 5.2e-5]])
    wcs = SkyWcs.from_tan(Point2D(512.0, 300.0), SpherePoint(33.0, -47.0, degrees), cd)
    expect = math.sqrt(abs(np.linalg.det(cd)))  # degrees
    assert wcs.get_pixel_scale(Point2D(512.0, 300.0)).as_degrees() == pytest.approx(expect, rel=1e-12)
    assert wcs.get_pixel_scale().as_degrees() == pytest.approx(expect, rel=1e-12)
    assert_allclose(wcs.get_cd_matrix(), cd, rtol=1e-12)
    assert wcs.get_pixel_area() == pytest.approx((expect * 3600) ** 2, rel=1e-12)
    # away from the tangent point a TAN pixel covers less sky: cos^3 of the distance (area)
    far = Point2D(512.0 + 10000.0, 300.0)
    dist = wcs.pixel_to_sky(far).separation(wcs.crval).as_radians()
    assert wcs.get_pixel_area(far) / wcs.get_pixel_area() == pytest.approx(math.cos(dist) ** 3, rel=1e-9)
    assert isinstance(wcs.get_pixel_scale(), Angle)


# ---- APE 14 ---------------------------------------------------------------------------------
@pytest.fixture
def hsc_wcs():
    return SkyWcs.from_fits_header(_wcs_cards(_cards_for("hsc-afw")))


def test_ape14_nddata_and_high_level(hsc_wcs):
    from astropy.coordinates import SkyCoord
    from astropy.nddata import NDData
    from astropy.wcs.wcsapi import BaseLowLevelWCS, HighLevelWCSWrapper

    assert isinstance(hsc_wcs, BaseLowLevelWCS)
    nd = NDData(np.zeros((100, 100)), wcs=hsc_wcs)
    assert nd.wcs.low_level_wcs is hsc_wcs
    coord = HighLevelWCSWrapper(hsc_wcs).pixel_to_world(10, 20)
    assert isinstance(coord, SkyCoord) and coord.frame.name == "fk5"
    ours = hsc_wcs.pixel_to_sky(Point2D(10, 20))  # FK5 J2000 values, like the header
    theirs = SpherePoint(coord.ra.degree, coord.dec.degree, degrees)  # (from_skycoord would go to ICRS)
    assert ours.separation(theirs).as_arcseconds() < 1e-9
    x, y = hsc_wcs.world_to_pixel(coord)
    assert abs(x - 10) < 1e-8 and abs(y - 20) < 1e-8
    assert hsc_wcs.world_axis_physical_types == ["pos.eq.ra", "pos.eq.dec"]
    icrs = SkyWcs.from_tan(Point2D(0, 0), SpherePoint(1.0, 2.0, degrees), np.eye(2) * 1e-4)
    assert icrs.pixel_to_world(0, 0).frame.name == "icrs"


def test_reproject_interp_between_two_skywcs():
    reproject = pytest.importorskip("reproject", reason="reproject not installed (pip install reproject)")
    src = SkyWcs.from_tan(Point2D(32.0, 32.0), SpherePoint(150.0, 2.0, degrees), np.eye(2) * [-1e-4, 1e-4])
    dst = src.with_pixel_transform(AffineTransform(None, (3.0, -2.0)))  # dst(p) = src(p + (3, -2))
    yy, xx = np.mgrid[0:64, 0:64]
    image = np.exp(-((xx - 30.0) ** 2 + (yy - 35.0) ** 2) / 50.0)
    out, footprint = reproject.reproject_interp((image, src), dst, shape_out=(64, 64), order="bilinear")
    inner = (slice(10, 50), slice(10, 50))
    assert np.all(footprint[inner] == 1)
    assert_allclose(out[inner], image[8:48, 13:53], atol=1e-9)  # out[y, x] = image[y - 2, x + 3]


def test_photutils_sky_aperture_to_pixel(hsc_wcs):
    apertures = pytest.importorskip("photutils.aperture", reason="photutils not installed (pip install photutils)")
    coord = hsc_wcs.pixel_to_world(120.0, 80.0)
    import astropy.units as u

    pix = apertures.SkyCircularAperture(coord, r=2.0 * u.arcsec).to_pixel(hsc_wcs)
    assert_allclose(pix.positions, [120.0, 80.0], atol=1e-8)
    scale = hsc_wcs.get_pixel_scale(Point2D(120.0, 80.0)).as_arcseconds()
    assert pix.r == pytest.approx(2.0 / scale, rel=1e-3)


# ---- errors ---------------------------------------------------------------------------------
BASE = {
    "CTYPE1": "RA---TAN",
    "CTYPE2": "DEC--TAN",
    "CRPIX1": 100.0,
    "CRPIX2": 50.0,
    "CRVAL1": 10.0,
    "CRVAL2": -30.0,
    "CD1_1": -1e-4,
    "CD1_2": 0.0,
    "CD2_1": 0.0,
    "CD2_2": 1e-4,
}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"CRVAL1": None}, "no CRVAL1"),
        ({"CRVAL2": None}, "no CRVAL2"),
        ({"CRPIX2": None}, "no CRPIX2"),
        ({"CD1_1": 1e-4, "CD1_2": 1e-4, "CD2_1": 1e-4, "CD2_2": 1e-4}, r"CD matrix \(CD1_1, CD1_2"),
        ({"CTYPE1": "RA---SIN", "CTYPE2": "DEC--SIN"}, "CTYPE1 = 'RA---SIN': unsupported projection SIN"),
        ({"CTYPE1": "GLON-TAN", "CTYPE2": "GLAT-TAN"}, "CTYPE1 = 'GLON-TAN'"),
        ({"CTYPE1": "PIXEL"}, "CTYPE1 = 'PIXEL'"),
        ({"CTYPE1": None}, "no CTYPE1"),
        ({"CTYPE1": "RA---TAN-SIP", "CTYPE2": "DEC--TAN-SIP"}, "no A_ORDER"),
        ({"CTYPE1": "RA---TPV", "CTYPE2": "DEC--TPV", "PV1_1": 1.0, "PV1_3": 0.01}, "PV1_3"),
        ({"CRVAL2": 95.0}, "CRVAL2"),
        ({"CUNIT1": "rad"}, "CUNIT1"),
        ({"CD1_1": "abc"}, "CD1_1 must be a number"),
        ({"RADESYS": "GAPPT"}, "RADESYS"),
        ({"CD1_1": None, "CD1_2": None, "CD2_1": None, "CD2_2": None}, "no CD1_1"),
    ],
)
def test_header_errors_name_the_keyword(change, match):
    header = {**BASE, **change}
    header = {k: v for k, v in header.items() if v is not None}
    with pytest.raises(WcsError, match=match) as info:
        SkyWcs.from_fits_header(header)
    assert isinstance(info.value, AfwValueError) and isinstance(info.value, ValueError)
    assert pickle.loads(pickle.dumps(info.value)).args == info.value.args


def test_a_header_without_celestial_wcs():
    cards = _load_cards(realdata_path("headers/lsst/latiss-AT_O_20240624_000106_R00_S00.yaml", __file__))
    with pytest.raises(WcsError, match="no CTYPE1"):
        SkyWcs.from_fits_header(cards)


def test_constructor_and_dict_errors():
    crval = SpherePoint(1.0, 2.0, degrees)
    with pytest.raises(WcsError, match="cd .* is not invertible"):
        SkyWcs.from_tan(Point2D(0, 0), crval, [[1e-4, 2e-4], [1e-4, 2e-4]])
    with pytest.raises(WcsError, match="crval must be a SpherePoint"):
        SkyWcs.from_tan(Point2D(0, 0), (1.0, 2.0), np.eye(2))
    with pytest.raises(WcsError, match="both sip_a and sip_b"):
        SkyWcs(Point2D(0, 0), crval, np.eye(2) * 1e-4, sip_a=np.zeros((3, 3)))
    with pytest.raises(WcsError, match="no 'cd' key"):
        SkyWcs.from_skymap_parameters({"crpix": [0, 0], "crval": [1, 2]})
    with pytest.raises(WcsError, match="version"):
        SkyWcs.from_dict({"version": 99})
    with pytest.raises(WcsError, match="FITS header must be"):
        SkyWcs.from_fits_header(42)


# ---- header variants against WCSLIB ---------------------------------------------------------
@pytest.mark.parametrize(
    "extra",
    [
        {"CD1_1": None, "CD1_2": None, "CD2_1": None, "CD2_2": None, "CDELT1": -2e-4, "CDELT2": 2e-4, "CROTA2": 30.0},
        {
            "CD1_1": None,
            "CD1_2": None,
            "CD2_1": None,
            "CD2_2": None,
            "CDELT1": -2e-4,
            "CDELT2": 2e-4,
            "PC1_1": 0.9,
            "PC1_2": 0.2,
            "PC2_1": -0.1,
            "PC2_2": 1.1,
        },
        {"CTYPE1": "RA---TPV", "CTYPE2": "DEC--TPV", "PV1_4": 0.01, "PV2_1": 1.0},  # absent PV1_1 is 0
        {"CRVAL2": 90.0},  # tangent point at the pole: LONPOLE defaults to 0
        {"CRVAL2": 89.99, "LONPOLE": 150.0},
        {"RADESYS": "FK4", "EQUINOX": 1950.0},
    ],
)
def test_header_variants_match_astropy(extra):
    cards = {k: v for k, v in {**BASE, **extra}.items() if v is not None}
    wcs = SkyWcs.from_fits_header(cards)
    x, y = np.meshgrid(np.linspace(-500, 700, 9), np.linspace(-400, 600, 9))
    ra_ap, dec_ap = _astropy_wcs(cards).all_pix2world(x, y, 0)
    assert separation(*wcs.pixel_to_sky_array(x, y), np.radians(ra_ap), np.radians(dec_ap)).max() < 1e-3 * MAS


def test_tpv_without_pv_cards_is_plain_tan():
    """WCSLIB maps every pixel to CRVAL here (all coefficients zero); we read it as plain TAN."""
    tpv = SkyWcs.from_fits_header({**BASE, "CTYPE1": "RA---TPV", "CTYPE2": "DEC--TPV"})
    assert tpv == SkyWcs.from_fits_header(BASE)


# ---- compiled kernel ------------------------------------------------------------------------
def test_kernel_refuses_silent_conversions(hsc_wcs):
    with pytest.raises(TypeError):
        _afw.wcs_pixel_to_sky(hsc_wcs._params, hsc_wcs._a, hsc_wcs._b, np.zeros(3, np.float32), np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="same length"):
        _afw.wcs_pixel_to_sky(hsc_wcs._params, hsc_wcs._a, hsc_wcs._b, np.zeros(3), np.zeros(2))


def test_threads_give_identical_results(hsc_wcs):
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 200, 40_000), rng.uniform(0, 200, 40_000)
    chunks = np.array_split(np.arange(x.size), 8)
    with ThreadPoolExecutor(4) as pool:
        parts = list(pool.map(lambda i: hsc_wcs.pixel_to_sky_array(x[i], y[i]), chunks))
    ra, dec = hsc_wcs.pixel_to_sky_array(x, y)
    assert_array_equal(np.concatenate([p[0] for p in parts]), ra)
    assert_array_equal(np.concatenate([p[1] for p in parts]), dec)


def test_broadcasting_and_shapes(hsc_wcs):
    ra, dec = hsc_wcs.pixel_to_sky_array(np.arange(6.0).reshape(2, 3), 5.0)
    assert ra.shape == dec.shape == (2, 3)
    x, y = hsc_wcs.sky_to_pixel_array(ra, dec)
    assert_allclose(x, np.arange(6.0).reshape(2, 3), atol=1e-8)
    assert_allclose(y, 5.0, atol=1e-8)
    ra0, _ = hsc_wcs.pixel_to_sky_array(np.array([]), np.array([]))
    assert ra0.shape == (0,)
