"""Connections and PipelineTask: templates, renames, class-creation checks, adjust_quantum, run_quantum."""

from dataclasses import dataclass

import pytest

from osprey.pipe.base import (
    AlgorithmError,
    AnnotatedPartialOutputsError,
    ButlerQuantumContext,
    ConfigError,
    ConnectionsDefinitionError,
    DeferredDatasetHandle,
    InitInput,
    InitOutput,
    Input,
    NoWorkFound,
    Output,
    PipelineTask,
    PipelineTaskConfig,
    PipelineTaskConnections,
    PrerequisiteInput,
    PrerequisiteMissingError,
    QuantumContext,
    Struct,
)
from osprey.pipe.base.testing import AddTask, InMemoryQuantumContext, ScaleTask, make_ref

DATA_ID = {"instrument": "Cam", "visit": 100, "detector": 2}


class CoaddConnections(
    PipelineTaskConnections,
    dimensions=("tract", "patch", "band", "skymap"),
    templates={"coadd_name": "deep", "warp_type": "direct"},
):
    warps = Input(
        "{coadd_name}Coadd_{warp_type}Warp",
        "NumpyArray",
        "Warped visits.",
        dimensions=("tract", "patch", "skymap", "visit", "instrument"),
        multiple=True,
        deferred_load=True,
        minimum=2,
    )
    sky_map = PrerequisiteInput("skyMap", "StructuredDataDict", "The sky map.", dimensions=("skymap",))
    schema = InitInput("{coadd_name}Coadd_schema", "StructuredDataDict", "Upstream schema.")
    coadd = Output("{coadd_name}Coadd", "NumpyArray", "The coadd.")
    n_inputs = Output("{coadd_name}Coadd_nImage", "StructuredDataDict", "Input counts.")
    out_schema = InitOutput("{coadd_name}Coadd_out_schema", "StructuredDataDict", "Output schema.")


class CoaddConfig(PipelineTaskConfig):
    do_count: bool = True


class CoaddTask(PipelineTask[CoaddConfig, CoaddConnections]):
    default_name = "coadd"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.out_schema = {"columns": [*self.init_inputs["schema"]["columns"], "coadd_flag"]}

    def run(self, *, warps, sky_map) -> Struct:
        arrays = [w.get() for w in warps]
        return Struct(coadd=sum(arrays) / len(arrays), n_inputs={"n": len(arrays), "skymap": sky_map["name"]})


def test_class_level_declarations():
    assert CoaddConnections.dimensions == ("tract", "patch", "band", "skymap")
    assert set(CoaddConnections.declared) == {"warps", "sky_map", "schema", "coadd", "n_inputs", "out_schema"}
    assert CoaddConnections.declared_input_names() == ("warps", "sky_map")
    assert CoaddConnections.warps.name == "{coadd_name}Coadd_{warp_type}Warp"  # declared, unresolved
    assert CoaddTask.ConfigClass is CoaddConfig and CoaddTask.ConnectionsClass is CoaddConnections


def test_templates_fill_names_and_task_dimensions_are_the_default():
    connections = CoaddConnections(config=CoaddTask.make_config())
    assert connections.warps.name == "deepCoadd_directWarp"
    assert connections.coadd.name == "deepCoadd" and connections.coadd.dimensions == CoaddConnections.dimensions
    assert connections.sky_map.dimensions == ("skymap",)
    assert set(connections.inputs) == {"warps"} and set(connections.prerequisite_inputs) == {"sky_map"}
    assert set(connections.outputs) == {"coadd", "n_inputs"}
    assert set(connections.init_inputs) == {"schema"} and set(connections.init_outputs) == {"out_schema"}


def test_config_templates_and_renames():
    config = CoaddTask.make_config()
    assert config.connections.to_dict() == {
        "warps": "{coadd_name}Coadd_{warp_type}Warp",
        "sky_map": "skyMap",
        "schema": "{coadd_name}Coadd_schema",
        "coadd": "{coadd_name}Coadd",
        "n_inputs": "{coadd_name}Coadd_nImage",
        "out_schema": "{coadd_name}Coadd_out_schema",
        "coadd_name": "deep",
        "warp_type": "direct",
    }
    config.apply_overrides(["connections.coadd_name=goodSeeing", "connections.sky_map=rings_skymap"])
    config.connections.coadd = "my_{coadd_name}_coadd"
    connections = CoaddConnections(config=config)
    assert connections.warps.name == "goodSeeingCoadd_directWarp"
    assert connections.sky_map.name == "rings_skymap" and connections.coadd.name == "my_goodSeeing_coadd"
    with pytest.raises(ConfigError, match=r"connections.coad': .*did you mean 'coadd'"):
        config.apply_override("connections.coad", "x")
    config.connections.coadd = "{nope}Coadd"
    with pytest.raises(ConfigError, match=r"connections.coadd.*template field\(s\) \['nope'\]"):
        CoaddConnections(config=config)
    config.connections.coadd = "bad-name"
    with pytest.raises(ConfigError, match="must start with a letter"):
        CoaddConnections(config=config)


def test_unknown_connection_keys_in_a_fresh_config_are_caught_when_bound():
    config = CoaddConfig()
    config.connections.coad_name = "deep"
    with pytest.raises(ConfigError, match="did you mean 'coadd_name'"):
        CoaddConnections(config=config)


def test_run_signature_mismatch_is_a_type_error_at_class_creation():
    with pytest.raises(TypeError, match=r"inputs with no run\(\) keyword: \['sky_map'\]") as info:

        class BadTask(PipelineTask[CoaddConfig, CoaddConnections]):
            def run(self, *, warps, skymap):
                return Struct()

    assert isinstance(info.value, ConnectionsDefinitionError)
    assert "not inputs: ['skymap'] (did you mean 'sky_map'?)" in str(info.value)

    class OptionalExtraTask(PipelineTask[CoaddConfig, CoaddConnections]):  # extra keyword with a default: fine
        def run(self, *, warps, sky_map, debug=False):
            return Struct()

    with pytest.raises(TypeError, match="must define run"):

        class NoRunTask(PipelineTask[CoaddConfig, CoaddConnections]):
            pass

    with pytest.raises(TypeError, match="first generic argument must be a PipelineTaskConfig"):

        class WrongConfigTask(PipelineTask[CoaddConnections, CoaddConnections]):
            def run(self, *, warps, sky_map):
                return Struct()


def test_dataclass_return_annotation_is_checked_against_outputs():
    @dataclass(frozen=True)
    class Partial:
        coadd: object

    with pytest.raises(TypeError, match=r"no field\(s\) for outputs \['n_inputs'\]"):

        class DataclassTask(PipelineTask[CoaddConfig, CoaddConnections]):
            def run(self, *, warps, sky_map) -> Partial:
                return Partial(coadd=None)


def test_connections_declaration_errors():
    with pytest.raises(TypeError, match=r"template field\(s\) \['band_name'\] with no default"):

        class MissingTemplate(PipelineTaskConnections, dimensions=("visit",)):
            out = Output("{band_name}_x", "NumpyArray")

    with pytest.raises(TypeError, match="needs multiple=True"):
        Input("x", "NumpyArray", minimum=2)
    with pytest.raises(TypeError, match="reserved"):

        class Reserved(PipelineTaskConnections, dimensions=("visit",)):
            inputs = Input("x", "NumpyArray")


def test_adjust_quantum_minimum_counts():
    connections = CoaddConnections(config=CoaddTask.make_config())
    sky = [make_ref("skyMap", "StructuredDataDict", {"skymap": "rings"})]
    warps = [make_ref("deepCoadd_directWarp", "NumpyArray", {"instrument": "Cam", "visit": v}) for v in (1, 2)]
    inputs, outputs = connections.adjust_quantum({"warps": warps, "sky_map": sky}, {}, "coadd", {"tract": 1})
    assert inputs["warps"] == warps
    with pytest.raises(NoWorkFound, match=r"input 'warps' \(deepCoadd_directWarp\) has 1 dataset"):
        connections.adjust_quantum({"warps": warps[:1], "sky_map": sky}, {}, "coadd", {"tract": 1})
    with pytest.raises(PrerequisiteMissingError, match="prerequisite 'sky_map'"):
        connections.adjust_quantum({"warps": warps, "sky_map": []}, {}, "coadd", {"tract": 1})


def test_init_inputs_and_outputs():
    task = CoaddTask(init_inputs={"schema": {"columns": ["flux"]}})
    assert task.get_init_output_values() == {"out_schema": {"columns": ["flux", "coadd_flag"]}}
    with pytest.raises(Exception, match=r"init_inputs must be exactly \['schema'\]"):
        CoaddTask()


def test_run_quantum_end_to_end_with_a_fake_context():
    task = AddTask()
    assert task.run(input_value={"value": 1.0}).output_value == {"value": 2.0}  # pure run, no butler
    in_ref = make_ref("toy_input", "StructuredDataDict", DATA_ID)
    out_ref = make_ref("toy_sum", "StructuredDataDict", DATA_ID)
    context = InMemoryQuantumContext({in_ref: {"value": 41.0}})
    assert isinstance(context, QuantumContext)
    task.run_quantum(context, {"input_value": in_ref}, {"output_value": out_ref})
    assert context.datasets[out_ref] == {"value": 42.0} and context.put_refs == [out_ref]
    assert task.metadata["timing.run.calls"] == 2  # the direct call above and the one in run_quantum

    scale = ScaleTask()
    scaled_ref = make_ref("toy_scaled", "StructuredDataDict", DATA_ID)
    scale.run_quantum(context, {"input_value": out_ref}, {"output_value": scaled_ref})
    assert context.datasets[scaled_ref] == {"value": 84.0}


def test_run_quantum_multiple_and_deferred_inputs():
    task = CoaddTask(init_inputs={"schema": {"columns": []}})
    warps = [make_ref("deepCoadd_directWarp", "NumpyArray", {"instrument": "Cam", "visit": v}) for v in (1, 2, 3)]
    sky = make_ref("skyMap", "StructuredDataDict", {"skymap": "rings"})
    coadd = make_ref("deepCoadd", "NumpyArray", {"tract": 1, "patch": 2, "band": "r", "skymap": "rings"})
    count = make_ref("deepCoadd_nImage", "StructuredDataDict", {"tract": 1, "patch": 2, "band": "r", "skymap": "rings"})

    class Recording(InMemoryQuantumContext):
        gets = []

        def get(self, ref):
            self.gets.append(ref)
            return super().get(ref)

    context = Recording({w: float(i) for i, w in enumerate(warps)} | {sky: {"name": "rings"}})
    seen = {}
    original = task.run

    def spy(**kwargs):
        seen.update(kwargs)
        return original(**kwargs)

    task.run = spy
    task.run_quantum(context, {"warps": warps, "sky_map": sky}, {"coadd": coadd, "n_inputs": count})
    assert all(isinstance(h, DeferredDatasetHandle) for h in seen["warps"])
    assert context.datasets[coadd] == 1.0 and context.datasets[count] == {"n": 3, "skymap": "rings"}
    assert context.gets[0] == sky  # deferred warps were read only inside run()


def test_algorithm_error_writes_annotated_partial_outputs():
    config = ScaleTask.make_config()
    config.factor = 0.0
    task = ScaleTask(config=config)
    in_ref = make_ref("toy_sum", "StructuredDataDict", DATA_ID)
    out_ref = make_ref("toy_scaled", "StructuredDataDict", DATA_ID)
    context = InMemoryQuantumContext({in_ref: {"value": 3.0}})
    with pytest.raises(AnnotatedPartialOutputsError, match="factor is zero") as info:
        task.run_quantum(context, {"input_value": in_ref}, {"output_value": out_ref})
    assert isinstance(info.value.__cause__, AlgorithmError) and info.value.written == ["output_value"]
    written = context.datasets[out_ref]
    assert written["value"] == 0.0
    assert written["failure"] == {
        "message": written["failure"]["message"],
        "type": "AlgorithmError",
        "metadata": {"factor": 0.0},
    }
    assert task.metadata["failure.type"] == "AlgorithmError"


def test_no_work_found_and_missing_outputs_write_nothing():
    class Nothing(PipelineTask[CoaddConfig, CoaddConnections]):
        def run(self, *, warps, sky_map):
            raise NoWorkFound("no overlapping warps")

    class Forgetful(PipelineTask[CoaddConfig, CoaddConnections]):
        def run(self, *, warps, sky_map):
            return Struct(coadd=1.0)

    sky = make_ref("skyMap", "StructuredDataDict", {"skymap": "rings"})
    coadd = make_ref("deepCoadd", "NumpyArray", {"tract": 1, "patch": 2, "band": "r", "skymap": "rings"})
    count = make_ref("deepCoadd_nImage", "StructuredDataDict", {"tract": 1, "patch": 2, "band": "r", "skymap": "rings"})
    context = InMemoryQuantumContext({sky: {"name": "rings"}})
    with pytest.raises(NoWorkFound):
        Nothing(init_inputs={"schema": {}}).run_quantum(context, {"warps": [], "sky_map": sky}, {"coadd": coadd})
    assert context.put_refs == []
    with pytest.raises(Exception, match=r"run\(\) returned no 'n_inputs'"):
        Forgetful(init_inputs={"schema": {}}).run_quantum(
            context, {"warps": [], "sky_map": sky}, {"coadd": coadd, "n_inputs": count}
        )


def test_butler_quantum_context_against_a_real_butler(tmp_path):
    from osprey.daf.butler import Butler

    Butler.make_repo(tmp_path / "repo")
    butler = Butler.from_config(tmp_path / "repo", run="u/test/run")
    butler.registry.insert_dimension_data("instrument", {"name": "Cam", "detector_max": 4})
    butler.registry.insert_dimension_data("detector", {"instrument": "Cam", "id": 2})
    butler.registry.insert_dimension_data("band", {"name": "r"})
    butler.registry.insert_dimension_data("physical_filter", {"instrument": "Cam", "name": "Cam-R", "band": "r"})
    butler.registry.insert_dimension_data("day_obs", {"instrument": "Cam", "id": 20250601})
    butler.registry.insert_dimension_data(
        "visit", {"instrument": "Cam", "id": 100, "physical_filter": "Cam-R", "day_obs": 20250601}
    )
    for name in ("toy_input", "toy_sum"):
        butler.register_dataset_type(name, ["instrument", "visit", "detector"], "StructuredDataDict")
    in_ref = butler.put({"value": 1.5}, "toy_input", DATA_ID)
    out_ref = make_ref("toy_sum", "StructuredDataDict", DATA_ID, run="u/test/run")
    context = ButlerQuantumContext(butler, [in_ref], [out_ref])
    AddTask().run_quantum(context, {"input_value": in_ref}, {"output_value": out_ref})
    assert butler.get(out_ref) == {"value": 2.5}
    assert context.written[0].id == out_ref.id
    with pytest.raises(Exception, match="not an output of this quantum"):
        context.put({"value": 0}, make_ref("toy_sum", "StructuredDataDict", DATA_ID, run="u/test/run"))
