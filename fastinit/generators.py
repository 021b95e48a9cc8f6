"""The synthetic 2-D (and blob) classification tasks as (X, y) arrays, NumPy only, from an
explicit seed: circles, moons, spirals, xor, blobs. fastinit.data wraps them into Datasets."""
from __future__ import annotations

import numpy as np

from fastinit import _validate

__all__ = ["make_blobs", "make_circles", "make_moons", "make_spirals", "make_xor"]


def _check_n(n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"a dataset needs n >= 2 points, got {n!r}")
    if n > 1 << 31:  # a generator's arrays are a few values per point: never gigabytes by accident
        raise ValueError(f"a generated dataset holds at most 2**31 points, got {n}")


def _check_noise(name, v):
    return _validate.real(name, v, low=0.0)


def _check_classes(classes):
    return _validate.integer("classes", classes, low=2, high=1 << 16)


def make_circles(n, *, noise=0.05, factor=0.8, seed=0):
    """Two concentric circles (outer radius 1, inner `factor`; 0.8 as in scikit-learn's
    make_circles, which the course uses with its default), Gaussian noise; balanced."""
    _check_n(n)
    noise = _check_noise("noise", noise)
    factor = _validate.real("factor", factor, low=0.0, high=1.0, low_open=True, high_open=True)
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    t = rng.uniform(0, 2 * np.pi, n)
    r = np.where(y == 0, 1.0, factor)
    X = np.c_[r * np.cos(t), r * np.sin(t)] + rng.normal(0, noise, (n, 2))
    return X, y


def make_moons(n, *, noise=0.1, seed=0):
    """Two interleaved half circles; balanced."""
    _check_n(n)
    noise = _check_noise("noise", noise)
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    t = rng.uniform(0, np.pi, n)
    X = np.where(y[:, None] == 0, np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    return X + rng.normal(0, noise, (n, 2)), y


def make_spirals(n, *, classes=3, noise=0.2, seed=0):
    """`classes` interleaved spiral arms (the CS231n toy set)."""
    _check_n(n)
    classes, noise = _check_classes(classes), _check_noise("noise", noise)
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    r = rng.uniform(0, 1, n)
    t = y * 4.0 + r * 4.0 + rng.normal(0, noise, n)
    return np.c_[r * np.sin(t), r * np.cos(t)], y


def make_xor(n, *, noise=0.1, seed=0):
    """Four Gaussian clusters at (+-1, +-1): class = sign(x) xor sign(y)."""
    _check_n(n)
    noise = _check_noise("noise", noise)
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 4, n)
    centres = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], float)
    return centres[c] + rng.normal(0, noise * 3, (n, 2)), (c >= 2).astype(np.int64)


def make_blobs(n, *, classes=3, features=2, spread=1.0, seed=0):
    """Gaussian blobs around `classes` centres drawn in [-5, 5]^features (centres from `seed`
    alone, so train and test share them)."""
    _check_n(n)
    classes, spread = _check_classes(classes), _check_noise("spread", spread)
    features = _validate.integer("features", features, low=1, high=1 << 16)
    centres = np.random.default_rng(12345).uniform(-5, 5, (classes, features))
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    return centres[y] + rng.normal(0, spread, (n, features)), y
