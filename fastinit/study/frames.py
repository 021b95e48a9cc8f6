"""A study's results as pandas DataFrames and as a notebook display (StudyResult.to_pandas,
_repr_html_, __repr__ call these). pandas is optional: only to_pandas needs it.

    >>> runs = res.to_pandas()                     # one row per run
    >>> res.to_pandas("summary")                   # one row per grid point, as the table
    >>> curves = res.to_pandas("curves")           # long format: run, settings, metric, step, value
    >>> curves[curves.metric == "val_acc"].groupby(["init", "step"]).value.median()
"""
from __future__ import annotations

import html
from typing import Any

from fastinit.study import report as _report
from fastinit.study.columns import COLUMNS
from fastinit.study.plan import GRID_KEYS

__all__ = ["KINDS", "curve_records", "html_table", "run_records", "text", "to_pandas"]

#: What to_pandas can return.
KINDS = ("runs", "summary", "curves")
_FINAL = ("train_loss", "train_acc", "val_loss", "val_acc")
_EVAL_METRICS = ("train_loss", "train_acc", "val_loss", "val_acc")


def _cell(v: Any) -> Any:
    """A value a DataFrame cell holds well: lists (layer sizes, per-layer counts) as tuples."""
    return tuple(_cell(x) for x in v) if isinstance(v, list) else v


def run_records(result: Any) -> list[dict[str, Any]]:
    """One dict per run: "run" (its index), every setting of its config, then the measurements:
    init_* and end_* (diagnostics at initialization and at the end), steps_to_target,
    seconds_to_target, wall_seconds, final_* (last evaluation), diverged, warnings (a count)."""
    rows = []
    for i, r in enumerate(result.runs):
        row: dict[str, Any] = {"run": i}
        row.update({k: _cell(v) for k, v in r["config"].items()})
        for prefix, key in (("init", "diag_init"), ("end", "diag_end")):
            row.update({f"{prefix}_{k}": _cell(v) for k, v in r.get(key, {}).items()})
        for k in ("steps_to_target", "seconds_to_target", "wall_seconds"):
            row[k] = r.get(k)
        row.update({f"final_{k}": r.get("final", {}).get(k) for k in _FINAL})
        row["diverged"] = bool(r.get("diverged"))
        row["warnings"] = len(r.get("warnings", []))
        rows.append(row)
    return rows


def curve_records(result: Any) -> list[dict[str, Any]]:
    """Long format, one dict per point: run, the grid settings (init, seed, depth, ...), metric,
    step, value. Metric "loss" is the training batch loss at each recorded step (thinned to at
    most ~500 points per run, as the study keeps it); train_loss, train_acc, val_loss, val_acc
    are the evaluations (step 0 is the initialization)."""
    out = []
    for i, r in enumerate(result.runs):
        key = {"run": i, **{k: _cell(r["config"].get(k)) for k in GRID_KEYS}}
        curve = r.get("loss_curve", {})
        for step, loss in zip(curve.get("step", []), curve.get("loss", [])):
            out.append({**key, "metric": "loss", "step": step, "value": loss})
        for e in r.get("evals", []):
            for m in _EVAL_METRICS:
                if e.get(m) is not None:
                    out.append({**key, "metric": m, "step": e["step"], "value": e[m]})
    return out


def to_pandas(result: Any, what: str = "runs") -> Any:
    """A pandas DataFrame of `result`: "runs" (run_records: one row per run, a column per
    setting and per measurement), "summary" (StudyResult.table: one row per grid point,
    medians over seeds, the verdict) or "curves" (curve_records, long format)."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("StudyResult.to_pandas needs pandas: pip install pandas (or fastinit[pandas])") from None
    if what not in KINDS:
        raise ValueError(f"what must be one of {', '.join(map(repr, KINDS))}; got {what!r}")
    if what == "runs":
        return pd.DataFrame(run_records(result))
    if what == "summary":
        return pd.DataFrame([{k: _cell(v) for k, v in row.items()} for row in result.table])
    columns = ["run", *GRID_KEYS, "metric", "step", "value"]
    return pd.DataFrame(curve_records(result), columns=columns)


def html_table(result: Any) -> str:
    """The table of report.html (verdicts coloured, column definitions on hover) for a notebook:
    styles inline, so nothing leaks into the page around it."""
    cols, heads, rows = result.table_cells()
    inits = {r["config"].get("init") for r in result.runs}
    seeds = {r["config"].get("seed") for r in result.runs}
    dataset = str(result.settings.get("dataset", "")).split(":")[0]
    caption = (f"fastinit study: {len(result.runs)} runs ({len(inits)} inits x {len(seeds)} seeds)"
               + (f" on {dataset}" if dataset else "")
               + ("; interrupted: " + str(result.settings["interrupted"]) if result.settings.get("interrupted") else ""))
    return f"<div><p>{html.escape(caption)}</p>{_report._table(cols, heads, rows, inline=True)}</div>"


def text(result: Any, limit: int = 6) -> str:
    """One line: how many runs, on what, and each grid point's verdict (the first `limit`)."""
    rows = result.table
    cols, _, cells = result.table_cells()
    label = [c for c in cols if c not in COLUMNS]
    verdicts = [" ".join(str(cell) for c, cell in zip(cols, row) if c in label) + f": {row[-1]}" for row in cells]
    more = f", ... ({len(verdicts) - limit} more)" if len(verdicts) > limit else ""
    dataset = str(result.settings.get("dataset", "")).split(":")[0]
    on = f" on {dataset}" if dataset else ""
    return (f"StudyResult({len(result.runs)} runs, {len(rows)} grid points{on}"
            + (f"; {', '.join(verdicts[:limit])}{more}" if verdicts else "") + ")")
