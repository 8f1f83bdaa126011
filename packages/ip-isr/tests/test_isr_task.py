"""IsrTaskLSST as a PipelineTask: graph building against certified calibrations, execution, outputs vs truth."""

import numpy as np
import pytest

from osprey.daf.butler import Timespan
from osprey.ip.isr import IsrTaskLSST, IsrTaskLSSTConnections
from osprey.ip.isr.testing import (
    DETECTOR,
    FILTER,
    INSTRUMENT,
    RAW_RUN,
    T0,
    add_mock_exposures,
    certify_mock_calibs,
    make_mock_repo,
    pipeline_path,
)
from osprey.pipe.base import Pipeline, PrerequisiteMissingError, SerialGraphExecutor, build_quantum_graph

MASKED = ["BAD", "SAT", "SUSPECT", "INTRP", "NO_DATA"]
HOUR = 3600 * 10**9


@pytest.fixture
def repo(tmp_path):
    butler = make_mock_repo(tmp_path / "repo")
    mocks = add_mock_exposures(butler, 1, [{}, {}])  # two science exposures of one mock instrument
    # The truth calibrations, valid from 1 h before the first exposure; an older, wrong bias before that.
    calibs = next(iter(mocks.values())).calibs
    certify_mock_calibs(butler, calibs, timespan=Timespan(T0 - HOUR, None))
    wrong = calibs.bias.clone()
    wrong.image.array[...] += 100.0
    butler.put(wrong, "bias", instrument=INSTRUMENT, detector=DETECTOR, run="MockCam/calib/old")
    old = butler.find_dataset("bias", instrument=INSTRUMENT, detector=DETECTOR, collections=["MockCam/calib/old"])
    butler.certify("MockCam/calib", [old], Timespan(None, T0 - HOUR))
    yield butler, mocks
    butler.close()


def test_connections_follow_the_switches():
    config = IsrTaskLSST.make_config()
    config.do_dark = False
    config.do_brighter_fatter = False
    conns = IsrTaskLSSTConnections(config=config)
    assert set(conns.prerequisite_inputs) == {"bias", "flat", "defects", "crosstalk", "linearizer"}
    assert conns.flat.dimensions == ("instrument", "physical_filter", "detector") and conns.flat.is_calibration
    assert set(conns.outputs) == {"post_isr_image", "post_isr_image_binned", "isr_statistics"}


def test_graph_execute_matches_truth(repo):
    butler, mocks = repo
    pipeline = Pipeline.from_file(pipeline_path("isr"))
    graph = build_quantum_graph(pipeline, butler, [RAW_RUN, "MockCam/calib"], "u/test/isr")
    assert graph.summary() == {"isr": 2}
    quantum = graph.quanta["isr"][0]
    # calibrations found by validity time: the new bias, and the flat of the exposure's filter
    assert quantum.inputs["bias"][0].run == "MockCam/calib/truth"
    assert quantum.inputs["flat"][0].data_id["physical_filter"] == FILTER
    assert "bf_kernel" not in quantum.inputs  # do_brighter_fatter is off by default
    report = SerialGraphExecutor(butler).run(graph)
    assert report.ok, report
    for exposure_id, mock in mocks.items():
        data_id = dict(instrument=INSTRUMENT, exposure=exposure_id, detector=DETECTOR)
        post = butler.get("post_isr_image", data_id, collections="u/test/isr")
        assert post.bbox == mock.detector.bbox and post.image.units == "electron"
        good = ~post.mask.select(MASKED)
        chi2 = ((post.image.array - mock.truth.electrons) ** 2 / post.variance.array)[good]
        # mean chi^2 of n unit normals: 1 +- sqrt(2/n); 5 sigma
        assert abs(chi2.mean() - 1.0) < 5 * np.sqrt(2.0 / chi2.size), chi2.mean()
        binned = butler.get("post_isr_image_binned", data_id, collections="u/test/isr")
        assert binned.image.array.shape == (256 // 8, 256 // 8)
        np.testing.assert_allclose(binned.image.array[0, 0], post.image.array[:8, :8].mean(), rtol=1e-5)
        stats = butler.get("isr_statistics", data_id, collections="u/test/isr")
        assert set(stats["amps"]) == {a.name for a in mock.detector}
        assert all(abs(s["meanclip"] - 1000.0) < 3.0 for s in stats["amps"].values())
        metadata = butler.get("isr_metadata", data_id, collections="u/test/isr")
        assert metadata["quantum"]["status"] == "succeeded"
        assert metadata["isr"]["n_defect_pixels"] == int(mock.truth.defect_mask.sum())


def test_missing_calibration_names_the_data_id(repo):
    butler, _ = repo
    pipeline = Pipeline.from_file(pipeline_path("isr"))
    pipeline.add_config_override("isr", "do_brighter_fatter", True)  # no bfk was certified
    with pytest.raises(PrerequisiteMissingError, match=r"bfk|bf_kernel") as info:
        build_quantum_graph(pipeline, butler, [RAW_RUN, "MockCam/calib"], "u/test/isr_bf")
    assert "exposure" in str(info.value)


def test_calibration_outside_validity_range_is_not_used(repo):
    butler, mocks = repo
    # a time 2 h before T0 sees only the old (wrong) bias
    early = butler.find_dataset(
        "bias",
        instrument=INSTRUMENT,
        detector=DETECTOR,
        collections="MockCam/calib",
        timespan=Timespan.at(T0 - 2 * HOUR),
    )
    assert early.run == "MockCam/calib/old"
