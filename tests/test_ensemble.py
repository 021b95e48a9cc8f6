"""Ensemble: every member equals, bit for bit, the same model trained alone with MLP.train_step
on the same batches (parameters, losses, optimizer state), for every activation, loss and
optimizer, both dtypes, K = 1, 3, 64, odd sizes, 1 and 2 threads and every kernel set; and
fit_ensemble gives each member the History fit gives it alone."""
import contextlib
import warnings

import numpy as np
import pytest

import fastinit
from fastinit import optim, runtime
from fastinit.nn import ACTIVATIONS
from support import kernel_set, num_threads


def data(rng, n, sizes, output, dtype, k=None):
    lead = (k,) if k else ()
    X = rng.normal(size=lead + (n, sizes[0])).astype(dtype)
    c = sizes[-1]
    if output == "softmax":
        y = rng.integers(0, c, size=lead + (n,)).astype(np.int64)
    elif output == "sigmoid":
        y = (rng.random(size=lead + (n, c)) > 0.5).astype(dtype)
    else:
        y = rng.normal(size=lead + (n, c)).astype(dtype)
    return X, y


def models(sizes, k, *, activation="tanh", output="softmax", dtype=np.float32, init="xavier_normal"):
    return [fastinit.MLP(sizes, activation=activation, output=output, init=init, bias_init="normal",
                         seed=s, dtype=dtype) for s in range(k)]


def same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def assert_members_equal(ens, solo):
    for j, (m, s) in enumerate(zip(ens.members, solo)):
        for t, (p, q) in enumerate(zip(m.parameters(), s.parameters())):
            assert same_bits(p, q), f"member {j}, tensor {t}: max |diff| {np.abs(p - q).max()}"


def train_both(sizes, k, make_opt, *, steps=6, n=37, activation="tanh", output="softmax",
               dtype=np.float32, per_member=False, per_opt=False, seed=0):
    """Train an ensemble and k solo models on the same batches; assert equal losses and bits."""
    rng = np.random.default_rng(seed)
    ens = fastinit.Ensemble(models(sizes, k, activation=activation, output=output, dtype=dtype))
    solo = models(sizes, k, activation=activation, output=output, dtype=dtype)
    if per_opt:
        opt_e, opt_s = [make_opt(j) for j in range(k)], [make_opt(j) for j in range(k)]
    else:
        opt_e, opt_s = make_opt(0), make_opt(0)
    for t in range(steps):
        X, y = data(rng, n, sizes, output, dtype, k if per_member else None)
        got = ens.train_step(X, y, opt_e)
        want = np.array([s.train_step(X[j] if per_member else X, y[j] if per_member else y,
                                      opt_s[j] if per_opt else opt_s) for j, s in enumerate(solo)])
        assert same_bits(got, want), f"step {t}: losses {got} vs {want}"
    assert_members_equal(ens, solo)
    return ens, solo, opt_e, opt_s


HIDDEN = [a for a in ACTIVATIONS if a != "linear"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", HIDDEN + [("leaky_relu", 0.2), ("elu", 0.7)])
def test_every_activation(activation, dtype):
    train_both([5, 9, 7, 3], 3, lambda j: optim.SGD(0.05, momentum=0.9), activation=activation, dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("output,sizes", [("softmax", [3, 17, 4]), ("sigmoid", [3, 17, 1]),
                                          ("sigmoid", [6, 13, 3]), ("identity", [3, 17, 2])])
@pytest.mark.parametrize("k", [1, 3])
def test_every_loss(output, sizes, k, dtype):
    train_both(sizes, k, lambda j: optim.SGD(0.1), output=output, dtype=dtype, activation="relu")


OPTIMIZERS = {
    "sgd": lambda j: optim.SGD(0.1),
    "sgd_wd": lambda j: optim.SGD(0.1, weight_decay=1e-2),
    "momentum": lambda j: optim.SGD(0.05, momentum=0.9),
    "nesterov": lambda j: optim.SGD(0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda j: optim.Adam(1e-2),
    "adam_wd": lambda j: optim.Adam(1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2),
    "adamw": lambda j: optim.AdamW(1e-2, weight_decay=0.1),
    "clip": lambda j: optim.SGD(0.5, momentum=0.5, clip_norm=0.05),
    "adam_clip": lambda j: optim.Adam(1e-2, clip_norm=0.1),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer(name, dtype):
    ens, solo, opt_e, opt_s = train_both([7, 11, 5, 3], 3, OPTIMIZERS[name], dtype=dtype, steps=8)
    # the optimizer holds one state per member, with the solo run's step count and buffers
    assert opt_e.steps(ens.members[1]) == opt_s.steps(solo[1]) == 8
    for a, b in zip(opt_e.state(ens.members[2]).get("s1", []), opt_s.state(solo[2]).get("s1", [])):
        assert same_bits(a, b)


def test_per_member_hyper_parameters_and_kinds():
    """A list of optimizers: each member its own lr, kind, momentum and clipping."""
    kinds = [lambda j: optim.SGD(0.01 * (j + 1), momentum=0.1 * j), lambda j: optim.Adam(1e-3 * (j + 1)),
             lambda j: optim.AdamW(2e-3, weight_decay=0.05 * j, clip_norm=0.2 + j),
             lambda j: optim.SGD(0.03, momentum=0.9, nesterov=True, clip_norm=0.1)]
    train_both([4, 10, 6, 2], 8, lambda j: kinds[j % 4](j), per_opt=True, dtype=np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_per_member_batches(dtype):
    train_both([3, 12, 5], 4, lambda j: optim.SGD(0.1, momentum=0.9), per_member=True, dtype=dtype)
    train_both([3, 12, 1], 3, lambda j: optim.Adam(1e-2), output="sigmoid", per_member=True, dtype=dtype)


def test_k64_small_net():
    train_both([2, 16, 16, 2], 64, lambda j: optim.SGD(0.2), n=300, steps=5, activation="relu")


@pytest.mark.parametrize("nt", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_thread_counts(nt, dtype):
    """1 and 2 threads: the ensemble splits members across threads; the solo run, big enough
    here for its GEMMs to split across threads too, must not change either."""
    with num_threads(nt):
        train_both([23, 101, 67, 5], 5, lambda j: optim.SGD(0.05, momentum=0.9), n=310, steps=3,
                   dtype=dtype, activation="relu")


def test_solo_is_thread_count_invariant():
    """The claim the ensemble rests on: a solo step (big enough that its GEMMs use two threads)
    gives the same bits on 1 and 2 threads."""
    rng = np.random.default_rng(3)
    X, y = data(rng, 700, [60, 300, 200, 10], "softmax", np.float32)
    runs = []
    for nt in (1, 2):
        with num_threads(nt):
            m = fastinit.MLP([60, 300, 200, 10], seed=1)
            opt = optim.SGD(0.05, momentum=0.9)
            losses = [m.train_step(X, y, opt) for _ in range(3)]
            runs.append((losses, [p.copy() for p in m.parameters()]))
    assert runs[0][0] == runs[1][0]
    assert all(same_bits(p, q) for p, q in zip(runs[0][1], runs[1][1]))


@pytest.mark.parametrize("name", runtime.available_kernels())
def test_kernel_sets(name):
    with kernel_set(name):
        train_both([9, 33, 17, 3], 3, lambda j: optim.Adam(1e-2), n=41, dtype=np.float32, activation="gelu")
        train_both([9, 33, 17, 3], 3, lambda j: optim.SGD(0.1, momentum=0.9), n=41, dtype=np.float64,
                   activation="sigmoid")


def test_grouping_does_not_matter():
    """A member's bits do not depend on which other members share its ensemble."""
    rng = np.random.default_rng(5)
    X, y = data(rng, 50, [4, 9, 3], "softmax", np.float32)
    ms = models([4, 9, 3], 6)
    big, small = fastinit.Ensemble(ms), fastinit.Ensemble([ms[4], ms[1]])
    ob, os_ = optim.Adam(1e-2), optim.Adam(1e-2)
    for _ in range(5):
        lb, ls = big.train_step(X, y, ob), small.train_step(X, y, os_)
        assert same_bits(lb[[4, 1]], ls)
    for i, j in ((4, 0), (1, 1)):
        assert all(same_bits(p, q) for p, q in zip(big.members[i].parameters(), small.members[j].parameters()))


def schedule(rng, n, bs, steps):
    out = []
    while len(out) < steps:
        order = rng.permutation(n)
        out += [order[s:s + bs] for s in range(0, n, bs)]
    return out[:steps]


@pytest.mark.parametrize("nt", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_run_many_steps_in_one_call(nt, dtype):
    """Ensemble.run: the batch schedule as row indices, the inner loop in C."""
    rng = np.random.default_rng(7)
    sizes = [5, 19, 11, 3]
    X, y = data(rng, 103, sizes, "softmax", dtype)
    batches = schedule(rng, 103, 20, 13)  # includes the short last batch of an epoch
    with num_threads(nt):
        ens = fastinit.Ensemble(models(sizes, 3, dtype=dtype))
        got = ens.run(X, y, optim.SGD(0.1, momentum=0.9), batches)
    solo, opt = models(sizes, 3, dtype=dtype), optim.SGD(0.1, momentum=0.9)
    want = np.array([[s.train_step(X[b], y[b], opt) for b in batches] for s in solo])
    assert same_bits(got, want)
    assert_members_equal(ens, solo)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_run_in_place_row_ranges(dtype):
    """Full batches and runs of consecutive rows are read in place (no gather): same bits."""
    rng = np.random.default_rng(14)
    sizes = [3, 10, 1]
    X, y = data(rng, 50, sizes, "sigmoid", dtype)
    batches = [np.arange(50)] * 4 + [np.arange(10, 33), np.arange(49, 50), np.arange(0, 7)]
    ens = fastinit.Ensemble(models(sizes, 3, output="sigmoid", dtype=dtype))
    got = ens.run(X, y, optim.SGD(0.3, momentum=0.5), batches)
    solo, opt = models(sizes, 3, output="sigmoid", dtype=dtype), optim.SGD(0.3, momentum=0.5)
    want = np.array([[s.train_step(X[b], y[b], opt) for b in batches] for s in solo])
    assert same_bits(got, want)
    assert_members_equal(ens, solo)


def test_run_per_member_schedules_and_data():
    rng = np.random.default_rng(8)
    sizes, k = [4, 8, 2], 3
    X, y = data(rng, 60, sizes, "identity", np.float64, k)
    per = [schedule(np.random.default_rng(j), 60, 16, 9) for j in range(k)]
    batches = [np.stack([per[j][t] for j in range(k)]) for t in range(9)
               if all(len(per[j][t]) == len(per[0][t]) for j in range(k))]
    ens = fastinit.Ensemble(models(sizes, k, output="identity", dtype=np.float64))
    got = ens.run(X, y, optim.Adam(1e-2), batches)
    solo, opt = models(sizes, k, output="identity", dtype=np.float64), optim.Adam(1e-2)
    want = np.array([[s.train_step(X[j][b[j]], y[j][b[j]], opt) for b in batches] for j, s in enumerate(solo)])
    assert same_bits(got, want)
    assert_members_equal(ens, solo)


def test_run_stops_a_diverged_member():
    rng = np.random.default_rng(9)
    X, y = data(rng, 40, [3, 8, 2], "identity", np.float32)
    X[:, 0] *= 1e3
    ens = fastinit.Ensemble(models([3, 8, 2], 2, output="identity"))
    opts = [optim.SGD(1e-6), optim.SGD(50.0)]
    loss = ens.run(X, y, opts, [np.arange(40)] * 30)
    assert np.isfinite(loss[0]).all() and opts[0].steps(ens.members[0]) == 30
    ran = opts[1].steps(ens.members[1])  # it stops after the step whose loss or update was not finite
    assert 0 < ran < 30 and np.isnan(loss[1, ran:]).all() and not np.isnan(loss[1, :ran]).any()
    blown = not np.isfinite(loss[1, ran - 1]) or not all(np.isfinite(p).all() for p in ens.members[1].parameters())
    assert blown and np.isfinite(loss[1, :ran - 1]).all()


def test_members_are_views_and_continue_alone():
    rng = np.random.default_rng(10)
    X, y = data(rng, 30, [3, 7, 2], "softmax", np.float32)
    src = models([3, 7, 2], 3)
    ens = fastinit.Ensemble(src)
    before = [p.copy() for p in src[0].parameters()]
    opt_e, opt_s = optim.SGD(0.1, momentum=0.9), optim.SGD(0.1, momentum=0.9)
    solo = models([3, 7, 2], 3)
    for _ in range(3):
        ens.train_step(X, y, opt_e)
        for s in solo:
            s.train_step(X, y, opt_s)
    assert all(same_bits(a, b) for a, b in zip(before, src[0].parameters()))  # sources untouched
    m = ens.members[2]
    assert isinstance(m, fastinit.MLP) and np.shares_memory(m.layers[0].W, ens.parameters)
    # the same optimizer continues the member's state (momentum buffers, step count) alone
    assert same_bits(np.float64(m.train_step(X, y, opt_e)), np.float64(solo[2].train_step(X, y, opt_s)))
    assert all(same_bits(a, b) for a, b in zip(m.parameters(), solo[2].parameters()))
    # and an edit through the view is what the ensemble trains
    m.layers[0].W = np.zeros_like(m.layers[0].W)
    assert not ens.parameters[2, :m.layers[0].W.size].any()
    assert same_bits(ens.forward(X)[2], m.forward(X))


def test_from_sizes():
    ens = fastinit.Ensemble.from_sizes([4, 6, 3], seeds=[3, 5], inits=["he_normal", "orthogonal"],
                                       activation="tanh", dtype=np.float64)
    want = [fastinit.MLP([4, 6, 3], activation="tanh", init=i, seed=s, dtype=np.float64)
            for i, s in (("he_normal", 3), ("orthogonal", 5))]
    assert_members_equal(ens, want)
    assert len(fastinit.Ensemble.from_sizes([4, 6, 3], seeds=4)) == 4
    per_layer = fastinit.Ensemble.from_sizes([4, 6, 3], seeds=3, inits=["xavier_normal", "zeros"])
    assert not per_layer.members[2].layers[1].W.any() and per_layer.members[2].layers[0].W.any()
    assert "Ensemble(4 x MLP" in repr(fastinit.Ensemble.from_sizes([4, 6, 3], seeds=4))


def test_errors_name_the_argument():
    a, b = fastinit.MLP([3, 5, 2]), fastinit.MLP([3, 6, 2])
    with pytest.raises(ValueError, match=r"models\[1\] differs"):
        fastinit.Ensemble([a, b])
    with pytest.raises(ValueError, match=r"models\[1\] differs"):
        fastinit.Ensemble([a, fastinit.MLP([3, 5, 2], dtype=np.float64)])
    with pytest.raises(ValueError, match="at least one"):
        fastinit.Ensemble([])
    with pytest.raises(TypeError, match=r"models\[0\]"):
        fastinit.Ensemble(["mlp"])
    ens = fastinit.Ensemble([a, fastinit.MLP([3, 5, 2], seed=1)])
    X = np.zeros((4, 3), np.float32)
    y = np.zeros(4, np.int64)
    with pytest.raises(ValueError, match="3 features"):
        ens.train_step(np.zeros((4, 2)), y, optim.SGD(0.1))
    with pytest.raises(ValueError, match="2 members on axis 0"):
        ens.train_step(np.zeros((3, 4, 3)), np.zeros((3, 4), np.int64), optim.SGD(0.1))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\)"):
        ens.train_step(X, y + 2, optim.SGD(0.1))
    with pytest.raises(ValueError, match="optimizer list has 1 entries"):
        ens.train_step(X, y, [optim.SGD(0.1)])
    with pytest.raises(TypeError, match="optimizer"):
        ens.train_step(X, y, "sgd")
    with pytest.raises(ValueError, match=r"batches\[1\] holds rows outside"):
        ens.run(X, y, optim.SGD(0.1), [np.arange(4), np.array([0, 4])])
    with pytest.raises(ValueError, match=r"batches\[0\]"):
        ens.run(X, y, optim.SGD(0.1), [np.array([], dtype=np.int64)])
    ens.train_step(X, y, optim.SGD(0.1))  # still usable after the errors


# ------------------------------------------------------------------ fit_ensemble vs fit

def comparable(h):
    d = h.to_dict()
    d.pop("wall_time")
    d.pop("target_time")
    for e in d["evals"]:
        e.pop("time")
    return d


FIT_CASES = {
    "full_batch_no_shuffle": dict(batch_size=None, shuffle=False, steps=130, eval_every=50),
    "minibatch_epochs": dict(batch_size=32, epochs=4, target=0.7),
    "per_member_seeds": dict(batch_size=48, steps=40, seed=[0, 5, 9], eval_every=7, target={"loss": 0.6}),
    "stop_at_target": dict(batch_size=25, epochs=6, seed=[1, 2, 3], target=[0.55, 0.65, 1.0], stop_at_target=True),
    "stop_eval_every": dict(batch_size=25, steps=60, eval_every=4, target={"val_loss": 0.66},
                            stop_at_target=[True, False, True]),
    "no_shuffle_partial": dict(batch_size=40, shuffle=False, steps=11),
    "zero_steps": dict(batch_size=40, steps=0),
}


@pytest.mark.parametrize("case", sorted(FIT_CASES))
def test_fit_ensemble_matches_fit(case):
    kw = FIT_CASES[case]
    rng = np.random.default_rng(11)
    X = rng.normal(size=(150, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    val = (X[:50] + 0.1, y[:50])
    mk = lambda: [fastinit.MLP([2, 12, 12, 2], seed=s) for s in range(3)]
    ens = fastinit.Ensemble(mk())
    mons = [fastinit.diagnostics.Monitor(every=3) for _ in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero_steps: the Monitors say they saw no step
        hists = fastinit.fit_ensemble(ens, X, y, optimizer=optim.SGD(0.2, momentum=0.9), validation_data=val,
                                      monitors=mons, **kw)
    for j, m in enumerate(mk()):
        kj = {key: (v[j] if isinstance(v, list) else v) for key, v in kw.items()}
        mon = fastinit.diagnostics.Monitor(every=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            h = fastinit.fit(m, X, y, optimizer=optim.SGD(0.2, momentum=0.9), validation_data=val, progress=False,
                             callbacks=[mon], **kj)
        assert comparable(hists[j]) == comparable(h), f"member {j}"
        assert repr(mons[j].records) == repr(mon.records), f"member {j}"
        assert all(same_bits(p, q) for p, q in zip(ens.members[j].parameters(), m.parameters()))
        assert (hists[j].target_time is None) == (h.target_time is None)


def test_fit_ensemble_divergence_lsuv_and_optimizer_list():
    rng = np.random.default_rng(12)
    X = rng.normal(size=(80, 3)) * 5
    y = rng.normal(size=(80, 2))
    mk = lambda: [fastinit.MLP([3, 9, 2], output="identity", init=i, seed=s, dtype=np.float64)
                  for s, i in enumerate(["lsuv", "he_normal", "xavier_normal"])]
    lrs = [1e-3, 5.0, 1e-2]
    ens = fastinit.Ensemble(mk())
    with pytest.warns(RuntimeWarning, match="member 1: loss became"):
        hists = fastinit.fit_ensemble(ens, X, y, optimizer=[optim.SGD(lr) for lr in lrs], batch_size=16,
                                      epochs=30)
    assert hists[1].diverged and not hists[0].diverged and hists[0].init_report is not None
    for j, m in enumerate(mk()):
        with pytest.warns(RuntimeWarning) if j == 1 else contextlib.nullcontext():
            h = fastinit.fit(m, X, y, optimizer=optim.SGD(lrs[j]), batch_size=16, epochs=30, progress=False)
        assert comparable(hists[j]) == comparable(h), f"member {j}"


def test_fit_ensemble_counts_member_seconds():
    rng = np.random.default_rng(13)
    X = rng.normal(size=(64, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    ens = fastinit.Ensemble.from_sizes([2, 8, 2], seeds=2)
    hists = fastinit.fit_ensemble(ens, X, y, optimizer=optim.SGD(0.5), batch_size=16, epochs=3, target=0.5)
    for h in hists:
        times = [e["time"] for e in h.evals]
        assert times[0] == 0.0 and all(b >= a for a, b in zip(times, times[1:])) and times[-1] > 0
        assert 0 < times[-1] <= h.wall_time and h.target_time is not None


def _same(a, b):
    """Equal values, NaN equal to NaN (a Monitor's records after a blow-up hold some)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, z) for x, z in zip(a, b))
    return (a != a and b != b) or a == b


MONITOR_CASES = {  # (activation, batch_size, every, lrs, optimizer): member 2 or 1 diverges
    "full_batch": ("relu", None, 25, [0.5, 0.1, 30.0], "sgd"),
    "shuffled_odd_every": ("tanh", 32, 7, [0.05, 0.5, 5.0], "sgd"),
    "every_step_divergence_after_a_check": ("relu", 50, 1, [0.01, 1e3, 0.1], "adam"),
}


@pytest.mark.parametrize("case", sorted(MONITOR_CASES))
def test_fit_ensemble_feeds_monitors_as_fit_does(case):
    act, bs, every, lrs, kind = MONITOR_CASES[case]
    ds = fastinit.data.load("spirals")
    mk = lambda: [fastinit.MLP([2, 16, 16, 3], activation=act, init=i, seed=s)
                  for s, i in enumerate(["he_normal", "xavier_normal", "random_large"])]
    opt = (lambda lr: optim.SGD(lr)) if kind == "sgd" else (lambda lr: optim.Adam(lr))
    kw = dict(steps=150, batch_size=bs, shuffle=bs is not None, validation_data=(ds.X_test, ds.y_test), target=0.9,
              eval_every=max(every, 10))
    ens = fastinit.Ensemble(mk())
    mons = [fastinit.diagnostics.Monitor(every=every) for _ in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the diverging member's
        hists = fastinit.fit_ensemble(ens, ds.X_train, ds.y_train, optimizer=[opt(lr) for lr in lrs], seed=[0, 1, 2],
                                      monitors=mons, **kw)
        for j, m in enumerate(mk()):
            mon = fastinit.diagnostics.Monitor(every=every)
            h = fastinit.fit(m, ds.X_train, ds.y_train, optimizer=opt(lrs[j]), seed=j, progress=False, callbacks=[mon],
                             **kw)
            assert comparable(hists[j]) == comparable(h), f"member {j}"
            assert mon.records and _same(mons[j].records, mon.records), f"member {j}"
    assert any(h.diverged for h in hists) == (case != "shuffled_odd_every")
    if case == "every_step_divergence_after_a_check":  # the check at step 1 is read from the diverging step 2
        assert hists[1].diverged and hists[1].steps == 2 and [r["step"] for r in mons[1].records] == [0, 1]


def test_fit_ensemble_says_whose_warning_it_is():
    class Loud(fastinit.diagnostics.Monitor):
        def on_train_end(self, model, history):
            super().on_train_end(model, history)
            warnings.warn(f"seen {len(self.records)} checks", UserWarning)

    rng = np.random.default_rng(14)
    X = rng.normal(size=(40, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    ens = fastinit.Ensemble.from_sizes([2, 8, 2], seeds=2)
    with pytest.warns(UserWarning) as said:
        fastinit.fit_ensemble(ens, X, y, optimizer=optim.SGD(0.1), steps=6, batch_size=20,
                              monitors=[None, Loud(every=3)])
    assert [str(w.message) for w in said] == ["member 1: seen 3 checks"]
    with pytest.raises(TypeError, match=r"monitors\[0\] must be a fastinit.diagnostics.Monitor"):
        fastinit.fit_ensemble(ens, X, y, optimizer=optim.SGD(0.1), steps=2, monitors=["no", None])
    with pytest.raises(ValueError, match="monitors has 1 entries"):
        fastinit.fit_ensemble(ens, X, y, optimizer=optim.SGD(0.1), steps=2, monitors=[None])
