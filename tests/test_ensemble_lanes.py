"""The lane engine (csrc/fi_lanes.h): where the kernel set has FMA lanes (avx2, avx512), an
ensemble trains its members in groups of one SIMD width (16 float32 / 8 float64 members with
AVX-512, 8 / 4 with AVX2), a member per lane; a short last group runs at half the width (the
AVX2 kernels beside AVX-512) or padded, and one under half of either takes the per-member path.
Every member must stay bit-identical to its solo run: K here gives full groups and each kind
of tail at either width (33: per-member tail; 28: padded; 20: half width, padded), for every
activation, loss and optimizer, both dtypes, per-member batches, schedules, optimizers, stops
and threads; under the ref set the same tests check the per-member path."""
import numpy as np
import pytest

import fastinit
from fastinit import _core, optim, runtime
from fastinit.ensemble import lane_width
from support import kernel_set, num_threads
from test_ensemble import (HIDDEN, OPTIMIZERS, assert_members_equal, comparable, data, models, same_bits,
                           schedule, train_both)

#: members per dtype: full AVX-512 groups + a per-member tail (K), a padded tail (K_PADDED)
#: or a half-width one (K_HALF)
K = {np.float32: 33, np.float64: 17}
K_PADDED = {np.float32: 28, np.float64: 14}
K_HALF = {np.float32: 20, np.float64: 10}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", HIDDEN + [("leaky_relu", 0.2), ("elu", 0.7)])
def test_lanes_every_activation(activation, dtype):
    train_both([5, 9, 7, 3], K_PADDED[dtype], lambda j: optim.SGD(0.05, momentum=0.9), activation=activation,
               dtype=dtype, steps=4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("output,sizes", [("softmax", [3, 17, 4]), ("sigmoid", [3, 17, 1]),
                                          ("sigmoid", [6, 13, 3]), ("identity", [3, 17, 2])])
def test_lanes_every_loss(output, sizes, dtype):
    train_both(sizes, K[dtype], lambda j: optim.SGD(0.1), output=output, dtype=dtype, activation="relu", steps=4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_lanes_every_optimizer(name, dtype):
    ens, solo, opt_e, opt_s = train_both([7, 11, 5, 3], K_HALF[dtype], OPTIMIZERS[name], dtype=dtype, steps=6)
    for j in (0, K_HALF[dtype] - 1):
        assert opt_e.steps(ens.members[j]) == opt_s.steps(solo[j]) == 6
        for key in ("s1", "s2"):
            for a, b in zip(opt_e.state(ens.members[j]).get(key, []), opt_s.state(solo[j]).get(key, [])):
                assert same_bits(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lanes_per_member_optimizers(dtype):
    """Per-member lr, momentum, weight decay and clipping in one group; different kinds split
    the members into groups of their kind (each short group padded or per member)."""
    kinds = [lambda j: optim.SGD(0.01 * (j + 1), momentum=0.02 * j, weight_decay=1e-3 * j),
             lambda j: optim.Adam(1e-3 * (j + 1), clip_norm=0.05 if j % 3 else None),
             lambda j: optim.AdamW(2e-3, weight_decay=0.01 * j),
             lambda j: optim.SGD(0.03, momentum=0.9, nesterov=True, clip_norm=0.1 + j)]
    train_both([4, 10, 6, 2], 40, lambda j: kinds[j % 4](j), per_opt=True, dtype=dtype, steps=5)
    # one kind, per-member lr and momentum: every member in lanes
    train_both([4, 10, 6, 2], 32, lambda j: optim.SGD(0.01 + 0.01 * j, momentum=0.5 + 0.01 * j), per_opt=True,
               dtype=dtype, steps=5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lanes_per_member_batches(dtype):
    train_both([3, 12, 5], K[dtype], lambda j: optim.SGD(0.1, momentum=0.9), per_member=True, dtype=dtype, n=29)
    train_both([3, 12, 1], K_HALF[dtype], lambda j: optim.Adam(1e-2), output="sigmoid", per_member=True,
               dtype=dtype, n=30)


@pytest.mark.parametrize("nt", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lanes_run_shared_and_per_member_schedules(nt, dtype):
    """Ensemble.run on a shuffled shared schedule (with a short last batch), on per-member
    schedules over per-member data, and on full batches read in place; 1 and 2 threads."""
    rng = np.random.default_rng(21)
    sizes, k = [5, 19, 11, 3], K[dtype]
    X, y = data(rng, 103, sizes, "softmax", dtype)
    Xk, yk = data(rng, 61, sizes, "softmax", dtype, k)
    shared = schedule(rng, 103, 20, 13)
    per = [schedule(np.random.default_rng(j), 61, 15, 8) for j in range(k)]
    per = [np.stack([per[j][t] for j in range(k)]) for t in range(8) if len({len(p[t]) for p in per}) == 1]
    full = [np.arange(103)] * 3 + [np.arange(7, 50)]
    for Xs, ys, batches in ((X, y, shared), (Xk, yk, per), (X, y, full)):
        with num_threads(nt):
            ens = fastinit.Ensemble(models(sizes, k, dtype=dtype))
            got = ens.run(Xs, ys, optim.Adam(1e-2), batches)
        solo, opt = models(sizes, k, dtype=dtype), optim.Adam(1e-2)
        if Xs is Xk:
            want = np.array([[s.train_step(Xk[j][b[j]], yk[j][b[j]], opt) for b in batches]
                             for j, s in enumerate(solo)])
        else:
            want = np.array([[s.train_step(X[b], y[b], opt) for b in batches] for s in solo])
        assert same_bits(got, want)
        assert_members_equal(ens, solo)


def test_lanes_members_stop_alone():
    """Members that diverge leave their group after the step that blew up (their parameters,
    state and step count as their solo run's at that step) and the others train on."""
    rng = np.random.default_rng(22)
    X, y = data(rng, 40, [3, 8, 2], "identity", np.float32)
    X[:, 0] *= 1e3
    k = 20
    lrs = [50.0 if j % 7 == 3 else 1e-6 for j in range(k)]
    ens = fastinit.Ensemble(models([3, 8, 2], k, output="identity"))
    opts = [optim.SGD(lr, momentum=0.5) for lr in lrs]
    loss = ens.run(X, y, opts, [np.arange(40)] * 30)
    solo = models([3, 8, 2], k, output="identity")
    for j in range(k):
        ran = opts[j].steps(ens.members[j])
        assert (ran < 30) == (lrs[j] > 1)
        o = optim.SGD(lrs[j], momentum=0.5)
        want = [solo[j].train_step(X, y, o) for _ in range(ran)]
        assert same_bits(loss[j, :ran], np.array(want)) and np.isnan(loss[j, ran:]).all()
        assert all(same_bits(p, q) for p, q in zip(ens.members[j].parameters(), solo[j].parameters()))


@pytest.mark.parametrize("name", runtime.available_kernels())
def test_lanes_kernel_sets(name):
    with kernel_set(name):
        train_both([9, 33, 17, 3], 17, lambda j: optim.Adam(1e-2), n=41, dtype=np.float32, activation="gelu")
        train_both([9, 33, 17, 3], 9, lambda j: optim.SGD(0.1, momentum=0.9), n=41, dtype=np.float64,
                   activation="sigmoid")


def test_lanes_wide_net_and_long_batch():
    """The MNIST-1D net's 100-wide layers, and batches longer than the K block (float64 256,
    float32 512 rows: two KC blocks in dW, merged as the solo GEMM merges them)."""
    train_both([40, 100, 100, 10], 16, lambda j: optim.SGD(0.05), n=100, steps=2, activation="relu")
    train_both([6, 20, 3], 8, lambda j: optim.SGD(0.05, momentum=0.9), n=300, steps=3, dtype=np.float64)
    train_both([6, 20, 3], 16, lambda j: optim.SGD(0.05), n=600, steps=2, dtype=np.float32)


def test_lanes_fit_ensemble_per_member_seeds_and_stops():
    """fit_ensemble with its own shuffle per member, targets and stops, and members' seconds."""
    rng = np.random.default_rng(23)
    X = rng.normal(size=(150, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    val = (X[:50] + 0.1, y[:50])
    k = 18
    kw = dict(batch_size=25, epochs=5, eval_every=5, seed=list(range(k)), target=[0.55 + 0.02 * j for j in range(k)],
              stop_at_target=[j % 2 == 0 for j in range(k)])
    mk = lambda: [fastinit.MLP([2, 12, 12, 2], seed=s) for s in range(k)]
    ens = fastinit.Ensemble(mk())
    hists = fastinit.fit_ensemble(ens, X, y, optimizer=optim.SGD(0.2, momentum=0.9), validation_data=val, **kw)
    for j, m in enumerate(mk()):
        kj = {key: (v[j] if isinstance(v, list) else v) for key, v in kw.items()}
        h = fastinit.fit(m, X, y, optimizer=optim.SGD(0.2, momentum=0.9), validation_data=val, progress=False, **kj)
        assert comparable(hists[j]) == comparable(h), f"member {j}"
        assert all(same_bits(p, q) for p, q in zip(ens.members[j].parameters(), m.parameters()))
        assert hists[j].evals[-1]["time"] > 0


def test_lane_width_is_the_kernel_sets_vector_width():
    widths = {"ref": (0, 0), "neon": (0, 0), "avx2": (8, 4), "avx512": (16, 8)}
    for name in runtime.available_kernels():
        with kernel_set(name):
            assert (lane_width("float32"), lane_width(np.float64)) == widths[name]
    with pytest.raises(TypeError, match="dtype"):
        lane_width("int32")


@pytest.mark.skipif(lane_width() == 0, reason="the kernel set in use has no lanes (ref): every member alone")
def test_lanes_where_they_pay_from_the_calls_own_timings():
    """Lanes pay on some nets and lose on others (bench_ensemble.py --only plan: a 2-16-16-2 net
    twice as fast in full groups, a 12 x 64 tanh net at batch 64 slower even with every lane
    busy; which one wins also depends on the build: under AddressSanitizer the tiny net's
    groups lose). An ensemble
    times both paths on its first call (a member kept alone, the rest in a padded group; the
    first two calls when they are one step each), and from then on a group runs in lanes exactly when its measured step cost less than its
    members' steps alone, with the same bits either way."""
    rng = np.random.default_rng(8)
    k = lane_width()
    _core.lanes_plan_fixed(False)
    try:
        for sizes, act, n in [([2, 16, 16, 2], "relu", 300), ([2] + [64] * 12 + [3], "tanh", 64)]:
            X, y = data(rng, n, sizes, "softmax", np.float32)
            ens = fastinit.Ensemble(models(sizes, k, activation=act))
            solo = models(sizes, k, activation=act)
            opt_e, opt_s = optim.SGD(0.05), optim.SGD(0.05)
            costs = None
            for call in range(4):
                ens.run(X, y, opt_e, [np.arange(n)] * 10)
                for s in solo:
                    for _ in range(10):
                        s.train_step(X, y, opt_s)
                laned, measured = ens._core.lane_plan(n)
                if call == 0:  # the last member alone, the others in a padded group: both timed
                    assert laned == [True] * (k - 1) + [False], laned
                    assert measured["group"] > 0 and measured["member"] > 0, measured
                else:  # planned from what the calls before measured
                    pays = costs["group"] < k * costs["member"]
                    assert laned == [pays] * k, (sizes, laned, costs)
                costs = measured
            assert_members_equal(ens, solo)
            # One-step calls: a first step's time is its cold caches', so two of them keep a member alone
            ens, solo = fastinit.Ensemble(models(sizes, k, activation=act)), models(sizes, k, activation=act)
            for call in range(3):
                ens.train_step(X, y, opt_e)
                for s in solo:
                    s.train_step(X, y, opt_s)
                laned, measured = ens._core.lane_plan(n)
                if call < 2:
                    assert not laned[-1], (call, laned)
                else:
                    assert laned == [costs["group"] < k * costs["member"]] * k, (sizes, laned, costs)
                costs = measured
            assert_members_equal(ens, solo)
    finally:
        _core.lanes_plan_fixed(True)
