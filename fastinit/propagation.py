"""Signal propagation measured on a model, beside fastinit.theory's predictions: the input-output
Jacobian's singular values (dynamical isometry, Saxe et al. 2014; Pennington et al. 2017,
arXiv:1711.04735) and the empirical twin of the mean-field maps (per layer q^l, c^l, chi_1^l).
Re-exported by fastinit.diagnostics.

    >>> spec = fastinit.diagnostics.jacobian_spectrum(model, X[:8])
    >>> spec["singular_values"][0], spec["condition_number"]
    >>> twin = fastinit.diagnostics.mean_field_twin(model, X)
"""
from __future__ import annotations

import warnings

import numpy as np

from fastinit import activations
from fastinit.activations import ACTIVATIONS
from fastinit.linalg import matmul

__all__ = ["jacobian_spectrum", "mean_field_twin", "plot_jacobian_spectra", "plot_twin"]

#: Up to this width the Jacobian is formed exactly and decomposed; above, random probes.
MAX_EXACT_WIDTH = 1024


def _derivatives(model, X) -> tuple[list, list]:
    """float64 (pre-activations, phi'(pre)) of every hidden layer, from MLP.trace."""
    t = model.trace(X)
    pres, ders = [], []
    for layer, z in zip(model.layers[:-1], t.pre[:-1]):
        z = np.ascontiguousarray(z, dtype=np.float64)
        y = np.empty_like(z)
        code = ACTIVATIONS[layer.activation]
        activations.forward(z, y, code, layer.act_param)
        d = np.ones_like(z)
        activations.backward(d, z, y, d, code, layer.act_param)
        pres.append(z)
        ders.append(d)
    return pres, ders


def jacobian_spectrum(model, X, *, method: str = "auto", probes: int = 64, seed: int = 0) -> dict:
    """Singular values of d(logits)/d(input) at each row of X, J = W_L D_{L-1} W_{L-1} ... D_1 W_1
    with D_l = diag(phi'(z_l)), in float64 through fastinit.matmul.

    method: "exact" (J formed, numpy SVD), "probe" (moments of the squared singular values from
    `probes` Gaussian probes v: tr(J^T J) ~ mean ||J v||^2, tr((J^T J)^2) ~ mean ||J^T J v||^2)
    or "auto" (exact while every width is <= MAX_EXACT_WIDTH).
    Returns per row (arrays of length n): "sq_mean" and "sq_var", the mean and variance of the
    squared singular values over the min(inputs, outputs) of them; with "exact" also
    "singular_values" (n, min(inputs, outputs)), descending, and "condition_number" (inf where
    J is singular); "method" says which ran.
    """
    if method not in ("auto", "exact", "probe"):
        raise ValueError(f"method must be 'auto', 'exact' or 'probe', got {method!r}")
    if isinstance(probes, bool) or not isinstance(probes, (int, np.integer)) or probes < 1:
        raise ValueError(f"probes must be an int >= 1, got {probes!r}")
    X = model.check_X(X)
    if method == "auto":
        method = "exact" if max(model.sizes) <= MAX_EXACT_WIDTH else "probe"
    _, ders = _derivatives(model, X)
    Ws = [np.ascontiguousarray(l.W, dtype=np.float64) for l in model.layers]
    n_in, n_out = model.sizes[0], model.sizes[-1]
    k = min(n_in, n_out)
    n = X.shape[0]
    out = {"method": method, "sq_mean": np.empty(n), "sq_var": np.empty(n)}
    if method == "exact":
        sv = np.empty((n, k))
        for r in range(n):
            J = Ws[-1]
            for W, d in zip(Ws[-2::-1], ders[::-1]):
                J = matmul(J * d[r], W)
            sv[r] = np.linalg.svd(J, compute_uv=False)[:k]
        s2 = sv * sv
        out["singular_values"] = sv
        with np.errstate(divide="ignore"):
            out["condition_number"] = sv[:, 0] / sv[:, -1]
        out["sq_mean"][:] = s2.mean(axis=1)
        out["sq_var"][:] = s2.var(axis=1)
        return out
    rng = np.random.default_rng(seed)
    for r in range(n):
        V = rng.standard_normal((probes, n_in))
        U = V
        for W, d in zip(Ws[:-1], ders):  # rows of U: (J_partial v)^T
            U = matmul(U, W, trans_b=True) * d[r]
        U = matmul(U, Ws[-1], trans_b=True)  # (probes, out): (J v)^T
        G = matmul(U, Ws[-1])  # J^T J v, backwards
        for W, d in zip(Ws[-2::-1], ders[::-1]):
            G = matmul(G * d[r], W)
        m1 = (U * U).sum(axis=1).mean() / k
        m2 = (G * G).sum(axis=1).mean() / k
        out["sq_mean"][r], out["sq_var"][r] = m1, m2 - m1 * m1
    return out


def mean_field_twin(model, X) -> dict:
    """The empirical twin of the mean-field maps, per layer l (all layers, the logits last):
    "q": mean squared pre-activation over rows and units; "q_rows": the same per row (L, n);
    "c": the mean over all pairs of rows of the correlation of their pre-activations,
    z_a . z_b / sqrt(|z_a|^2 |z_b|^2); "chi1" (hidden layers; nan for the logits): the mean
    over rows of sum_j |W_{l+1}[:, j]|^2 phi'(z_j)^2 / N_{l+1}, the factor by which the next
    layer grows the per-unit squared norm of a random perturbation of z^l (theory: chi_1).
    X needs >= 2 rows for c."""
    X = model.check_X(X)
    t = model.trace(X)
    _, ders = _derivatives(model, X)
    L, n = len(model.layers), X.shape[0]
    q, c, chi = np.empty(L), np.full(L, np.nan), np.full(L, np.nan)
    q_rows = np.empty((L, n))
    iu = np.triu_indices(n, 1)
    for l, z in enumerate(t.pre):
        z = np.asarray(z, dtype=np.float64)
        sq = (z * z).mean(axis=1)
        q_rows[l] = sq
        q[l] = sq.mean()
        if n >= 2:
            G = matmul(z, z, trans_b=True)
            nrm = np.sqrt(np.diag(G))
            with np.errstate(invalid="ignore", divide="ignore"):
                C = G / np.outer(nrm, nrm)
            c[l] = C[iu].mean()
        if l < L - 1:
            col2 = (np.asarray(model.layers[l + 1].W, dtype=np.float64) ** 2).sum(axis=0)
            chi[l] = np.sum(ders[l] ** 2 * col2, axis=1).mean() / model.layers[l + 1].fan_out
    return {"q": q, "q_rows": q_rows, "c": c, "chi1": chi}


def plot_twin(measured: dict, predicted: dict | None = None, ax=None):
    """q^l, c^l and chi_1^l against depth: measured (mean_field_twin, or a list of them over
    seeds: mean and min-max band) beside the theory's maps (theory.iterate_maps). Needs
    matplotlib; returns the figure."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plot_twin needs matplotlib: pip install matplotlib") from None
    runs = measured if isinstance(measured, (list, tuple)) else [measured]
    if ax is None:
        fig, ax = plt.subplots(1, 3, figsize=(12, 3.5))
    else:
        fig = np.ravel(ax)[0].figure
    ax = np.ravel(ax)
    for a, key, label in zip(ax, ("q", "c", "chi1"), ("q^l", "c^l", "chi_1^l")):
        vals = np.array([r[key] for r in runs])
        depth = np.arange(1, vals.shape[1] + 1)
        with warnings.catch_warnings():  # chi_1 of the logits layer is nan in every run
            warnings.simplefilter("ignore", RuntimeWarning)
            mean, lo, hi = np.nanmean(vals, axis=0), np.nanmin(vals, axis=0), np.nanmax(vals, axis=0)
        a.plot(depth, mean, "o-", ms=3, label="measured")
        if len(runs) > 1:
            a.fill_between(depth, lo, hi, alpha=0.25)
        if predicted is not None and key in predicted:
            p = np.asarray(predicted[key])
            a.plot(np.arange(1, p.size + 1), p, "k--", label="theory")
        a.set_xlabel("layer")
        a.set_title(label)
        a.legend()
    fig.tight_layout()
    return fig


def plot_jacobian_spectra(spectra: dict, ax=None, bins: int = 60):
    """Histograms of the Jacobian's singular values, one per init ({label: jacobian_spectrum(...)},
    exact method), on a log axis: dynamical isometry concentrates them around 1. Needs
    matplotlib; returns the figure."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plot_jacobian_spectra needs matplotlib: pip install matplotlib") from None
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.5))
    else:
        fig = ax.figure
    sv = {k: np.ravel(v["singular_values"]) for k, v in spectra.items() if "singular_values" in v}
    if not sv:
        raise ValueError("plot_jacobian_spectra needs spectra from method='exact'")
    pos = np.concatenate([s[s > 0] for s in sv.values()])
    edges = np.geomspace(pos.min(), pos.max(), bins + 1) if pos.size and pos.min() < pos.max() else bins
    for label, s in sv.items():
        cond = np.median(spectra[label]["condition_number"])
        ax.hist(s[s > 0], bins=edges, histtype="step", label=f"{label} (median cond {cond:.3g})")
    ax.set_xscale("log")
    ax.set_xlabel("singular value of d(logits)/d(input)")
    ax.set_ylabel("count")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
