"""Pipelines: YAML (parameters, imports, subsets, steps, contracts), fragments, the Python API, validation, drawing."""

import re
import shutil
import textwrap

import pytest

from osprey.pipe.base import (
    ConfigError,
    ContractError,
    DatasetTypeConflictError,
    InitOutput,
    Input,
    Output,
    Pipeline,
    PipelineCycleError,
    PipelineError,
    PipelineTask,
    PipelineTaskConfig,
    PipelineTaskConnections,
    PrerequisiteInput,
    Struct,
)
from osprey.pipe.base.testing import AbsClipTask, AddTask, ScaleTask

BASE = """\
description: Toy two-task pipeline
instrument: osprey.pipe.base.testing.ToyInstrument
parameters:
  addend: 5.0
  prefix: toy
tasks:
  add:
    class: osprey.pipe.base.testing.AddTask
    config:
      addend: parameters.addend
      connections.prefix: parameters.prefix
  scale:
    class: osprey.pipe.base.testing.ScaleTask
    config:
      factor: 3
      clip.max_value: 100
    config_files: [scale.yaml]
subsets:
  step1: [add]
  step2:
    subset: [scale]
    description: Scaling only.
  everything: [add, scale]
steps:
  - label: step1
    sharding_dimensions: [instrument, visit]
  - label: step2
    sharding_dimensions: [instrument]
contracts:
  - scale.factor > 0
  - contract: add.connections.output_value == scale.connections.input_value
    msg: add must feed scale
"""


@pytest.fixture
def pipeline_dir(tmp_path):
    (tmp_path / "base.yaml").write_text(BASE)
    (tmp_path / "scale.yaml").write_text(
        "clip:\n  target: osprey.pipe.base.testing.AbsClipTask\n  config:\n    min_value: 0.5\n"
    )
    return tmp_path


def test_yaml_pipeline_configs_parameters_and_files(pipeline_dir):
    pipeline = Pipeline.from_file(pipeline_dir / "base.yaml")
    assert pipeline.labels == ["add", "scale"] and pipeline.instrument == "osprey.pipe.base.testing.ToyInstrument"
    assert pipeline.description == "Toy two-task pipeline"
    add = pipeline.make_config("add")
    assert add.addend == 5.0
    scale = pipeline.make_config("scale")
    assert scale.factor == 3.0 and scale.clip.target is AbsClipTask
    assert scale.clip.min_value == 0.5 and scale.clip.max_value == 1e30  # the file retargeted after max_value=100
    assert pipeline.subsets == {"step1": ["add"], "step2": ["scale"], "everything": ["add", "scale"]}
    assert pipeline.subset_descriptions["step2"] == "Scaling only."
    assert [(s.label, s.sharding_dimensions) for s in pipeline.steps] == [
        ("step1", ("instrument", "visit")),
        ("step2", ("instrument",)),
    ]
    graph = pipeline.to_graph()
    assert list(graph.tasks) == ["add", "scale"]
    assert set(graph.overall_inputs) == {"toy_input"}
    assert graph.producer_of("toy_sum") == "add" and graph.consumers_of("toy_sum") == ["scale"]
    assert graph.task_edges() == {("add", "scale")}
    assert all(node.config.frozen for node in graph.tasks.values())


def test_cli_style_overrides_and_errors(pipeline_dir):
    pipeline = Pipeline.from_file(pipeline_dir / "base.yaml")
    pipeline.add_config_overrides(["add:addend=0.5", "scale:clip.min_value=2"])
    assert pipeline.make_config("add").addend == 0.5 and pipeline.make_config("scale").clip.min_value == 2.0
    pipeline.add_config_overrides(["scale:factr=2"])
    with pytest.raises(ConfigError, match=r"task 'scale' \(ScaleTask\).*'factr'.*did you mean 'factor'"):
        pipeline.make_config("scale")
    with pytest.raises(PipelineError, match="no task labelled 'scal'.*did you mean 'scale'"):
        pipeline.add_config_overrides(["scal:factor=2"])
    with pytest.raises(PipelineError, match="needs a task label"):
        pipeline.add_config_overrides(["factor=2"])


def test_unknown_parameter_is_reported(pipeline_dir):
    text = BASE.replace("addend: parameters.addend", "addend: parameters.adend")
    pipeline = Pipeline.from_string(text, base_dir=pipeline_dir)
    with pytest.raises(PipelineError, match="unknown pipeline parameter 'adend'.*did you mean 'addend'"):
        pipeline.make_config("add")


def test_fragment_selection_by_subset_and_labels(pipeline_dir):
    step2 = Pipeline.from_file(f"{pipeline_dir / 'base.yaml'}#step2")
    assert step2.labels == ["scale"] and set(step2.subsets) == {"step2"}
    assert [s.label for s in step2.steps] == ["step2"]
    assert [c.contract for c in step2.contracts] == ["scale.factor > 0"]  # the add/scale contract is dropped
    graph = step2.to_graph()
    assert set(graph.overall_inputs) == {"toy_sum"}
    both = Pipeline.from_file(f"{pipeline_dir / 'base.yaml'}#scale,add")
    assert both.labels == ["add", "scale"] and len(both.contracts) == 2
    with pytest.raises(PipelineError, match="'stepp1' is neither a task label nor a subset.*did you mean 'step1'"):
        Pipeline.from_file(f"{pipeline_dir / 'base.yaml'}#stepp1")


def test_imports_with_include_exclude_and_overrides(pipeline_dir):
    (pipeline_dir / "drp.yaml").write_text(
        textwrap.dedent(
            """\
            description: imports the base
            parameters:
              addend: 7.0
            imports:
              - location: base.yaml
                exclude: [step2]
            tasks:
              add:
                config:
                  connections.output_value: toy_sum_renamed
              scale2:
                class: osprey.pipe.base.testing.ScaleTask
                config:
                  connections.input_value: toy_sum_renamed
                  connections.output_value: toy_scaled2
            subsets:
              mine: [add, scale2]
            """
        )
    )
    drp = Pipeline.from_file(pipeline_dir / "drp.yaml")
    assert drp.labels == ["add", "scale2"] and drp.instrument == "osprey.pipe.base.testing.ToyInstrument"
    assert set(drp.subsets) == {"step1", "mine"}  # step2 and everything lost a label: dropped
    assert [c.contract for c in drp.contracts] == []  # both base contracts mention 'scale'
    assert drp.make_config("add").addend == 7.0  # the importing pipeline's parameter wins
    graph = drp.to_graph()
    assert graph.task_edges() == {("add", "scale2")}
    assert set(graph.dataset_types) == {"toy_input", "toy_sum_renamed", "toy_scaled2"}

    (pipeline_dir / "only.yaml").write_text("imports:\n  - location: base.yaml\n    include: [scale]\n")
    assert Pipeline.from_file(pipeline_dir / "only.yaml").labels == ["scale"]
    (pipeline_dir / "both.yaml").write_text("imports:\n  - {location: base.yaml, include: [add], exclude: [scale]}\n")
    with pytest.raises(PipelineError, match="both include and exclude"):
        Pipeline.from_file(pipeline_dir / "both.yaml")
    (pipeline_dir / "twice.yaml").write_text("imports: [base.yaml, base.yaml]\n")
    with pytest.raises(PipelineError, match="imported twice"):
        Pipeline.from_file(pipeline_dir / "twice.yaml")
    (pipeline_dir / "loop.yaml").write_text("imports: [loop.yaml]\n")
    with pytest.raises(PipelineError, match="imports form a cycle"):
        Pipeline.from_file(pipeline_dir / "loop.yaml")
    (pipeline_dir / "clash.yaml").write_text(
        "imports: [base.yaml]\ntasks:\n  add: osprey.pipe.base.testing.ScaleTask\n"
    )
    with pytest.raises(PipelineError, match="'add' is already defined"):
        Pipeline.from_file(pipeline_dir / "clash.yaml")


def test_contracts_pass_fail_and_are_restricted(pipeline_dir):
    pipeline = Pipeline.from_file(pipeline_dir / "base.yaml")
    pipeline.to_graph()
    pipeline.add_config_override("scale", "factor", "-1")
    with pytest.raises(ContractError, match=r"contract failed: scale.factor > 0"):
        pipeline.to_graph()
    renamed = Pipeline.from_file(pipeline_dir / "base.yaml")
    renamed.add_config_override("scale", "connections.input_value", "other_sum")
    with pytest.raises(ContractError, match=r"\(add must feed scale\)"):
        renamed.to_graph()
    for expr, message in [
        ("len(add.addend) > 0", "'len', which is not a task label"),
        ("add.__class__ is not None", "names starting with '_'"),
        ("add.nonexistent > 1", "could not be evaluated: AttributeError"),
        ("scal.factor > 0", "did you mean 'scale'"),
    ]:
        broken = Pipeline.from_file(pipeline_dir / "base.yaml")
        broken.add_contract(expr)
        with pytest.raises(ContractError, match=re.escape(message)):
            broken.to_graph()
    with pytest.raises(ContractError, match="not a Python expression"):
        pipeline.add_contract("add.addend >")


def test_python_api_and_yaml_round_trip(tmp_path):
    pipeline = Pipeline("built in Python")
    pipeline.add_task(AddTask, "add", {"addend": 2.0})
    pipeline.add_task("osprey.pipe.base.testing.ScaleTask", "scale")
    pipeline.add_config_override("scale", "factor", 4.0)
    pipeline.add_subset("all_tasks", ["add", "scale"])
    pipeline.add_contract("scale.factor >= add.addend", "scale must not shrink")
    pipeline.parameters["unused"] = 1
    pipeline.write(tmp_path / "p.yaml")
    back = Pipeline.from_file(tmp_path / "p.yaml")
    assert back.labels == ["add", "scale"] and back.subsets == {"all_tasks": ["add", "scale"]}
    assert back.make_config("add") == pipeline.make_config("add")
    assert back.make_config("scale") == pipeline.make_config("scale") and back.make_config("scale").factor == 4.0
    assert back.to_dict() == pipeline.to_dict()
    back.to_graph()
    with pytest.raises(PipelineError, match="already in the pipeline"):
        pipeline.add_task(AddTask, "add")
    with pytest.raises(PipelineError, match="must be an identifier"):
        pipeline.add_task(AddTask, "add-2")
    pipeline.remove_task("scale")
    assert pipeline.labels == ["add"] and pipeline.subsets["all_tasks"] == ["add"]


def test_yaml_errors():
    with pytest.raises(PipelineError, match="unknown key 'task'.*did you mean 'tasks'"):
        Pipeline.from_string("task: {}\n")
    with pytest.raises(PipelineError, match="is not a PipelineTask subclass"):
        Pipeline.from_string("tasks:\n  a: osprey.pipe.base.Struct\n").task_class("a")
    with pytest.raises(PipelineError, match="cannot import"):
        Pipeline.from_string("tasks:\n  a: osprey.pipe.base.testing.NoTask\n").to_graph()
    with pytest.raises(PipelineError, match="has no 'class' and is not imported"):
        Pipeline.from_string("tasks:\n  a: {config: {x: 1}}\n")
    with pytest.raises(PipelineError, match="subset 'set1' names unknown task 'ad'.*did you mean 'add'"):
        Pipeline.from_string("tasks:\n  add: osprey.pipe.base.testing.AddTask\nsubsets:\n  set1: [ad]\n").to_graph()
    with pytest.raises(PipelineError, match="cannot read pipeline file"):
        Pipeline.from_file("/nonexistent/pipeline.yaml")


class TableConnections(PipelineTaskConnections, dimensions=("instrument", "visit", "detector")):
    table = Input("toy_sum", "ArrowTable", "The sums, read as a table.")
    summary = Output("toy_summary", "StructuredDataDict", "Summary.")


class VisitConnections(PipelineTaskConnections, dimensions=("instrument", "visit")):
    table = Input("toy_sum", "StructuredDataDict", "The sums, per visit (wrong dimensions).")
    summary = Output("toy_summary", "StructuredDataDict", "Summary.")


class SummaryConfig(PipelineTaskConfig):
    pass


class TableTask(PipelineTask[SummaryConfig, TableConnections]):
    def run(self, *, table):
        return Struct(summary={})


class VisitTask(PipelineTask[SummaryConfig, VisitConnections]):
    def run(self, *, table):
        return Struct(summary={})


def test_storage_class_dimension_and_producer_conflicts():
    pipeline = Pipeline()
    pipeline.add_task(AddTask, "add")
    pipeline.add_task(TableTask, "table")
    with pytest.raises(
        DatasetTypeConflictError,
        match=r"'toy_sum': storage class conflict: task 'table'.*"
        r"ArrowTable but task 'add' connection 'output_value' \(output\) writes it with "
        r"StructuredDataDict",
    ):
        pipeline.to_graph()
    pipeline.add_config_override("table", "connections.table", "toy_input")
    with pytest.raises(DatasetTypeConflictError, match="'toy_input': storage class conflict"):
        pipeline.to_graph()  # two consumers disagree with no producer

    dims = Pipeline()
    dims.add_task(AddTask, "add")
    dims.add_task(VisitTask, "visit_summary")
    with pytest.raises(DatasetTypeConflictError, match=r"'toy_sum': dimensions conflict"):
        dims.to_graph()

    twice = Pipeline()
    twice.add_task(AddTask, "add1")
    twice.add_task(AddTask, "add2")
    with pytest.raises(DatasetTypeConflictError, match="produced by more than one task: task 'add1'.*task 'add2'"):
        twice.to_graph()
    twice.add_config_override("add2", "connections.prefix", "other")
    assert set(twice.to_graph().dataset_types) == {"toy_input", "toy_sum", "other_input", "other_sum"}


def test_cycles_are_detected():
    pipeline = Pipeline()
    pipeline.add_task(AddTask, "a")
    pipeline.add_task(ScaleTask, "b")
    pipeline.add_task(ScaleTask, "c")
    pipeline.add_config_override("b", "connections.output_value", "toy_b")
    pipeline.add_config_override("c", "connections.input_value", "toy_b")
    pipeline.add_config_override("a", "connections.input_value", "toy_scaled")
    with pytest.raises(PipelineCycleError, match=r"cycle: a -> b -> c -> a") as info:
        pipeline.to_graph()
    assert info.value.cycle == ["a", "b", "c", "a"]


def test_unknown_dimensions_and_step_rules(pipeline_dir):
    class OddConnections(PipelineTaskConnections, dimensions=("instrument", "vist")):
        out = Output("odd", "StructuredDataDict")

    class OddTask(PipelineTask[SummaryConfig, OddConnections]):
        def run(self):
            return Struct(out={})

    odd = Pipeline()
    odd.add_task(OddTask, "odd")
    with pytest.raises(PipelineError, match="task 'odd' dimensions: 'vist' is not a dimension"):
        odd.to_graph()

    def variant(old, new):
        return Pipeline.from_string(BASE.replace(old, new), base_dir=pipeline_dir)

    with pytest.raises(PipelineError, match=r"step 'step1' shards by \['instrument', 'tract'\].*no dimension"):
        variant("sharding_dimensions: [instrument, visit]", "sharding_dimensions: [instrument, tract]").to_graph()
    with pytest.raises(PipelineError, match=r"tasks \['scale'\] are in no step"):
        variant("  - label: step2\n    sharding_dimensions: [instrument]\n", "").to_graph()


def test_step_order_violation(pipeline_dir):
    text = (
        BASE.replace("  step1: [add]\n", "  step1: [scale]\n")
        .replace("    subset: [scale]\n", "    subset: [add]\n")
        .replace("sharding_dimensions: [instrument, visit]", "sharding_dimensions: [instrument]")
    )
    with pytest.raises(
        PipelineError, match="task 'scale' \\(step 'step1'\\) reads 'toy_sum' from task 'add' of the later step 'step2'"
    ):
        Pipeline.from_string(text, base_dir=pipeline_dir).to_graph()


def _dot_edges(text):
    return set(re.findall(r'^\s*"([^"]+)" -> "([^"]+)"', text, flags=re.M))


def test_dot_and_mermaid_nodes_and_edges(pipeline_dir):
    graph = Pipeline.from_file(pipeline_dir / "base.yaml").to_graph()
    dot = graph.to_dot()
    assert dot.startswith("digraph pipeline {") and dot.rstrip().endswith("}")
    nodes = set(re.findall(r'^\s*"([^"]+)" \[shape', dot, flags=re.M))
    assert nodes == {"task:add", "task:scale", "dataset:toy_input", "dataset:toy_sum", "dataset:toy_scaled"}
    assert _dot_edges(dot) == {
        ("dataset:toy_input", "task:add"),
        ("task:add", "dataset:toy_sum"),
        ("dataset:toy_sum", "task:scale"),
        ("task:scale", "dataset:toy_scaled"),
    }
    assert 'label="toy_sum\\n{instrument, detector, visit}\\nStructuredDataDict"' in dot
    mermaid = graph.to_mermaid()
    assert mermaid.splitlines()[0] == "flowchart TD"
    m_nodes = set(re.findall(r"^\s*(\w+)[\[(]", mermaid, flags=re.M))
    assert m_nodes == {"task_add", "task_scale", "ds_toy_input", "ds_toy_sum", "ds_toy_scaled"}
    m_edges = set(re.findall(r"^\s*(\w+) -(?:->|\.->) (\w+)$", mermaid, flags=re.M))
    assert m_edges == {
        ("ds_toy_input", "task_add"),
        ("task_add", "ds_toy_sum"),
        ("ds_toy_sum", "task_scale"),
        ("task_scale", "ds_toy_scaled"),
    }


def test_prerequisite_and_init_edges_are_styled():
    class PrereqConnections(PipelineTaskConnections, dimensions=("instrument", "visit", "detector")):
        value = Input("toy_sum", "StructuredDataDict")
        bias = PrerequisiteInput("bias", "NumpyArray", dimensions=("instrument", "detector"), is_calibration=True)
        schema = InitOutput("prereq_schema", "StructuredDataDict")
        out = Output("prereq_out", "StructuredDataDict")

    class PrereqTask(PipelineTask[SummaryConfig, PrereqConnections]):
        def run(self, *, value, bias):
            return Struct(out={})

    pipeline = Pipeline()
    pipeline.add_task(AddTask, "add")
    pipeline.add_task(PrereqTask, "prereq")
    graph = pipeline.to_graph()
    assert set(graph.prerequisite_inputs) == {"bias"} and set(graph.overall_inputs) == {"toy_input"}
    assert graph.dataset_types["bias"].is_calibration and graph.dataset_types["prereq_schema"].is_init
    dot = graph.to_dot()
    assert '"dataset:bias" -> "task:prereq" [style=dashed];' in dot
    assert '"task:prereq" -> "dataset:prereq_schema" [style=dotted];' in dot
    assert "  ds_bias -.-> task_prereq" in graph.to_mermaid()

    class SumPrereqConnections(PipelineTaskConnections, dimensions=("instrument", "visit", "detector")):
        value = PrerequisiteInput("toy_sum", "StructuredDataDict")
        out = Output("prereq_out2", "StructuredDataDict")

    class SumPrereqTask(PipelineTask[SummaryConfig, SumPrereqConnections]):
        def run(self, *, value):
            return Struct(out={})

    clash = Pipeline()
    clash.add_task(SumPrereqTask, "late")
    clash.add_task(AddTask, "add")
    with pytest.raises(
        DatasetTypeConflictError, match="'toy_sum' is a prerequisite of task 'late' but is produced by task 'add'"
    ):
        clash.to_graph()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed on this machine")
def test_render_png_and_svg(pipeline_dir, tmp_path):
    graph = Pipeline.from_file(pipeline_dir / "base.yaml").to_graph()
    svg = graph.render(tmp_path / "graph.svg")
    assert "<svg" in svg.read_text() and "toy_sum" in svg.read_text()
    png = graph.render(tmp_path / "graph.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_without_dot_explains(monkeypatch, pipeline_dir, tmp_path):
    graph = Pipeline.from_file(pipeline_dir / "base.yaml").to_graph()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(Exception, match="install graphviz"):
        graph.render(tmp_path / "graph.svg")


def test_instrument_config_overrides_come_before_the_pipeline_s():
    text = """
instrument: osprey.pipe.base.testing.ToyInstrument
tasks:
  add: osprey.pipe.base.testing.AddTask
  scale:
    class: osprey.pipe.base.testing.ScaleTask
"""
    pipeline = Pipeline.from_string(text)
    assert pipeline.make_config("add").addend == 10.0  # from the instrument's override file
    assert pipeline.make_config("scale").factor == 2.0
    pipeline.add_config_override("add", "addend", 3.0)
    assert pipeline.to_graph().tasks["add"].config.addend == 3.0  # the pipeline has the last word
    unknown = Pipeline.from_string("instrument: NoSuchCam\ntasks:\n  add: osprey.pipe.base.testing.AddTask\n")
    with pytest.raises(PipelineError, match="instrument 'NoSuchCam' is not installed"):
        unknown.to_graph()
