"""Tensor statistics in one C pass each, for the diagnostics: moments and fractions, dead
units, distinct rows (is symmetry broken?)."""
from __future__ import annotations

from typing import Any

import numpy as np

from fastinit import _core, _validate
from fastinit._validate import describe

__all__ = ["dead_units", "distinct_rows", "tensor_stats"]


def _input(name: str, x) -> np.ndarray:
    return np.ascontiguousarray(_validate.float_array(name, x))


def tensor_stats(x: np.ndarray, sat_lo: float = -np.inf, sat_hi: float = np.inf, bins: int = 0) -> dict[str, Any]:
    """mean, std, min, max, zero and saturated (outside [sat_lo, sat_hi]) fractions of the
    finite values of x, the count of non-finite ones, and with bins > 0 a histogram over
    [min, max] ([v - 0.5, v + 0.5] if all equal v, as NumPy's): "hist" = (counts, edges)."""
    a = _input("x", x)
    bins = _validate.integer("bins", bins, low=0, high=1 << 24)
    if isinstance(sat_lo, (bool, np.bool_)) or isinstance(sat_hi, (bool, np.bool_)):
        raise TypeError("sat_lo and sat_hi must be numbers")
    counts = np.zeros(max(bins, 1), np.int64)
    out = _core.tensor_stats(a.reshape(-1), float(sat_lo), float(sat_hi), counts, bins)
    if bins:
        lo, hi = (out["min"], out["max"]) if out["max"] > out["min"] else (out["min"] - 0.5, out["min"] + 0.5)
        if np.isfinite(hi - lo):
            edges = np.linspace(lo, hi, bins + 1)
        else:  # a range past the float64 maximum: the same points without forming hi - lo
            t = np.linspace(0.0, 1.0, bins + 1)
            edges = lo * (1 - t) + hi * t
            edges[0], edges[-1] = lo, hi
        out["hist"] = (counts, edges)
    return out


def dead_units(a: np.ndarray) -> int:
    """Number of columns of a (n, k) that are <= 0 in every row."""
    x = _input("a", a)
    if x.ndim != 2:
        raise ValueError(f"{describe('a', x)}: expected a 2-D (batch, units) array")
    return _core.dead_units(x)


def distinct_rows(w: np.ndarray, b: np.ndarray | None = None, tol: float = 1e-6) -> int:
    """Number of different rows of [w | b] (w (r, k), b (r,) or None) once every value is
    rounded to a multiple of tol * max|value| (finite values; NaN and +-inf are values of
    their own)."""
    x = _input("w", w)
    if x.ndim != 2:
        raise ValueError(f"{describe('w', x)}: expected a 2-D (rows, columns) array")
    tol = _validate.positive("tol", tol)
    xb = None
    if b is not None:
        xb = _input("b", b)
        if xb.ndim != 1 or xb.shape[0] != x.shape[0] or xb.dtype != x.dtype:
            raise ValueError(f"{describe('b', xb)}: expected a ({x.shape[0]},) {x.dtype} array to match w")
    out = _core.distinct_rows(x, xb, tol)
    if out < 0:
        raise MemoryError(f"distinct_rows: cannot allocate the codes of a {x.shape[0]}x{x.shape[1]} matrix")
    return out
