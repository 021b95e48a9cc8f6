"""What a study measured, aggregated per grid point: the table's columns, the verdicts and
StudyResult (table, text, JSON/CSV files)."""
from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field

import numpy as np

from fastinit import diagnostics
from fastinit.study import frames
from fastinit.study.columns import COLUMNS
from fastinit.study.plan import GRID_KEYS

def _verdict(rows_for_init, best_steps, has_target=True):
    """One word of VERDICTS for a group of runs (one init) from what was measured; without a
    target, only the causes (else "-")."""
    reached = [r["steps_to_target"] for r in rows_for_init if r["steps_to_target"] is not None]

    def median(values):
        values = [v for v in values if v is not None]
        return float(np.median(values)) if values else None

    if not all(r["diag_init"]["symmetry_broken"] for r in rows_for_init):
        return "symmetric"
    if any(r["diverged"] for r in rows_for_init):
        return "diverged"
    # The per-layer rate (median over seeds, as the table shows it) names the cause whether or
    # not the runs trained: 1.5 per layer explodes at any depth. Over fewer than
    # GROWTH_MIN_STEPS layer-to-layer steps one narrow layer's noise swamps a rate, and results
    # saved before it was recorded lack it: there, as before, the gradient ratio over the whole
    # depth, for runs that did not reach the target.
    act = median(r["diag_init"].get("activation_growth") for r in rows_for_init)
    grad = median(r["diag_init"].get("gradient_growth") for r in rows_for_init)
    steps = min(len(r.get("layers_init", ())) for r in rows_for_init) - 1
    if (act is not None or grad is not None) and steps >= diagnostics.GROWTH_MIN_STEPS:
        flow = diagnostics.growth_flow(act, grad)
    elif reached:
        flow = "ok"
    else:
        ratio = median(r["diag_init"]["gradient_ratio"] for r in rows_for_init)
        flow = "ok" if ratio is None else diagnostics._gradient_flow(ratio, 1.0, diagnostics.VANISHING,
                                                                        diagnostics.EXPLODING)[1]
    if not reached:
        curve = [v for r in rows_for_init for v in r["loss_curve"]["loss"][:1]]
        peak = max((max(r["loss_curve"]["loss"], default=0) for r in rows_for_init), default=0)
        if curve and peak > 100 * max(curve):
            return "exploded"
    if flow in ("vanishing", "exploding"):
        return flow
    if not reached:
        if (median(r["diag_end"]["dead"] for r in rows_for_init) or 0) >= 0.5:
            return "dead units"
        if (median(max(r["diag_init"]["saturated"] or 0, r["diag_end"]["saturated"] or 0)
                   for r in rows_for_init) or 0) > 0.5:
            return "saturated"
        return "slow" if has_target else "-"
    if len(reached) < len(rows_for_init):
        return "unreliable"
    return "fastest" if best_steps is not None and np.median(reached) <= best_steps else "trains"


@dataclass
class StudyResult:
    """All runs of a study and their aggregation per grid point (median and spread over seeds)."""
    runs: list  # of study.run.RunRecord
    settings: dict = field(default_factory=dict)

    def groups(self) -> dict:
        out = {}
        for r in self.runs:
            key = tuple((k, v) for k, v in r["config"].items() if k in GRID_KEYS and k != "seed")
            out.setdefault(key, []).append(r)
        return out

    @property
    def table(self) -> list[dict]:
        """One row per grid point: medians over seeds (min-max spread for steps to target)."""
        groups = self.groups()
        reached = [np.median([r["steps_to_target"] for r in g]) for g in groups.values()
                   if all(r["steps_to_target"] is not None for r in g)]
        best = min(reached) if reached else None
        rows = []
        for key, g in groups.items():
            steps = [r["steps_to_target"] for r in g if r["steps_to_target"] is not None]
            secs = [r["seconds_to_target"] for r in g if r["seconds_to_target"] is not None]
            med = lambda xs: float(np.median(xs)) if xs else None  # noqa: E731
            opt = lambda xs: [x for x in xs if x is not None]  # noqa: E731
            has_target = all(r["config"].get("target") is not None for r in g)
            rows.append({
                **dict(key), "seeds": len(g),
                "symmetry_broken": all(r["diag_init"]["symmetry_broken"] for r in g),
                "gradient_ratio": med(opt([r["diag_init"]["gradient_ratio"] for r in g])),
                "activation_growth": med(opt([r["diag_init"].get("activation_growth") for r in g])),
                "gradient_growth": med(opt([r["diag_init"].get("gradient_growth") for r in g])),
                "saturated": med(opt([r["diag_init"]["saturated"] for r in g])),
                "saturated_train": med(opt([max((m["saturated"] for m in r.get("monitor", ())
                                                 if m.get("saturated") is not None), default=None) for r in g])),
                "dead": med(opt([r["diag_init"]["dead"] for r in g])),
                "reached": f"{len(steps)}/{len(g)}" if has_target else "-",
                "steps_to_target": med(steps) if len(steps) == len(g) else None,
                "steps_min": min(steps) if steps else None, "steps_max": max(steps) if steps else None,
                "seconds_to_target": med(secs) if len(secs) == len(g) else None,
                "train_acc": med(opt([r["final"]["train_acc"] for r in g])),
                "test_acc": med(opt([r["final"]["val_acc"] for r in g])),
                "test_acc_min": min(opt([r["final"]["val_acc"] for r in g]), default=None),
                "test_acc_max": max(opt([r["final"]["val_acc"] for r in g]), default=None),
                "test_loss": med(opt([r["final"]["val_loss"] for r in g])),
                "verdict": _verdict(g, best, has_target),
            })
        return rows

    def warnings(self) -> list[str]:
        """Every run's warnings, "init (seed s): message", in run order (runs keep theirs instead
        of printing them from a worker)."""
        return [f"{r['config']['init']} (seed {r['config']['seed']}): {w}" for r in self.runs
                for w in r.get("warnings", [])]

    def table_cells(self) -> tuple[list[str], list[str], list[list[str]]]:
        """(column keys, headers, rows of formatted cells) of the table: the grid keys that vary
        (else init), then the COLUMNS."""
        rows = self.table
        varying = [k for k in GRID_KEYS if k != "seed" and len({r.get(k) for r in rows}) > 1] or ["init"]
        cols = varying + list(COLUMNS)

        def fmt(k, v, row):
            if k == "growth":
                a, b = row.get("activation_growth"), row.get("gradient_growth")
                return "-" if a is None and b is None else "/".join("-" if x is None else f"{x:.3g}" for x in (a, b))
            if v is None:
                return "never" if k in ("steps_to_target", "seconds_to_target") and row["reached"] != "-" else "-"
            if isinstance(v, bool):
                return "yes" if v else "NO"
            if k == "gradient_ratio":
                return f"{v:.2e}"
            if k in ("saturated", "saturated_train", "dead", "test_acc"):
                return f"{100 * v:.1f}%"
            if k == "seconds_to_target":
                return f"{v:.3f}"
            if isinstance(v, float):
                return f"{v:g}"
            return str(v)

        heads = [COLUMNS[c][0] if c in COLUMNS else c for c in cols]
        return cols, heads, [[fmt(c, r.get(c), r) for c in cols] for r in rows]

    def format_table(self) -> str:
        """The table as aligned text."""
        _, heads, body = self.table_cells()
        cells = [heads] + body
        widths = [max(len(row[i]) for row in cells) for i in range(len(heads))]
        lines = ["  ".join(s.ljust(w) for s, w in zip(row, widths)) for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def to_pandas(self, what: str = "runs"):
        """A pandas DataFrame: "runs" (one row per run, a column per setting and measurement),
        "summary" (the table) or "curves" (long format); see fastinit.study.frames."""
        return frames.to_pandas(self, what)

    def _repr_html_(self) -> str:
        return frames.html_table(self)

    def __repr__(self) -> str:
        return frames.text(self)

    def to_json(self) -> str:
        """settings, the table, then one run a line: readable and diffable, and written by json's
        C encoder (indent= makes json use its Python one: 0.2 s of the 1.2 s default study)."""
        def enc(v):
            return json.dumps(v, default=_json_default)
        runs = ",\n".join(enc(r) for r in self.runs)
        return f'{{"settings": {enc(self.settings)},\n"table": {enc(self.table)},\n"runs": [\n{runs}\n]}}\n'


    @classmethod
    def from_json(cls, text: str) -> "StudyResult":
        d = json.loads(text)
        if not isinstance(d, dict) or not isinstance(d.get("runs"), list):
            raise ValueError("not a fastinit study result (no list of runs)")
        if not isinstance(d.get("settings", {}), dict):
            raise ValueError("not a fastinit study result (settings is no object)")
        for i, r in enumerate(d["runs"]):
            if not isinstance(r, dict) or not isinstance(r.get("config"), dict):
                raise ValueError(f"not a fastinit study result (run {i} is no object with a config)")
        res = cls(d["runs"], d.get("settings", {}))
        try:
            res.table  # every field the table reads is there and of its type
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
            raise ValueError(f"not a fastinit study result (a run lacks or garbles {e})") from None
        return res

    def save(self, folder) -> dict:
        """Write results.json and results.csv into folder; returns their paths."""
        if not self.runs:
            raise ValueError("this study result holds no runs: nothing to save")
        os.makedirs(folder, exist_ok=True)
        paths = {"json": os.path.join(folder, "results.json"), "csv": os.path.join(folder, "results.csv")}
        with open(paths["json"], "w") as f:
            f.write(self.to_json())
        rows = self.table
        with open(paths["csv"], "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        return paths

    @classmethod
    def load(cls, path) -> "StudyResult":
        """The result saved in `path`: a results folder or its results.json."""
        path = os.path.join(path, "results.json") if os.path.isdir(path) else path
        with open(path) as f:
            text = f.read()
        try:
            return cls.from_json(text)
        except ValueError as e:  # json.JSONDecodeError too
            raise ValueError(f"{path}: {e}") from None


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")
