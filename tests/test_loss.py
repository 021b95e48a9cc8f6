"""Loss kernels (csrc/fi_loss.c): value against NumPy, gradient against central differences in
float64, stability for huge logits, float32 against float64, PyTorch parity, bad inputs."""
import numpy as np
import pytest
from scipy.special import expit, logsumexp
from support import numerical_gradient

from fastinit import losses


def ref_xent(z, y):
    return float(np.mean(logsumexp(z, axis=1) - z[np.arange(len(y)), y]))


def ref_bce(z, t):
    return float(np.mean(np.logaddexp(0, z) - z * t))


def ref_mse(z, t):
    return float(np.mean((z - t) ** 2))


def data(kind, n=7, c=5, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=3, size=(n, c)).astype(dtype)
    if kind == "cross_entropy":
        return z, rng.integers(0, c, n)
    if kind == "bce":
        return z, rng.uniform(size=(n, c)).astype(dtype)
    return z, rng.normal(size=(n, c)).astype(dtype)


REF = {"cross_entropy": ref_xent, "bce": ref_bce, "mse": ref_mse}


@pytest.mark.parametrize("kind", list(REF))
def test_value_matches_reference(kind):
    z, y = data(kind)
    loss, _ = losses.LOSSES[kind](z, y)
    assert loss == pytest.approx(REF[kind](z, y), rel=1e-13)


@pytest.mark.parametrize("kind", list(REF))
def test_gradient_matches_central_differences(kind):
    z, y = data(kind)
    _, g = losses.LOSSES[kind](z, y)
    fd = numerical_gradient(lambda: REF[kind](z, y), z)
    assert np.abs(g - fd).max() / np.abs(fd).max() < 1e-6


@pytest.mark.parametrize("n,c", [(5000, 2), (3000, 7), (400, 1000), (300, 1)])
def test_cross_entropy_value_over_many_rows(n, c):
    """The training value takes its logs of products of row sums (csrc/fi_loss.h): as exact as
    a log per row, with products cut many times (c = 1000: every ~100 rows), once (c = 2) or
    never (c = 1: every sum is 1); the same value as the value-only pass."""
    z, y = data("cross_entropy", n=n, c=c, seed=n)
    loss, _ = losses.LOSSES["cross_entropy"](z, y)
    assert loss == pytest.approx(ref_xent(z, y), rel=1e-14, abs=1e-15)
    assert loss == pytest.approx(losses.LOSSES["cross_entropy"](z, y, grad=False)[0], rel=1e-14, abs=1e-15)


@pytest.mark.parametrize("kind", list(REF))
def test_value_only(kind):
    z, y = data(kind)
    loss, g = losses.LOSSES[kind](z, y, grad=False)
    assert g is None and loss == pytest.approx(REF[kind](z, y), rel=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_logits_are_stable(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-5e3, 5e3, 5e3]], dtype=dtype)
    loss, g = losses.cross_entropy(z, np.array([0, 0]))
    assert loss == pytest.approx((1e4 + np.log(2)) / 2, rel=1e-6)  # rows: 0 and 1e4 + log 2
    assert np.isfinite(g).all()
    np.testing.assert_allclose(g[0], [0, 0, 0], atol=1e-30)
    zb = np.array([[1e4], [-1e4], [50.0]], dtype=dtype)
    loss, g = losses.bce_with_logits(zb, np.array([[1.0], [0.0], [0.0]], dtype=dtype))
    assert loss == pytest.approx(50 / 3, rel=1e-6)
    np.testing.assert_allclose(g[:, 0], [0, 0, 1 / 3], atol=1e-7)


@pytest.mark.parametrize("kind", list(REF))
def test_float32_matches_float64(kind):
    z, y = data(kind, n=64, c=10)
    l64, g64 = losses.LOSSES[kind](z, y)
    y32 = y if kind == "cross_entropy" else y.astype(np.float32)
    l32, g32 = losses.LOSSES[kind](z.astype(np.float32), y32)
    assert l32 == pytest.approx(l64, rel=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-6)


def test_bad_inputs():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 4\)"):
        losses.cross_entropy(z, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="int64"):
        losses.cross_entropy(z, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"expected targets of shape \(3, 4\)"):
        losses.mse(z, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="non-empty"):
        losses.mse(np.zeros((0, 4)), np.zeros((0, 4)))
    with pytest.raises(TypeError, match="float32 or float64"):
        losses.mse(z.astype(np.int32), z)


@pytest.mark.parametrize("kind", list(REF))
def test_matches_torch_float64(kind):
    torch = pytest.importorskip("torch")
    z, y = data(kind, n=16, c=6, seed=3)
    tz = torch.tensor(z, requires_grad=True)
    ty = torch.tensor(y)
    fn = {"cross_entropy": torch.nn.CrossEntropyLoss(), "bce": torch.nn.BCEWithLogitsLoss(),
          "mse": torch.nn.MSELoss()}[kind]
    tl = fn(tz, ty)
    tl.backward()
    loss, g = losses.LOSSES[kind](z, y)
    assert loss == pytest.approx(tl.item(), rel=1e-12)
    np.testing.assert_allclose(g, tz.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_probabilities():
    z = np.array([[1000.0, 0.0], [-3.0, 4.0]])
    p = losses.probabilities("softmax", z)
    np.testing.assert_allclose(p.sum(axis=1), 1)
    np.testing.assert_allclose(p[1], np.exp(z[1]) / np.exp(z[1]).sum())
    np.testing.assert_allclose(losses.probabilities("sigmoid", z), expit(z), rtol=1e-15)
