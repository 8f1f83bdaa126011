"""The dimension universe: the elements a data ID can be made of, loaded from YAML."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml

from .._exceptions import ButlerConfigError, DataIdError

__all__ = [
    "DimensionElement",
    "DimensionGroup",
    "DimensionUniverse",
    "FieldSpec",
    "SkyPixDimension",
]

DEFAULT_UNIVERSE_PATH = Path(__file__).with_name("dimensions.yaml")
_SKYPIX_NAME = re.compile(r"^(htm|healpix)(\d+)$")


class FieldSpec(pydantic.BaseModel):
    """One column of a dimension element: a key or a metadata field."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    name: str
    type: Literal["int", "float", "string", "bool"]
    length: int = 64
    doc: str = ""


class _ElementSpec(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    doc: str = ""
    key: FieldSpec | None = None
    requires: list[str] = []
    implies: list[str] = []
    metadata: list[FieldSpec] = []
    spatial: bool = False
    temporal: bool = False


class _SkyPixSystemSpec(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    min_level: int
    max_level: int


class _SkyPixSpec(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    common: str
    systems: dict[Literal["htm", "healpix"], _SkyPixSystemSpec]


class _UniverseSpec(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    namespace: str
    version: int
    skypix: _SkyPixSpec
    elements: dict[str, _ElementSpec]


class DimensionElement:
    """A table-backed element of the universe: a dimension (has a key) or a join element.

    Attributes
    ----------
    name : `str`
        Element name, also the table name.
    key : `FieldSpec` or None
        The element's own key field (``id`` or ``name``); None for join elements.
    required : `tuple` [`str`, ...]
        All dimensions that identify one record, in universe order, ending with the
        element itself for a dimension (``visit`` -> ``("instrument", "visit")``).
    implied : `tuple` [`str`, ...]
        Dimensions whose values a record of this element provides (``visit`` ->
        ``("physical_filter", "day_obs")``).
    direct_requires : `tuple` [`str`, ...]
        The ``requires`` list as written in the configuration.
    metadata : `tuple` [`FieldSpec`, ...]
        Extra fields of a record.
    spatial, temporal : `bool`
        Whether a record carries a sky region / a timespan.
    """

    def __init__(self, name: str, spec: _ElementSpec, required: tuple[str, ...]):
        self.name = name
        self.doc = spec.doc
        self.key = spec.key
        self.required = required
        self.implied = tuple(spec.implies)
        self.direct_requires = tuple(spec.requires)
        self.metadata = tuple(spec.metadata)
        self.spatial = spec.spatial
        self.temporal = spec.temporal

    @property
    def is_dimension(self) -> bool:
        """True for a dimension (it has its own key), False for a join element."""
        return self.key is not None

    @property
    def has_table(self) -> bool:
        """True: every configured element is stored in a table (skypix ones are not)."""
        return True

    def column_name(self, dimension: str) -> str:
        """Name of the column of this element's table that holds ``dimension``'s value."""
        if dimension == self.name and self.key is not None:
            return self.key.name
        return dimension

    @cached_property
    def record_fields(self) -> tuple[str, ...]:
        """Names a record of this element has, in table order (region/timespan last)."""
        names = [self.column_name(d) for d in self.required]
        names += list(self.implied)
        names += [f.name for f in self.metadata]
        if self.spatial:
            names.append("region")
        if self.temporal:
            names.append("timespan")
        return tuple(names)

    def __repr__(self) -> str:
        return f"DimensionElement({self.name!r})"


class SkyPixDimension:
    """A sky pixelization level used as a dimension (``htm7``, ``healpix10``); no table."""

    has_table = False
    is_dimension = True
    implied: tuple[str, ...] = ()
    direct_requires: tuple[str, ...] = ()
    metadata: tuple[FieldSpec, ...] = ()
    spatial = True
    temporal = False

    def __init__(self, system: str, level: int):
        self.system = system
        self.level = level
        self.name = f"{system}{level}"
        self.key = FieldSpec(name="id", type="int")
        self.required = (self.name,)
        self.doc = f"Level-{level} {system.upper()} sky pixel index."

    @cached_property
    def pixelization(self) -> Any:
        """The `osprey.geom` pixelization object of this level."""
        from osprey.geom import HealpixPixelization, HtmPixelization

        return HtmPixelization(self.level) if self.system == "htm" else HealpixPixelization(self.level)

    def column_name(self, dimension: str) -> str:
        """Name of the key column (skypix dimensions have no table)."""
        return self.key.name if dimension == self.name else dimension

    def __repr__(self) -> str:
        return f"SkyPixDimension({self.name!r})"


class DimensionUniverse:
    """All dimension elements of one versioned configuration.

    Parameters
    ----------
    config : `str`, `pathlib.Path` or `dict`, optional
        A YAML file or its parsed content; the universe shipped with the package by
        default.

    Notes
    -----
    Skypix dimensions (``htm1`` ... ``htm24``, ``healpix0`` ... ``healpix17``) are created
    on demand by `__getitem__`; the ``common`` one (``htm7``) is the index that spatial
    elements' regions are stored against.
    """

    _cache: dict[tuple[str, int], DimensionUniverse] = {}

    def __init__(self, config: str | Path | dict[str, Any] | None = None):
        if config is None or isinstance(config, (str, Path)):
            path = Path(config) if config is not None else DEFAULT_UNIVERSE_PATH
            try:
                data = yaml.safe_load(path.read_text())
            except (OSError, yaml.YAMLError) as err:
                raise ButlerConfigError(f"cannot read dimension configuration {path}: {err}") from None
        else:
            data = config
        try:
            spec = _UniverseSpec.model_validate(data)
        except pydantic.ValidationError as err:
            raise ButlerConfigError(f"invalid dimension configuration: {err}") from None
        self.namespace = spec.namespace
        self.version = spec.version
        self._skypix_spec = spec.skypix
        self._elements: dict[str, DimensionElement] = {}
        self._skypix: dict[str, SkyPixDimension] = {}
        for name, element_spec in spec.elements.items():
            required: list[str] = []
            for dep in element_spec.requires + element_spec.implies:
                if dep not in self._elements or not self._elements[dep].is_dimension:
                    raise ButlerConfigError(
                        f"dimension element {name!r} depends on {dep!r}, which is not a dimension listed before it"
                    )
            for dep in element_spec.requires:
                for r in self._elements[dep].required:
                    if r not in required:
                        required.append(r)
            if element_spec.key is not None:
                required.append(name)
            order = list(self._elements) + [name]
            required.sort(key=order.index)
            self._elements[name] = DimensionElement(name, element_spec, tuple(required))
        self.common_skypix = self[spec.skypix.common]

    @classmethod
    def default(cls) -> DimensionUniverse:
        """The universe shipped with the package (cached)."""
        key = (str(DEFAULT_UNIVERSE_PATH), 0)
        if key not in cls._cache:
            cls._cache[key] = cls()
        return cls._cache[key]

    def __getitem__(self, name: str) -> DimensionElement | SkyPixDimension:
        element = self._elements.get(name)
        if element is not None:
            return element
        if name in self._skypix:
            return self._skypix[name]
        match = _SKYPIX_NAME.match(name)
        if match:
            system, level = match.group(1), int(match.group(2))
            limits = self._skypix_spec.systems.get(system)  # type: ignore[call-overload]
            if limits is not None and limits.min_level <= level <= limits.max_level:
                self._skypix[name] = SkyPixDimension(system, level)
                return self._skypix[name]
        raise DataIdError(
            f"{name!r} is not a dimension or element of universe {self.namespace} v{self.version}; "
            f"known: {', '.join(self._elements)} and skypix levels such as {self._skypix_spec.common}"
        )

    def __contains__(self, name: object) -> bool:
        try:
            self[str(name)]
        except DataIdError:
            return False
        return True

    def __iter__(self) -> Iterator[DimensionElement]:
        return iter(self._elements.values())

    @property
    def elements(self) -> tuple[DimensionElement, ...]:
        """All table-backed elements, in dependency order."""
        return tuple(self._elements.values())

    @property
    def dimension_names(self) -> tuple[str, ...]:
        """Names of the table-backed dimensions (not join elements, not skypix)."""
        return tuple(e.name for e in self._elements.values() if e.is_dimension)

    def sort_key(self, name: str) -> tuple[int, int, str]:
        """Key ordering dimension names: configured order first, then skypix by name."""
        keys = list(self._elements)
        if name in self._elements:
            return (0, keys.index(name), "")
        return (1, 0, name)

    def group(self, names: Iterable[str]) -> DimensionGroup:
        """The `DimensionGroup` spanned by ``names`` (closed under requires and implies)."""
        return DimensionGroup(self, names)

    @property
    def empty(self) -> DimensionGroup:
        """The group with no dimensions."""
        return DimensionGroup(self, ())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DimensionUniverse) and (self.namespace, self.version) == (
            other.namespace,
            other.version,
        )

    def __hash__(self) -> int:
        return hash((self.namespace, self.version))

    def __repr__(self) -> str:
        return f"DimensionUniverse(namespace={self.namespace!r}, version={self.version})"


class DimensionGroup:
    """A set of dimensions closed under their dependencies.

    ``required`` are those a data ID must give; ``implied`` are those whose values come
    from the records of required (or other implied) dimensions. For ``{visit, detector}``:
    required = (instrument, visit, detector), implied = (physical_filter, band, day_obs).
    """

    __slots__ = ("universe", "required", "implied", "names", "elements")

    def __init__(self, universe: DimensionUniverse, names: Iterable[str]):
        closure: set[str] = set()
        implied: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop()
            if name in closure:
                continue
            element = universe[name]
            if not element.is_dimension:
                raise DataIdError(f"{name!r} is a join element, not a dimension; it cannot be a data ID key")
            closure.add(name)
            todo.extend(d for d in element.required if d != name)
            todo.extend(element.implied)
            implied.update(element.implied)
        self.universe = universe
        ordered = sorted(closure, key=universe.sort_key)
        self.required: tuple[str, ...] = tuple(n for n in ordered if n not in implied)
        self.implied: tuple[str, ...] = tuple(n for n in ordered if n in implied)
        self.names: tuple[str, ...] = tuple(ordered)
        self.elements: tuple[str, ...] = tuple(
            e.name
            for e in universe.elements
            if (e.is_dimension and e.name in closure) or (not e.is_dimension and set(e.required) <= closure)
        )

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DimensionGroup) and self.names == other.names

    def __hash__(self) -> int:
        return hash(self.names)

    def union(self, *others: DimensionGroup | Iterable[str]) -> DimensionGroup:
        """The smallest group containing this one and ``others``."""
        names = set(self.names)
        for other in others:
            names.update(other.names if isinstance(other, DimensionGroup) else other)
        return DimensionGroup(self.universe, names)

    def issubset(self, other: DimensionGroup) -> bool:
        """True when every dimension of this group is in ``other``."""
        return set(self.names) <= set(other.names)

    def __repr__(self) -> str:
        return "{" + ", ".join(self.required) + ("; implied: " + ", ".join(self.implied) if self.implied else "") + "}"
