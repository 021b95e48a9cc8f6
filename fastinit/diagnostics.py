"""What an initialization does to a network, measured on a batch: per-layer activation and
gradient statistics, saturated and dead units, gradient flow and symmetry.

    >>> report = fastinit.diagnostics.diagnose(model, X, y)
    >>> report["gradient_ratio"], report["symmetry_broken"], report["layers"][0]["dead_fraction"]
"""
from __future__ import annotations

import numpy as np

from fastinit import _core

__all__ = ["diagnose", "distinct_neurons", "Monitor", "summary"]

# The band outside which an activation's output counts as saturated.
SATURATION = {"tanh": (-0.99, 0.99), "softsign": (-0.99, 0.99), "sigmoid": (0.01, 0.99)}
RELU_LIKE = {"relu"}


def distinct_neurons(W: np.ndarray, b: np.ndarray | None = None, tol: float = 1e-6) -> int:
    """Number of different neurons (rows of [W | b]) when rows within tol * max|W| are equal.
    A layer initialized to a constant has one: its neurons compute and learn the same thing."""
    rows = W if b is None else np.c_[W, b]
    if rows.shape[0] <= 1:
        return rows.shape[0]
    q = np.round(rows / (max(float(np.abs(rows).max()), 1e-30) * tol)).astype(np.int64)
    # Group rows by a hash (a wrapping integer dot product), then confirm each group's rows are
    # equal: exact, and much cheaper than np.unique(axis=0)'s row sort.
    h = q @ np.random.default_rng(0).integers(1, 2**62, q.shape[1])
    _, first, group = np.unique(h, return_index=True, return_inverse=True)
    if np.array_equal(q, q[first[group]]):
        return len(first)
    return len(np.unique(q, axis=0))  # a hash collision


def _stats(x: np.ndarray, bins: int, activation: str | None = None) -> dict:
    """Moments and histogram (in C, one pass each), percentiles and, for a saturating
    activation, the fraction of x outside its SATURATION band."""
    lo, hi = SATURATION.get(activation, (-np.inf, np.inf))
    s = _core.tensor_stats(x, lo, hi, bins)
    out = {"mean": None, "std": None, "p1": None, "p50": None, "p99": None, "hist": [[], []], "saturated": None,
           "nonfinite": int(s["nonfinite"])}
    if s["nonfinite"] == x.size:
        return out
    out.update(mean=s["mean"], std=s["std"], saturated=s["sat_frac"] if activation in SATURATION else None)
    if bins:
        p1, p50, p99 = np.percentile(x if s["nonfinite"] == 0 else x[np.isfinite(x)], [1, 50, 99])
        counts, edges = s["hist"]
        out.update(p1=float(p1), p50=float(p50), p99=float(p99), hist=[counts.tolist(), edges.tolist()])
    return out


def diagnose(model, X, y, *, vanishing: float = 1e-2, exploding: float = 1e2, sym_tol: float = 1e-6,
             bins: int = 40) -> dict:
    """Per-layer statistics of one forward/backward pass of `model` on (X, y).

    gradient_ratio = rms(dL/dx_first) / rms(dL/dx_last), x the input of a layer: how much of
    the gradient entering the last layer reaches the first as backprop carries it down
    (vanishing below `vanishing`, exploding above `exploding`).
    dead_fraction: ReLU units that output 0 on the whole batch; saturated_fraction: tanh
    |a| > 0.99, sigmoid a < 0.01 or > 0.99. symmetry_broken: every hidden layer has more than
    one distinct neuron. bins: histogram bins of each layer's pre-activation and output; 0 skips
    the histograms and percentiles (what Monitor does unless told otherwise: it is cheaper).
    """
    t = model.trace(X, y)
    layers = []
    for i, layer in enumerate(model.layers):
        a = t.post[i]
        hidden = i < len(model.layers) - 1
        post = _stats(a, bins, layer.activation)
        layers.append({
            "layer": i, "units": layer.fan_out, "activation": layer.activation,
            "weight_std": _core.tensor_stats(layer.W)["std"],
            "pre": _stats(t.pre[i], bins), "post": post,
            "saturated_fraction": post["saturated"] if hidden else None,
            "dead_fraction": _core.dead_units(a) / a.shape[1] if hidden and layer.activation in RELU_LIKE else None,
            "grad_W_norm": float(np.linalg.norm(t.grad_W[i])),
            "grad_input_norm": float(np.linalg.norm(t.grad_input[i])),
            "grad_input_rms": float(np.sqrt(np.mean(np.square(t.grad_input[i], dtype=np.float64)))),
            "distinct_neurons": distinct_neurons(layer.W, layer.b, sym_tol),
        })
    first, last = layers[0]["grad_input_rms"], layers[-1]["grad_input_rms"]
    if last > 0:
        ratio = first / last
        flow = "vanishing" if ratio < vanishing else "exploding" if ratio > exploding else "ok"
    else:  # no gradient reaches even the last layer's input (e.g. all-zero weights)
        ratio, flow = None, "none"
    hidden = [l for l in layers[:-1] if l["units"] > 1]
    return {"loss": float(t.loss), "layers": layers, "gradient_ratio": ratio, "gradient_flow": flow,
            "symmetry_broken": all(l["distinct_neurons"] > 1 for l in hidden),
            "thresholds": {"vanishing": vanishing, "exploding": exploding}}


def summary(report: dict) -> dict:
    """The few numbers a table shows: loss, gradient ratio and flow, symmetry, worst
    saturated and dead fractions over the hidden layers."""
    sat = [l["saturated_fraction"] for l in report["layers"] if l["saturated_fraction"] is not None]
    dead = [l["dead_fraction"] for l in report["layers"] if l["dead_fraction"] is not None]
    return {"loss": report["loss"], "gradient_ratio": report["gradient_ratio"], "gradient_flow": report["gradient_flow"],
            "symmetry_broken": report["symmetry_broken"], "saturated": max(sat) if sat else None,
            "dead": max(dead) if dead else None,
            "distinct_neurons": [l["distinct_neurons"] for l in report["layers"]]}


class Monitor:
    """A fit callback: every `every` steps, diagnostics on (X, y) and the update-to-weight
    ratio ||W_now - W_then|| / ||W_then|| per layer since the previous check. Each check costs
    about one training step on a batch as large as X (a forward and backward pass)."""

    def __init__(self, X, y, every: int = 10, **diagnose_kw):
        if int(every) < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.X, self.y, self.every, self.kw = X, y, int(every), {"bins": 0, **diagnose_kw}
        self.records = []
        self._last = None

    def on_train_begin(self, model, history):
        self._record(0, model)

    def on_step_end(self, step, model, history, X_batch, y_batch):
        if step % self.every == 0:
            self._record(step, model)

    def _record(self, step, model):
        rep = summary(diagnose(model, self.X, self.y, **self.kw))
        now = [layer.W.copy() for layer in model.layers]
        if self._last is not None:
            rep["update_ratio"] = [float(np.linalg.norm(w - p) / max(np.linalg.norm(p), 1e-30))
                                   for w, p in zip(now, self._last)]
        self._last = now
        rep["step"] = step
        self.records.append(rep)
