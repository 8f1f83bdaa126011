"""Camera geometry: amplifiers, detectors, cameras and the transforms between their coordinate systems.

A `Camera` holds `Detector` objects (by id and name), each with its `Amplifier` list and
an `Orientation` placing it on the focal plane. Positions move between ``PIXELS``,
``FOCAL_PLANE`` (mm) and ``FIELD_ANGLE`` (radians, through the camera's
`RadialDistortion`) with `Detector.transform`, vectorised over arrays of points.
Cameras are built from a declarative YAML description (`Camera.from_yaml`, units in every
key name) or from obs_lsst's per-raft policy files (`Camera.from_lsst_policy`).

Not lifted: ``_spec`` (the description reader shared by the classes) and the private
helpers of ``_lsst_policy``.
"""

from ._amplifier import Amplifier, ReadoutCorner
from ._camera import FORMAT_VERSION, Camera
from ._detector import Detector, DetectorType, Orientation
from ._distortion import RadialDistortion
from ._errors import CameraGeomError
from ._lsst_policy import LSST_RAFT_PITCH_MM, LSST_SCIENCE_RAFTS, read_lsst_policy
from ._systems import FIELD_ANGLE, FOCAL_PLANE, PIXELS, CameraSys

__all__ = [
    "FIELD_ANGLE",
    "FOCAL_PLANE",
    "FORMAT_VERSION",
    "LSST_RAFT_PITCH_MM",
    "LSST_SCIENCE_RAFTS",
    "PIXELS",
    "Amplifier",
    "Camera",
    "CameraGeomError",
    "CameraSys",
    "Detector",
    "DetectorType",
    "Orientation",
    "RadialDistortion",
    "ReadoutCorner",
    "read_lsst_policy",
]
