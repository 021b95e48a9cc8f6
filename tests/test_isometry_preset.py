"""The isometry preset (issue 15): at the tanh critical point with small q*, orthogonal weights
concentrate the input-output Jacobian's singular values (dynamical isometry) where Gaussian ones
spread them over orders of magnitude; larger q* loses it; ReLU with orthogonal weights does not
reach it. Spectra on small nets; training is the full preset's (docs/presets.md)."""
import numpy as np
import pytest

from fastinit import theory
from fastinit.study import isometry


@pytest.fixture(scope="module")
def small():
    return isometry.isometry_study(cases=isometry.PRESETS["isometry"]["cases"], depth=16, width=48, rows=6,
                                   steps=0, seeds=(0, 1))


def test_cases_sit_on_the_critical_line(small):
    for (label, weights), c in small.cells.items():
        if c["activation"] == "tanh":
            assert theory.chi1("tanh", c["sigma_w2"], c["sigma_b2"]) == pytest.approx(1.0, abs=1e-6)
    assert small.cells[("tanh, q* = 0.02", "orthogonal")]["q_star"] == pytest.approx(0.0203, abs=5e-4)


def test_orthogonal_tanh_at_small_q_is_isometric_and_gaussian_is_not(small):
    orth, gauss = small.cells[("tanh, q* = 0.02", "orthogonal")], small.cells[("tanh, q* = 0.02", "gaussian")]
    assert orth["sq_mean"] == pytest.approx(1.0, rel=0.2)        # chi_1 = 1: mean s^2 near 1 for both
    assert gauss["sq_mean"] == pytest.approx(1.0, rel=0.5)
    assert orth["sq_var"] < 0.3 and gauss["sq_var"] > 5 * orth["sq_var"] + 2
    assert orth["condition"] < 10 < gauss["condition"]
    big = small.cells[("tanh, q* = 1.46", "orthogonal")]
    assert big["sq_var"] > 5 * orth["sq_var"]                     # larger q*: isometry lost
    relu = small.cells[("relu", "orthogonal")]
    assert relu["sq_var"] > 5 * orth["sq_var"]                    # relu: orthogonality is not enough
    assert np.all(np.isfinite(orth["singular_values"])) and orth["singular_values"].size == 2 * 6 * 48


def test_summary_figure_and_refusals(small, tmp_path):
    assert "orthogonal" in isometry.summary(small)
    with pytest.raises(ValueError, match="depth"):
        isometry.isometry_study(cases=(), depth=0)
    with pytest.raises(ValueError, match="seeds"):
        isometry.isometry_study(cases=(), seeds=())
    pytest.importorskip("matplotlib")
    with open(isometry.plot_isometry(small, str(tmp_path / "i.png")), "rb") as f:
        assert f.read(4) == b"\x89PNG"


def test_training_reaches_the_target_sooner_with_orthogonal_tanh():
    pytest.importorskip("sklearn")
    r = isometry.isometry_study(cases=(("tanh, q* = 0.02", "tanh", 1e-5),), depth=16, width=48, rows=2,
                                steps=300, eval_every=25, seeds=(0,))
    o, g = r.cells[("tanh, q* = 0.02", "orthogonal")], r.cells[("tanh, q* = 0.02", "gaussian")]
    assert o["steps_to_target"][0] is not None
    assert g["steps_to_target"][0] is None or g["steps_to_target"][0] > o["steps_to_target"][0]
