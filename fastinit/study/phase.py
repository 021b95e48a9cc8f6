"""The edge-of-chaos phase diagram (Schoenholz et al., ICLR 2017, Figures 5-6): tanh nets over a
grid of weight variance sigma_w^2 and depth, trained for a fixed budget, their test accuracy
beside the theory's 6 xi_c curve (nets train only when shallower than about 6 xi_c).

The grid varies depth, which the study's plan keeps fixed per study, so it has its own runner:
one fastinit.Ensemble per depth holds every sigma_w^2 x seed (one architecture), trained by
fit_ensemble in C. Weights N(0, sigma_w^2 / fan_in) ("variance_scaling", untruncated, mode
fan_in, scale sigma_w^2), biases N(0, sigma_b^2), the mean-field setting of the theory.
"""
from __future__ import annotations

import dataclasses
import math
import time
from typing import Sequence

import numpy as np

from fastinit import data, optim, theory
from fastinit.ensemble import Ensemble, fit_ensemble
from fastinit.init import get as get_init
from fastinit.study import plot

__all__ = ["PRESETS", "PhaseResult", "phase_diagram", "run_preset", "plot_phase", "summary"]

# name -> phase_diagram's options; docs/presets.md gives each one's measured outcome.
PRESETS = {
    "edge-of-chaos": dict(dataset="digits", activation="tanh", sigma_b2=0.05,
                          sigma_w2=(1.0, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0), depths=(10, 20, 40, 70, 100),
                          width=100, steps=1000, optimizer="sgd", lr=0.0005, momentum=0.9, batch_size=32,
                          seeds=(0,), threshold=0.5),
}


@dataclasses.dataclass
class PhaseResult:
    """Test accuracy per (sigma_w^2, depth), the theory's xi_c per sigma_w^2 and the settings.

    accuracy: (len(sigma_w2), len(depths)) median test accuracy over the seeds after the
    budget; xi_c: (len(sigma_w2),) the correlation depth scale of theory.depth_scales."""

    sigma_w2: np.ndarray
    depths: np.ndarray
    accuracy: np.ndarray
    xi_c: np.ndarray
    critical_sigma_w2: float
    settings: dict
    seconds: float

    def trained(self) -> np.ndarray:
        """Cells whose accuracy reached the settings' threshold (bool, accuracy's shape)."""
        return self.accuracy >= self.settings["threshold"]

    def under_curve(self, factor: float = 6.0) -> np.ndarray:
        """Cells no deeper than factor * xi_c (bool, accuracy's shape)."""
        return self.depths[None, :] <= factor * self.xi_c[:, None]


def phase_diagram(*, sigma_w2: Sequence[float], depths: Sequence[int], width: int = 100,
                  activation: str = "tanh", sigma_b2: float = 0.05, dataset: str = "digits",
                  steps: int = 1000, optimizer: str = "sgd", lr: float = 0.0005, momentum: float = 0.9,
                  batch_size: int = 32,
                  seeds: Sequence[int] = (0,), threshold: float = 0.5, data_seed: int = 0) -> PhaseResult:
    """Train a `depth`-hidden-layer, `width`-wide net for every (sigma_w^2, depth, seed) for
    `steps` SGD steps and record its test accuracy, with xi_c from the theory for each sigma_w^2.

    threshold: the accuracy above which a cell counts as trained (for trained() and the figure)."""
    sw2 = np.asarray(sigma_w2, dtype=np.float64)
    ds = np.asarray(depths, dtype=np.int64)
    if sw2.ndim != 1 or sw2.size == 0 or not np.all(sw2 > 0):
        raise ValueError(f"sigma_w2 must be a non-empty list of positive floats, got {sigma_w2!r}")
    if ds.ndim != 1 or ds.size == 0 or not np.all(ds >= 1):
        raise ValueError(f"depths must be a non-empty list of integers >= 1, got {depths!r}")
    if not (isinstance(width, int) and width >= 1):
        raise ValueError(f"width must be an integer >= 1, got {width!r}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    _optimizer(optimizer, lr, momentum)  # refused before any data loads
    d = data.load(dataset, seed=data_seed)
    X, y, Xt, yt = d.X_train, d.y_train, d.X_test, d.y_test
    n_in, n_out = X.shape[1], int(max(y.max(), yt.max())) + 1
    bias = get_init("normal", std=math.sqrt(sigma_b2))
    acc = np.empty((sw2.size, ds.size, len(seeds)))
    t0 = time.perf_counter()
    for j, depth in enumerate(ds):
        inits = [get_init(f"variance_scaling:scale={float(s)!r},mode=fan_in,distribution=untruncated_normal")
                 for s in sw2 for _ in seeds]
        member_seeds = [1000 * i + s for i in range(sw2.size) for s in seeds]
        ens = Ensemble.from_sizes([n_in] + [width] * int(depth) + [n_out], seeds=member_seeds, inits=inits,
                                  activation=activation, bias_init=bias)
        hists = fit_ensemble(ens, X, y, optimizer=_optimizer(optimizer, lr, momentum), steps=steps,
                             batch_size=batch_size, seed=member_seeds, validation_data=(Xt, yt))
        for m, h in enumerate(hists):
            last = h.evals[-1]["val_acc"] if h.evals and not h.diverged else None
            acc[m // len(seeds), j, m % len(seeds)] = 0.0 if last is None else last
    seconds = time.perf_counter() - t0
    xi_c = np.array([theory.depth_scales(activation, float(s), sigma_b2).xi_c for s in sw2])
    settings = dict(dataset=dataset, activation=activation, sigma_b2=sigma_b2, width=width, steps=steps,
                    optimizer=optimizer, lr=lr,
                    momentum=momentum, batch_size=batch_size, seeds=seeds, threshold=threshold,
                    n_train=int(X.shape[0]), n_test=int(Xt.shape[0]))
    return PhaseResult(sw2, ds, np.median(acc, axis=2), xi_c, theory.critical_sigma_w2(activation, sigma_b2),
                       settings, seconds)


def _optimizer(name: str, lr: float, momentum: float):
    """One optimizer (a state per member) by name: sgd (with momentum) or adam."""
    if name == "sgd":
        return optim.SGD(lr, momentum=momentum)
    if name == "adam":
        return optim.Adam(lr)
    raise ValueError(f"optimizer must be 'sgd' or 'adam', got {name!r}")


def run_preset(name: str, **override) -> PhaseResult:
    """phase_diagram with PRESETS[name]'s options, any of them overridden."""
    if name not in PRESETS:
        raise ValueError(f"unknown phase preset {name!r}; known: {sorted(PRESETS)}")
    return phase_diagram(**{**PRESETS[name], **override})


def summary(result: PhaseResult) -> str:
    """The accuracy grid as text (rows sigma_w^2 with 6 xi_c, columns depth), trained cells
    starred, and how many trained cells lie above the 6 xi_c curve."""
    head = "sigma_w^2  6xi_c | " + " ".join(f"{int(d):>5}" for d in result.depths)
    lines = [head, "-" * len(head)]
    trained = result.trained()
    for i, s in enumerate(result.sigma_w2):
        cells = " ".join(f"{result.accuracy[i, j]:>4.0%}{'*' if trained[i, j] else ' '}"
                         for j in range(result.depths.size))
        lines.append(f"{s:>9.3g} {6 * result.xi_c[i]:>6.3g} | {cells}")
    above = int(np.sum(trained & ~result.under_curve()))
    lines.append(f"* test accuracy >= {result.settings['threshold']:.0%}; trained cells above 6 xi_c: {above} "
                 f"of {int(trained.sum())}; critical sigma_w^2 = {result.critical_sigma_w2:.4f}; "
                 f"{result.seconds:.0f} s of training")
    return "\n".join(lines)


def plot_phase(result: PhaseResult, path: str) -> str:
    """The heatmap of test accuracy over (sigma_w^2, depth), the 6 xi_c curve and the critical
    sigma_w^2 drawn over it; written to path (needs matplotlib)."""
    plt = plot.pyplot()
    s = result.settings
    sw2, ds = result.sigma_w2, result.depths

    def edges(v):
        mid = (v[1:] + v[:-1]) / 2 if v.size > 1 else np.array([])
        lo = v[0] - (mid[0] - v[0] if mid.size else 0.5)
        hi = v[-1] + (v[-1] - mid[-1] if mid.size else 0.5)
        return np.concatenate([[lo], mid, [hi]])

    fig, ax = plt.subplots(figsize=(7, 4.5))
    mesh = ax.pcolormesh(edges(sw2), edges(ds.astype(float)), result.accuracy.T, cmap="viridis", vmin=0,
                         vmax=1, shading="flat")
    fig.colorbar(mesh, ax=ax, label="test accuracy")
    fine = np.linspace(sw2.min(), sw2.max(), 31)
    xi = np.array([theory.depth_scales(s["activation"], float(v), s["sigma_b2"]).xi_c for v in fine])
    ax.plot(fine, np.minimum(6 * xi, ds.max() * 1.5), color="white", lw=2, label=r"6 $\xi_c$ (theory)")
    ax.axvline(result.critical_sigma_w2, color="white", ls="--", lw=1,
               label=rf"critical $\sigma_w^2$ = {result.critical_sigma_w2:.3f}")
    ax.set_ylim(edges(ds.astype(float))[0], edges(ds.astype(float))[-1])
    ax.set_xlabel(r"$\sigma_w^2$")
    ax.set_ylabel("depth (hidden layers)")
    ax.set_title(f"{s['activation']}, $\\sigma_b^2$={s['sigma_b2']}, width {s['width']}, {s['dataset']}, "
                 f"{s['steps']} SGD steps")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.3)
    return plot.save(fig, path)
