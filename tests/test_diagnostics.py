import warnings

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


def test_update_ratio_is_what_one_sgd_step_would_change():
    X, y = _batch()
    m = fastinit.MLP([4, 8, 3], init="he_normal", dtype=np.float64)
    rep = diagnostics.diagnose(m, X, y, lr=0.1)
    W0 = [l.W.copy() for l in m.layers]
    m.train_step(X, y, fastinit.optim.SGD(0.1))
    for l, w0, layer in zip(rep["layers"], W0, m.layers):
        measured = np.linalg.norm(layer.W - w0) / np.linalg.norm(w0)
        assert l["update_ratio"] == pytest.approx(measured, rel=1e-9)
        assert l["grad_weight_ratio"] == pytest.approx(measured / 0.1, rel=1e-9)
    assert diagnostics.diagnose(m, X, y)["layers"][0]["update_ratio"] is None  # no lr, no step size
    zero = diagnostics.diagnose(fastinit.MLP([4, 8, 3], init="zeros"), X, y, lr=0.1)
    assert zero["layers"][0]["grad_weight_ratio"] is None and zero["layers"][0]["update_ratio"] is None


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


def _same_summary(rec, want, rel=1e-4):
    """A Monitor record against summary(diagnose(...)): the same verdicts, numbers to float32 rounding."""
    for k, v in want.items():
        if isinstance(v, float):
            assert rec[k] == pytest.approx(v, rel=rel, abs=1e-7), k
        else:
            assert rec[k] == v, k


def test_monitor_records_update_ratios():
    X, y = _batch()
    m = fastinit.MLP([4, 8, 3], init="he_normal")
    init = diagnostics.summary(diagnostics.diagnose(m, X, y))
    mon = diagnostics.Monitor(X, y, every=5)
    fastinit.fit(m, X, y, optimizer=fastinit.optim.SGD(0.1), steps=10, batch_size=16, callbacks=[mon], progress=False)
    _same_summary(mon.records[0], init)
    _same_summary(mon.records[2], diagnostics.summary(diagnostics.diagnose(m, X, y)))
    assert [r["step"] for r in mon.records] == [0, 5, 10]
    assert all(len(r["grad_input_rms"]) == 2 for r in mon.records)
    assert all(len(r["update_ratio"]) == 2 and all(u > 0 for u in r["update_ratio"]) for r in mon.records[1:])
    with pytest.raises(ValueError, match="every must be a positive int, got 0"):
        diagnostics.Monitor(X, y, every=0)
    with pytest.raises(ValueError, match="give both X and y"):
        diagnostics.Monitor(X)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_monitor_reads_checks_from_the_training_steps(activation):
    X, y = _batch(n=48)
    m = fastinit.MLP([4, 8, 8, 3], activation=activation, init="xavier_normal", seed=3)
    m0 = fastinit.MLP([4, 8, 8, 3], activation=activation, init="xavier_normal", seed=3)
    mon = diagnostics.Monitor(every=4)
    fastinit.fit(m, X, y, optimizer=fastinit.optim.SGD(0.1), steps=8, batch_size=16, shuffle=False,
                 callbacks=[mon], progress=False)
    assert [r["step"] for r in mon.records] == [0, 4, 8]
    # Step 0: the initial weights, seen on the first step's batch; step 8: the final weights,
    # on the last batch (rows 16:32 of the second epoch).
    first = diagnostics.diagnose(m0, X[:16], y[:16], bins=0)
    _same_summary(mon.records[0], diagnostics.summary(first))
    assert mon.records[0]["grad_input_rms"] == pytest.approx([l["grad_input_rms"] for l in first["layers"]], rel=1e-4)
    _same_summary(mon.records[2], diagnostics.summary(diagnostics.diagnose(m, X[16:32], y[16:32], bins=0)))
    assert len(mon.records[1]["update_ratio"]) == 3 and "update_ratio" not in mon.records[0]


def test_monitor_sees_zero_init_symmetry_without_a_probe():
    X, y = _batch()
    mon = diagnostics.Monitor(every=2)
    fastinit.fit(fastinit.MLP([4, 8, 8, 3], init="zeros"), X, y, optimizer=fastinit.optim.SGD(0.1), steps=4,
                 batch_size=16, callbacks=[mon], progress=False)
    assert all(r["symmetry_broken"] is False and r["distinct_neurons"][:2] == [1, 1] for r in mon.records)
    assert mon.records[0]["dead"] == 1.0 and mon.records[0]["gradient_flow"] == "none"


def test_monitor_without_steps_or_probe_warns_instead_of_losing_the_check():
    X, y = _batch()
    m = fastinit.MLP([4, 8, 3])
    mon = diagnostics.Monitor(every=2)
    with pytest.warns(RuntimeWarning, match="no training step ran, so the check at step 0"):
        fastinit.fit(m, X, y, optimizer=fastinit.optim.SGD(0.1), steps=0, callbacks=[mon], progress=False)
    assert mon.records == []
    probed = diagnostics.Monitor(X, y)
    fastinit.fit(m, X, y, optimizer=fastinit.optim.SGD(0.1), steps=0, callbacks=[probed], progress=False)
    _same_summary(probed.records[0], diagnostics.summary(diagnostics.diagnose(m, X, y, bins=0)))


def test_a_reused_monitor_reads_each_fit_from_its_own_batches():
    X, y = _batch()
    m = fastinit.MLP([4, 8, 3])
    mon = diagnostics.Monitor(every=2)
    opt = fastinit.optim.SGD(0.1)
    fastinit.fit(m, X, y, optimizer=opt, steps=2, batch_size=16, callbacks=[mon], progress=False)
    with pytest.warns(RuntimeWarning, match="no training step ran"):
        fastinit.fit(m, X, y, optimizer=opt, steps=0, callbacks=[mon], progress=False)
    assert [r["step"] for r in mon.records] == [0, 2]


def test_bins_zero_skips_the_distribution_but_keeps_the_moments():
    X, y = _batch()
    m = fastinit.MLP([4, 8, 3], activation="tanh")
    full, light = diagnostics.diagnose(m, X, y), diagnostics.diagnose(m, X, y, bins=0)
    assert light["layers"][0]["post"]["hist"] == [[], []] and light["layers"][0]["post"]["p50"] is None
    assert len(full["layers"][0]["post"]["hist"][0]) == 40
    assert diagnostics.summary(light) == diagnostics.summary(full)


def test_diagnose_says_when_a_data_dependent_init_is_unfinished():
    m = fastinit.MLP([4, 8, 8, 2], init="lsuv")
    X = np.random.default_rng(0).normal(size=(32, 4))
    y = np.arange(32) % 2
    with pytest.warns(RuntimeWarning, match="'lsuv' init still needs data"):
        diagnostics.diagnose(m, X, y)
    m.finish_init(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        diagnostics.diagnose(m, X, y)


# ---------------------------------------------------------------- issue 12, item 3
def test_distinct_neurons_reads_byte_swapped_weights_by_value():
    W = np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 1.0]], np.float32)
    b = np.zeros(3, np.float32)
    assert diagnostics.distinct_neurons(W, b) == 2
    assert diagnostics.distinct_neurons(W.astype(">f4"), b.astype(">f4")) == 2
    assert diagnostics.distinct_neurons(W.astype(">f8"), b.astype(">f8")) == 2


# ---------------------------------------------------------------- issue 12, items 22 and 23
@pytest.mark.parametrize("call, exc, match", [
    (lambda m, X, y: diagnostics.diagnose(m, X, None), TypeError, "diagnose needs y"),
    (lambda m, X, y: diagnostics.diagnose(m, X, y, bins=2.5), TypeError, "bins must be an int"),
    (lambda m, X, y: diagnostics.diagnose(m, X, y, lr="a"), TypeError, "lr must be a number"),
    (lambda m, X, y: diagnostics.diagnose(m, X, y, lr=-1.0), ValueError, "lr must be a finite number"),
    (lambda m, X, y: diagnostics.diagnose(m, X, y, vanishing="a"), TypeError, "vanishing must be a number"),
    (lambda m, X, y: diagnostics.diagnose(m, X, y, vanishing=10.0, exploding=1.0), ValueError, "below exploding"),
    (lambda m, X, y: diagnostics.summary({}), TypeError, "summary takes what diagnose returned"),
    (lambda m, X, y: diagnostics.summary(5), TypeError, "summary takes what diagnose returned"),
    (lambda m, X, y: fastinit.init.get("he_normal").describe(-1, 3), ValueError, "fan_in must be an int"),
    (lambda m, X, y: fastinit.init.get("he_normal").describe("a"), TypeError, "fan_in must be an int"),
    (lambda m, X, y: fastinit.init.compute_fans((2.5, 3)), TypeError, "shape must be a tuple of ints"),
])
def test_diagnostics_and_init_arguments_are_checked(call, exc, match):
    X, y = _batch()
    with pytest.raises(exc, match=match):
        call(fastinit.MLP([4, 8, 3]), X, y)


def test_a_check_pending_when_training_diverges_is_read_from_the_diverging_step():
    """fit stops before on_step_end on the step that diverged; that step recorded what the check
    before it reads (the weights before the blow-up), not the blown-up weights after it."""
    ds = fastinit.data.load("circles")
    X, y = ds.X_train, ds.y_train
    mk = lambda: fastinit.MLP([2, 16, 16, 2], init="he_normal", seed=0)  # noqa: E731
    mon = diagnostics.Monitor(every=1)
    with pytest.warns(RuntimeWarning, match="diverged"):
        h = fastinit.fit(mk(), X, y, optimizer=fastinit.optim.Adam(1e3), steps=50, batch_size=None, shuffle=False,
                         callbacks=[mon], progress=False)
    assert h.diverged and h.steps == 2 and [r["step"] for r in mon.records] == [0, 1]
    m = mk()
    m.train_step(X, y, fastinit.optim.Adam(1e3))  # the weights after step 1
    seen = m.probe(X, y)                          # what step 2 saw
    assert mon.records[1]["loss"] == seen["loss"] and mon.records[1]["grad_input_rms"] == seen["grad_input_rms"]
