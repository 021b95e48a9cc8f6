"""The gains preset (issue 15): what the gain does to a deep GELU or SiLU net at initialization.

PyTorch's calculate_gain has no entry for gelu or silu, so users take relu's sqrt(2). fastinit's
calculate_gain answers method="moment" (1 / sqrt(E[phi(z)^2]): unit variance kept through one
layer fed unit variance) and method="critical" (the sigma_w on the chi_1 = 1 line; for gelu and
silu that line is reached only as q* -> inf, where they are relu, so it is sqrt(2) again). This
measures the per-layer pre-activation variance q^l of 50-layer nets under each gain, with
zero biases, beside the theory's length map iterated from the first layer.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from fastinit import init, theory
from fastinit.nn import MLP
from fastinit.propagation import mean_field_twin
from fastinit.study import plot

__all__ = ["PRESETS", "GainResult", "gain_study", "summary", "plot_gains"]

PRESETS = {"gains": dict(activations=("gelu", "silu"), methods=("relu", "moment", "critical"), depth=50,
                         width=500, rows=200, seeds=(0, 1, 2))}


@dataclasses.dataclass
class GainResult:
    """q[act][method]: (seeds, depth) measured mean squared pre-activation per hidden layer;
    theory[act][method]: (depth,) the length map's prediction; gain[act][method]: the gain."""

    q: dict
    theory: dict
    gain: dict
    settings: dict


def _gain(act: str, method: str) -> float:
    """relu: the fallback users take (calculate_gain('relu')); else calculate_gain(act, method)."""
    return init.calculate_gain("relu") if method == "relu" else init.calculate_gain(act, method=method)


def gain_study(*, activations: Sequence[str] = ("gelu", "silu"),
               methods: Sequence[str] = ("relu", "moment", "critical"), depth: int = 50, width: int = 500,
               rows: int = 200, seeds: Sequence[int] = (0, 1, 2)) -> GainResult:
    """Per-layer pre-activation variance of depth-hidden-layer nets, W ~ N(0, gain^2 / fan_in)
    (the first layer, fed the data, gain 1 so q^1 = 1), zero biases, rows of N(0, 1) inputs, for
    every activation x gain method x seed."""
    if not (isinstance(depth, int) and depth >= 1 and isinstance(width, int) and width >= 1):
        raise ValueError(f"depth and width must be integers >= 1, got depth={depth!r}, width={width!r}")
    if not (isinstance(rows, int) and rows >= 2):
        raise ValueError(f"rows must be an integer >= 2, got {rows!r}")
    for m in methods:
        if m not in ("relu", "moment", "critical"):
            raise ValueError(f"methods holds {m!r}; known: 'relu', 'moment', 'critical'")
    seeds = [int(s) for s in seeds]
    q, pred, gains = {}, {}, {}
    for act in activations:
        q[act], pred[act], gains[act] = {}, {}, {}
        for method in methods:
            g = _gain(act, method)
            w = init.get(f"variance_scaling:scale={g * g!r},mode=fan_in,distribution=untruncated_normal")
            # the first layer's input is the data, not an activation's output: gain 1, so q^1 = 1
            first = init.get("variance_scaling:scale=1.0,mode=fan_in,distribution=untruncated_normal")
            per_seed = []
            for s in seeds:
                X = np.random.default_rng(10_000 + s).standard_normal((rows, width))
                model = MLP([width] * (depth + 1) + [2], activation=act, init=[first] + [w] * depth, bias_init="zeros", seed=s,
                            dtype=np.float64)
                per_seed.append(mean_field_twin(model, X)["q"][:depth])
            q[act][method] = np.array(per_seed)
            pred[act][method] = theory.iterate_maps(act, g * g, 0.0, 1.0, 0.0, depth)["q"]
            gains[act][method] = g
    return GainResult(q, pred, gains, dict(depth=depth, width=width, rows=rows, seeds=seeds))


def summary(result: GainResult) -> str:
    """Per activation and gain: the gain, q at layers 1, 10, 25 and the last (median over
    seeds) and the theory's q at the last layer."""
    L = result.settings["depth"]
    at = sorted({0, min(9, L - 1), min(24, L - 1), L - 1})
    head = f"{'activation':<10} {'gain':<16} " + " ".join(f"{'q^' + str(l + 1):>9}" for l in at) + \
        f" {'theory q^' + str(L):>11}"
    lines = [head, "-" * len(head)]
    for act, per in result.q.items():
        for method, qs in per.items():
            med = np.median(qs, axis=0)
            label = f"{method} {result.gain[act][method]:.4f}"
            lines.append(f"{act:<10} {label:<16} " + " ".join(f"{med[l]:>9.3g}" for l in at) +
                         f" {result.theory[act][method][-1]:>11.3g}")
    return "\n".join(lines)


def plot_gains(result: GainResult, path: str) -> str:
    """One panel per activation: q^l per layer (log scale), median and min-max over seeds, with
    the length map's prediction dashed; written to path (needs matplotlib)."""
    plt = plot.pyplot()
    acts = list(result.q)
    fig, axes = plt.subplots(1, len(acts), figsize=(5 * len(acts), 4), squeeze=False)
    layers = np.arange(1, result.settings["depth"] + 1)
    for ax, act in zip(axes[0], acts):
        for k, (method, qs) in enumerate(result.q[act].items()):
            color = f"C{k}"
            ls = ":" if method == "critical" else "-"  # critical = relu's sqrt(2) here: drawn over it
            ax.plot(layers, np.median(qs, axis=0), color=color, ls=ls, lw=2,
                    label=f"{method}, gain {result.gain[act][method]:.3f}")
            ax.fill_between(layers, qs.min(axis=0), qs.max(axis=0), color=color, alpha=0.2)
            ax.plot(layers, result.theory[act][method], color=color, ls="--", lw=1)
        ax.set_yscale("log")
        ax.set_xlabel("layer")
        ax.set_ylabel("pre-activation variance q^l")
        ax.set_title(f"{act}: {result.settings['depth']} layers of {result.settings['width']} (dashed: theory)")
        ax.legend(fontsize=8)
    return plot.save(fig, path)
