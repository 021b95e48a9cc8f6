"""Optimizers (csrc/fi_optim.c, fastinit/optim.py): N steps match torch.optim exactly (float64,
1e-10) for SGD, momentum, Nesterov, weight decay, Adam, AdamW and gradient clipping."""
import numpy as np
import pytest
from torch_ref import linears, torch_copy, torch_loss, torch_target

import fastinit
from fastinit import optim

CASES = {
    "sgd": (lambda: optim.SGD(0.1), lambda t, p: t.optim.SGD(p, lr=0.1)),
    "sgd_wd": (lambda: optim.SGD(0.1, weight_decay=0.01), lambda t, p: t.optim.SGD(p, lr=0.1, weight_decay=0.01)),
    "momentum": (lambda: optim.SGD(0.05, momentum=0.9),
                 lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.9)),
    "nesterov": (lambda: optim.SGD(0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
                 lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    "adam": (lambda: optim.Adam(0.01), lambda t, p: t.optim.Adam(p, lr=0.01)),
    "adam_wd": (lambda: optim.Adam(0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
                lambda t, p: t.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    "adamw": (lambda: optim.AdamW(0.01), lambda t, p: t.optim.AdamW(p, lr=0.01)),
}


def problem(output="softmax", seed=0):
    rng = np.random.default_rng(seed)
    sizes = [6, 9, 7, 4] if output == "softmax" else [6, 9, 7, 1]
    model = fastinit.MLP(sizes, activation=["tanh", "relu"], output=output, init="xavier_normal",
                         bias_init="normal", seed=seed, dtype=np.float64)
    X = rng.normal(size=(40, 6))
    y = rng.integers(0, 4, 40) if output == "softmax" else rng.integers(0, 2, 40).astype(float)
    return model, X, y


def run_both(torch, make_ours, make_theirs, output="softmax", steps=25, clip=None):
    model, X, y = problem(output)
    seq = torch_copy(torch, model)
    ours = make_ours()
    if clip is not None:  # hyper-parameters are fixed at construction: the same one, clipped
        ours = type(ours)(**{**ours._hyper(), "clip_norm": clip})
    theirs = make_theirs(torch, seq.parameters())
    lossf = torch_loss(torch, model)
    tX, ty = torch.from_numpy(X), torch_target(torch, model, y)
    for s in range(steps):
        idx = slice((s * 8) % 40, (s * 8) % 40 + 8)
        l_ours = model.train_step(X[idx], y[idx], ours)
        theirs.zero_grad()
        loss = lossf(seq(tX[idx]), ty[idx])
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(seq.parameters(), clip)
        theirs.step()
        assert l_ours == pytest.approx(loss.item(), rel=1e-10, abs=1e-12)
    for layer, lin in zip(model.layers, linears(seq)):
        np.testing.assert_allclose(layer.W, lin.weight.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.b, lin.bias.detach().numpy(), rtol=1e-10, atol=1e-12)
    return model, ours


@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch_over_steps(case):
    torch = pytest.importorskip("torch")
    model, opt = run_both(torch, *CASES[case])
    assert opt.steps(model) == 25


@pytest.mark.parametrize("case", ["sgd", "momentum", "adam"])
def test_bce_output_matches_torch(case):
    torch = pytest.importorskip("torch")
    run_both(torch, *CASES[case], output="sigmoid", steps=10)


@pytest.mark.parametrize("case", ["sgd", "adamw"])
def test_clip_norm_matches_torch(case):
    torch = pytest.importorskip("torch")
    run_both(torch, *CASES[case], steps=10, clip=0.05)


def test_clip_norm_scales_to_the_bound():
    model, X, y = problem()
    grads = model.gradients(X, y)
    norm = np.sqrt(sum((dW**2).sum() + (db**2).sum() for dW, db in grads))
    before = [p.copy() for p in model.parameters()]
    model.train_step(X, y, optim.SGD(1.0, clip_norm=norm / 10))
    step = np.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(model.parameters(), before)))
    assert step == pytest.approx(norm / 10 * norm / (norm + 1e-6), rel=1e-9)


def test_sgd_by_hand():
    model, X, y = problem()
    grads = model.gradients(X, y)
    before = [p.copy() for p in model.parameters()]
    model.train_step(X, y, optim.SGD(0.5))
    for p, b, g in zip(model.parameters(), before, [g for pair in grads for g in pair]):
        np.testing.assert_array_equal(p, b + (-0.5) * g)


def test_lr_can_change_between_steps():
    model, X, y = problem()
    opt = optim.SGD(0.1)
    model.train_step(X, y, opt)
    opt.lr = 0.0001
    before = model.layers[0].W.copy()
    g = model.gradients(X, y)[0][0]
    model.train_step(X, y, opt)
    np.testing.assert_allclose(model.layers[0].W, before - 0.0001 * g, rtol=1e-12)


def test_one_optimizer_keeps_state_per_model():
    a, X, y = problem()
    b, _, _ = problem()
    opt = optim.Adam(0.01)
    for _ in range(3):
        a.train_step(X, y, opt)
    b.train_step(X, y, opt)
    assert opt.steps(a) == 3 and opt.steps(b) == 1
    assert len(opt.state(a)["s1"]) == 6


def test_float32_tracks_float64():
    m64, X, y = problem()
    m32 = fastinit.MLP(m64.sizes, activation=["tanh", "relu"], dtype=np.float32)
    for a, b in zip(m32.layers, m64.layers):
        a.W, a.b = b.W, b.b  # assignment casts float64 -> float32 into the existing buffers
    for o in (optim.Adam(0.01), optim.SGD(0.05, momentum=0.9)):
        for _ in range(10):
            l64 = m64.train_step(X, y, o)
            l32 = m32.train_step(X.astype(np.float32), y, o)
        assert l32 == pytest.approx(l64, rel=1e-4)
    for a, b in zip(m32.parameters(), m64.parameters()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("make,match", [
    (lambda: optim.SGD(0.0), "lr"), (lambda: optim.SGD(-1), "lr"), (lambda: optim.SGD(float("nan")), "lr"),
    (lambda: optim.SGD(0.1, momentum=-0.5), "momentum"), (lambda: optim.SGD(0.1, nesterov=True), "nesterov"),
    (lambda: optim.Adam(betas=(0.9, 1.0)), "betas"), (lambda: optim.Adam(betas=(0.9,)), "betas"),
    (lambda: optim.Adam(eps=-1), "eps"), (lambda: optim.AdamW(weight_decay=-0.1), "weight_decay"),
    (lambda: optim.SGD(0.1, clip_norm=0), "clip_norm"), (lambda: optim.SGD("0.1"), "lr"),
])
def test_bad_hyper_parameters(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_repr():
    assert repr(optim.SGD(0.1, momentum=0.9)).startswith("SGD(lr=0.1, momentum=0.9")
    assert "weight_decay=0.01" in repr(optim.AdamW())


# ---------------------------------------------------------------- issue 12, item 1
@pytest.mark.parametrize("opt, name, value", [
    (optim.SGD(0.1), "momentum", 0.9), (optim.SGD(0.1), "nesterov", True),
    (optim.SGD(0.1), "weight_decay", 0.1), (optim.Adam(), "betas", (0.5, 0.5)),
    (optim.Adam(), "eps", 1.0), (optim.AdamW(), "clip_norm", 1.0)])
def test_hyper_parameters_other_than_lr_refuse_assignment(opt, name, value):
    # A late momentum read buffers never allocated (a segfault); others were silently ignored.
    with pytest.raises(AttributeError, match=f"{name} is fixed"):
        setattr(opt, name, value)


def test_a_changed_lr_is_honoured_by_the_next_step():
    X = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    y = np.arange(8) % 2
    changed, kept = fastinit.MLP([3, 4, 2], seed=1), fastinit.MLP([3, 4, 2], seed=1)
    oc, ok = optim.SGD(0.1, momentum=0.9), optim.SGD(0.1, momentum=0.9)
    changed.train_step(X, y, oc)
    kept.train_step(X, y, ok)
    oc.lr = 0.05
    changed.train_step(X, y, oc)
    kept.train_step(X, y, ok)
    # By hand: p -= lr * buf, buf = 0.9 buf + g (torch's SGD): only the lr differs.
    assert not np.array_equal(changed.layers[0].W, kept.layers[0].W)
    ref = fastinit.MLP([3, 4, 2], seed=1)
    o = optim.SGD(0.1, momentum=0.9)
    ref.train_step(X, y, o)
    o.lr = 0.05
    ref.train_step(X, y, o)
    assert np.array_equal(changed.layers[0].W, ref.layers[0].W)
