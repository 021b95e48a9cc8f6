"""fastinit.torch: schemes on torch modules (fastinit's bits), to_torch / from_torch, and the same
training run in both libraries."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import fastinit  # noqa: E402
import fastinit.torch as ft  # noqa: E402
from fastinit import init  # noqa: E402

SIZES = [7, 13, 5, 3]


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # Tiny matmuls: torch's thread pool only waits on a shared machine (4 s instead of 0.06 s).
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
DTYPES = [(np.float32, torch.float32), (np.float64, torch.float64)]


def _net(tdt, sizes=SIZES):
    mods = []
    for i in range(len(sizes) - 1):
        mods.append(nn.Linear(sizes[i], sizes[i + 1], dtype=tdt))
        if i < len(sizes) - 2:
            mods.append(nn.Tanh())
    return nn.Sequential(*mods)


def _params(net):
    return [p.detach().numpy() for p in net.parameters()]


@pytest.mark.parametrize("npdt, tdt", DTYPES)
@pytest.mark.parametrize("scheme", init.names())
def test_init_gives_fastinit_bits_for_every_scheme(scheme, npdt, tdt, rng):
    X = rng.standard_normal((32, SIZES[0]))
    try:
        model = fastinit.MLP(SIZES, activation="tanh", init=scheme, seed=11, dtype=npdt)
    except Exception as e:  # a scheme that cannot draw these shapes: init_ says so as well
        with pytest.raises(type(e)):
            ft.init_(_net(tdt), scheme, seed=11, X=X)
        return
    if model.pending_init:
        init.lsuv(model, X)
    net = ft.init_(_net(tdt), scheme, seed=11, X=X)
    got = _params(net)
    assert len(got) == 2 * len(model.layers)
    for a, b in zip(got, model.parameters()):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_scheme_parameters_bias_init_and_per_layer_lists():
    model = fastinit.MLP(SIZES, init=init.get("he_normal", nonlinearity="tanh", mode="fan_out"),
                         bias_init="torch_default", seed=2)
    net = ft.init_(_net(torch.float32), "he_normal", seed=2, nonlinearity="tanh", mode="fan_out",
                   bias_init="torch_default")
    for a, b in zip(_params(net), model.parameters()):
        np.testing.assert_array_equal(a, b)
    schemes = ["orthogonal", "xavier_uniform", "zeros"]
    model = fastinit.MLP(SIZES, init=schemes, seed=2)
    net = ft.init_(_net(torch.float32), schemes, seed=2)
    for a, b in zip(_params(net), model.parameters()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="3 Linear layers"):
        ft.init_(_net(torch.float32), schemes[:2])


class _Residual(nn.Module):
    """Not a stack fastinit.MLP can express: Linear layers in attributes, a skip connection, a conv."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, 3)
        self.inp = nn.Linear(10, 16)
        self.block = nn.Sequential(nn.Linear(16, 16), nn.ReLU())
        self.out = nn.Linear(16, 4)

    def forward(self, x):
        h = torch.relu(self.inp(x))
        return self.out(h + self.block(h))


def test_any_module_in_module_order_others_untouched(rng):
    net = _Residual()
    conv = [p.detach().clone() for p in net.conv.parameters()]
    ft.init_(net, "xavier_normal", seed=4)
    for i, lin in enumerate([net.inp, net.block[0], net.out]):
        fo, fi = lin.weight.shape
        np.testing.assert_array_equal(lin.weight.detach().numpy(),
                                      init.initialize("xavier_normal", (fo, fi), seed=4, stream=2 * i))
        np.testing.assert_array_equal(lin.bias.detach().numpy(), np.zeros(fo, np.float32))
    for p, q in zip(conv, net.conv.parameters()):
        assert torch.equal(p, q)
    # LSUV on a module fastinit cannot express runs in torch: every Linear output at unit variance.
    X = torch.from_numpy(rng.standard_normal((256, 10)).astype(np.float32))
    ft.init_(net, "lsuv", seed=4, X=X, tol=0.01)
    outs = []
    hooks = [m.register_forward_hook(lambda m, i, o: outs.append(float(o.var(unbiased=False))))
             for m in (net.inp, net.block[0], net.out)]
    with torch.no_grad():
        net(X)
    for h in hooks:
        h.remove()
    np.testing.assert_allclose(outs, 1.0, atol=0.01)


def test_init_errors_name_the_problem():
    with pytest.raises(ValueError, match="no nn.Linear"):
        ft.init_(nn.Sequential(nn.ReLU()), "he_normal")
    with pytest.raises(ValueError, match="needs a batch of data: pass X="):
        ft.init_(_net(torch.float32), "lsuv")
    with pytest.raises(ValueError, match="unknown init scheme"):
        ft.init_(_net(torch.float32), "he_nromal")
    with pytest.raises(ValueError, match="lazy"):
        ft.init_(nn.Sequential(nn.LazyLinear(3)), "he_normal")


ACTS = ["identity", "relu", ("leaky_relu", 0.3), ("elu", 0.7), "selu", "tanh", "sigmoid", "gelu", "gelu_tanh",
        "softplus", "softsign"]


@pytest.mark.parametrize("npdt, tdt", DTYPES)
@pytest.mark.parametrize("act", ACTS, ids=str)
def test_to_torch_same_outputs_and_from_torch_round_trip(act, npdt, tdt, rng):
    model = fastinit.MLP([6, 9, 8, 4], activation=act, output="sigmoid", init="xavier_normal",
                         bias_init="normal", seed=1, dtype=npdt)
    seq = model.to_torch()
    assert isinstance(seq, nn.Sequential) and len(seq) == 5
    assert all(p.dtype == tdt for p in seq.parameters())
    X = rng.standard_normal((50, 6)).astype(npdt) * 2
    with torch.no_grad():
        got = seq(torch.from_numpy(X)).numpy()
    # Different libraries sum the matmuls and evaluate exp/tanh/erf in different orders and
    # approximations: equal to rounding error of the dtype, not bit for bit.
    np.testing.assert_allclose(got, model.forward(X), rtol=1e-5 if npdt == np.float32 else 1e-12,
                               atol=1e-6 if npdt == np.float32 else 1e-13)
    back = fastinit.MLP.from_torch(seq, output="sigmoid")
    assert back.dtype == model.dtype and back.output == "sigmoid" and back.sizes == model.sizes
    assert [(l.activation, l.act_param) for l in back.layers] == [(l.activation, l.act_param) for l in model.layers]
    for a, b in zip(back.parameters(), model.parameters()):
        np.testing.assert_array_equal(a, b)


def test_from_torch_accepts_nested_bias_free_and_bare_linear():
    seq = nn.Sequential(nn.Sequential(nn.Linear(3, 4, bias=False), nn.LeakyReLU(0.2)), nn.Linear(4, 5),
                        nn.Linear(5, 2))
    m = ft.from_torch(seq, output="identity")
    assert m.sizes == [3, 4, 5, 2] and m.activations == ["leaky_relu", "identity"]
    assert m.layers[0].act_param == pytest.approx(0.2) and not m.layers[0].b.any()
    assert ft.from_torch(nn.Linear(3, 2)).sizes == [3, 2]


@pytest.mark.parametrize("seq, match", [
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.Dropout(), nn.Linear(4, 2)), "Dropout is neither"),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Softmax(dim=1)), "Softmax is neither"),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Sigmoid()), "ends with Sigmoid"),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2)), "follows a layer with 4 outputs"),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Tanh(), nn.Linear(4, 2)), "two activations"),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.Softplus(beta=2), nn.Linear(4, 2)), "beta=2"),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2, dtype=torch.float64)), "must all be float32 or all float64"),
    (lambda: nn.Sequential(nn.ReLU(), nn.Linear(4, 2)), "starting with one"),
])
def test_from_torch_errors_name_the_module(seq, match):
    with pytest.raises((TypeError, ValueError), match=match):
        ft.from_torch(seq())


@pytest.mark.parametrize("npdt, tdt", DTYPES)
@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_same_training_run_in_both_libraries(opt, npdt, tdt, rng):
    """From the same weights, the same batches and the same optimizer, both libraries record the
    same losses. Not bit for bit: torch and fastinit sum each matmul in a different order and
    evaluate tanh/exp with different approximations, so the runs differ by rounding error, which
    training carries forward. Measured over these 200 steps: at most 1.4e-6 relative in float32
    and 1.6e-15 in float64 (tolerances: about 10x and 1000x that)."""
    X = rng.standard_normal((512, 20)).astype(npdt)
    y = (X[:, :3].sum(axis=1) > 0).astype(np.int64) + (X[:, 3] > 1)
    model = fastinit.MLP([20, 32, 16, 3], activation=["tanh", "relu"], init="he_normal", seed=3, dtype=npdt)
    seq = model.to_torch()
    loss_fn = ft.loss_for(model.output)
    if opt == "sgd":
        f_opt, t_opt = fastinit.optim.SGD(0.05, momentum=0.9), torch.optim.SGD(seq.parameters(), 0.05, momentum=0.9)
    else:
        f_opt, t_opt = fastinit.optim.Adam(1e-3), torch.optim.Adam(seq.parameters(), 1e-3)
    ours, theirs = [], []
    for step in range(200):
        s = (step * 64) % 512
        xb, yb = X[s:s + 64], y[s:s + 64]
        ours.append(model.train_step(xb, yb, f_opt))
        t_opt.zero_grad()
        loss = loss_fn(seq(torch.from_numpy(xb)), torch.from_numpy(yb))
        loss.backward()
        t_opt.step()
        theirs.append(loss.item())
    rtol = 2e-5 if npdt == np.float32 else 1e-12
    np.testing.assert_allclose(ours, theirs, rtol=rtol)
    assert ours[-1] < 0.5 * ours[0]  # it trained
    back = ft.from_torch(seq)
    for a, b in zip(back.parameters(), model.parameters()):
        np.testing.assert_allclose(a, b, rtol=10 * rtol, atol=10 * rtol)
