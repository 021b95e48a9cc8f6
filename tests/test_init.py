"""Init schemes: statistics against the published formulas, reproducibility, errors."""
import math

import numpy as np
import pytest
from scipy import stats
from support import num_threads

import fastinit
from fastinit import init

FANS = [(64, 64), (784, 256), (30, 500)]  # (fan_in, fan_out)
RANDOM = ["he_normal", "he_uniform", "xavier_normal", "xavier_uniform", "lecun_normal", "lecun_uniform",
          "keras_glorot_normal", "keras_he_normal", "keras_lecun_normal", "variance_scaling", "random_small",
          "random_large", "normal", "uniform", "truncated_normal", "torch_default", "keras_default",
          "orthogonal", "sparse", "nguyen_widrow"]


def draw(name, fi, fo, seed=0, dtype=np.float64, **kw):
    return init.initialize(name, (fo, fi), seed=seed, dtype=dtype, **kw)


@pytest.mark.parametrize("name", RANDOM)
@pytest.mark.parametrize("fi,fo", FANS)
def test_empirical_std_matches_formula(name, fi, fo):
    w = draw(name, fi, fo)
    want = init.get(name).describe(fan_in=fi, fan_out=fo)["std"]
    n = w.size
    # the std of a sample std is about std * sqrt((kurtosis - 1) / (4n)); 6 of those, generously
    tol = 6 * want * math.sqrt(2.0 / n) + 1e-12
    assert abs(w.std() - want) < max(tol, 0.02 * want), (w.std(), want)
    assert abs(w.mean()) < 6 * want / math.sqrt(n) + 1e-12 or name == "uniform"


# (name, params, law as a scipy distribution of the values, given fans)
def _laws(fi, fo):
    g = math.sqrt(2.0)
    ks = [
        ("he_normal", {}, stats.norm(0, g / math.sqrt(fi))),
        ("he_normal", {"mode": "fan_out", "nonlinearity": "tanh"}, stats.norm(0, (5 / 3) / math.sqrt(fo))),
        ("he_uniform", {}, stats.uniform(-g * math.sqrt(3 / fi), 2 * g * math.sqrt(3 / fi))),
        ("he_uniform", {"a": 0.2, "nonlinearity": "leaky_relu"},
         stats.uniform(-math.sqrt(6 / (1.04 * fi)), 2 * math.sqrt(6 / (1.04 * fi)))),
        ("xavier_normal", {"gain": 2.0}, stats.norm(0, 2 * math.sqrt(2 / (fi + fo)))),
        ("xavier_uniform", {}, stats.uniform(-math.sqrt(6 / (fi + fo)), 2 * math.sqrt(6 / (fi + fo)))),
        ("lecun_normal", {}, stats.norm(0, 1 / math.sqrt(fi))),
        ("lecun_uniform", {}, stats.uniform(-math.sqrt(3 / fi), 2 * math.sqrt(3 / fi))),
        ("random_small", {}, stats.norm(0, 0.01)),
        ("random_large", {"scale": 3.0}, stats.norm(0, 3.0)),
        ("torch_default", {}, stats.uniform(-1 / math.sqrt(fi), 2 / math.sqrt(fi))),
        ("truncated_normal", {"mean": 0.5, "std": 2.0, "a": -1.0, "b": 4.0}, stats.truncnorm(-0.75, 1.75, 0.5, 2.0)),
    ]
    for name, scale, mode in [("keras_he_normal", 2.0, fi), ("keras_lecun_normal", 1.0, fi),
                              ("keras_glorot_normal", 1.0, (fi + fo) / 2)]:
        s = math.sqrt(scale / mode) / init.TRUNCATION_STD  # Keras 3 / jax VarianceScaling
        ks.append((name, {}, stats.truncnorm(-2, 2, 0, s)))
    return ks


@pytest.mark.parametrize("fi,fo", FANS[:2])
def test_ks_against_intended_law(fi, fo):
    for name, params, law in _laws(fi, fo):
        w = draw(name, fi, fo, **params).ravel()
        assert stats.kstest(w, law.cdf).pvalue > 1e-4, name
        lo, hi = law.support()
        assert w.min() >= lo and w.max() <= hi, name


def test_variance_scaling_matches_keras_definition():
    fi, fo = 300, 100
    for mode, n in [("fan_in", fi), ("fan_out", fo), ("fan_avg", (fi + fo) / 2)]:
        d = init.get("variance_scaling", scale=2.0, mode=mode, distribution="uniform")
        assert d.describe(fi, fo)["std"] == pytest.approx(math.sqrt(3 * 2.0 / n) / math.sqrt(3))
        w = d((fo, fi), seed=1, dtype=np.float64)
        assert np.abs(w).max() <= math.sqrt(3 * 2.0 / n)
        u = init.get("variance_scaling", scale=2.0, mode=mode, distribution="untruncated_normal")
        assert u.describe(fi, fo)["std"] == pytest.approx(math.sqrt(2.0 / n))
        t = init.get("variance_scaling", scale=2.0, mode=mode)((fo, fi), seed=2, dtype=np.float64)
        assert np.abs(t).max() <= 2 * math.sqrt(2.0 / n) / 0.87962566103423978


@pytest.mark.parametrize("shape", [(50, 50), (30, 80), (80, 30), (8, 3, 5)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal(shape, gain):
    w = init.initialize("orthogonal", shape, seed=3, dtype=np.float64, gain=gain).reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w.T @ w if rows >= cols else w @ w.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-5 * gain**2)


def test_identity_and_zero_init_are_exact():
    np.testing.assert_array_equal(init.initialize("identity", (3, 5), gain=2.0), 2 * np.eye(3, 5, dtype=np.float32))
    np.testing.assert_array_equal(init.initialize("identity", (5, 3)), np.eye(5, 3, dtype=np.float32))
    np.testing.assert_array_equal(init.initialize("zero_init", (4, 6)), np.eye(4, 6, dtype=np.float32))
    w = init.initialize("zero_init", (6, 4), dtype=np.float64)  # widening: scaled Hadamard rows
    assert set(np.round(np.abs(w.ravel()) * 2, 12)) == {1.0}  # m = 3: entries +-2^-1
    np.testing.assert_array_equal(w[:, 0], 0.5 * np.ones(6))


@pytest.mark.parametrize("sparsity", [0.0, 0.5, 0.9])
def test_sparse_fraction_exact(sparsity):
    w = init.initialize("sparse", (40, 25), seed=5, sparsity=sparsity)
    zeros_per_col = (w == 0).sum(axis=0)
    assert (zeros_per_col == math.ceil(sparsity * 40)).all()


def test_constants():
    assert (init.initialize("zeros", (3, 4)) == 0).all()
    assert (init.initialize("ones", (3,)) == 1).all()
    assert (init.initialize("constant", (2, 2), value=0.25) == 0.25).all()


def test_nguyen_widrow_rows_have_the_published_norm():
    fi, fo = 10, 40
    w = draw("nguyen_widrow", fi, fo)
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), 0.7 * fo ** (1 / fi))


def test_paired_bias_schemes():
    assert init.get("torch_default").bias == "torch_default"
    assert init.get("keras_default").bias == "zeros"
    b = init.initialize("torch_default", (500,), seed=1, fan_in=25)  # U(+-1/sqrt(fan_in))
    assert np.abs(b).max() <= 0.2 and np.abs(b).max() > 0.19


@pytest.mark.parametrize("name", [n for n in init.names() if not init.get(n).needs_data])  # lsuv, course: model-wide
def test_same_seed_same_bits_across_threads_streams_differ(name):
    with num_threads(1):
        a = init.initialize(name, (64, 48), seed=9)
    with num_threads(2):
        b = init.initialize(name, (64, 48), seed=9)
    assert a.tobytes() == b.tobytes()
    c = init.initialize(name, (64, 48), seed=9, stream=1)
    deterministic = name in {"zeros", "ones", "constant", "identity", "zero_init"}
    assert (a.tobytes() == c.tobytes()) == deterministic


@pytest.mark.parametrize("alias,name", [("kaiming_normal", "he_normal"), ("kaiming_uniform_", "he_uniform"),
                                        ("glorot_uniform", "xavier_uniform"), ("Glorot-Normal", "xavier_normal"),
                                        ("HeNormal", "keras_he_normal"), ("GlorotNormal", "keras_glorot_normal"),
                                        ("GlorotUniform", "xavier_uniform"), ("LecunNormal", "keras_lecun_normal"),
                                        ("Orthogonal", "orthogonal"), ("XAVIER_NORMAL", "xavier_normal")])
def test_aliases(alias, name):
    assert init.get(alias).name == name


def test_calculate_gain_matches_torch_table():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_compute_fans():
    assert init.compute_fans((20, 10)) == (10, 20)
    assert init.compute_fans((16, 8, 3, 3)) == (72, 144)
    assert init.compute_fans((7,)) == (7, 7)


@pytest.mark.parametrize("call,err,match", [
    (lambda: init.get("he_normal:gain=3"), TypeError, "init scheme 'he_normal' takes a, mode, nonlinearity; got gain"),
    (lambda: init.get("zeros", x=1), TypeError, "init scheme 'zeros' takes no parameters; got x"),
    (lambda: init.get("he_norml"), ValueError, r"unknown init scheme 'he_norml' \(did you mean 'he_normal'"),
    (lambda: init.get("normal", std=-1.0), ValueError, r"std must be a finite number in \(0, inf\)"),
    (lambda: init.get("uniform", low=1.0, high=1.0), ValueError, "low < high"),
    (lambda: init.get("sparse", sparsity=1.0), ValueError, r"sparsity must be in \[0, 1\)"),
    (lambda: init.get("xavier_normal", gain=0.0), ValueError, r"gain must be a finite number in \(0, inf\)"),
    (lambda: init.get("he_normal", mode="fanin"), ValueError, "mode must be one of 'fan_in', 'fan_out'; got 'fanin'"),
    (lambda: init.get("variance_scaling", distribution="gauss"), ValueError, "distribution must be one of"),
    (lambda: init.get("he_normal", nonlinearity="swish"), ValueError, "unsupported nonlinearity"),
    (lambda: init.get("he_normal", gain=2.0), TypeError, "init scheme 'he_normal'.*gain"),
    (lambda: init.initialize("normal", (2, 2), dtype=np.int32), TypeError, "float32 or float64"),
    (lambda: init.initialize("normal", (2, -2)), ValueError, "negative sizes"),
    (lambda: init.initialize("orthogonal", (5,)), ValueError, "at least 2 dimensions"),
    (lambda: init.get(3), TypeError, "must be a str"),
])
def test_bad_input(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_register_user_scheme():
    @init.register("test_half_lecun", source="tests")
    def half_lecun():
        return init.normal_draw(lambda fi, fo: 0.5 / math.sqrt(fi), "N(0, 0.25/fan_in)")

    w = init.initialize("test_half_lecun", (400, 400), seed=1, dtype=np.float64)
    assert abs(w.std() - 0.025) < 0.001
    with pytest.raises(ValueError, match="already registered"):
        init.register("test_half_lecun")(half_lecun)



@pytest.mark.parametrize("fi,fo", FANS[:2])
def test_against_torch(fi, fo):
    torch = pytest.importorskip("torch")
    tinit = torch.nn.init
    cases = [("he_normal", {}, lambda t: tinit.kaiming_normal_(t)),
             ("he_normal", {"mode": "fan_out", "nonlinearity": "relu"}, lambda t: tinit.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")),
             ("he_uniform", {"a": 0.1}, lambda t: tinit.kaiming_uniform_(t, a=0.1)),
             ("xavier_normal", {"gain": 1.5}, lambda t: tinit.xavier_normal_(t, gain=1.5)),
             ("xavier_uniform", {}, tinit.xavier_uniform_),
             ("torch_default", {}, lambda t: tinit.kaiming_uniform_(t, a=math.sqrt(5))),
             ("orthogonal", {"gain": 2.0}, lambda t: tinit.orthogonal_(t, gain=2.0)),
             ("truncated_normal", {"std": 0.5}, lambda t: tinit.trunc_normal_(t, std=0.5))]
    torch.manual_seed(0)
    for name, params, fill in cases:
        ours = draw(name, fi, fo, **params)
        theirs = fill(torch.empty(fo, fi, dtype=torch.float64)).numpy()
        want = init.get(name, **params).describe(fi, fo)["std"]
        assert theirs.std() == pytest.approx(want, rel=0.03), name      # our formula is torch's
        assert ours.std() == pytest.approx(theirs.std(), rel=0.03), name  # and so are our draws
        if "uniform" in name or name == "torch_default":
            assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=0.01), name


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_lsuv_gives_unit_output_variance_per_layer(activation):
    X = np.random.default_rng(0).normal(0, 3, (256, 20)).astype(np.float64)
    model = fastinit.MLP([20, 64, 64, 64, 10], activation=activation, init="lsuv", dtype=np.float64, seed=2)
    assert model.pending_init == "lsuv"
    W0 = model.layers[0].W.copy()
    np.testing.assert_allclose(W0 @ W0.T if W0.shape[0] <= W0.shape[1] else W0.T @ W0,
                               np.eye(min(W0.shape)), atol=1e-10)  # orthonormal pre-init
    iters = init.lsuv(model, X, tol=0.05)
    assert len(iters) == 4 and all(0 <= i <= 10 for i in iters) and iters[0] >= 1
    for z in model.trace(X).pre:
        assert abs(z.var() - 1) < 0.05
    assert model.pending_init is None


def test_lsuv_warns_where_it_cannot_reach_unit_variance():
    X = np.random.default_rng(0).normal(size=(64, 5))
    with pytest.warns(RuntimeWarning, match=r"LSUV: layer \d's pre-activation is constant on this batch"):
        assert init.lsuv(fastinit.MLP([5, 8, 2], init="lsuv"), np.zeros((16, 5))) == [0, 0]
    model = fastinit.MLP([5, 8, 2], init="lsuv", bias_init="normal", dtype=np.float64)  # W scales, b does not
    with pytest.warns(RuntimeWarning, match=r"layer \d's pre-activation has variance .*, not within 1e-12 of 1, "
                                            r"after 1 rescalings"):
        assert init.lsuv(model, X, tol=1e-12, max_iter=1) == [1, 1]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.lsuv(fastinit.MLP([5, 8, 2], init="lsuv"), X)  # the usual case: silent


def test_fit_finishes_any_scheme_that_needs_data_on_its_first_batch():
    """The protocol, not a name: fit hands a user's data-dependent scheme (Initializer.finish)
    the rows of its first step, validated (the model's dtype) with their labels, once, trains
    from what it made and keeps what it returned. (LSUV through fit: tests/test_train.py.)"""
    calls = []

    def centre_first_layer(model, X, y):
        calls.append((X.copy(), y.copy()))
        layer = model.layers[0]
        layer.b = -(X @ layer.W.T).mean(axis=0)
        return {"rows": X.shape[0]}

    scheme = init.Initializer("centred", {}, init.normal_draw(lambda fan_in, fan_out: fan_in ** -0.5, "N(0, 1/fan_in)"),
                              "tests", finish=centre_first_layer)
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(128, 5)), rng.integers(0, 3, 128)
    model = fastinit.MLP([5, 16, 3], init=scheme)
    assert model.pending_init == "centred" and np.all(model.layers[0].b == 0)

    class Begin:
        def on_train_begin(self, model, history):
            self.W, self.b = model.layers[0].W.copy(), model.layers[0].b.copy()

    begin = Begin()
    hist = fastinit.fit(model, X, y, optimizer=fastinit.optim.SGD(0.05), steps=3, batch_size=32, shuffle=False,
                        callbacks=[begin], progress=False)
    assert len(calls) == 1 and hist.init_report == {"rows": 32} and model.pending_init is None
    rows, labels = calls[0]
    assert rows.dtype == model.dtype
    np.testing.assert_array_equal(rows, X[:32].astype(model.dtype))
    np.testing.assert_array_equal(labels, y[:32])
    z = X[:32] @ begin.W.T.astype(np.float64) + begin.b
    assert np.abs(z.mean(axis=0)).max() < 1e-5 < np.abs(begin.b).min()


# ---------------------------------------------------------------- issue 12, items 7, 12, 23
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("name, params", [
    ("normal", {"std": 1e39}), ("normal", {"std": 1e308}), ("uniform", {"low": -1e39, "high": 1e39}),
    ("xavier_normal", {"gain": 1e40}), ("random_large", {"scale": 1e300}), ("constant", {"value": 1e39}),
    ("orthogonal", {"gain": 1e39}), ("truncated_normal", {"std": 1e300, "a": -1e308, "b": 1e308}),
    ("variance_scaling", {"scale": 1e300})])
def test_schemes_never_return_inf_or_nan_weights(name, params, dt):
    try:
        w = init.get(name, **params)((3, 4), dtype=dt)
    except ValueError as e:
        assert name in str(e) and ("NaN or inf" in str(e) or "finite" in str(e))
    else:
        assert np.isfinite(w).all()


@pytest.mark.parametrize("name, params", [("normal", {"std": float("inf")}), ("xavier_uniform", {"gain": float("inf")}),
                                          ("uniform", {"low": -1e308, "high": 1e308}), ("he_normal", {"a": 1e200}),
                                          ("he_normal", {"a": float("nan")})])
def test_infinite_or_overflowing_parameters_are_refused(name, params):
    with pytest.raises(ValueError, match="finite|width|negative_slope"):
        init.get(name, **params)((3, 4))


@pytest.mark.parametrize("name", init.names())
@pytest.mark.parametrize("shape", [(3, 0), (0, 3), (0,), (0, 2, 3)])
def test_zero_size_shapes_give_empty_tensors(name, shape):
    if name in ("lsuv",):
        pytest.skip("lsuv draws an orthogonal start: covered by orthogonal")
    try:
        w = init.get(name)(shape)
    except ValueError as e:  # a scheme that needs a 2-D shape may say so
        assert "shape" in str(e) or "dimensions" in str(e)
    else:
        assert w.shape == shape and w.dtype == np.float32


@pytest.mark.parametrize("shape", [(2.5, 3), (np.float32(2.5),), 2.5, "ab", (True, 2), None])
def test_fractional_or_odd_shapes_are_refused(shape):
    with pytest.raises(TypeError, match="shape must be a tuple of ints"):
        init.get("he_normal")(shape)


def test_what_a_registered_scheme_returns_is_checked():
    name = "issue12_bad_scheme"
    if name not in init.names():
        @init.register(name, source="a test")
        def bad():
            return init.registry._Draw(lambda shape, fi, fo, seed, stream, dt: [[0.0]], lambda fi, fo: 0.0, "bad")
    with pytest.raises(TypeError, match=f"init scheme '{name}' returned it \\(list\\); expected an ndarray"):
        init.get(name)((2, 2))


# ---------------------------------------------------------------- issue 12, item 15
def test_zero_init_draws_only_the_hadamard_rows_it_needs():
    import tracemalloc
    def sylvester(m):
        h = np.ones((1, 1))
        for _ in range(m):
            h = np.block([[h, h], [h, -h]])
        return h
    for shape in [(5, 3), (33, 7), (100, 64), (17, 16)]:
        m = math.ceil(math.log2(shape[0]))
        want = (2.0 ** (-(m - 1) / 2) * sylvester(m)[:shape[0], :shape[1]]).astype(np.float32)
        assert init.get("zero_init")(shape).tobytes() == want.tobytes()
    tracemalloc.start()
    w = init.get("zero_init")((20000, 1))  # the whole H_15 was 8 GB in float64
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert w.shape == (20000, 1) and peak < 10 << 20
