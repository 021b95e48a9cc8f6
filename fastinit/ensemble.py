"""Ensembles: K MLPs of one architecture trained in one C call per step (or per N steps).

    >>> ens = fastinit.Ensemble.from_sizes([2, 16, 16, 2], seeds=range(64), inits="he_normal")
    >>> losses = ens.train_step(X, y, optim.SGD(0.1))      # (64,) losses, one call for all
    >>> hists = fastinit.ensemble.fit_ensemble(ens, X, y, optimizer=optim.SGD(0.1), steps=1500)

Every member computes exactly what it would alone: its step is the solo engine's
(MLP.train_step) on one thread, threads split the members, nothing is summed across members;
so after any number of steps a member's parameters and losses equal, bit for bit, those of the
same model trained alone on the same batches, whatever the thread count or the grouping.

``ens.members[i]`` is an ordinary MLP whose layers' W and b live in the ensemble's buffers
(``ens.parameters``, shape (K, parameters per member)): predict, diagnose, save or train it alone
as any MLP. An optimizer keeps one state per member, as it does per model, so a member trained
here and then through ``members[i].train_step`` with the same optimizer continues one run.
"""
from __future__ import annotations

import time
import warnings
from collections.abc import Sequence

import numpy as np

from fastinit import _core, _validate
from fastinit.nn import MLP
from fastinit.optim import Optimizer
from fastinit.train import DIVERGENCE_FACTOR, History, _diverged, _evaluation, _meets, _parse_target
from fastinit.train import _check_data as _check_fit_args

__all__ = ["Ensemble", "fit_ensemble"]


def _arch(m: MLP):
    return (tuple(m.sizes), tuple((l.activation, l.act_param) for l in m.layers), m.output, m.dtype)


class Ensemble:
    """K MLPs of one architecture (sizes, activations, output, dtype), trained together.

    models: the MLPs to start from; their parameters are copied into the ensemble's buffers
    (the models themselves are left as they are; train ``ens.members`` instead).
    """

    def __init__(self, models: Sequence[MLP]):
        models = list(models)
        if not models:
            raise ValueError("Ensemble needs at least one model, got an empty list")
        for i, m in enumerate(models):
            if not isinstance(m, MLP):
                raise TypeError(f"models[{i}] must be a fastinit.MLP, got {type(m).__name__}")
        ref = _arch(models[0])
        for i, m in enumerate(models[1:], 1):
            if _arch(m) != ref:
                raise ValueError(f"models[{i}] differs from models[0] in architecture: {m!r} vs {models[0]!r} "
                                 f"(sizes, activations, output and dtype must match)")
        shapes = [p.shape for p in models[0].parameters()]
        counts = [int(np.prod(s)) for s in shapes]
        offs = np.concatenate([[0], np.cumsum(counts)]).astype(int)
        k, dt = len(models), models[0].dtype
        #: (K, parameters per member): member j's W0, b0, W1, b1, ... flattened in row j.
        self.parameters = np.empty((k, int(offs[-1])), dtype=dt)
        self.gradients = np.zeros_like(self.parameters)
        self.members: list[MLP] = []
        for j, m in enumerate(models):
            ps = [self.parameters[j, offs[t]:offs[t + 1]].reshape(s) for t, s in enumerate(shapes)]
            gs = [self.gradients[j, offs[t]:offs[t + 1]].reshape(s) for t, s in enumerate(shapes)]
            for dst, src in zip(ps, m.parameters()):
                dst[...] = src
            self.members.append(MLP._view(m, ps, gs))
        self._core = _core._Ensemble([m._engine for m in self.members])
        self._bound = None  # the optimizers whose states are bound in C, one per member

    @classmethod
    def from_sizes(cls, sizes: Sequence[int], *, seeds: Sequence[int] | int = 1, inits="he_normal",
                   activation="relu", output: str = "softmax", bias_init="zeros",
                   dtype=np.float32) -> Ensemble:
        """An ensemble of MLP(sizes, ...) members, one per seed (an int n means seeds 0..n-1);
        inits: one init (name or Initializer, or a per-layer list) for all, or a list with one
        per member (then it must hold as many entries as seeds)."""
        seeds = list(range(seeds)) if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool) \
            else list(seeds)
        if not seeds:
            raise ValueError("from_sizes needs at least one seed")
        per_member = isinstance(inits, (list, tuple)) and len(inits) == len(seeds) and not (
            len(inits) == len(sizes) - 1 and all(isinstance(i, str) for i in inits) and len(set(inits)) == 1)
        if isinstance(inits, (list, tuple)) and not per_member and len(inits) != len(sizes) - 1:
            raise ValueError(f"inits has {len(inits)} entries: give one init, one per layer ({len(sizes) - 1}) "
                             f"or one per member ({len(seeds)})")
        member_inits = list(inits) if per_member else [inits] * len(seeds)
        return cls([MLP(list(sizes), activation=activation, output=output, init=i, bias_init=bias_init,
                        seed=s, dtype=dtype) for i, s in zip(member_inits, seeds)])

    def __len__(self) -> int:
        return len(self.members)

    @property
    def k(self) -> int:
        return len(self.members)

    def __repr__(self) -> str:
        m = self.members[0]
        return (f"Ensemble({self.k} x MLP({m.sizes}, output={m.output!r}, dtype={m.dtype.name}), "
                f"{m.num_parameters} parameters each)")

    # ------------------------------------------------------------------ optimizers
    def _optimizers(self, optimizer) -> list:
        """One optimizer per member from one optimizer or a list of K; TypeError/ValueError else."""
        if isinstance(optimizer, Optimizer):
            return [optimizer] * self.k
        if isinstance(optimizer, (list, tuple)):
            opts = list(optimizer)
            if len(opts) != self.k:
                raise ValueError(f"optimizer list has {len(opts)} entries, the ensemble {self.k} members")
            for i, o in enumerate(opts):
                if not isinstance(o, Optimizer):
                    raise TypeError(f"optimizer[{i}] must be a fastinit.optim optimizer, got {type(o).__name__}")
            return opts
        raise TypeError(f"optimizer must be a fastinit.optim optimizer (SGD, Adam, AdamW) or a list of "
                        f"one per member, got {type(optimizer).__name__}")

    def _bind(self, optimizer):
        """Bind one optimizer (a state per member) or a list with one per member, in C."""
        opts = self._optimizers(optimizer)
        b = self._bound
        if b is not None and len(b) == len(opts) and all(x is y for x, y in zip(b, opts)):
            return
        for m in self.members:
            if m.pending_init:
                warnings.warn(f"Ensemble: the {m.pending_init!r} init of a member still needs data: call "
                              f"member.finish_init(X, y) before training (fit_ensemble does it); "
                              f"training from the weights as they are", RuntimeWarning, stacklevel=3)
                break
        self._core.bind([o._state_for(m) for o, m in zip(opts, self.members)])
        self._bound = opts

    # ------------------------------------------------------------------ data checks
    def _check_data(self, X, y):
        """X (n, features) shared or (K, n, features) per member, y to match; engine form."""
        m = self.members[0]
        a = np.asarray(X) if not isinstance(X, np.ndarray) else X
        if a.ndim == 3:
            k, n, f = a.shape
            if k != self.k:
                raise ValueError(f"X (shape {a.shape}, dtype {a.dtype}): a per-member batch needs {self.k} "
                                 f"members on axis 0")
            flat = m.check_X(a.reshape(k * n, f) if n else a.reshape(0, f), "X")
            ya = np.asarray(y)
            if ya.shape[:1] != (k,) or ya.ndim < 2 or ya.shape[1] != n:
                raise ValueError(f"y (shape {ya.shape}, dtype {ya.dtype}): expected ({k}, {n}, ...) to match a "
                                 f"per-member X of shape {a.shape}")
            yf = m.check_y(ya.reshape((k * n,) + ya.shape[2:]), k * n, "y")
            return flat.reshape(k, n, f), yf.reshape((k, n) + yf.shape[1:])
        Xc = m.check_X(a, "X")
        return Xc, m.check_y(y, Xc.shape[0], "y")

    # ------------------------------------------------------------------ training
    def train_step(self, X, y, optimizer) -> np.ndarray:
        """One step of every member in one C call; returns the (K,) batch losses before the
        update. X (n, features) with y (n,) labels or (n, outputs) targets trains all members on
        one batch; X (K, n, features) with y (K, n[, outputs]) gives member j its own batch.
        optimizer: one optimizer (each member gets its own state from it) or a list of K."""
        self._bind(optimizer)
        X, y = self._check_data(X, y)
        loss = np.empty(self.k)
        self._core.step(X, y, loss)
        return loss

    def run(self, X, y, optimizer, batches) -> np.ndarray:
        """len(batches) steps of every member in one C call, the inner loop in C: step t trains
        on the rows batches[t] (an int array) of the shared X, y, or, for a (K, rows) array
        per step, member j on rows batches[t][j] of its own X[j], y[j] (X then (K, n, features)).
        Returns the (K, steps) losses. A member whose loss turns NaN/inf stops there (the rest of
        its row is NaN)."""
        self._bind(optimizer)
        X, y = self._check_data(X, y)
        if len(batches) == 0:
            return np.empty((self.k, 0))
        bs = [np.asarray(b) for b in batches]
        per = bs[0].ndim == 2
        n = X.shape[-2]
        for t, b in enumerate(bs):
            if b.dtype.kind not in "iu" or b.ndim != (2 if per else 1) or (per and b.shape[0] != self.k) or b.shape[-1] < 1:
                raise ValueError(f"batches[{t}] (shape {b.shape}, dtype {b.dtype}): expected non-empty integer rows "
                                 f"{'(K, rows) per member' if per else '(rows,)'} like batches[0]")
            if b.min() < 0 or b.max() >= n:
                raise ValueError(f"batches[{t}] holds rows outside [0, {n})")
        off = np.concatenate([[0], np.cumsum([b.shape[-1] for b in bs])]).astype(np.int64)
        loss = np.full((self.k, len(bs)), np.nan)
        done = np.zeros(self.k, dtype=np.int64)
        if not per and all(b.size == 1 or (np.diff(b) == 1).all() for b in bs):
            # runs of consecutive rows (a full batch, unshuffled batches): read in place
            start = np.array([b[0] for b in bs], dtype=np.int64)
            self._core.run(X, y, None, off, loss, done, start=start)
        else:
            idx = np.ascontiguousarray(np.concatenate(bs, axis=-1), dtype=np.int64)
            self._core.run(X, y, idx, off, loss, done)
        return loss

    def forward(self, X) -> np.ndarray:
        """(K, n, outputs) logits of every member on X (n, features)."""
        return np.stack([m.forward(X) for m in self.members])


def _per_member(name, value, k):
    """value as a list of k: a list/tuple/array of k entries, or one value for all."""
    if isinstance(value, (list, tuple, np.ndarray)):
        vals = list(value)
        if len(vals) != k:
            raise ValueError(f"{name} has {len(vals)} entries, the ensemble {k} members")
        return vals
    return [value] * k


def fit_ensemble(ens: Ensemble, X, y, *, optimizer, epochs: int | None = None, steps: int | None = None,
                 batch_size: int | None = 32, shuffle: bool = True, seed: int | Sequence[int] = 0,
                 validation_data=None, target=None, eval_every: int | None = None,
                 stop_at_target: bool | Sequence[bool] = False) -> list[History]:
    """Train every member of `ens` on (X, y) as fastinit.fit would train it alone; one History
    per member, equal to fit's for that member (times aside).

    The arguments are fit's; seed, target and stop_at_target may also be lists with one entry
    per member (each member shuffles with its own seed, as its own fit run would). The steps
    between two evaluations run in one C call; a member that diverged (NaN/inf loss) or met its
    target with stop_at_target stops there and costs nothing more. optimizer: one (a state per
    member) or a list of one per member. Times in a History (target_time, evals' "time") are
    the seconds the member's own steps took in C, on whichever thread ran them (members trained
    together in SIMD lanes share each step's time evenly); wall_time is the whole call's, up to
    the member's end. Not supported here (use fit): callbacks, the
    progress bar, Ctrl-C keeping a partial History.
    """
    if not isinstance(ens, Ensemble):
        raise TypeError(f"ens must be a fastinit.Ensemble, got {type(ens).__name__}")
    k = ens.k
    opts = ens._optimizers(optimizer)
    m0 = ens.members[0]
    X, y, bs, Xv, yv = _check_fit_args(m0, X, y, opts[0], epochs, steps, batch_size, eval_every, validation_data)
    n = X.shape[0]
    seeds = _per_member("seed", seed, k)
    seeds = [_validate.seed("seed", s) for s in seeds]
    targets = [target] * k if target is None or isinstance(target, (int, float, dict)) else _per_member("target", target, k)
    tgts = [_parse_target(t, Xv is not None) for t in targets]
    stop_at = [bool(v) for v in _per_member("stop_at_target", stop_at_target, k)]

    # One function on purpose, as fit: the per-member state (histories, times, active flags,
    # random orders) is shared by the evaluation points, the C calls between them and the stops.
    per_epoch = -(-n // bs)
    total = min(v for v in (steps, None if epochs is None else epochs * per_epoch) if v is not None)
    rngs = [np.random.default_rng(s) for s in seeds]
    hists = [History() for _ in range(k)]
    for h, t in zip(hists, targets):
        h.target = t
    losses = np.empty((k, total), dtype=np.float64)
    train_time = np.zeros(k)
    active = np.ones(k, dtype=np.uint8)
    t_start = time.perf_counter()
    step = 0

    def do_eval(j, epoch):
        h = hists[j]
        rec = _evaluation(ens.members[j], (X, y, Xv, yv), step, epoch, float(train_time[j]))
        h.evals.append(rec)
        if h.target_step is None and _meets(tgts[j], rec):
            h.target_step, h.target_time = step, float(train_time[j])
            if stop_at[j]:
                h.stop = True

    def finish(j, at):
        h = hists[j]
        active[j] = 0
        h.steps = at
        h.epochs = at / per_epoch if at % per_epoch else at // per_epoch
        h.loss = losses[j, :at].copy()
        if not h.diverged and (not h.evals or h.evals[-1]["step"] != at):
            do_eval(j, h.epochs)
        h.wall_time = time.perf_counter() - t_start

    def stop_flagged():
        for j in np.flatnonzero(active):
            if hists[j].stop:
                finish(j, step)

    for j, member in enumerate(ens.members):
        if member.pending_init is not None:  # as fit: a data-dependent init finished on the first batch
            first = np.sort(rngs[j].permutation(n)[:bs]) if shuffle else np.arange(bs)
            hists[j].init_report = member.finish_init(X[first], y[first])
            rngs[j] = np.random.default_rng(seeds[j])
    ens._bind(optimizer)
    states = [o._state_for(m) for o, m in zip(opts, ens.members)]
    ceiling = np.full(k, -1.0)  # fit's blow-up ceiling per member, set by its first step (in C)
    for j in range(k):
        do_eval(j, 0)
    stop_flagged()
    epoch = 0
    loss_buf = np.empty((k, 0))
    while step < total and active.any():
        orders = [rngs[j].permutation(n) if shuffle and active[j] else None for j in range(k)]
        s = 0
        while s < n:
            # The batches up to the next evaluation (or the epoch's or the run's end), in one call.
            c, e = 0, s
            while e < n:
                e = min(e + bs, n)
                c += 1
                if step + c >= total or (eval_every is not None and (step + c) % eval_every == 0):
                    break
            off = np.minimum(np.arange(c + 1, dtype=np.int64) * bs, e - s)
            if shuffle:
                idx = np.zeros((k, e - s), dtype=np.int64)
                for j in np.flatnonzero(active):
                    idx[j] = orders[j][s:e]
                xs, ys = X, y
            else:
                idx, xs, ys = None, X[s:e], y[s:e]
            if loss_buf.shape[1] != c:
                loss_buf = np.empty((k, c))
            done = np.zeros(k, dtype=np.int64)
            ens._core.run(xs, ys, idx, off, loss_buf, done, train_time, active, ceiling=ceiling,
                          factor=DIVERGENCE_FACTOR)
            for j in np.flatnonzero(active):
                d = int(done[j])
                losses[j, step:step + d] = loss_buf[j, :d]
                why = _diverged(loss_buf[j, d - 1], ceiling[j], states[j].finite) if d else ""
                if why:  # fit's rule, applied in C as the member trained (it stopped there)
                    h = hists[j]
                    h.diverged = True
                    msg = f"{why} at step {step + d}: diverged, training stopped"
                    h.warnings.append(msg)
                    warnings.warn(f"member {j}: {msg}", RuntimeWarning, stacklevel=2)
                    finish(j, step + d)
            step += c
            s = e
            if eval_every is not None and step % eval_every == 0:
                for j in np.flatnonzero(active):
                    do_eval(j, epoch + e / n)
                stop_flagged()
            if step >= total or not active.any():
                break
        epoch += 1
        if eval_every is None and step < total:
            for j in np.flatnonzero(active):
                do_eval(j, epoch)
            stop_flagged()
    for j in np.flatnonzero(active):
        finish(j, step)
    return hists
