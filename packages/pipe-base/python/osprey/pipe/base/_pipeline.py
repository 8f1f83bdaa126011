"""`Pipeline`: tasks by label with their config overrides, from YAML or Python.

YAML keys: ``description``, ``instrument``, ``parameters``, ``imports``, ``tasks``,
``subsets``, ``steps``, ``contracts`` (see docs/packages/pipe-base.md). A URI fragment
selects tasks: ``DRP.yaml#step1`` (a subset) or ``DRP.yaml#isr,calibrate`` (labels).
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import os
from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import yaml

from ._pipeline_graph import PipelineGraph, StepDefinition
from ._pipeline_task import PipelineTask
from ._utils import did_you_mean, full_name_of, import_by_name
from .config import PipelineTaskConfig, split_override
from .errors import ConfigError, ContractError, PipelineError

__all__ = ["Contract", "Pipeline", "evaluate_contract"]

_TOP_KEYS = ("description", "instrument", "parameters", "imports", "tasks", "subsets", "steps", "contracts")


@dataclasses.dataclass(frozen=True)
class Contract:
    """A Python expression over task configs (by label) that must be true."""

    contract: str
    msg: str | None = None


@dataclasses.dataclass
class _TaskEntry:
    label: str
    task: str | type | None  # dotted path, class, or None (an override of an imported label)
    config: list[tuple[str, Any]] = dataclasses.field(default_factory=list)  # ("dict", {...}) | ("file", path)

    @property
    def class_name(self) -> str | None:
        return self.task if isinstance(self.task, str) or self.task is None else full_name_of(self.task)


def _check_label(label: Any, what: str) -> str:
    if not isinstance(label, str) or not label.isidentifier():
        raise PipelineError(f"{what} {label!r} must be an identifier (letters, digits, '_'; usable in contracts)")
    return label


def _contract_names(expr: str) -> set[str]:
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as err:
        raise ContractError(f"contract {expr!r} is not a Python expression: {err.msg}") from None
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def evaluate_contract(
    contract: Contract, configs: Mapping[str, PipelineTaskConfig], parameters: Mapping[str, Any] | None = None
) -> None:
    """Evaluate ``contract`` with task configs bound to their labels.

    The expression runs with **no builtins** and only the task labels (and
    ``parameters``) as names; names and attributes starting with ``_`` are refused, so
    dunder tricks cannot reach Python internals. This guards against mistakes, not a
    hostile author: a pipeline file already names Python classes that get imported.

    Raises
    ------
    ContractError
        The expression is false, fails, or uses a name that is not a task label.
    """
    expr = contract.contract
    _contract_names(expr)  # syntax check with a clear error
    tree = ast.parse(expr, mode="eval")
    for node in ast.walk(tree):
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        if name is not None and name.startswith("_"):
            raise ContractError(f"contract {expr!r}: names starting with '_' are not allowed ({name!r})")
    namespace: dict[str, Any] = dict(configs)
    namespace["parameters"] = dict(parameters or {})
    unknown = sorted(_contract_names(expr) - set(namespace))
    if unknown:
        raise ContractError(
            f"contract {expr!r} uses {unknown[0]!r}, which is not a task label{did_you_mean(unknown[0], configs)}; "
            f"labels: {', '.join(configs)} (builtins are not available)"
        )
    try:
        result = eval(compile(tree, "<contract>", "eval"), {"__builtins__": {}}, namespace)  # noqa: S307
    except Exception as err:  # noqa: BLE001 - any failure of the user's expression is reported as such
        raise ContractError(f"contract {expr!r} could not be evaluated: {type(err).__name__}: {err}") from None
    if not result:
        raise ContractError(f"contract failed: {expr}" + (f" ({contract.msg})" if contract.msg else ""))


class Pipeline:
    """An ordered set of labelled tasks with config overrides, subsets, steps and contracts.

    Build one with `from_file` / `from_string` or the Python API (`add_task`,
    `add_config_override`, ...), then `to_graph` to validate it and get the graph.
    """

    def __init__(self, description: str = ""):
        self.description = description
        self.instrument: str | None = None
        self.parameters: dict[str, Any] = {}
        self._tasks: dict[str, _TaskEntry] = {}
        self.subsets: dict[str, list[str]] = {}
        self.subset_descriptions: dict[str, str] = {}
        self.steps: list[StepDefinition] = []
        self.contracts: list[Contract] = []

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_file(cls, uri: str | Path) -> Pipeline:
        """Read a pipeline YAML file; ``path#label1,label2`` or ``path#subset`` selects tasks."""
        text = str(uri)
        path_text, _, fragment = text.partition("#")
        pipeline = cls._load(Path(os.path.expandvars(path_text)).expanduser(), ())
        return pipeline.subset(fragment.split(",")) if fragment else pipeline

    @classmethod
    def from_string(cls, text: str, *, base_dir: str | Path | None = None) -> Pipeline:
        """Parse pipeline YAML; relative import and config-file paths are from ``base_dir``
        (default: the current directory)."""
        return cls._from_data(cls._parse_yaml(text, "<string>"), Path(base_dir or "."), "<string>", ())

    @staticmethod
    def _parse_yaml(text: str, source: str) -> dict[str, Any]:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise PipelineError(f"{source}: not valid YAML: {err}") from None
        if not isinstance(data, dict):
            raise PipelineError(f"{source}: a pipeline is a YAML mapping with keys {list(_TOP_KEYS)}")
        return data

    @classmethod
    def _load(cls, path: Path, stack: tuple[Path, ...]) -> Pipeline:
        resolved = path.resolve()
        if resolved in stack:
            chain = " -> ".join(str(p) for p in (*stack, resolved))
            raise PipelineError(f"pipeline imports form a cycle: {chain}")
        try:
            text = path.read_text()
        except OSError as err:
            raise PipelineError(f"cannot read pipeline file {str(path)!r}: {err.strerror}") from None
        return cls._from_data(cls._parse_yaml(text, str(path)), resolved.parent, str(path), (*stack, resolved))

    @classmethod
    def _from_data(cls, data: dict[str, Any], base: Path, source: str, stack: tuple[Path, ...]) -> Pipeline:
        unknown = [k for k in data if k not in _TOP_KEYS]
        if unknown:
            raise PipelineError(
                f"{source}: unknown key {unknown[0]!r}{did_you_mean(str(unknown[0]), _TOP_KEYS)}; "
                f"valid keys: {', '.join(_TOP_KEYS)}"
            )
        pipeline = cls(str(data.get("description") or ""))
        for item in data.get("imports") or []:
            pipeline._import(item, base, source, stack)
        if data.get("instrument") is not None:
            pipeline._set_instrument(str(data["instrument"]), source)
        parameters = data.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise PipelineError(f"{source}: 'parameters' must be a mapping of name: value")
        pipeline.parameters.update(parameters)
        tasks = data.get("tasks") or {}
        if not isinstance(tasks, dict):
            raise PipelineError(f"{source}: 'tasks' must be a mapping of label: class or label: {{class, config}}")
        for label, spec in tasks.items():
            pipeline._add_task_spec(_check_label(label, f"{source}: task label"), spec, base, source)
        for name, spec in (data.get("subsets") or {}).items():
            if isinstance(spec, dict):
                labels, description = spec.get("subset"), str(spec.get("description") or "")
            else:
                labels, description = spec, ""
            if not isinstance(labels, list):
                raise PipelineError(f"{source}: subset {name!r} must be a list of labels or {{subset: [...]}}")
            pipeline.add_subset(name, labels, description)
        for spec in data.get("steps") or []:
            if not isinstance(spec, dict) or "label" not in spec:
                raise PipelineError(f"{source}: each step is {{label: <subset>, sharding_dimensions: [...]}}")
            dims = spec.get("sharding_dimensions", spec.get("dimensions", []))
            pipeline.add_step(spec["label"], dims)
        for spec in data.get("contracts") or []:
            if isinstance(spec, str):
                pipeline.add_contract(spec)
            elif isinstance(spec, dict) and "contract" in spec:
                pipeline.add_contract(spec["contract"], spec.get("msg"))
            else:
                raise PipelineError(f"{source}: each contract is an expression or {{contract: ..., msg: ...}}")
        return pipeline

    def _set_instrument(self, instrument: str, source: str) -> None:
        if self.instrument is not None and self.instrument != instrument:
            raise PipelineError(f"{source}: instrument {instrument!r} conflicts with imported {self.instrument!r}")
        self.instrument = instrument

    def _add_task_spec(self, label: str, spec: Any, base: Path, source: str) -> None:
        if isinstance(spec, str):
            spec = {"class": spec}
        if not isinstance(spec, dict):
            raise PipelineError(f"{source}: task {label!r} must be a class path or {{class, config, config_files}}")
        extra = set(spec) - {"class", "config", "config_files"}
        if extra:
            raise PipelineError(
                f"{source}: task {label!r} has unknown key(s) {sorted(extra)}; use class, config, config_files"
            )
        class_name = spec.get("class")
        existing = self._tasks.get(label)
        if existing is not None:
            if class_name is not None and class_name != existing.class_name:
                raise PipelineError(
                    f"{source}: task label {label!r} is already defined (class {existing.class_name}); "
                    "omit 'class' to change the config of an imported task"
                )
            entry = existing
        else:
            if class_name is None:
                raise PipelineError(f"{source}: task {label!r} has no 'class' and is not imported")
            entry = self._tasks[label] = _TaskEntry(label, class_name)
        blocks = spec.get("config") or []
        for block in [blocks] if isinstance(blocks, dict) else blocks:
            if not isinstance(block, dict):
                raise PipelineError(f"{source}: task {label!r} config must be a mapping (or a list of mappings)")
            block = dict(block)
            if "file" in block:
                entry.config.append(("file", str(base / os.path.expandvars(block.pop("file")))))
            if block:
                entry.config.append(("dict", block))
        for file in spec.get("config_files") or []:
            entry.config.append(("file", str(base / os.path.expandvars(file))))

    def _import(self, item: Any, base: Path, source: str, stack: tuple[Path, ...]) -> None:
        if isinstance(item, str):
            item = {"location": item}
        if not isinstance(item, dict) or "location" not in item:
            raise PipelineError(f"{source}: each import is a path or {{location, include|exclude, import_contracts}}")
        if item.get("include") and item.get("exclude"):
            raise PipelineError(f"{source}: import of {item['location']!r} has both include and exclude; use one")
        location = base / os.path.expandvars(item["location"])
        imported = Pipeline._load(location, stack)
        if item.get("include"):
            imported = imported.subset(item["include"])
        elif item.get("exclude"):
            dropped = imported._expand(item["exclude"], f"exclude of import {item['location']!r}")
            imported = imported.subset([label for label in imported._tasks if label not in dropped])
        for label, entry in imported._tasks.items():
            if label in self._tasks:
                raise PipelineError(f"{source}: task label {label!r} is imported twice (from {location})")
            self._tasks[label] = entry
        for name, labels in imported.subsets.items():
            if name in self.subsets:
                raise PipelineError(f"{source}: subset {name!r} is imported twice (from {location})")
            self.subsets[name] = labels
            self.subset_descriptions[name] = imported.subset_descriptions.get(name, "")
        for key, value in imported.parameters.items():
            self.parameters.setdefault(key, value)
        if imported.instrument is not None:
            self._set_instrument(imported.instrument, source)
        if item.get("import_contracts", True):
            self.contracts.extend(imported.contracts)

    # ---------------------------------------------------------------- Python API
    @property
    def labels(self) -> list[str]:
        """Task labels in definition order."""
        return list(self._tasks)

    def add_task(self, task: type | str, label: str, config: Mapping[str, Any] | None = None) -> None:
        """Add ``task`` (a `PipelineTask` class or dotted path) as ``label``."""
        _check_label(label, "task label")
        if label in self._tasks:
            raise PipelineError(f"task label {label!r} is already in the pipeline")
        if label in self.subsets:
            raise PipelineError(f"task label {label!r} is already a subset name")
        self._tasks[label] = _TaskEntry(label, task, [("dict", dict(config))] if config else [])

    def remove_task(self, label: str) -> None:
        """Remove ``label`` (and from every subset)."""
        self._entry(label)
        del self._tasks[label]
        for labels in self.subsets.values():
            if label in labels:
                labels.remove(label)

    def _entry(self, label: str) -> _TaskEntry:
        try:
            return self._tasks[label]
        except KeyError:
            raise PipelineError(
                f"no task labelled {label!r}{did_you_mean(label, self._tasks)}; labels: {', '.join(self._tasks)}"
            ) from None

    def add_config_override(self, label: str, key: str, value: Any) -> None:
        """Set dotted ``key`` of task ``label``'s config (strings are parsed as YAML scalars)."""
        self._entry(label).config.append(("override", (key, value)))

    def add_config_overrides(self, overrides: Iterable[str]) -> None:
        """Apply ``label:key=value`` strings (the ``-c`` option of ``pipetask``)."""
        for text in overrides:
            label, key, value = split_override(text)
            if label is None:
                raise PipelineError(f"override {text!r} needs a task label: label:key=value")
            self.add_config_override(label, key, value)

    def add_config_file(self, label: str, path: str | Path) -> None:
        """Apply a YAML file of overrides to task ``label`` (the ``-C`` option)."""
        self._entry(label).config.append(("file", str(path)))

    def add_subset(self, name: str, labels: Iterable[str], description: str = "") -> None:
        """Name a set of labels (usable in fragments, steps and imports)."""
        _check_label(name, "subset name")
        if name in self._tasks:
            raise PipelineError(f"subset name {name!r} is already a task label")
        self.subsets[name] = [str(label) for label in labels]
        self.subset_descriptions[name] = description

    def add_step(self, subset: str, sharding_dimensions: Iterable[str] = ()) -> None:
        """Append a step running ``subset``, sharded by ``sharding_dimensions``."""
        self.steps.append(StepDefinition(subset, tuple(sharding_dimensions)))

    def add_contract(self, contract: str, msg: str | None = None) -> None:
        """Add a contract expression (checked when the graph is built)."""
        _contract_names(contract)
        self.contracts.append(Contract(contract, msg))

    def _expand(self, names: Iterable[str] | str, what: str) -> list[str]:
        names = [names] if isinstance(names, str) else list(names)
        out: list[str] = []
        for name in (n.strip() for n in names):
            if name in self._tasks:
                found = [name]
            elif name in self.subsets:
                found = self.subsets[name]
            else:
                known = [*self._tasks, *self.subsets]
                raise PipelineError(
                    f"{what}: {name!r} is neither a task label nor a subset{did_you_mean(name, known)}; "
                    f"labels: {', '.join(self._tasks)}; subsets: {', '.join(self.subsets) or '(none)'}"
                )
            out.extend(label for label in found if label not in out)
        return out

    def subset(self, names: Iterable[str] | str) -> Pipeline:
        """A new pipeline with only the tasks named (labels and/or subset names).

        Subsets and steps survive only if all their labels remain; contracts only if every
        label they use remains.
        """
        keep = set(self._expand(names, "task selection"))
        new = Pipeline(self.description)
        new.instrument, new.parameters = self.instrument, dict(self.parameters)
        new._tasks = {label: copy.deepcopy(entry) for label, entry in self._tasks.items() if label in keep}
        for name, labels in self.subsets.items():
            if labels and set(labels) <= keep:
                new.subsets[name] = list(labels)
                new.subset_descriptions[name] = self.subset_descriptions.get(name, "")
        new.steps = [s for s in self.steps if s.label in new.subsets]
        new.contracts = [
            c for c in self.contracts if (_contract_names(c.contract) - {"parameters"}) & set(self._tasks) <= keep
        ]
        return new

    # --------------------------------------------------------------- resolution
    def task_class(self, label: str) -> type[PipelineTask]:
        """Import the class of task ``label``."""
        entry = self._entry(label)
        task = entry.task
        if isinstance(task, str):
            try:
                task = import_by_name(task)
            except ImportError as err:
                raise PipelineError(f"task {label!r}: {err}") from None
        if not (isinstance(task, type) and issubclass(task, PipelineTask)):
            raise PipelineError(f"task {label!r}: {entry.class_name} is not a PipelineTask subclass")
        return task

    def _substitute(self, value: Any, label: str) -> Any:
        if isinstance(value, str) and value.startswith("parameters."):
            name = value.removeprefix("parameters.")
            if name not in self.parameters:
                raise PipelineError(
                    f"task {label!r}: unknown pipeline parameter {name!r}{did_you_mean(name, self.parameters)}; "
                    f"defined: {', '.join(self.parameters) or '(none)'}"
                )
            return self.parameters[name]
        if isinstance(value, dict):
            return {k: self._substitute(v, label) for k, v in value.items()}
        if isinstance(value, list):
            return [self._substitute(v, label) for v in value]
        return value

    def instrument_object(self) -> Any:
        """The pipeline's instrument, or None: a name registered under the ``osprey.instruments``
        entry-point group (as obs packages do) or a dotted class path, instantiated."""
        if self.instrument is None:
            return None
        found = {ep.name: ep for ep in entry_points(group="osprey.instruments")}
        if self.instrument in found:
            return found[self.instrument].load()()
        if "." in self.instrument:
            return import_by_name(self.instrument)()
        raise PipelineError(
            f"instrument {self.instrument!r} is not installed{did_you_mean(self.instrument, found)}; "
            f"known: {', '.join(sorted(found)) or 'none (install an obs package)'}"
        )

    def make_config(self, label: str, instrument: Any = None) -> PipelineTaskConfig:
        """Task ``label``'s config: class defaults, the instrument's override file for the label
        (``apply_config_overrides``, shipped in the obs package), then every override of the
        pipeline in order (not frozen).

        A config value ``parameters.<name>`` is replaced by that pipeline parameter.
        """
        task_class = self.task_class(label)
        config = task_class.make_config()
        instrument = instrument if instrument is not None else self.instrument_object()
        if instrument is not None and hasattr(instrument, "apply_config_overrides"):
            try:
                instrument.apply_config_overrides(label, config)
            except ConfigError as err:
                raise ConfigError(
                    f"task {label!r}: override file of instrument {self.instrument!r}: {err.message}", key=err.key
                ) from None
        for kind, payload in self._entry(label).config:
            try:
                if kind == "dict":
                    config.apply_dict(self._substitute(payload, label))
                elif kind == "file":
                    config.load_yaml(payload)
                else:
                    key, value = payload
                    config.apply_override(key, self._substitute(value, label))
            except ConfigError as err:
                raise ConfigError(f"task {label!r} ({task_class.__name__}): {err.message}", key=err.key) from None
        task_class.ConnectionsClass.complete_config(config)
        return config

    def check_contracts(self, configs: Mapping[str, PipelineTaskConfig]) -> None:
        """Evaluate every contract against ``configs`` (label -> config)."""
        for contract in self.contracts:
            evaluate_contract(contract, configs, self.parameters)

    def to_graph(self, *, universe: Any = None) -> PipelineGraph:
        """Build every config, check contracts, and return the validated `PipelineGraph`."""
        for name, labels in self.subsets.items():
            for label in labels:
                if label not in self._tasks:
                    raise PipelineError(
                        f"subset {name!r} names unknown task {label!r}{did_you_mean(label, self._tasks)}"
                    )
        instrument = self.instrument_object()
        configs = {label: self.make_config(label, instrument) for label in self._tasks}
        self.check_contracts(configs)
        tasks = [(label, self.task_class(label), configs[label]) for label in self._tasks]
        return PipelineGraph(
            tasks, universe=universe, steps=self.steps, subsets=self.subsets, description=self.description
        )

    # -------------------------------------------------------------- serialization
    def to_dict(self) -> dict[str, Any]:
        """The pipeline as YAML-ready data (imports already expanded)."""
        tasks: dict[str, Any] = {}
        for label, entry in self._tasks.items():
            blocks: list[dict[str, Any]] = []
            for kind, payload in entry.config:
                if kind == "dict":
                    blocks.append(dict(payload))
                elif kind == "file":
                    blocks.append({"file": payload})
                else:
                    blocks.append({payload[0]: payload[1]})
            spec: dict[str, Any] = {"class": entry.class_name}
            if blocks:
                spec["config"] = blocks
            tasks[label] = spec
        data: dict[str, Any] = {"description": self.description}
        if self.instrument:
            data["instrument"] = self.instrument
        if self.parameters:
            data["parameters"] = dict(self.parameters)
        data["tasks"] = tasks
        if self.subsets:
            data["subsets"] = {
                n: {"subset": list(ls), "description": self.subset_descriptions.get(n, "")}
                for n, ls in self.subsets.items()
            }
        if self.steps:
            data["steps"] = [{"label": s.label, "sharding_dimensions": list(s.sharding_dimensions)} for s in self.steps]
        if self.contracts:
            data["contracts"] = [
                {"contract": c.contract, "msg": c.msg} if c.msg else c.contract for c in self.contracts
            ]
        return data

    def to_yaml(self) -> str:
        """`to_dict` as YAML; `from_string` reads it back."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def write(self, path: str | Path) -> None:
        """Write `to_yaml` to ``path``."""
        Path(path).write_text(self.to_yaml())

    def __repr__(self) -> str:
        return f"Pipeline(labels={self.labels}, subsets={list(self.subsets)}, steps={[s.label for s in self.steps]})"
