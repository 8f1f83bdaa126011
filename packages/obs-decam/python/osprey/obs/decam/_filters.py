"""DECam filters: the physical filter names DECam writes in its ``FILTER`` card, and their bands."""

from __future__ import annotations

from osprey.obs.base import DecamTranslator, FilterDefinition

__all__ = ["DECAM_FILTERS", "SOLID_PLATE"]

SOLID_PLATE = DecamTranslator.solid_plate_filter
"""Physical filter of exposures taken with the shutter closed (``"solid plate 0.0 0.0"``; biases)."""

# (FILTER card as DECam writes it, band, one line for users). The last two numbers of the
# name are the central wavelength and the width in Angstrom; lambda_eff_nm is the former.
_SCIENCE = (
    ("u DECam c0006 3500.0 1000.0", "u", "SDSS-like u"),
    ("g DECam SDSS c0001 4720.0 1520.0", "g", "SDSS-like g"),
    ("r DECam SDSS c0002 6415.0 1480.0", "r", "SDSS-like r"),
    ("i DECam SDSS c0003 7835.0 1470.0", "i", "SDSS-like i"),
    ("z DECam SDSS c0004 9260.0 1520.0", "z", "SDSS-like z"),
    ("Y DECam c0005 10095.0 1130.0", "y", "Y (band y)"),
    ("VR DECam c0007 6300.0 2600.0", "VR", "broad VR, for faint moving objects"),
    ("N964 DECam c0008 9645.0 94.0", "N964", "narrow band at 964 nm"),
)


def _definition(physical: str, band: str, doc: str) -> FilterDefinition:
    centre_angstrom = float(physical.split()[-2])
    short = physical.split()[0]
    return FilterDefinition(physical, band, doc, lambda_eff_nm=centre_angstrom / 10.0, aliases=(short,))


DECAM_FILTERS: tuple[FilterDefinition, ...] = (
    *(_definition(*row) for row in _SCIENCE),
    FilterDefinition(SOLID_PLATE, None, "opaque plate (biases, darks)", aliases=("solid",)),
    FilterDefinition("unknown", None, "no FILTER card in the header"),
)
"""Every physical filter a DECam header can report (``aliases``: the one-word names of InstCal/calexp headers)."""
