"""The fit loop: batches, evaluation, a target to reach, callbacks, progress, and a History.

Each step is one call into C (fastinit.nn.MLP._step); this loop only slices batches into
preallocated buffers, so training allocates nothing per step.
"""
from __future__ import annotations

import math
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["History", "fit", "evaluate"]

_TARGET_KEYS = {"loss": "train_loss", "train_loss": "train_loss", "val_loss": "val_loss",
                "acc": "train_acc", "accuracy": "train_acc", "train_acc": "train_acc", "val_acc": "val_acc"}


@dataclass
class History:
    """What a fit did. loss: the batch loss of every step; evals: one dict per evaluation
    (step, epoch, time, train_loss, train_acc, val_loss, val_acc); target_step/target_time:
    the first evaluation at which the target held (time = training seconds, evaluations
    excluded), None if never."""
    loss: list = field(default_factory=list)
    evals: list = field(default_factory=list)
    wall_time: float = 0.0
    train_time: float = 0.0
    target: dict | None = None
    target_step: int | None = None
    target_time: float | None = None
    diverged: bool = False
    interrupted: bool = False
    warnings: list = field(default_factory=list)
    init_report: dict | None = None
    stop: bool = False

    @property
    def steps(self) -> int:
        return len(self.loss)

    def final(self, key: str):
        """The last evaluation's value of key (e.g. "val_acc"), None if absent."""
        return self.evals[-1].get(key) if self.evals else None

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("stop")
        d["loss"] = [float(v) for v in self.loss]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def _parse_target(target, has_val):
    if target is None:
        return None
    if isinstance(target, (int, float)) and not isinstance(target, bool):
        key = "val_acc" if has_val else "train_acc"
        value = float(target)
        if not 0 < value <= 1:
            raise ValueError(f"an accuracy target must be in (0, 1], got {target}")
        return {key: value}
    if isinstance(target, dict) and len(target) == 1:
        (k, v), = target.items()
        if k not in _TARGET_KEYS:
            raise ValueError(f"target key {k!r} must be one of {', '.join(_TARGET_KEYS)}")
        key = _TARGET_KEYS[k]
        if key.startswith("val") and not has_val:
            raise ValueError(f"target {k!r} needs validation_data")
        return {key: float(v)}
    raise ValueError(f"target must be an accuracy in (0, 1] or a dict like {{'loss': 0.1}}, got {target!r}")


def _reached(target, ev) -> bool:
    (key, value), = target.items()
    got = ev.get(key)
    if got is None:
        return False
    return got <= value if key.endswith("loss") else got >= value


def evaluate(model, X, target) -> tuple[float, float | None]:
    """(mean loss, accuracy or None for regression) on checked arrays X, target."""
    loss = float(model._net(X.shape[0]).grad(X, target))
    logits = model._nets[(X.shape[0], False)].A[-1][: X.shape[0]]
    kind = model.output.kind
    if kind == 0:
        return loss, float(np.mean(logits.argmax(axis=1) == target))
    if kind == 1:
        return loss, float(np.mean((logits > 0) == (target > 0.5)))
    return loss, None


def _progress_bar(total, enabled):
    if not enabled or not sys.stderr.isatty():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="step", leave=False)


def fit(model, X, y, *, optimizer, epochs=None, steps=None, batch_size=32, shuffle=True, seed=0,
        validation_data=None, target=None, eval_every=None, stop_at_target=False, callbacks=(),
        progress=True) -> History:
    """Train `model` on (X, y) and return a History.

    epochs or steps (exactly one) sets the length; batch_size=None trains full-batch.
    shuffle reorders the rows every epoch with a Generator seeded by `seed`. target: an
    accuracy (validation accuracy if validation_data is given, else training accuracy), or a
    dict {"loss" | "val_loss": v} (reached when <= v) / {"acc" | "val_acc": v}; checked at each
    evaluation, every `eval_every` steps (default: once per epoch). stop_at_target stops there.
    Callbacks may define on_train_begin(model, history), on_step_end(step, model, history,
    X_batch, y_batch), on_eval(step, model, history), on_train_end(model, history); setting
    history.stop = True ends training. A NaN/inf loss stops training with a warning (recorded
    in history.warnings); Ctrl-C stops cleanly, keeping the model and History so far.
    X may hold ints (converted to the model's dtype).
    """
    from fastinit import init as _init

    t_start = time.perf_counter()
    Xc = model._check_X(X)
    n = Xc.shape[0]
    tc = model._check_y(y, n)
    val = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (X_val, y_val)")
        Xv = model._check_X(validation_data[0])
        val = (Xv, model._check_y(validation_data[1], Xv.shape[0]))
    if (epochs is None) == (steps is None):
        raise ValueError("pass exactly one of epochs or steps")
    if batch_size is None:
        batch_size = n
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int or None (full batch), got {batch_size!r}")
    batch_size = min(int(batch_size), n)
    per_epoch = math.ceil(n / batch_size)
    total = int(steps) if steps is not None else int(epochs) * per_epoch
    if total < 0 or (steps is not None and int(steps) != steps) or (epochs is not None and int(epochs) != epochs):
        raise ValueError(f"epochs/steps must be non-negative ints, got epochs={epochs!r}, steps={steps!r}")
    eval_every = per_epoch if eval_every is None else int(eval_every)
    if eval_every < 1:
        raise ValueError(f"eval_every must be >= 1, got {eval_every}")

    hist = History(target=_parse_target(target, val is not None))
    if model.pending_init == "lsuv":
        iters = _init.lsuv(model, Xc[:batch_size])
        hist.init_report = {"scheme": "lsuv", "iterations": iters}

    rng = np.random.default_rng(seed)
    full = batch_size == n and not shuffle
    xb = np.empty((batch_size,) + Xc.shape[1:], model.dtype)
    tb = np.empty((batch_size,) + tc.shape[1:], tc.dtype)
    bar = _progress_bar(total, progress)

    def run_eval(step, epoch):
        ev = {"step": step, "epoch": epoch, "time": hist.train_time}
        ev["train_loss"], ev["train_acc"] = evaluate(model, Xc, tc)
        if val is not None:
            ev["val_loss"], ev["val_acc"] = evaluate(model, *val)
        hist.evals.append(ev)
        if hist.target and hist.target_step is None and _reached(hist.target, ev):
            hist.target_step, hist.target_time = step, hist.train_time
            if stop_at_target:
                hist.stop = True
        for cb in callbacks:
            if hasattr(cb, "on_eval"):
                cb.on_eval(step, model, hist)

    for cb in callbacks:
        if hasattr(cb, "on_train_begin"):
            cb.on_train_begin(model, hist)
    run_eval(0, 0)
    step, order = 0, np.arange(n)
    try:
        while step < total and not hist.stop:
            if shuffle:
                order = rng.permutation(n)
            for start in range(0, n, batch_size):
                if step >= total or hist.stop:
                    break
                idx = order[start:start + batch_size]
                if full:
                    xs, ts = Xc, tc
                else:
                    m = len(idx)
                    xs, ts = np.take(Xc, idx, axis=0, out=xb[:m]), np.take(tc, idx, axis=0, out=tb[:m])
                t0 = time.perf_counter()
                loss = model._step(xs, ts, optimizer)
                hist.train_time += time.perf_counter() - t0
                hist.loss.append(loss)
                step += 1
                if bar is not None:
                    bar.update(1)
                if not math.isfinite(loss):
                    msg = f"training diverged at step {step}: loss is {loss}"
                    warnings.warn(msg, RuntimeWarning, stacklevel=2)
                    hist.warnings.append(msg)
                    hist.diverged = hist.stop = True
                    break
                for cb in callbacks:
                    if hasattr(cb, "on_step_end"):
                        cb.on_step_end(step, model, hist, xs, ts)
                if step % eval_every == 0 or step == total:
                    run_eval(step, step / per_epoch)
    except KeyboardInterrupt:
        hist.interrupted = True
        hist.warnings.append(f"interrupted at step {step}")
    finally:
        if bar is not None:
            bar.close()
    if hist.evals and hist.evals[-1]["step"] != step and not hist.diverged:
        run_eval(step, step / per_epoch)
    for cb in callbacks:
        if hasattr(cb, "on_train_end"):
            cb.on_train_end(model, hist)
    hist.wall_time = time.perf_counter() - t_start
    return hist
