"""Figures of a study (matplotlib, optional: pip install 'fastinit[plot]').

loss_curves, accuracy_curves: training loss and test accuracy per init, median over seeds with
a min-max band;
activation_histograms: each layer's activations at initialization, one row per init (the view
of deeplearning.ai's "Initializing neural networks" note); gradient_flow: per layer at
initialization, the gradient norm of W and the rms gradient of the layer's input;
steps_to_target: bars of the median steps to the target; layer_means: per hidden layer over
training, the mean output and the saturated fraction.
"""
from __future__ import annotations

import itertools
import os
import warnings

import numpy as np

from fastinit.study.plan import GRID_KEYS

__all__ = ["loss_curves", "accuracy_curves", "activation_histograms", "gradient_flow", "steps_to_target",
           "layer_means", "save_all"]


def pyplot():
    """matplotlib.pyplot on the Agg backend (files only), or an ImportError saying how to get it;
    every figure of the study package starts here."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'fastinit[plot]'") from None
    return plt


def save(fig, path, tight: bool = True) -> str:
    """Write fig to path, laid out tight unless tight=False (a figure placed as drawn), and
    close it."""
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    return path


def _varying(result):
    """The grid keys (besides the seed) whose values differ between the study's groups."""

    keys = [dict(k) for k in result.groups()]
    return [k for k in GRID_KEYS if k != "seed" and len({d.get(k) for d in keys}) > 1] or ["init"]


def _label(point, varying):
    return ", ".join(str(point.get(k)) for k in varying)


# Line styles cycle with the colours so that runs stuck on the same curve (zeros and tiny
# random weights both sit at ln 2) stay visible.
_STYLES = ("-", "--", ":", "-.")
_MARKERS = ("o", "s", "^", "D", "v", "x", "P")


def _seeds_note(result) -> str:
    """'median over N seeds, band: min-max' with the study's true N (or its range, or one seed)."""
    ns = sorted({len(runs) for runs in result.groups().values()})
    if ns == [1]:
        return "1 seed"
    n = str(ns[0]) if len(ns) == 1 else f"{ns[0]}-{ns[-1]}"
    return f"median over {n} seeds, band: min-max"


def _groups(result):
    """label ("init" or e.g. "init, activation") -> the runs of that grid point (its seeds)."""
    varying = _varying(result)
    return {_label(dict(key), varying): runs for key, runs in result.groups().items()}


def _median_band(ax, steps, values, style, label, k=0):
    """The median over seeds (rows of values) as a line, min-max as a band of its colour. Each
    curve gets its own marker, placed at points shifted by k, so curves that lie on top of each
    other (zeros and tiny random weights at ln 2) stay told apart."""
    n = values.shape[1]
    every = max(1, n // 8)
    with warnings.catch_warnings():  # a diverged run's NaN loss: a gap in the line, said in the table
        warnings.simplefilter("ignore", RuntimeWarning)
        med, lo, hi = np.nanmedian(values, axis=0), np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    line, = ax.plot(steps, med, ls=style, label=label, marker=_MARKERS[k % len(_MARKERS)],
                    markevery=(min(n - 1, (k * every) // 4 % every), every), markersize=5, fillstyle="none")
    ax.fill_between(steps, lo, hi, color=line.get_color(), alpha=0.2)


def loss_curves(result, path):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for k, ((label, runs), style) in enumerate(zip(_groups(result).items(), itertools.cycle(_STYLES))):
        n = min(len(r["loss_curve"]["loss"]) for r in runs)
        if n == 0:
            continue
        losses = np.array([r["loss_curve"]["loss"][:n] for r in runs], float)
        _median_band(ax, np.array(runs[0]["loss_curve"]["step"][:n]), losses, style, label, k)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (batch)")
    ax.set_yscale("log")
    ax.set_title(f"Training loss by initialization ({_seeds_note(result)})")
    ax.legend(fontsize=8)
    save(fig, path)


def accuracy_curves(result, path):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for k, ((label, runs), style) in enumerate(zip(_groups(result).items(), itertools.cycle(_STYLES))):
        n = min(len(r["evals"]) for r in runs)  # a diverged run stops early: the common part
        acc = np.array([[e["val_acc"] if e["val_acc"] is not None else np.nan for e in r["evals"][:n]]
                        for r in runs], float)
        if n == 0 or np.isnan(acc).all():  # a regression output has no accuracy
            continue
        _median_band(ax, np.array([e["step"] for e in runs[0]["evals"][:n]]), acc, style, label, k)
    target = result.settings.get("target")
    if target is not None:
        ax.axhline(target, color="gray", lw=0.8, ls="--", label=f"target {target:g}")
    ax.set_xlabel("step")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"Test accuracy by initialization ({_seeds_note(result)})")
    if ax.get_lines():
        ax.legend(fontsize=8)
    save(fig, path)


def activation_histograms(result, path):
    plt = pyplot()
    groups = _groups(result)
    n_layers = max(len(runs[0]["layers_init"]) for runs in groups.values())
    # Each layer its own x range (its histogram's), printed in the panel: with one range per row,
    # huge logits turn every hidden layer into a spike at 0 and a saturated tanh layer looks like a
    # vanishing one. The range and the saturated fraction say what the shape alone cannot.
    fig, axes = plt.subplots(len(groups), n_layers, figsize=(2.3 * n_layers, 1.7 * len(groups)), squeeze=False)
    for row, (label, runs) in enumerate(groups.items()):
        layers = runs[0]["layers_init"]
        for col in range(n_layers):
            ax = axes[row][col]
            if col < len(layers) and layers[col]["post"]["hist"][0]:
                counts, edges = layers[col]["post"]["hist"]
                # The outline keeps a distribution far narrower than the row's range visible
                # (a spike one pixel wide) instead of vanishing below a pixel.
                ax.stairs(counts, edges, fill=True, color="C0", alpha=0.7, edgecolor="C0", linewidth=1.2)
                post = layers[col]["post"]
                note = f"[{edges[0]:.3g}, {edges[-1]:.3g}]"
                if post.get("saturated") is not None:
                    note += f"\nsat. {100 * post['saturated']:.0f}%"
                ax.text(0.02, 0.97, note, transform=ax.transAxes, fontsize=6, va="top")
            ax.set_yticks([])
            ax.tick_params(labelsize=6)
            if row == 0:
                ax.set_title("output (logits)" if col == n_layers - 1 else f"layer {col + 1}", fontsize=8)
            if col == 0:
                ax.set_ylabel(f"{label}\n(seed {runs[0]['config']['seed']})", fontsize=8)
    fig.suptitle("Activations per layer at initialization (each panel its own x range)", fontsize=10)
    save(fig, path)


def gradient_flow(result, path):
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    panels = (("grad_W_norm", "||dL/dW||"),
              ("grad_input_rms", "rms of dL/d(layer input)"))
    for ax, (key, ylabel) in zip(axes, panels):
        smallest = np.inf
        for k, ((label, runs), style) in enumerate(zip(_groups(result).items(), itertools.cycle(_STYLES))):
            # Results saved before grad_input_rms was recorded lack it: plotted as gaps.
            vals = np.array([[l.get(key, np.nan) for l in r["layers_init"]] for r in runs], float)
            med = np.median(vals, axis=0)
            smallest = min(smallest, med[med > 0].min(initial=np.inf))
            ax.plot(np.arange(1, vals.shape[1] + 1), med, marker=_MARKERS[k % len(_MARKERS)], ls=style, label=label,
                    fillstyle="none")
        ax.set_xlabel("layer")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel(ylabel)
        # symlog, linear only below the smallest gradient: an all-zero one (zeros init) shows at 0
        # and every other is on the log scale, however small.
        ax.set_yscale("symlog", linthresh=smallest / 10 if np.isfinite(smallest) else 1.0)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right upper", fontsize=8)
    fig.suptitle(f"Gradient flow at initialization ({_seeds_note(result).split(',')[0]}); the table's ratio is "
                 "first/last of the right panel")
    save(fig, path, tight=False)


def steps_to_target(result, path):
    plt = pyplot()
    rows = result.table
    fig, ax = plt.subplots(figsize=(7, 3.8))
    varying = _varying(result)
    labels = [_label(r, varying) for r in rows]
    steps = [r["steps_to_target"] for r in rows]
    if result.settings.get("target") is None:
        ax.text(0.5, 0.5, "no target was set for this study", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        save(fig, path, tight=False)
        return
    # An init that never reached the target gets no bar (a bar would read as a number of steps),
    # only the word at the axis.
    bars = ax.bar(labels, [s if s is not None else 0 for s in steps], color="C0")
    for bar, s in zip(bars, steps):
        ax.annotate("never" if s is None else f"{s:g}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8, color="firebrick" if s is None else "black",
                    fontweight="bold" if s is None else "normal")
    ax.set_ylabel("steps to target (median)")
    ax.set_title(f"Steps to reach the target ({result.settings.get('target')}; {_seeds_note(result).split(',')[0]})")
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    save(fig, path)


def layer_means(result, path):
    """Per hidden layer over training: the mean output and the saturated fraction (Glorot &
    Bengio 2010, Figure 2: the top sigmoid layer falls to 0 early and recovers slowly). One row
    per grid point, the median over its seeds at each check."""
    plt = pyplot()
    groups = {label: runs for label, runs in _groups(result).items() if all(r.get("monitor") for r in runs)}
    if not groups:
        fig, ax = plt.subplots(figsize=(7, 2))
        ax.text(0.5, 0.5, "no diagnostics over training in this result", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        save(fig, path, tight=False)
        return
    fig, axes = plt.subplots(len(groups), 2, figsize=(10, 2.4 * len(groups)), squeeze=False)
    for row, (label, runs) in enumerate(groups.items()):
        n = min(len(r["monitor"]) for r in runs)
        steps = [m["step"] for m in runs[0]["monitor"][:n]]
        for col, key in enumerate(("layer_mean", "layer_saturated")):
            ax = axes[row][col]
            vals = np.array([[[np.nan if v is None else v for v in m[key]] for m in r["monitor"][:n]] for r in runs],
                            float)  # (seeds, checks, layers)
            if np.isnan(vals).all():
                ax.text(0.5, 0.5, "no saturating activation", ha="center", va="center", transform=ax.transAxes,
                        fontsize=8)
            else:
                med = np.nanmedian(vals, axis=0)
                for layer in range(med.shape[1]):
                    ax.plot(steps, med[:, layer], ls=_STYLES[layer % len(_STYLES)], label=f"layer {layer + 1}",
                            marker=_MARKERS[layer % len(_MARKERS)], markevery=max(1, n // 6), markersize=4,
                            fillstyle="none")
                ax.legend(fontsize=6, ncol=2)
            ax.set_ylabel("mean output" if col == 0 else "saturated fraction", fontsize=8)
            ax.set_title(label, fontsize=8)
            ax.tick_params(labelsize=7)
        axes[row][0].set_xlabel("step", fontsize=8)
        axes[row][1].set_xlabel("step", fontsize=8)
    fig.suptitle(f"Hidden layers over training ({_seeds_note(result).split(',')[0]})", fontsize=10)
    save(fig, path)


def save_all(result, folder) -> dict:
    """Write every figure as PNG into folder; returns name -> path."""
    os.makedirs(folder, exist_ok=True)
    out = {}
    for name, fn in [("loss_curves", loss_curves), ("accuracy_curves", accuracy_curves),
                     ("activation_histograms", activation_histograms), ("gradient_flow", gradient_flow),
                     ("steps_to_target", steps_to_target), ("layer_means", layer_means)]:
        out[name] = os.path.join(folder, f"{name}.png")
        fn(result, out[name])
    return out
