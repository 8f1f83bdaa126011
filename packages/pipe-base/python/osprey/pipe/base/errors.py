"""Exceptions of `osprey.pipe.base`; every class pickles (worker processes send them back)."""

from __future__ import annotations

from typing import Any

from osprey.utils import OspreyError, OspreyValueError

__all__ = [
    "AlgorithmError",
    "AnnotatedPartialOutputsError",
    "ConfigError",
    "ConnectionsDefinitionError",
    "ContractError",
    "DatasetTypeConflictError",
    "FrozenConfigError",
    "NoWorkFound",
    "PipeBaseError",
    "PipelineCycleError",
    "PipelineError",
    "PrerequisiteMissingError",
]


class PipeBaseError(OspreyError):
    """Root of the exceptions raised on purpose by `osprey.pipe.base`."""


class ConfigError(PipeBaseError, OspreyValueError):
    """A configuration key or value is invalid; ``key`` is the dotted path that failed.

    Parameters
    ----------
    message : `str`
        What is wrong and how to fix it.
    key : `str`, optional
        Dotted path of the offending field (``"detection.threshold"``).
    """

    def __init__(self, message: str, key: str | None = None):
        super().__init__(f"config key {key!r}: {message}" if key else message)
        self.message, self.key = message, key

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.message, self.key)


class FrozenConfigError(PipeBaseError, AttributeError):
    """A frozen configuration (or one of its sub-configs) was modified."""


class ConnectionsDefinitionError(PipeBaseError, TypeError):
    """A connections class or `PipelineTask` subclass is declared inconsistently.

    Raised at class creation (import time), so a mismatch between ``run``'s keywords and
    the declared inputs never reaches execution.
    """


class PipelineError(PipeBaseError, OspreyValueError):
    """A pipeline definition (YAML or Python API) is invalid."""


class PipelineCycleError(PipelineError):
    """The tasks of a pipeline depend on each other in a cycle; ``cycle`` lists the labels."""

    def __init__(self, cycle: list[str]):
        super().__init__(
            "the pipeline has a dependency cycle: "
            + " -> ".join(cycle)
            + "; every dataset type must be produced before it is consumed"
        )
        self.cycle = list(cycle)

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.cycle,)


class DatasetTypeConflictError(PipelineError):
    """Producer and consumers of one dataset type disagree (storage class, dimensions...)."""


class ContractError(PipelineError):
    """A pipeline contract evaluated to false (or could not be evaluated)."""


class NoWorkFound(PipeBaseError):  # noqa: N818 - the name used across the LSST stack
    """Raised by a task (or `adjust_quantum`) when a quantum has nothing to do.

    This is not a failure: the executor records the quantum as skipped and writes no
    outputs; downstream quanta that need those outputs get `NoWorkFound` in turn.
    """


class PrerequisiteMissingError(PipeBaseError, LookupError):
    """A prerequisite input has fewer datasets than its ``minimum``."""


class AlgorithmError(PipeBaseError):
    """An algorithm failed in a way that is a property of the data, not a bug.

    Parameters
    ----------
    message : `str`
        What failed, for the failure report.
    metadata : `dict`, optional
        Numbers or strings that characterise the failure (``{"n_stars": 3}``); recorded in
        the task metadata and in annotated partial outputs.
    partial_outputs : `object`, optional
        A `Struct` (or any object with output-named attributes) holding the outputs that
        were produced before the failure. The default `PipelineTask.run_quantum` writes them,
        annotated with this error, and then raises `AnnotatedPartialOutputsError`.
    """

    def __init__(self, message: str, *, metadata: dict[str, Any] | None = None, partial_outputs: Any = None):
        super().__init__(message)
        self.message = message
        self.metadata = dict(metadata or {})
        self.partial_outputs = partial_outputs

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild_algorithm_error, (type(self), self.message, self.metadata, self.partial_outputs)


def _rebuild_algorithm_error(cls: type[AlgorithmError], message: str, metadata: dict, partial: Any) -> AlgorithmError:
    return cls(message, metadata=metadata, partial_outputs=partial)


class AnnotatedPartialOutputsError(PipeBaseError):
    """An `AlgorithmError` happened after some outputs were written, each annotated.

    ``written`` lists the connection names whose datasets were written; the original error
    is the ``__cause__``. Executors treat the quantum as failed but keep those outputs.
    """

    def __init__(self, message: str, written: list[str] | None = None):
        super().__init__(message)
        self.message, self.written = message, list(written or [])

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.message, self.written)
