"""Butler formatters for the storage classes obs-base adds (``storage_classes.yaml``).

`RawFormatter` reads any instrument's raw file: it translates the primary header, finds the
`Instrument` by the translated name (entry points) and calls its `Instrument.read_raw`, so one
formatter serves every obs package and the Butler needs no per-instrument configuration.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from osprey.daf.butler import FormatterError
from osprey.daf.butler.datastore.formatters import Formatter

__all__ = ["CameraFormatter", "EcsvFormatter", "ExposureFormatter", "RawFormatter", "raw_formatter_for_detector"]

_DETECTOR_PREFIX = "RawFormatterDetector"


class ExposureFormatter(Formatter):
    """`osprey.afw.image.Exposure` as the afw multi-extension FITS layout; ``bbox`` reads a sub-region."""

    extension = "fits"

    def write(self, obj: Any, path: str) -> None:
        from osprey.afw.fits import write_exposure

        write_exposure(path, obj)

    def read(self, path: str, parameters: Mapping[str, Any] | None = None) -> Any:
        from osprey.afw.fits import read_exposure

        return read_exposure(path, bbox=(parameters or {}).get("bbox"))

    def read_component(self, path: str, component: str, parameters: Mapping[str, Any] | None = None) -> Any:
        from osprey.afw.fits import READABLE_COMPONENTS, read_component

        if component in READABLE_COMPONENTS:
            return read_component(path, component)
        return super().read_component(path, component, parameters)


class RawFormatter(Formatter):
    """Raw files of any installed instrument, read with that instrument's `Instrument.read_raw`.

    The instrument is the one whose translator claims the file's primary header. A file
    holding several detectors (a DECam exposure) is ingested once per detector, each dataset
    recording the formatter ``osprey.obs.base.formatters.RawFormatterDetector<id>`` (see
    `raw_formatter_for_detector`), which reads that detector only.
    """

    extension = "fits"
    detector: ClassVar[int | None] = None
    """Detector to read from a multi-detector file; None: the one the file holds."""

    def write(self, obj: Any, path: str) -> None:
        raise FormatterError(
            f"raw datasets are ingested from the camera's files, not put (target {path}); "
            "write them with Instrument.write_raw and ingest with osprey.obs.base.ingest_raws"
        )

    def read(self, path: str, parameters: Mapping[str, Any] | None = None) -> Any:
        from ._instrument import Instrument
        from ._raw_format import read_primary_header
        from ._translator import MetadataTranslator

        name = MetadataTranslator.determine_translator(read_primary_header(path), path).name
        exposure = Instrument.from_name(name).read_raw(path, self.detector)
        bbox = (parameters or {}).get("bbox")
        return exposure if bbox is None else exposure[bbox]


class CameraFormatter(Formatter):
    """`osprey.afw.camera_geom.Camera` as its declarative description in JSON (exact round trip;
    JSON because a YAML emitter takes seconds for LSSTCam's 205 detectors)."""

    extension = "json"

    def write(self, obj: Any, path: str) -> None:
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(json.dumps(obj.to_dict()))  # dumps uses the C encoder; dump does not

    def read(self, path: str, parameters: Mapping[str, Any] | None = None) -> Any:
        from osprey.afw.camera_geom import Camera

        with open(path, encoding="utf-8") as stream:
            return Camera.from_dict(json.load(stream), path)


class EcsvFormatter(Formatter):
    """An astropy `~astropy.table.Table` as ECSV (units, dtypes and ``meta`` kept)."""

    extension = "ecsv"

    def write(self, obj: Any, path: str) -> None:
        obj.write(path, format="ascii.ecsv", overwrite=True)

    def read(self, path: str, parameters: Mapping[str, Any] | None = None) -> Any:
        from astropy.table import Table

        return Table.read(path, format="ascii.ecsv")


def raw_formatter_for_detector(detector: int) -> str:
    """Dotted path of the formatter reading one detector of a multi-detector raw file.

    The Butler instantiates formatters by dotted path with no data ID, so the detector is
    part of the name: ``osprey.obs.base.formatters.RawFormatterDetector25`` is a
    `RawFormatter` whose `~RawFormatter.detector` is 25 (made on first use by this module's
    ``__getattr__``).
    """
    if isinstance(detector, bool) or int(detector) != detector or detector < 0:
        raise ValueError(f"detector must be a non-negative integer, got {detector!r}")
    return f"{__name__}.{_DETECTOR_PREFIX}{int(detector)}"


@functools.cache
def _detector_formatter(detector: int) -> type[RawFormatter]:
    name = f"{_DETECTOR_PREFIX}{detector}"
    doc = f"`RawFormatter` reading detector {detector} of a multi-detector raw file."
    return type(name, (RawFormatter,), {"detector": detector, "__doc__": doc, "__module__": __name__})


def __getattr__(name: str) -> Any:
    suffix = name.removeprefix(_DETECTOR_PREFIX)
    if name != suffix and suffix.isdigit() and suffix == str(int(suffix)):
        return _detector_formatter(int(suffix))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
