"""Reading and writing the FITS-WCS cards of a TAN, TAN-SIP or TPV celestial WCS.

References: Greisen & Calabretta (2002, A&A 395, 1061) for the general keywords (CRPIXi,
CRVALi, CDi_j, PCi_j, CDELTi, CUNITi, LONPOLE, RADESYS, EQUINOX); Calabretta & Greisen
(2002, A&A 395, 1077) for TAN; Shupe et al. (2005, ASPC 347, 491) for SIP; the TPV
convention as implemented by WCSLIB for PVi_k.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..metadata import PropertyList
from . import _poly
from ._errors import WcsError

__all__ = ["RADESYS_VALUES", "header_getter", "read_header", "sip_cards"]

_log = logging.getLogger(__name__)

_CTYPE_RE = re.compile(r"^(?P<coord>[A-Z]{1,4})-*-(?P<proj>[A-Z]{3})(?P<sip>-SIP)?$")
_DEGREE_UNITS = {"deg", "degree", "degrees"}
#: Celestial reference systems a SkyWcs may declare.
RADESYS_VALUES = ("ICRS", "FK5", "FK4", "FK4-NO-E")


def header_getter(header: Any) -> Callable[[str], Any]:
    """A ``get(key) -> value or None`` for a `PropertyList`, `astropy.io.fits.Header` or mapping."""
    if isinstance(header, PropertyList):
        return lambda key: header.get(key, None)
    if hasattr(header, "get") and callable(header.get):
        return lambda key: header.get(key, None)
    raise WcsError(
        f"a FITS header must be a PropertyList, an astropy.io.fits.Header or a mapping, got {type(header).__name__}"
    )


def _number(get: Callable[[str], Any], key: str, default: float | None = None) -> float:
    value = get(key)
    if value is None:
        if default is None:
            raise WcsError(f"header has no {key}; a TAN/TAN-SIP/TPV WCS needs it")
        return default
    if isinstance(value, bool):
        raise WcsError(f"{key} must be a number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise WcsError(f"{key} must be a number, got {value!r}") from None
    if not math.isfinite(out):
        raise WcsError(f"{key} must be finite, got {value!r}")
    return out


def _parse_ctype(get: Callable[[str], Any]) -> tuple[str, bool]:
    """Projection code ("TAN" or "TPV") and whether SIP is declared, from CTYPE1/CTYPE2."""
    parsed = []
    for axis, want in ((1, "RA"), (2, "DEC")):
        key = f"CTYPE{axis}"
        raw = get(key)
        if raw is None:
            raise WcsError(f"header has no {key}; it carries no celestial WCS")
        value = str(raw).strip().upper()
        m = _CTYPE_RE.match(value)
        if m is None:
            raise WcsError(f"{key} = {raw!r} is not a celestial axis type like 'RA---TAN' or 'DEC--TAN-SIP'")
        if m["coord"] != want:
            raise WcsError(
                f"{key} = {raw!r}: osprey.afw.wcs supports only RA on axis 1 and Dec on axis 2 "
                "(equatorial coordinates; no GLON/ELON, no swapped axes)"
            )
        if m["proj"] not in ("TAN", "TPV"):
            raise WcsError(f"{key} = {raw!r}: unsupported projection {m['proj']}; TAN, TAN-SIP and TPV are read")
        parsed.append((m["proj"], m["sip"] is not None))
    if parsed[0] != parsed[1]:
        raise WcsError(f"CTYPE1 = {get('CTYPE1')!r} and CTYPE2 = {get('CTYPE2')!r} disagree")
    proj, sip = parsed[0]
    if proj == "TPV" and sip:
        raise WcsError(f"CTYPE1 = {get('CTYPE1')!r}: TPV and SIP cannot be combined")
    return proj, sip


def _cd_matrix(get: Callable[[str], Any]) -> NDArray[np.float64]:
    cd_keys = [f"CD{i}_{j}" for i in (1, 2) for j in (1, 2)]
    if any(get(k) is not None for k in cd_keys):
        cd = np.array([_number(get, k, 0.0) for k in cd_keys]).reshape(2, 2)
    else:
        pc_keys = [f"PC{i}_{j}" for i in (1, 2) for j in (1, 2)]
        others = [*pc_keys, "CDELT1", "CDELT2", "CROTA2"]
        if not any(get(k) is not None for k in others):
            raise WcsError("header has no CD1_1 (nor any CDi_j, PCi_j or CDELTi card): the pixel scale is unknown")
        cdelt = np.array([_number(get, "CDELT1", 1.0), _number(get, "CDELT2", 1.0)])
        if any(get(k) is not None for k in pc_keys):
            pc = np.array([_number(get, k, float(k[2] == k[4])) for k in pc_keys]).reshape(2, 2)
        else:  # the AIPS convention: CROTA2 rotates the CDELT scales
            rho = math.radians(_number(get, "CROTA2", 0.0))
            pc = np.array(
                [
                    [math.cos(rho), -math.sin(rho) * cdelt[1] / cdelt[0]],
                    [math.sin(rho) * cdelt[0] / cdelt[1], math.cos(rho)],
                ]
            )
        cd = cdelt[:, None] * pc
    return cd


def _sip_matrix(get: Callable[[str], Any], name: str) -> NDArray[np.float64] | None:
    order_key = f"{name}_ORDER"
    if get(order_key) is None:
        return None
    order = _number(get, order_key)
    if order != int(order) or not 0 <= order <= 15:
        raise WcsError(f"{order_key} must be an integer in [0, 15], got {get(order_key)!r}")
    n = int(order)
    c = np.zeros((n + 1, n + 1))
    for p in range(n + 1):
        for q in range(n + 1 - p):
            c[p, q] = _number(get, f"{name}_{p}_{q}", 0.0)
    return c


def read_header(header: Any) -> dict[str, Any]:
    """Keyword arguments of `SkyWcs` from a FITS header (see `SkyWcs.from_fits_header`)."""
    get = header_getter(header)
    proj, sip = _parse_ctype(get)
    for axis in (1, 2):
        unit = get(f"CUNIT{axis}")
        if unit is not None and str(unit).strip().lower() not in _DEGREE_UNITS:
            raise WcsError(f"CUNIT{axis} = {unit!r}: celestial axes must be in degrees")
    crval = (_number(get, "CRVAL1"), _number(get, "CRVAL2"))
    if not -90.0 <= crval[1] <= 90.0:
        raise WcsError(f"CRVAL2 = {crval[1]!r} is not a declination in [-90, 90] degrees")
    crpix = (_number(get, "CRPIX1") - 1.0, _number(get, "CRPIX2") - 1.0)
    cd = _cd_matrix(get)
    det = float(np.linalg.det(cd))
    scale = float(np.abs(cd).max())
    if not (math.isfinite(det) and scale > 0 and abs(det) > 1e-12 * scale * scale):
        raise WcsError(f"the CD matrix (CD1_1, CD1_2, CD2_1, CD2_2) = {cd.ravel().tolist()} is not invertible")
    kwargs: dict[str, Any] = {"crpix": crpix, "crval_deg": crval, "cd": cd}
    lonpole = get("LONPOLE")
    if lonpole is not None:
        kwargs["lonpole"] = _number(get, "LONPOLE")
    radesys = get("RADESYS")
    if radesys is None:
        radesys = get("RADECSYS")  # the pre-2002 spelling
    equinox = get("EQUINOX")
    if equinox is None:
        equinox = get("EPOCH")
    if equinox is not None:
        equinox = _number(get, "EQUINOX" if get("EQUINOX") is not None else "EPOCH")
    if radesys is None:
        radesys = "ICRS" if equinox is None else ("FK4" if equinox < 1984.0 else "FK5")
    radesys = str(radesys).strip().upper()
    if radesys not in RADESYS_VALUES:
        raise WcsError(f"RADESYS = {radesys!r} is not supported; use one of {', '.join(RADESYS_VALUES)}")
    kwargs["radesys"] = radesys
    if radesys != "ICRS":
        kwargs["equinox"] = equinox if equinox is not None else (1950.0 if radesys.startswith("FK4") else 2000.0)
    if sip:
        a, b = _sip_matrix(get, "A"), _sip_matrix(get, "B")
        if a is None or b is None:
            missing = "A_ORDER" if a is None else "B_ORDER"
            raise WcsError(f"CTYPE1 = {get('CTYPE1')!r} declares SIP but the header has no {missing}")
        ap, bp = _sip_matrix(get, "AP"), _sip_matrix(get, "BP")
        if (ap is None) != (bp is None):
            missing = "AP_ORDER" if ap is None else "BP_ORDER"
            raise WcsError(f"the SIP inverse needs both AP_ORDER and BP_ORDER; the header has no {missing}")
        kwargs.update(sip_a=a, sip_b=b, sip_ap=ap, sip_bp=bp)
    elif proj == "TPV":
        a, b = _poly.tpv_to_sip(get, cd)
        if a.any() or b.any():  # an identity TPV is plain TAN
            kwargs["sip_a"], kwargs["sip_b"] = a, b
    elif get("A_ORDER") is not None:
        _log.debug("ignoring SIP cards: CTYPE1 = %r has no -SIP suffix", get("CTYPE1"))
    return kwargs


def sip_cards(name: str, c: NDArray[np.float64]) -> list[tuple[str, Any, str]]:
    """``NAME_ORDER`` and every non-zero ``NAME_p_q`` card of a SIP polynomial."""
    n = c.shape[0] - 1
    cards: list[tuple[str, Any, str]] = [(f"{name}_ORDER", n, f"SIP polynomial order, {name}")]
    for p in range(n + 1):
        for q in range(n + 1 - p):
            if c[p, q] != 0.0:
                cards.append((f"{name}_{p}_{q}", float(c[p, q]), ""))
    return cards
