"""Shared fixtures: the real LSST afw-format file used by the metadata, mask and exposure tests."""

from pathlib import Path

import pytest

from osprey.utils.testing import realdata_path

HSC_AFW_FILE = "images/hsc-afw/HSC-0908120-056-small.fits"


@pytest.fixture(scope="session")
def hsc_afw_path() -> Path:
    """A 200x200 HSC cut-out written by LSST afw (image, mask, variance HDUs; xy0 = (100, 100))."""
    return realdata_path(HSC_AFW_FILE, __file__)
