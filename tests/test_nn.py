"""The MLP (fastinit/nn.py + csrc/fi_mlp.c): whole-network gradients against central
differences and PyTorch (float64), float32 against float64, kernels and threads give the same
results, workspaces per batch size, parameters, save/load, and every bad input."""
import io
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from support import num_threads, numerical_gradient, python_env
from torch_ref import linears, torch_copy, torch_loss, torch_target

import fastinit
from fastinit import optim

MIXED = [  # (sizes, activations, output): every activation appears somewhere
    ([5, 8, 7, 6, 3], ["relu", "tanh", "gelu"], "softmax"),
    ([4, 9, 6, 5, 1], ["elu", "sigmoid", "softplus"], "sigmoid"),
    ([6, 7, 8, 5, 2], ["selu", ("leaky_relu", 0.2), "gelu_tanh"], "identity"),
    ([3, 5, 6, 4], ["softsign", "identity"], "softmax"),
    ([4, 6, 5, 2], ["silu", "silu"], "sigmoid"),
]


def make(sizes, acts, output, dtype=np.float64, seed=0):
    return fastinit.MLP(sizes, activation=acts, output=output, init="xavier_normal",
                        bias_init="normal", seed=seed, dtype=dtype)


def batch(model, n=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, model.sizes[0]))
    c = model.sizes[-1]
    if model.output == "softmax":
        y = rng.integers(0, c, n)
    elif model.output == "sigmoid":
        y = rng.integers(0, 2, (n, c)).astype(float)
    else:
        y = rng.normal(size=(n, c))
    return X.astype(model.dtype), y


@pytest.mark.parametrize("case", range(len(MIXED)))
def test_gradients_match_central_differences(case):
    model = make(*MIXED[case])
    X, y = batch(model)
    grads = model.gradients(X, y)
    for layer, (dW, db) in zip(model.layers, grads):
        for P, G in ((layer.W, dW), (layer.b, db)):
            fd = numerical_gradient(lambda: model.loss(X, y), P)
            assert np.abs(G - fd).max() / max(np.abs(fd).max(), 1e-8) < 1e-6


@pytest.mark.parametrize("case", range(len(MIXED)))
def test_matches_torch_float64(case):
    torch = pytest.importorskip("torch")
    model = make(*MIXED[case])
    X, y = batch(model, n=20)
    seq = torch_copy(torch, model)
    tX = torch.from_numpy(X)
    logits = seq(tX)
    loss = torch_loss(torch, model)(logits, torch_target(torch, model, y))
    loss.backward()
    np.testing.assert_allclose(model.forward(X), logits.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert model.loss(X, y) == pytest.approx(loss.item(), rel=1e-10)
    for (dW, db), lin in zip(model.gradients(X, y), linears(seq)):
        np.testing.assert_allclose(dW, lin.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(db, lin.bias.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", range(len(MIXED)))
def test_float32_matches_float64(case):
    m64 = make(*MIXED[case])
    m32 = make(*MIXED[case], dtype=np.float32)
    for a, b in zip(m32.layers, m64.layers):
        a.W, a.b = b.W, b.b
    X, y = batch(m64)
    np.testing.assert_allclose(m32.forward(X.astype(np.float32)), m64.forward(X), rtol=1e-4, atol=1e-5)
    assert m32.loss(X.astype(np.float32), y) == pytest.approx(m64.loss(X, y), rel=1e-5)
    for (a, b), (c, d) in zip(m32.gradients(X.astype(np.float32), y), m64.gradients(X, y)):
        np.testing.assert_allclose(a, c, rtol=1e-3, atol=1e-5)
        np.testing.assert_allclose(b, d, rtol=1e-3, atol=1e-5)


def test_trace_is_consistent_with_the_engine():
    model = make(*MIXED[0])
    X, y = batch(model)
    t = model.trace(X, y)
    assert len(t.pre) == len(t.post) == len(t.grad_input) == 4
    assert t.loss == pytest.approx(model.loss(X, y), rel=1e-12)
    np.testing.assert_allclose(t.post[-1], model.forward(X), rtol=1e-12)
    for i, (dW, db) in enumerate(model.gradients(X, y)):
        np.testing.assert_allclose(t.grad_W[i], dW, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(t.grad_b[i], db, rtol=1e-10, atol=1e-14)
        assert t.grad_input[i].shape == (12, model.sizes[i])
        assert t.grad_pre[i].shape == t.pre[i].shape
    for i in range(1, 4):
        np.testing.assert_allclose(t.grad_input[i], t.grad_pre[i] @ model.layers[i].W, rtol=1e-12)
    assert model.trace(X).loss is None and "Trace(layers=4" in repr(t)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_train_step_record_matches_trace_and_changes_nothing(dtype):
    a, b = make(*MIXED[0], dtype=dtype), make(*MIXED[0], dtype=dtype)
    X, y = batch(a)
    t = a.trace(X, y)
    rec = {}
    loss = a.train_step(X, y, optim.SGD(0.1), record=rec)
    assert b.train_step(X, y, optim.SGD(0.1)) == loss == rec["loss"]
    for p, q in zip(a.parameters(), b.parameters()):  # recording leaves the step's arithmetic alone
        np.testing.assert_array_equal(p, q)
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    for got, want in zip(rec["outputs"], t.post):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)
    want = [np.sqrt(np.mean(np.square(g, dtype=np.float64))) for g in t.grad_input]
    np.testing.assert_allclose(rec["grad_input_rms"], want, rtol=10 * rtol)
    before = [p.copy() for p in b.parameters()]
    probe = b.probe(X, y)  # the record of a step, without the update
    np.testing.assert_allclose(probe["grad_input_rms"], [
        np.sqrt(np.mean(np.square(g, dtype=np.float64))) for g in b.trace(X, y).grad_input], rtol=10 * rtol)
    assert all(np.array_equal(p, q) for p, q in zip(b.parameters(), before))
    rec2 = {}  # a batch of another size, and an input that takes the validating path
    a.train_step(X[:5].tolist(), y[:5], optim.SGD(0.1), record=rec2)
    assert [o.shape for o in rec2["outputs"]] == [(5, s) for s in a.sizes[1:]]


def test_workspaces_per_batch_size_give_the_same_steps():
    a = make(*MIXED[0], dtype=np.float32)
    b = make(*MIXED[0], dtype=np.float32)
    X, y = batch(a, n=40)
    oa, ob = optim.SGD(0.1), optim.SGD(0.1)
    for n in (40, 7, 40, 1, 13, 40, 7):
        la = a.train_step(X[:n], y[:n], oa)
        fresh = make(*MIXED[0], dtype=np.float32)
        for p, q in zip(fresh.parameters(), b.parameters()):
            p[...] = q
        lb = fresh.train_step(X[:n].copy(), y[:n].copy(), ob)
        for p, q in zip(b.parameters(), fresh.parameters()):
            p[...] = q
        assert la == lb
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid"])
def test_same_result_with_one_or_two_threads(act):
    """Threads split GEMM blocks, and with them the rows the fused activation sees: odd widths
    put values in the vector tails of the tanh/sigmoid kernels under one split, not the other."""
    X = np.random.default_rng(0).normal(size=(128, 300)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 10, 128)
    out = []
    for nt in (1, 2):
        with num_threads(nt):
            m = fastinit.MLP([300, 253, 131, 10], activation=act, seed=3)
            opt = optim.Adam(1e-3)
            losses = [m.train_step(X, y, opt) for _ in range(3)]
            out.append((losses, [p.copy() for p in m.parameters()]))
    assert out[0][0] == out[1][0]
    for p, q in zip(out[0][1], out[1][1]):
        np.testing.assert_array_equal(p, q)


SCRIPT = """
import numpy as np, fastinit, sys
from fastinit import optim
res = []
for dt in (np.float32, np.float64):
    m = fastinit.MLP([37, 70, 19, 10], activation=["tanh", "gelu"], seed=1, dtype=dt)
    X = np.random.default_rng(0).normal(size=(45, 37)).astype(dt)
    y = np.random.default_rng(1).integers(0, 10, 45)
    opt = optim.SGD(0.1, momentum=0.9)
    for _ in range(3):
        m.train_step(X, y, opt)
    res += [p for p in m.parameters()] + [m.forward(X)]
np.savez(sys.argv[1], *res)
print(fastinit.kernel_info()["kernel"])
"""


def test_reference_kernel_path_agrees(tmp_path):
    """FASTINIT_KERNEL=ref (portable micro-kernel) against the default choice, in subprocesses."""
    outs = {}
    for k in ("ref", "auto"):
        env = python_env(FASTINIT_KERNEL=k)
        f = tmp_path / f"{k}.npz"
        r = subprocess.run([sys.executable, "-c", SCRIPT, str(f)], env=env, capture_output=True, text=True,
                           cwd=os.path.dirname(os.path.dirname(fastinit.__file__)))
        assert r.returncode == 0, r.stderr
        outs[k] = (r.stdout.strip(), np.load(f))
    assert outs["ref"][0] == "ref"
    a, b = outs["ref"][1], outs["auto"][1]
    for i, key in enumerate(a.files):
        tol = 1e-4 if a[key].dtype == np.float32 else 1e-11
        np.testing.assert_allclose(a[key], b[key], rtol=tol, atol=tol)


def test_concurrent_python_threads():
    models = [make(*MIXED[0], dtype=np.float32, seed=s) for s in range(4)]
    X, y = batch(models[0], n=64)
    X = X.astype(np.float32)
    want = [m.forward(X) for m in models]
    errors = []

    def work(i):
        try:
            for _ in range(50):
                np.testing.assert_array_equal(models[i].forward(X), want[i])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors


# ---------------------------------------------------------------------- API surface

def test_parameters_repr_and_counts():
    m = fastinit.MLP([2, 10, 5, 1], output="sigmoid")
    assert m.num_parameters == 2 * 10 + 10 + 10 * 5 + 5 + 5 + 1
    ps = m.parameters()
    assert len(ps) == 6 and ps[0] is m.layers[0].W and ps[0].shape == (10, 2)
    r = repr(m)
    assert "MLP([2, 10, 5, 1]" in r and "sigmoid" in r and "he_normal" in r and "parameters=91" in r
    assert repr(m.layers[0]) == "Dense(2 -> 10, relu, float32)"
    assert m.activations == ["relu", "relu"] and m.layers[-1].activation == "identity"


def test_weight_assignment_copies_into_the_live_buffer():
    m = fastinit.MLP([3, 4, 2])
    X = np.ones((1, 3), np.float32)
    buf = m.layers[0].W
    m.layers[0].W = np.zeros((4, 3))
    assert m.layers[0].W is buf and not buf.any()
    m.layers[0].b = np.arange(4.0)
    np.testing.assert_allclose(m.forward(X)[0], np.maximum(np.arange(4.0), 0) @ m.layers[1].W.T.astype(float)
                               + m.layers[1].b, rtol=1e-6)
    with pytest.raises(ValueError, match=r"W \(shape \(3, 4\).*expected shape \(4, 3\)"):
        m.layers[0].W = np.zeros((3, 4))
    with pytest.raises(TypeError, match="int64"):
        m.layers[0].W = np.zeros((4, 3), dtype=np.int64)
    with pytest.raises(TypeError, match="float16"):
        m.layers[0].b = np.zeros(4, dtype=np.float16)


def test_predict_and_proba():
    X = np.random.default_rng(0).normal(size=(9, 4))
    m = fastinit.MLP([4, 6, 3])
    p = m.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(m.predict(X), p.argmax(axis=1))
    b = fastinit.MLP([4, 6, 1], output="sigmoid")
    assert b.predict(X).shape == (9,) and set(b.predict(X)) <= {0, 1}
    np.testing.assert_array_equal(b.predict(X), (b.predict_proba(X)[:, 0] > 0.5).astype(int))
    r = fastinit.MLP([4, 6, 2], output="identity")
    np.testing.assert_array_equal(r.predict(X), r.forward(X))
    with pytest.raises(ValueError, match="predict_proba"):
        r.predict_proba(X)


def test_int_inputs_are_converted():
    m = fastinit.MLP([3, 4, 2])
    Xi = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(m.forward(Xi), m.forward(Xi.astype(np.float32)))
    np.testing.assert_array_equal(m.forward([[1, 2, 3]]), m.forward(np.float32([[1, 2, 3]])))
    y_float = np.array([1.0, 0.0])
    assert m.loss(Xi, y_float) == m.loss(Xi, np.array([1, 0]))


def test_large_forward_is_chunked_the_same():
    m = fastinit.MLP([5, 7, 3])
    X = np.random.default_rng(0).normal(size=(5000, 5)).astype(np.float32)
    np.testing.assert_array_equal(m.forward(X)[4990:], m.forward(X[4990:]))


# ---------------------------------------------------------------------- save / load

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_load_round_trip(tmp_path, dtype):
    m = fastinit.MLP([4, 8, 6, 3], activation=["tanh", ("leaky_relu", 0.3)], init="xavier_uniform",
                     bias_init="normal", seed=7, dtype=dtype)
    m.train_step(np.ones((2, 4)), np.array([0, 2]), optim.SGD(0.1))
    path = tmp_path / "m.npz"
    m.save(path)
    r = fastinit.load(path)
    assert r.sizes == m.sizes and r.dtype == m.dtype and r.output == m.output
    assert [(l.activation, l.act_param) for l in r.layers] == [(l.activation, l.act_param) for l in m.layers]
    for a, b in zip(r.parameters(), m.parameters()):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    X = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_array_equal(r.forward(X), m.forward(X))
    assert repr(r) == repr(m)
    buf = io.BytesIO()
    m.save(buf)
    buf.seek(0)
    np.testing.assert_array_equal(fastinit.load(buf).forward(X), m.forward(X))


def test_load_rejects_corrupt_and_foreign_files(tmp_path):
    bad = tmp_path / "junk.npz"
    bad.write_bytes(b"this is not a zip file at all")
    with pytest.raises(ValueError, match="not a fastinit model file: not a readable .npz archive$"):
        fastinit.load(bad)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(ValueError, match=r"holds one array \(.npy\)"):
        fastinit.load(single)
    with pytest.raises(ValueError, match="not a readable .npz archive"):
        fastinit.load(tmp_path)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.zeros(3))
    with pytest.raises(ValueError, match="not a valid fastinit model"):
        fastinit.load(foreign)
    m = fastinit.MLP([2, 3, 2])
    good = tmp_path / "good.npz"
    m.save(good)
    truncated = tmp_path / "trunc.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match="fastinit model"):
        fastinit.load(truncated)
    d = dict(np.load(good))
    d["W0"] = np.zeros((5, 5), np.float32)
    tampered = tmp_path / "tampered.npz"
    np.savez(tampered, **d)
    with pytest.raises(ValueError, match="W"):
        fastinit.load(tampered)
    with pytest.raises(FileNotFoundError):
        fastinit.load(tmp_path / "missing.npz")


# ---------------------------------------------------------------------- bad input

@pytest.fixture
def model():
    return fastinit.MLP([3, 4, 5])


@pytest.mark.parametrize("X,exc,match", [
    (np.zeros((4, 2)), ValueError, r"X \(shape \(4, 2\), dtype float64\): expected 3 features"),
    (np.zeros(3), ValueError, "2-D"),
    (np.zeros((0, 3)), ValueError, "empty"),
    (np.array([[1.0, np.nan, 0.0]]), ValueError, "NaN or inf"),
    (np.array([[1.0, np.inf, 0.0]], np.float32), ValueError, "NaN or inf"),
    (np.zeros((2, 3), np.float16), TypeError, "float16"),
    (np.zeros((2, 3), object), TypeError, "object"),
    (np.zeros((2, 3), bool), TypeError, "bool"),
    (np.zeros((2, 3), complex), TypeError, "complex"),
    ("abc", TypeError, "str"),
    (None, TypeError, "NoneType"),
])
def test_bad_X(model, X, exc, match):
    with pytest.raises(exc, match=match):
        model.forward(X)
    with pytest.raises(exc, match=match):
        model.train_step(X, np.zeros(4 if getattr(X, "ndim", 0) == 2 else 1, np.int64), optim.SGD(0.1))


@pytest.mark.parametrize("y,exc,match", [
    (np.array([0, 1, 2]), ValueError, r"y \(shape \(3,\), dtype int64\): expected 4 rows"),
    (np.array([0, 1, 5, 2]), ValueError, r"labels must be in \[0, 5\), found 5"),
    (np.array([0, -1, 2, 2]), ValueError, "found -1"),
    (np.array([0.5, 1, 2, 2]), ValueError, "integers"),
    (np.zeros((4, 2), np.int64), ValueError, "class labels"),
    (np.array(["a", "b", "c", "d"]), TypeError, "labels"),
    (None, TypeError, "NoneType"),
])
def test_bad_y(model, y, exc, match):
    X = np.zeros((4, 3), np.float32)
    with pytest.raises(exc, match=match):
        model.train_step(X, y, optim.SGD(0.1))
    with pytest.raises(exc, match=match):
        model.loss(X, y)


def test_bad_targets_for_bce_and_mse():
    X = np.zeros((3, 2))
    b = fastinit.MLP([2, 3, 1], output="sigmoid")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        b.loss(X, np.array([0.0, 2.0, 1.0]))
    r = fastinit.MLP([2, 3, 2], output="identity")
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        r.loss(X, np.zeros(3))
    with pytest.raises(ValueError, match="NaN or inf"):
        r.loss(X, np.full((3, 2), np.nan))


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(sizes=[3]), ValueError, "sizes"), (dict(sizes=[3, 0, 2]), ValueError, "sizes"),
    (dict(sizes="abc"), TypeError, "sizes"), (dict(sizes=[3, 2.5, 2]), TypeError, "sizes"),
    (dict(activation="swish"), ValueError, "unknown activation 'swish'"),
    (dict(activation=["relu", "relu"]), ValueError, "one per layer"),
    (dict(activation=("relu", 0.1)), ValueError, "takes no parameter"),
    (dict(output="softmax2"), ValueError, "output"), (dict(sizes=[3, 4, 1]), ValueError, "softmax"),
    (dict(dtype=np.float16), TypeError, "dtype"), (dict(dtype=np.int32), TypeError, "dtype"),
    (dict(init=["he_normal"]), ValueError, "one per layer"), (dict(seed=-1), ValueError, "seed"),
    (dict(init="no_such_init"), ValueError, "no_such_init"),
])
def test_bad_constructor_arguments(kwargs, exc, match):
    args = dict(sizes=[3, 4, 2])
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        fastinit.MLP(args.pop("sizes"), **args)


def test_bad_optimizer_argument(model):
    """The same TypeError as fit gives, naming what was passed, and nothing trained."""
    before = [p.copy() for p in model.parameters()]
    with pytest.raises(TypeError, match="optimizer must be a fastinit.optim optimizer .*got str"):
        model.train_step(np.zeros((2, 3)), np.zeros(2, np.int64), "sgd")
    assert all((p == q).all() for p, q in zip(model.parameters(), before))


@pytest.mark.parametrize("output, classes", [("softmax", 2), ("sigmoid", 1)])
def test_boolean_labels_are_classes_0_and_1(output, classes):
    X = np.random.default_rng(0).normal(size=(12, 3))
    y = X[:, 0] > 0
    m = fastinit.MLP([3, 4, classes], output=output)
    assert m.loss(X, y) == m.loss(X, y.astype(np.int64))
    fastinit.fit(m, X, y, optimizer=optim.SGD(0.1), steps=2, progress=False)


def test_train_step_warns_when_a_data_dependent_init_was_never_finished():
    X, y = np.random.default_rng(0).normal(size=(16, 3)), np.arange(16) % 2
    m = fastinit.MLP([3, 4, 2], init="lsuv")
    with pytest.warns(RuntimeWarning, match=r"the 'lsuv' init still needs data: call model.finish_init\(X, y\)"):
        m.train_step(X, y, optim.SGD(0.1))
    done = fastinit.MLP([3, 4, 2], init="lsuv")
    fastinit.init.lsuv(done, X)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        done.train_step(X, y, optim.SGD(0.1))
        fastinit.fit(fastinit.MLP([3, 4, 2], init="lsuv"), X, y, optimizer=optim.SGD(0.1), steps=2, progress=False)


def test_default_bias_is_the_one_the_scheme_implies():
    """torch_default draws its biases as torch.nn.Linear does (U(+-1/sqrt(fan_in))); schemes
    without a bias rule keep zeros; an explicit bias_init wins."""
    m = fastinit.MLP([5, 7, 3], init="torch_default", seed=4)
    for layer in m.layers:
        bound = 1 / np.sqrt(layer.fan_in)
        assert np.abs(layer.b).max() <= bound and np.unique(layer.b).size == layer.b.size
    want = fastinit.init.initialize("torch_default", (7,), seed=4, stream=1, fan_in=5, fan_out=7)
    np.testing.assert_array_equal(m.layers[0].b, want)
    assert m.bias_init == "torch_default"
    assert not fastinit.MLP([5, 7, 3], init="he_normal").layers[0].b.any()
    assert not fastinit.MLP([5, 7, 3], init="torch_default", bias_init="zeros").layers[0].b.any()


def test_repr_names_one_activation_per_hidden_layer():
    r = repr(fastinit.MLP([3, 4, 4, 2], activation=["tanh", "relu"]))
    assert "activation=['tanh', 'relu']" in r
    assert "activation='relu'" in repr(fastinit.MLP([3, 4, 4, 2]))


# ---------------------------------------------------------------- issue 12, items 3, 4, 5
@pytest.mark.parametrize("dt", ["f4", "f8"])
def test_forward_and_train_step_read_byte_swapped_arrays_by_value(dt):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 3)).astype(dt)
    y = np.array([0, 1, 2, 0, 1, 2])
    a, b = fastinit.MLP([3, 5, 3], seed=2, dtype=dt), fastinit.MLP([3, 5, 3], seed=2, dtype=dt)
    assert np.array_equal(a.forward(X), b.forward(X.astype(">" + dt)))
    la = a.train_step(X, y, optim.SGD(0.1))
    lb = b.train_step(X.astype(">" + dt), y.astype(">i8"), optim.SGD(0.1))
    assert la == lb and np.array_equal(a.layers[0].W, b.layers[0].W)


@pytest.mark.parametrize("y", [np.array([2**56, 0], ">i8"), np.array([2**63, 0], np.uint64),
                               np.array([1e20, 0.0]), np.array([2.0**64, 0.0], ">f8")])
def test_labels_out_of_range_in_any_byte_order_or_width_are_refused(y):
    model = fastinit.MLP([2, 3])
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        model.train_step(np.ones((2, 2), np.float32), y, optim.SGD(0.1))


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("output, bad, msg", [
    ("sigmoid", 2.0, r"targets must be in \[0, 1\]"), ("sigmoid", -0.5, r"targets must be in \[0, 1\]"),
    ("sigmoid", np.nan, "NaN or inf"), ("identity", np.inf, "NaN or inf"), ("identity", np.nan, "NaN or inf")])
def test_float_targets_are_checked_on_the_fast_path_too(dt, output, bad, msg):
    model = fastinit.MLP([2, 1], output=output, dtype=dt)
    W = model.layers[0].W.copy()
    y = np.array([[bad], [0.0]], dt)  # exactly the engine's form: no conversion on the way
    for call in (lambda: model.train_step(np.ones((2, 2), dt), y, optim.SGD(0.1)),
                 lambda: model.loss(np.ones((2, 2), dt), y),
                 lambda: fastinit.fit(model, np.ones((2, 2), dt), y, optimizer=optim.SGD(0.1), steps=1,
                                      progress=False)):
        with pytest.raises(ValueError, match=msg):
            call()
    assert np.array_equal(model.layers[0].W, W)


# ---------------------------------------------------------------- issue 12, item 6
@pytest.mark.parametrize("kernel", ["ref", "avx2", "avx512"])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_a_nan_weight_reaches_the_logits_through_relu(kernel, dt):
    from support import has_kernel, kernel_set
    if not has_kernel(kernel):
        pytest.skip(f"no {kernel} kernels here")
    X = np.random.default_rng(0).standard_normal((9, 4)).astype(dt)
    for width in (3, 40):  # edge tiles and full ones
        model = fastinit.MLP([4, width, width, 2], dtype=dt)
        model.layers[0].W[1, 2] = np.nan
        with kernel_set(kernel):
            z = model.forward(X)
            loss = model.train_step(X, np.zeros(9, np.int64), optim.SGD(0.1))
        assert np.isnan(z).all() and np.isnan(loss)
        model.layers[0].W[:] = np.nan  # NaN units are not "dead" (relu used to give them 0)
        rep = fastinit.diagnostics.diagnose(model, X, np.zeros(9, np.int64))
        assert rep["layers"][0]["dead_fraction"] == 0 and np.isnan(rep["loss"])


def test_a_step_flags_parameters_that_became_non_finite():
    X = np.full((4, 2), 1e30, np.float32)
    model = fastinit.MLP([2, 3, 1], output="identity", init="normal")
    assert model._last_step_finite()
    model.train_step(X, np.zeros(4, np.float32), optim.SGD(1e30))
    assert not model._last_step_finite()
    small = fastinit.MLP([2, 3, 1], output="identity")
    small.train_step(np.ones((4, 2)), np.zeros(4), optim.SGD(0.1))
    assert small._last_step_finite()


# ---------------------------------------------------------------- issue 12, item 13
def test_one_model_called_from_eight_threads_gives_the_serial_bits():
    # The calls shared one workspace: 94% of concurrent forwards were wrong at one batch size.
    from concurrent.futures import ThreadPoolExecutor
    rng = np.random.default_rng(5)
    model = fastinit.MLP([20, 64, 64, 3], seed=3)
    batches = [rng.standard_normal((n, 20)).astype(np.float32) for n in (33, 33, 64, 7, 33, 128, 64, 33) * 4]
    ys = [rng.integers(0, 3, len(X)) for X in batches]
    want = [model.forward(X) for X in batches]
    want_probe = [model.probe(X, y)["grad_input_rms"] for X, y in zip(batches, ys)]
    want_loss = [model.loss(X, y) for X, y in zip(batches, ys)]
    with ThreadPoolExecutor(8) as ex:
        for _ in range(3):
            got = list(ex.map(model.forward, batches))
            got_probe = list(ex.map(lambda X, y: model.probe(X, y)["grad_input_rms"], batches, ys))
            got_loss = list(ex.map(model.loss, batches, ys))
            assert all(np.array_equal(a, b) for a, b in zip(got, want))
            assert got_probe == want_probe and got_loss == want_loss


# ---------------------------------------------------------------- issue 12, items 16 and 21
def _tamper(path, meta=None, extra=None, drop=()):
    import io, json
    arrays = dict(np.load(path))
    m = json.loads(str(arrays.pop("meta")[()]))
    if meta is not None:
        m = meta(m)
    arrays = {k: v for k, v in arrays.items() if k not in drop}
    arrays.update(extra or {})
    buf = io.BytesIO()
    np.savez_compressed(buf, meta=np.array(json.dumps(m)), **arrays)
    path.write_bytes(buf.getvalue())


@pytest.mark.parametrize("change, msg", [
    (dict(meta=lambda m: {**m, "sizes": [100000, 100000]}), "unknown arrays|array .W0. is"),
    (dict(meta=lambda m: {**m, "sizes": [2, 3, 10**12]}), "array .W1. is \\(2, 3\\) float32, its meta says"),
    (dict(extra={"junk": np.zeros(10**7, np.float32)}), "unknown arrays \\['junk'\\]"),
    (dict(drop=("b1",)), "missing arrays \\['b1'\\]"),
    (dict(meta=lambda m: {**m, "dtype": "float16"}), "its meta entry"),
])
def test_load_checks_the_meta_against_the_headers_before_allocating(tmp_path, change, msg):
    import tracemalloc
    path = tmp_path / "m.npz"
    fastinit.MLP([2, 3, 2]).save(path)
    _tamper(path, **change)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=msg):
            fastinit.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20  # a 10**7-float member is never inflated, no 10**10-float model built


def test_a_member_claiming_more_than_its_compressed_bytes_is_refused(tmp_path):
    import zipfile
    path = tmp_path / "bomb.npz"
    fastinit.MLP([2, 3, 2]).save(path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as z:  # 400 MB of zeros, ~400 KB
        with z.open("W9.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (10**8,)})
            for _ in range(100):
                f.write(bytes(4 * 10**6))
    with pytest.raises(ValueError, match="unknown arrays|claims"):
        fastinit.load(path)


@pytest.mark.parametrize("meta", ["5", "[1, 2]", "null", '"text"', "{"])
def test_load_of_a_meta_that_is_no_object_says_so(tmp_path, meta):
    import io
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(meta))
    path = tmp_path / "m.npz"
    path.write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match="not a valid fastinit model file"):
        fastinit.load(path)
