"""The gains preset (issue 15): in deep GELU and SiLU nets relu's gain (PyTorch users' fallback,
and the critical gain, its asymptote) makes the pre-activation variance vanish layer by layer as
the length map predicts; the moment gain holds q = 1 in theory, an unstable fixed point of the
length map (slope > 1), so a finite net drifts off it and grows."""
import numpy as np
import pytest

from fastinit import init, theory
from fastinit.study import gains


@pytest.fixture(scope="module")
def small():
    return gains.gain_study(activations=("gelu", "silu"), depth=20, width=200, rows=64, seeds=(0, 1))


def test_relu_fallback_vanishes_as_the_length_map_says(small):
    for act in ("gelu", "silu"):
        q, pred = small.q[act]["relu"], small.theory[act]["relu"]
        assert q.shape == (2, 20)
        assert np.allclose(q[:, 0], 1.0, rtol=0.05)                      # gain-1 first layer
        assert np.all(np.diff(np.median(q, axis=0)) < 0)                 # shrinks at every layer
        # the per-layer rate matches the theory's to a few percent (20 layers, width 200)
        rate, rate_th = (np.median(q, axis=0)[-1] / q[:, 0].mean()) ** (1 / 19), (pred[-1] / pred[0]) ** (1 / 19)
        assert rate == pytest.approx(rate_th, rel=0.03)
        assert rate < 0.75
        assert small.gain[act]["relu"] == small.gain[act]["critical"] == pytest.approx(np.sqrt(2))


def test_moment_gain_is_an_unstable_fixed_point(small):
    for act in ("gelu", "silu"):
        g = init.calculate_gain(act, method="moment")
        assert theory.length_map(act, g * g, 0.0, 1.0) == pytest.approx(1.0, abs=1e-6)
        slope = (theory.length_map(act, g * g, 0.0, 1.001) - theory.length_map(act, g * g, 0.0, 0.999)) / 0.002
        assert slope > 1.1
        assert np.allclose(small.theory[act]["moment"], 1.0, atol=1e-6)
        q = np.median(small.q[act]["moment"], axis=0)
        assert 0.5 < q[4] < 2 and q[-1] > q[4]                           # held a while, then drifts up


def test_summary_and_figure(small, tmp_path):
    text = gains.summary(small)
    assert "gelu" in text and "moment 1.5335" in text
    pytest.importorskip("matplotlib")
    with open(gains.plot_gains(small, str(tmp_path / "g.png")), "rb") as f:
        assert f.read(4) == b"\x89PNG"


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match="methods"):
        gains.gain_study(methods=("torch",), depth=2, width=4)
    with pytest.raises(ValueError, match="depth"):
        gains.gain_study(depth=0)
    with pytest.raises(ValueError, match="rows"):
        gains.gain_study(rows=1, depth=2, width=4)
