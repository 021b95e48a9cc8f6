"""The edge-of-chaos phase diagram (issue 15): on a tiny grid the trained cells lie under the
theory's 6 xi_c curve and shallow nets train on both sides of the critical line; the runner's
weights and biases have the variances it says; bad grids are refused by name. The full grid's
figure is in docs/presets.md."""
import math

import numpy as np
import pytest

from fastinit import theory
from fastinit.study import phase

pytest.importorskip("sklearn")  # the digits


@pytest.fixture(scope="module")
def tiny():
    # sigma_w^2 = 1 (ordered, 6 xi_c = 21.8) and 4 (chaotic, 6 xi_c = 41.9) bracket the critical
    # 1.761; depth 8 is under every curve, 60 above both ends' and under the critical one's.
    return phase.run_preset("edge-of-chaos", sigma_w2=(1.0, 1.761, 4.0), depths=(8, 60), width=64, steps=300,
                            lr=0.002)


def test_tiny_phase_diagram_trains_only_under_six_xi_c(tiny):
    assert tiny.accuracy.shape == (3, 2)
    assert np.allclose(tiny.xi_c, [theory.depth_scales("tanh", s, 0.05).xi_c for s in (1.0, 1.761, 4.0)])
    trained = tiny.trained()
    assert trained[:, 0].all(), tiny.accuracy           # shallow nets train in both phases
    assert not trained[0, 1] and not trained[2, 1], tiny.accuracy  # too deep for their xi_c
    assert trained[1, 1], tiny.accuracy                 # ... but not at the critical line
    assert not (trained & ~tiny.under_curve()).any(), tiny.accuracy
    # far from the critical line the deep nets stay near chance (10 classes)
    assert tiny.accuracy[0, 1] < 0.3 and tiny.accuracy[2, 1] < 0.3
    assert "trained cells above 6 xi_c: 0" in phase.summary(tiny)


def test_phase_figure_is_written(tiny, tmp_path):
    pytest.importorskip("matplotlib")
    path = phase.plot_phase(tiny, str(tmp_path / "phase.png"))
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_runner_draws_the_mean_field_variances(monkeypatch):
    """W ~ N(0, sigma_w^2 / fan_in), b ~ N(0, sigma_b^2): the members the runner trains."""
    seen = []
    real = phase.fit_ensemble

    def spy(ens, *a, **k):
        seen.append([(m.layers[1].W.copy(), m.layers[1].b.copy()) for m in ens.members])
        return real(ens, *a, **k)

    monkeypatch.setattr(phase, "fit_ensemble", spy)
    phase.phase_diagram(sigma_w2=(1.0, 3.0), depths=(2,), width=400, sigma_b2=0.3, steps=1)
    (w1, b1), (w3, b3) = seen[0]
    assert w1.var() * 400 == pytest.approx(1.0, rel=0.02) and w3.var() * 400 == pytest.approx(3.0, rel=0.02)
    assert math.isclose(np.concatenate([b1, b3]).var(), 0.3, rel_tol=0.15)


@pytest.mark.parametrize("kw, name", [(dict(sigma_w2=(), depths=(2,)), "sigma_w2"),
                                      (dict(sigma_w2=(-1.0,), depths=(2,)), "sigma_w2"),
                                      (dict(sigma_w2=(1.0,), depths=(0,)), "depths"),
                                      (dict(sigma_w2=(1.0,), depths=(2,), width=0), "width"),
                                      (dict(sigma_w2=(1.0,), depths=(2,), optimizer="lbfgs"), "optimizer")])
def test_bad_grids_are_refused_by_name(kw, name):
    with pytest.raises(ValueError, match=name):
        phase.phase_diagram(**kw)


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="unknown phase preset"):
        phase.run_preset("nope")


def test_cli_runs_a_phase_preset(tmp_path, capsys):
    from fastinit.study import cli

    rc = cli.main(["compare", "--preset", "edge-of-chaos", "--steps", "1", "--no-plots", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "sigma_w^2  6xi_c |    10    20    40    70   100" in out and "critical sigma_w^2 = 1.7610" in out
