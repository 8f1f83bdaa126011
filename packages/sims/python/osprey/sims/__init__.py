"""GalSim-based simulation of raw exposures, calibration frames, reference catalogues,
transients, moving objects and truth tables for any registered Osprey instrument.

``Simulator(instrument, config, scene).simulate(spec, detector)`` renders one detector of one
exposure (`ExposureSpec`, from `simple_cadence` or `calibration_sequence`) through the PSF,
the true WCS and the detector's instrument signature; `run_survey` (and the ``osprey-sim``
command) writes a whole data set: raws in the instrument's format, an HTM-sharded reference
catalogue and Parquet truth tables.

Not lifted: ``testing`` (a small LSST-like camera and instrument; import
``osprey.sims.testing``), ``cli`` (the console script).
"""

from importlib.metadata import version as _version

from .cadence import ExposureSpec, airmass_at, calibration_sequence, day_obs_of, renumber, simple_cadence
from .errors import SimsConfigError, SimsError
from .headers import DEFAULT_PHYSICAL_FILTERS, HEADER_BUILDERS, header_builder
from .photometry import Band, Telescope, default_band, mag_to_njy, njy_to_mag, telescope_for
from .psf import DetectorPsf, FieldPsf, PsfConfig
from .refcat import read_shard, write_reference_catalog
from .render import Component, render_objects
from .scene import Scene, SceneConfig
from .signature import DetectorSignature, ExposureResult, SignatureConfig
from .simulator import SimConfig, SimInstrument, SimulatedExposure, Simulator
from .survey import SurveyPlan, SurveyResult, run_survey
from .truth import read_truth, write_truth
from .wcs import detector_wcs

__version__ = _version("osprey-sims")

__all__ = [
    "DEFAULT_PHYSICAL_FILTERS",
    "HEADER_BUILDERS",
    "Band",
    "Component",
    "DetectorPsf",
    "DetectorSignature",
    "ExposureResult",
    "ExposureSpec",
    "FieldPsf",
    "PsfConfig",
    "Scene",
    "SceneConfig",
    "SignatureConfig",
    "SimConfig",
    "SimInstrument",
    "SimsConfigError",
    "SimsError",
    "SimulatedExposure",
    "Simulator",
    "SurveyPlan",
    "SurveyResult",
    "Telescope",
    "__version__",
    "airmass_at",
    "calibration_sequence",
    "day_obs_of",
    "default_band",
    "detector_wcs",
    "header_builder",
    "mag_to_njy",
    "njy_to_mag",
    "read_shard",
    "read_truth",
    "render_objects",
    "renumber",
    "run_survey",
    "simple_cadence",
    "telescope_for",
    "write_reference_catalog",
    "write_truth",
]
