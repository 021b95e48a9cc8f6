import numpy as np
import pytest

import fastinit
from fastinit import diagnostics


def _batch(n=64, d=4, classes=3, seed=0):
    r = np.random.default_rng(seed)
    return r.normal(size=(n, d)).astype(np.float32), r.integers(0, classes, n)


def test_zero_init_has_one_distinct_neuron_and_no_symmetry_breaking():
    X, y = _batch()
    m = fastinit.MLP([4, 8, 8, 3], init="zeros")
    rep = diagnostics.diagnose(m, X, y)
    assert [l["distinct_neurons"] for l in rep["layers"][:-1]] == [1, 1]
    assert rep["symmetry_broken"] is False
    assert rep["layers"][0]["dead_fraction"] == 1.0  # relu(0) = 0 on the whole batch


def test_he_init_breaks_symmetry():
    X, y = _batch()
    rep = diagnostics.diagnose(fastinit.MLP([4, 8, 8, 3], init="he_normal"), X, y)
    assert rep["symmetry_broken"] and rep["layers"][0]["distinct_neurons"] == 8


def test_saturated_tanh_fraction_is_reported():
    X, y = _batch()
    m = fastinit.MLP([4, 50, 3], activation="tanh", init="random_large")
    rep = diagnostics.diagnose(m, X, y)
    a = np.tanh(X.astype(np.float64) @ m.layers[0].W.T.astype(np.float64) + m.layers[0].b)
    assert rep["layers"][0]["saturated_fraction"] == pytest.approx(np.mean(np.abs(a) > 0.99), abs=1e-3)
    assert rep["layers"][0]["saturated_fraction"] > 0.8  # N(0, 100) weights: |z| is mostly >> 3


def test_gradient_ratio_flags_vanishing_and_exploding():
    X, y = _batch(d=2, classes=2)
    small = diagnostics.diagnose(fastinit.MLP([2] + [16] * 6 + [2], init="random_small"), X, y)
    large = diagnostics.diagnose(fastinit.MLP([2] + [16] * 6 + [2], init="random_large"), X, y)
    he = diagnostics.diagnose(fastinit.MLP([2] + [16] * 6 + [2], init="he_normal"), X, y)
    assert small["gradient_flow"] == "vanishing" and small["gradient_ratio"] < 1e-2
    assert large["gradient_flow"] == "exploding" and large["gradient_ratio"] > 1e2
    assert he["gradient_flow"] == "ok"


def test_distinct_neurons_tolerance():
    W = np.array([[1.0, 2.0], [1.0, 2.0 + 1e-9], [3.0, 1.0]])
    assert diagnostics.distinct_neurons(W) == 2
    assert diagnostics.distinct_neurons(W, tol=1e-12) == 3


def test_monitor_records_update_ratios():
    X, y = _batch()
    m = fastinit.MLP([4, 8, 3], init="he_normal")
    mon = diagnostics.Monitor(X, y, every=5)
    fastinit.fit(m, X, y, optimizer=fastinit.optim.SGD(0.1), steps=10, batch_size=16, callbacks=[mon], progress=False)
    assert [r["step"] for r in mon.records] == [0, 5, 10]
    assert all(len(r["update_ratio"]) == 2 and all(u > 0 for u in r["update_ratio"]) for r in mon.records[1:])
    with pytest.raises(ValueError, match="every must be >= 1"):
        diagnostics.Monitor(X, y, every=0)


def test_distinct_neurons_is_exact_when_row_hashes_collide(monkeypatch):
    W = np.random.default_rng(1).normal(size=(6, 5))
    W[3] = W[1]
    expect = diagnostics.distinct_neurons(W)

    class Zeros:  # every row hashes to 0: only the exact fallback can count them
        def integers(self, lo, hi, n):
            return np.zeros(n, np.int64)

    monkeypatch.setattr(np.random, "default_rng", lambda seed: Zeros())
    assert diagnostics.distinct_neurons(W) == expect == 5


def test_bins_zero_skips_the_distribution_but_keeps_the_moments():
    X, y = _batch()
    m = fastinit.MLP([4, 8, 3], activation="tanh")
    full, light = diagnostics.diagnose(m, X, y), diagnostics.diagnose(m, X, y, bins=0)
    assert light["layers"][0]["post"]["hist"] == [[], []] and light["layers"][0]["post"]["p50"] is None
    assert len(full["layers"][0]["post"]["hist"][0]) == 40
    assert diagnostics.summary(light) == diagnostics.summary(full)
