"""Gauss rules for the Gaussian expectations of the mean-field theory, split where an activation
has its kink (x = 0): accurate for relu-like activations where plain Gauss-Hermite is not (201
Hermite nodes miss E[relu'(z)^2] by 1e-1). Built once, without BLAS (thread-count-proof bits)."""
from __future__ import annotations

import functools
import math

import numpy as np
from numpy.polynomial.legendre import leggauss

__all__ = ["N_ANGLE", "N_HALF", "rule_1d", "rule_2d"]

#: Nodes of the half-line Gauss rules (1-D per side, and radial in 2-D).
N_HALF = 80
#: Gauss-Legendre nodes per angular sector of the 2-D rule.
N_ANGLE = 32

def _stieltjes_rule(n: int, radial: bool) -> tuple[np.ndarray, np.ndarray]:
    """Gauss rule (nodes, weights) of the weight phi(x) = exp(-x^2/2)/sqrt(2 pi) (or r exp(-r^2/2)
    if radial) on [0, inf): the measure is discretized by composite Gauss-Legendre on [0, R]
    (beyond R the weight is below 1e-190), the Jacobi matrix comes from Lanczos with full
    reorthogonalization (stable), its eigen-decomposition gives the rule (Golub-Welsch)."""
    R = 2.0 * math.sqrt(4.0 * n) + 12.0
    x, w = leggauss(20)
    edges = np.linspace(0.0, R, 81)
    a, b = edges[:-1, None], edges[1:, None]
    t = ((b - a) / 2 * x + (a + b) / 2).ravel()
    mu = ((b - a) / 2 * w).ravel()
    mu = mu * (t * np.exp(-t * t / 2) if radial else np.exp(-t * t / 2) / math.sqrt(2 * math.pi))
    total = mu.sum()
    V = np.zeros((n + 1, t.size))
    alpha, beta = np.zeros(n), np.zeros(n)
    V[0] = np.sqrt(mu / total)
    for k in range(n):
        u = t * V[k]
        alpha[k] = np.sum(u * V[k])
        for _ in range(2):  # no BLAS: its thread count could change the bits
            u -= np.sum(V[:k + 1] * np.sum(V[:k + 1] * u, axis=1)[:, None], axis=0)
        beta[k] = math.sqrt(np.sum(u * u))
        V[k + 1] = u / beta[k]
    lam, vec = np.linalg.eigh(np.diag(alpha) + np.diag(beta[:-1], 1) + np.diag(beta[:-1], -1))
    return lam, total * vec[0] ** 2


@functools.lru_cache(maxsize=None)
def rule_1d() -> tuple[np.ndarray, np.ndarray]:
    """(z, w): E[f(z)] ~ sum w f(z) for z ~ N(0, 1), split at 0."""
    x, w = _stieltjes_rule(N_HALF, radial=False)
    return np.concatenate([x, -x]), np.concatenate([w, w])


@functools.lru_cache(maxsize=None)
def _rules_2d_parts():
    r, wr = _stieltjes_rule(N_HALF, radial=True)
    a, wa = leggauss(N_ANGLE)
    return r, wr, a, wa


def rule_2d(c: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x1, x2, w): E[f(x1, x2)] ~ sum w f(x1, x2) for standard normals of correlation c, with
    the angle split at the rays where x1 or x2 changes sign."""
    r, wr, a, wa = _rules_2d_parts()
    th_c = math.acos(min(1.0, max(-1.0, c)))
    cuts = sorted({round(v % (2 * math.pi), 15) for v in
                   (math.pi / 2, 3 * math.pi / 2, th_c + math.pi / 2, th_c + 3 * math.pi / 2)})
    cuts.append(cuts[0] + 2 * math.pi)
    th, wth = [], []
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        if hi - lo > 1e-15:
            th.append((hi - lo) / 2 * a + (hi + lo) / 2)
            wth.append((hi - lo) / 2 * wa / (2 * math.pi))
    th, wth = np.concatenate(th), np.concatenate(wth)
    x1 = np.outer(r, np.cos(th)).ravel()
    x2 = np.outer(r, np.cos(th - th_c)).ravel()
    return x1, x2, np.outer(wr, wth).ravel()
