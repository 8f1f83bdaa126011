"""`Instrument`: everything instrument-specific the rest of Osprey needs, behind one class.

An obs package (``osprey-obs-lsst``, ``osprey-obs-decam``, your own) subclasses `Instrument`
and registers the subclass under the entry-point group ``osprey.instruments``; everything
else (ingest, visit definition, the ``butler`` plugins, the simulator) reaches it by name
with `Instrument.from_name`.
"""

from __future__ import annotations

import abc
import importlib
import os
from collections.abc import Iterator, Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from numpy.typing import NDArray

from ._errors import InstrumentError
from ._filters import FilterDefinition
from ._translator import MetadataTranslator, translate

if TYPE_CHECKING:
    from osprey.afw.camera_geom import Camera, Detector
    from osprey.afw.image import Exposure
    from osprey.daf.butler import Butler, DatasetRef, Timespan

    from ._observation_info import ObservationInfo

__all__ = ["ENTRY_POINT_GROUP", "CuratedCalibration", "Instrument"]

ENTRY_POINT_GROUP = "osprey.instruments"
"""Entry-point group naming every installed `Instrument` subclass (``name = "pkg.module:Class"``)."""


class CuratedCalibration(NamedTuple):
    """One calibration shipped with an obs package (rather than built by a pipeline).

    Unpacks as ``(dataset_type, storage_class, obj, timespan)`` plus an optional
    ``data_id`` (e.g. ``{"detector": 90}``); the dataset type's dimensions are
    ``instrument`` plus the keys of ``data_id``.
    """

    dataset_type: str
    storage_class: str
    obj: Any
    timespan: Timespan
    data_id: Mapping[str, Any] = {}


class Instrument(abc.ABC):
    """Base class of every instrument: camera, filters, header translation, raw format, calibrations.

    A subclass sets the class attributes and implements `get_camera`; the rest has
    working defaults. The default raw format (`raw_format`) is one of the two layouts
    nearly every CCD camera writes (one image HDU per amplifier, or one per detector),
    placed using the camera geometry, so a new instrument needs no raw reader of its own
    unless its files are unusual.

    Class attributes
    ----------------
    name : `str`
        Instrument name: the ``instrument`` dimension value and `ObservationInfo.instrument`.
    raw_dataset_type : `str`
        Dataset type of ingested raws (``"raw"``).
    policy_name : `str` or None
        Short lower-case name used for collection names (``LSSTCam/raw/all`` uses `name`;
        this is for files and directories); defaults to ``name.lower()``.
    filter_definitions : `tuple` of `FilterDefinition`
        Every physical filter the instrument can report, ``unknown`` included if headers
        can lack a filter.
    translator_class : `type` of `MetadataTranslator` or None
        The header translator; None means "the registered translator that claims the header".
    raw_format : `str`
        ``"amp_hdus"``: primary header + one image HDU per amplifier (found by `amp_hdu_name`,
        else by `Amplifier.raw_hdu`); ``"detector_hdu"``: primary header + one image HDU
        holding the whole raw frame (all amplifiers at their ``raw_xy_offset``).
    raw_dtype, raw_compression : `str`, `str` or None
        Integer type of written raw pixels and the FITS tile compression (``"RICE_1"``) or None.
    detector_purpose : mapping
        `DetectorType` name -> ``purpose`` value of the Butler ``detector`` record.
    visit_system : `int`
        Default visit system: 0, one exposure per visit.
    wcs_flip_x : `bool`
        Whether the sky appears mirrored in x on the focal plane (LSSTCam, DECam: True);
        used to place detectors on the sky for visit regions.
    """

    name: ClassVar[str]
    raw_dataset_type: ClassVar[str] = "raw"
    raw_storage_class: ClassVar[str] = "Exposure"
    raw_formatter: ClassVar[str] = "osprey.obs.base.formatters.RawFormatter"
    policy_name: ClassVar[str | None] = None
    filter_definitions: ClassVar[tuple[FilterDefinition, ...]] = ()
    translator_class: ClassVar[type[MetadataTranslator] | None] = None
    raw_format: ClassVar[str] = "amp_hdus"
    raw_dtype: ClassVar[str] = "int32"
    raw_compression: ClassVar[str | None] = None
    visit_system: ClassVar[int] = 0
    wcs_flip_x: ClassVar[bool] = True
    detector_purpose: ClassVar[Mapping[str, str]] = {
        "SCIENCE": "SCIENCE",
        "FOCUS": "FOCUS",
        "GUIDER": "GUIDER",
        "WAVEFRONT": "WAVEFRONT",
    }

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.raw_format not in ("amp_hdus", "detector_hdu"):
            raise InstrumentError(
                f"{cls.__qualname__}.raw_format must be 'amp_hdus' or 'detector_hdu', got {cls.raw_format!r}"
            )

    def __init__(self) -> None:
        if not isinstance(getattr(type(self), "name", None), str) or not self.name:
            raise InstrumentError(
                f"Instrument subclass {type(self).__module__}.{type(self).__qualname__} must set name"
            )

    # ------------------------------------------------------------------ discovery
    @staticmethod
    def known_names() -> dict[str, str]:
        """Instrument name -> ``module:Class`` of every ``osprey.instruments`` entry point."""
        return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}

    @classmethod
    def from_name(cls, name: str) -> Instrument:
        """The installed instrument called ``name`` (entry-point group ``osprey.instruments``).

        Raises
        ------
        InstrumentError
            No entry point has that name (the message lists the known ones), or it fails
            to load, or it is not an `Instrument` subclass.
        """
        eps = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
        if not eps:
            known = sorted(cls.known_names())
            hint = [k for k in known if k.lower() == str(name).lower()]
            raise InstrumentError(
                f"no instrument named {name!r} is installed (entry-point group {ENTRY_POINT_GROUP!r}); "
                f"known: {known or 'none'}" + (f"; did you mean {hint[0]!r}?" if hint else "")
            )
        try:
            klass = eps[0].load()
        except Exception as exc:
            raise InstrumentError(f"instrument {name!r}: cannot load entry point {eps[0].value!r}: {exc}") from exc
        return cls._instantiate(klass, f"entry point {name!r} ({eps[0].value})")

    @classmethod
    def from_string(cls, text: str) -> Instrument:
        """An instrument from a registered name (``"LSSTCam"``) or a dotted class path.

        ``"osprey.obs.lsst.LsstCam"`` and ``"osprey.obs.lsst:LsstCam"`` both work.
        """
        if "." not in text and ":" not in text:
            return cls.from_name(text)
        module_name, sep, attr = text.partition(":")
        if not sep:
            module_name, _, attr = text.rpartition(".")
        try:
            klass = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise InstrumentError(f"cannot import instrument class {text!r}: {exc}") from None
        return cls._instantiate(klass, repr(text))

    @staticmethod
    def _instantiate(klass: Any, what: str) -> Instrument:
        if isinstance(klass, Instrument):
            return klass
        if not (isinstance(klass, type) and issubclass(klass, Instrument)):
            raise InstrumentError(f"{what} is {klass!r}, not an Instrument subclass")
        return klass()

    @classmethod
    def class_name(cls) -> str:
        """Dotted path of this class (stored in the Butler ``instrument`` record)."""
        return f"{cls.__module__}.{cls.__qualname__}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # ------------------------------------------------------------------ camera and filters
    @abc.abstractmethod
    def get_camera(self) -> Camera:
        """The camera geometry (detectors, amplifiers, focal plane); cached by implementations."""

    def get_detector(self, key: int | str) -> Detector:
        """One detector by id or name (errors name the instrument)."""
        from osprey.afw.camera_geom import CameraGeomError

        try:
            return self.get_camera()[key]
        except CameraGeomError as exc:
            raise InstrumentError(f"{self.name}: {exc}") from None

    def filter_definition(self, physical_filter: str) -> FilterDefinition:
        """The `FilterDefinition` for a physical filter name or one of its aliases."""
        for definition in self.filter_definitions:
            if physical_filter == definition.physical_filter or physical_filter in definition.aliases:
                return definition
        raise InstrumentError(
            f"{self.name} has no physical filter {physical_filter!r}; "
            f"known: {[f.physical_filter for f in self.filter_definitions]}"
        )

    # ------------------------------------------------------------------ metadata
    def translate(self, header: Mapping[str, Any] | Any, filename: str | None = None) -> ObservationInfo:
        """Translate one raw primary header to an `ObservationInfo`.

        Uses `translator_class` when set, else the registered translator that claims the
        header; an `ObservationInfo` of another instrument is a `TranslationError`.
        """
        from ._errors import TranslationError

        if self.translator_class is not None:
            info = self.translator_class(header, filename).to_observation_info()
        else:
            info = translate(header, filename)
        if info.instrument != self.name:
            where = f"header {filename}" if filename else "header"
            raise TranslationError(f"{where} is from instrument {info.instrument!r}, not {self.name!r}")
        return info

    # ------------------------------------------------------------------ raw format
    def amp_hdu_name(self, amp_name: str) -> str:
        """EXTNAME of an amplifier's HDU in the ``amp_hdus`` raw format (default: the amp name)."""
        return amp_name

    def read_raw_header(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """The primary-HDU cards of a raw file (what `translate` needs), without reading pixels."""
        from ._raw_format import read_primary_header

        return read_primary_header(path)

    def raw_detector_headers(self, path: str | os.PathLike[str]) -> list[dict[str, Any]]:
        """One translatable header per detector held by a raw file; `ingest_raws` ingests one dataset each.

        The default is the primary header alone (one detector per file, as the generic
        formats and most cameras write). An instrument whose files hold several detectors
        (DECam: one HDU per CCD) overrides this to return, for each detector, the primary
        cards merged with that detector's HDU cards, in file order.
        """
        return [self.read_raw_header(path)]

    def read_raw(self, path: str | os.PathLike[str], detector: int | str | Detector | None = None) -> Exposure:
        """Read a raw file as an untrimmed `Exposure` in the raw frame (the raw formatter).

        The image holds every amplifier's pixels as digitised (prescan, data, overscan, in
        readout order, not flipped), each amplifier at its ``raw_xy_offset`` in the frame
        ``ip.isr`` works in; ``exposure.detector`` is the camera-geometry `Detector` whose
        amplifier boxes (``raw_bbox``, ``raw_data_bbox``, ``raw_serial_overscan_bbox``...)
        locate data, prescan and overscan. The primary header becomes ``exposure.metadata``
        and the translated header ``exposure.visit_info``.

        Parameters
        ----------
        path : path-like
            The raw file.
        detector : `int`, `str` or `Detector`, optional
            Which detector the file holds; read from the header by default.

        Raises
        ------
        RawFormatError
            The file is unreadable or its HDUs do not match the camera geometry (the message
            names the file, HDU and the mismatch).
        """
        from ._raw_format import read_raw_file

        return read_raw_file(self, path, detector)

    def write_raw(
        self,
        path: str | os.PathLike[str],
        detector_id: int,
        raw: NDArray[Any] | Mapping[str, NDArray[Any]],
        header: Mapping[str, Any],
    ) -> Path:
        """Write one detector's raw pixels in this instrument's real raw file format.

        The contract (used by the simulator):

        * ``raw`` is either a 2-D array with the shape of the detector's raw frame
          (``raw_frame_bbox(detector)``: all amplifiers side by side, each at its
          ``raw_xy_offset``, in readout order, as `read_raw` returns it), or a mapping
          amplifier name -> 2-D array of that amplifier's ``raw_bbox`` shape.
        * Values are ADU; they are rounded to the nearest integer and stored as
          `raw_dtype` (clipped to its range), as a real camera would digitise them.
        * ``header`` is the primary header: every card the instrument's translator reads
          must be there (the test suite translates the written file back). Per-HDU
          geometry cards (``DATASEC``, ``DETSEC``, ``BIASSEC``...) and structural cards
          are written from the camera geometry; if ``header`` has them (a merged header
          dump) they are dropped.
        * The file is written atomically (a temporary name, then renamed), overwriting
          ``path``; the parent directory is created.

        Returns
        -------
        path : `pathlib.Path`
            The file written.
        """
        from ._raw_format import write_raw_file

        return write_raw_file(self, path, detector_id, raw, header)

    # ------------------------------------------------------------------ Butler
    @property
    def _policy(self) -> str:
        return self.policy_name or self.name.lower()

    def make_default_raw_run(self) -> str:
        """RUN collection raws are ingested into by default: ``<name>/raw/all``."""
        return f"{self.name}/raw/all"

    def make_calibration_collection_name(self, *labels: str) -> str:
        """CALIBRATION collection name: ``<name>/calib`` (``/<label>...`` appended)."""
        return "/".join([f"{self.name}/calib", *labels])

    def make_curated_calibration_run_name(self, label: str = "curated") -> str:
        """RUN collection holding the curated calibration datasets: ``<name>/calib/<label>``."""
        return f"{self.name}/calib/{label}"

    def dimension_records(self) -> dict[str, list[dict[str, Any]]]:
        """The ``instrument``, ``band``, ``physical_filter`` and ``detector`` records `register` writes."""
        camera = self.get_camera()
        instrument = {
            "name": self.name,
            "detector_max": max(camera.ids) + 1,
            "visit_max": self.max_exposure_id(),
            "exposure_max": self.max_exposure_id(),
            "visit_system": self.visit_system,
            "class_name": self.class_name(),
        }
        detectors = []
        for det in camera:
            raft, _, name_in_raft = det.name.rpartition("_")
            detectors.append(
                {
                    "instrument": self.name,
                    "id": det.id,
                    "full_name": det.name,
                    "name_in_raft": name_in_raft,
                    "raft": raft or None,
                    "purpose": self.detector_purpose.get(det.type.name, det.type.name),
                }
            )
        bands = sorted({f.band for f in self.filter_definitions if f.band is not None})
        filters = [
            {"instrument": self.name, "name": f.physical_filter, "band": f.band} for f in self.filter_definitions
        ]
        return {
            "instrument": [instrument],
            "band": [{"name": b} for b in bands],
            "physical_filter": filters,
            "detector": detectors,
            "visit_system": [{"instrument": self.name, "id": 0, "name": "one-to-one"}],
        }

    def max_exposure_id(self) -> int:
        """Largest exposure id plus one (the ``exposure_max`` of the instrument record)."""
        return 2**63 - 1

    def register(self, butler: Butler, update: bool = False) -> None:
        """Write the instrument, band, physical_filter, detector and visit_system records, atomically.

        Registering again with identical records does nothing. A record that differs (a
        changed camera) is a `ConflictingDefinitionError` unless ``update=True``, which
        rewrites it; records are never deleted.
        """
        registry = butler.registry
        records = self.dimension_records()
        with butler.transaction():
            for element in ("instrument", "band", "physical_filter", "detector", "visit_system"):
                if element == "band":  # bands are shared between instruments: only add new ones
                    registry.insert_dimension_data(element, *records[element], skip_existing=True)
                    continue
                for record in records[element]:
                    registry.sync_dimension_data(element, record, update=update)
            ensure_obs_dataset_types(butler, self)

    # ------------------------------------------------------------------ curated calibrations
    def curated_calibrations(self) -> Iterator[CuratedCalibration]:
        """Calibrations shipped with the obs package; by default the camera geometry.

        Subclasses extend this (``yield from super().curated_calibrations()``) with
        defects, crosstalk, linearity... Each item's ``timespan`` is its validity range.
        """
        from osprey.daf.butler import Timespan

        yield CuratedCalibration("camera", "Camera", self.get_camera(), Timespan(None, None))

    def write_curated_calibrations(
        self, butler: Butler, collection: str | None = None, *, run: str | None = None
    ) -> list[DatasetRef]:
        """Put every `curated_calibrations` item in a RUN and certify it into a CALIBRATION collection.

        All or nothing: one transaction. Running it again with nothing new is a no-op
        (items already certified in ``collection`` with the same data ID and timespan
        are skipped).

        Parameters
        ----------
        butler : `Butler`
            A writeable Butler.
        collection : `str`, optional
            CALIBRATION collection; `make_calibration_collection_name` by default.
        run : `str`, optional
            RUN for the datasets; `make_curated_calibration_run_name` by default.

        Returns
        -------
        refs : `list` [`DatasetRef`]
            The datasets written (empty when everything was already there).
        """
        from ._curated import write_curated

        return write_curated(self, butler, collection or self.make_calibration_collection_name(), run)

    # ------------------------------------------------------------------ config overrides
    def config_overrides_directory(self) -> Path | None:
        """Directory of per-task config override files: ``configs/`` beside the subclass's module."""
        module = importlib.import_module(type(self).__module__)
        if module.__file__ is None:
            return None
        directory = Path(module.__file__).parent / "configs"
        return directory if directory.is_dir() else None

    def get_config_overrides_path(self, task_label: str) -> Path | None:
        """The override file (``configs/<task_label>.yaml``) for a pipeline task label, or None.

        Per-camera override files are YAML mappings of config field paths to values, applied
        with ``config.load_yaml(path)`` after the pipeline's own overrides (see
        `apply_config_overrides`).
        """
        directory = self.config_overrides_directory()
        if directory is None:
            return None
        path = directory / f"{task_label}.yaml"
        return path if path.is_file() else None

    def apply_config_overrides(self, task_label: str, config: Any) -> bool:
        """Apply this instrument's override file for ``task_label`` to a pipe-base config; True if one existed."""
        path = self.get_config_overrides_path(task_label)
        if path is None:
            return False
        config.load_yaml(path)
        return True


def ensure_obs_dataset_types(butler: Butler, instrument: Instrument) -> None:
    """Register the raw dataset type of ``instrument`` (idempotent)."""
    butler.register_dataset_type(
        instrument.raw_dataset_type, ("instrument", "exposure", "detector"), instrument.raw_storage_class
    )
