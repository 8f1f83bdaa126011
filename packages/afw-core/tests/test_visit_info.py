"""Tests of osprey.afw.visit_info: value types, round trips, and astropy-derived pointing quantities."""

from __future__ import annotations

import json
import math
import pickle

import astropy.units as u
import pytest
from astropy.coordinates import AltAz, HADec, SkyCoord
from astropy.time import Time

from osprey.afw.errors import AfwValueError
from osprey.afw.metadata import PropertyList
from osprey.afw.visit_info import FilterLabel, Observatory, RotType, VisitInfo, Weather
from osprey.geom import Angle, SpherePoint, degrees

RUBIN = Observatory(Angle(-70.749417, degrees), Angle(-30.244639, degrees), 2663.0)


def make_visit(**changes: object) -> VisitInfo:
    info = VisitInfo(
        id=2020030100123,
        exposure_time=30.0,
        dark_time=30.7,
        date=Time("2020-03-01T03:00:15.5", scale="utc"),
        boresight_ra_dec=SpherePoint(150.0, -20.0, degrees),
        boresight_az_alt=SpherePoint(80.0, 70.0, degrees),
        boresight_airmass=1.064,
        boresight_rotation_angle=Angle(12.5, degrees),
        rotation_type=RotType.SKY,
        observatory=RUBIN,
        weather=Weather(11.5, 74300.0, 35.0),
        instrument_label="LSSTCam",
        observation_type="science",
        science_program="BLOCK-365",
        observation_reason="wfd",
        object="field_42",
        has_simulated_content=False,
    )
    return info.replace(**changes) if changes else info


def test_filter_label() -> None:
    a = FilterLabel(band="r", physical_filter="r_57")
    assert a == FilterLabel("r", "r_57") and hash(a) == hash(FilterLabel("r", "r_57"))
    assert (
        FilterLabel(band="r") != a and FilterLabel(band="r").has_band and not FilterLabel(band="r").has_physical_filter
    )
    assert {a: 1}[FilterLabel("r", "r_57")] == 1
    assert FilterLabel.from_dict(a.to_dict()) == a
    with pytest.raises(AfwValueError, match="needs a band"):
        FilterLabel()


def test_date_is_tai() -> None:
    info = make_visit()
    assert info.date.scale == "tai"
    # UTC-TAI was 37 s in 2020.
    assert info.to_dict()["date_tai"] == "2020-03-01T03:00:52.500"


def test_dict_and_property_list_round_trips() -> None:
    info = make_visit()
    again = VisitInfo.from_dict(json.loads(json.dumps(info.to_dict())))
    assert again == info
    assert abs((again.date - info.date).to_value(u.s)) < 1e-6
    pl = info.to_property_list()
    assert isinstance(pl, PropertyList)
    assert pl["EXPTIME"] == 30.0 and pl["TIMESYS"] == "TAI" and pl["BORE-RA"] == 150.0 and pl["ROTTYPE"] == "SKY"
    assert VisitInfo.from_property_list(pl) == info
    header = pl.to_fits_header()  # survives a real FITS header too
    assert VisitInfo.from_property_list(PropertyList.from_fits_header(header)) == info
    empty = VisitInfo()
    assert VisitInfo.from_dict(empty.to_dict()) == empty
    assert VisitInfo.from_property_list(empty.to_property_list()) == empty
    assert pickle.loads(pickle.dumps(info)) == info
    assert make_visit(exposure_time=15.0) != info


def test_validation() -> None:
    with pytest.raises(AfwValueError, match="astropy Time"):
        VisitInfo(date="2020-03-01")
    with pytest.raises(AfwValueError, match="boresight_airmass is out of range"):
        VisitInfo(boresight_airmass=0.5)
    with pytest.raises(AfwValueError, match="unknown VisitInfo keys"):
        VisitInfo.from_dict({"exptime": 3})
    with pytest.raises(AfwValueError, match="needs observatory"):
        _ = VisitInfo(date=Time("2020-03-01", scale="tai")).local_era


def test_local_era_and_hour_angle_vs_astropy() -> None:
    info = make_visit()
    era = info.date.earth_rotation_angle(RUBIN.longitude.as_degrees() * u.deg)
    assert info.local_era.as_degrees() == pytest.approx(era.to_value(u.deg) % 360.0, abs=1e-9)
    location = RUBIN.to_astropy()
    target = SkyCoord(150.0 * u.deg, -20.0 * u.deg)
    hadec = target.transform_to(HADec(obstime=info.date, location=location))
    # astropy's HADec includes topocentric aberration/parallax; agreement to a few arcsec.
    assert info.boresight_hour_angle.as_degrees() == pytest.approx(hadec.ha.to_value(u.deg), abs=5.0 / 3600)


@pytest.mark.parametrize(("ra", "dec"), [(150.0, -20.0), (120.0, -60.0), (170.0, 10.0)])
def test_airmass_vs_astropy_altaz(ra: float, dec: float) -> None:
    info = make_visit(boresight_ra_dec=SpherePoint(ra, dec, degrees))
    altaz = SkyCoord(ra * u.deg, dec * u.deg).transform_to(AltAz(obstime=info.date, location=RUBIN.to_astropy()))
    zenith_distance = 90.0 - altaz.alt.to_value(u.deg)
    assert zenith_distance < 60.0
    computed = info.compute_boresight_az_alt()
    assert computed.latitude.as_degrees() == pytest.approx(altaz.alt.to_value(u.deg), abs=1e-9)
    assert info.compute_airmass() == pytest.approx(float(altaz.secz), rel=1e-3)
    assert info.compute_airmass() == pytest.approx(1.0 / math.cos(math.radians(zenith_distance)), rel=1e-9)
