"""Mean-field theory of signal propagation through wide random dense nets, in float64.

A layer z^{l+1} = W h^l + b, h = phi(z), with W_ij ~ N(0, sigma_w2 / fan_in) and b_i ~ N(0,
sigma_b2), maps (as the width grows) the variance q of a pre-activation and the correlation c of
two inputs' pre-activations deterministically (Poole et al. 2016, arXiv:1606.05340; Schoenholz et
al. 2017, arXiv:1611.01232):

    length map       q' = sigma_w2 E[phi(sqrt(q) z)^2] + sigma_b2,                 z ~ N(0, 1)
    correlation map  c' = (sigma_w2 E[phi(u1) phi(u2)] + sigma_b2) / q*,
                     u1 = sqrt(q*) z1, u2 = sqrt(q*) (c z1 + sqrt(1 - c^2) z2)
    chi_1 = sigma_w2 E[phi'(sqrt(q*) z)^2]          (ordered < 1 < chaotic; the slope of the
                                                      correlation map at c = 1)
    chi_c = sigma_w2 E[phi'(u1) phi'(u2)] at c*     (the slope of the correlation map at c*)
    xi_q = -1 / log(dq'/dq at q*),  dq'/dq = sigma_w2 E[phi'^2 + phi phi''] (Schoenholz eq. 5)
    xi_c = -1 / log(chi_c)

phi and phi' are fastinit's own C activations (float64 path). phi'' is never needed: Stein's
lemma E[z h(z)] = E[h'(z)] turns the slope of the length map into
sigma_w2 E[z phi(sqrt(q) z) phi'(sqrt(q) z)] / sqrt(q), the same number without a second
derivative (and well defined at a kink, where phi'' has a delta times phi(0) = 0).

Quadrature (documented accuracy, checked in tests/test_theory.py against scipy.integrate.quad):
every activation fastinit has is kinked (relu, leaky_relu, elu, selu, softsign) or nearly kinked
at large q (tanh(sqrt(q) z) has poles at z = +-i pi / (2 sqrt(q))) exactly at 0, where a
full-line Gauss-Hermite rule (numpy's hermegauss) converges slowly: with 201 nodes it is off by
1e-1 for E[relu'(z)^2] and by 1e-3 for E[tanh'(sqrt(10) z)^2]. So every Gaussian integral is
split at the kink:
  * 1-D: E[f(z)] = int_0^inf (f(z) + f(-z)) phi(z) dz with the N_HALF = 80 node Gauss rule of
    the half-line Gaussian weight ("half-range Gauss-Hermite", built once by the discretized
    Stieltjes procedure and Golub-Welsch). Relative error <= 1e-12 for q <= 10 and <= 1e-7 for
    q <= 100 for every activation (worst: tanh phi'^2), 1e-4 at q = 1000 (softsign).
  * 2-D: polar coordinates (z1, z2) = r (cos t, sin t); u1 and u2 change sign only on four rays,
    t = +-pi/2 and t = theta_c +- pi/2 (c = cos theta_c), so the angle is split there into
    sectors, each with an N_ANGLE = 32 node Gauss-Legendre rule, and r uses the N_HALF node Gauss
    rule of the weight r exp(-r^2/2) on [0, inf). 80 * 4 * 32 = 10240 evaluations per
    expectation, all in one C call.

Where a quantity does not exist the functions raise ValueError saying why: no fixed point q*
when an unbounded activation's length map grows without bound (relu with sigma_w2 > 2, say);
no finite critical sigma_w2 where chi_1 stays below 1 until q* stops existing.

    >>> from fastinit import theory
    >>> theory.critical_sigma_w2("tanh", 0.05)           # the chi_1 = 1 line at sigma_b2 = 0.05
    >>> theory.depth_scales("tanh", 2.0, 0.05).xi_c      # how deep correlations survive
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, Union

import numpy as np

from fastinit import activations
from fastinit.activations import ACTIVATIONS
from fastinit.quadrature import N_ANGLE, N_HALF, rule_1d as _rule_1d, rule_2d as _rule_2d

__all__ = ["ACTIVATION_NAMES", "DepthScales", "FixedPoint", "N_ANGLE", "N_HALF", "chi1", "correlation_map",
           "critical_sigma_w2", "depth_scales", "expectations", "fixed_point", "iterate_maps", "length_map", "second_moment"]

#: Every activation the theory answers for (nn.ACTIVATIONS without the alias "linear").
ACTIVATION_NAMES = tuple(n for n in ACTIVATIONS if n != "linear")

# positively homogeneous of degree 1: phi(a x) = a phi(x) for a > 0, so E[phi'(sqrt(q) z)^2]
# does not depend on q and the length map is linear in q
_HOMOGENEOUS = ("identity", "relu", "leaky_relu")
_Q_MAX = 1e12     # a length map still growing past this q has no fixed point
_MAX_BISECT = 200

Activation = Union[str, "tuple[str, float]"]


@dataclass(frozen=True)
class FixedPoint:
    """The attracting fixed point of the length and correlation maps.

    q: q*, the pre-activation variance deep layers settle at (0.0 when the signal dies out:
        sigma_b2 = 0 in the ordered phase of an activation with phi(0) = 0).
    c: c*, the correlation two inputs settle at: 1.0 in the ordered phase and at criticality,
        below 1 in the chaotic phase (nan when q* = 0).
    chi1: sigma_w2 E[phi'(sqrt(q*) z)^2], the slope of the correlation map at c = 1.
    chi_c: the slope of the correlation map at c* (= chi1 when c* = 1).
    q_slope: the slope of the length map at q*; deviations from q* shrink by it per layer.
    residual_q, residual_c: |map(x*) - x*| at the returned values (convergence check).
    """

    q: float
    c: float
    chi1: float
    chi_c: float
    q_slope: float
    residual_q: float
    residual_c: float

    @property
    def phase(self) -> str:
        """'ordered' (chi_1 < 1), 'critical' (within 1e-9) or 'chaotic'."""
        if abs(self.chi1 - 1.0) <= 1e-9:
            return "critical"
        return "ordered" if self.chi1 < 1.0 else "chaotic"


class DepthScales(NamedTuple):
    """Depth scales in layers (math.inf at criticality): perturbations of q* and of c* decay
    like exp(-l / xi). Schoenholz et al. find nets train only when shallower than ~6 xi_c."""

    xi_q: float
    xi_c: float


# --------------------------------------------------------------------------- activations

def _spec(activation) -> tuple[str, int, float]:
    """(name, C code, parameter) of "tanh" or ("leaky_relu", 0.2)."""
    name, param = activations.parse(activation, "activation")
    return name, ACTIVATIONS[name], param


def _phi(act, x: np.ndarray) -> np.ndarray:
    y = np.empty_like(x)
    activations.forward(x, y, act[1], act[2])
    return y


def _phi_dphi(act, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = _phi(act, x)
    d = np.ones_like(x)
    activations.backward(d, x, y, d, act[1], act[2])
    return y, d


def _check_var(name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {v!r}")
    v = float(v)
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be finite and >= 0, got {v}")
    return v


# --------------------------------------------------------------------------- expectations

def _dot(w: np.ndarray, v: np.ndarray) -> float:
    """sum(w * v) by NumPy's pairwise sum: no BLAS, whose threads may change the bits (and, on a
    busy machine, take milliseconds to wake for a 10^4-long dot)."""
    return float(np.sum(w * v))


_Q_TINY = 1e-300  # q = 0 is taken as this: one-sided derivatives at a kink, averaged as q -> 0+


def _e1(act, q: float) -> tuple[float, float, float]:
    """(E[phi^2], E[phi'^2], E[z phi phi']) at u = sqrt(q) z."""
    z, w = _rule_1d()
    y, d = _phi_dphi(act, math.sqrt(max(q, _Q_TINY)) * z)
    return _dot(w, y * y), _dot(w, d * d), _dot(w, z * y * d)


def _e2(act, q: float, c: float) -> tuple[float, float]:
    """(E[phi(u1) phi(u2)], E[phi'(u1) phi'(u2)])."""
    x1, x2, w = _rule_2d(c)
    s = math.sqrt(q)
    y1, d1 = _phi_dphi(act, s * x1)
    y2, d2 = _phi_dphi(act, s * x2)
    return _dot(w, y1 * y2), _dot(w, d1 * d2)


def expectations(activation: Activation, q: float = 1.0) -> dict:
    """Gaussian expectations at u = sqrt(q) z, z ~ N(0, 1): mean E[phi(u)], second moment
    E[phi(u)^2], E[phi'(u)^2], and E[phi'(u)^2 + phi(u) phi''(u)] (by Stein's lemma)."""
    act = _spec(activation)
    q = _check_var("q", q)
    z, w = _rule_1d()
    y, d = _phi_dphi(act, math.sqrt(max(q, _Q_TINY)) * z)
    m2, d2, zyd = _dot(w, y * y), _dot(w, d * d), _dot(w, z * y * d)
    return {"mean": _dot(w, y), "second_moment": m2, "dphi2": d2,
            "dphi2_plus_phi_ddphi": zyd / math.sqrt(max(q, _Q_TINY))}


def second_moment(activation: Activation, q: float = 1.0) -> float:
    """E[phi(sqrt(q) z)^2], z ~ N(0, 1): what a layer keeps of a unit-variance signal (q = 1)."""
    act = _spec(activation)
    return _e1(act, _check_var("q", q))[0]


def length_map(activation: Activation, sigma_w2: float, sigma_b2: float, q: float) -> float:
    """One layer of the length map: q' = sigma_w2 E[phi(sqrt(q) z)^2] + sigma_b2."""
    act = _spec(activation)
    sw2, sb2 = _check_var("sigma_w2", sigma_w2), _check_var("sigma_b2", sigma_b2)
    return sw2 * _e1(act, _check_var("q", q))[0] + sb2


def correlation_map(activation: Activation, sigma_w2: float, sigma_b2: float, c: float,
                    q: float | None = None, *, q0: float | None = 1.0) -> float:
    """One layer of the correlation map at variance q (default q*): c' = (sigma_w2 E[phi(u1)
    phi(u2)] + sigma_b2) / q'. At q = q*, q' = q*; elsewhere q' is the length map of q, so this is
    the correlation of the next layer's pre-activations when both inputs have variance q."""
    act = _spec(activation)
    sw2, sb2 = _check_var("sigma_w2", sigma_w2), _check_var("sigma_b2", sigma_b2)
    if not (isinstance(c, (int, float, np.floating)) and -1.0 <= float(c) <= 1.0):
        raise ValueError(f"c must be a correlation in [-1, 1], got {c!r}")
    q = _fixed_q(act, sw2, sb2, _q0(q0)) if q is None else _check_var("q", q)
    qn = sw2 * _e1(act, q)[0] + sb2
    if qn == 0:
        raise ValueError("the next layer's variance is 0 (sigma_w2 E[phi^2] + sigma_b2 = 0): "
                         "no correlation is defined")
    return (sw2 * _e2(act, q, float(c))[0] + sb2) / qn


# --------------------------------------------------------------------------- fixed points

def _q0(q0) -> float | None:
    return None if q0 is None else _check_var("q0", q0)


def _bisect(g, lo: float, hi: float, glo: float) -> float:
    """A root of g in [lo, hi] where g(lo) has sign glo and g(hi) the other; to the last bits."""
    for _ in range(_MAX_BISECT):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        gm = g(mid)
        if gm == 0:
            return mid
        if (gm > 0) == (glo > 0):
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _no_fixed_point(act, sw2, sb2):
    return ValueError(
        f"no fixed point q* for {act[0]} with sigma_w2={sw2:g}, sigma_b2={sb2:g}: the length map "
        f"q -> sigma_w2 E[phi(sqrt(q) z)^2] + sigma_b2 grows without bound (an unbounded "
        f"activation with sigma_w2 past its growth boundary; for relu that is sigma_w2 >= 2)")


def _fixed_q(act, sw2: float, sb2: float, q0: float | None) -> float:
    """The fixed point of the length map that iterating it from q0 reaches; q0 None: from a
    vanishing input (q -> 0+), i.e. the smallest fixed point that attracts small signals."""
    if act[0] in _HOMOGENEOUS:  # q' = a q + sigma_b2, exactly
        a = sw2 * _e1(act, 1.0)[0]
        if abs(a - 1.0) <= 1e-12:
            a = 1.0  # the quadrature of E[relu(z)^2] = 1/2 is 3 ulp off: sigma_w2 = 2 is this line
        if a < 1.0:
            return sb2 / (1.0 - a)
        if sb2 == 0 and (a == 1.0 or q0 == 0):
            return 0.0 if q0 is None else q0  # a == 1: every q is fixed
        raise _no_fixed_point(act, sw2, sb2)

    def g(q):
        if q == 0:
            return sw2 * float(_phi(act, np.zeros(1))[0]) ** 2 + sb2
        return sw2 * _e1(act, q)[0] + sb2 - q

    if q0 is None:
        g0 = g(0.0)
        if g0 <= 0:  # phi(0) = 0 and sigma_b2 = 0: q = 0 is fixed; does it attract?
            if sw2 * _e1(act, 0.0)[1] <= 1.0:
                return 0.0
            q0 = 1e-12
            while g(q0) <= 0 and q0 < 1e-3:
                q0 *= 10.0
        else:
            q0 = min(g0, 1.0)
    g0 = g(q0)
    if g0 == 0:
        return q0
    if g0 > 0:  # the iteration increases: the first root above q0
        lo, hi = q0, 1.5 * q0
        while g(hi) > 0:
            lo, hi = hi, 1.5 * hi
            if hi > _Q_MAX * max(1.0, q0):
                raise _no_fixed_point(act, sw2, sb2)
        return _bisect(g, lo, hi, 1.0)
    hi, lo = q0, q0 / 1.5  # the iteration decreases: the first root below q0
    while g(lo) < 0:
        hi, lo = lo, lo / (1.5 if lo > 1e-8 * q0 else 1e4)
        if lo < 1e-200 * q0:
            return 0.0  # the signal dies out (sigma_b2 = 0, phi(0) = 0, ordered)
    return _bisect(g, lo, hi, 1.0)


def _fixed(act, sw2: float, sb2: float, q0: float | None) -> FixedPoint:
    q = _fixed_q(act, sw2, sb2, q0)
    m2, d2, zyd = _e1(act, q)
    chi = sw2 * d2
    res_q = abs(sw2 * m2 + sb2 - q)
    slope = sw2 * zyd / math.sqrt(max(q, _Q_TINY))  # at q = 0 (phi(0) = 0 there): sigma_w2 E[phi'^2]
    if q == 0:
        return FixedPoint(q, math.nan, chi, chi, slope, res_q, math.nan)

    def cmap(c):
        return (sw2 * _e2(act, q, c)[0] + sb2) / q

    def g(c):
        return cmap(c) - c

    c = 1.0
    if chi > 1.0:  # c = 1 repels: the stable fixed point lies in [0, 1) (g(0) >= 0)
        g0 = g(0.0)
        if g0 <= 0:
            c = 0.0
        else:
            b = None
            for k in range(1, 53):
                if g(1.0 - 2.0 ** -k) < 0:
                    b = 1.0 - 2.0 ** -k
                    break
            if b is not None:
                c = _bisect(g, 0.0, b, 1.0)
    chi_c = chi if c == 1.0 else sw2 * _e2(act, q, c)[1]
    return FixedPoint(q, c, chi, chi_c, slope, res_q, abs(cmap(c) - c))


def fixed_point(activation: Activation, sigma_w2: float, sigma_b2: float, *,
                q0: float | None = 1.0) -> FixedPoint:
    """The fixed point (q*, c*) the maps reach, with chi_1, chi_c and convergence residuals.

    q0: the pre-activation variance iterated from; 1.0 (default) is a unit-variance input, as
    in Poole et al. and Schoenholz et al. None: a vanishing one (q -> 0+), the smallest fixed
    point that attracts small signals. The two differ only where the length map has an unstable
    fixed point between them: gelu, gelu_tanh and silu (phi'(0) = 1/2, relu at large q) with
    sigma_w2 > 2, where small signals settle and unit-variance ones grow without bound.
    Every function here takes q0 and passes it on. Raises ValueError where no fixed point is
    reached (the length map of an unbounded activation grows without bound)."""
    act = _spec(activation)
    sw2, sb2 = _check_var("sigma_w2", sigma_w2), _check_var("sigma_b2", sigma_b2)
    return _fixed(act, sw2, sb2, _q0(q0))


def chi1(activation: Activation, sigma_w2: float, sigma_b2: float, *, q0: float | None = 1.0) -> float:
    """chi_1 = sigma_w2 E[phi'(sqrt(q*) z)^2]: < 1 ordered (gradients vanish with depth), > 1
    chaotic (they explode). For identity/relu/leaky_relu it does not depend on q, and is returned
    even where q* does not exist (it is sigma_w2 / 2 for relu)."""
    act = _spec(activation)
    sw2, sb2 = _check_var("sigma_w2", sigma_w2), _check_var("sigma_b2", sigma_b2)
    if act[0] in _HOMOGENEOUS:
        return sw2 * _e1(act, 1.0)[1]
    return sw2 * _e1(act, _fixed_q(act, sw2, sb2, _q0(q0)))[1]


def _xi(slope: float) -> float:
    if slope >= 1.0:
        return math.inf
    if slope <= 0.0:
        return 0.0
    return -1.0 / math.log(slope)


def depth_scales(activation: Activation, sigma_w2: float, sigma_b2: float, *,
                 q0: float | None = 1.0) -> DepthScales:
    """(xi_q, xi_c) of Schoenholz et al. 2017 (eqs. 5 and 9): xi_q = -1/log(sigma_w2
    E[phi'^2 + phi phi'']) at q*, xi_c = -1/log(chi_c) at c*; math.inf at criticality."""
    fp = fixed_point(activation, sigma_w2, sigma_b2, q0=q0)
    return DepthScales(_xi(fp.q_slope), _xi(fp.chi_c))


def _asymptotic_dphi2(act) -> float:
    """lim_{q -> inf} E[phi'(sqrt(q) z)^2] = (phi'(+inf)^2 + phi'(-inf)^2) / 2 (phi' at +-1e4)."""
    d = _phi_dphi(act, np.array([1e4, -1e4]))[1]
    return float(0.5 * (d[0] ** 2 + d[1] ** 2))


def critical_sigma_w2(activation: Activation, sigma_b2: float, *, asymptotic: bool = False,
                      q0: float | None = 1.0) -> float:
    """The sigma_w2 on the critical line chi_1(sigma_w2, sigma_b2) = 1 (the edge of chaos).

    identity, relu, leaky_relu: chi_1 does not depend on q, so the line is sigma_w2 =
    1 / E[phi'(z)^2] (1, 2, 2 / (1 + slope^2)) for every sigma_b2; with sigma_b2 > 0 the fixed
    point q* is infinite there (q grows by sigma_b2 per layer), the boundary of the region where
    it exists. Other activations: the smallest sigma_w2 where chi_1 at q* (reached from q0, as
    in fixed_point) crosses 1, by a geometric scan from 1e-3 (steps of 1.25) refined by bisection.

    Where chi_1 stays below 1 until q* stops existing (softplus, gelu, gelu_tanh, silu from
    q0 = 1: they approach relu at large q, whose chi_1 reaches 1 only as q* -> inf) this
    raises ValueError, unless asymptotic=True: then it returns that limit, 1 / lim_{q -> inf}
    E[phi'(sqrt(q) z)^2] (2 for these, as for relu).
    """
    act = _spec(activation)
    sb2 = _check_var("sigma_b2", sigma_b2)
    q0 = _q0(q0)
    if act[0] in _HOMOGENEOUS:
        return 1.0 / _e1(act, 1.0)[1]

    def h(sw2):
        return sw2 * _e1(act, _fixed_q(act, sw2, sb2, q0))[1] - 1.0

    def exists(sw2):
        try:
            h(sw2)
            return True
        except ValueError:
            return False

    lo, s = None, 1e-3
    while s < 1e6:
        try:
            hs = h(s)
        except ValueError:
            if lo is None:
                break
            edge = _bisect(lambda v: 1.0 if exists(v) else -1.0, lo, s, 1.0)  # where q* ends
            while not exists(edge):
                edge = math.nextafter(edge, 0.0)
            he = h(edge)
            if abs(he) <= 1e-12:  # chi_1 reaches 1 (to rounding) as q* disappears
                return edge
            if he > 0:
                root = _bisect(h, lo, edge, -1.0)
                if abs(h(root)) <= 1e-9:
                    return root
            break  # else chi_1 jumps there (q* meets an unstable fixed point): no crossing
        if hs >= 0:
            if hs == 0:
                return s
            if lo is None:
                raise ValueError(f"{act[0]}: chi_1 >= 1 already at sigma_w2={s:g}")
            root = _bisect(h, lo, s, -1.0)
            if abs(h(root)) <= 1e-9:
                return root
        lo, s = s, s * 1.25
    a = _asymptotic_dphi2(act)
    if asymptotic and a > 0:
        return 1.0 / a
    hint = (f"; chi_1 reaches 1 only as q* -> inf, at sigma_w2 = {1.0 / a:g} (asymptotic=True "
            f"returns it)") if a > 0 else ""
    raise ValueError(f"no finite critical sigma_w2 for {act[0]} at sigma_b2={sb2:g}: chi_1 stays "
                     f"below 1 up to sigma_w2={s:g}, where the fixed point q* stops existing{hint}")


def iterate_maps(activation: Activation, sigma_w2: float, sigma_b2: float, q1: float, c1: float,
                 depth: int) -> dict:
    """The maps' prediction layer by layer from the first layer's (q^1, c^1): arrays "q", "c"
    and "chi1" (sigma_w2 E[phi'(sqrt(q^l) z)^2]) of length depth, the theory beside
    diagnostics.mean_field_twin (whose first entry gives q1 and c1)."""
    act = _spec(activation)
    sw2, sb2 = _check_var("sigma_w2", sigma_w2), _check_var("sigma_b2", sigma_b2)
    q, c = _check_var("q1", q1), float(c1)
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth must be an int >= 1, got {depth!r}")
    qs, cs, chis = np.empty(depth), np.empty(depth), np.empty(depth)
    for l in range(depth):
        qs[l], cs[l] = q, c
        chis[l] = sw2 * _e1(act, q)[1]
        qn = sw2 * _e1(act, q)[0] + sb2
        c = (sw2 * _e2(act, q, min(1.0, max(-1.0, c)))[0] + sb2) / qn if qn > 0 else math.nan
        q = qn
    return {"q": qs, "c": cs, "chi1": chis}
