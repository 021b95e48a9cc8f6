"""Activation kernels (csrc/fi_act.c): forward against NumPy/SciPy formulas, backward against
central differences in float64, float32 against float64, stability for large |x|, PyTorch."""
import math

import numpy as np
import pytest
from scipy.special import erfc, expit
from support import act_kernel_set, has_kernel, numerical_gradient

from fastinit import _core
from fastinit.nn import ACT_DEFAULT_PARAM, ACTIVATIONS
from fastinit import activations

NAMES = [n for n in ACTIVATIONS if n != "linear"]
SELU_A, SELU_S = 1.6732632423543772848, 1.0507009873554804934


def ref_forward(name, x, p):
    if name == "identity":
        return x.copy()
    if name == "relu":
        return np.maximum(x, 0)
    if name == "leaky_relu":
        return np.where(x > 0, x, p * x)
    if name == "elu":
        return np.where(x > 0, x, p * np.expm1(x))
    if name == "selu":
        return SELU_S * np.where(x > 0, x, SELU_A * np.expm1(x))
    if name == "tanh":
        return np.tanh(x)
    if name == "sigmoid":
        return expit(x)
    if name == "gelu":
        return 0.5 * x * erfc(-x / math.sqrt(2))
    if name == "gelu_tanh":
        return x * expit(2 * math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))
    if name == "softplus":
        return np.logaddexp(0, x)
    if name == "softsign":
        return x / (1 + np.abs(x))
    if name == "silu":
        return x * expit(x)
    raise AssertionError(name)


def fwd(name, x, p=None):
    p = ACT_DEFAULT_PARAM.get(name, 0.0) if p is None else p
    y = np.empty_like(x)
    activations.forward(x, y, ACTIVATIONS[name], p)
    return y


def bwd(name, dy, z, p=None):
    p = ACT_DEFAULT_PARAM.get(name, 0.0) if p is None else p
    y = fwd(name, z, p)
    dz = np.empty_like(z)
    activations.backward(dy, z, y, dz, ACTIVATIONS[name], p)
    return dz


def points(dtype=np.float64, n=2000, seed=0):
    """Values over [-8, 8] plus a few extremes, kept away from the kink at 0."""
    x = np.random.default_rng(seed).uniform(-8, 8, n)
    x = np.concatenate([x, [-30.0, -12.5, -1e-3, 1e-3, 12.5, 30.0]])
    x[np.abs(x) < 1e-4] = 1e-4
    return x.astype(dtype)


@pytest.mark.parametrize("name", NAMES)
def test_forward_float64_matches_formula(name):
    x = points()
    np.testing.assert_allclose(fwd(name, x), ref_forward(name, x, ACT_DEFAULT_PARAM.get(name, 0.0)),
                               rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_central_differences(name):
    x = points()
    dy = np.random.default_rng(1).normal(size=x.shape)
    fd = dy * numerical_gradient(lambda: fwd(name, x), x, elementwise=True)
    got = bwd(name, dy, x)
    err = np.abs(got - fd) / np.maximum(np.abs(fd), 1e-3)
    assert err.max() < 1e-6, (name, err.max(), x[err.argmax()])


@pytest.mark.parametrize("name", NAMES)
def test_float32_matches_float64(name):
    x = points(np.float32)
    y32, y64 = fwd(name, x), fwd(name, x.astype(np.float64))
    # float32 rounding of the argument costs up to ~2 x^2 ulp in the tails of erfc/exp
    np.testing.assert_allclose(y32, y64, rtol=1e-5, atol=1e-30)
    dy = np.ones_like(x)
    np.testing.assert_allclose(bwd(name, dy, x), bwd(name, dy.astype(np.float64), x.astype(np.float64)),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_fast_float32_paths_are_within_one_ulp(name):
    x = np.linspace(-20, 20, 400001).astype(np.float32)
    x = np.concatenate([x, np.float32([1e-30, -1e-30, 1e-6, -3e-5, 88.0, -88.0, -103.0])])
    exact = ref_forward(name, x.astype(np.float64), 0.0)
    got = fwd(name, x).astype(np.float64)
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    assert (np.abs(got - exact) <= ulp).all()


def fexp(x):
    y = np.empty_like(x)
    activations.exp(x, y)
    return y


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "exp"])
def test_float32_kernels_within_one_ulp_everywhere(act_kernel, name):
    """Both kernel paths against NumPy/SciPy in float64: a wide log-spaced range of both signs,
    subnormals, the saturation region, 0, -0, +-inf and NaN (which must stay NaN)."""
    assert _core.act_kernel() == act_kernel
    mag = np.logspace(-45, 38, 20001)
    x = np.concatenate([mag, -mag, np.linspace(-120, 120, 240001),
                        [0.0, -0.0, np.inf, -np.inf, np.nan, 3.4e38, -3.4e38]]).astype(np.float32)
    with np.errstate(over="ignore"):
        got = (fexp(x) if name == "exp" else fwd(name, x)).astype(np.float64)
        exact = np.exp(x.astype(np.float64)) if name == "exp" else ref_forward(name, x.astype(np.float64), 0.0)
    assert np.isnan(got[np.isnan(x)]).all()
    if name == "exp":  # past float's range: inf, as float32 arithmetic gives
        big = exact > np.finfo(np.float32).max
        assert (got[big] == np.inf).all()
        exact[big] = np.inf
    ok = ~np.isnan(x)
    ok &= np.isfinite(exact)
    ulp = np.spacing(np.abs(exact[ok]).astype(np.float32)).astype(np.float64)
    err = np.abs(got[ok] - exact[ok]) / ulp
    assert err.max() <= 1.0, (name, err.max(), x[ok][err.argmax()])
    if name == "tanh":
        np.testing.assert_array_equal(np.signbit(got[ok]), np.signbit(x[ok]))  # tanh(-0) = -0


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "exp"])
def test_float32_kernels_agree_and_ignore_position(name):
    """The AVX2 and portable paths give the same floats (AVX-512 the same bits as AVX2), and a
    value's result does not depend on where it sits (vector body or padded tail): results may
    not vary with thread blocking."""
    if not has_kernel("avx2"):
        pytest.skip("CPU lacks AVX2+FMA")
    x = np.random.default_rng(3).uniform(-12, 12, 100003).astype(np.float32)
    f = fexp if name == "exp" else lambda v: fwd(name, v)
    with act_kernel_set("ref"):
        want = f(x)
    with act_kernel_set("avx2"):
        got = f(x)
        for n in range(1, 20):
            np.testing.assert_array_equal(f(x[3:3 + n]), got[3:3 + n])
    mism = np.flatnonzero(got != want)
    assert mism.size <= 10, mism.size  # an FMA may move a double rounding across a tie
    assert (np.abs(got[mism] - want[mism]) <= np.spacing(np.abs(want[mism]))).all()
    if has_kernel("avx512"):  # the same operations on 16 lanes: the same bits, tails included
        with act_kernel_set("avx512"):
            np.testing.assert_array_equal(f(x), got)
            for n in range(1, 35):
                np.testing.assert_array_equal(f(x[3:3 + n]), got[3:3 + n])


def test_act_kernel_selection():
    with pytest.raises(ValueError, match="unknown activation kernel"):
        _core.select_act_kernel("sse9")
    with act_kernel_set("ref"):
        assert _core.act_kernel() == "ref"
        _core.select_act_kernel("auto")  # clears the override: the family follows the process's set again
        process_set = _core.gemm_info()["kernel"]
        assert _core.act_kernel() == (process_set if process_set in ("avx2", "avx512") else "ref")
        for name in ("avx2", "avx512"):
            if has_kernel(name):
                _core.select_act_kernel(name)
                assert _core.act_kernel() == name
            else:
                with pytest.raises(ValueError):
                    _core.select_act_kernel(name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_inputs_are_stable(dtype):
    x = np.array([-1e30, -1000.0, -100.0, 100.0, 1000.0, 1e30], dtype=dtype)
    for name in NAMES:
        if name in ("identity", "relu", "leaky_relu", "selu", "elu", "gelu", "gelu_tanh", "softplus", "softsign", "silu"):
            y = fwd(name, x)
            assert np.isfinite(y).all(), name
    s = fwd("sigmoid", x)
    np.testing.assert_array_equal(s[[0, 1, 3, 4, 5]], (x > 0)[[0, 1, 3, 4, 5]])
    assert 0 <= s[2] < 1e-40
    sp = fwd("softplus", x)
    np.testing.assert_array_equal(sp[3:], x[3:])
    assert (sp[:3] >= 0).all() and (sp[:3] < 1e-40).all()
    np.testing.assert_array_equal(fwd("tanh", x), np.sign(x))
    dy = np.ones_like(x)
    for name in NAMES:
        assert np.isfinite(bwd(name, dy[1:-1], x[1:-1])).all(), name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_in_place(dtype):
    x = points(dtype)
    want = fwd("tanh", x)
    activations.forward(x, x, ACTIVATIONS["tanh"], 0.0)
    np.testing.assert_array_equal(x, want)
    dy = np.ones_like(x)
    y = fwd("relu", x)
    activations.backward(dy, x, y, dy, ACTIVATIONS["relu"], 0.0)
    np.testing.assert_array_equal(dy, (y > 0).astype(dtype))


def test_parameters_are_used():
    x = np.array([-2.0, 3.0])
    np.testing.assert_allclose(fwd("leaky_relu", x, 0.2), [-0.4, 3.0])
    np.testing.assert_allclose(fwd("elu", x, 2.0), [2 * np.expm1(-2.0), 3.0])
    np.testing.assert_allclose(bwd("leaky_relu", np.ones(2), x, 0.2), [0.2, 1.0])
    np.testing.assert_allclose(bwd("elu", np.ones(2), x, 2.0), [2 * np.exp(-2.0), 1.0])


def test_needs_pre_is_reported():
    assert activations.needs_pre(ACTIVATIONS["gelu"])
    assert not activations.needs_pre(ACTIVATIONS["tanh"])


def test_bad_arguments():
    x = np.zeros(4)
    with pytest.raises(ValueError, match="act"):
        activations.forward(x, x, 99, 0.0)
    with pytest.raises(TypeError, match="float32 or float64"):
        activations.forward(x.astype(np.float16), x, 1, 0.0)
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        activations.forward(x, np.zeros(5), 1, 0.0)
    with pytest.raises(ValueError, match="float32"):
        activations.forward(x, np.zeros(4, np.float32), 1, 0.0)
    with pytest.raises(ValueError, match="C-contiguous"):
        activations.forward(np.zeros(8)[::2], x, 1, 0.0)
    with pytest.raises(TypeError, match="ndarray"):
        activations.forward([1.0], x, 1, 0.0)


TORCH = {
    "identity": lambda F, x: x, "relu": lambda F, x: F.relu(x),
    "leaky_relu": lambda F, x: F.leaky_relu(x, 0.01), "elu": lambda F, x: F.elu(x, 1.0),
    "selu": lambda F, x: F.selu(x), "tanh": lambda F, x: F.tanh(x), "sigmoid": lambda F, x: F.sigmoid(x),
    "gelu": lambda F, x: F.gelu(x), "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"),
    "softplus": lambda F, x: F.softplus(x), "softsign": lambda F, x: F.softsign(x),
    "silu": lambda F, x: F.silu(x),
}


@pytest.mark.parametrize("name", NAMES)
def test_matches_torch_float64(name):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = points()
    x = x[np.abs(x) < 15]  # torch's softplus returns x itself above 20
    dy = np.random.default_rng(2).normal(size=x.shape)
    tx = torch.tensor(x, requires_grad=True)
    ty = TORCH[name](F, tx)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(fwd(name, x), ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(bwd(name, dy, x), tx.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_silu_closed_form_and_codes():
    """silu(x) = x sigmoid(x), silu' = s (1 + x (1 - s)); its C code is appended after softsign
    (existing codes never move) and the enum's count covers it."""
    assert ACTIVATIONS["silu"] == 11 and ACTIVATIONS["softsign"] == 10
    assert sorted(set(ACTIVATIONS.values())) == list(range(12))
    x = np.array([-40.0, -3.0, -0.5, 0.0, 0.5, 3.0, 40.0])
    s = expit(x)
    np.testing.assert_allclose(fwd("silu", x), x * s, rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(bwd("silu", np.ones_like(x), x), s * (1 + x * (1 - s)), rtol=1e-14, atol=1e-300)
    assert fwd("silu", np.array([0.0]))[0] == 0.0 and bwd("silu", np.ones(1), np.zeros(1))[0] == 0.5
    with pytest.raises(ValueError, match="act"):
        activations.forward(x, x.copy(), 12, 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_silu_same_bits_on_every_kernel_set(dtype):
    """silu uses the scalar sigmoid, never the SIMD map: ref, avx2 and avx512 give the same bits."""
    x = np.random.default_rng(5).uniform(-20, 20, 10007).astype(dtype)
    dy = np.random.default_rng(6).normal(size=x.shape).astype(dtype)
    out = []
    for k in ("ref", "avx2", "avx512"):
        if has_kernel(k):
            with act_kernel_set(k):
                out.append((fwd("silu", x), bwd("silu", dy, x)))
    for y, dz in out[1:]:
        np.testing.assert_array_equal(y, out[0][0])
        np.testing.assert_array_equal(dz, out[0][1])


# ---------------------------------------------------------------- issue 12, item 6
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_nan_propagates_through_every_activation(act_kernel, name, dtype):
    # relu(NaN) was 0: NaN weights and activations were masked and units read as dead.
    x = np.full(37, np.nan, dtype)  # past a vector width, with a tail
    y = fwd(name, x)
    assert np.isnan(y).all(), name


def test_relu_keeps_its_bits_for_finite_inputs(act_kernel):
    x = np.array([-0.0, 0.0, -1e-45, 1e-45, -3.0, 2.5, np.inf, -np.inf], np.float32)
    y = fwd("relu", x)
    assert y.tobytes() == np.array([0, 0, 0, 1e-45, 0, 2.5, np.inf, 0], np.float32).tobytes()
    dz = np.empty_like(x)
    activations.backward(np.ones_like(x), x, np.array([np.nan, 0, -1, 2], np.float32).repeat(2), dz,
                         ACTIVATIONS["relu"], 0.0)
    assert dz.tolist() == [1, 1, 0, 0, 0, 0, 1, 1]  # as torch: a NaN output passes the gradient
