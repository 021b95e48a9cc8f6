
import pytest

from support import HtmlCells

from fastinit import study
from fastinit.study import report


@pytest.fixture(scope="module")
def result():
    return study.compare(dataset="circles", inits=["zeros", "random_small", "he_normal"], sizes=[8], steps=400,
                         seeds=2, lr=0.5, target=0.8, eval_every=20, n_jobs=1, progress=False)


def test_report_has_the_table_explained_and_the_figures_embedded(result, tmp_path):
    png = tmp_path / "f.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    path = tmp_path / "report.html"
    report.write_html(result, {"loss_curves": png}, path)
    page = path.read_text()
    parser = HtmlCells()
    parser.feed(page)
    head, *rows = parser.rows
    cols, heads, cells = result.table_cells()
    assert [h for h, _ in head] == heads
    assert all(attrs.get("title") == study.COLUMNS[c][1] for c, (_, attrs) in zip(cols, head) if c in study.COLUMNS)
    assert [[v for v, _ in r] for r in rows] == cells
    verdicts = {r[-1][0]: r[-1][1].get("class") for r in rows}
    assert verdicts == {"symmetric": "bad", "slow": "mixed", "fastest": "good"}
    for word in verdicts:
        assert study.VERDICTS[word] in page
    assert study.VERDICTS["exploded"] not in page  # only the verdicts the table shows
    assert "data:image/png;base64,iVBORw0KGgpub3QgcmVhbGx5" in page and report.FIGURES["loss_curves"] in page
    assert "<b>network</b>: 2 - 8 - 2" in page and "<b>batch_size</b>: full batch" in page


def test_every_figure_of_plot_is_described():
    from fastinit.study import plot

    assert set(report.FIGURES) == {"loss_curves", "accuracy_curves", "activation_histograms", "gradient_flow",
                                   "steps_to_target", "layer_means"}
    assert set(report.FIGURES) <= set(plot.__all__)
