"""What an initialization does to a network, measured on a batch: per-layer activation and
gradient statistics, saturated and dead units, gradient flow and symmetry.

    >>> report = fastinit.diagnostics.diagnose(model, X, y)
    >>> report["gradient_ratio"], report["symmetry_broken"], report["layers"][0]["dead_fraction"]
"""
from __future__ import annotations

import warnings
from typing import Any, TypedDict

import numpy as np

from fastinit import _validate, stats
from fastinit.propagation import jacobian_spectrum, mean_field_twin, plot_jacobian_spectra, plot_twin

__all__ = ["diagnose", "distinct_neurons", "growth_flow", "layer_growth", "jacobian_spectrum", "mean_field_twin",
           "Monitor",
           "plot_jacobian_spectra", "plot_twin", "summary"]

# The band outside which an activation's output counts as saturated.
SATURATION = {"tanh": (-0.99, 0.99), "softsign": (-0.99, 0.99), "sigmoid": (0.01, 0.99)}
RELU_LIKE = {"relu"}


class TensorSummary(TypedDict):
    """Statistics of one tensor on the batch (None where no finite value exists)."""
    mean: float | None
    std: float | None
    p1: float | None
    p50: float | None
    p99: float | None
    hist: list[list[float]]          # [counts, edges]; empty without bins
    saturated: float | None          # outside the activation's SATURATION band
    nonfinite: int


class LayerReport(TypedDict):
    layer: int
    units: int
    fan_in: int
    activation: str
    weight_std: float
    pre: TensorSummary
    post: TensorSummary
    saturated_fraction: float | None
    dead_fraction: float | None
    grad_W_norm: float
    grad_weight_ratio: float | None
    grad_input_norm: float
    grad_input_rms: float
    distinct_neurons: int
    update_ratio: float | None


class Diagnosis(TypedDict):
    """What diagnose measured."""
    loss: float
    layers: list[LayerReport]
    gradient_ratio: float | None
    gradient_flow: str               # "vanishing", "exploding", "ok" or "none"
    symmetry_broken: bool
    thresholds: dict[str, float]


class Summary(TypedDict):
    """The few numbers of a Diagnosis a table shows."""
    loss: float
    gradient_ratio: float | None
    gradient_flow: str
    symmetry_broken: bool
    saturated: float | None
    dead: float | None
    distinct_neurons: list[int]
    activation_growth: float | None  # per layer, geometric (see layer_growth)
    gradient_growth: float | None


def distinct_neurons(W: np.ndarray, b: np.ndarray | None = None, tol: float = 1e-6) -> int:
    """Number of different neurons (rows of [W | b]) when rows within tol * max|W| are equal
    (every value rounded to a multiple of that; computed in C by hashing the rows, exact).
    A layer initialized to a constant has one: its neurons compute and learn the same thing."""
    return int(stats.distinct_rows(W, b, tol))


def _stats(x: np.ndarray, bins: int, activation: str | None = None) -> TensorSummary:
    """Moments and histogram (in C, one pass each), percentiles and, for a saturating
    activation, the fraction of x outside its SATURATION band."""
    lo, hi = SATURATION.get(activation, (-np.inf, np.inf))
    s = stats.tensor_stats(x, lo, hi, bins)
    out: TensorSummary = {"mean": None, "std": None, "p1": None, "p50": None, "p99": None, "hist": [[], []],
                          "saturated": None, "nonfinite": int(s["nonfinite"])}
    if s["nonfinite"] == x.size:
        return out
    out.update(mean=s["mean"], std=s["std"], saturated=s["sat_frac"] if activation in SATURATION else None)
    if bins:
        p1, p50, p99 = np.percentile(x if s["nonfinite"] == 0 else x[np.isfinite(x)], [1, 50, 99])
        counts, edges = s["hist"]
        out.update(p1=float(p1), p50=float(p50), p99=float(p99), hist=[counts.tolist(), edges.tolist()])
    return out


#: Default gradient-ratio thresholds: first/last input-gradient rms below VANISHING is vanishing,
#: above EXPLODING exploding.
VANISHING, EXPLODING = 1e-2, 1e2
#: The per-layer rate's tolerance: a growth above 1 + GROWTH_TOL per layer explodes, below
#: 1 / (1 + GROWTH_TOL) vanishes. A rate, so one rule fits every depth (1.5 per layer is 58x
#: over 10 layers and 1e7 over 40: exploding both times).
GROWTH_TOL = 0.25
#: The fewest layer-to-layer steps over which a rate is read: a layer of n units changes a norm
#: by a random factor of about 1 +- sqrt(2 / n), so one or two narrow layers say little.
GROWTH_MIN_STEPS = 3


def _growth(post_rms: list, grad_rms: list, fan_in: list) -> tuple[float | None, float | None]:
    """(activations, gradients) per layer, geometric, from each layer's output rms, input-
    gradient rms and fan_in (see layer_growth)."""
    L = len(post_rms)
    act = grad = None
    if L >= 3 and post_rms[0] and post_rms[L - 2] and np.isfinite(post_rms[L - 2] / post_rms[0]):
        act = (post_rms[L - 2] / post_rms[0]) ** (1 / (L - 2))
    g0, g1 = grad_rms[0] * np.sqrt(fan_in[0]), grad_rms[-1] * np.sqrt(fan_in[-1])
    if L >= 2 and g0 > 0 and g1 > 0 and np.isfinite(g0 / g1):
        grad = float((g0 / g1) ** (1 / (L - 1)))
    return act, grad


def layer_growth(report: "Diagnosis") -> tuple[float | None, float | None]:
    """(activations, gradients): the geometric growth per layer of a Diagnosis's norms.
    Activations: the rms of the hidden layers' outputs, first to last (one nonlinearity on both
    ends, so a variance-preserving init reads 1); gradients: the norm of dL/d(input), last layer
    to first, as backprop carries it down (fan-in schemes keep the norm, not the rms, across a
    change of width). None for too few layers or a zero norm."""
    layers = report["layers"]
    post = [None if l["post"]["mean"] is None else float(np.hypot(l["post"]["mean"], l["post"]["std"]))
            for l in layers]
    return _growth(post, [l["grad_input_rms"] for l in layers], [l["fan_in"] for l in layers])


def growth_flow(activation_growth: float | None, gradient_growth: float | None, tol: float = GROWTH_TOL) -> str:
    """"exploding" if activations or gradients grow faster than 1 + tol per layer, "vanishing"
    if either shrinks faster than 1 / (1 + tol), else "ok"."""
    rates = [r for r in (activation_growth, gradient_growth) if r is not None]
    if any(r > 1 + tol for r in rates):
        return "exploding"
    if any(r < 1 / (1 + tol) for r in rates):
        return "vanishing"
    return "ok"


def diagnose(model: Any, X: Any, y: Any, *, vanishing: float = VANISHING, exploding: float = EXPLODING,
             sym_tol: float = 1e-6, bins: int = 40, lr: float | None = None) -> Diagnosis:
    """Per-layer statistics of one forward/backward pass of `model` on (X, y).

    gradient_ratio = rms(dL/dx_first) / rms(dL/dx_last), x the input of a layer: how much of
    the gradient entering the last layer reaches the first as backprop carries it down
    (vanishing below `vanishing`, exploding above `exploding`).
    dead_fraction: ReLU units that output 0 on the whole batch; saturated_fraction: tanh
    |a| > 0.99, sigmoid a < 0.01 or > 0.99. symmetry_broken: every hidden layer has more than
    one distinct neuron. bins: histogram bins of each layer's pre-activation and output; 0 skips
    the histograms and percentiles (cheaper). grad_weight_ratio: ||dL/dW|| / ||W|| (None for
    W = 0); update_ratio: lr times that, the relative size of one SGD step of rate `lr` (None
    without lr; Monitor measures the real one over training).
    """
    _check_options(vanishing, exploding, sym_tol)
    bins = _validate.integer("bins", bins, low=0, high=1 << 24)
    lr = None if lr is None else _validate.positive("lr", lr)
    if y is None:  # the gradients need targets
        raise TypeError("diagnose needs y (labels or targets) for the backward pass, got None")
    if getattr(model, "pending_init", None):
        warnings.warn(f"diagnose: the model's {model.pending_init!r} init still needs data (model.finish_init(X, y)); "
                      f"these are the weights before it", RuntimeWarning, stacklevel=2)
    t = model.trace(X, y)
    layers: list[Any] = []
    for i, layer in enumerate(model.layers):
        a = t.post[i]
        hidden = i < len(model.layers) - 1
        post = _stats(a, bins, layer.activation)
        layers.append({
            "layer": i, "units": layer.fan_out, "fan_in": layer.fan_in, "activation": layer.activation,
            "weight_std": stats.tensor_stats(layer.W)["std"],
            "pre": _stats(t.pre[i], bins), "post": post,
            "saturated_fraction": post["saturated"] if hidden else None,
            "dead_fraction": _dead_fraction(a, layer.activation, hidden),
            "grad_W_norm": float(np.linalg.norm(t.grad_W[i])),
            "grad_weight_ratio": _ratio(np.linalg.norm(t.grad_W[i]), np.linalg.norm(layer.W)),
            "grad_input_norm": float(np.linalg.norm(t.grad_input[i])),
            "grad_input_rms": float(np.sqrt(np.mean(np.square(t.grad_input[i], dtype=np.float64)))),
            "distinct_neurons": distinct_neurons(layer.W, layer.b, sym_tol),
        })
    for l in layers:
        l["update_ratio"] = None if lr is None or l["grad_weight_ratio"] is None else lr * l["grad_weight_ratio"]
    ratio, flow = _gradient_flow(layers[0]["grad_input_rms"], layers[-1]["grad_input_rms"], vanishing, exploding)
    return {"loss": float(t.loss), "layers": layers, "gradient_ratio": ratio, "gradient_flow": flow,
            "symmetry_broken": _symmetry_broken([l["distinct_neurons"] for l in layers], [l["units"] for l in layers]),
            "thresholds": {"vanishing": vanishing, "exploding": exploding}}


def _check_options(vanishing, exploding, sym_tol) -> None:
    v = _validate.positive("vanishing", vanishing)
    e = _validate.positive("exploding", exploding)
    if not v < e:
        raise ValueError(f"vanishing must be below exploding, got vanishing={v:g}, exploding={e:g}")
    _validate.real("sym_tol", sym_tol, low=0.0)


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den > 0 else None


def _gradient_flow(first: float, last: float, vanishing: float, exploding: float) -> tuple[float | None, str]:
    """(ratio, verdict) of the input-gradient rms of the first layer over the last's."""
    if not last > 0:  # no gradient reaches even the last layer's input (e.g. all-zero weights)
        return None, "none"
    ratio = first / last
    return ratio, "vanishing" if ratio < vanishing else "exploding" if ratio > exploding else "ok"


def _symmetry_broken(distinct: list[int], units: list[int]) -> bool:
    """Every hidden layer of more than one unit has more than one distinct neuron."""
    return all(d > 1 for d, u in zip(distinct[:-1], units[:-1]) if u > 1)


def _dead_fraction(a: np.ndarray, activation: str, hidden: bool) -> float | None:
    return stats.dead_units(a) / a.shape[1] if hidden and activation in RELU_LIKE else None


def summary(report: Diagnosis) -> Summary:
    """The few numbers a table shows: loss, gradient ratio and flow, symmetry, worst
    saturated and dead fractions over the hidden layers, the per-layer growth (layer_growth)."""
    if not isinstance(report, dict) or not isinstance(report.get("layers"), list) or not all(
            k in report for k in ("loss", "gradient_ratio", "gradient_flow", "symmetry_broken")):
        raise TypeError(f"summary takes what diagnose returned, got {type(report).__name__}"
                        + (f" with keys {sorted(report)[:6]}" if isinstance(report, dict) else ""))
    sat = [l["saturated_fraction"] for l in report["layers"] if l["saturated_fraction"] is not None]
    dead = [l["dead_fraction"] for l in report["layers"] if l["dead_fraction"] is not None]
    act, grad = layer_growth(report)
    return {"loss": report["loss"], "gradient_ratio": report["gradient_ratio"], "gradient_flow": report["gradient_flow"],
            "symmetry_broken": report["symmetry_broken"], "saturated": max(sat) if sat else None,
            "dead": max(dead) if dead else None,
            "distinct_neurons": [l["distinct_neurons"] for l in report["layers"]],
            "activation_growth": act, "gradient_growth": grad}


class Monitor:
    """A fit callback: every `every` steps, the summary of the diagnostics (loss, gradient
    ratio and flow, symmetry, saturated and dead units), each layer's input-gradient rms
    (gradient flow over training) and the update-to-weight ratio ||W_now - W_then|| / ||W_then||
    per layer since the previous check, in `records`; per hidden layer, the mean output
    (layer_mean) and the saturated fraction (layer_saturated, None for a non-saturating
    activation), as Glorot & Bengio's Figure 2 plots them over training.

    Without a probe batch (the default), a check is read from the training step itself:
    the record of step s (the weights after s updates) comes from the C call of step s + 1,
    which also keeps each layer's output and input-gradient norm on its batch. That costs a
    fraction of a step (the first layer's input gradient and a few statistics passes), so it
    can stay on. After the last update no step follows: that check is MLP.probe on the last
    batch, one forward and backward pass.
    With a probe batch (X, y), each check is MLP.probe on it: always the same data, at the cost
    of about one training step on a batch as large as X per check.
    """

    def __init__(self, X=None, y=None, every: int = 10, *, vanishing: float = VANISHING, exploding: float = EXPLODING,
                 sym_tol: float = 1e-6):
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"every must be a positive int, got {every!r}")
        if (X is None) != (y is None):
            raise ValueError("give both X and y for a probe batch, or neither to use the training batches")
        _check_options(vanishing, exploding, sym_tol)
        self.X, self.y, self.every = X, y, int(every)
        self.vanishing, self.exploding, self.sym_tol = vanishing, exploding, sym_tol
        self.records = []
        self._last = None       # weights at the previous check
        self._pending = None    # the weight half of a check waiting for a step's record
        self._batch = None

    def on_train_begin(self, model, history):
        self._batch = None
        self._check(0, model)

    def record_step(self, step):
        return self._pending is not None

    def on_step_end(self, step, model, history, X_batch, y_batch):
        self._batch = (X_batch, y_batch)
        if self._pending is not None and history.record is not None:
            self._complete(model, history.record)
        if step % self.every == 0:
            self._check(step, model)

    def on_train_end(self, model, history):
        if self._pending is not None:
            if history.diverged and history.record:
                # The diverging step recorded what this check reads (fit stops before on_step_end).
                self._complete(model, history.record)
            elif self._batch is None:
                warnings.warn(f"Monitor: no training step ran, so the check at step {self._pending['step']} "
                              "has no batch to read and is not recorded; give Monitor(X, y) a probe batch",
                              RuntimeWarning, stacklevel=2)
            else:
                self._complete(model, model.probe(*self._batch))
        self._pending = None

    def _check(self, step, model):
        rec = {"step": step, "distinct_neurons": [distinct_neurons(l.W, l.b, self.sym_tol) for l in model.layers]}
        now = [layer.W.copy() for layer in model.layers]
        if self._last is not None:
            rec["update_ratio"] = [float(np.linalg.norm(w - p) / max(np.linalg.norm(p), 1e-30))
                                   for w, p in zip(now, self._last)]
        self._last = now
        self._pending = rec
        if self.X is not None:
            self._complete(model, model.probe(self.X, self.y))

    def _complete(self, model, record):
        """The pending check, from a step's record (see MLP.train_step and MLP.probe)."""
        rec, hidden = self._pending, model.layers[:-1]
        st = [stats.tensor_stats(a, *SATURATION.get(l.activation, (-np.inf, np.inf)))
              for l, a in zip(model.layers, record["outputs"])]
        layer_sat = [s["sat_frac"] if l.activation in SATURATION else None for l, s in zip(hidden, st)]
        sat = [v for v in layer_sat if v is not None]
        dead = [_dead_fraction(a, l.activation, True) for l, a in zip(hidden, record["outputs"])
                if l.activation in RELU_LIKE]
        g = record["grad_input_rms"]
        ratio, flow = _gradient_flow(g[0], g[-1], self.vanishing, self.exploding)
        post = [float(np.hypot(s["mean"], s["std"])) if s["nonfinite"] == 0 else None for s in st]
        act, grad = _growth(post, g, [l.fan_in for l in model.layers])
        rec.update(layer_mean=[s["mean"] if s["nonfinite"] == 0 else None for s in st[:-1]], layer_saturated=layer_sat,
                   activation_growth=act, gradient_growth=grad)
        rec.update(loss=float(record["loss"]), gradient_ratio=ratio, gradient_flow=flow, grad_input_rms=g,
                   symmetry_broken=_symmetry_broken(rec["distinct_neurons"], [l.fan_out for l in model.layers]),
                   saturated=max(sat) if sat else None, dead=max(dead) if dead else None)
        self.records.append(rec)
        self._pending = None
