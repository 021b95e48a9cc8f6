"""MLP.train_step against the plain-NumPy training step of bench/numpy_mlp.py (the benchmark's
peer) from the same weights: same loss and same updated weights, float64 tightly and float32 to
its rounding, for relu and tanh nets over several steps."""
import importlib.util
import os

import numpy as np
import pytest

import fastinit
from fastinit import optim

_spec = importlib.util.spec_from_file_location(
    "numpy_mlp", os.path.join(os.path.dirname(__file__), os.pardir, "bench", "numpy_mlp.py"))
numpy_mlp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(numpy_mlp)

NETS = [([20, 16, 16, 5], "relu", 32), ([12] + [9] * 6 + [4], "tanh", 17), ([30, 40, 3], "tanh", 64)]


def pair(sizes, act, n, dtype, seed=0):
    model = fastinit.MLP(sizes, activation=act, init="xavier_normal", bias_init="normal", seed=seed,
                         dtype=dtype)
    ref = numpy_mlp.NumpyMLP([l.W for l in model.layers], [l.b for l in model.layers], act)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0])).astype(dtype)
    y = rng.integers(0, sizes[-1], n)
    return model, ref, X, y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("net", range(len(NETS)), ids=lambda i: f"{NETS[i][1]}{len(NETS[i][0]) - 1}")
def test_train_step_matches_numpy_reference(net, dtype):
    model, ref, X, y = pair(*NETS[net], dtype)
    tol = 1e-12 if dtype == np.float64 else 2e-6
    opt = optim.SGD(0.5)
    for _ in range(3):
        before = [p.copy() for p in model.parameters()]
        loss = model.train_step(X, y, opt)
        want = ref.step(X, y, 0.5)
        assert loss == pytest.approx(want, rel=tol, abs=tol)
        got = model.parameters()
        for i, (W, b) in enumerate(zip(ref.W, ref.b)):
            for p, q, p0 in ((got[2 * i], W, before[2 * i]), (got[2 * i + 1], b, before[2 * i + 1])):
                assert p.dtype == q.dtype == dtype
                np.testing.assert_allclose(p, q, rtol=tol, atol=tol)
                # the update itself, not just the weights it is small against
                d, dq = p - p0, q - p0
                np.testing.assert_allclose(d, dq, rtol=0, atol=50 * tol * max(np.abs(dq).max(), 1e-3))
