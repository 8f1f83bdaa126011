"""Osprey application framework: images, masks, exposures, metadata, FITS, WCS, PSF and camera geometry."""

from importlib.metadata import version as _version

from osprey.utils.native import include_dir as _include_dir

__version__ = _version("osprey-afw-core")


def get_include() -> str:
    """Directory holding this package's public C++ headers, for other packages' meson.build."""
    return _include_dir(__name__)


__all__ = ["__version__", "get_include"]
