"""Task configuration built on pydantic v2.

A `Config` is a pydantic model with typed, documented fields (``Field(description=...)``
or an attribute docstring), ranges (``ge``/``le``), choices (``Literal``) and nested
configs. On top of pydantic it adds what a pipeline framework needs:

* `ConfigurableField`: a subtask's class and its config, swappable with `retarget`;
* `RegistryField`: named plugins from a `Registry`, several selectable, each with its config;
* `Config.freeze`: the whole tree becomes immutable before execution;
* overrides from ``key=value`` strings (dotted paths, values parsed as YAML scalars), from
  mappings and from YAML files, with errors that name the key path, suggest the closest
  field and quote pydantic's message;
* `Config.to_dict` / `Config.to_yaml` of the fully resolved config (saved as a dataset) and
  `Config.json_schema` for documentation.

Assignment is validated (``config.threshold = -1`` fails at once when ``ge=0``), and setting
an unknown attribute is an error rather than a silently ignored typo.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pydantic
import yaml
from pydantic_core import core_schema

from ._utils import did_you_mean, full_name_of, import_by_name
from .errors import ConfigError, FrozenConfigError

__all__ = [
    "Config",
    "ConfigurableField",
    "ConnectionsConfig",
    "PipelineTaskConfig",
    "Registry",
    "RegistryField",
    "split_override",
]


def split_override(text: str) -> tuple[str | None, str, str]:
    """Split ``"label:key.path=value"`` (or ``"key.path=value"``) into its three parts.

    The label is the text before a ``:`` that comes before the first ``=``; the value is
    everything after the first ``=`` (it may contain ``:`` and ``=``).

    Raises
    ------
    ConfigError
        If there is no ``=`` or the key is empty.
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {text!r} is not of the form [label:]key.path=value")
    label, colon, key = key.partition(":") if ":" in key else (None, "", key)
    if colon and not label:
        raise ConfigError(f"override {text!r} has an empty task label before ':'")
    return (label.strip() if label else None), key.strip(), value.strip()


def _parse_candidates(value: Any) -> list[Any]:
    """Values to try for a string override: its YAML meaning first, then the raw string."""
    if not isinstance(value, str):
        return [value]
    try:
        parsed = yaml.safe_load(value) if value else value
    except yaml.YAMLError:
        return [value]
    return [parsed, value] if parsed != value or type(parsed) is not str else [value]


def _pydantic_message(err: pydantic.ValidationError) -> str:
    return "; ".join(e["msg"] for e in err.errors()) or str(err)


class _FrozenList(list):
    """A list that refuses changes; what list fields become when their config is frozen."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise FrozenConfigError("this list belongs to a frozen config and cannot be modified")

    append = extend = insert = remove = pop = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse

    def __deepcopy__(self, memo: dict) -> _FrozenList:
        return _FrozenList(copy.deepcopy(list(self), memo))

    def __reduce__(self) -> tuple[Any, ...]:
        return _FrozenList, (list(self),)


class _FrozenDict(dict):
    """A dict that refuses changes; what dict fields become when their config is frozen."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise FrozenConfigError("this dict belongs to a frozen config and cannot be modified")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse

    def __deepcopy__(self, memo: dict) -> _FrozenDict:
        return _FrozenDict(copy.deepcopy(dict(self), memo))

    def __reduce__(self) -> tuple[Any, ...]:
        return _FrozenDict, (dict(self),)


def _freeze_value(value: Any) -> Any:
    """Frozen form of a field value (configs are frozen in place)."""
    if isinstance(value, Config | ConfigurableField | RegistryField):
        value.freeze()
        return value
    if isinstance(value, list):
        return _FrozenList(_freeze_value(v) for v in value)
    if isinstance(value, dict):
        return _FrozenDict({k: _freeze_value(v) for k, v in value.items()})
    if isinstance(value, tuple):
        for v in value:
            _freeze_value(v)
    return value


def _thaw_value(value: Any) -> Any:
    if isinstance(value, Config | ConfigurableField | RegistryField):
        value._thaw()
        return value
    if isinstance(value, list):
        return [_thaw_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _thaw_value(v) for k, v in value.items()}
    if isinstance(value, tuple):
        for v in value:
            _thaw_value(v)
    return value


class _DictNode:
    """Override target for one key of a ``dict`` field: copies, sets, reassigns (validated)."""

    def __init__(self, owner: Config, field: str):
        self.owner, self.field = owner, field

    def _set_item(self, key: str, value: Any, path: str, parse: bool) -> None:
        new = dict(getattr(self.owner, self.field))
        errors = []
        for candidate in _parse_candidates(value) if parse else [value]:
            new[key] = candidate
            try:
                self.owner._validated_set(self.field, new, path)
                return
            except ConfigError as err:
                errors.append(err)
        raise errors[0]


def _apply_path(root: Any, key: str, value: Any, *, parse: bool, base: str = "") -> None:
    """Set ``value`` at dotted ``key`` below ``root`` (a config-like node)."""
    parts = key.split(".")
    if any(not p for p in parts):
        raise ConfigError("empty component in dotted key", key=base + key)
    node = root
    path = base
    for part in parts[:-1]:
        path = f"{path}{part}"
        node = node._child(part, path)
        path += "."
    path += parts[-1]
    if isinstance(node, _DictNode):
        node._set_item(parts[-1], value, path, parse)
    else:
        node._set_leaf(parts[-1], value, path, parse)


def _merge_mapping(node: Any, data: Mapping[str, Any], base: str) -> None:
    if not isinstance(data, Mapping):
        raise ConfigError(f"expected a mapping of overrides, got {type(data).__name__}", key=base.rstrip(".") or None)
    for key, value in data.items():
        if not isinstance(key, str):
            raise ConfigError(f"override keys must be strings, got {key!r}", key=base.rstrip(".") or None)
        _apply_path(node, key, value, parse=False, base=base)


class Config(pydantic.BaseModel):
    """Base class of every task configuration.

    Subclass it with annotated fields::

        class DetectConfig(Config):
            threshold: float = Field(5.0, ge=0, description="Detection threshold (sigma).")
            polarity: Literal["positive", "negative", "both"] = "positive"
            background: BackgroundConfig = BackgroundConfig()

    Assignment is validated; an unknown attribute raises `ConfigError` with a suggestion;
    after `freeze` every assignment raises `FrozenConfigError`.
    """

    model_config = pydantic.ConfigDict(
        extra="forbid", validate_assignment=True, use_attribute_docstrings=True, revalidate_instances="never"
    )

    _frozen: bool = pydantic.PrivateAttr(default=False)

    def model_post_init(self, context: Any, /) -> None:
        # pydantic does not copy defaults of non-pydantic types: give each instance its own
        # ConfigurableField / RegistryField instead of sharing the class-level default.
        for name, info in type(self).model_fields.items():
            default = info.default
            if isinstance(default, ConfigurableField | RegistryField) and self.__dict__.get(name) is default:
                self.__dict__[name] = copy.deepcopy(default)

    # ----------------------------------------------------------------- assignment
    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            super().__setattr__(name, value)
            return
        self._validated_set(name, value, name)

    def _known_keys(self) -> list[str]:
        return list(type(self).model_fields) + list(self.__pydantic_extra__ or {})

    def _check_key(self, name: str, path: str) -> None:
        if name not in type(self).model_fields and name not in (self.__pydantic_extra__ or {}):
            known = self._known_keys()
            raise ConfigError(
                f"{type(self).__name__} has no field {name!r}{did_you_mean(name, known)}; "
                f"valid fields: {', '.join(known) or '(none)'}",
                key=path,
            )

    def _validated_set(self, name: str, value: Any, path: str) -> None:
        if self._frozen:
            raise FrozenConfigError(
                f"cannot set {path!r}: this {type(self).__name__} is frozen (configs are frozen before "
                "execution; make changes on unfrozen_copy() or through pipeline overrides)"
            )
        self._check_key(name, path)
        current = self.__dict__.get(name)
        if isinstance(current, ConfigurableField) and not isinstance(value, ConfigurableField):
            raise ConfigError(
                f"{name!r} is a subtask field; use .retarget(TaskClass) or set its config fields", key=path
            )
        if isinstance(current, RegistryField) and not isinstance(value, RegistryField):
            raise ConfigError(f"{name!r} is a registry field; set '{name}.names' or a plugin's fields", key=path)
        try:
            super().__setattr__(name, value)
        except pydantic.ValidationError as err:
            raise ConfigError(f"invalid value {value!r}: {_pydantic_message(err)}", key=path) from None

    # ------------------------------------------------------------ override nodes
    def _child(self, name: str, path: str) -> Any:
        self._check_key(name, path)
        value = getattr(self, name)
        if isinstance(value, Config | ConfigurableField | RegistryField):
            return value
        if isinstance(value, dict):
            return _DictNode(self, name)
        raise ConfigError(
            f"{name!r} is a {type(value).__name__} value, not a sub-config; it has no sub-keys",
            key=path,
        )

    def _set_leaf(self, name: str, value: Any, path: str, parse: bool) -> None:
        self._check_key(name, path)
        current = self.__dict__.get(name)
        if isinstance(current, Config | ConfigurableField | RegistryField) and isinstance(value, Mapping):
            _merge_mapping(current, value, path + ".")
            return
        if isinstance(current, ConfigurableField) and isinstance(value, str | type):
            current.retarget(value, _path=path)
            return
        errors: list[ConfigError] = []
        for candidate in _parse_candidates(value) if parse else [value]:
            try:
                self._validated_set(name, candidate, path)
                return
            except ConfigError as err:
                errors.append(err)
        raise errors[0]

    # ---------------------------------------------------------------- overrides
    def apply_override(self, key: str, value: Any, *, parse: bool = True) -> None:
        """Set the field at dotted ``key`` (``"detection.background.bin_size"``).

        Parameters
        ----------
        key : `str`
            Dotted path through nested configs, subtasks (``sub.field``; ``sub.target`` to
            retarget) and registry fields (``plugins.names``, ``plugins.<name>.field``).
        value : `object`
            The new value. With ``parse`` a string is read as a YAML scalar first
            (``"3"`` is 3, ``"[1, 2]"`` a list, ``"true"`` a bool) and used verbatim if
            that does not validate.
        parse : `bool`
            Whether string values are parsed as YAML.

        Raises
        ------
        ConfigError
            Unknown key (with the closest valid one) or invalid value (pydantic's message).
        """
        _apply_path(self, key, value, parse=parse)

    def apply_overrides(self, overrides: Iterable[str]) -> None:
        """Apply ``key=value`` strings in order (see `apply_override`)."""
        for text in overrides:
            label, key, value = split_override(text)
            if label is not None:
                raise ConfigError(f"override {text!r} names a task label; apply it through the pipeline")
            self.apply_override(key, value)

    def apply_dict(self, data: Mapping[str, Any]) -> None:
        """Apply a (possibly nested) mapping; keys may also be dotted paths."""
        _merge_mapping(self, data, "")

    def load_yaml(self, path: str | Path) -> None:
        """Apply the overrides in a YAML file (a mapping, nested or with dotted keys)."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except OSError as err:
            raise ConfigError(f"cannot read config file {str(path)!r}: {err.strerror}") from None
        except yaml.YAMLError as err:
            raise ConfigError(f"config file {str(path)!r} is not valid YAML: {err}") from None
        try:
            self.apply_dict(data)
        except ConfigError as err:
            raise ConfigError(f"{err.message} (in {path})", key=err.key) from None

    # ---------------------------------------------------------- (de)serialization
    def to_dict(self) -> dict[str, Any]:
        """The full resolved config as plain YAML/JSON types (subtasks with their target)."""
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        """`to_dict` as YAML text, in field order."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
        """Defaults, then ``data`` applied as overrides (inverse of `to_dict`)."""
        config = cls()
        config.apply_dict(data)
        return config

    @classmethod
    def from_yaml(cls, text: str) -> Config:
        """Inverse of `to_yaml`."""
        return cls.from_dict(yaml.safe_load(text) or {})

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """JSON schema of this config class (descriptions, defaults, ranges, choices)."""
        return cls.model_json_schema()

    # ------------------------------------------------------------------- freezing
    def freeze(self) -> None:
        """Make this config and everything below it immutable (idempotent)."""
        if self._frozen:
            return
        for name, value in list(self.__dict__.items()):
            self.__dict__[name] = _freeze_value(value)
        for name, value in list((self.__pydantic_extra__ or {}).items()):
            self.__pydantic_extra__[name] = _freeze_value(value)
        self._frozen = True

    @property
    def frozen(self) -> bool:
        """Whether `freeze` has been called."""
        return self._frozen

    def _thaw(self) -> None:
        self._frozen = False
        for name, value in list(self.__dict__.items()):
            self.__dict__[name] = _thaw_value(value)
        for name, value in list((self.__pydantic_extra__ or {}).items()):
            self.__pydantic_extra__[name] = _thaw_value(value)

    def unfrozen_copy(self) -> Config:
        """A deep copy that can be modified again."""
        new = copy.deepcopy(self)
        new._thaw()
        return new

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Config):
            return NotImplemented
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def _resolve_configurable(target: Any, path: str | None) -> type:
    if isinstance(target, str):
        try:
            target = import_by_name(target)
        except ImportError as err:
            raise ConfigError(f"cannot retarget: {err}", key=path) from None
    config_class = getattr(target, "ConfigClass", None)
    if not isinstance(target, type) or not (isinstance(config_class, type) and issubclass(config_class, Config)):
        raise ConfigError(
            f"target {target!r} must be a class with a ConfigClass attribute that is a Config subclass "
            "(a Task or plugin class)",
            key=path,
        )
    return target


class ConfigurableField:
    """A subtask slot: the task class to build and its config; retargetable.

    Declare it as a field of a `Config`::

        class CalibrateConfig(Config):
            detection: ConfigurableField = ConfigurableField(DetectTask)

    Attribute access passes through to the subtask's config (``config.detection.threshold``);
    ``.target`` and ``.config`` give the class and the config; `retarget` swaps both;
    ``task.make_subtask("detection")`` builds the subtask.
    """

    __slots__ = ("_target", "_config", "_frozen")

    def __init__(self, target: type | str, config: Config | None = None):
        target = _resolve_configurable(target, None)
        object.__setattr__(self, "_frozen", False)
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_config", self._checked_config(target, config, None))

    @staticmethod
    def _checked_config(target: type, config: Config | None, path: str | None) -> Config:
        config_class = target.ConfigClass
        if config is None:
            return config_class()
        if not isinstance(config, config_class):
            raise ConfigError(
                f"config for {target.__name__} must be a {config_class.__name__}, got {type(config).__name__}",
                key=path,
            )
        return config

    @property
    def target(self) -> type:
        """The class that `apply` instantiates."""
        return self._target

    @property
    def config(self) -> Config:
        """The subtask's config (an instance of ``target.ConfigClass``)."""
        return self._config

    @property
    def ConfigClass(self) -> type[Config]:  # noqa: N802 - mirrors Task.ConfigClass
        """``target.ConfigClass``."""
        return self._target.ConfigClass

    def retarget(self, target: type | str, config: Config | None = None, *, _path: str | None = None) -> None:
        """Use ``target`` (a class or dotted name) with ``config`` (default: its defaults).

        Raises
        ------
        ConfigError
            If ``target`` has no Config ``ConfigClass`` or ``config`` is not an instance of it.
        FrozenConfigError
            If the owning config is frozen.
        """
        if self._frozen:
            raise FrozenConfigError(f"cannot retarget {_path or 'this subtask'!r}: the config is frozen")
        new_target = _resolve_configurable(target, _path)
        new_config = self._checked_config(new_target, config, _path)
        object.__setattr__(self, "_target", new_target)
        object.__setattr__(self, "_config", new_config)

    def apply(self, *args: Any, **kwargs: Any) -> Any:
        """Build ``target(*args, config=self.config, **kwargs)``."""
        return self._target(*args, config=self._config, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._config, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._config, name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(type(self._config).model_fields))

    # override-node protocol
    def _child(self, name: str, path: str) -> Any:
        if name == "config":
            return self._config
        return self._config._child(name, path)

    def _set_leaf(self, name: str, value: Any, path: str, parse: bool) -> None:
        if name == "target":
            self.retarget(value, _path=path)
        elif name == "config" and isinstance(value, Mapping):
            _merge_mapping(self._config, value, path + ".")
        else:
            self._config._set_leaf(name, value, path, parse)

    def _merge(self, data: Mapping[str, Any], base: str) -> None:
        _merge_mapping(self, data, base)

    def to_dict(self) -> dict[str, Any]:
        """``{"target": "pkg.module.Task", "config": {...}}``."""
        return {"target": full_name_of(self._target), "config": self._config.to_dict()}

    def freeze(self) -> None:
        """Freeze the subtask config; `retarget` then raises."""
        self._config.freeze()
        object.__setattr__(self, "_frozen", True)

    def _thaw(self) -> None:
        self._config._thaw()
        object.__setattr__(self, "_frozen", False)

    def __deepcopy__(self, memo: dict) -> ConfigurableField:
        new = object.__new__(ConfigurableField)
        object.__setattr__(new, "_frozen", self._frozen)
        object.__setattr__(new, "_target", self._target)
        object.__setattr__(new, "_config", copy.deepcopy(self._config, memo))
        return new

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild_configurable, (self._target, self._config, self._frozen)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConfigurableField):
            return NotImplemented
        return self._target is other._target and self._config == other._config

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ConfigurableField({full_name_of(self._target)}, {self._config!r})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.is_instance_schema(
            cls, serialization=core_schema.plain_serializer_function_ser_schema(lambda v: v.to_dict())
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        return {
            "type": "object",
            "description": "A subtask: its class (dotted path) and its config.",
            "properties": {"target": {"type": "string"}, "config": {"type": "object"}},
        }


def _rebuild_configurable(target: type, config: Config, frozen: bool) -> ConfigurableField:
    field = ConfigurableField(target, config)
    object.__setattr__(field, "_frozen", frozen)
    return field


class Registry:
    """Named plugin classes (each with a ``ConfigClass``) that a `RegistryField` selects from.

    ``@registry.register("name")`` on a class, or ``registry.register("name", cls)``.
    """

    _RESERVED: ClassVar[frozenset[str]] = frozenset({"names", "configs"})

    def __init__(self, name: str):
        self.name = name
        self._entries: dict[str, type] = {}

    def register(self, name: str, target: type | None = None) -> Any:
        """Register ``target`` under ``name``; without ``target``, a class decorator."""

        def decorate(cls: type) -> type:
            if name in self._RESERVED or not name.isidentifier():
                raise ConfigError(f"plugin name {name!r} must be an identifier other than 'names'/'configs'")
            _resolve_configurable(cls, None)
            if name in self._entries and self._entries[name] is not cls:
                raise ConfigError(f"registry {self.name!r} already has a plugin {name!r} ({self._entries[name]})")
            self._entries[name] = cls
            return cls

        return decorate(target) if target is not None else decorate

    def __getitem__(self, name: str) -> type:
        try:
            return self._entries[name]
        except KeyError:
            raise ConfigError(
                f"registry {self.name!r} has no plugin {name!r}{did_you_mean(name, self._entries)}; "
                f"registered: {', '.join(self._entries) or '(none)'}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def make_field(self, names: Iterable[str] = (), *, multi: bool = True) -> RegistryField:
        """A `RegistryField` over this registry with ``names`` selected."""
        return RegistryField(self, names, multi=multi)


class RegistryField:
    """Selected plugins of a `Registry`, each with its own config.

    ``field.names`` is the ordered selection (one name when ``multi=False``);
    ``field["name"]`` is that plugin's config (created on first use, whether selected or
    not, so a plugin can be configured before it is switched on); `apply` builds the
    selected plugins.
    """

    __slots__ = ("registry", "multi", "_names", "_configs", "_frozen")

    def __init__(self, registry: Registry, names: Iterable[str] = (), *, multi: bool = True):
        self.registry = registry
        self.multi = multi
        self._configs: dict[str, Config] = {}
        self._frozen = False
        self._names: tuple[str, ...] = ()
        self.names = names

    @property
    def names(self) -> tuple[str, ...]:
        """The selected plugin names, in execution order."""
        return self._names

    @names.setter
    def names(self, names: Iterable[str] | str) -> None:
        if getattr(self, "_frozen", False):
            raise FrozenConfigError(f"cannot change the selection of registry {self.registry.name!r}: frozen")
        names = (names,) if isinstance(names, str) else tuple(names)
        for name in names:
            self.registry[name]  # raises with a suggestion
        if len(set(names)) != len(names):
            raise ConfigError(f"registry {self.registry.name!r}: names selected twice in {list(names)}")
        if not self.multi and len(names) > 1:
            raise ConfigError(f"registry {self.registry.name!r} allows one selection, got {list(names)}")
        self._names = names

    def __getitem__(self, name: str) -> Config:
        if name not in self._configs:
            config = self.registry[name].ConfigClass()
            if self._frozen:
                config.freeze()
            self._configs[name] = config
        return self._configs[name]

    @property
    def active(self) -> list[tuple[str, type, Config]]:
        """``(name, class, config)`` of each selected plugin, in order."""
        return [(name, self.registry[name], self[name]) for name in self._names]

    def apply(self, **kwargs: Any) -> dict[str, Any]:
        """``{name: cls(config=config, **kwargs)}`` for the selected plugins, in order."""
        return {name: cls(config=config, **kwargs) for name, cls, config in self.active}

    # override-node protocol
    def _child(self, name: str, path: str) -> Any:
        if name == "configs":
            return self
        if name not in self.registry:
            self._unknown(name, path)
        return self[name]

    def _unknown(self, name: str, path: str) -> None:
        choices = ["names", *self.registry]
        raise ConfigError(
            f"registry {self.registry.name!r} has no plugin {name!r}{did_you_mean(name, choices)}; "
            f"use 'names' or one of: {', '.join(self.registry) or '(none)'}",
            key=path,
        )

    def _set_leaf(self, name: str, value: Any, path: str, parse: bool) -> None:
        if name == "names":
            candidates = _parse_candidates(value) if parse else [value]
            try:
                self.names = candidates[0] if candidates[0] is not None else ()
            except ConfigError as err:
                raise ConfigError(err.message, key=path) from None
        elif name == "configs" and isinstance(value, Mapping):
            _merge_mapping(self, value, path + ".")
        elif name in self.registry and isinstance(value, Mapping):
            _merge_mapping(self[name], value, path + ".")
        elif name in self.registry:
            raise ConfigError(f"plugin {name!r} takes a mapping of its config fields, got {value!r}", key=path)
        else:
            self._unknown(name, path)

    def to_dict(self) -> dict[str, Any]:
        """``{"names": [...], "configs": {plugin: {...}}}`` with every registered plugin."""
        return {"names": list(self._names), "configs": {name: self[name].to_dict() for name in self.registry}}

    def freeze(self) -> None:
        """Freeze the selection and every plugin config."""
        for name in self.registry:
            self[name].freeze()
        self._frozen = True

    def _thaw(self) -> None:
        self._frozen = False
        for config in self._configs.values():
            config._thaw()

    def __deepcopy__(self, memo: dict) -> RegistryField:
        new = RegistryField(self.registry, self._names, multi=self.multi)
        new._configs = {k: copy.deepcopy(v, memo) for k, v in self._configs.items()}
        new._frozen = self._frozen
        return new

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RegistryField):
            return NotImplemented
        return self.registry is other.registry and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RegistryField({self.registry.name!r}, names={list(self._names)})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.is_instance_schema(
            cls, serialization=core_schema.plain_serializer_function_ser_schema(lambda v: v.to_dict())
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        return {
            "type": "object",
            "description": "Selected plugins of a registry and the config of each.",
            "properties": {
                "names": {"type": "array", "items": {"type": "string"}},
                "configs": {"type": "object", "additionalProperties": {"type": "object"}},
            },
        }


class ConnectionsConfig(Config):
    """Dataset-type names and name-template values of a task's connections.

    ``config.connections.<connection> = "new_name"`` renames a dataset type;
    ``config.connections.<template> = "deep"`` fills ``{template}`` in names. The valid keys
    come from the task's connections class, which fills in every default (so the saved
    config lists them all) and rejects unknown keys with a suggestion.
    """

    model_config = pydantic.ConfigDict(extra="allow")

    _allowed: frozenset[str] | None = pydantic.PrivateAttr(default=None)

    def _check_key(self, name: str, path: str) -> None:
        if self._allowed is None:
            return
        if name not in self._allowed:
            allowed = sorted(self._allowed)
            raise ConfigError(
                f"no connection or template named {name!r}{did_you_mean(name, allowed)}; "
                f"valid: {', '.join(allowed) or '(none)'}",
                key=path,
            )

    def model_post_init(self, context: Any, /) -> None:
        for name, value in (self.__pydantic_extra__ or {}).items():
            if not isinstance(value, str):
                raise ConfigError(f"dataset-type names and template values are strings, got {value!r}", key=name)

    def _validated_set(self, name: str, value: Any, path: str) -> None:
        if not isinstance(value, str):
            raise ConfigError(f"dataset-type names and template values are strings, got {value!r}", key=path)
        super()._validated_set(name, value, path)

    def _child(self, name: str, path: str) -> Any:
        self._check_key(name, path)
        raise ConfigError(f"{name!r} is a dataset-type name or template value; it has no sub-keys", key=path)

    def _complete(self, defaults: Mapping[str, str]) -> None:
        """Restrict keys to ``defaults`` and fill in the ones not set (connections call this)."""
        self._allowed = frozenset(defaults)
        for name in list(self.__pydantic_extra__ or {}):
            self._check_key(name, f"connections.{name}")
        for name, value in defaults.items():
            if name not in self.__pydantic_extra__:
                self.__pydantic_extra__[name] = value


class PipelineTaskConfig(Config):
    """Base config of a `PipelineTask`: adds ``connections`` (dataset-type renames, templates)."""

    connections: ConnectionsConfig = pydantic.Field(
        default_factory=ConnectionsConfig,
        description="Dataset-type names and name-template values for this task's connections.",
    )
