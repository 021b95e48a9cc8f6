"""StudyResult.to_pandas (runs, summary, curves), its notebook table and its short repr."""
import sys

import numpy as np
import pytest

from support import HtmlCells

from fastinit import study
from fastinit.study import report

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def result():
    return study.compare(dataset="circles", inits=["zeros", "he_normal"], sizes=[8], steps=120, seeds=2,
                         lr=0.5, target=0.7, eval_every=40, n_jobs=1, progress=False)


def test_runs_frame_has_a_row_per_run_and_a_column_per_setting_and_measurement(result):
    df = result.to_pandas()
    assert isinstance(df, pd.DataFrame) and len(df) == len(result.runs) == 4
    for i, r in enumerate(result.runs):
        row = df.iloc[i]
        assert row["run"] == i
        for k, v in r["config"].items():
            assert row[k] == (tuple(v) if isinstance(v, list) else v) or (v is None and row[k] is None), k
        assert row["init_symmetry_broken"] == r["diag_init"]["symmetry_broken"]
        assert row["end_loss"] == r["diag_end"]["loss"]
        assert row["final_val_acc"] == r["final"]["val_acc"]
        assert row["warnings"] == len(r["warnings"])
    assert {"steps_to_target", "seconds_to_target", "wall_seconds", "diverged", "init_dead"} <= set(df.columns)
    assert df.groupby("init")["final_val_acc"].median()["zeros"] == 0.5  # zeros never breaks symmetry


def test_summary_frame_is_the_table(result):
    df = result.to_pandas("summary")
    table = result.table
    assert len(df) == len(table) and list(df.columns) == list(table[0])
    assert list(df["verdict"]) == [r["verdict"] for r in table] == ["symmetric", "fastest"]


def test_curves_are_long_format(result):
    df = result.to_pandas("curves")
    assert list(df.columns) == ["run", *study.GRID_KEYS, "metric", "step", "value"]
    loss = df[df.metric == "loss"]
    assert len(loss) == sum(len(r["loss_curve"]["loss"]) for r in result.runs)
    evals = df[df.metric == "val_acc"]
    assert sorted(set(evals.step)) == [0, 40, 80, 120]
    med = evals.groupby(["init", "step"]).value.median()
    he = [r["evals"][0]["val_acc"] for r in result.runs if r["config"]["init"] == "he_normal"]
    assert med[("zeros", 120)] == 0.5 and med[("he_normal", 0)] == pytest.approx(np.median(he))


def test_loaded_result_gives_the_same_frames(result, tmp_path):
    result.save(tmp_path)
    back = study.StudyResult.load(tmp_path)
    pd.testing.assert_frame_equal(back.to_pandas(), result.to_pandas())
    pd.testing.assert_frame_equal(back.to_pandas("curves"), result.to_pandas("curves"))


def test_unknown_kind_and_missing_pandas(result, monkeypatch):
    with pytest.raises(ValueError, match="what must be one of 'runs', 'summary', 'curves'"):
        result.to_pandas("table")
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"needs pandas: pip install pandas"):
        result.to_pandas()


def test_notebook_table_is_the_report_table_with_inline_colours(result):
    page = result._repr_html_()
    p = HtmlCells()
    p.feed(page)
    assert "style" not in p.tags and "script" not in p.tags  # nothing that restyles the notebook
    cols, heads, rows = result.table_cells()
    assert [c[0] for c in p.rows[0]] == heads
    assert p.rows[0][cols.index("verdict")][1]["title"] == study.COLUMNS["verdict"][1]
    assert [[c[0] for c in r] for r in p.rows[1:]] == rows
    colours = [r[cols.index("verdict")][1].get("style") for r in p.rows[1:]]
    assert colours == [f"background:{report._COLOURS['bad']}", f"background:{report._COLOURS['good']}"]
    # the HTML report's table: the same cells, coloured by class
    assert report._table(cols, heads, rows).count('class="bad"') == 1
    assert "4 runs (2 inits x 2 seeds) on circles" in page


def test_short_repr(result):
    text = repr(result)
    assert text == "StudyResult(4 runs, 2 grid points on circles; zeros: symmetric, he_normal: fastest)"
    assert repr(study.StudyResult([])) == "StudyResult(0 runs, 0 grid points)"


def test_table_is_a_property_and_the_package_reaches_plot_and_report():
    import fastinit

    res = fastinit.study.compare("circles", ["he_normal"], sizes=[4], steps=5, seeds=1, n_jobs=1, progress=False)
    assert res.table[0]["init"] == "he_normal"
    assert fastinit.study.plot.save_all and fastinit.study.report.write_html
    assert len(repr(res)) < 400 and "train" in repr(fastinit.data.load("circles"))
