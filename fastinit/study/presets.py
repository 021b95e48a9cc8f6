"""Studies that reproduce published findings (`fastinit compare --preset NAME`); docs/presets.md
records what each measures beside the paper's claim.

PRESETS: name -> the options of compare(). SOURCES: name -> what the source reports, per init
row, which beside() prints next to our median and its spread over seeds.
"""
from __future__ import annotations

import math

__all__ = ["PRESETS", "SOURCES", "beside", "course_costs"]

_COURSE = dict(  # deeplearning.ai "Initialization" notebook, as it runs: its data, its draws, float64
    dataset="course_circles", sizes=[2, 10, 5, 1], activation="relu", output="sigmoid", optimizer="sgd", lr=0.01,
    batch_size=None, steps=15000, inits=["course:kind=zeros", "course:kind=random", "course:kind=he"], seeds=[3],
    target=0.9, eval_every=500, dtype="float64")

PRESETS = {
    "course": _COURSE,
    # The same with ten weight seeds (0-9; the course's is 3): how much one seed says.
    "course-seeds": {**_COURSE, "seeds": 10},
    "deep-relu": dict(  # He et al. 2015's deep-ReLU argument on an MLP: He trains, Xavier stalls
        dataset="spirals", depth=30, width=64, activation="relu", optimizer="sgd", lr=0.01, batch_size=64,
        steps=1500, inits=["he_normal", "xavier_normal", "torch_default"], seeds=2, target=0.8, eval_every=50),
    "glorot2010": dict(  # Glorot & Bengio 2010: U(+-1/sqrt(n)) vs normalized init, tanh and sigmoid
        dataset="digits", depth=5, width=100, activation=["tanh", "sigmoid"], optimizer="sgd", lr=0.1,
        batch_size=32, steps=1500, inits=["torch_default", "xavier_uniform"], seeds=2, target=0.9, eval_every=50),
    # Glorot & Bengio's Figure 2: 4 sigmoid layers over training; the top one falls towards 0 early
    # and recovers slowly (plot.layer_means; the rate needs lr 1: at 0.1 the fall takes the whole run).
    "glorot2010-fig2": dict(
        dataset="digits", depth=4, width=100, activation="sigmoid", optimizer="sgd", lr=1.0, batch_size=32,
        steps=6000, inits=["torch_default", "xavier_uniform"], seeds=2, target=0.9, eval_every=50),
    "linear-depth": dict(  # 10 linear layers of width 2: W = 1.5 I explodes, 0.5 I vanishes
        dataset="blobs", dataset_params={"classes": 2, "features": 2}, depth=10, width=2, activation="identity",
        optimizer="sgd", lr=0.01, batch_size=None, steps=300, inits=["identity:gain=1.5", "identity:gain=0.5",
                                                                     "identity"], seeds=[0], target=0.9, eval_every=10),
    # The same gains through 40 layers: 1.5^40 = 1e7, and the explosion breaks training.
    "linear-depth-40": dict(
        dataset="blobs", dataset_params={"classes": 2, "features": 2}, depth=40, width=2, activation="identity",
        optimizer="sgd", lr=0.01, batch_size=None, steps=300, inits=["identity:gain=1.5", "identity:gain=0.5",
                                                                     "identity"], seeds=[0], target=0.9, eval_every=10),
    "mnist1d": dict(  # Greydanus 2020: the MLP reaches ~65% test accuracy
        dataset="mnist1d", sizes=[100, 100], activation="relu", optimizer="adam", lr=0.01, batch_size=100,
        steps=6000, inits=["he_normal", "xavier_normal", "zeros"], seeds=2, target=0.6, eval_every=200),
    "lsuv": dict(  # Mishkin & Matas 2015: LSUV and orthogonal against He and Xavier, deep tanh
        dataset="spirals", depth=12, width=64, activation="tanh", optimizer="sgd", lr=0.05, batch_size=64,
        steps=1500, inits=["lsuv", "orthogonal", "he_normal", "xavier_normal"], seeds=2, target=0.8, eval_every=50),
}

_LINEAR = {"citation": "a linear chain of gain * I multiplies activations and gradients by the gain per layer",
           "rows": {"identity:gain=1.5": "growth 1.5 per layer: explodes", "identity:gain=0.5":
                    "0.5 per layer: vanishes", "identity": "1 per layer: neither"}}
_COURSE_SOURCE = {"citation": "deeplearning.ai, Improving Deep Neural Networks, week 1, 'Initialization' (train / test "
                              "accuracy after 15000 iterations)",
                  "rows": {"course:kind=zeros": "50% / 50%, cost ln 2 = 0.693147 throughout",
                           "course:kind=random": "83% / 86%",
                           "course:kind=he": "99.333% / 96%, cost 0.0735790 at iteration 14000"}}

#: preset -> {"citation", "rows": {init (or "init, activation"): what the source reports}}.
SOURCES = {
    "course": _COURSE_SOURCE,
    "course-seeds": _COURSE_SOURCE,
    "deep-relu": {"citation": "He et al. 2015 (arXiv:1502.01852), Figure 3: a 30-layer ReLU net",
                  "rows": {"he_normal": "converges", "xavier_normal": "stalls, no learning",
                           "torch_default": "(not in the paper; a third of He's variance)"}},
    "glorot2010": {"citation": "Glorot & Bengio 2010, Figure 2 (sigmoid) and Section 4.2.1",
                   "rows": {"torch_default, sigmoid": "top hidden layer saturates at 0 early, recovers slowly (at lr 0.1 "
                                                      "that takes longer than this run: see glorot2010-fig2)",
                            "torch_default, tanh": "trains; the normalized init keeps activations' spread",
                            "xavier_uniform, tanh": "trains, faster than the standard init",
                            "xavier_uniform, sigmoid": "(the paper pairs its init with tanh and softsign)"}},
    "glorot2010-fig2": {"citation": "Glorot & Bengio 2010, Figure 2: mean activation of 4 sigmoid layers (standard "
                                    "init) over training; the top hidden layer saturates at 0 early and desaturates "
                                    "slowly (around epoch 100)",
                        "rows": {"torch_default": "top layer's mean falls to about 0, then recovers slowly",
                                 "xavier_uniform": "(Figure 2 is the standard init's)"}},
    "linear-depth": _LINEAR,
    "linear-depth-40": _LINEAR,
    "mnist1d": {"citation": "Greydanus 2020 (arXiv:2011.14439): the MLP's test accuracy (a residual MLP, "
                            "PyTorch's default init, see docs/presets.md)",
                "rows": {"he_normal": "about 68%", "xavier_normal": "about 68%", "zeros": "(not in the paper)"}},
    "lsuv": {"citation": "Mishkin & Matas 2015 (arXiv:1511.06422): LSUV trains deep nets at least as well as "
                         "orthogonal and the scaled Gaussian inits",
             "rows": {"lsuv": "as good as or better than the others", "orthogonal": "trains",
                      "he_normal": "trains", "xavier_normal": "trains"}},
}


def _pct(v):
    return "-" if v is None else f"{100 * v:.3g}%"


def beside(name: str, result) -> str:
    """Our figures beside the source's, per row of the table: median test accuracy over the N
    seeds with its min-max, the per-layer growth of the gradient, and what the source says."""
    src = SOURCES.get(name)
    if src is None:
        return ""
    lines = [f"source: {src['citation']}"]
    for row in result.table:
        label = row["init"] if row.get("activation") is None or len({r.get("activation") for r in result.table}) < 2 \
            else f"{row['init']}, {row['activation']}"
        n = row["seeds"]
        spread = "" if n == 1 else f" [{_pct(row.get('test_acc_min'))}-{_pct(row.get('test_acc_max'))}]"
        ours = (f"ours: train {_pct(row.get('train_acc'))} / test {_pct(row['test_acc'])}{spread} "
                f"(median over {n} seed{'s' if n != 1 else ''})")
        growth = row.get("gradient_growth")
        if growth is not None:
            ours += f", gradient x{growth:.3g} per layer"
        lines.append(f"  {label:<28} {ours}; source: {src['rows'].get(label, '-')}")
    if name.startswith("course"):
        lines.append(course_costs(result))
    return "\n".join(lines)


def course_costs(result) -> str:
    """The course's printout, cost every 1000 iterations (our full-training-set loss after that many
    updates, as the course computes it) per init, and the cost at 14000 beside the published one."""
    lines = []
    for key, runs in result.groups().items():
        init = dict(key)["init"]
        run = next((r for r in runs if r["config"]["seed"] == 3), runs[0])  # the course's seed
        evals = {e["step"]: e["train_loss"] for e in run["evals"]}
        costs = [f"{s}: {evals[s]:.7g}" for s in range(0, 15001, 1000) if s in evals]
        lines.append(f"  cost, {init} (seed {run['config']['seed']}): " + ", ".join(costs))
        if run["config"]["seed"] != 3:
            continue
        if init.endswith("he") and 14000 in evals:
            lines.append(f"    at 14000: ours {evals[14000]:.16g}, the course 0.0735790 (its float64 NumPy "
                         f"run: 0.07357895962677366; ours differs by {abs(evals[14000] - 0.07357895962677366):.1e})")
        if init.endswith("zeros") and 0 in evals:
            lines.append(f"    ln 2 = {math.log(2):.16g}; ours differs by at most "
                         f"{max(abs(v - math.log(2)) for v in evals.values()):.1e}")
    if "approximates" in str(result.settings.get("dataset", "")):
        lines.append("  note: without scikit-learn these are the built-in circles, an approximation of the "
                     "course's data; the numbers will differ (pip install scikit-learn)")
    return "\n".join(lines)

