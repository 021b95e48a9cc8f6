"""The self-contained HTML report of a study: what was run, the table with every column and
verdict explained, and the figures (embedded PNG) with what to look for in each. One file that
opens anywhere, with nothing to fetch."""
from __future__ import annotations

import base64
import datetime
import html

from fastinit import runtime
from fastinit._version import __version__
from fastinit.study import columns as _columns

__all__ = ["write_html"]

#: What each figure of fastinit.plot shows, and what to look for.
FIGURES = {
    "loss_curves": "Training loss per step, median over seeds with the min-max band. A flat line at "
                   "the start value is a network that does not learn (symmetric or vanishing); spikes "
                   "are steps too large for where the weights are.",
    "accuracy_curves": "Test accuracy at each evaluation, median over seeds with the min-max band; the "
                       "dashed line is the target. Each seed's first evaluation at or above it is that "
                       "seed's steps to target (the table gives their median); a curve that stays at "
                       "chance never learned.",
    "activation_histograms": "Each layer's outputs at initialization on a training batch, one row per "
                             "initialization, each panel its own x range (printed in it, with the saturated fraction). Healthy: a spread that holds across "
                             "the layers. Shrinking to a spike at 0: the signal vanishes; spreading "
                             "wider and wider, or piling up at the tails of tanh/sigmoid: it explodes "
                             "or saturates.",
    "gradient_flow": "Per layer at initialization: left, the norm of the loss gradient for W; right, "
                     "the rms gradient reaching the layer's input (the grad ratio of the table is "
                     "first over last of the right panel). Lines that fall towards layer 1 vanish, "
                     "lines that rise explode.",
    "steps_to_target": "Median training steps to the target per initialization; 'never' (no bar): not "
                       "reached in every seed.",
    "layer_means": "Per hidden layer over training: the mean output and the fraction of saturated "
                   "tanh/sigmoid outputs (Glorot & Bengio 2010, Figure 2).",
}

_GOOD, _MIXED = {"fastest", "trains"}, {"unreliable", "slow"}
#: A verdict cell's colour by its class (the page's style sheet, or inline in a notebook).
_COLOURS = {"good": "#d9f2d9", "mixed": "#fff1c7", "bad": "#f9d6d5"}

_STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}th[title]{cursor:help}
""" + "".join(f".{k}{{background:{v}}}" for k, v in _COLOURS.items()) + """
img{max-width:100%}dt{font-weight:bold}dd{margin:0 0 .5em 1.5em}.note{color:#555}footer{color:#777;margin-top:3em}"""


def _value(key, v):
    """A setting as a reader writes it: a list of one as its value, a batch size of None as
    'full batch', another None as 'none'."""
    if isinstance(v, (list, tuple)) and len(v) == 1:
        v = v[0]
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(key, x) for x in v)
    return str(v) if v is not None else "full batch" if key == "batch_size" else "none"


def _settings(result) -> dict:
    out = {k: _value(k, v) for k, v in result.settings.items()}
    if result.runs:  # the network, which the settings leave to the runs' configs
        cfg = result.runs[0]["config"]
        out.setdefault("network", " - ".join(str(s) for s in cfg.get("sizes", [])))
        out.setdefault("seeds", str(len({r["config"].get("seed") for r in result.runs})))
    return out


def _table(cols, heads, rows, inline=False) -> str:
    """The results table; inline: colours in style attributes (a notebook, no style sheet)."""
    th = "".join(f'<th title="{html.escape(_columns.COLUMNS[c][1])}">{html.escape(h)}</th>' if c in _columns.COLUMNS
                 else f"<th>{html.escape(h)}</th>" for c, h in zip(cols, heads))
    body = []
    for row in rows:
        cells = []
        for c, v in zip(cols, row):
            kind = None if c != "verdict" or v == "-" else "good" if v in _GOOD else "mixed" if v in _MIXED else "bad"
            cls = "" if kind is None else f' style="background:{_COLOURS[kind]}"' if inline else f' class="{kind}"'
            cells.append(f"<td{cls}>{html.escape(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{th}</tr>{''.join(body)}</table>"


def _definitions(items) -> str:
    return "<dl>" + "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in items) + "</dl>"


def write_html(result, figures: dict, path) -> None:
    """Write the report of `result` (a study.StudyResult) to `path`, embedding the PNG files of
    `figures` (name -> path, as plot.save_all returns)."""
    settings = "".join(f"<li><b>{html.escape(str(k))}</b>: {html.escape(v)}</li>" for k, v in _settings(result).items())
    cols, heads, rows = result.table_cells()
    shown = {row[-1] for row in rows}
    verdicts = [(k, v) for k, v in _columns.VERDICTS.items() if k in shown]
    figs = []
    for name, png in figures.items():
        with open(png, "rb") as f:
            data = base64.b64encode(f.read()).decode()
        figs.append(f"<h2>{html.escape(name.replace('_', ' '))}</h2>"
                    f"<p class=\"note\">{html.escape(FIGURES.get(name, ''))}</p>"
                    f"<img alt=\"{html.escape(name)}\" src=\"data:image/png;base64,{data}\">")
    k = runtime.kernel_info()
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>fastinit: init study</title>
<style>{_STYLE}</style></head><body><h1>What each initialization does</h1>
<ul>{settings}</ul>
<h2>Results</h2>{_table(cols, heads, rows)}
<p class="note">Medians over seeds; hover a column header for its definition.</p>
<h3>Columns</h3>{_definitions((h, _columns.COLUMNS[c][1]) for c, h in zip(cols, heads) if c in _columns.COLUMNS)}
<h3>Verdicts in this table</h3>{_definitions(verdicts)}
{''.join(figs)}
<footer>fastinit {html.escape(__version__)}, kernel {html.escape(k['kernel'])}, {k['threads']} thread(s);
written {stamp}. The same seeds give the same numbers, except the seconds.</footer></body></html>"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
