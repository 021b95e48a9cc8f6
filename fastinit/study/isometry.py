"""The isometry preset (issue 15; Pennington, Schoenholz & Ganguli 2017, "Resurrecting the sigmoid
in deep learning through dynamical isometry"): deep tanh nets on the critical line, orthogonal
against Gaussian weights for two q*, the singular values of the input-output Jacobian at
initialization and the steps to a target; ReLU at its critical point (He's sigma_w^2 = 2) as
the control that orthogonality does not help.

Each case is a point (activation, sigma_w^2, sigma_b^2) on chi_1 = 1; orthogonal weights are
sigma_w * Q (init "orthogonal:gain=sigma_w"), Gaussian ones N(0, sigma_w^2 / fan_in), biases
N(0, sigma_b^2). Spectra on square nets fed inputs whose first pre-activations have variance q*;
training on the digits, one Ensemble per activation (fit_ensemble).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np

from fastinit import data, optim, theory
from fastinit.ensemble import Ensemble, fit_ensemble
from fastinit.init import get as get_init
from fastinit.nn import MLP
from fastinit.propagation import jacobian_spectrum
from fastinit.study import plot

__all__ = ["PRESETS", "IsometryResult", "isometry_study", "summary", "plot_isometry"]

# cases: (label, activation, sigma_b2); sigma_w2 is the critical one for tanh, 2 for relu.
PRESETS = {"isometry": dict(cases=(("tanh, q* = 0.02", "tanh", 1e-5), ("tanh, q* = 1.46", "tanh", 0.3),
                                   ("relu", "relu", 0.0)),
                            depth=32, width=100, rows=16, dataset="digits", steps=1000, lr=0.0005, momentum=0.9,
                            batch_size=32, target=0.8, eval_every=25, seeds=(0, 1))}
WEIGHTS = ("orthogonal", "gaussian")


@dataclasses.dataclass
class IsometryResult:
    """Per (case label, weights): "sigma_w2", "sigma_b2", "q_star", "singular_values" (all rows'
    and seeds', flattened), "sq_mean", "sq_var" (medians over rows), "condition" (median),
    "steps_to_target" (per seed, None if never), "test_acc" (per seed, after the budget)."""

    cells: dict
    settings: dict


def _point(act: str, sb2: float) -> tuple[float, float]:
    """(sigma_w^2, q*) of the critical point: relu's is (2, none: 0 with zero bias)."""
    if act == "relu":
        return 2.0, 1.0
    sw2 = theory.critical_sigma_w2(act, sb2)
    return sw2, theory.fixed_point(act, sw2, sb2).q


def _inits(weights: str, sw2: float, sb2: float):
    w = (get_init(f"orthogonal:gain={math.sqrt(sw2)!r}") if weights == "orthogonal" else
         get_init(f"variance_scaling:scale={float(sw2)!r},mode=fan_in,distribution=untruncated_normal"))
    b = get_init("normal", std=math.sqrt(sb2)) if sb2 > 0 else "zeros"
    return w, b


def isometry_study(*, cases: Sequence[tuple[str, str, float]], depth: int = 32, width: int = 100, rows: int = 16,
                   dataset: str = "digits", steps: int = 1000, lr: float = 0.0005, momentum: float = 0.9,
                   batch_size: int = 32, target: float = 0.8, eval_every: int = 25,
                   seeds: Sequence[int] = (0,)) -> IsometryResult:
    """Jacobian spectra at init and training to a test-accuracy target for every case x
    {orthogonal, gaussian} x seed (steps=0 skips the training)."""
    if not (isinstance(depth, int) and depth >= 1 and isinstance(width, int) and width >= 2):
        raise ValueError(f"depth must be an integer >= 1 and width >= 2, got depth={depth!r}, width={width!r}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    cells = {}
    for label, act, sb2 in cases:
        sw2, q_star = _point(act, sb2)
        for weights in WEIGHTS:
            w, b = _inits(weights, sw2, sb2)
            svs, sqm, sqv, cond = [], [], [], []
            for s in seeds:
                # inputs scaled so the first pre-activations have variance q*
                X = np.random.default_rng(20_000 + s).standard_normal((rows, width)) * math.sqrt(
                    max(q_star - sb2, 1e-12) / sw2)
                model = MLP([width] * (depth + 2), activation=act, init=w, bias_init=b, seed=s, dtype=np.float64)
                spec = jacobian_spectrum(model, X, method="exact")
                svs.append(spec["singular_values"].ravel())
                sqm.append(spec["sq_mean"])
                sqv.append(spec["sq_var"])
                cond.append(spec["condition_number"])
            cells[(label, weights)] = dict(activation=act, sigma_w2=sw2, sigma_b2=sb2, q_star=q_star,
                                           singular_values=np.concatenate(svs),
                                           sq_mean=float(np.median(np.concatenate(sqm))),
                                           sq_var=float(np.median(np.concatenate(sqv))),
                                           condition=float(np.median(np.concatenate(cond))),
                                           steps_to_target=[], test_acc=[])
    if steps > 0:
        d = data.load(dataset)
        X, y, Xt, yt = d.X_train, d.y_train, d.X_test, d.y_test
        sizes = [X.shape[1]] + [width] * depth + [int(max(y.max(), yt.max())) + 1]
        for act in dict.fromkeys(c[1] for c in cases):
            keys = [(label, weights) for label, a, _ in cases if a == act for weights in WEIGHTS]
            models, member = [], []
            for key in keys:
                c = cells[key]
                w, b = _inits(key[1], c["sigma_w2"], c["sigma_b2"])
                for s in seeds:
                    models.append(MLP(sizes, activation=act, init=w, bias_init=b, seed=s))
                    member.append((key, s))
            hists = fit_ensemble(Ensemble(models), X, y, optimizer=optim.SGD(lr, momentum=momentum), steps=steps,
                                 batch_size=batch_size, seed=[s for _, s in member], validation_data=(Xt, yt),
                                 target=target, eval_every=eval_every)
            for (key, _), h in zip(member, hists):
                cells[key]["steps_to_target"].append(h.target_step)
                cells[key]["test_acc"].append(None if h.diverged else h.evals[-1]["val_acc"])
    settings = dict(depth=depth, width=width, rows=rows, dataset=dataset, steps=steps, lr=lr, momentum=momentum,
                    batch_size=batch_size, target=target, eval_every=eval_every, seeds=seeds)
    return IsometryResult(cells, settings)


def summary(result: IsometryResult) -> str:
    """One line per (case, weights): the critical point, the Jacobian's squared singular values'
    mean and variance, the condition number, steps to the target and test accuracy."""
    head = (f"{'case':<16} {'weights':<11} {'sigma_w^2':>9} {'q*':>6} {'mean s^2':>9} {'var s^2':>9} "
            f"{'cond':>9} {'steps to ' + format(result.settings['target'], '.0%'):>13} {'test acc':>9}")
    lines = [head, "-" * len(head)]
    for (label, weights), c in result.cells.items():
        st = [s for s in c["steps_to_target"]]
        steps = "-" if not st else ("never" if all(s is None for s in st) else
                                    str(int(np.median([s for s in st if s is not None]))))
        accs = [a for a in c["test_acc"] if a is not None]
        acc = f"{np.median(accs):.1%}" if accs else "-"
        lines.append(f"{label:<16} {weights:<11} {c['sigma_w2']:>9.4g} {c['q_star']:>6.3g} {c['sq_mean']:>9.3g} "
                     f"{c['sq_var']:>9.3g} {c['condition']:>9.3g} {steps:>13} {acc:>9}")
    return "\n".join(lines)


def plot_isometry(result: IsometryResult, path: str) -> str:
    """Histograms of the Jacobian's singular values at init, one panel per case, orthogonal and
    Gaussian overlaid (log x); written to path (needs matplotlib)."""
    plt = plot.pyplot()
    labels = list(dict.fromkeys(k[0] for k in result.cells))
    fig, axes = plt.subplots(1, len(labels), figsize=(4.5 * len(labels), 3.6), squeeze=False)
    for ax, label in zip(axes[0], labels):
        vals = [np.maximum(result.cells[(label, w)]["singular_values"], 1e-12) for w in WEIGHTS]
        lo, hi = np.log10(min(v.min() for v in vals)), np.log10(max(v.max() for v in vals))
        bins = np.logspace(lo - 0.05, hi + 0.05, 50)
        for k, (w, v) in enumerate(zip(WEIGHTS, vals)):
            c = result.cells[(label, w)]
            ax.hist(v, bins=bins, alpha=0.55, color=f"C{k}", label=f"{w} (cond {c['condition']:.3g})")
        ax.set_xscale("log")
        ax.set_xlabel("singular value of the input-output Jacobian")
        ax.set_title(f"{label}, {result.settings['depth']} layers")
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("count")
    return plot.save(fig, path)
