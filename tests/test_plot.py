import copy

import numpy as np
import pytest

pytest.importorskip("matplotlib")
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fastinit import study
from fastinit.study import plot  # noqa: E402


@pytest.fixture(scope="module")
def result():
    return study.compare(dataset="circles", inits=["zeros", "random_small", "he_normal"], sizes=[8, 8], steps=20,
                         seeds=2, lr=0.5, n_jobs=1, progress=False)


@pytest.fixture
def figures(monkeypatch):
    """The figures plot functions draw, kept open instead of closed so tests can read them."""
    kept = []
    monkeypatch.setattr(plt, "close", kept.append)
    return kept


def test_save_all_writes_every_figure(result, tmp_path):
    paths = plot.save_all(result, tmp_path)
    assert sorted(paths) == ["accuracy_curves", "activation_histograms", "gradient_flow", "layer_means",
                             "loss_curves", "steps_to_target"]
    for p in paths.values():
        with open(p, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_gradient_flow_plots_the_medians_of_both_gradients(result, tmp_path, figures):
    plot.gradient_flow(result, tmp_path / "g.png")
    left, right = figures[0].axes
    for ax, key in ((left, "grad_W_norm"), (right, "grad_input_rms")):
        lines = {l.get_label(): l for l in ax.get_lines()}
        assert sorted(lines) == ["he_normal", "random_small", "zeros"]
        for label, runs in result.groups().items():
            want = np.median([[l[key] for l in r["layers_init"]] for r in runs], axis=0)
            x, y = lines[dict(label)["init"]].get_data()
            assert list(x) == [1, 2, 3] and np.allclose(y, want, rtol=0, atol=0)
    # random_small: the input gradient shrinks towards the first layer (the table's ratio).
    y = dict((l.get_label(), l.get_ydata()) for l in right.get_lines())["random_small"]
    assert y[0] < 1e-2 * y[-1]


def test_gradient_flow_reads_results_saved_without_input_gradients(result, tmp_path, figures):
    old = copy.deepcopy(result)
    for r in old.runs:
        for layer in r["layers_init"]:
            del layer["grad_input_rms"]
    plot.gradient_flow(old, tmp_path / "g.png")
    assert all(np.isnan(l.get_ydata()).all() for l in figures[0].axes[1].get_lines())


def test_curves_stuck_on_one_value_stay_distinguishable(result, tmp_path, figures):
    plot.loss_curves(result, tmp_path / "l.png")
    styles = [l.get_linestyle() for l in figures[0].axes[0].get_lines()]
    assert len(set(styles)) == len(styles) == 3


def test_accuracy_curves_plot_the_median_test_accuracy_and_the_target(result, tmp_path, figures):
    plot.accuracy_curves(result, tmp_path / "a.png")
    lines = {l.get_label(): l for l in figures[0].axes[0].get_lines()}
    assert set(lines) == {"zeros", "random_small", "he_normal", f"target {result.settings['target']:g}"}
    for key, runs in result.groups().items():
        want = np.median([[e["val_acc"] for e in r["evals"]] for r in runs], axis=0)
        x, y = lines[dict(key)["init"]].get_data()
        assert list(x) == [e["step"] for e in runs[0]["evals"]] and np.allclose(y, want, rtol=0, atol=0)


def test_accuracy_curves_of_a_regression_study_are_empty_not_an_error(tmp_path, figures):
    res = study.compare(dataset="circles", inits=["he_normal"], sizes=[4], steps=5, seeds=1, output="identity",
                        target=None, n_jobs=1, progress=False)
    plot.accuracy_curves(res, tmp_path / "a.png")
    assert figures[0].axes[0].get_lines() == []


def test_steps_to_target_without_a_target_says_so(tmp_path, figures):
    res = study.compare(dataset="circles", inits=["he_normal"], sizes=[4], steps=5, seeds=1, target=None, n_jobs=1,
                        progress=False)
    plot.steps_to_target(res, tmp_path / "s.png")
    ax = figures[0].axes[0]
    assert not ax.patches and [t.get_text() for t in ax.texts] == ["no target was set for this study"]
