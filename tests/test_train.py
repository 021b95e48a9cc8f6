"""fit and History (fastinit/train.py): a small real task converges with He init, zero init
stays at chance with a flat ln 2 loss, targets, evaluation, callbacks, divergence, interrupts,
reproducibility, LSUV hand-off and bad arguments."""
import math

import numpy as np
import pytest

import fastinit
from fastinit import data, optim


def circles(n, *, seed=0):
    """Two noisy concentric circles, the inner one (radius 0.5) labelled 1."""
    return data.make_circles(n, noise=0.1, factor=0.5, seed=seed)


def course_net(init, seed=0):
    return fastinit.MLP([2, 10, 5, 1], activation="relu", output="sigmoid", init=init, seed=seed)


def test_circles_reach_95_percent_with_he_init():
    X, y = circles(1000)
    Xt, yt = circles(1000, seed=1)
    m = course_net("he_normal")
    h = fastinit.fit(m, X, y, optimizer=optim.SGD(0.1, momentum=0.9), epochs=60, batch_size=32,
                     validation_data=(Xt, yt), target=0.95)
    assert (m.predict(Xt) == yt).mean() >= 0.95
    assert h.evals[-1]["val_acc"] >= 0.95
    assert h.target_step is not None and 0 < h.target_step <= h.steps and h.target_time > 0
    assert h.loss[-100:].mean() < 0.2


def test_zero_init_stays_at_chance_with_flat_loss():
    X, y = circles(1000)
    m = course_net("zeros")
    h = fastinit.fit(m, X, y, optimizer=optim.SGD(0.5), epochs=200, batch_size=None)
    np.testing.assert_allclose(h.loss, math.log(2), rtol=0, atol=1e-6)
    assert h.evals[-1]["train_acc"] == pytest.approx(0.5)
    for layer in m.layers:
        assert not layer.W.any()  # the symmetry is never broken: all gradients of W are zero


def test_history_fields_and_round_trip():
    X, y = circles(200)
    m = course_net("he_normal")
    h = fastinit.fit(m, X, y, optimizer=optim.Adam(0.01), epochs=3, batch_size=64, progress=False)
    assert h.steps == 12 and h.epochs == 3 and h.loss.shape == (12,)
    assert [e["step"] for e in h.evals] == [0, 4, 8, 12]
    assert [e["epoch"] for e in h.evals] == [0, 1, 2, 3]
    assert all(e["val_acc"] is None and 0 <= e["train_acc"] <= 1 for e in h.evals)
    assert not h.diverged and not h.interrupted and h.warnings == [] and h.wall_time > 0
    assert h.target_step is None and h.target_time is None
    d = h.to_dict()
    h2 = fastinit.History.from_dict(d)
    np.testing.assert_array_equal(h2.loss, h.loss)
    assert h2.evals == h.evals and h2.steps == 12
    steps, acc = h.metric("train_acc")
    assert list(steps) == [0, 4, 8, 12] and acc.shape == (4,)
    assert "History(steps=12" in repr(h)


def test_steps_eval_every_and_full_batch():
    X, y = circles(100)
    m = course_net("he_normal")
    h = fastinit.fit(m, X, y, optimizer=optim.SGD(0.1), steps=7, eval_every=3, batch_size=None)
    assert h.steps == 7 and [e["step"] for e in h.evals] == [0, 3, 6, 7]
    h = fastinit.fit(m, X, y, optimizer=optim.SGD(0.1), steps=5, epochs=100, batch_size=30)
    assert h.steps == 5
    h = fastinit.fit(m, X, y, optimizer=optim.SGD(0.1), epochs=2, batch_size=30)
    assert h.steps == 8  # 30, 30, 30, 10 per epoch


def test_same_seed_same_run_and_shuffle_matters():
    X, y = circles(300)
    runs = []
    for seed, shuffle in ((3, True), (3, True), (4, True), (3, False)):
        m = course_net("he_normal")
        runs.append(fastinit.fit(m, X, y, optimizer=optim.SGD(0.1), epochs=2, seed=seed, shuffle=shuffle).loss)
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2]) and not np.array_equal(runs[0], runs[3])


def test_targets():
    X, y = circles(400)
    m = course_net("he_normal")
    h = fastinit.fit(m, X, y, optimizer=optim.Adam(0.02), epochs=40, target={"loss": 0.3},
                     stop_at_target=True, eval_every=5)
    assert h.target_step is not None and h.steps == h.target_step
    e = [ev for ev in h.evals if ev["step"] == h.target_step][0]
    assert e["train_loss"] <= 0.3
    m = course_net("he_normal")
    h = fastinit.fit(m, X, y, optimizer=optim.Adam(0.02), epochs=3, target={"val_acc": 0.0},
                     validation_data=(X, y))
    assert h.target_step == 0 and h.steps == 3 * 13
    with pytest.raises(ValueError, match="validation_data"):
        fastinit.fit(m, X, y, optimizer=optim.SGD(0.1), epochs=1, target={"val_loss": 0.1})
    with pytest.raises(ValueError, match="target key"):
        fastinit.fit(m, X, y, optimizer=optim.SGD(0.1), epochs=1, target={"f1": 0.1})


class Recorder:
    def __init__(self, stop_at=None, interrupt_at=None):
        self.events, self.stop_at, self.interrupt_at = [], stop_at, interrupt_at

    def on_train_begin(self, model, history):
        self.events.append("begin")

    def on_step_end(self, step, model, history, X_batch, y_batch):
        self.events.append(("step", step, X_batch.shape[0]))
        if step == self.stop_at:
            history.stop = True
        if step == self.interrupt_at:
            raise KeyboardInterrupt

    def on_eval(self, step, model, history):
        self.events.append(("eval", step))

    def on_train_end(self, model, history):
        self.events.append("end")


def test_callbacks_and_stop():
    X, y = circles(100)
    rec = Recorder(stop_at=3)
    h = fastinit.fit(course_net("he_normal"), X, y, optimizer=optim.SGD(0.1), epochs=5, batch_size=40,
                     callbacks=[rec, object()])
    assert rec.events[:4] == ["begin", ("eval", 0), ("step", 1, 40), ("step", 2, 40)]
    assert ("step", 3, 20) in rec.events and rec.events[-1] == "end" and h.steps == 3


def test_record_step_asks_for_a_step_record():
    X, y = circles(100)
    seen = []

    class Asker:
        def record_step(self, step):
            return step % 3 == 0

        def on_step_end(self, step, model, history, X_batch, y_batch):
            seen.append((step, None if history.record is None else sorted(history.record)))

    h = fastinit.fit(course_net("he_normal"), X, y, optimizer=optim.SGD(0.1), steps=6, batch_size=40,
                     callbacks=[Asker()])
    keys = ["grad_input_rms", "loss", "outputs"]
    assert seen == [(1, None), (2, None), (3, keys), (4, None), (5, None), (6, keys)]
    assert "record" not in h.to_dict()


def test_keyboard_interrupt_keeps_model_and_history():
    X, y = circles(100)
    m = course_net("he_normal")
    before = m.layers[0].W.copy()
    h = fastinit.fit(m, X, y, optimizer=optim.SGD(0.1), epochs=5, batch_size=10,
                     callbacks=[Recorder(interrupt_at=7)])
    assert h.interrupted and h.steps == 7 and h.loss.shape == (7,)
    assert "interrupted" in h.warnings[0]
    assert not np.array_equal(m.layers[0].W, before)


def test_divergence_stops_with_a_warning():
    X, y = circles(200)
    m = fastinit.MLP([2, 64, 64, 1], output="identity", init="normal", seed=0)
    with pytest.warns(RuntimeWarning, match="diverged"):
        h = fastinit.fit(m, X * 100, y.astype(float), optimizer=optim.SGD(10.0), epochs=50, batch_size=20)
    assert h.diverged and h.steps < 500
    assert not math.isfinite(h.loss[-1]) or h.loss[-1] > fastinit.train.DIVERGENCE_FACTOR * h.loss[0]
    assert "diverged" in h.warnings[0]


class FirstBatch:
    """The parameters training starts from and the rows of its first step."""

    def on_train_begin(self, model, history):
        self.params = [(layer.W.copy(), layer.b.copy()) for layer in model.layers]

    def on_step_end(self, step, model, history, X_batch, y_batch):
        if step == 1:
            self.rows = X_batch.copy()


@pytest.mark.parametrize("shuffle", [True, False])
def test_lsuv_is_finished_on_the_first_batch(shuffle):
    """fit finishes LSUV on the rows of its first step: the model training starts from has
    pre-activations of variance 1 (within LSUV's tol 0.1) on them in every layer, the weights
    fastinit.init.lsuv gives on the same rows, and hist.init_report is lsuv's report."""
    X, y = circles(200)
    sizes, kw = [2, 16, 16, 1], dict(activation="tanh", output="sigmoid", init="lsuv", seed=0, dtype=np.float64)
    m = fastinit.MLP(sizes, **kw)
    assert m.pending_init == "lsuv"
    seen = FirstBatch()
    h = fastinit.fit(m, X, y, optimizer=optim.SGD(0.1), steps=3, batch_size=64, shuffle=shuffle, seed=4,
                     callbacks=[seen], progress=False)
    assert m.pending_init is None and len(seen.rows) == 64
    x = seen.rows
    for i, (W, b) in enumerate(seen.params):
        z = x @ W.T + b
        assert abs(z.var() - 1) < 0.1, (i, z.var())
        x = np.tanh(z)
    ref = fastinit.MLP(sizes, **kw)
    report = fastinit.init.lsuv(ref, seen.rows)
    assert h.init_report == report and report[0] >= 1
    for (W, b), layer in zip(seen.params, ref.layers):
        np.testing.assert_allclose(W, layer.W, rtol=1e-12, atol=0)  # fit may take the rows in another order
        np.testing.assert_array_equal(b, layer.b)
    other = fastinit.MLP(sizes, **kw)  # other rows give other weights: the check above can tell
    fastinit.init.lsuv(other, X[:64] if shuffle else X[64:128])
    assert np.abs(other.layers[0].W / seen.params[0][0] - 1).max() > 1e-3


def test_no_progress_bar_without_a_terminal(capsys):
    X, y = circles(100)
    fastinit.fit(course_net("he_normal"), X, y, optimizer=optim.SGD(0.1), epochs=1, progress=True)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(), ValueError, "epochs or steps"),
    (dict(epochs=-1), ValueError, "epochs"), (dict(epochs=1.5), TypeError, "epochs must be an int"),
    (dict(epochs=1, batch_size=0), ValueError, "batch_size"),
    (dict(epochs=1, eval_every=0), ValueError, "eval_every"),
    (dict(epochs=1, validation_data=np.zeros((3, 2))), TypeError, "validation_data"),
    (dict(epochs=1, validation_data=(np.zeros((3, 3)), np.zeros(3))), ValueError, r"X_val \(shape \(3, 3\)"),
    (dict(epochs=1, target="high"), TypeError, "target"),
    (dict(epochs=1, optimizer="sgd"), TypeError, "optimizer"),
])
def test_bad_arguments(kwargs, exc, match):
    X, y = circles(50)
    args = dict(optimizer=optim.SGD(0.1))
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        fastinit.fit(course_net("he_normal"), X, y, **args)


def test_bad_data_is_reported_before_training():
    X, y = circles(50)
    with pytest.raises(ValueError, match=r"y \(shape \(49,\)"):
        fastinit.fit(course_net("he_normal"), X, y[:49], optimizer=optim.SGD(0.1), epochs=1)


# ---------------------------------------------------------------- issue 12, items 6 and 14
def test_a_parameter_turned_inf_is_divergence_even_when_the_loss_was_finite():
    X = np.full((8, 2), 1e18, np.float32)
    m = fastinit.MLP([2, 4, 1], output="identity", init="normal")
    with pytest.warns(RuntimeWarning, match="a parameter became NaN or inf at step 1: diverged"):
        h = fastinit.fit(m, X, np.zeros(8, np.float32), optimizer=optim.SGD(1e20), steps=5, progress=False)
    assert h.diverged and h.steps == 1 and math.isfinite(h.loss[0])


def test_a_finite_blow_up_is_divergence():
    X, y = circles(200)
    m = fastinit.MLP([2, 32, 2], seed=0)
    with pytest.warns(RuntimeWarning, match="times the first step's"):
        h = fastinit.fit(m, X, y, optimizer=optim.Adam(1e3), steps=300, batch_size=20, progress=False)
    assert h.diverged and np.isfinite(h.loss).all()
    assert h.loss[-1] > fastinit.train.DIVERGENCE_FACTOR * h.loss[0]
    assert fastinit.History.from_dict(h.to_dict()).diverged


# ---------------------------------------------------------------- issue 12, items 11, 18, 25
@pytest.mark.parametrize("kwargs, exc, match", [
    ({"target": float("nan")}, ValueError, "target must be a finite number in \\[0, 1\\]"),
    ({"target": 1.5}, ValueError, "target must be a finite number in \\[0, 1\\]"),
    ({"target": {"acc": 2}}, ValueError, "target\\['acc'\\]"),
    ({"target": {"loss": "a"}}, TypeError, "target\\['loss'\\] must be a number"),
    ({"target": {"loss": float("nan")}}, ValueError, "target\\['loss'\\]"),
    ({"callbacks": 5}, TypeError, "callbacks must be a list"),
    ({"seed": -1}, ValueError, "seed must be an int in \\[0, 2\\*\\*64\\)"),
    ({"seed": 2.5}, TypeError, "seed must be an int"),
])
def test_targets_that_cannot_be_met_and_odd_arguments_are_refused(kwargs, exc, match):
    X, y = circles(20)
    with pytest.raises(exc, match=match):
        fastinit.fit(course_net("he_normal"), X, y, optimizer=optim.SGD(0.1), steps=2, progress=False, **kwargs)


def test_the_loss_history_grows_as_it_goes():
    # fit(steps=10**12) preallocated 8 TB of loss history; steps past the first block still count.
    X, y = circles(20)
    h = fastinit.fit(course_net("he_normal"), X, y, optimizer=optim.SGD(0.1), steps=5000, batch_size=20,
                     progress=False)
    assert h.steps == 5000 and h.loss.shape == (5000,) and np.isfinite(h.loss).all()
    import tracemalloc
    tracemalloc.start()
    h = fastinit.fit(course_net("he_normal"), X, y, optimizer=optim.SGD(0.1), steps=10**12, batch_size=20,
                     progress=False, callbacks=[_StopAt(3)])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert h.steps == 3 and peak < 50 << 20


class _StopAt:
    def __init__(self, n):
        self.n = n

    def on_step_end(self, step, model, history, X_batch, y_batch):
        history.stop = step >= self.n
