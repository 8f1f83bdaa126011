"""Raw ingest: read and translate headers in parallel, write exposure records, register files.

Each exposure is ingested in its own transaction (its ``day_obs``, ``group`` and ``exposure``
records and all of its files, or nothing), so one bad exposure never blocks the others and
never leaves half of itself behind. Files already ingested (same data ID in the run) are
reported as skipped, so running the same ingest twice is harmless.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import IngestError, ObsBaseError

if TYPE_CHECKING:
    from osprey.daf.butler import Butler, DatasetRef

    from ._instrument import Instrument
    from ._observation_info import ObservationInfo

__all__ = ["IngestResult", "RawFileFailure", "exposure_record", "ingest_raws", "tai_ns"]

_log = logging.getLogger(__name__)

RAW_SUFFIXES = (".fits", ".fits.fz", ".fits.gz", ".fz", ".fit")
"""File names a directory given to `ingest_raws` is searched for."""


@dataclasses.dataclass(frozen=True)
class RawFileFailure:
    """A file that was not ingested and why."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclasses.dataclass
class IngestResult:
    """Outcome of `ingest_raws`: what went in, what was already there, what failed and why."""

    ingested: list[DatasetRef] = dataclasses.field(default_factory=list)
    skipped: list[Path] = dataclasses.field(default_factory=list)
    failed: list[RawFileFailure] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no file failed."""
        return not self.failed

    def summary(self) -> str:
        """One line for logs and the CLI."""
        return f"ingested {len(self.ingested)}, already present {len(self.skipped)}, failed {len(self.failed)}"


def tai_ns(time: Any) -> int:
    """Nanoseconds since 1970-01-01T00:00:00 TAI of an astropy Time (the Butler's timespan unit).

    Uses astropy's two-double Julian date so the result is exact to well under a microsecond.
    """
    tai = time.tai
    seconds = (float(tai.jd1) - 2440587.5) * 86400.0  # jd1 carries the whole days: exact
    whole = math.floor(seconds)
    return int(whole) * 1_000_000_000 + round(((seconds - whole) + float(tai.jd2) * 86400.0) * 1e9)


def exposure_record(info: ObservationInfo) -> dict[str, Any]:
    """The Butler ``exposure`` record of a translated header (angles in degrees, times TAI)."""
    from osprey.daf.butler import Timespan

    begin, end = tai_ns(info.datetime_begin), tai_ns(info.datetime_end)
    if end <= begin:  # zero-length (bias) exposures still need a non-empty span
        end = begin + 1
    ra = dec = zenith = sky_angle = None
    if info.tracking_radec is not None:
        ra = info.tracking_radec.longitude.as_degrees()
        dec = info.tracking_radec.latitude.as_degrees()
    if info.altaz_begin is not None:
        zenith = 90.0 - info.altaz_begin.latitude.as_degrees()
    if info.boresight_rotation_angle is not None and info.boresight_rotation_coord == "sky":
        sky_angle = info.boresight_rotation_angle.as_degrees()
    return {
        "instrument": info.instrument,
        "id": info.exposure_id,
        "physical_filter": info.physical_filter,
        "day_obs": info.day_obs,
        "group": info.exposure_group or str(info.exposure_id),
        "obs_id": info.observation_id,
        "exposure_time": info.exposure_time,
        "dark_time": info.dark_time,
        "observation_type": info.observation_type,
        "observation_reason": info.observation_reason,
        "science_program": info.science_program,
        "target_name": info.object,
        "tracking_ra": ra,
        "tracking_dec": dec,
        "sky_angle": sky_angle,
        "zenith_angle": zenith,
        "seq_num": info.seq_num,
        "timespan": Timespan(begin, end),
    }


def _expand(files: Iterable[str | os.PathLike[str]]) -> list[Path]:
    out: list[Path] = []
    for item in files:
        path = Path(item)
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(RAW_SUFFIXES)))
        else:
            out.append(path)
    return list(dict.fromkeys(p.absolute() for p in out))


def _read_one(task: tuple[Path, Instrument | None]) -> tuple[Path, list[Any], str | None]:
    """Worker: (path, one ObservationInfo per detector in the file, failure reason or None). Never raises.

    The primary header says which instrument wrote the file (the translator that claims
    it); that instrument's `Instrument.raw_detector_headers` gives one header per detector.
    """
    from ._instrument import Instrument
    from ._raw_format import read_primary_header
    from ._translator import MetadataTranslator, translate

    path, only = task
    where = str(path)
    try:
        header = read_primary_header(path)
        name = MetadataTranslator.determine_translator(header, where).name
        if only is not None and name != only.name:
            return path, [], f"file is from instrument {name!r}, but only {only.name!r} raws were asked for"
        if only is not None:
            inst = only
        else:
            try:
                inst = Instrument.from_name(name)
            except ObsBaseError:  # not installed: translate alone, so the check names the instrument
                return path, [translate(header, where)], None
        infos = [inst.translate(h, where) for h in inst.raw_detector_headers(path)]
        if not infos:
            return path, [], f"holds no detector of {name} (no HDU with a detector header)"
        return path, infos, None
    except ObsBaseError as exc:
        return path, [], str(exc)
    except Exception as exc:  # a worker must report, not die: the reason names the type
        return path, [], f"{type(exc).__name__}: {exc}"


def _read_all(paths: list[Path], processes: int, only: Instrument | None) -> list[tuple[Path, list[Any], str | None]]:
    tasks = [(p, only) for p in paths]
    if processes <= 1 or len(paths) < 2:
        return [_read_one(t) for t in tasks]
    chunk = max(1, len(paths) // (4 * processes))
    with concurrent.futures.ProcessPoolExecutor(max_workers=processes) as pool:
        return list(pool.map(_read_one, tasks, chunksize=chunk))


def ingest_raws(
    butler: Butler,
    files: Iterable[str | os.PathLike[str]],
    *,
    run: str | None = None,
    processes: int = 1,
    transfer: str | None = "auto",
    instrument: str | Instrument | None = None,
) -> IngestResult:
    """Ingest raw files: translate their headers, define exposures, register the files.

    Parameters
    ----------
    butler : `Butler`
        A writeable Butler; each file's instrument must already be registered
        (`Instrument.register`, ``butler register-instrument``).
    files : iterable of path-like
        Raw files, or directories searched recursively for ``*.fits`` (and ``.fz``/``.gz``).
    run : `str`, optional
        RUN collection; ``<instrument>/raw/all`` by default.
    processes : `int`
        Worker processes reading and translating headers.
    transfer : `str` or None
        Butler transfer mode (``"auto"`` copies files from outside the repository).
    instrument : `str` or `Instrument`, optional
        Accept only this instrument's files (others fail with a reason).

    Returns
    -------
    result : `IngestResult`
        One ingested `DatasetRef` per detector (a multi-detector file such as a DECam
        exposure gives one per CCD); files already fully ingested in ``skipped``; files
        that failed, once each, with the reason. Failures are also logged at WARNING.
    """
    from ._instrument import Instrument, ensure_obs_dataset_types

    if processes < 1:
        raise IngestError(f"processes must be >= 1, got {processes}")
    only = Instrument.from_string(instrument) if isinstance(instrument, str) else instrument
    paths = _expand(files)
    result = IngestResult()
    _log.info("reading %d raw header(s) with %d process(es)", len(paths), processes)
    instruments: dict[str, Instrument | str] = {}  # name -> instrument, or the reason it is unusable
    exposures: dict[tuple[str, int], list[tuple[Path, ObservationInfo]]] = {}
    for path, infos, reason in _read_all(paths, processes, only):
        if reason is None:
            reasons = {_check_file(butler, info, instruments, only) for info in infos} - {None}
            reason = "; ".join(sorted(reasons)) if reasons else None  # type: ignore[arg-type]
        if reason is None and len({(i.instrument, i.exposure_id) for i in infos}) > 1:
            reason = f"holds detectors of several exposures {sorted({i.exposure_id for i in infos})}"
        if reason is not None:
            result.failed.append(RawFileFailure(path, reason))
            continue
        for info in infos:
            exposures.setdefault((info.instrument, info.exposure_id), []).append((path, info))
    for (name, exposure_id), members in sorted(exposures.items()):
        inst = instruments[name]
        assert not isinstance(inst, str)
        target_run = run or inst.make_default_raw_run()
        members = _drop_duplicate_detectors(members, result)
        try:
            with butler.transaction():
                ensure_obs_dataset_types(butler, inst)
                _sync_exposure(butler, inst, members[0][1])
                existing = (
                    {
                        ref.data_id["detector"]
                        for ref in butler.registry.query_datasets(
                            inst.raw_dataset_type, [target_run], instrument=name, exposure=exposure_id
                        )
                    }
                    if target_run in butler.query_collections(target_run)
                    else set()
                )
                by_file: dict[Path, list[ObservationInfo]] = {}
                for path, info in members:
                    by_file.setdefault(path, []).append(info)
                refs = []
                for path, infos in by_file.items():
                    todo = [i for i in infos if i.detector_num not in existing]
                    if not todo:
                        result.skipped.append(path)
                        continue
                    refs.extend(_ingest_file(butler, inst, path, todo, len(infos) > 1, transfer, target_run))
        except ObsBaseError as exc:
            result.failed.extend(RawFileFailure(p, str(exc)) for p in dict.fromkeys(p for p, _ in members))
            continue
        except Exception as exc:  # a Butler error for this exposure: report, keep going
            reason = f"exposure {exposure_id} of {name} not ingested ({type(exc).__name__}): {exc}"
            result.failed.extend(RawFileFailure(p, reason) for p in dict.fromkeys(p for p, _ in members))
            continue
        result.ingested.extend(refs)
        _log.log(15, "ingested exposure %s of %s: %d detector(s)", exposure_id, name, len(refs))
    for failure in result.failed:
        _log.warning("raw not ingested: %s", failure)
    _log.info("raw ingest: %s", result.summary())
    return result


_SHARING_MODES = ("symlink", "relsymlink", "link", "hardlink")
"""Transfer modes that give every dataset of a multi-detector file its own link to the source."""


def _ingest_file(
    butler: Butler,
    inst: Instrument,
    path: Path,
    infos: list[ObservationInfo],
    multi: bool,
    transfer: str | None,
    run: str,
) -> list[DatasetRef]:
    """Ingest the detectors ``infos`` of one raw file: one dataset each.

    A single-detector file is one ordinary ingest. For a file holding several detectors
    the first dataset is ingested with ``transfer`` and the others share its bytes: with a
    link mode each gets its own link to the source; otherwise (copy, move, in place,
    direct) each is a hard link to the file the first one stored (a symlink for
    ``direct``, whose file stays outside the repository), so a 62-CCD DECam exposure is
    stored once and removing one detector's dataset leaves the others readable. Each
    dataset records `raw_formatter_for_detector` so that reading it reads its detector.
    """
    from osprey.daf.butler import FileDataset

    from .formatters import RawFormatter, raw_formatter_for_detector

    def dataset(source: Path | str, info: ObservationInfo) -> FileDataset:
        data_id = {"instrument": inst.name, "exposure": info.exposure_id, "detector": info.detector_num}
        formatter = inst.raw_formatter
        if multi and formatter == f"{RawFormatter.__module__}.{RawFormatter.__qualname__}":
            formatter = raw_formatter_for_detector(info.detector_num)
        return FileDataset(source, dataset_type=inst.raw_dataset_type, data_id=data_id, formatter=formatter)

    first, *rest = infos
    refs = butler.ingest(dataset(path, first), transfer=transfer, run=run)
    if rest:
        if transfer in _SHARING_MODES:
            source, mode = path, transfer
        elif transfer == "direct":
            source, mode = path, "symlink"
        else:
            source, mode = butler.get_uri(refs[0]), "hardlink"
        refs += butler.ingest(*(dataset(source, info) for info in rest), transfer=mode, run=run)
    return refs


def _drop_duplicate_detectors(
    members: list[tuple[Path, ObservationInfo]], result: IngestResult
) -> list[tuple[Path, ObservationInfo]]:
    """Two different files claiming one (exposure, detector): keep the first, fail the others."""
    seen: dict[int, Path] = {}
    kept = []
    for path, info in members:
        if info.detector_num in seen:
            result.failed.append(
                RawFileFailure(
                    path,
                    f"same exposure {info.exposure_id} and detector {info.detector_num} as {seen[info.detector_num]}",
                )
            )
            continue
        seen[info.detector_num] = path
        kept.append((path, info))
    return kept


def _check_file(
    butler: Butler, info: ObservationInfo, instruments: dict[str, Any], only: Instrument | None
) -> str | None:
    """Why this translated file cannot be ingested, or None."""
    from ._instrument import Instrument

    name = info.instrument
    if only is not None and name != only.name:
        return f"file is from instrument {name!r}, but only {only.name!r} raws were asked for"
    if name not in instruments:
        try:
            inst = only if only is not None else Instrument.from_name(name)
            if not butler.registry.query_dimension_records("instrument", name=name):
                instruments[name] = (
                    f"instrument {name!r} is not registered in this repository; "
                    f"run 'butler register-instrument REPO {name}' first"
                )
            else:
                instruments[name] = inst
        except ObsBaseError as exc:
            instruments[name] = str(exc)
    inst = instruments[name]
    if isinstance(inst, str):
        return inst
    if info.detector_num not in inst.get_camera():
        return f"detector {info.detector_num} is not in the {name} camera"
    try:
        inst.filter_definition(info.physical_filter)
    except ObsBaseError as exc:
        return str(exc)
    return None


def _sync_exposure(butler: Butler, instrument: Instrument, info: ObservationInfo) -> None:
    """Write the physical_filter, day_obs, group and exposure records (identical ones already there are fine).

    The physical_filter record is written here too because some instruments name filter
    combinations (LATISS ``filter~grating``) that `Instrument.register` cannot list in advance.
    """
    registry = butler.registry
    record = exposure_record(info)
    inst = info.instrument
    definition = instrument.filter_definition(info.physical_filter)
    registry.insert_dimension_data("band", {"name": definition.band}, skip_existing=True)
    registry.sync_dimension_data(
        "physical_filter", {"instrument": inst, "name": info.physical_filter, "band": definition.band}
    )
    registry.sync_dimension_data("day_obs", {"instrument": inst, "id": info.day_obs, "timespan": None})
    registry.sync_dimension_data("group", {"instrument": inst, "name": record["group"]})
    registry.sync_dimension_data("exposure", record)
