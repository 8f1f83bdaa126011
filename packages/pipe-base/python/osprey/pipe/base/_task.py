"""`Task`: configured algorithm with a logger, metadata and subtasks; timing and liveness helpers."""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from osprey.utils import VERBOSE, OspreyValueError, get_logger

from ._task_metadata import TaskMetadata
from .config import Config, ConfigurableField
from .errors import ConfigError

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

__all__ = ["PeriodicLogger", "Task", "periodic_logger", "timed"]

F = TypeVar("F", bound=Callable[..., Any])


class Task:
    """A configured algorithm: ``config``, ``name``, ``log``, ``metadata`` and subtasks.

    Subclasses set ``ConfigClass`` (a `Config` subclass) and ``default_name``, and do their
    work in methods such as ``run`` that take and return Python objects (a `Struct`).

    Parameters
    ----------
    config : `Config`, optional
        An instance of ``ConfigClass``; its defaults when omitted.
    name : `str`, optional
        The task's name; ``default_name`` when omitted. Required for subtasks (it is the
        config field name, which `make_subtask` passes).
    parent_task : `Task`, optional
        The task that owns this one: the logger becomes ``<parent logger>.<name>`` and the
        full name ``<parent full name>.<name>``.
    log : `logging.Logger`, optional
        For a top-level task, the parent logger to hang ``<name>`` below; by default the
        logger is ``osprey.<name>``.
    """

    ConfigClass: ClassVar[type[Config]] = Config
    default_name: ClassVar[str | None] = None

    def __init__(
        self,
        config: Config | None = None,
        *,
        name: str | None = None,
        parent_task: Task | None = None,
        log: logging.Logger | None = None,
    ):
        if config is None:
            config = self.ConfigClass()
        elif not isinstance(config, self.ConfigClass):
            raise ConfigError(f"{type(self).__name__} needs a {self.ConfigClass.__name__}, got {type(config).__name__}")
        name = name or self.default_name
        if not name or "." in name or ":" in name:
            raise OspreyValueError(
                f"{type(self).__name__} needs a name without '.' or ':' (pass name= or set default_name); got {name!r}"
            )
        self.config = config
        self.name: str = name
        self.parent_task = parent_task
        if parent_task is not None:
            self.full_name = f"{parent_task.full_name}.{name}"
            self.log = get_logger(f"{parent_task.log.name}.{name}")
            parent_task._subtasks[name] = self
        else:
            self.full_name = name
            self.log = get_logger(f"{log.name}.{name}" if log is not None else f"osprey.{name}")
        self.metadata = TaskMetadata()
        self._subtasks: dict[str, Task] = {}

    def make_subtask(self, name: str, **kwargs: Any) -> Task:
        """Build the subtask configured by ``self.config.<name>`` (a `ConfigurableField`).

        The subtask is stored as attribute ``name`` and returned; ``kwargs`` go to its
        constructor.
        """
        field = getattr(self.config, name, None)
        if not isinstance(field, ConfigurableField):
            raise ConfigError(
                f"{type(self.config).__name__}.{name} is not a ConfigurableField; cannot make subtask {name!r}"
            )
        subtask = field.apply(name=name, parent_task=self, **kwargs)
        setattr(self, name, subtask)
        return subtask

    @property
    def subtasks(self) -> dict[str, Task]:
        """Direct subtasks by name."""
        return dict(self._subtasks)

    def get_full_metadata(self) -> TaskMetadata:
        """Metadata of this task and all subtasks, keyed by full name with ``:`` for ``.``."""
        full = TaskMetadata()
        todo: list[Task] = [self]
        while todo:
            task = todo.pop(0)
            full[task.full_name.replace(".", ":")] = task.metadata
            todo.extend(task._subtasks.values())
        return full

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.full_name!r})"


def _rusage() -> tuple[float, float, int]:
    """(user s, system s, max RSS bytes) of this process; zeros without `resource`."""
    if resource is None:
        return 0.0, 0.0, 0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is KiB on Linux, bytes on macOS
    return usage.ru_utime, usage.ru_stime, usage.ru_maxrss * scale


def timed(method: F) -> F:
    """Record wall time, CPU time and peak memory of a `Task` method in its metadata.

    Under ``metadata["timing.<method>"]``: ``calls``; ``wall_s``, ``cpu_s``, ``user_s``,
    ``system_s`` summed over calls; ``start_utc`` of the first call and ``end_utc`` of the
    last (ISO 8601); ``max_rss_bytes`` (process peak resident set size after the call); and
    ``peak_traced_bytes`` (the peak Python allocation during the last call) when
    `tracemalloc` is tracing. Timing is recorded also when the method raises.
    """

    @functools.wraps(method)
    def wrapper(self: Task, *args: Any, **kwargs: Any) -> Any:
        tracing = tracemalloc.is_tracing()
        if tracing:
            tracemalloc.reset_peak()
        start_utc = datetime.now(UTC).isoformat()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        user0, sys0, _ = _rusage()
        try:
            return method(self, *args, **kwargs)
        finally:
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            user1, sys1, max_rss = _rusage()
            key = f"timing.{method.__name__}"
            md = self.metadata
            previous = md[key] if key in md else None
            record = {
                "calls": (previous["calls"] if previous else 0) + 1,
                "wall_s": (previous["wall_s"] if previous else 0.0) + wall,
                "cpu_s": (previous["cpu_s"] if previous else 0.0) + cpu,
                "user_s": (previous["user_s"] if previous else 0.0) + (user1 - user0),
                "system_s": (previous["system_s"] if previous else 0.0) + (sys1 - sys0),
                "start_utc": previous["start_utc"] if previous else start_utc,
                "end_utc": datetime.now(UTC).isoformat(),
                "max_rss_bytes": max_rss,
            }
            if tracing:
                record["peak_traced_bytes"] = tracemalloc.get_traced_memory()[1]
            md[key] = record

    return wrapper  # type: ignore[return-value]


class PeriodicLogger:
    """Logs a "still alive" line at most once per ``interval_s``, from the calling thread.

    Call `check` at natural checkpoints of a long loop; it logs only when the interval has
    passed since the last line (or the start), so the log is not flooded and lines never
    interleave with the task's own output the way a background thread's could.
    """

    def __init__(
        self,
        log: logging.Logger,
        interval_s: float = 600.0,
        *,
        level: int = VERBOSE,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not interval_s > 0:
            raise OspreyValueError(f"interval_s must be positive, got {interval_s!r}")
        self.log, self.interval_s, self.level, self._clock = log, interval_s, level, clock
        self._start = self._last = clock()
        self.n_logged = 0

    def check(self, msg: str, *args: Any) -> bool:
        """Log ``msg % args`` if ``interval_s`` has passed; return whether it logged."""
        now = self._clock()
        if now - self._last < self.interval_s:
            return False
        self._last = now
        self.n_logged += 1
        self.log.log(self.level, "still alive after %.0f s: " + msg, now - self._start, *args)
        return True


@contextlib.contextmanager
def periodic_logger(
    log: logging.Logger,
    interval_s: float = 600.0,
    *,
    level: int = VERBOSE,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[PeriodicLogger]:
    """Context manager giving a `PeriodicLogger`::

    with periodic_logger(self.log, 60) as alive:
        for i, detector in enumerate(detectors):
            process(detector)
            alive.check("processed %d of %d detectors", i + 1, len(detectors))
    """
    yield PeriodicLogger(log, interval_s, level=level, clock=clock)
