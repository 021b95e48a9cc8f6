"""One run of a study: the initialized model, training, and the JSON-ready record of what was
measured."""
from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence
from typing import Any, TypedDict

from fastinit import diagnostics, train
from fastinit.ensemble import Ensemble, fit_ensemble
from fastinit.nn import MLP
from fastinit.study.plan import RunConfig, _dataset, make_optimizer

class LossCurve(TypedDict):
    step: list[int]
    loss: list[float]


class RunRecord(TypedDict):
    """What one run measured, JSON-ready (StudyResult.runs holds these)."""
    config: dict[str, Any]                 # the grid point (GRID_KEYS) and sizes, dataset, steps, target
    diag_init: diagnostics.Summary         # at initialization
    diag_end: diagnostics.Summary          # after training
    layers_init: list[dict[str, Any]]      # per layer at initialization: post stats, gradient norms
    loss_curve: LossCurve                  # at most ~500 points
    evals: list[train.EvalRecord]
    monitor: list[dict[str, Any]]          # over training, every eval_every steps: per-layer mean, saturation
    steps_to_target: int | None
    seconds_to_target: float | None
    wall_seconds: float
    final: dict[str, float | None]         # train/val loss and accuracy at the end
    diverged: bool
    warnings: list[str]


def initial_model(cfg: RunConfig) -> tuple[Any, MLP]:
    """The dataset and the initialized model a run starts from: a data-dependent init is
    finished on the first batch of rows (before the diagnostics at initialization)."""
    ds = _dataset(cfg.dataset, cfg.dataset_params)
    model = MLP(list(cfg.sizes), activation=cfg.activation, output=cfg.output, init=cfg.init, seed=cfg.seed,
                dtype=cfg.dtype)
    rows = slice(0, cfg.batch_size or len(ds.X_train))
    model.finish_init(ds.X_train[rows], ds.y_train[rows])
    return ds, model


def run(cfg: RunConfig) -> RunRecord:
    """Train one configuration; return a JSON-ready record (config, diagnostics at init and at
    the end, the history's curves, steps and seconds to the target). Warnings are kept in the
    record, not printed: a worker's would land in the middle of a progress bar or a table
    (StudyResult.warnings() lists them; the CLI prints them after the table)."""
    with _caught() as caught:
        ds, model, diag0 = _start(cfg)
        monitor = diagnostics.Monitor(every=cfg.eval_every)  # read from the training steps: cheap
        hist = train.fit(model, ds.X_train, ds.y_train, optimizer=make_optimizer(cfg.optimizer, cfg.lr, cfg.momentum),
                         steps=cfg.steps, batch_size=cfg.batch_size, shuffle=cfg.batch_size is not None,
                         seed=cfg.seed, validation_data=(ds.X_test, ds.y_test), target=cfg.target,
                         eval_every=cfg.eval_every, progress=False, callbacks=[monitor])
        if hist.interrupted:  # fit keeps a Ctrl-C to itself; a study stops on it
            raise KeyboardInterrupt
        rec = _record(cfg, ds, model, diag0, hist, monitor)
    return _with_warnings(rec, [str(w.message) for w in caught])


def run_group(cfgs: Sequence[RunConfig]) -> list[RunRecord]:
    """The records run(cfg) gives for each of cfgs (seconds aside), trained as one Ensemble
    (fit_ensemble): the configs share what plan.group_key holds (architecture, data, batch
    schedule, optimizer kind) and differ in init, seed, lr and momentum. A member's seconds
    are its own steps' in C (fit_ensemble's target_time), its wall_seconds the call's up to
    its end."""
    cfgs = list(cfgs)
    said: list[list[str]] = [[] for _ in cfgs]
    starts = []
    for j, cfg in enumerate(cfgs):
        with _caught() as caught:
            starts.append(_start(cfg))
        said[j] += [str(w.message) for w in caught]
    ds, cfg0 = starts[0][0], cfgs[0]
    ens = Ensemble([m for _, m, _ in starts])
    monitors = [diagnostics.Monitor(every=c.eval_every) for c in cfgs]
    with _caught() as caught:
        hists = fit_ensemble(ens, ds.X_train, ds.y_train,
                             optimizer=[make_optimizer(c.optimizer, c.lr, c.momentum) for c in cfgs],
                             steps=cfg0.steps, batch_size=cfg0.batch_size, shuffle=cfg0.batch_size is not None,
                             seed=[c.seed for c in cfgs], validation_data=(ds.X_test, ds.y_test),
                             target=[c.target for c in cfgs], eval_every=cfg0.eval_every, monitors=monitors)
    for w in caught:  # fit_ensemble says a member's warnings as "member j: ..."
        j, sep, text = str(w.message).partition(": ")
        who = int(j[7:]) if sep and j.startswith("member ") and j[7:].isdigit() else None
        for i in range(len(cfgs)) if who is None else (who,):
            said[i].append(text if who is not None else str(w.message))
    records = []
    for j, (cfg, (_, _, diag0), member, hist, mon) in enumerate(zip(cfgs, starts, ens.members, hists, monitors)):
        with _caught() as caught:
            rec = _record(cfg, ds, member, diag0, hist, mon)
        records.append(_with_warnings(rec, said[j] + [str(w.message) for w in caught]))
    return records


@contextlib.contextmanager
def _caught():
    """Every warning raised inside, recorded (a run keeps them in its record)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def _with_warnings(rec: RunRecord, messages: list[str]) -> RunRecord:
    said = set(rec["warnings"])
    rec["warnings"] += [m for m in dict.fromkeys(messages) if m not in said]
    return rec


def _start(cfg: RunConfig):
    """(dataset, initialized model, its diagnosis at initialization) of a run."""
    ds, model = initial_model(cfg)
    probe = slice(0, min(len(ds.X_train), 512))
    return ds, model, diagnostics.diagnose(model, ds.X_train[probe], ds.y_train[probe])


def _record(cfg: RunConfig, ds, model: MLP, diag0, hist: train.History, monitor: diagnostics.Monitor) -> RunRecord:
    """The JSON-ready record of a trained run (its diagnosis at the end is taken here)."""
    probe = slice(0, min(len(ds.X_train), 512))
    diag1 = diagnostics.diagnose(model, ds.X_train[probe], ds.y_train[probe])
    stride = max(1, len(hist.loss) // 500)  # keep curves light: at most ~500 points
    return {
        "config": {**cfg.label(), "sizes": list(cfg.sizes), "dataset": cfg.dataset, "steps": cfg.steps,
                   "target": cfg.target, "output": cfg.output, "dtype": cfg.dtype},
        "diag_init": diagnostics.summary(diag0),
        "diag_end": diagnostics.summary(diag1),
        "layers_init": [{"layer": l["layer"], "activation": l["activation"], "post": l["post"],
                         "grad_W_norm": l["grad_W_norm"], "grad_input_rms": l["grad_input_rms"]}
                        for l in diag0["layers"]],
        "loss_curve": {"step": list(range(1, len(hist.loss) + 1, stride)),
                       "loss": [float(v) for v in hist.loss[::stride]]},
        "evals": hist.evals,
        "monitor": [{k: m.get(k) for k in ("step", "loss", "layer_mean", "layer_saturated", "saturated")}
                    for m in monitor.records],
        "steps_to_target": hist.target_step,
        "seconds_to_target": hist.target_time,
        "wall_seconds": hist.wall_time,
        "final": {k: (hist.evals[-1].get(k) if hist.evals else None)
                  for k in ("train_loss", "train_acc", "val_loss", "val_acc")},
        "diverged": hist.diverged,
        "warnings": list(hist.warnings),
    }
