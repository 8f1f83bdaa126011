"""Config: defaults, validation, overrides (strings, YAML, nested, subtasks, registries), freeze, round trips."""

import json
from typing import Literal

import pytest
from pydantic import Field

from osprey.pipe.base import (
    Config,
    ConfigError,
    ConfigurableField,
    FrozenConfigError,
    Registry,
    RegistryField,
    split_override,
)
from osprey.pipe.base.testing import AbsClipConfig, AbsClipTask, ClipConfig, ClipTask, ScaleConfig

plugins = Registry("test_plugins")


class ApertureConfig(Config):
    radius: float = Field(3.0, gt=0, description="Aperture radius (pixels).")


@plugins.register("aperture")
class AperturePlugin:
    ConfigClass = ApertureConfig

    def __init__(self, config, scale=1.0):
        self.config, self.scale = config, scale


class CentroidConfig(Config):
    max_iter: int = Field(10, ge=1, le=100)


@plugins.register("centroid")
class CentroidPlugin:
    ConfigClass = CentroidConfig

    def __init__(self, config, scale=1.0):
        self.config, self.scale = config, scale


class BackgroundConfig(Config):
    bin_size: int = Field(128, ge=8, description="Background bin size (pixels).")
    algorithm: Literal["akima", "natural_spline", "constant"] = "akima"


class DetectConfig(Config):
    threshold: float = Field(5.0, ge=0, description="Detection threshold (sigma).")
    polarity: Literal["positive", "negative", "both"] = "positive"
    background: BackgroundConfig = BackgroundConfig()
    bad_masks: list[str] = ["BAD", "SAT"]
    weights: dict[str, float] = {"g": 1.0}
    clip: ConfigurableField = ConfigurableField(ClipTask)
    measure: RegistryField = plugins.make_field(["centroid"])


def test_defaults_and_independent_instances():
    a, b = DetectConfig(), DetectConfig()
    assert a.threshold == 5.0 and a.background.bin_size == 128 and a.clip.target is ClipTask
    a.background.bin_size = 64
    a.bad_masks.append("CR")
    a.clip.max_value = 10.0
    a.measure["centroid"].max_iter = 3
    assert b.background.bin_size == 128 and b.bad_masks == ["BAD", "SAT"]
    assert b.clip.max_value == 1e30 and b.measure["centroid"].max_iter == 10


def test_validation_on_assignment_names_the_field():
    config = DetectConfig()
    with pytest.raises(ConfigError, match=r"'threshold'.*greater than or equal to 0"):
        config.threshold = -1.0
    with pytest.raises(ConfigError, match=r"'polarity'.*'positive', 'negative' or 'both'"):
        config.polarity = "up"
    with pytest.raises(ConfigError, match=r"no field 'treshold' \(did you mean 'threshold'\?\)"):
        config.treshold = 3.0
    assert config.threshold == 5.0 and config.polarity == "positive"


def test_string_overrides_with_dotted_paths():
    config = DetectConfig()
    config.apply_overrides(
        [
            "threshold=3.5",
            "background.bin_size=256",
            "background.algorithm=constant",
            "bad_masks=[BAD, CR]",
            "weights.r=0.5",
            "clip.max_value=100",
            "measure.names=[aperture, centroid]",
            "measure.aperture.radius=6",
        ]
    )
    assert config.threshold == 3.5 and config.background.bin_size == 256
    assert config.background.algorithm == "constant" and config.bad_masks == ["BAD", "CR"]
    assert config.weights == {"g": 1.0, "r": 0.5} and config.clip.max_value == 100.0
    assert config.measure.names == ("aperture", "centroid") and config.measure["aperture"].radius == 6.0
    plugins_built = config.measure.apply(scale=2.0)
    assert list(plugins_built) == ["aperture", "centroid"] and plugins_built["aperture"].config.radius == 6.0


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("backgroud.bin_size=3", r"config key 'backgroud': .*did you mean 'background'"),
        ("background.bin_sise=64", r"config key 'background.bin_sise': .*did you mean 'bin_size'"),
        ("background.bin_size=4", r"config key 'background.bin_size': invalid value 4.*greater than or equal to 8"),
        ("background.bin_size=abc", r"config key 'background.bin_size': .*valid integer"),
        ("threshold.x=1", r"config key 'threshold': 'threshold' is a float value, not a sub-config"),
        ("clip.max_valu=1", r"config key 'clip.max_valu': .*did you mean 'max_value'"),
        ("measure.aperture.radius=-1", r"config key 'measure.aperture.radius': .*greater than 0"),
        ("measure.names=[centroidd]", r"config key 'measure.names': .*did you mean 'centroid'"),
        ("measure.apperture.radius=1", r"config key 'measure.apperture': .*did you mean 'aperture'"),
        ("threshold", r"not of the form"),
    ],
)
def test_override_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        DetectConfig().apply_overrides([override])


def test_split_override_forms():
    assert split_override("calibrate:detection.threshold=5") == ("calibrate", "detection.threshold", "5")
    assert split_override("a.b=x=y:z") == (None, "a.b", "x=y:z")
    with pytest.raises(ConfigError):
        split_override(":a=1")
    with pytest.raises(ConfigError, match="names a task label"):
        DetectConfig().apply_overrides(["isr:threshold=1"])


def test_string_values_that_look_like_numbers_stay_strings_for_str_fields():
    class Named(Config):
        name: str = "x"

    config = Named()
    config.apply_override("name", "001")
    assert config.name == "001"


def test_yaml_file_overrides_nested_and_dotted(tmp_path):
    path = tmp_path / "detect.yaml"
    path.write_text(
        "threshold: 4.0\n"
        "background:\n  bin_size: 32\n"
        "clip.max_value: 7.5\n"
        "measure:\n  names: [aperture]\n  configs:\n    aperture: {radius: 2.5}\n"
    )
    config = DetectConfig()
    config.load_yaml(path)
    assert (config.threshold, config.background.bin_size, config.clip.max_value) == (4.0, 32, 7.5)
    assert config.measure.names == ("aperture",) and config.measure["aperture"].radius == 2.5
    bad = tmp_path / "bad.yaml"
    bad.write_text("background: {bin_size: 2}\n")
    with pytest.raises(ConfigError, match=r"background.bin_size.*bad.yaml"):
        config.load_yaml(bad)


def test_retarget_swaps_class_and_config_type():
    config = DetectConfig()
    config.clip.max_value = 3.0
    config.clip.retarget(AbsClipTask)
    assert config.clip.target is AbsClipTask and isinstance(config.clip.config, AbsClipConfig)
    assert config.clip.max_value == 1e30  # the new target's defaults
    config.clip.min_value = 0.5
    with pytest.raises(ConfigError, match="must be a ClipConfig"):
        config.clip.retarget(ClipTask, ApertureConfig())
    with pytest.raises(ConfigError, match="ConfigClass"):
        config.clip.retarget(dict)
    with pytest.raises(ConfigError, match="cannot retarget"):
        config.clip.retarget("osprey.pipe.base.testing.NoSuchTask")
    config.apply_override("clip.target", "osprey.pipe.base.testing.ClipTask")
    assert config.clip.target is ClipTask and type(config.clip.config) is ClipConfig


def test_retarget_through_string_and_yaml_overrides():
    config = ScaleConfig()
    config.apply_overrides(["clip.target=osprey.pipe.base.testing.AbsClipTask", "clip.min_value=0.25"])
    assert config.clip.target is AbsClipTask and config.clip.min_value == 0.25
    other = ScaleConfig.from_dict(
        {"clip": {"target": "osprey.pipe.base.testing.AbsClipTask", "config": {"min_value": 0.5}}}
    )
    assert other.clip.target is AbsClipTask and other.clip.config.min_value == 0.5


def test_freeze_makes_the_whole_tree_immutable():
    config = DetectConfig()
    config.freeze()
    assert config.frozen
    attempts = [
        lambda: setattr(config, "threshold", 1.0),
        lambda: setattr(config.background, "bin_size", 64),
        lambda: config.bad_masks.append("CR"),
        lambda: config.weights.update(r=1.0),
        lambda: setattr(config.clip, "max_value", 1.0),
        lambda: config.clip.retarget(AbsClipTask),
        lambda: setattr(config.measure, "names", ["aperture"]),
        lambda: setattr(config.measure["aperture"], "radius", 1.0),
        lambda: config.apply_override("background.bin_size", "64"),
    ]
    for attempt in attempts:
        with pytest.raises(FrozenConfigError, match="frozen"):
            attempt()
    assert config.threshold == 5.0 and config.bad_masks == ["BAD", "SAT"]
    thawed = config.unfrozen_copy()
    thawed.background.bin_size = 64
    thawed.bad_masks.append("CR")
    assert thawed.background.bin_size == 64 and config.background.bin_size == 128


def test_yaml_round_trip_is_equal_including_retargeted_subtask():
    config = ScaleConfig()
    config.apply_overrides(["factor=3", "clip.target=osprey.pipe.base.testing.AbsClipTask", "clip.min_value=0.1"])
    config.connections.prefix = "deep"
    text = config.to_yaml()
    back = ScaleConfig.from_yaml(text)
    assert back == config and back.to_yaml() == text
    assert back.clip.target is AbsClipTask
    assert ScaleConfig() != config

    detect = DetectConfig()
    detect.apply_overrides(["measure.names=[aperture]", "measure.aperture.radius=9", "weights.r=2"])
    detect.freeze()
    assert DetectConfig.from_yaml(detect.to_yaml()) == detect


def test_to_dict_is_full_and_plain():
    data = DetectConfig().to_dict()
    assert data["background"] == {"bin_size": 128, "algorithm": "akima"}
    assert data["clip"] == {"target": "osprey.pipe.base.testing.ClipTask", "config": {"max_value": 1e30}}
    assert data["measure"]["names"] == ["centroid"]
    assert set(data["measure"]["configs"]) == {"aperture", "centroid"}
    json.dumps(data)


def test_json_schema_documents_fields():
    schema = DetectConfig.json_schema()
    props = schema["properties"]
    assert props["threshold"]["description"] == "Detection threshold (sigma)."
    assert props["threshold"]["minimum"] == 0
    assert props["polarity"]["enum"] == ["positive", "negative", "both"]
    assert props["clip"]["properties"]["target"]["type"] == "string"
    assert props["clip"]["default"]["target"] == "osprey.pipe.base.testing.ClipTask"
    background = schema["$defs"]["BackgroundConfig"]["properties"]["bin_size"]
    assert background["description"] == "Background bin size (pixels)." and background["minimum"] == 8
    json.dumps(schema)


def test_registry_errors():
    with pytest.raises(ConfigError, match="already has a plugin"):
        plugins.register("aperture", CentroidPlugin)
    with pytest.raises(ConfigError, match="other than 'names'"):
        plugins.register("names", CentroidPlugin)
    single = RegistryField(plugins, ["aperture"], multi=False)
    with pytest.raises(ConfigError, match="allows one selection"):
        single.names = ["aperture", "centroid"]
    with pytest.raises(ConfigError, match="selected twice"):
        plugins.make_field(["aperture", "aperture"])


def test_configs_pickle_frozen_or_not():
    import pickle

    config = DetectConfig()
    config.apply_overrides(["clip.target=osprey.pipe.base.testing.AbsClipTask", "measure.names=[aperture]"])
    back = pickle.loads(pickle.dumps(config))
    assert back == config and back.clip.target is AbsClipTask and not back.frozen
    config.freeze()
    frozen = pickle.loads(pickle.dumps(config))
    assert frozen == config and frozen.frozen
    with pytest.raises(FrozenConfigError):
        frozen.clip.min_value = 1.0
