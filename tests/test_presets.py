"""Presets that reproduce what they claim (issue 16, items 2-6, 9-11): the course exactly, verdicts
from the per-layer rate, diagnostics over training, the source's figure beside ours, warnings
after the table. Long preset runs belong in docs/presets.md; these are the short checks."""
import math
import sys
import warnings

import numpy as np
import pytest

from fastinit import data, diagnostics
from fastinit.init.course import course_weights
from fastinit.nn import MLP
from fastinit.study import cli, executor, presets, results

COURSE_HE_COST_14000 = 0.07357895962677366  # the course's cost, as its float64 NumPy code computes it


def _preset(name, **override):
    kw = {**presets.PRESETS[name], **override}
    return executor.compare(inits=kw.pop("inits"), n_jobs=1, progress=False, **kw)


# ----------------------------------------------------------------------------- item 2: the course

def test_course_weights_are_the_course_draws_from_one_generator():
    state = np.random.get_state()
    try:
        for kind, factor in (("he", lambda n: np.sqrt(2.0 / n)), ("random", lambda n: 10.0)):
            np.random.seed(3)  # as the notebook's initialize_parameters_<kind>
            expected = [np.random.randn(o, i) * factor(i) for i, o in ((2, 10), (10, 5), (5, 1))]
            got = course_weights([2, 10, 5, 1], kind, seed=3)
            for (W, b), E in zip(got, expected):
                assert np.array_equal(W, E) and not b.any()
    finally:
        np.random.set_state(state)
    assert all(not W.any() for W, _ in course_weights([2, 10, 5, 1], "zeros"))
    with pytest.raises(ValueError, match="kind must be one of"):
        course_weights([2, 3], "xavier")


def test_course_init_finishes_on_the_model_and_leaves_the_global_generator_alone():
    before = np.random.get_state()[1].copy()
    m = MLP([2, 10, 5, 1], output="sigmoid", init="course:kind=he", seed=3, dtype=np.float64)
    assert m.pending_init == "course" and not m.layers[0].W.any()  # nothing drawn before the model is known
    m.finish_init(np.zeros((4, 2)))
    for layer, (W, _) in zip(m.layers, course_weights([2, 10, 5, 1], "he", 3)):
        assert np.array_equal(layer.W, W)
    assert np.array_equal(np.random.get_state()[1], before)


def test_course_circles_are_sklearns_after_the_course_seeds():
    datasets = pytest.importorskip("sklearn.datasets")
    state = np.random.get_state()
    try:
        np.random.seed(1)
        X, y = datasets.make_circles(n_samples=300, noise=.05)
        np.random.seed(2)
        Xt, yt = datasets.make_circles(n_samples=100, noise=.05)
    finally:
        np.random.set_state(state)
    ds = data.load("course_circles")
    assert ds.X_train.dtype == np.float64 and "course's data" in ds.name
    assert np.array_equal(ds.X_train, X) and np.array_equal(ds.y_train, y)
    assert np.array_equal(ds.X_test, Xt) and np.array_equal(ds.y_test, yt)


def test_course_preset_reproduces_the_course_exactly():
    pytest.importorskip("sklearn")
    res = _preset("course")
    rows = {r["init"]: r for r in res.table}
    zeros, rnd, he = (rows[f"course:kind={k}"] for k in ("zeros", "random", "he"))
    assert (zeros["train_acc"], zeros["test_acc"]) == (0.5, 0.5)
    assert (rnd["train_acc"], rnd["test_acc"]) == (0.83, 0.86)
    assert he["train_acc"] == pytest.approx(298 / 300, abs=1e-12) and he["test_acc"] == 0.96
    runs = {r["config"]["init"]: r for r in res.runs}
    cost = {e["step"]: e["train_loss"] for e in runs["course:kind=he"]["evals"]}
    assert cost[14000] == pytest.approx(COURSE_HE_COST_14000, abs=1e-15)  # the published 0.0735790
    assert all(abs(e["train_loss"] - math.log(2)) < 1e-14 for e in runs["course:kind=zeros"]["evals"])
    text = presets.beside("course", res)
    assert "99.333% / 96%" in text and "ours: train 99.3% / test 96%" in text and "at 14000: ours 0.0735789596" in text
    assert "approximation" not in text


def test_without_sklearn_the_course_says_its_circles_are_an_approximation(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # import fails
    monkeypatch.setattr(sys.modules["fastinit.study.plan"], "_DATA_CACHE", {})
    ds = data.course_circles()
    assert "approximates the course's data" in ds.name and ds.X_train.shape == (300, 2)
    res = _preset("course", steps=20, eval_every=10, inits=["course:kind=he"])
    assert "an approximation of the course's data" in presets.course_costs(res)


def test_course_seeds_variant_shows_the_spread():
    res = _preset("course-seeds", steps=300, inits=["course:kind=random"], seeds=3)
    row = res.table[0]
    assert row["seeds"] == 3 and row["test_acc_min"] <= row["test_acc"] <= row["test_acc_max"]
    assert "median over 3 seeds" in presets.beside("course-seeds", res)


# ----------------------------------------------------------------------------- item 3: per-layer rate

def test_growth_flow_is_a_rate_with_a_tolerance():
    tol = diagnostics.GROWTH_TOL
    assert diagnostics.growth_flow(1.5, 1.0) == "exploding" and diagnostics.growth_flow(1.0, 0.5) == "vanishing"
    assert diagnostics.growth_flow(1 + tol / 2, 1 / (1 + tol / 2)) == "ok"
    assert diagnostics.growth_flow(None, None) == "ok"


@pytest.mark.parametrize("depth", [3, 10])
def test_layer_growth_of_a_linear_chain_is_the_gain_at_any_depth(depth):
    m = MLP([2] + [2] * depth + [2], activation="identity", init="identity:gain=1.5")
    X = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    act, grad = diagnostics.layer_growth(diagnostics.diagnose(m, X, np.arange(64) % 2))
    assert act == pytest.approx(1.5, rel=1e-4) and grad == pytest.approx(1.5, rel=1e-4)


def test_linear_depth_verdicts_follow_the_rate_and_40_layers_break_training():
    rows = {r["init"]: r for r in _preset("linear-depth", steps=20).table}
    assert rows["identity:gain=1.5"]["gradient_growth"] == pytest.approx(1.5, rel=1e-4)
    # 1.5^10 = 58 stays under the old 100x threshold: the rate says it explodes, though it trains
    assert rows["identity:gain=1.5"]["verdict"] == "exploding" and rows["identity:gain=1.5"]["test_acc"] > 0.9
    assert rows["identity:gain=0.5"]["verdict"] == "vanishing" and rows["identity"]["verdict"] == "fastest"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the diverged run's, said once by compare
        deep = {r["init"]: r for r in _preset("linear-depth-40", steps=20).table}
    assert deep["identity:gain=1.5"]["verdict"] in ("diverged", "exploded", "exploding")
    assert deep["identity:gain=1.5"]["test_acc"] < 0.9 <= deep["identity"]["test_acc"]


def test_a_run_that_trained_with_exploding_growth_is_called_exploding():
    diag = {"symmetry_broken": True, "gradient_ratio": 57.7, "dead": None, "saturated": None,
            "activation_growth": 1.5, "gradient_growth": 1.5}
    run = {"steps_to_target": 10, "diverged": False, "diag_init": diag, "diag_end": diag,
           "loss_curve": {"loss": [0.7, 0.1]}, "layers_init": [{}] * 11}
    assert results._verdict([run], 10) == "exploding"
    ok = {**diag, "activation_growth": 1.0, "gradient_growth": 1.05}
    assert results._verdict([{**run, "diag_init": ok}], 10) == "fastest"
    # two layers: a rate is noise there, and a run that trained keeps its outcome
    assert results._verdict([{**run, "layers_init": [{}] * 2}], 10) == "fastest"


# ----------------------------------------------------------------------------- item 11: warnings

def test_warnings_of_runs_are_kept_and_printed_after_the_table(tmp_path, capsys):
    rc = cli.main(["compare", "--preset", "linear-depth-40", "--steps", "5", "--inits", "identity:gain=1.5,identity",
                   "--jobs", "1", "--no-plots", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert rc == 0 and "diverged" not in err  # nothing printed from inside the runs
    table_end = out.index("source:")
    assert out.index("warning(s) from the runs") > table_end and "loss became nan" in out[table_end:]


# ----------------------------------------------------------------------------- items 4, 6, 9, 10: plots

@pytest.fixture
def figures(monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    kept = []
    monkeypatch.setattr(plt, "close", kept.append)
    return kept


@pytest.fixture(scope="module")
def sigmoid_study():
    return executor.compare("digits" if _has("sklearn") else "spirals", ["torch_default", "xavier_uniform"], depth=4,
                            width=32, activation="sigmoid", lr=0.1, batch_size=32, steps=150, eval_every=25, seeds=2,
                            target=0.9, n_jobs=1, progress=False)


def _has(mod):
    import importlib.util
    return importlib.util.find_spec(mod) is not None


def test_diagnostics_over_training_reach_the_table_and_a_plot(sigmoid_study, tmp_path, figures):
    from fastinit.study import plot

    run = sigmoid_study.runs[0]
    assert [m["step"] for m in run["monitor"]][:3] == [0, 25, 50] and len(run["monitor"][0]["layer_mean"]) == 4
    assert all(0 <= v <= 1 for m in run["monitor"] for v in m["layer_saturated"])
    row = sigmoid_study.table[0]
    peak = np.median([max(m["saturated"] for m in r["monitor"]) for r in sigmoid_study.groups()[
        next(iter(sigmoid_study.groups()))]])
    assert row["saturated_train"] == pytest.approx(peak)
    plot.layer_means(sigmoid_study, tmp_path / "m.png")
    mean_ax = figures[0].axes[0]
    assert len(mean_ax.get_lines()) == 4
    assert "over 2 seeds" in figures[0]._suptitle.get_text()


def test_plots_say_the_true_number_of_seeds(sigmoid_study, tmp_path, figures):
    from fastinit.study import plot

    plot.loss_curves(sigmoid_study, tmp_path / "l.png")
    assert "median over 2 seeds, band: min-max" in figures[-1].axes[0].get_title()
    one = _preset("course", steps=10, eval_every=5, inits=["course:kind=he"])
    plot.accuracy_curves(one, tmp_path / "a.png")
    assert "(1 seed)" in figures[-1].axes[0].get_title()


def test_histograms_give_each_layer_its_own_range(sigmoid_study, tmp_path, figures):
    from fastinit.study import plot

    plot.activation_histograms(sigmoid_study, tmp_path / "h.png")
    axes = figures[0].axes
    ranges = {tuple(np.round(ax.get_xlim(), 6)) for ax in axes}
    assert len(ranges) > 2  # not one per row
    assert any("sat." in t.get_text() for ax in axes for t in ax.texts)


def test_overlapping_curves_get_markers_and_never_is_no_bar(tmp_path, figures):
    from fastinit.study import plot

    res = executor.compare("circles", ["zeros", "random_small", "he_normal"], sizes=[8, 8], steps=20, seeds=1,
                           n_jobs=1, progress=False, target=0.99)
    plot.loss_curves(res, tmp_path / "l.png")
    markers = [l.get_marker() for l in figures[-1].axes[0].get_lines()]
    assert len(set(markers)) == 3
    plot.steps_to_target(res, tmp_path / "s.png")
    ax = figures[-1].axes[0]
    assert all(b.get_height() == 0 for b in ax.patches)  # none reached: no bar pretends a value
    assert [t.get_text() for t in ax.texts] == ["never"] * 3


def test_glorot2010_fig2_top_sigmoid_layer_falls_towards_0_early_and_recovers_slowly():
    pytest.importorskip("sklearn")
    res = _preset("glorot2010-fig2", steps=2000, seeds=[1], inits=["torch_default"])
    mon = res.runs[0]["monitor"]
    top = np.array([m["layer_mean"][-1] for m in mon])
    low = np.array([m["layer_mean"][:2] for m in mon])
    steps = np.array([m["step"] for m in mon])
    assert top[0] == pytest.approx(0.5, abs=0.05)
    assert top[steps == 300][0] < 0.05  # early: the top layer sits near 0 ...
    assert np.all(np.abs(low - 0.5) < 0.15)  # ... while the lower layers stay near 0.5
    assert top[-1] > 2 * top.min()  # and it has begun to recover by step 2000


def test_a_preset_records_its_source_beside_ours_in_the_files(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    import json

    assert cli.main(["compare", "--preset", "linear-depth", "--steps", "3", "--jobs", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "source: a linear chain" in out and "growth 1.5 per layer: explodes" in out
    settings = json.loads((tmp_path / "results.json").read_text())["settings"]
    assert settings["preset"] == "linear-depth" and "ours: train" in settings["source"]
    assert "growth 1.5 per layer: explodes" in (tmp_path / "report.html").read_text()
