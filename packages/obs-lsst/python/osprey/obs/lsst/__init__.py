"""LSSTCam, LSSTComCam and LATISS for Osprey: camera geometry, amplifiers, filters, translators, raw format.

The instruments are registered under the entry-point group ``osprey.instruments``
(``Instrument.from_name("LSSTCam")``). Their camera descriptions ship in ``data/`` in our
compact format (``scripts/make_camera_descriptions.py`` derives them from obs_lsst's policy
facts); the header translators live in `osprey.obs.base`.
"""

from importlib.metadata import version as _version

from ._camera import DATA_DIR, expand_compact, load_camera
from ._errors import ObsLsstError
from ._instruments import LATISS_FILTERS, LSST_FILTERS, Latiss, LsstCam, LsstComCam

__version__ = _version("osprey-obs-lsst")

__all__ = [
    "DATA_DIR",
    "LATISS_FILTERS",
    "LSST_FILTERS",
    "Latiss",
    "LsstCam",
    "LsstComCam",
    "ObsLsstError",
    "__version__",
    "expand_compact",
    "load_camera",
]
