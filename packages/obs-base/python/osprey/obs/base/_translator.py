"""`MetadataTranslator`: turns one instrument's raw FITS header into an `ObservationInfo`."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from osprey.geom import Angle, SpherePoint, degrees

from ._errors import TranslationError
from ._observation_info import ObservationInfo

__all__ = ["MetadataTranslator", "read_header", "translate"]

_log = logging.getLogger(__name__)

_FIELDS = [f.name for f in dataclasses.fields(ObservationInfo) if f.name != "filename"]


class MetadataTranslator:
    """Base class of the per-instrument header translators.

    A subclass sets ``name`` (the instrument name it produces), implements `can_translate`
    and one ``to_<field>`` method per `ObservationInfo` field it knows; the base supplies
    defaults for the optional fields and the card-reading helpers, whose errors name the
    header file and the card. Subclasses with a ``name`` register themselves, so
    `translate` finds them by `can_translate`.

    Parameters
    ----------
    header : mapping or `osprey.afw.metadata.PropertyList`
        The primary-HDU cards (later cards of a repeated key win).
    filename : `str` or None
        Where the header came from, for error messages.
    """

    name: ClassVar[str] = ""
    telescope_name: ClassVar[str | None] = None
    _registry: ClassVar[dict[str, type[MetadataTranslator]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            MetadataTranslator._registry[cls.name] = cls

    def __init__(self, header: Mapping[str, Any] | Any, filename: str | None = None) -> None:
        self.header = _as_dict(header)
        self.filename = None if filename is None else str(filename)

    # -- registry ----------------------------------------------------------------------------
    @classmethod
    def registry(cls) -> dict[str, type[MetadataTranslator]]:
        """Every registered translator class by instrument name (a copy)."""
        return dict(MetadataTranslator._registry)

    @classmethod
    def can_translate(cls, header: Mapping[str, Any]) -> bool:
        """Whether this translator understands ``header``; the base class understands nothing."""
        return False

    @classmethod
    def determine_translator(
        cls, header: Mapping[str, Any] | Any, filename: str | None = None
    ) -> type[MetadataTranslator]:
        """The one registered translator that claims ``header``; `TranslationError` for none or several."""
        cards = _as_dict(header)
        matches = [t for t in MetadataTranslator._registry.values() if t.can_translate(cards)]
        if not matches and _load_installed_translators():
            matches = [t for t in MetadataTranslator._registry.values() if t.can_translate(cards)]
        where = f"header {filename}" if filename else "header"
        if not matches:
            raise TranslationError(
                f"{where}: no metadata translator recognises it (INSTRUME={cards.get('INSTRUME')!r}, "
                f"TELESCOP={cards.get('TELESCOP')!r}); known: {sorted(MetadataTranslator._registry)}"
            )
        if len(matches) > 1:
            raise TranslationError(f"{where}: several translators claim it: {[t.name for t in matches]}")
        return matches[0]

    # -- translation --------------------------------------------------------------------------
    def to_observation_info(self) -> ObservationInfo:
        """Every `ObservationInfo` field from this header."""
        values = {name: getattr(self, f"to_{name}")() for name in _FIELDS}
        return ObservationInfo(**values, filename=self.filename)

    # -- card helpers -------------------------------------------------------------------------
    def _where(self, key: str) -> str:
        return f"card {key!r} of header {self.filename}" if self.filename else f"card {key!r} of the header"

    def is_defined(self, key: str) -> bool:
        """Whether ``key`` is present with a value other than None or an empty string."""
        value = self.header.get(key)
        return value is not None and not (isinstance(value, str) and not value.strip())

    def required(self, key: str) -> Any:
        """The value of ``key``; `TranslationError` naming the key and file when absent or undefined."""
        if not self.is_defined(key):
            state = "is undefined" if key in self.header else "is missing"
            raise TranslationError(f"{self._where(key)} {state}; it is required by the {self.name} translator")
        return self.header[key]

    def optional(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` when absent or undefined."""
        return self.header[key] if self.is_defined(key) else default

    def required_float(self, key: str) -> float:
        return self._as_float(key, self.required(key))

    def optional_float(self, key: str) -> float | None:
        value = self.optional(key)
        return None if value is None else self._as_float(key, value)

    def required_int(self, key: str) -> int:
        value = self.required(key)
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        except (TypeError, ValueError):
            raise TranslationError(f"{self._where(key)} must be an integer, got {value!r}") from None

    def _as_float(self, key: str, value: Any) -> float:
        try:
            if isinstance(value, bool):
                raise ValueError(value)
            result = float(value)
        except (TypeError, ValueError):
            raise TranslationError(f"{self._where(key)} must be a number, got {value!r}") from None
        if not math.isfinite(result):
            raise TranslationError(f"{self._where(key)} must be finite, got {value!r}")
        return result

    def time_from_card(self, key: str, scale: str) -> Any:
        """An ISO-8601 date card as an astropy Time in ``scale``, converted to TAI."""
        from astropy.time import Time

        value = self.required(key)
        try:
            return Time(str(value), format="isot", scale=scale.lower()).tai
        except ValueError as exc:
            raise TranslationError(f"{self._where(key)} is not an ISO-8601 time: {value!r} ({exc})") from None

    def time_from_mjd_card(self, key: str, scale: str) -> Any:
        """An MJD card as an astropy Time in ``scale``, converted to TAI."""
        from astropy.time import Time

        return Time(self.required_float(key), format="mjd", scale=scale.lower()).tai

    def timesys(self, default: str = "utc") -> str:
        """The TIMESYS card (lower case) or ``default``; `TranslationError` for one astropy does not know."""
        scale = str(self.optional("TIMESYS", default)).strip().lower()
        if scale not in ("utc", "tai", "tt"):
            raise TranslationError(f"{self._where('TIMESYS')} names an unsupported time scale {scale!r}")
        return scale

    def sphere_point(self, lon_key: str, lat_key: str) -> SpherePoint | None:
        """Two degree cards as a SpherePoint, None when either is undefined."""
        lon, lat = self.optional_float(lon_key), self.optional_float(lat_key)
        if lon is None or lat is None:
            return None
        if abs(lat) > 90:
            raise TranslationError(f"{self._where(lat_key)} is not a latitude in degrees: {lat!r}")
        return SpherePoint(lon, lat, degrees)

    @staticmethod
    def day_obs_from_time(time: Any, offset_hours: float) -> int:
        """``YYYYMMDD`` of ``time`` (TAI) minus ``offset_hours``: the observing-day rollover rule."""
        from astropy.time import TimeDelta

        shifted = time.tai - TimeDelta(offset_hours * 3600.0, format="sec")
        return int(shifted.strftime("%Y%m%d"))

    @staticmethod
    def airmass_from_altaz(altaz: SpherePoint | None, time: Any, location: Any) -> float | None:
        """Plane-parallel secant of the zenith distance for an above-horizon boresight (astropy AltAz)."""
        if altaz is None or location is None:
            return None
        import astropy.units as u
        from astropy.coordinates import AltAz, SkyCoord

        alt = altaz.latitude.as_degrees()
        if alt <= 0:
            return None
        coord = SkyCoord(
            az=altaz.longitude.as_degrees() * u.deg,
            alt=alt * u.deg,
            frame=AltAz(obstime=time, location=location),
        )
        return float(coord.secz)

    # -- defaults for optional fields ---------------------------------------------------------
    def to_instrument(self) -> str:
        return self.name

    def to_telescope(self) -> str | None:
        return self.optional("TELESCOP", self.telescope_name)

    def to_visit_id(self) -> int | None:
        return self.to_exposure_id()

    def to_exposure_group(self) -> str | None:
        return str(self.to_exposure_id())

    def to_group_counter_start(self) -> int:
        return self.to_seq_num()

    def to_group_counter_end(self) -> int:
        return self.to_seq_num()

    def to_observation_reason(self) -> str | None:
        return "science" if self.to_observation_type() == "science" else "unknown"

    def to_science_program(self) -> str | None:
        return None

    def to_object(self) -> str | None:
        return None

    def to_tracking_radec(self) -> SpherePoint | None:
        return None

    def to_altaz_begin(self) -> SpherePoint | None:
        return None

    def to_boresight_airmass(self) -> float | None:
        return self.airmass_from_altaz(self.to_altaz_begin(), self.to_datetime_begin(), self.to_location())

    def to_boresight_rotation_angle(self) -> Angle | None:
        return None

    def to_boresight_rotation_coord(self) -> str:
        return "unknown"

    def to_has_simulated_content(self) -> bool:
        return False

    def to_location(self) -> Any:
        return None

    def to_temperature(self) -> float | None:
        return None

    def to_pressure(self) -> float | None:
        return None

    def to_relative_humidity(self) -> float | None:
        return None


_installed_loaded = False


def _load_installed_translators() -> bool:
    """Import every installed instrument (entry-point group ``osprey.instruments``) once.

    A translator registers itself when its module is imported. The translators of obs-base
    are always there; those of other obs packages are imported by loading their instrument,
    so `translate` recognises their headers in any process (ingest workers included)
    without the caller importing the obs package. Returns True the first time (something
    may have been added), False afterwards.
    """
    global _installed_loaded
    if _installed_loaded:
        return False
    _installed_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group="osprey.instruments"):
        try:
            ep.load()
        except Exception as exc:  # a broken obs package must not hide the others: say so and go on
            _log.warning(
                "cannot load instrument entry point %s = %s (%s: %s)", ep.name, ep.value, type(exc).__name__, exc
            )
    return True


def _as_dict(header: Any) -> dict[str, Any]:
    if isinstance(header, Mapping):
        return dict(header)
    if hasattr(header, "items") and hasattr(header, "names"):  # osprey.afw.metadata.PropertyList
        return dict(header.items())
    raise TranslationError(f"a header must be a mapping or a PropertyList, got {type(header).__name__}")


def translate(header: Mapping[str, Any] | Any, filename: str | None = None) -> ObservationInfo:
    """Translate one raw header with the translator that recognises it.

    Parameters
    ----------
    header : mapping or `osprey.afw.metadata.PropertyList`
        Primary-HDU cards.
    filename : `str` or None
        Source of the header, named in every error.

    Raises
    ------
    TranslationError
        No translator (or several) recognise the header, or a required card is missing or malformed.
    """
    translator = MetadataTranslator.determine_translator(header, filename)
    return translator(header, filename).to_observation_info()


def read_header(path: str | Path) -> dict[str, Any]:
    """Cards of a header dump: JSON, plain YAML mapping, or daf_base ``PropertyList`` YAML.

    The PropertyList form is a tagged list of ``[key, type, value, comment]`` entries; a
    repeated key keeps its last value, as in a FITS header. JSON keys starting with ``__``
    (dump bookkeeping) are dropped.
    """
    import yaml

    class _Loader(yaml.SafeLoader):
        """Safe YAML loader that also reads the ``lsst.daf.base.PropertyList`` tag as a list."""

    _Loader.add_constructor(
        "lsst.daf.base.PropertyList", lambda loader, node: loader.construct_sequence(node, deep=True)
    )
    path = Path(path)
    text = path.read_text()
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_Loader)  # noqa: S506
    except (ValueError, yaml.YAMLError) as exc:
        raise TranslationError(f"header file {path} cannot be parsed: {exc}") from None
    if isinstance(data, list):
        cards: dict[str, Any] = {}
        for entry in data:
            if not isinstance(entry, list) or len(entry) < 3:
                raise TranslationError(
                    f"header file {path}: a PropertyList entry is not [key, type, value, ...]: {entry!r}"
                )
            cards[str(entry[0])] = entry[2]
        return cards
    if not isinstance(data, dict):
        raise TranslationError(f"header file {path} holds a {type(data).__name__}, not a mapping of cards")
    return {str(k): v for k, v in data.items() if not str(k).startswith("__")}
