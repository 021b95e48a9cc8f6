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

__all__ = ["Ensemble", "fit_ensemble", "lane_width"]


def lane_width(dtype="float32") -> int:
    """How many members train together in SIMD lanes in the kernel set in use (16 float32
    members with AVX-512, 8 with AVX2; 0 with the ref set, where every member takes its own
    step). Ensembles of at least this many members of one optimizer kind run fastest."""
    return _core.ensemble_lane_width(_validate.float_dtype("dtype", dtype) == np.float32)


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
                 stop_at_target: bool | Sequence[bool] = False, monitors=None) -> list[History]:
    """Train every member of `ens` on (X, y) as fastinit.fit would train it alone; one History
    per member, equal to fit's for that member (times aside).

    The arguments are fit's; seed, target and stop_at_target may also be lists with one entry
    per member (each member shuffles with its own seed, as its own fit run would). The steps
    between two evaluations run in one C call; a member that diverged (NaN/inf loss) or met its
    target with stop_at_target stops there and costs nothing more. optimizer: one (a state per
    member) or a list of one per member. Times in a History (target_time, evals' "time") are
    the seconds the member's own steps took in C, on whichever thread ran them (members trained
    together in SIMD lanes share each step's time evenly); wall_time is the whole call's, up to
    the member's end. monitors: one diagnostics.Monitor (or None) per
    member, fed as fit feeds it as a callback, so its records equal fit's: the C calls also
    end at its checks (multiples of its `every`) and at the step after each, whose record is
    MLP.probe of the member on that step's batch before the step (the same forward and
    backward pass in C). A warning raised while working on member j (its evaluations, its
    Monitor) is said again as "member j: ...". Not supported here (use fit): other callbacks,
    the progress bar, Ctrl-C keeping a partial History.
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
    mons = [None] * k if monitors is None else _per_member("monitors", monitors, k)
    for i, mon in enumerate(mons):
        if mon is not None and not (isinstance(getattr(mon, "every", None), int) and callable(getattr(mon, "record_step", None))):
            raise TypeError(f"monitors[{i}] must be a fastinit.diagnostics.Monitor or None, got {type(mon).__name__}")

    with _Said() as said:  # a member's warnings, said as "member j: ..." as the call ends
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
            said.by(j)
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
            if mons[j] is not None:
                said.by(j)
                mons[j].on_train_end(ens.members[j], h)
            h.record = None
            h.wall_time = time.perf_counter() - t_start

        def mon_record(j, xb, yb):
            said.by(j)
            return ens.members[j].probe(xb, yb)

        def stop_flagged():
            for j in np.flatnonzero(active):
                if hists[j].stop:
                    finish(j, step)

        for j, member in enumerate(ens.members):
            if member.pending_init is not None:  # as fit: a data-dependent init finished on the first batch
                first = np.sort(rngs[j].permutation(n)[:bs]) if shuffle else np.arange(bs)
                said.by(j)
                hists[j].init_report = member.finish_init(X[first], y[first])
                rngs[j] = np.random.default_rng(seeds[j])
        said.by(None)
        ens._bind(optimizer)
        states = [o._state_for(m) for o, m in zip(opts, ens.members)]
        ceiling = np.full(k, -1.0)  # fit's blow-up ceiling per member, set by its first step (in C)
        watched = [j for j in range(k) if mons[j] is not None]
        for j in watched:
            said.by(j)
            mons[j].on_train_begin(ens.members[j], hists[j])
        for j in range(k):
            do_eval(j, 0)
        stop_flagged()
        perms: list[dict] = [{} for _ in range(k)]  # member j's epoch orders, drawn in fit's sequence

        def rows(j, t):  # the rows of member j's step t + 1: fit's batch t % per_epoch of epoch t // per_epoch
            ep, b = divmod(t, per_epoch)
            r = slice(b * bs, min(b * bs + bs, n))
            if not shuffle:
                return r
            if ep not in perms[j]:
                perms[j] = {ep: rngs[j].permutation(n)}  # epochs are drawn in order; older ones are done
            return perms[j][ep][r]

        def batch(j, t):
            r = rows(j, t)
            return X[r], y[r]

        loss_buf = np.empty((k, 0))
        while step < total and active.any():
            # The steps up to the next evaluation (or epoch end without eval_every, or the run's
            # end), in one call; it spans epochs. A Monitor asking for the next step's record gets
            # it before the step (a call of one step); its checks end a call too (they read weights).
            asked = {j: mon_record(j, *batch(j, step)) for j in watched if active[j] and mons[j].record_step(step + 1)}
            ends = [total - step, eval_every - step % eval_every if eval_every else per_epoch - step % per_epoch]
            c = 1 if asked else min(ends + [mons[j].every - step % mons[j].every for j in watched if active[j]])
            sizes = [min(bs, n - (t % per_epoch) * bs) for t in range(step, step + c)]
            off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
            if shuffle:
                idx = np.zeros((k, int(off[-1])), dtype=np.int64)
                for j in np.flatnonzero(active):
                    idx[j] = np.concatenate([rows(j, t) for t in range(step, step + c)])
                start = None
            else:
                idx, start = None, np.array([(t % per_epoch) * bs for t in range(step, step + c)], dtype=np.int64)
            if loss_buf.shape[1] != c:
                loss_buf = np.empty((k, c))
            done = np.zeros(k, dtype=np.int64)
            ens._core.run(X, y, idx, off, loss_buf, done, train_time, active, start=start, ceiling=ceiling,
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
                    said.by(j)
                    warnings.warn(msg, RuntimeWarning)
                    h.record = asked.get(j)  # as fit leaves it: what the diverging step recorded
                    finish(j, step + d)
            for j in watched:
                if active[j]:
                    hists[j].record = asked.get(j)
                    said.by(j)
                    mons[j].on_step_end(step + c, ens.members[j], hists[j], *batch(j, step + c - 1))
                    hists[j].record = None
            step += c
            ep, b = divmod(step - 1, per_epoch)
            if eval_every is not None and step % eval_every == 0:
                for j in np.flatnonzero(active):
                    do_eval(j, ep + min(b * bs + bs, n) / n)
                stop_flagged()
            elif eval_every is None and step % per_epoch == 0 and step < total:
                for j in np.flatnonzero(active):
                    do_eval(j, step // per_epoch)
                stop_flagged()
        for j in np.flatnonzero(active):
            finish(j, step)
        return hists


class _Said:
    """Every warning raised inside, said again as it leaves, as "member j: ..." for those
    raised after by(j) (the member being worked on), in order; one list, not a catch per call."""

    def __enter__(self):
        self._ctx = warnings.catch_warnings(record=True)
        self._caught = self._ctx.__enter__()
        warnings.simplefilter("always")
        self._who, self._seen, self._said = None, 0, []
        return self

    def by(self, j):
        if len(self._caught) != self._seen:
            self._said += [(self._who, w) for w in self._caught[self._seen:]]
            self._seen = len(self._caught)
        self._who = j

    def __exit__(self, *exc):
        self.by(None)
        self._ctx.__exit__(*exc)
        for j, w in self._said:
            warnings.warn(w.message if j is None else f"member {j}: {w.message}", w.category, stacklevel=3)
