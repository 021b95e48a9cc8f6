"""The init study: train the same network from several initializations and seeds, measure what
each one does, and aggregate.

    >>> res = fastinit.study.compare("circles", ["zeros", "xavier_normal", "he_normal"], seeds=3)
    >>> print(res.format_table()); res.save("results/")

Runs are independent and fully seeded, so a result does not depend on which executor ran it or
in what order: the default is a local process pool; any concurrent.futures.Executor works,
e.g. a Dask cluster's `Client(address).get_executor(pure=False)`.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import csv
import importlib
import itertools
import json
import multiprocessing
import numbers
import os
import shutil
import signal
import sys
import tempfile
import threading
import warnings
from dataclasses import dataclass, field

import numpy as np

from fastinit import _progress as _progress_bar
from fastinit import diagnostics
from fastinit._names import unknown

__all__ = ["RunConfig", "StudyResult", "compare", "run", "plan", "initial_model", "make_optimizer", "DEFAULT_INITS"]

DEFAULT_INITS = ("zeros", "random_small", "random_large", "xavier_normal", "he_normal")
GRID_KEYS = ("init", "seed", "depth", "width", "activation", "lr", "batch_size", "optimizer")


@dataclass(frozen=True)
class RunConfig:
    """One training run of the study grid (all plain values: it crosses process boundaries)."""
    dataset: str
    dataset_params: tuple
    init: str
    seed: int
    sizes: tuple
    activation: str
    output: str
    optimizer: str
    lr: float
    momentum: float
    batch_size: int | None
    steps: int
    target: float | None
    eval_every: int
    depth: int | None = None
    width: int | None = None

    def label(self) -> dict:
        return {k: getattr(self, k) for k in GRID_KEYS}


_DATA_CACHE: dict = {}


def _dataset(name, params):
    from fastinit import data

    key = (name, params)
    if key not in _DATA_CACHE:
        _DATA_CACHE[key] = data.load(name, **dict(params))
    return _DATA_CACHE[key]


OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw")


def make_optimizer(name: str, lr: float, momentum: float = 0.0):
    """The fastinit optimizer a study names: sgd (with `momentum`), momentum and nesterov
    (momentum 0.9 unless given), adam, adamw."""
    from fastinit import optim

    key = str(name).lower()
    if key == "sgd":
        return optim.SGD(lr, momentum=momentum)
    if key in ("momentum", "nesterov"):
        return optim.SGD(lr, momentum=momentum or 0.9, nesterov=key == "nesterov")
    if key == "adam":
        return optim.Adam(lr)
    if key == "adamw":
        return optim.AdamW(lr)
    raise unknown("optimizer", name, OPTIMIZERS)


def initial_model(cfg: RunConfig):
    """The dataset and the initialized model a run starts from (LSUV done on the first batch)."""
    import fastinit

    ds = _dataset(cfg.dataset, cfg.dataset_params)
    model = fastinit.MLP(list(cfg.sizes), activation=cfg.activation, output=cfg.output, init=cfg.init, seed=cfg.seed)
    if model.pending_init:
        fastinit.init.lsuv(model, ds.X_train[: cfg.batch_size or len(ds.X_train)])
    return ds, model


def run(cfg: RunConfig) -> dict:
    """Train one configuration; return a JSON-ready record (config, diagnostics at init and at
    the end, the history's curves, steps and seconds to the target)."""
    import fastinit

    ds, model = initial_model(cfg)
    output = cfg.output
    y_tr, y_te = ds.y_train, ds.y_test
    probe = slice(0, min(len(ds.X_train), 512))
    diag0 = diagnostics.diagnose(model, ds.X_train[probe], y_tr[probe])
    hist = fastinit.fit(model, ds.X_train, y_tr, optimizer=make_optimizer(cfg.optimizer, cfg.lr, cfg.momentum),
                        steps=cfg.steps, batch_size=cfg.batch_size, shuffle=cfg.batch_size is not None,
                        seed=cfg.seed, validation_data=(ds.X_test, y_te), target=cfg.target,
                        eval_every=cfg.eval_every, progress=False)
    if hist.interrupted:  # fit keeps a Ctrl-C to itself; a study stops on it
        raise KeyboardInterrupt
    diag1 = diagnostics.diagnose(model, ds.X_train[probe], y_tr[probe])
    stride = max(1, len(hist.loss) // 500)  # keep curves light: at most ~500 points
    return {
        "config": {**cfg.label(), "sizes": list(cfg.sizes), "dataset": cfg.dataset, "steps": cfg.steps,
                   "target": cfg.target, "output": output},
        "diag_init": diagnostics.summary(diag0),
        "diag_end": diagnostics.summary(diag1),
        "layers_init": [{"layer": l["layer"], "activation": l["activation"], "post": l["post"],
                         "grad_W_norm": l["grad_W_norm"], "grad_input_rms": l["grad_input_rms"]}
                        for l in diag0["layers"]],
        "loss_curve": {"step": list(range(1, len(hist.loss) + 1, stride)),
                       "loss": [float(v) for v in hist.loss[::stride]]},
        "evals": hist.evals,
        "steps_to_target": hist.target_step,
        "seconds_to_target": hist.target_time,
        "wall_seconds": hist.wall_time,
        "final": {k: (hist.evals[-1].get(k) if hist.evals else None)
                  for k in ("train_loss", "train_acc", "val_loss", "val_acc")},
        "diverged": hist.diverged,
        "warnings": hist.warnings,
    }


#: The table's measured columns: key -> (header, what it is).
COLUMNS = {
    "symmetry_broken": ("sym. broken", "every hidden layer has more than one distinct neuron at "
                        "initialization (rows of W and b not all equal)"),
    "gradient_ratio": ("grad ratio", "at initialization, the rms gradient of the loss with respect to "
                       "the first layer's input over the last layer's: below 1e-2 vanishing, above 1e2 "
                       "exploding"),
    "saturated": ("saturated", "at initialization, the largest fraction of a tanh/sigmoid layer's "
                  "outputs in the flat tails (tanh |a| > 0.99, sigmoid < 0.01 or > 0.99)"),
    "dead": ("dead", "at initialization, the largest fraction of a ReLU layer's units that are zero "
             "on the whole batch"),
    "reached": ("reached", "seeds that reached the target"),
    "steps_to_target": ("steps to target", "median training steps to the target's first evaluation "
                        "meeting it, if every seed reached it"),
    "seconds_to_target": ("s to target", "median training seconds to the target (evaluation not "
                          "counted), if every seed reached it"),
    "test_acc": ("test acc", "median test accuracy at the end"),
    "verdict": ("verdict", "one word for the init, from the measurements (see the verdicts)"),
}


def _as_list(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


#: Every verdict _verdict gives, and what it means (the report prints these).
VERDICTS = {
    "symmetric": "some hidden layer starts with all its neurons alike (zeros, constant): they get "
                 "the same gradient and stay alike, so the layer acts as one unit",
    "diverged": "the loss became NaN or inf in some run",
    "exploded": "no run reached the target (or none was set) and the loss rose above 100 times its first value",
    "vanishing": "no run reached the target (or none was set) and at initialization the gradient reaching the first "
                 "layer was below 1/100 of the last layer's (median over seeds)",
    "exploding": "no run reached the target (or none was set) and at initialization the gradient reaching the first "
                 "layer was above 100 times the last layer's (median over seeds)",
    "dead units": "no run reached the target (or none was set) and at the end half or more of some layer's ReLUs were "
                  "zero on the whole batch (median over seeds)",
    "saturated": "no run reached the target (or none was set) and, at initialization or at the end, more than half "
                 "of some layer's tanh/sigmoid outputs were saturated (median over seeds)",
    "slow": "no run reached the target, with none of the causes above seen",
    "unreliable": "some seeds reached the target, others did not",
    "trains": "every seed reached the target",
    "fastest": "every seed reached the target, in the fewest steps (median) of the study",
}


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
    if not reached:
        curve = [v for r in rows_for_init for v in r["loss_curve"]["loss"][:1]]
        peak = max((max(r["loss_curve"]["loss"], default=0) for r in rows_for_init), default=0)
        if curve and peak > 100 * max(curve):
            return "exploded"
        # Over seeds, the median, as the table shows them; the cause at init before its effects.
        ratio = median(r["diag_init"]["gradient_ratio"] for r in rows_for_init)
        if ratio is not None and (ratio < diagnostics.VANISHING or ratio > diagnostics.EXPLODING):
            return "vanishing" if ratio < diagnostics.VANISHING else "exploding"
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
    runs: list
    settings: dict = field(default_factory=dict)

    def groups(self) -> dict:
        out = {}
        for r in self.runs:
            key = tuple((k, v) for k, v in r["config"].items() if k in GRID_KEYS and k != "seed")
            out.setdefault(key, []).append(r)
        return out

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
                "saturated": med(opt([r["diag_init"]["saturated"] for r in g])),
                "dead": med(opt([r["diag_init"]["dead"] for r in g])),
                "reached": f"{len(steps)}/{len(g)}" if has_target else "-",
                "steps_to_target": med(steps) if len(steps) == len(g) else None,
                "steps_min": min(steps) if steps else None, "steps_max": max(steps) if steps else None,
                "seconds_to_target": med(secs) if len(secs) == len(g) else None,
                "test_acc": med(opt([r["final"]["val_acc"] for r in g])),
                "test_loss": med(opt([r["final"]["val_loss"] for r in g])),
                "verdict": _verdict(g, best, has_target),
            })
        return rows

    def table_cells(self) -> tuple[list[str], list[str], list[list[str]]]:
        """(column keys, headers, rows of formatted cells) of the table: the grid keys that vary
        (else init), then the COLUMNS."""
        rows = self.table()
        varying = [k for k in GRID_KEYS if k != "seed" and len({r.get(k) for r in rows}) > 1] or ["init"]
        cols = varying + list(COLUMNS)

        def fmt(k, v, row):
            if v is None:
                return "never" if k in ("steps_to_target", "seconds_to_target") and row["reached"] != "-" else "-"
            if isinstance(v, bool):
                return "yes" if v else "NO"
            if k == "gradient_ratio":
                return f"{v:.2e}"
            if k in ("saturated", "dead", "test_acc"):
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

    def to_json(self) -> str:
        return json.dumps({"settings": self.settings, "table": self.table(), "runs": self.runs}, indent=1,
                          default=_json_default)

    @classmethod
    def from_json(cls, text: str) -> "StudyResult":
        d = json.loads(text)
        if not isinstance(d, dict) or not isinstance(d.get("runs"), list):
            raise ValueError("not a fastinit study result (no list of runs)")
        return cls(d["runs"], d.get("settings", {}))

    def save(self, folder) -> dict:
        """Write results.json and results.csv into folder; returns their paths."""
        os.makedirs(folder, exist_ok=True)
        paths = {"json": os.path.join(folder, "results.json"), "csv": os.path.join(folder, "results.csv")}
        with open(paths["json"], "w") as f:
            f.write(self.to_json())
        rows = self.table()
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


_POOL_WORKER = False  # True in the processes of compare's own pool
_UNGUARDED_MARK = "FASTINIT_UNGUARDED_MARK"  # environment: the file a worker leaves (see compare)


def _worker_init():
    global _POOL_WORKER
    import fastinit

    fastinit.set_num_threads(1)  # one process per core: no nested threading
    _POOL_WORKER = True
    # Ctrl-C reaches every process of the terminal. An idle worker ignores it, so the pool never
    # breaks; a busy one stops its run (_run_importing) and the parent keeps what finished.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def plan(dataset="circles", inits=DEFAULT_INITS, *, sizes=None, depth=None, width=None, activation="relu",
         output="softmax", optimizer="sgd", lr=0.1, momentum=0.0, batch_size=None, steps=None, epochs=None, seeds=3,
         target=0.9, eval_every=50, dataset_params=None) -> tuple[list, dict]:
    """The runs of a study, checked before any starts: (RunConfigs, settings).

    The grid is init x seed x every list-valued option (depth, width, activation, lr,
    batch_size, optimizer). sizes gives the layer widths (inputs and outputs are taken from the
    dataset when sizes lists hidden layers only); otherwise depth hidden layers of `width`
    units. seeds: a count or a list. target: the test accuracy a run must reach (None: no
    target). batch_size None is full-batch gradient descent. steps or epochs: how long each run
    trains (default 2000 steps); an epoch is ceil(n_train / batch_size) steps.
    """
    if not isinstance(dataset, str):
        raise TypeError("dataset must be a built-in name or a file path (each worker rebuilds it from that)")
    params = tuple(sorted((dataset_params or {}).items()))
    ds = _dataset(dataset, params)
    name = dataset
    n_out = ds.n_classes if output == "softmax" else 1
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    inits = _as_list(inits)
    if not inits or not seeds:
        raise ValueError("a study needs at least one init and one seed")
    from fastinit import init as _init

    for i in inits:
        _init.get(i)  # unknown names fail here, before any run starts
    for opt, rate in itertools.product(_as_list(optimizer), _as_list(lr)):
        make_optimizer(opt, rate, momentum)
    if steps is not None and epochs is not None:
        raise ValueError(f"give steps or epochs, not both (got steps={steps!r}, epochs={epochs!r})")
    if steps is None and epochs is None:
        steps = 2000
    for name_, values, low in (("depth", depth, 0), ("width", width, 1), ("batch_size", batch_size, 1),
                               ("steps", steps, 0), ("epochs", epochs, 0), ("eval_every", eval_every, 1)):
        for v in _as_list(values):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low):
                raise ValueError(f"{name_} must be an int >= {low}, got {v!r}")
    if target is not None and (isinstance(target, bool) or not isinstance(target, numbers.Real)
                               or not 0 < target <= 1):
        raise ValueError(f"target must be a test accuracy in (0, 1] or None, got {target!r}")
    configs = []
    for init, seed, dep, wid, act, rate, bs, opt in itertools.product(
            inits, seeds, _as_list(depth), _as_list(width), _as_list(activation), _as_list(lr),
            _as_list(batch_size), _as_list(optimizer)):
        if sizes is not None:
            hidden = list(sizes)
            layer_sizes = hidden if hidden[0] == ds.n_features and hidden[-1] == n_out else [ds.n_features] + hidden + [n_out]
        else:
            layer_sizes = [ds.n_features] + [wid if wid is not None else 16] * (dep if dep is not None else 2) + [n_out]
        configs.append(RunConfig(name, params, init, int(seed), tuple(layer_sizes), act, output, opt, float(rate),
                                 float(momentum), bs, _steps(steps, epochs, len(ds.X_train), bs), target,
                                 int(eval_every), dep, wid))
    length = {"steps": steps} if epochs is None else {"epochs": epochs}
    settings = {"dataset": ds.describe(), **length, "target": target, "optimizer": _as_list(optimizer),
                "lr": _as_list(lr), "batch_size": _as_list(batch_size), "output": output}
    return configs, settings


def _steps(steps, epochs, n_train, batch_size) -> int:
    """Training steps of a run: `steps`, or `epochs` passes over n_train rows in batches (the last
    one partial, as fit makes them)."""
    if epochs is None:
        return int(steps)
    return int(epochs) * (1 if batch_size is None else -(-n_train // min(int(batch_size), n_train)))


def compare(dataset="circles", inits=DEFAULT_INITS, *, executor=None, n_jobs=None, progress=True,
            **options) -> StudyResult:
    """Run the study `plan(dataset, inits, **options)` describes and return a StudyResult.

    options: sizes or depth/width, activation, output, optimizer, lr, momentum, batch_size,
    steps or epochs, seeds, target, eval_every, dataset_params (see plan). executor: any
    concurrent.futures.Executor (e.g. a Dask client's get_executor(pure=False)); default a
    local process pool of n_jobs processes (all cores). Its workers start by running the main
    script again (spawn): a script calling compare() outside `if __name__ == "__main__":` gets
    its runs done in its own process instead, with a RuntimeWarning.
    Ctrl-C (KeyboardInterrupt) stops the study and keeps what finished: the result holds the
    finished runs, settings["interrupted"] says how many (a RuntimeWarning too); with none
    finished, the KeyboardInterrupt propagates.
    """
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # A worker of our pool is importing the script that started it (spawn does), and the
        # script calls compare() unguarded: leave quietly, marked; the parent runs the study itself.
        if os.environ.get(_UNGUARDED_MARK):
            open(os.environ[_UNGUARDED_MARK], "w").close()
        raise SystemExit(1)
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1):
        raise ValueError(f"n_jobs must be an int >= 1 or None (all cores), got {n_jobs!r}")
    configs, settings = plan(dataset, inits, **options)
    runs = _execute(configs, executor, n_jobs, progress)
    if None in runs:
        done = [r for r in runs if r is not None]
        if not done:
            raise KeyboardInterrupt
        settings["interrupted"] = f"{len(done)} of {len(runs)} runs finished"
        warnings.warn(f"fastinit.study.compare: interrupted with {settings['interrupted']}; the result "
                      f"holds those", RuntimeWarning, stacklevel=2)
        runs = done
    return StudyResult(runs, settings)


def _run_importing(modules, cfg):
    """run(cfg) in a worker, after importing the modules that registered the user's init schemes
    ("__main__" is left to the process start, which runs a main script again)."""
    from fastinit import init as _init

    for m in modules:
        if m != "__main__":
            importlib.import_module(m)
    try:
        _init.get(cfg.init)
    except ValueError:
        if "__main__" not in modules:
            raise
        raise ValueError(f"init scheme {cfg.init!r} is unknown in this worker: it was registered by the main "
                         f"script or session that submitted the study, which a worker process cannot import. "
                         f"Register it in a module the workers can import, or use a thread pool") from None
    if not _POOL_WORKER:
        return run(cfg)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return run(cfg)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _execute(configs, executor, n_jobs, progress):
    """The runs' records in config order; None for a run that never finished (Ctrl-C)."""
    from fastinit import init as _init

    results = [None] * len(configs)

    def serial():  # the runs not done yet, here; Ctrl-C keeps what finished
        try:
            for i, c in enumerate(_progress(configs, progress, len(configs))):
                if results[i] is None:
                    results[i] = run(c)
        except KeyboardInterrupt:
            pass
        return results

    modules = tuple(sorted({_init.module_of(c.init) for c in configs} - {_init.__name__}))
    if executor is not None:
        return _collect(executor, modules, configs, results, progress)
    n_jobs = n_jobs or os.cpu_count() or 1
    if n_jobs == 1:
        return serial()
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if "__main__" in modules and not (main_file and os.path.isfile(main_file)):
        warnings.warn("fastinit.study.compare: an init scheme of this study is registered in this "
                      "interactive session, which worker processes cannot see; running the "
                      f"{len(configs)} runs in this process instead. Register it in a module to use "
                      f"{n_jobs} processes.", RuntimeWarning, stacklevel=3)
        return serial()
    if main_file and not os.path.isfile(main_file):  # python - < script.py: workers cannot rerun it
        warnings.warn(f"fastinit.study.compare: worker processes start by running the main script, and "
                      f"{main_file} is no file; running the {len(configs)} runs in this process instead. "
                      f"Run a script file to use {n_jobs} processes.", RuntimeWarning, stacklevel=3)
        return serial()
    # A worker that finds the main script calling compare() unguarded (see compare) leaves this
    # mark before it exits, so a pool broken that way is told from one broken by a crash.
    mark_dir = tempfile.mkdtemp(prefix="fastinit-")
    mark = os.path.join(mark_dir, "unguarded")
    try:
        return _collect(None, modules, configs, results, progress, n_jobs=n_jobs, mark=mark)
    except cf.process.BrokenProcessPool:
        if not os.path.exists(mark):
            raise
        warnings.warn(f"fastinit.study.compare: the worker processes stopped as they ran "
                      f"{os.path.basename(main_file)} again, which calls compare() outside "
                      f"`if __name__ == \"__main__\":`; running the unfinished runs in this process instead. "
                      f"Guard the call to use {n_jobs} processes.", RuntimeWarning, stacklevel=3)
        return serial()
    finally:
        shutil.rmtree(mark_dir, ignore_errors=True)


def _collect(executor, modules, configs, results, progress, *, n_jobs=None, mark=None):
    """Run the configs on `executor`, or on a pool of our own (n_jobs spawned processes), into
    results. Ctrl-C cancels what has not started and keeps what finished."""
    own = None
    futures = {}
    try:
        if executor is None:
            # The workers start with Ctrl-C ignored (they inherit it), so one that arrives while
            # they import cannot break the pool; each run turns it back on (_run_importing).
            main = threading.current_thread() is threading.main_thread()
            old = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
            os.environ[_UNGUARDED_MARK] = mark
            try:
                own = executor = cf.ProcessPoolExecutor(max_workers=n_jobs, initializer=_worker_init,
                                                        mp_context=multiprocessing.get_context("spawn"))
                futures = {executor.submit(_run_importing, modules, c): i for i, c in enumerate(configs)}
            finally:
                del os.environ[_UNGUARDED_MARK]
                if old is not None:
                    signal.signal(signal.SIGINT, old)
        else:
            futures = {executor.submit(_run_importing, modules, c): i for i, c in enumerate(configs)}
        for fut in _progress(cf.as_completed(futures), progress, len(configs)):
            results[futures[fut]] = fut.result()
        return results
    except KeyboardInterrupt:
        if own is not None:  # Ctrl-C sent to this process alone still stops the runs under way
            for pid in list(getattr(own, "_processes", None) or ()):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGINT)
        for fut, i in futures.items():
            if not fut.cancel() and fut.done() and fut.exception() is None:
                results[i] = fut.result()
        return results
    finally:
        if own is not None:  # after a failure, do not wait for the runs still queued
            own.shutdown(wait=all(f.done() for f in futures), cancel_futures=True)


def _progress(it, enabled, total):
    """`it`, counting its items on a progress bar where someone watches (see fastinit._progress)."""
    bar = _progress_bar.bar(enabled, total, "run")
    if bar is None:
        yield from it
        return
    try:
        for x in it:
            yield x
            bar.update(1)
    finally:
        bar.close()
