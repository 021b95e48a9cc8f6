"""fastinit.theory against computations written here (scipy quad/brentq, closed forms), the
Jacobian spectrum against random-matrix laws, and the measured twin against the maps."""
import math

import numpy as np
import pytest
from scipy import integrate, optimize, special

import fastinit
from fastinit import diagnostics, init, theory

NAMES = theory.ACTIVATION_NAMES
SELU_A, SELU_S = 1.6732632423543772848, 1.0507009873554804934
SQ2PI = math.sqrt(2 * math.pi)

# independent float64 formulas (not the C kernels): phi and phi'
PHI = {
    "identity": (lambda x: x, lambda x: 1.0),
    "relu": (lambda x: max(x, 0.0), lambda x: float(x > 0)),
    "leaky_relu": (lambda x: x if x > 0 else 0.01 * x, lambda x: 1.0 if x > 0 else 0.01),
    "elu": (lambda x: x if x > 0 else math.expm1(x), lambda x: 1.0 if x > 0 else math.exp(x)),
    "selu": (lambda x: SELU_S * (x if x > 0 else SELU_A * math.expm1(x)),
             lambda x: SELU_S * (1.0 if x > 0 else SELU_A * math.exp(x))),
    "tanh": (math.tanh, lambda x: 1 - math.tanh(x) ** 2),
    "sigmoid": (special.expit, lambda x: special.expit(x) * (1 - special.expit(x))),
    "gelu": (lambda x: x * special.ndtr(x), lambda x: special.ndtr(x) + x * math.exp(-x * x / 2) / SQ2PI),
    "gelu_tanh": (lambda x: x * special.expit(2 * math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)),
                  None),
    "softplus": (lambda x: np.logaddexp(0, x), special.expit),
    "softsign": (lambda x: x / (1 + abs(x)), lambda x: 1 / (1 + abs(x)) ** 2),
    "silu": (lambda x: x * special.expit(x),
             lambda x: special.expit(x) * (1 + x * (1 - special.expit(x)))),
}


def gauss(f, q):
    """E[f(sqrt(q) z)] by adaptive quadrature, split at the kink."""
    s = math.sqrt(q)
    g = lambda z: f(s * z) * math.exp(-z * z / 2) / SQ2PI  # noqa: E731
    return sum(integrate.quad(g, a, b, epsabs=1e-14, epsrel=1e-13, limit=400)[0] for a, b in ((-40, 0), (0, 40)))


def dphi(name):
    f, d = PHI[name]
    if d is None:  # gelu_tanh: derivative by a 4th-order central difference of the formula
        h = 1e-3
        return lambda x: (f(x - 2 * h) - 8 * f(x - h) + 8 * f(x + h) - f(x + 2 * h)) / (12 * h)
    return d


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("q", [0.05, 1.0, 7.0, 60.0])
def test_expectations_match_adaptive_quadrature(name, q):
    f, d = PHI[name][0], dphi(name)
    e = theory.expectations(name, q)
    want_m2 = gauss(lambda x: f(x) ** 2, q)
    want_d2 = gauss(lambda x: d(x) ** 2, q)
    tol = 1e-6 if name != "gelu_tanh" else 1e-6  # its reference derivative is O(h^4) ~ 1e-12
    assert abs(e["second_moment"] - want_m2) <= tol * max(want_m2, 1e-3), (e["second_moment"], want_m2)
    assert abs(e["dphi2"] - want_d2) <= tol * max(want_d2, 1e-3), (e["dphi2"], want_d2)
    assert abs(e["mean"] - gauss(f, q)) <= 1e-6 * max(1.0, abs(e["mean"]))


def test_moment_gains_closed_forms_and_quadrature():
    assert init.calculate_gain("relu", method="moment") == pytest.approx(math.sqrt(2), abs=1e-12)
    assert init.calculate_gain("identity", method="moment") == pytest.approx(1.0, abs=1e-12)
    assert init.calculate_gain("linear", method="moment") == pytest.approx(1.0, abs=1e-12)
    assert init.calculate_gain("leaky_relu", 0.2, method="moment") == pytest.approx(math.sqrt(2 / 1.04), abs=1e-12)
    for name in NAMES:
        want = 1 / math.sqrt(gauss(lambda x: PHI[name][0](x) ** 2, 1.0))
        assert init.calculate_gain(name, method="moment") == pytest.approx(want, abs=1e-4), name
    # SELU's constants are chosen so that N(0, 1) keeps unit second moment
    assert init.calculate_gain("selu", method="moment") == pytest.approx(1.0, abs=1e-4)


def _tanh_reference(sigma_b2):
    """q*, critical sigma_w2 of tanh, with scipy's quad and brentq only."""
    m2 = lambda q: gauss(lambda x: math.tanh(x) ** 2, q)  # noqa: E731
    d2 = lambda q: gauss(lambda x: (1 - math.tanh(x) ** 2) ** 2, q)  # noqa: E731
    qstar = lambda sw2: optimize.brentq(lambda q: sw2 * m2(q) + sigma_b2 - q, 1e-9, 50.0, xtol=1e-13)  # noqa: E731
    sw2c = optimize.brentq(lambda sw2: sw2 * d2(qstar(sw2)) - 1, 1.0, 5.0, xtol=1e-12)
    return sw2c, qstar(sw2c)


@pytest.mark.parametrize("sigma_b2", [0.01, 0.05, 0.3])
def test_tanh_critical_line_matches_independent_quadrature(sigma_b2):
    sw2c, qc = _tanh_reference(sigma_b2)
    got = theory.critical_sigma_w2("tanh", sigma_b2)
    assert abs(got - sw2c) <= 1e-3 * sw2c and abs(got - sw2c) < 1e-6, (got, sw2c)
    fp = theory.fixed_point("tanh", got, sigma_b2)
    assert abs(fp.q - qc) <= 1e-3 * qc, (fp.q, qc)
    assert fp.chi1 == pytest.approx(1.0, abs=1e-9) and fp.c == 1.0 and fp.phase == "critical"
    assert theory.depth_scales("tanh", got, sigma_b2).xi_c > 1e6
    assert init.calculate_gain("tanh", sigma_b2, method="critical") == pytest.approx(math.sqrt(got), rel=1e-12)
    assert init.calculate_gain("tanh", method="critical", sigma_b2=sigma_b2) == pytest.approx(math.sqrt(got), rel=1e-12)


def test_relu_fixed_point_closed_form_and_no_fixed_point():
    fp = theory.fixed_point("relu", 1.5, 0.1)
    assert fp.q == pytest.approx(0.1 / (1 - 0.75), rel=1e-12)
    assert fp.chi1 == pytest.approx(0.75, rel=1e-12) and fp.q_slope == pytest.approx(0.75, rel=1e-10)
    assert theory.chi1("relu", 3.0, 0.1) == pytest.approx(1.5, rel=1e-12)  # q-independent
    assert theory.critical_sigma_w2("relu", 0.1) == pytest.approx(2.0, rel=1e-12)
    assert theory.critical_sigma_w2("leaky_relu", 0.0) == pytest.approx(2 / 1.0001, rel=1e-12)
    assert theory.critical_sigma_w2("identity", 0.3) == pytest.approx(1.0, rel=1e-12)
    assert theory.fixed_point("relu", 2.0, 0.0).q == 1.0  # every q is fixed: q0 stays
    assert theory.fixed_point("relu", 2.0, 0.0, q0=3.5).q == 3.5
    with pytest.raises(ValueError, match="no fixed point"):
        theory.fixed_point("relu", 2.0, 0.01)
    for name, sw2 in (("relu", 2.5), ("gelu", 3.0), ("elu", 2.5), ("identity", 1.2)):
        with pytest.raises(ValueError, match="no fixed point"):
            theory.fixed_point(name, sw2, 0.1)
    with pytest.raises(ValueError, match="no finite critical"):
        theory.critical_sigma_w2("gelu", 0.05)
    assert theory.critical_sigma_w2("gelu", 0.05, asymptotic=True) == pytest.approx(2.0, rel=1e-9)
    # gelu and silu have phi'(0) = 1/2: for small signals (q0 -> 0+) with sigma_b2 = 0 the line
    # is sigma_w2 = 4 at q* = 0; a unit-variance input grows without bound there
    assert theory.critical_sigma_w2("silu", 0.0, q0=None) == pytest.approx(4.0, rel=1e-9)
    assert theory.fixed_point("silu", 3.0, 0.0, q0=None).q == 0.0
    with pytest.raises(ValueError, match="no fixed point"):
        theory.fixed_point("silu", 3.0, 0.0)
    with pytest.raises(ValueError, match="asymptotic=True"):
        theory.critical_sigma_w2("silu", 0.0)
    assert init.calculate_gain("silu", method="critical") == pytest.approx(math.sqrt(2), rel=1e-9)
    with pytest.raises(ValueError, match="activation"):
        theory.chi1("swish9", 1.0, 0.0)
    with pytest.raises(ValueError, match="sigma_w2"):
        theory.chi1("tanh", -1.0, 0.0)


def test_correlation_map_against_closed_form_and_nested_quadrature():
    q, c = 1.7, 0.35
    s = math.sqrt(1 - c * c)
    th = math.acos(c)
    k_relu = q / (2 * math.pi) * (math.sin(th) + (math.pi - th) * c)  # arc-cosine kernel
    got = theory.correlation_map("relu", 2.0, 0.0, c, q=q)
    assert got == pytest.approx(2.0 * k_relu / (2.0 * q / 2), abs=1e-10)

    def e2(f, g):
        sq = math.sqrt(q)
        inner = lambda z1: integrate.quad(lambda z2: g(sq * (c * z1 + s * z2)) * math.exp(-z2 * z2 / 2) / SQ2PI,  # noqa: E731
                                          -12, 12, epsabs=1e-13, limit=200, points=[-c * z1 / s])[0]
        return sum(integrate.quad(lambda z1: f(sq * z1) * inner(z1) * math.exp(-z1 * z1 / 2) / SQ2PI, a, b,
                                  epsabs=1e-12, limit=200)[0] for a, b in ((-12, 0), (0, 12)))
    for name in ("tanh", "selu", "silu"):
        f, d = PHI[name][0], dphi(name)
        sw2, sb2 = 1.3, 0.07
        qn = sw2 * gauss(lambda x: f(x) ** 2, q) + sb2
        want = (sw2 * e2(f, f) + sb2) / qn
        assert theory.correlation_map(name, sw2, sb2, c, q=q) == pytest.approx(want, abs=1e-7), name


def test_chaotic_fixed_point_and_depth_scales_match_schoenholz():
    sw2, sb2 = 3.0, 0.05
    fp = theory.fixed_point("tanh", sw2, sb2)
    assert fp.phase == "chaotic" and 0 < fp.c < 1 and fp.chi_c < 1
    assert theory.correlation_map("tanh", sw2, sb2, fp.c) == pytest.approx(fp.c, abs=1e-10)
    # xi_q with phi'' (Schoenholz eq. 5), computed here by quadrature
    t = math.tanh
    slope = sw2 * gauss(lambda x: (1 - t(x) ** 2) ** 2 + t(x) * (-2 * t(x) * (1 - t(x) ** 2)), fp.q)
    xi_q, xi_c = theory.depth_scales("tanh", sw2, sb2)
    assert xi_q == pytest.approx(-1 / math.log(slope), rel=1e-6)
    assert xi_c == pytest.approx(-1 / math.log(fp.chi_c), rel=1e-12)
    ordered = theory.fixed_point("tanh", 1.2, sb2)
    assert ordered.c == 1.0 and ordered.chi_c == ordered.chi1 < 1
    assert theory.depth_scales("tanh", 1.2, sb2).xi_c == pytest.approx(-1 / math.log(ordered.chi1), rel=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_every_activation_answers_every_gain(name):
    for method in ("moment", "critical"):
        g = init.calculate_gain(name, method=method)
        assert math.isfinite(g) and g > 0, (name, method)
        g = init.calculate_gain(name, method=method, sigma_b2=0.05) if method == "critical" else g
        assert math.isfinite(g) and g > 0
    if name in ("gelu", "silu", "softplus", "softsign", "elu", "gelu_tanh"):
        with pytest.raises(ValueError, match="method='moment'"):
            init.calculate_gain(name)


def test_edge_of_chaos_scheme():
    sw2 = theory.critical_sigma_w2("tanh", 0.05)
    ini = init.get("edge_of_chaos")
    W = ini((500, 300), seed=3, dtype=np.float64)
    assert W.std() == pytest.approx(math.sqrt(sw2 / 300), rel=0.01)
    b = ini((20000,), seed=4, dtype=np.float64)
    assert b.var() == pytest.approx(0.05, rel=0.03)
    W2 = init.initialize("edge_of_chaos", (400, 400), activation="relu", sigma_b2=0.0, dtype=np.float64)
    assert W2.std() == pytest.approx(math.sqrt(2 / 400), rel=0.01)
    assert not init.initialize("edge_of_chaos", (50,), sigma_b2=0.0).any()
    with pytest.raises(ValueError, match="sigma_b2"):
        init.get("edge_of_chaos", sigma_b2=-1.0)


def _linear(L, N, init_name, seed, **params):
    m = fastinit.MLP([N] * (L + 1), activation="identity", output="identity",
                     init=init.get(init_name, **params), seed=seed, dtype=np.float64)
    return m


@pytest.mark.parametrize("L", [2, 5, 10])
def test_deep_linear_gaussian_net_is_fuss_catalan(L):
    """W ~ N(0, 1/N): the squared singular values of W_L ... W_1 follow the Fuss-Catalan law of
    order L: mean 1, variance L."""
    N = 400
    means, variances = [], []
    for seed in range(3):
        spec = diagnostics.jacobian_spectrum(_linear(L, N, "lecun_normal", seed), np.zeros((1, N)))
        assert spec["method"] == "exact" and spec["singular_values"].shape == (1, N)
        means.append(spec["sq_mean"][0])
        variances.append(spec["sq_var"][0])
    assert np.mean(means) == pytest.approx(1.0, rel=0.1)
    assert np.mean(variances) == pytest.approx(L, rel=0.1)


def test_orthogonal_linear_net_is_isometric_times_gain():
    L, N, g = 6, 64, 1.1
    m = _linear(L, N, "orthogonal", 0, gain=g)
    spec = diagnostics.jacobian_spectrum(m, np.random.default_rng(0).normal(size=(3, N)))
    np.testing.assert_allclose(spec["singular_values"], g ** L, rtol=1e-6)
    np.testing.assert_allclose(spec["condition_number"], 1.0, rtol=1e-6)


def test_jacobian_against_finite_differences_and_probes():
    m = fastinit.MLP([7, 30, 25, 5], activation=["tanh", "silu"], init="xavier_normal",
                     bias_init="normal", seed=2, dtype=np.float64)
    X = np.random.default_rng(1).normal(size=(2, 7))
    spec = diagnostics.jacobian_spectrum(m, X)
    for r in range(2):
        h = 1e-6
        J = np.stack([(m.forward(X[r:r + 1] + h * e) - m.forward(X[r:r + 1] - h * e))[0] / (2 * h)
                      for e in np.eye(7)], axis=1)
        np.testing.assert_allclose(spec["singular_values"][r], np.linalg.svd(J, compute_uv=False)[:5], rtol=1e-7)
    probe = diagnostics.jacobian_spectrum(m, X, method="probe", probes=4000, seed=1)
    np.testing.assert_allclose(probe["sq_mean"], spec["sq_mean"], rtol=0.08)


def test_measured_twin_matches_the_maps_on_wide_nets():
    """width 1000, tanh at and off the critical line, 3 seeds: q^l, c^l and chi_1^l within a few
    percent of the maps iterated from the first layer's measured values."""
    width, depth = 1000, 6
    for sw2, sb2 in ((theory.critical_sigma_w2("tanh", 0.05), 0.05), (3.0, 0.3)):
        ini = init.get("edge_of_chaos", sigma_b2=sb2) if sb2 == 0.05 else init.get("normal", std=math.sqrt(sw2 / width))
        bias = init.get("normal", std=math.sqrt(sb2))
        runs = []
        for seed in range(3):
            m = fastinit.MLP([width] * (depth + 1) + [10], activation="tanh", init=ini, bias_init=bias, seed=seed)
            X = np.random.default_rng(seed).normal(size=(12, width)).astype(np.float32)
            X[6:] = 0.7 * X[:6] + 0.714 * X[6:]  # some correlated pairs
            runs.append(diagnostics.mean_field_twin(m, X))
        q = np.mean([r["q"] for r in runs], axis=0)
        c = np.mean([r["c"] for r in runs], axis=0)
        chi = np.mean([r["chi1"] for r in runs], axis=0)
        pred = theory.iterate_maps("tanh", sw2, sb2, q[0], c[0], depth + 1)
        hidden = slice(1, depth)  # the 10 logits are too few units for a mean-field average
        np.testing.assert_allclose(q[hidden], pred["q"][hidden], rtol=0.04)
        np.testing.assert_allclose(c[hidden], pred["c"][hidden], atol=0.04)
        np.testing.assert_allclose(chi[:depth], pred["chi1"][:depth], rtol=0.04)
        assert np.isnan(chi[depth])


def test_same_bits_whatever_the_thread_counts():
    """No BLAS reduction in the quadrature: OpenBLAS and fastinit thread counts and the kernel
    set (float64 activations are portable C on every set) change no bit."""
    import os
    import subprocess
    import sys

    code = ("import fastinit; from fastinit import theory as T; fastinit.set_num_threads({n}); "
            "print(repr(T.critical_sigma_w2('tanh', 0.05)), repr(T.fixed_point('tanh', 3.0, 0.05).c), "
            "repr(T.depth_scales('selu', 1.3, 0.1)))")
    outs = []
    kernels = [k for k in ("ref", "avx2") if k == "ref" or fastinit.kernel_info()["cpu_avx2_fma"]]
    for n, kernel in zip((1, 2), kernels * 2):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(n), OMP_NUM_THREADS=str(n), FASTINIT_KERNEL=kernel)
        r = subprocess.run([sys.executable, "-c", code.format(n=n)], capture_output=True, text=True, env=env,
                           cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), timeout=120)
        assert r.returncode == 0, r.stderr[-1500:]
        outs.append(r.stdout)
    assert outs[0] == outs[1]
    here = (f"{theory.critical_sigma_w2('tanh', 0.05)!r} {theory.fixed_point('tanh', 3.0, 0.05).c!r} "
            f"{theory.depth_scales('selu', 1.3, 0.1)!r}")
    assert outs[0].strip() == here


def test_plot_twin_draws_measured_beside_theory(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    m = fastinit.MLP([50, 60, 60, 60, 4], activation="tanh", init="edge_of_chaos", bias_init="edge_of_chaos")
    X = np.random.default_rng(0).normal(size=(8, 50)).astype(np.float32)
    runs = [diagnostics.mean_field_twin(m, X), diagnostics.mean_field_twin(m, X[::-1].copy())]
    pred = theory.iterate_maps("tanh", theory.critical_sigma_w2("tanh", 0.05), 0.05, runs[0]["q"][0], runs[0]["c"][0], 4)
    fig = diagnostics.plot_twin(runs, pred)
    assert len(fig.axes) == 3 and all(len(a.lines) == 2 for a in fig.axes)
    fig.savefig(tmp_path / "twin.png")
    assert (tmp_path / "twin.png").stat().st_size > 1000
    X = X[:2]
    spectra = {name: diagnostics.jacobian_spectrum(
        fastinit.MLP([50, 60, 60, 60, 4], activation="tanh", init=name), X) for name in ("orthogonal", "xavier_normal")}
    fig = diagnostics.plot_jacobian_spectra(spectra)
    assert len(fig.axes[0].patches) == 2
    with pytest.raises(ValueError, match="exact"):
        diagnostics.plot_jacobian_spectra({"x": diagnostics.jacobian_spectrum(m, X, method="probe")})


def test_bad_arguments_are_named():
    m = fastinit.MLP([4, 5, 3], seed=0)
    with pytest.raises(ValueError, match="method"):
        diagnostics.jacobian_spectrum(m, np.zeros((2, 4)), method="svd")
    with pytest.raises(ValueError, match="probes"):
        diagnostics.jacobian_spectrum(m, np.zeros((2, 4)), method="probe", probes=0)
    with pytest.raises(ValueError, match="shape|features|columns"):
        diagnostics.jacobian_spectrum(m, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="c must be"):
        theory.correlation_map("tanh", 1.0, 0.0, 1.5)
    with pytest.raises(ValueError, match="takes no parameter"):
        theory.chi1(("tanh", 0.3), 1.0, 0.0)
    with pytest.raises(ValueError, match="q0"):
        theory.fixed_point("tanh", 1.0, 0.0, q0=-1.0)
    with pytest.raises(ValueError, match="depth"):
        theory.iterate_maps("tanh", 1.0, 0.0, 1.0, 0.5, 0)
    with pytest.raises(ValueError, match="method"):
        init.calculate_gain("tanh", method="guess")
    assert theory.chi1(("leaky_relu", 0.2), 1.0, 0.0) == pytest.approx((1 + 0.04) / 2, rel=1e-12)
