"""Raw header cards, per instrument, from an `ExposureSpec` and a detector.

Each builder writes the cards the instrument's metadata translator in `osprey.obs.base`
reads (so ``translate(header)`` recovers the exposure id, detector, filter, times and
boresight), in the instrument's own conventions: LSST camera-control-system cards
(OBSID, DAYOBS, SEQNUM, DATE-BEG/END in TAI, RAFTBAY/CCDSLOT, ...) for LSSTCam, LSSTComCam
and LATISS; NOAO cards (EXPNUM, CCDNUM, DETPOS, sexagesimal TELRA/TELDEC, UTC dates) for
DECam. `header_builder` looks a builder up by instrument name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .cadence import ExposureSpec
from .errors import SimsConfigError
from .photometry import Telescope

__all__ = ["DEFAULT_PHYSICAL_FILTERS", "HEADER_BUILDERS", "INSTRUMENT_WRITTEN_CARDS", "header_builder"]

DEFAULT_PHYSICAL_FILTERS: dict[str, dict[str, str]] = {
    "LSSTCam": {"u": "u_24", "g": "g_6", "r": "r_57", "i": "i_39", "z": "z_20", "y": "y_10"},
    "LSSTComCam": {"u": "u_02", "g": "g_01", "r": "r_03", "i": "i_06", "z": "z_03", "y": "y_04"},
    "LATISS": {
        "g": "SDSSg_65mm~empty",
        "r": "SDSSr_65mm~empty",
        "i": "SDSSi_65mm~empty",
        "z": "SDSSz_65mm~empty",
        "y": "SDSSy_65mm~empty",
    },
    "DECam": {
        "u": "u DECam c0006 3500.0 1000.0",
        "g": "g DECam SDSS c0001 4720.0 1520.0",
        "r": "r DECam SDSS c0002 6415.0 1480.0",
        "i": "i DECam SDSS c0003 7835.0 1470.0",
        "z": "z DECam SDSS c0004 9260.0 1520.0",
        "y": "Y DECam c0005 10095.0 1130.0",
        "VR": "VR DECam c0007 6300.0 2600.0",
        "N921": "N921 DECam c0013 9210.0 100.0",
    },
}
"""Physical filter per band for the known instruments, used when the instrument gives none."""

HeaderBuilder = Callable[..., dict[str, Any]]

_LSST_CODES = {"LSSTCam": ("MC", "LSSTCam"), "LSSTComCam": ("CC", "LSSTComCam"), "LATISS": ("AT", "LATISS")}
_LSST_TYPES = {"science": "OBJECT", "bias": "BIAS", "dark": "DARK", "flat": "FLAT"}
_DECAM_TYPES = {"science": "object", "bias": "zero", "dark": "dark", "flat": "dome flat"}


def _isot(mjd: float, scale: str) -> str:
    from astropy.time import Time

    return str(getattr(Time(mjd, format="mjd", scale="tai"), scale).isot)


def _mjd(mjd: float, scale: str) -> float:
    from astropy.time import Time

    return float(getattr(Time(mjd, format="mjd", scale="tai"), scale).mjd)


def _common(spec: ExposureSpec, telescope: Telescope) -> dict[str, Any]:
    lon, lat, height = telescope.site
    return {"OBS-LONG": lon, "OBS-LAT": lat, "OBS-ELEV": height, "TELESCOP": telescope.name}


def lsst_header(
    instrument: str,
    spec: ExposureSpec,
    detector,
    telescope: Telescope,
    physical_filter: str | None,
    controller: str = "S",
) -> dict[str, Any]:
    """LSST camera-control-system cards (LSSTCam, LSSTComCam, LATISS)."""
    code, instrume = _LSST_CODES[instrument]
    obsid = f"{code}_{controller}_{spec.day_obs:08d}_{spec.seq_num:06d}"
    raft, _, slot = detector.name.partition("_")
    if not slot:
        raise SimsConfigError(f"{instrument} detector names are RAFT_SLOT (e.g. R22_S11); got {detector.name!r}")
    h: dict[str, Any] = _common(spec, telescope)
    h.update(
        {
            "INSTRUME": instrume,
            "CAMCODE": code,
            "CONTRLLR": controller,
            "OBSID": obsid,
            "GROUPID": spec.group or obsid,
            "DAYOBS": f"{spec.day_obs:08d}",
            "SEQNUM": spec.seq_num,
            "IMGTYPE": _LSST_TYPES[spec.observation_type],
            "TIMESYS": "TAI",
            "DATE-OBS": _isot(spec.mjd, "tai"),
            "DATE-BEG": _isot(spec.mjd, "tai"),
            "MJD-OBS": spec.mjd,
            "MJD-BEG": spec.mjd,
            "DATE-END": _isot(spec.mjd_end, "tai"),
            "MJD-END": spec.mjd_end,
            "EXPTIME": float(spec.exposure_time),
            "DARKTIME": float(spec.dark_time),
            "FILTER": "empty",
            "FILTBAND": spec.band or "",
            "REASON": spec.reason,
            "PROGRAM": spec.program,
            "OBJECT": spec.target,
            "RAFTBAY": raft,
            "CCDSLOT": slot,
            "DETSIZE": f"[1:{detector.bbox.width},1:{detector.bbox.height}]",
            "LSST_NUM": detector.serial or detector.name,
            "CCD_MANU": detector.physical_type,
        }
    )
    if physical_filter is not None:
        # "<filter>~<second element>": LATISS writes the grating in GRATING, LSSTCam a second filter in FILTER2.
        first, _, second = physical_filter.partition("~")
        h["FILTER"] = first
        if second:
            h["GRATING" if instrument == "LATISS" else "FILTER2"] = second
    elif instrument == "LATISS":
        h["GRATING"] = "empty"
    if spec.observation_type == "science":
        h.update(
            {
                "RA": spec.ra,
                "DEC": spec.dec,
                "RASTART": spec.ra,
                "DECSTART": spec.dec,
                "ROTPA": spec.rotation,
                "ROTCOORD": "sky",
                "TRACKSYS": "RADEC",
                "AMSTART": spec.airmass,
            }
        )
    else:
        h["TRACKSYS"] = "LOCAL"
    return h


def decam_header(
    instrument: str,
    spec: ExposureSpec,
    detector,
    telescope: Telescope,
    physical_filter: str | None,
    expnum_offset: int = 1_000_000,
) -> dict[str, Any]:
    """NOAO/DECam cards: EXPNUM, CCDNUM, DETPOS, UTC DATE-OBS/MJD-OBS/MJD-END, TELRA/TELDEC."""
    from astropy.coordinates import Angle

    date = _isot(spec.mjd, "utc")
    h: dict[str, Any] = _common(spec, telescope)
    lon, lat, height = telescope.site
    h.update(
        {
            "INSTRUME": "DECam",
            "OBS-LONG": -lon,  # DECam writes degrees west
            "EXPNUM": expnum_offset + spec.counter,
            "OBSID": "ct4m" + date[:19].replace("-", "").replace(":", "").replace("T", "t")[2:],
            "CCDNUM": detector.id,
            "DETPOS": detector.name,
            "TIMESYS": "UTC",
            "DATE-OBS": date,
            "MJD-OBS": _mjd(spec.mjd, "utc"),
            "MJD-END": _mjd(spec.mjd_end, "utc"),
            "EXPTIME": float(spec.exposure_time),
            "DARKTIME": float(spec.dark_time),
            "OBSTYPE": _DECAM_TYPES[spec.observation_type],
            # Dark frames: the opaque position of DECam's filter wheel (a defined DECam filter).
            "FILTER": physical_filter if physical_filter is not None else "solid plate 0.0 0.0",
            "PROPID": spec.program,
            "OBJECT": spec.target,
        }
    )
    h["OBSID"] = "ct4m" + date[0:4] + date[5:7] + date[8:10] + "t" + date[11:13] + date[14:16] + date[17:19]
    if spec.observation_type == "science":
        h.update(
            {
                "TELRA": Angle(spec.ra, "deg").to_string(unit="hourangle", sep=":", precision=3, pad=True),
                "TELDEC": Angle(spec.dec, "deg").to_string(unit="deg", sep=":", precision=2, alwayssign=True, pad=True),
                "RADESYS": "ICRS",
                "AIRMASS": spec.airmass,
            }
        )
    return h


HEADER_BUILDERS: dict[str, HeaderBuilder] = {
    "LSSTCam": lsst_header,
    "LSSTComCam": lsst_header,
    "LATISS": lsst_header,
    "DECam": decam_header,
}
"""Header builder per instrument name."""

INSTRUMENT_WRITTEN_CARDS: dict[str, frozenset[str]] = {"DECam": frozenset({"CCDNUM", "DETPOS"})}
"""Cards of the per-detector header that the instrument's raw writer puts in the CCD's own HDU
(so they are left out of the primary header handed to ``write_raw``)."""


def header_builder(instrument: str) -> HeaderBuilder:
    """The header builder of ``instrument``.

    Raises
    ------
    SimsConfigError
        If no builder is known; the message lists those that are.
    """
    try:
        return HEADER_BUILDERS[instrument]
    except KeyError:
        raise SimsConfigError(
            f"osprey.sims does not know the raw header conventions of instrument {instrument!r}; "
            f"known: {sorted(HEADER_BUILDERS)} (add one to osprey.sims.headers.HEADER_BUILDERS)"
        ) from None
