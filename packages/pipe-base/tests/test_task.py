"""Task: names, hierarchical loggers, subtasks, metadata, @timed, periodic liveness logging, Struct."""

import logging
import pickle
import time
import tracemalloc

import pytest

from osprey.pipe.base import (
    AlgorithmError,
    AnnotatedPartialOutputsError,
    Config,
    ConfigError,
    ConfigurableField,
    ConnectionsDefinitionError,
    DatasetTypeConflictError,
    NoWorkFound,
    PipelineCycleError,
    PipelineError,
    Struct,
    Task,
    TaskMetadata,
    periodic_logger,
    timed,
)
from osprey.pipe.base.testing import AbsClipTask, ClipTask
from osprey.utils import VERBOSE, OspreyError, OspreyValueError


class BusyConfig(Config):
    n: int = 200_000
    clip: ConfigurableField = ConfigurableField(ClipTask)


class BusyTask(Task):
    ConfigClass = BusyConfig
    default_name = "busy"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.make_subtask("clip")

    @timed
    def run(self, sleep_s: float = 0.0) -> Struct:
        data = [float(i) for i in range(self.config.n)]
        total = sum(data)
        time.sleep(sleep_s)
        self.metadata["n_values"] = len(data)
        return Struct(total=self.clip.run(total))

    @timed
    def fail(self) -> None:
        raise OspreyValueError("boom")


def test_names_loggers_and_subtasks():
    task = BusyTask()
    assert task.name == "busy" and task.full_name == "busy"
    assert task.log.name == "osprey.busy" and hasattr(task.log, "verbose")
    assert isinstance(task.clip, ClipTask) and task.clip.full_name == "busy.clip"
    assert task.clip.log.name == "osprey.busy.clip" and task.clip.log.parent is task.log
    assert task.subtasks == {"clip": task.clip}
    parent = logging.getLogger("myapp")
    assert BusyTask(name="other", log=parent).log.name == "myapp.other"


def test_retargeted_subtask_is_built_from_config():
    config = BusyConfig()
    config.clip.retarget(AbsClipTask)
    config.clip.min_value = 10.0
    task = BusyTask(config=config)
    assert isinstance(task.clip, AbsClipTask) and task.clip.run(-5.0) == 0.0 and task.clip.run(-50.0) == 50.0


def test_config_type_and_name_are_checked():
    with pytest.raises(ConfigError, match="needs a BusyConfig"):
        BusyTask(config=Config())
    with pytest.raises(OspreyValueError, match="needs a name"):
        ClipTask(name="a.b")
    task = BusyTask()
    with pytest.raises(ConfigError, match="not a ConfigurableField"):
        task.make_subtask("n")


def test_timed_records_wall_cpu_and_memory():
    task = BusyTask()
    task.run(sleep_s=0.05)
    timing = task.metadata["timing.run"]
    assert timing["calls"] == 1
    assert timing["wall_s"] >= 0.05 and timing["wall_s"] < 10
    assert 0 < timing["cpu_s"] <= timing["wall_s"]  # sleeping costs wall time, not CPU time
    assert timing["max_rss_bytes"] > 1_000_000
    assert timing["start_utc"] <= timing["end_utc"]
    task.run()
    assert task.metadata["timing.run.calls"] == 2 and task.metadata["timing.run.wall_s"] >= 0.05
    assert task.metadata["n_values"] == 200_000


def test_timed_records_traced_peak_and_failures():
    task = BusyTask()
    tracemalloc.start()
    try:
        task.run()
    finally:
        tracemalloc.stop()
    # 200k Python floats in a list: at least 200k * 24 bytes of objects + 1.6 MB of pointers
    assert task.metadata["timing.run.peak_traced_bytes"] > 200_000 * 24
    with pytest.raises(OspreyValueError):
        task.fail()
    assert task.metadata["timing.fail.calls"] == 1


def test_full_metadata_and_serialisation():
    task = BusyTask()
    task.run()
    task.clip.metadata["clipped"] = False
    full = task.get_full_metadata()
    assert set(full) == {"busy", "busy:clip"} and full["busy:clip"]["clipped"] is False
    back = TaskMetadata.from_json(full.to_json())
    assert back == full and back["busy"]["timing"]["run"]["calls"] == 1


def test_task_metadata_semantics():
    md = TaskMetadata({"a": {"b": 1}})
    md["x.y.z"] = 2.5
    md.add("stars", 3)
    md.add("stars", 4)
    assert md["a.b"] == 1 and md["x"]["y"]["z"] == 2.5 and md["stars"] == [3, 4]
    assert "x.y" in md and "x.q" not in md
    with pytest.raises(OspreyValueError, match="values are"):
        md["bad"] = object()
    with pytest.raises(KeyError):
        md["a.b.c"]
    assert md.to_dict() == {"a": {"b": 1}, "x": {"y": {"z": 2.5}}, "stars": [3, 4]}


def test_periodic_logger_logs_from_the_calling_thread_at_most_once_per_interval(caplog):
    now = [0.0]
    log = logging.getLogger("osprey.test.alive")
    with caplog.at_level(VERBOSE, logger="osprey.test.alive"):
        with periodic_logger(log, 10.0, clock=lambda: now[0]) as alive:
            logged = []
            for i in range(50):
                now[0] += 1.0
                logged.append(alive.check("processed %d of %d", i + 1, 50))
    assert logged.count(True) == 5 and alive.n_logged == 5
    records = [r for r in caplog.records if r.name == "osprey.test.alive"]
    assert [r.levelno for r in records] == [VERBOSE] * 5
    assert records[0].getMessage() == "still alive after 10 s: processed 10 of 50"
    assert records[-1].getMessage() == "still alive after 50 s: processed 50 of 50"
    with pytest.raises(OspreyValueError):
        periodic_logger(log, 0).__enter__()


def test_struct():
    s = Struct(a=1, b=[2])
    assert s.a == 1 and "b" in s and len(s) == 2 and list(s) == ["a", "b"]
    assert s == Struct(a=1, b=[2]) and s != Struct(a=1)
    assert s.as_dict() == {"a": 1, "b": [2]} and repr(s) == "Struct(a=1, b=[2])"
    t = Struct(c=3)
    t.merge_items(s, "a")
    assert t.as_dict() == {"c": 3, "a": 1}
    with pytest.raises(OspreyValueError):
        t.merge_items(s, "a")
    with pytest.raises(OspreyValueError):
        Struct(_x=1)


@pytest.mark.parametrize(
    "error",
    [
        ConfigError("bad value", key="a.b"),
        ConnectionsDefinitionError("mismatch"),
        PipelineCycleError(["a", "b", "a"]),
        DatasetTypeConflictError("conflict"),
        PipelineError("bad pipeline"),
        NoWorkFound("nothing"),
        AlgorithmError("failed", metadata={"n": 1}, partial_outputs=Struct(x=1)),
        AnnotatedPartialOutputsError("partial", ["x"]),
    ],
)
def test_errors_pickle_and_are_osprey_errors(error):
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error) and str(back) == str(error) and isinstance(back, OspreyError)
    if isinstance(error, AlgorithmError):
        assert back.metadata == {"n": 1} and back.partial_outputs == Struct(x=1)
    if isinstance(error, ConfigError):
        assert back.key == "a.b" and isinstance(back, ValueError)
    if isinstance(error, ConnectionsDefinitionError):
        assert isinstance(back, TypeError)
