import pickle

import numpy as np
import pytest

from osprey.ip.isr import (
    BrighterFatterKernel,
    CalibFormatError,
    CrosstalkCalib,
    Defects,
    IsrMockConfig,
    IsrMockLSST,
    IsrValueError,
    Linearizer,
    assemble,
    disassemble,
    raw_frame_bbox,
)


def test_mock_geometry_and_truth():
    m = IsrMockLSST().run()
    det = m.detector
    assert len(det) == 8
    assert raw_frame_bbox(det).dimensions == m.raw.bbox.dimensions
    assert (m.raw.bbox.width, m.raw.bbox.height) == (4 * (4 + 64 + 16), 2 * (128 + 16))
    assert (det.bbox.width, det.bbox.height) == (256, 256)
    flips = {(a.raw_flip_x, a.raw_flip_y) for a in det}
    assert flips == {(False, False), (True, False), (False, True), (True, True)}
    assert m.truth.electrons.shape == (256, 256)
    assert m.raw.image.units == "adu"
    assert m.raw.visit_info.dark_time == 31.0
    # The flat is normalised to median 1; the crosstalk matrix has a zero diagonal.
    assert np.median(m.truth.flat) == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.diag(m.truth.crosstalk.coeffs) == 0)


def test_mock_is_deterministic_and_configurable():
    a = IsrMockLSST(seed=5).run().raw.image.array
    b = IsrMockLSST(IsrMockConfig(seed=5)).run().raw.image.array
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        IsrMockConfig(n_amp_y=3)


def test_assemble_disassemble_round_trip():
    m = IsrMockLSST(add_noise=False).run()
    assembled = assemble(m.raw)
    back = disassemble(assembled)
    for amp in m.detector:
        d = amp.raw_data_bbox
        ox, oy = amp.raw_xy_offset.x, amp.raw_xy_offset.y
        sl = (slice(oy + d.y0, oy + d.y_end), slice(ox + d.x0, ox + d.x_end))
        np.testing.assert_array_equal(back.image.array[sl], m.raw.image.array[sl])
    with pytest.raises(IsrValueError, match="already in the assembled frame"):
        assemble(assembled)


def test_calib_dict_round_trips():
    m = IsrMockLSST(do_brighter_fatter=True).run()
    xt = CrosstalkCalib.from_dict(m.calibs.crosstalk.to_dict())
    np.testing.assert_array_equal(xt.coeffs, m.calibs.crosstalk.coeffs)
    assert xt.amp_names == m.calibs.crosstalk.amp_names
    lin = Linearizer.from_dict(m.calibs.linearizer.to_dict())
    assert lin.models == m.calibs.linearizer.models
    d = Defects.from_dict(m.calibs.defects.to_dict())
    np.testing.assert_array_equal(d.boxes, m.calibs.defects.boxes)
    k = BrighterFatterKernel.from_dict(m.calibs.bf_kernel.to_dict())
    np.testing.assert_array_equal(k.kernel, m.calibs.bf_kernel.kernel)
    with pytest.raises(CalibFormatError, match="square"):
        CrosstalkCalib(np.zeros((2, 3)))
    with pytest.raises(CalibFormatError, match="unknown type"):
        Linearizer({"C00": ("CUBIC", ())})


def test_errors_pickle():
    err = IsrValueError("bad bias bbox")
    again = pickle.loads(pickle.dumps(err))
    assert isinstance(again, ValueError) and str(again) == "bad bias bbox"
