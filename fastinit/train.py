"""The fit loop: mini-batches, evaluation, targets, callbacks and a History of the run.

    >>> hist = fastinit.fit(model, X, y, optimizer=optim.SGD(0.1), epochs=20, batch_size=32,
    ...                     validation_data=(Xv, yv), target=0.95)
    >>> hist.target_step, hist.evals[-1]["val_acc"]

Each step is one C call (MLP.train_step). Data are validated once up front; batches are
gathered into buffers allocated once. Times in History exclude evaluation (they measure
training), and an evaluation at step 0 records the loss at initialization.
"""
from __future__ import annotations

import math
import time
import warnings
from typing import Any, Iterable, TypedDict

import numpy as np

from fastinit import _progress, _validate, losses
from fastinit.optim import Optimizer

__all__ = ["History", "fit", "evaluate", "DIVERGENCE_FACTOR"]

#: fit's divergence rule: a run has diverged when a batch loss is NaN or inf, when a parameter
#: is NaN or inf after a step (the C update flags it), or when a batch loss exceeds
#: DIVERGENCE_FACTOR times the first step's loss (floored at 1e-12): a finite blow-up such as
#: Adam at lr=1e3 (losses near 1e11 from 0.7) is no training run that will come back.
DIVERGENCE_FACTOR = 1e6


class EvalRecord(TypedDict):
    """One evaluation of a fit run (None where not applicable: no validation data, regression)."""
    step: int
    epoch: float
    time: float
    train_loss: float
    train_acc: float | None
    val_loss: float | None
    val_acc: float | None


class History:
    """What a fit run did.

    loss: batch loss per step (np.ndarray). evals: list of dicts with step, epoch, time,
    train_loss, train_acc, val_loss, val_acc (None where not applicable). wall_time: seconds of
    the whole run. target / target_step / target_time: the target and when it was first met
    (None if never). diverged, interrupted (bool), warnings (list of str), init_report (what a
    data-dependent init such as LSUV returned). Set ``stop = True`` from a callback to stop
    after the current step. record: what the last step recorded (MLP.train_step's record) when
    a callback's record_step asked for it, else None; for callbacks, not saved.
    """

    _FIELDS = ("loss", "evals", "wall_time", "target", "target_step", "target_time", "diverged",
               "warnings", "interrupted", "init_report", "steps", "epochs")

    def __init__(self) -> None:
        self.loss: np.ndarray = np.zeros(0)
        self.evals: list[EvalRecord] = []
        self.wall_time = 0.0
        self.target: Any = None
        self.target_step: int | None = None
        self.target_time: float | None = None
        self.diverged = False
        self.warnings: list[str] = []
        self.interrupted = False
        self.init_report: Any = None
        self.steps = 0
        self.epochs: float = 0
        self.stop = False
        self.record: dict | None = None

    def metric(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) of one eval metric, e.g. history.metric("val_acc")."""
        pts = [(e["step"], e[name]) for e in self.evals if e.get(name) is not None]
        return np.array([p[0] for p in pts], dtype=np.int64), np.array([p[1] for p in pts], dtype=float)

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self._FIELDS}
        d["loss"] = [float(v) for v in self.loss]
        d["evals"] = [dict(e) for e in self.evals]
        d["warnings"] = list(self.warnings)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "History":
        h = cls()
        for k in cls._FIELDS:
            if k in d:
                setattr(h, k, d[k])
        h.loss = np.asarray(d.get("loss", []), dtype=float)
        h.evals = [dict(e) for e in d.get("evals", [])]
        h.warnings = list(d.get("warnings", []))
        return h

    def __repr__(self) -> str:
        last = self.evals[-1] if self.evals else {}
        extra = "".join(f", {k}={last[k]:.4g}" for k in ("train_loss", "val_acc") if last.get(k) is not None)
        flags = "".join(f", {f}=True" for f in ("diverged", "interrupted") if getattr(self, f))
        return (f"History(steps={self.steps}, epochs={self.epochs}, wall_time={self.wall_time:.3g}s, "
                f"target_step={self.target_step}{extra}{flags})")


def _accuracy(model: Any, logits: np.ndarray, y: np.ndarray) -> float | None:
    if model.output == "softmax":
        return float((logits.argmax(axis=1) == y).mean())
    if model.output == "sigmoid":
        return float(((logits > 0) == (y > 0.5)).mean())
    return None


def evaluate(model: Any, X: np.ndarray, y: np.ndarray, *, chunk: int = 4096) -> tuple[float, float | None]:
    """(mean loss, accuracy or None) of `model` on already-validated (X, y), in row chunks."""
    n = X.shape[0]
    total, correct = 0.0, 0.0
    fn = losses.LOSSES[model.loss_name]
    for s in range(0, n, chunk):
        xb, yb = X[s:s + chunk], y[s:s + chunk]
        z = model.forward(xb)
        total += fn(z, yb, grad=False)[0] * xb.shape[0]
        acc = _accuracy(model, z, yb)
        correct += 0.0 if acc is None else acc * xb.shape[0]
    acc = None if model.output == "identity" else correct / n
    return total / n, acc


def _evaluation(model: Any, data: tuple, step: int, epoch: float, seconds: float) -> EvalRecord:
    """One evaluation of `model` on data = (X, y, X_val or None, y_val or None), validated."""
    X, y, Xv, yv = data
    tl, ta = evaluate(model, X, y)
    rec: EvalRecord = {"step": step, "epoch": epoch, "time": seconds, "train_loss": tl, "train_acc": ta,
                       "val_loss": None, "val_acc": None}
    if Xv is not None:
        rec["val_loss"], rec["val_acc"] = evaluate(model, Xv, yv)
    return rec


def _meets(tgt: tuple | None, rec: EvalRecord) -> bool:
    """Whether an evaluation meets a parsed target (see _parse_target)."""
    if tgt is None or rec[tgt[0]] is None:
        return False
    v = rec[tgt[0]]
    return (v >= tgt[1]) if tgt[2] == "ge" else (v <= tgt[1])


def _parse_target(target, has_val):
    """(metric name, threshold, 'ge' or 'le') or None."""
    if target is None:
        return None
    if isinstance(target, bool):
        raise TypeError(f"target must be an accuracy (float) or a dict like {{'loss': 0.1}}, got {target!r}")
    if isinstance(target, (int, float, np.integer, np.floating)):  # an accuracy that can be met
        return ("val_acc" if has_val else "train_acc", _validate.real("target", target, low=0.0, high=1.0), "ge")
    if isinstance(target, dict) and len(target) == 1:
        (k, v), = target.items()
        names = {"loss": "train_loss", "val_loss": "val_loss", "acc": "train_acc", "val_acc": "val_acc"}
        if k not in names:
            raise ValueError(f"target key must be one of {sorted(names)}, got {k!r}")
        if k.startswith("val") and not has_val:
            raise ValueError(f"target {target!r} needs validation_data")
        loss = k.endswith("loss")
        v = _validate.real(f"target[{k!r}]", v, low=0.0, high=None if loss else 1.0)
        return (names[k], v, "le" if loss else "ge")
    raise TypeError(f"target must be an accuracy (float) or a dict like {{'loss': 0.1}}, got {target!r}")


def _diverged(loss: float, blowup: float, finite: bool) -> str:
    """Why the step that returned `loss` (its update leaving every parameter finite or not)
    counts as divergence (DIVERGENCE_FACTOR), or ''."""
    if not math.isfinite(loss):
        return f"loss became {loss}"
    if not finite:
        return "a parameter became NaN or inf"
    if loss > blowup:
        return f"loss became {loss:.4g}, over {DIVERGENCE_FACTOR:g} times the first step's"
    return ""


def _call(callbacks: list, name: str, *args: Any) -> None:
    for cb in callbacks:
        fn = getattr(cb, name, None)
        if fn is not None:
            fn(*args)


def _check_data(model, X, y, optimizer, epochs, steps, batch_size, eval_every, validation_data):
    """fit's arguments checked once, the data in engine form: (X, y, batch size, X_val, y_val)."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a fastinit.optim optimizer (SGD, Adam, AdamW), got "
                        f"{type(optimizer).__name__}")
    if epochs is None and steps is None:
        raise ValueError("give epochs or steps (or both: training stops at the first reached)")
    for name, v in (("epochs", epochs), ("steps", steps)):
        if v is not None:
            _validate.integer(name, v, low=0)
    X = model.check_X(X)
    y = model.check_y(y, X.shape[0])
    bs = X.shape[0] if batch_size is None else min(_validate.integer("batch_size", batch_size, low=1), X.shape[0])
    if eval_every is not None:
        _validate.integer("eval_every", eval_every, low=1)
    Xv = yv = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (X_val, y_val)")
        Xv = model.check_X(validation_data[0], "X_val")
        yv = model.check_y(validation_data[1], Xv.shape[0], "y_val")
    return X, y, bs, Xv, yv


def fit(model: Any, X: Any, y: Any, *, optimizer: Optimizer, epochs: int | None = None, steps: int | None = None,
        batch_size: int | None = 32, shuffle: bool = True, seed: int = 0, validation_data: tuple | None = None,
        target: float | dict[str, float] | None = None, eval_every: int | None = None, callbacks: Iterable[Any] = (),
        progress: bool = True, stop_at_target: bool = False) -> History:
    """Train `model` on (X, y) with `optimizer`; returns a History.

    epochs and/or steps: how long (at least one; with both, whichever comes first).
    batch_size: rows per step; None = full batch. The last partial batch of an epoch is used.
    shuffle: reshuffle every epoch with numpy's Generator seeded by `seed`.
    validation_data: (X_val, y_val) evaluated at each evaluation.
    target: an accuracy (validation if given, else training) or {"loss": v} / {"val_loss": v} /
        {"acc": v} / {"val_acc": v}; the first evaluation meeting it sets target_step/target_time.
        Training continues unless stop_at_target=True (or a callback sets history.stop).
    eval_every: steps between evaluations (default: once per epoch); also evaluated at step 0
        and at the end.
    callbacks: objects with any of on_train_begin(model, history), on_step_end(step, model,
        history, X_batch, y_batch), on_eval(step, model, history), on_train_end(model, history),
        and record_step(step) -> bool: True to have step number `step` (from 1) record what it
        sees into history.record (see MLP.train_step), read in on_step_end.
    progress: a tqdm bar on a terminal or in a Jupyter notebook.
    Divergence (DIVERGENCE_FACTOR: a NaN/inf loss or parameter, or a loss a million times the
    first) stops training (history.diverged, with a warning in history.warnings);
    Ctrl-C stops cleanly (history.interrupted) keeping the model and History so far.
    Integer X is converted to the model's dtype (see MLP).
    """
    X, y, bs, Xv, yv = _check_data(model, X, y, optimizer, epochs, steps, batch_size, eval_every,
                                   validation_data)
    n = X.shape[0]
    tgt = _parse_target(target, Xv is not None)
    _validate.seed("seed", seed)
    if callbacks is None:
        callbacks = []
    elif isinstance(callbacks, (str, bytes, dict)) or not hasattr(callbacks, "__iter__"):
        raise TypeError(f"callbacks must be a list of callback objects, got {type(callbacks).__name__}")
    callbacks = list(callbacks)  # objects with any of the hooks (one with none is allowed)
    recorders = [cb for cb in callbacks if hasattr(cb, "record_step")]

    # The loop below stays one piece on purpose (fit is ~100 lines): its state (step, epoch,
    # train_time, the batch buffers) is shared by the evaluations, the callbacks and the finally
    # block that keeps a run stopped anywhere (Ctrl-C, divergence); split, it would travel in an
    # object whose only reader is this function.
    per_epoch = -(-n // bs)
    total = min(x for x in (steps, None if epochs is None else epochs * per_epoch) if x is not None)
    rng = np.random.default_rng(seed)
    hist = History()
    hist.target = target
    losses = np.empty(min(total, 4096), dtype=np.float64)  # grown as it fills: steps=10**12 allocates nothing up front

    buf = np.empty((bs,) + X.shape[1:], dtype=X.dtype)
    ybuf = np.empty((bs,) + y.shape[1:], dtype=y.dtype)
    last = n - (per_epoch - 1) * bs
    buf_last = np.empty((last,) + X.shape[1:], dtype=X.dtype) if last != bs else buf
    ybuf_last = np.empty((last,) + y.shape[1:], dtype=y.dtype) if last != bs else ybuf

    bar = _progress.bar(progress, total, "step")

    train_time = 0.0
    step = 0
    t_start = time.perf_counter()

    def do_eval(epoch):
        rec = _evaluation(model, (X, y, Xv, yv), step, epoch, train_time)
        hist.evals.append(rec)
        if hist.target_step is None and _meets(tgt, rec):
            hist.target_step, hist.target_time = step, train_time
            if stop_at_target:
                hist.stop = True
        _call(callbacks, "on_eval", step, model, hist)
        return rec

    try:
        if model.pending_init is not None:  # a data-dependent init, finished on the first batch
            first = np.sort(rng.permutation(n)[:bs]) if shuffle else np.arange(bs)
            hist.init_report = model.finish_init(X[first], y[first])
            rng = np.random.default_rng(seed)
        _call(callbacks, "on_train_begin", model, hist)
        do_eval(0)
        epoch = 0
        while step < total and not hist.stop:
            order = rng.permutation(n) if shuffle else None
            for s in range(0, n, bs):
                e = min(s + bs, n)
                xb, yb = (buf, ybuf) if e - s == bs else (buf_last, ybuf_last)
                if order is None:
                    xb, yb = X[s:e], y[s:e]
                else:
                    idx = order[s:e]
                    np.take(X, idx, axis=0, out=xb)
                    np.take(y, idx, axis=0, out=yb)
                hist.record = {} if any(cb.record_step(step + 1) for cb in recorders) else None
                t0 = time.perf_counter()
                loss = model._step(xb, yb, optimizer, hist.record)  # batches of validated data
                train_time += time.perf_counter() - t0
                if step == len(losses):
                    losses = np.concatenate([losses, np.empty(min(len(losses), total - step))])
                losses[step] = loss
                step += 1
                if bar is not None:
                    bar.update(1)
                    if step % 20 == 0:
                        bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
                if step == 1:
                    blowup = DIVERGENCE_FACTOR * max(loss, 1e-12)
                why = _diverged(loss, blowup, model._last_step_finite())
                if why:
                    hist.diverged = True
                    msg = f"{why} at step {step}: diverged, training stopped"
                    hist.warnings.append(msg)
                    warnings.warn(msg, RuntimeWarning, stacklevel=2)
                    break
                _call(callbacks, "on_step_end", step, model, hist, xb, yb)
                if eval_every is not None and step % eval_every == 0:
                    do_eval(epoch + e / n)
                if step >= total or hist.stop:
                    break
            if hist.diverged:
                break
            epoch += 1
            if eval_every is None and not hist.stop and step < total:
                do_eval(epoch)
    except KeyboardInterrupt:
        hist.interrupted = True
        hist.warnings.append(f"interrupted by the user at step {step}")
    finally:
        if bar is not None:
            bar.close()
        hist.steps = step
        hist.epochs = step / per_epoch if step % per_epoch else step // per_epoch
        hist.loss = losses[:step].copy()
        if not hist.interrupted and not hist.diverged and (not hist.evals or hist.evals[-1]["step"] != step):
            do_eval(hist.epochs)
        hist.wall_time = time.perf_counter() - t_start
    _call(callbacks, "on_train_end", model, hist)
    return hist
