"""A study's plan: the grid of runs (RunConfig), checked before any starts, and the one set of
defaults that the Python API and the command line share."""
from __future__ import annotations

import itertools
import math
import numbers
from dataclasses import dataclass

import numpy as np

from fastinit import _validate, activations, data, ensemble, init, losses, optim
from fastinit._validate import unknown

DEFAULT_INITS = ("zeros", "random_small", "random_large", "xavier_normal", "he_normal")
GRID_KEYS = ("init", "seed", "depth", "width", "activation", "lr", "batch_size", "optimizer")
#: The default study, the same for compare() and `fastinit compare`: a 2-hidden-layer ReLU net of
#: width 16, full-batch gradient descent at lr 0.5 for 1500 steps, three seeds, target 95% test.
DEFAULTS = dict(dataset="circles", inits=DEFAULT_INITS, depth=2, width=16, activation="relu", output="softmax",
                optimizer="sgd", lr=0.5, momentum=0.0, batch_size=None, steps=1500, seeds=3, target=0.95,
                eval_every=25)


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
    dtype: str = "float32"

    def label(self) -> dict:
        return {k: getattr(self, k) for k in GRID_KEYS}


_DATA_CACHE: dict = {}


def _dataset(name, params):
    key = (name, params)
    if key not in _DATA_CACHE:
        _DATA_CACHE[key] = data.load(name, **dict(params))
    return _DATA_CACHE[key]


def loaded(configs) -> dict:
    """The datasets of configs as this process loaded them (plan does), to hand to workers:
    some take seconds to build (mnist1d is generated) and every worker would build its own."""
    return {k: _DATA_CACHE[k] for k in {(c.dataset, c.dataset_params) for c in configs} if k in _DATA_CACHE}


def adopt(datasets: dict) -> None:
    """Use datasets (from loaded) instead of loading them again."""
    _DATA_CACHE.update(datasets)


OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw")


def make_optimizer(name: str, lr: float, momentum: float = 0.0):
    """The fastinit optimizer a study names: sgd (with `momentum`), momentum and nesterov
    (momentum 0.9 unless given), adam, adamw."""
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



def _as_list(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]



def plan(dataset=DEFAULTS["dataset"], inits=DEFAULTS["inits"], *, sizes=None, depth=None, width=None,
         activation=DEFAULTS["activation"], output=DEFAULTS["output"], optimizer=DEFAULTS["optimizer"],
         lr=DEFAULTS["lr"], momentum=DEFAULTS["momentum"], batch_size=DEFAULTS["batch_size"], steps=None,
         epochs=None, seeds=DEFAULTS["seeds"], target=DEFAULTS["target"], eval_every=DEFAULTS["eval_every"],
         dataset_params=None, dtype="float32") -> tuple[list, dict]:
    """The runs of a study, checked before any starts: (RunConfigs, settings).

    The grid is init x seed x every list-valued option (depth, width, activation, lr,
    batch_size, optimizer). sizes gives the layer widths (inputs and outputs are taken from the
    dataset when sizes lists hidden layers only); otherwise depth hidden layers of `width`
    units. seeds: a count or a list. target: the test accuracy a run must reach (None: no
    target). batch_size None is full-batch gradient descent. steps or epochs: how long each run
    trains (default DEFAULTS["steps"]); an epoch is ceil(n_train / batch_size) steps.
    dtype: "float32" (the fast path) or "float64" (a preset reproducing a float64 source).
    """
    if not isinstance(dataset, str):
        raise TypeError("dataset must be a built-in name or a file path (each worker rebuilds it from that)")
    if dataset_params is not None and not isinstance(dataset_params, dict):
        raise TypeError(f"dataset_params must be a dict, got {type(dataset_params).__name__}")
    for axis, values in (("inits", inits), ("depth", depth), ("width", width), ("activation", activation),
                         ("lr", lr), ("batch_size", batch_size), ("optimizer", optimizer), ("seeds", seeds)):
        if isinstance(values, (list, tuple)) and not values:  # an empty axis ran nothing, silently
            raise ValueError(f"{axis} is empty: a grid axis needs at least one value")
    seeds = _seeds(seeds)
    if sizes is not None:
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (list, tuple)) or not sizes:
            raise ValueError(f"sizes must be a non-empty list of layer widths, got {sizes!r}")
        sizes = [_validate.integer(f"sizes[{i}]", s, low=1, high=1 << 24) for i, s in enumerate(sizes)]
    if not isinstance(output, str) or output not in losses.OUTPUTS:
        raise ValueError(f"output must be one of {sorted(losses.OUTPUTS)}, got {output!r}")
    for a in _as_list(activation):
        activations.parse(a, "activation")
    dtype = np.dtype(_validate.float_dtype("dtype", dtype)).name
    params = tuple(sorted((dataset_params or {}).items()))
    ds = _dataset(dataset, params)
    name = dataset
    n_out = ds.n_classes if output == "softmax" else 1
    if n_out > 4 * len(ds.X_train) + 1024:  # a stray label of 10**12 would size a 10**12-unit output layer
        raise ValueError(f"{name}: class ids go up to {n_out - 1} for {len(ds.X_train)} training rows; "
                         f"label the classes 0 .. k-1 (or by name)")
    inits = _as_list(inits)
    for i in inits:
        init.get(i)  # unknown names fail here, before any run starts
    for opt, rate in itertools.product(_as_list(optimizer), _as_list(lr)):
        make_optimizer(opt, rate, momentum)
    if steps is not None and epochs is not None:
        raise ValueError(f"give steps or epochs, not both (got steps={steps!r}, epochs={epochs!r})")
    if steps is None and epochs is None:
        steps = DEFAULTS["steps"]
    if sizes is not None and (depth is not None or width is not None):
        raise ValueError(f"give sizes or depth/width, not both (got sizes={sizes!r}, depth={depth!r}, width={width!r})")
    for name_, values, low in (("depth", depth, 0), ("width", width, 1), ("batch_size", batch_size, 1),
                               ("steps", steps, 1), ("epochs", epochs, 1), ("eval_every", eval_every, 1)):
        for v in _as_list(values):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low):
                raise ValueError(f"{name_} must be an int >= {low}, got {v!r}")
    if target is not None and (isinstance(target, bool) or not isinstance(target, numbers.Real)
                               or not 0 < target <= 1):
        raise ValueError(f"target must be a test accuracy in (0, 1] or None, got {target!r}")
    configs = []
    for scheme, seed, dep, wid, act, rate, bs, opt in itertools.product(
            inits, seeds, _as_list(depth), _as_list(width), _as_list(activation), _as_list(lr),
            _as_list(batch_size), _as_list(optimizer)):
        if sizes is not None:
            hidden = list(sizes)
            layer_sizes = hidden if hidden[0] == ds.n_features and hidden[-1] == n_out else [ds.n_features] + hidden + [n_out]
        else:
            layer_sizes = [ds.n_features] + [wid if wid is not None else DEFAULTS["width"]] * (dep if dep is not None else DEFAULTS["depth"]) + [n_out]
        configs.append(RunConfig(name, params, scheme, int(seed), tuple(layer_sizes), act, output, opt, float(rate),
                                 float(momentum), bs, _steps(steps, epochs, len(ds.X_train), bs), target,
                                 int(eval_every), dep, wid, dtype))
    length = {"steps": steps} if epochs is None else {"epochs": epochs}
    settings = {"dataset": ds.describe(), **length, "target": target, "optimizer": _as_list(optimizer),
                "lr": _as_list(lr), "batch_size": _as_list(batch_size), "output": output, "dtype": dtype}
    return configs, settings


def group_key(cfg: RunConfig) -> tuple:
    """What runs trained as one Ensemble share: the architecture and dtype, the data, the batch
    schedule (batch size, hence shuffling; steps; evaluation points; target) and the optimizer
    kind. Init, seed, lr and momentum are each member's own."""
    return (cfg.dataset, cfg.dataset_params, cfg.sizes, cfg.activation, cfg.output, cfg.dtype, cfg.batch_size,
            cfg.steps, cfg.eval_every, cfg.target, cfg.optimizer)


def groups(configs, indices=None, workers: int = 1, seconds=None, quantum: float | None = None,
           min_size: int = 1) -> list[tuple]:
    """The indices of `configs` (or of its entries `indices`) as ensembles to train: the runs
    of one group_key, in plan order, split into chunks of balanced size, at least `workers`
    in all (every process busy) and, given seconds(cfg) (a run's estimated time) and a
    quantum of seconds, none much longer than the quantum (a Ctrl-C or a crash loses little,
    the journal and the progress bar move) unless that would leave a chunk fewer members
    than one lane group (ensemble.lane_width: the lane engine is what makes an ensemble fast),
    and of min_size runs or more where the group has them (an ensemble's threads split its
    members). The split changes no number: a member computes what it would alone."""
    indices = list(range(len(configs))) if indices is None else list(indices)
    by_key: dict = {}
    for i in indices:
        by_key.setdefault(group_key(configs[i]), []).append(i)
    out = []
    for runs in by_key.values():
        parts = -(-workers * len(runs) // max(1, len(indices)))
        if seconds is not None and quantum:
            lanes = max(1, ensemble.lane_width(configs[runs[0]].dtype))
            parts = max(parts, min(len(runs) // lanes, math.ceil(len(runs) * seconds(configs[runs[0]]) / quantum)))
        parts = max(1, min(len(runs) // max(1, min_size), parts))
        size, extra = divmod(len(runs), parts)
        at = 0
        for p in range(parts):
            out.append(tuple(runs[at:at + size + (p < extra)]))
            at += size + (p < extra)
    return out


def _seeds(seeds) -> list[int]:
    """A count (int >= 1) or a list of seeds, as a list of seeds."""
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, (bool, np.bool_)):
        return list(range(_validate.integer("seeds", seeds, low=1, high=1 << 20)))
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, (list, tuple, range)):
        raise TypeError(f"seeds must be a count or a list of seeds, got {seeds!r} ({type(seeds).__name__})")
    return [_validate.seed(f"seeds[{i}]", s) for i, s in enumerate(seeds)]


def _steps(steps, epochs, n_train, batch_size) -> int:
    """Training steps of a run: `steps`, or `epochs` passes over n_train rows in batches (the last
    one partial, as fit makes them)."""
    if epochs is None:
        return int(steps)
    return int(epochs) * (1 if batch_size is None else -(-n_train // min(int(batch_size), n_train)))
