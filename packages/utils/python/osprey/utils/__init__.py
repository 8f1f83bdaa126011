"""The small shared base of Osprey: error roots, the VERBOSE log level, native-build helpers."""

from importlib.metadata import version as _version

from .errors import OspreyError, OspreyValueError, ShapeMismatchError
from .logging import VERBOSE, get_logger
from .native import include_dir

__version__ = _version("osprey-utils")

__all__ = [
    "VERBOSE",
    "OspreyError",
    "OspreyValueError",
    "ShapeMismatchError",
    "__version__",
    "get_logger",
    "include_dir",
]
