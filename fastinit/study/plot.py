"""Figures of a study (matplotlib, optional: pip install 'fastinit[plot]').

loss_curves, accuracy_curves: training loss and test accuracy per init, median over seeds with
a min-max band;
activation_histograms: each layer's activations at initialization, one row per init (the view
of deeplearning.ai's "Initializing neural networks" note); gradient_flow: per layer at
initialization, the gradient norm of W and the rms gradient of the layer's input;
steps_to_target: bars of the median steps to the target.
"""
from __future__ import annotations

import itertools
import os

import numpy as np

from fastinit.study.plan import GRID_KEYS

__all__ = ["loss_curves", "accuracy_curves", "activation_histograms", "gradient_flow", "steps_to_target",
           "save_all"]


def _plt():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'fastinit[plot]'") from None
    return plt


def _varying(result):
    """The grid keys (besides the seed) whose values differ between the study's groups."""

    keys = [dict(k) for k in result.groups()]
    return [k for k in GRID_KEYS if k != "seed" and len({d.get(k) for d in keys}) > 1] or ["init"]


def _label(point, varying):
    return ", ".join(str(point.get(k)) for k in varying)


# Line styles cycle with the colours so that runs stuck on the same curve (zeros and tiny
# random weights both sit at ln 2) stay visible.
_STYLES = ("-", "--", ":", "-.")


def _groups(result):
    """label ("init" or e.g. "init, activation") -> the runs of that grid point (its seeds)."""
    varying = _varying(result)
    return {_label(dict(key), varying): runs for key, runs in result.groups().items()}


def _median_band(ax, steps, values, style, label):
    """The median over seeds (rows of values) as a line, min-max as a band of its colour."""
    line, = ax.plot(steps, np.nanmedian(values, axis=0), ls=style, label=label)
    ax.fill_between(steps, np.nanmin(values, axis=0), np.nanmax(values, axis=0), color=line.get_color(), alpha=0.2)


def loss_curves(result, path):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for (label, runs), style in zip(_groups(result).items(), itertools.cycle(_STYLES)):
        n = min(len(r["loss_curve"]["loss"]) for r in runs)
        if n == 0:
            continue
        losses = np.array([r["loss_curve"]["loss"][:n] for r in runs], float)
        _median_band(ax, np.array(runs[0]["loss_curve"]["step"][:n]), losses, style, label)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (batch)")
    ax.set_yscale("log")
    ax.set_title("Training loss by initialization (median over seeds, band: min-max)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def accuracy_curves(result, path):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for (label, runs), style in zip(_groups(result).items(), itertools.cycle(_STYLES)):
        n = min(len(r["evals"]) for r in runs)  # a diverged run stops early: the common part
        acc = np.array([[e["val_acc"] if e["val_acc"] is not None else np.nan for e in r["evals"][:n]]
                        for r in runs], float)
        if n == 0 or np.isnan(acc).all():  # a regression output has no accuracy
            continue
        _median_band(ax, np.array([e["step"] for e in runs[0]["evals"][:n]]), acc, style, label)
    target = result.settings.get("target")
    if target is not None:
        ax.axhline(target, color="gray", lw=0.8, ls="--", label=f"target {target:g}")
    ax.set_xlabel("step")
    ax.set_ylabel("test accuracy")
    ax.set_title("Test accuracy by initialization (median over seeds, band: min-max)")
    if ax.get_lines():
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def activation_histograms(result, path):
    plt = _plt()
    groups = _groups(result)
    n_layers = max(len(runs[0]["layers_init"]) for runs in groups.values())
    # One x range per row: how the spread shrinks or grows with depth is the point of the figure.
    fig, axes = plt.subplots(len(groups), n_layers, figsize=(2.3 * n_layers, 1.7 * len(groups)), squeeze=False,
                             sharex="row")
    for row, (label, runs) in enumerate(groups.items()):
        layers = runs[0]["layers_init"]
        for col in range(n_layers):
            ax = axes[row][col]
            if col < len(layers) and layers[col]["post"]["hist"][0]:
                counts, edges = layers[col]["post"]["hist"]
                # The outline keeps a distribution far narrower than the row's range visible
                # (a spike one pixel wide) instead of vanishing below a pixel.
                ax.stairs(counts, edges, fill=True, color="C0", alpha=0.7, edgecolor="C0", linewidth=1.2)
            ax.set_yticks([])
            ax.tick_params(labelsize=6)
            if row == 0:
                ax.set_title("output (logits)" if col == n_layers - 1 else f"layer {col + 1}", fontsize=8)
            if col == 0:
                ax.set_ylabel(f"{label}\n(seed {runs[0]['config']['seed']})", fontsize=8)
    fig.suptitle("Activations per layer at initialization", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def gradient_flow(result, path):
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    panels = (("grad_W_norm", "||dL/dW||"),
              ("grad_input_rms", "rms of dL/d(layer input)"))
    for ax, (key, ylabel) in zip(axes, panels):
        smallest = np.inf
        for (label, runs), style in zip(_groups(result).items(), itertools.cycle(_STYLES)):
            # Results saved before grad_input_rms was recorded lack it: plotted as gaps.
            vals = np.array([[l.get(key, np.nan) for l in r["layers_init"]] for r in runs], float)
            med = np.median(vals, axis=0)
            smallest = min(smallest, med[med > 0].min(initial=np.inf))
            ax.plot(np.arange(1, vals.shape[1] + 1), med, marker="o", ls=style, label=label)
        ax.set_xlabel("layer")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel(ylabel)
        # symlog, linear only below the smallest gradient: an all-zero one (zeros init) shows at 0
        # and every other is on the log scale, however small.
        ax.set_yscale("symlog", linthresh=smallest / 10 if np.isfinite(smallest) else 1.0)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right upper", fontsize=8)
    fig.suptitle("Gradient flow at initialization (median over seeds); the table's ratio is first/last "
                 "of the right panel")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def steps_to_target(result, path):
    plt = _plt()
    rows = result.table
    fig, ax = plt.subplots(figsize=(7, 3.8))
    varying = _varying(result)
    labels = [_label(r, varying) for r in rows]
    steps = [r["steps_to_target"] for r in rows]
    if result.settings.get("target") is None:
        ax.text(0.5, 0.5, "no target was set for this study", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return
    top = max([s for s in steps if s is not None] or [1])
    bars = ax.bar(labels, [s if s is not None else top * 1.1 for s in steps],
                  color=["C0" if s is not None else "lightgray" for s in steps])
    for bar, s in zip(bars, steps):
        ax.annotate("never" if s is None else f"{s:g}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("steps to target (median)")
    ax.set_title(f"Steps to reach the target ({result.settings.get('target')})")
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def save_all(result, folder) -> dict:
    """Write every figure as PNG into folder; returns name -> path."""
    os.makedirs(folder, exist_ok=True)
    out = {}
    for name, fn in [("loss_curves", loss_curves), ("accuracy_curves", accuracy_curves),
                     ("activation_histograms", activation_histograms), ("gradient_flow", gradient_flow),
                     ("steps_to_target", steps_to_target)]:
        out[name] = os.path.join(folder, f"{name}.png")
        fn(result, out[name])
    return out
