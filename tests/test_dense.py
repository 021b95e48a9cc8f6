"""Dense layers (csrc/fi_dense.c through the MLP engine): forward against NumPy for every
activation (fused epilogue and kept pre-activation paths), backward against the composed
path (trace) and central differences in float64, odd sizes around the GEMM tiles."""
import numpy as np
import pytest
from support import act_kernel_set, has_kernel, numerical_gradient
from test_act import NAMES, ref_forward

import fastinit
from fastinit.nn import ACT_DEFAULT_PARAM


def net(act, sizes=(13, 17, 5), dtype=np.float64, output="identity", seed=0):
    return fastinit.MLP(list(sizes), activation=act, output=output, init="xavier_normal",
                        bias_init="normal", seed=seed, dtype=dtype)


@pytest.mark.parametrize("act", NAMES)
def test_forward_matches_numpy(act):
    m = net(act)
    X = np.random.default_rng(0).normal(size=(11, 13))
    l0, l1 = m.layers
    h = ref_forward(act, X @ l0.W.T + l0.b, ACT_DEFAULT_PARAM.get(act, 0.0))
    np.testing.assert_allclose(m.forward(X), h @ l1.W.T + l1.b, rtol=1e-12, atol=1e-13)
    t = m.trace(X)
    np.testing.assert_allclose(t.post[0], h, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(t.pre[0], X @ l0.W.T + l0.b, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(t.post[1], t.pre[1])


@pytest.mark.parametrize("act", NAMES)
def test_backward_matches_trace_and_finite_differences(act):
    m = net(act, sizes=(7, 9, 4))
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(6, 7)), rng.normal(size=(6, 4))
    grads = m.gradients(X, Y)
    t = m.trace(X, Y)
    for (dW, db), gW, gb in zip(grads, t.grad_W, t.grad_b):
        np.testing.assert_allclose(dW, gW, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(db, gb, rtol=1e-12, atol=1e-14)
    W = m.layers[0].W
    fd = numerical_gradient(lambda: m.loss(X, Y), W)
    assert np.abs(grads[0][0] - fd).max() / np.abs(fd).max() < 1e-6
    # dL/dX of the first layer against differences on the input
    fdx = numerical_gradient(lambda: m.loss(X, Y), X)
    assert np.abs(t.grad_input[0] - fdx).max() / np.abs(fdx).max() < 1e-6


@pytest.mark.parametrize("n,fan_in,fan_out", [(1, 1, 1), (5, 3, 17), (7, 33, 9), (37, 70, 23), (64, 257, 15)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_odd_sizes(n, fan_in, fan_out, dtype):
    m = net("relu", sizes=(fan_in, fan_out, 3), dtype=dtype)
    X = np.random.default_rng(2).normal(size=(n, fan_in)).astype(dtype)
    l0, l1 = m.layers
    X64 = X.astype(np.float64)
    h = np.maximum(X64 @ l0.W.T.astype(np.float64) + l0.b, 0)
    want = h @ l1.W.T.astype(np.float64) + l1.b
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(m.forward(X), want, rtol=tol, atol=tol)
    Y = np.zeros((n, 3), dtype)
    dz = 2 * (want - Y) / (n * 3)
    g = m.gradients(X, Y)
    np.testing.assert_allclose(g[1][0], dz.T @ h, rtol=tol * 10, atol=tol)
    np.testing.assert_allclose(g[1][1], dz.sum(axis=0), rtol=tol * 10, atol=tol)


def test_bias_sum_is_deterministic_and_exact_order():
    m = net("identity", sizes=(3, 4, 2), dtype=np.float32)
    X = np.random.default_rng(3).normal(size=(1000, 3)).astype(np.float32)
    Y = np.random.default_rng(4).normal(size=(1000, 2)).astype(np.float32)
    a = m.gradients(X, Y)
    b = m.gradients(X, Y)
    for (dWa, dba), (dWb, dbb) in zip(a, b):
        np.testing.assert_array_equal(dWa, dWb)
        np.testing.assert_array_equal(dba, dbb)


@pytest.mark.parametrize("act", ["identity", "relu", "tanh", "sigmoid", "elu"])
@pytest.mark.parametrize("width", [1, 7, 8, 9, 10, 17])
def test_float32_backward_kernels_agree(act, width):
    """dz = dy * act'(.) with the bias gradient summed alongside: the AVX2 path (column blocks of
    8, the last one masked) gives the same bits as the portable one, and the composed result."""
    if not has_kernel("avx2"):
        pytest.skip("CPU lacks AVX2+FMA")
    m = net(act, sizes=(5, width, width), dtype=np.float32)
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(13, 5)).astype(np.float32), rng.normal(size=(13, width)).astype(np.float32)
    got = {}
    for kernel in ("ref", "avx2"):
        with act_kernel_set(kernel):
            got[kernel] = [g for pair in m.gradients(X, Y) for g in pair]
    for r, a in zip(got["ref"], got["avx2"]):
        assert r.tobytes() == a.tobytes()
    t = m.trace(X, Y)
    for g, want in zip(got["avx2"][1::2], t.grad_b):
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-6)
