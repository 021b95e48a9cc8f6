"""The built-in schemes, each a few lines with the library or paper it comes from. Formulas
follow PyTorch (torch.nn.init) and Keras 3 / jax.nn.initializers where those define them;
docs/init.md tabulates where the two differ (Keras's normal schemes are truncated)."""
from __future__ import annotations

import functools
import math

import numpy as np

from fastinit import theory
from fastinit.init.registry import (
    TRUNCATION_STD, Initializer, _REGISTRY, _choice, _constant, _Draw, _fan, _fill, _finite, _normal, _positive,
    _truncated, _truncated_std, _uniform_bound, calculate_gain, register,
)

# --------------------------------------------------------------------------- the schemes

@register("zeros", exact_aliases=("Zeros",), source="constant 0: every neuron identical (symmetry is never broken)")
def zeros():
    return _constant(0.0)


@register("ones", exact_aliases=("Ones",), source="constant 1")
def ones():
    return _constant(1.0)


@register("constant", exact_aliases=("Constant",), source="torch.nn.init.constant_")
def constant(value=0.0):
    return _constant(_finite("value", value))


@register("uniform", source="torch.nn.init.uniform_ (U(low, high))")
def uniform(low=0.0, high=1.0):
    low, high = _finite("low", low), _finite("high", high)
    if not low < high:
        raise ValueError(f"uniform needs low < high, got low={low}, high={high}")
    return _Draw(lambda shape, fi, fo, seed, stream, dt: _fill("uniform", shape, seed, stream, dt, low, high),
                 lambda fi, fo: (high - low) / math.sqrt(12.0), f"W ~ U({low}, {high})")


@register("normal", source="torch.nn.init.normal_ (N(mean, std^2))")
def normal(mean=0.0, std=1.0):
    mean, std = _finite("mean", mean), _positive("std", std)
    return _normal(mean, lambda fi, fo: std, f"W ~ N({mean}, {std}^2)")


@register("truncated_normal", aliases=("trunc_normal",),
          source="torch.nn.init.trunc_normal_: N(mean, std^2) restricted to [a, b] (absolute bounds)")
def truncated_normal(mean=0.0, std=1.0, a=-2.0, b=2.0):
    mean, std, a, b = _finite("mean", mean), _positive("std", std), _finite("a", a), _finite("b", b)
    if not a < b:
        raise ValueError(f"truncated_normal needs a < b, got a={a}, b={b}")
    return _Draw(lambda shape, fi, fo, seed, stream, dt: _fill("truncnormal", shape, seed, stream, dt, mean, std, a, b),
                 lambda fi, fo: std * _truncated_std((a - mean) / std, (b - mean) / std),
                 f"W ~ N({mean}, {std}^2) truncated to [{a}, {b}]")


@register("random_small", source="N(0,1) * 0.01: the classic course's small random init (vanishing signals in deep nets)")
def random_small(scale=0.01):
    scale = _positive("scale", scale)
    return _normal(0.0, lambda fi, fo: scale, f"W = {scale} * N(0, 1)")


@register("random_large", source="N(0,1) * 10: the classic course's large random init (saturation, exploding gradients)")
def random_large(scale=10.0):
    scale = _positive("scale", scale)
    return _normal(0.0, lambda fi, fo: scale, f"W = {scale} * N(0, 1)")


@register("xavier_uniform", aliases=("glorot_uniform",), exact_aliases=("GlorotUniform",),
          source="Glorot & Bengio 2010; torch.nn.init.xavier_uniform_")
def xavier_uniform(gain=1.0):
    gain = _positive("gain", gain)
    return _uniform_bound(lambda fi, fo: gain * math.sqrt(6.0 / (fi + fo)),
                          f"W ~ U(-b, b), b = {gain:g} * sqrt(6 / (fan_in + fan_out))")


@register("xavier_normal", aliases=("glorot_normal",),
          source="Glorot & Bengio 2010; torch.nn.init.xavier_normal_ (untruncated)")
def xavier_normal(gain=1.0):
    gain = _positive("gain", gain)
    return _normal(0.0, lambda fi, fo: gain * math.sqrt(2.0 / (fi + fo)),
                   f"W ~ N(0, s^2), s = {gain:g} * sqrt(2 / (fan_in + fan_out))")


def _kaiming_std(mode, nonlinearity, a):
    _choice("mode", mode, ("fan_in", "fan_out"))
    gain = calculate_gain(nonlinearity, a)
    return gain, (lambda fi, fo: gain / math.sqrt(_fan(mode, fi, fo)))


@register("he_uniform", aliases=("kaiming_uniform",), exact_aliases=("HeUniform",),
          source="He et al. 2015, arXiv:1502.01852; torch.nn.init.kaiming_uniform_")
def he_uniform(a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    gain, std = _kaiming_std(mode, nonlinearity, a)
    return _uniform_bound(lambda fi, fo: math.sqrt(3.0) * std(fi, fo),
                          f"W ~ U(-b, b), b = {gain:.6g} * sqrt(3 / {mode})")


@register("he_normal", aliases=("kaiming_normal",),
          source="He et al. 2015, arXiv:1502.01852; torch.nn.init.kaiming_normal_ (untruncated)")
def he_normal(a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    gain, std = _kaiming_std(mode, nonlinearity, a)
    return _normal(0.0, std, f"W ~ N(0, s^2), s = {gain:.6g} / sqrt({mode})")


@register("lecun_uniform", exact_aliases=("LecunUniform",), source="LeCun et al. 1998, Efficient BackProp; keras lecun_uniform")
def lecun_uniform():
    return _uniform_bound(lambda fi, fo: math.sqrt(3.0 / fi), "W ~ U(-b, b), b = sqrt(3 / fan_in)")


@register("lecun_normal", source="LeCun et al. 1998; N(0, 1/fan_in), untruncated (Keras's is truncated: keras_lecun_normal)")
def lecun_normal():
    return _normal(0.0, lambda fi, fo: 1.0 / math.sqrt(fi), "W ~ N(0, s^2), s = 1 / sqrt(fan_in)")


@register("variance_scaling", exact_aliases=("VarianceScaling",),
          source="keras.initializers.VarianceScaling / jax.nn.initializers.variance_scaling")
def variance_scaling(scale=1.0, mode="fan_in", distribution="truncated_normal"):
    scale = _positive("scale", scale)
    _choice("mode", mode, ("fan_in", "fan_out", "fan_avg"))
    _choice("distribution", distribution, ("truncated_normal", "untruncated_normal", "uniform"))
    std = lambda fi, fo: math.sqrt(scale / max(1.0, _fan(mode, fi, fo)))  # noqa: E731
    if distribution == "truncated_normal":
        return _truncated(std, f"W ~ N(0, s^2) cut at +-2s, s = sqrt({scale:g} / {mode}) / {TRUNCATION_STD}")
    if distribution == "untruncated_normal":
        return _normal(0.0, std, f"W ~ N(0, s^2), s = sqrt({scale:g} / {mode})")
    return _uniform_bound(lambda fi, fo: math.sqrt(3.0) * std(fi, fo), f"W ~ U(-b, b), b = sqrt(3 * {scale:g} / {mode})")


@register("keras_glorot_normal", exact_aliases=("GlorotNormal",), source="keras.initializers.GlorotNormal (truncated)")
def keras_glorot_normal():
    return variance_scaling(1.0, "fan_avg", "truncated_normal")


@register("keras_he_normal", exact_aliases=("HeNormal",), source="keras.initializers.HeNormal (truncated)")
def keras_he_normal():
    return variance_scaling(2.0, "fan_in", "truncated_normal")


@register("keras_lecun_normal", exact_aliases=("LecunNormal",), source="keras.initializers.LecunNormal (truncated)")
def keras_lecun_normal():
    return variance_scaling(1.0, "fan_in", "truncated_normal")


def _orthogonal_sample(gain):
    def sample(shape, fi, fo, seed, stream, dt):
        if len(shape) < 2:
            raise ValueError(f"orthogonal needs a tensor of at least 2 dimensions, got shape {shape}")
        rows = shape[0]
        cols = math.prod(shape[1:])
        if rows == 0 or cols == 0:
            return np.zeros(shape, dt)
        flat = _fill("normal", (rows, cols), seed, stream, np.float64, 0.0, 1.0)
        if rows < cols:
            flat = flat.T
        q, r = np.linalg.qr(flat)
        q *= np.sign(np.diag(r))  # unique Q (Haar distributed): make diag(R) positive
        if rows < cols:
            q = q.T
        return (gain * q).reshape(shape).astype(dt)
    return sample


@register("orthogonal", exact_aliases=("Orthogonal",),
          source="Saxe et al. 2013, arXiv:1312.6120; torch.nn.init.orthogonal_ (QR with sign fix)")
def orthogonal(gain=1.0):
    gain = _positive("gain", gain)
    return _Draw(_orthogonal_sample(gain), lambda fi, fo: gain / math.sqrt(max(fi, fo)),
                 f"W = {gain:g} * Q, Q from the QR of a Gaussian matrix (orthonormal rows or columns)")


def _identity_sample(gain):
    def sample(shape, fi, fo, seed, stream, dt):
        if len(shape) != 2:
            raise ValueError(f"identity needs a 2-D shape, got {shape}")
        return (gain * np.eye(*shape)).astype(dt)
    return sample


@functools.lru_cache(maxsize=64)
def _critical_sigma_w2(activation, sigma_b2: float) -> float:
    """theory.critical_sigma_w2, once per (activation, sigma_b2): an MLP builds one Initializer per
    layer for W and one for b, and each solve integrates for about a second."""
    return theory.critical_sigma_w2(activation, sigma_b2, asymptotic=True)


@register("edge_of_chaos", aliases=("critical", "eoc"),
          source="Poole et al. 2016, arXiv:1606.05340; Schoenholz et al. 2017, arXiv:1611.01232: "
                 "sigma_w2 on the critical line chi_1 = 1 (fastinit.theory.critical_sigma_w2)")
def edge_of_chaos(activation="tanh", sigma_b2=0.05):
    """W ~ N(0, sigma_w2 / fan_in) with sigma_w2 = theory.critical_sigma_w2(activation, sigma_b2);
    a 1-D tensor (a bias: bias_init="edge_of_chaos" with the same parameters) ~ N(0, sigma_b2)."""
    sb2 = float(sigma_b2) if isinstance(sigma_b2, (int, float, np.floating)) and not isinstance(sigma_b2, bool) else sigma_b2
    if not isinstance(sb2, float) or not (math.isfinite(sb2) and sb2 >= 0):
        raise ValueError(f"sigma_b2 must be a finite number >= 0, got {sigma_b2!r}")
    sw2 = _critical_sigma_w2(activation, sb2)

    def sample(shape, fi, fo, seed, stream, dt):
        if len(shape) == 1:
            return _fill("normal", shape, seed, stream, dt, 0.0, math.sqrt(sb2)) if sb2 > 0 else np.zeros(shape, dt)
        return _fill("normal", shape, seed, stream, dt, 0.0, math.sqrt(sw2 / fi))
    draw = _Draw(sample, lambda fi, fo: math.sqrt(sw2 / fi),
                 f"W ~ N(0, {sw2:.6g} / fan_in) (critical sigma_w2 of {activation} at sigma_b2 = {sb2:g}), "
                 f"b ~ N(0, {sb2:g})")
    return Initializer("edge_of_chaos", {"activation": activation, "sigma_b2": sb2}, draw,
                       _REGISTRY["edge_of_chaos"].source,
                       bias=f"edge_of_chaos:activation={activation},sigma_b2={sb2!r}")


@register("identity", aliases=("eye",), exact_aliases=("Identity",), source="torch.nn.init.eye_ (rectangular: ones on the diagonal)")
def identity(gain=1.0):
    gain = _positive("gain", gain)
    return _Draw(_identity_sample(gain), lambda fi, fo: None, f"W = {gain:g} * I")


@register("sparse", source="Martens 2010 (ICML, Hessian-free); torch.nn.init.sparse_")
def sparse(sparsity=0.9, std=0.01):
    sparsity = _finite("sparsity", sparsity)
    if not 0 <= sparsity < 1:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity}")
    std = _positive("std", std)

    def sample(shape, fi, fo, seed, stream, dt):
        if len(shape) != 2:
            raise ValueError(f"sparse needs a 2-D shape, got {shape}")
        rows, cols = shape
        w = _fill("normal", shape, seed, stream, dt, 0.0, std)
        zeros_per_col = math.ceil(sparsity * rows)
        # which rows are zero in each column: the smallest keys of an independent uniform draw
        keys = _fill("uniform", shape, seed, stream ^ (1 << 63), np.float64, 0.0, 1.0)
        order = np.argsort(keys, axis=0, kind="stable")[:zeros_per_col]
        np.put_along_axis(w, order, 0, axis=0)
        return w
    return _Draw(sample, lambda fi, fo: std * math.sqrt(1 - math.ceil(sparsity * fo) / fo) if fo else 0.0,
                 f"each column: ceil({sparsity:g} * rows) zeros, the rest N(0, {std:g}^2)")


@register("torch_default", aliases=("pytorch_default", "torch_linear"),
          source="torch.nn.Linear.reset_parameters: kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(fan_in)) for W and b")
def torch_default():
    draw = _uniform_bound(lambda fi, fo: 1.0 / math.sqrt(fi), "W, b ~ U(-b, b), b = 1 / sqrt(fan_in)")
    return Initializer("torch_default", {}, draw, _REGISTRY["torch_default"].source, bias="torch_default")


@register("keras_default", aliases=("keras_dense",), source="keras.layers.Dense: glorot_uniform W, zeros b")
def keras_default():
    return Initializer("keras_default", {}, xavier_uniform(), _REGISTRY["keras_default"].source, bias="zeros")


@register("nguyen_widrow", aliases=("nw",),
          source="Nguyen & Widrow 1990 (IJCNN); the data-aware default of FANN: rows of U(-.5,.5) rescaled to norm 0.7 * fan_out^(1/fan_in)")
def nguyen_widrow():
    beta = lambda fi, fo: 0.7 * fo ** (1.0 / fi)  # noqa: E731

    def sample(shape, fi, fo, seed, stream, dt):
        if len(shape) == 1:  # the bias of a Nguyen-Widrow layer: U(-beta, beta)
            return _fill("uniform", shape, seed, stream, dt, -beta(fi, fo), beta(fi, fo))
        w = _fill("uniform", shape, seed, stream, np.float64, -0.5, 0.5).reshape(shape[0], -1)
        norms = np.linalg.norm(w, axis=1, keepdims=True)
        return (beta(fi, fo) * w / np.where(norms > 0, norms, 1)).reshape(shape).astype(dt)
    draw = _Draw(sample, lambda fi, fo: beta(fi, fo) / math.sqrt(fi), "rows of U(-0.5, 0.5) scaled to norm 0.7 * fan_out^(1/fan_in)")
    return Initializer("nguyen_widrow", {}, draw, _REGISTRY["nguyen_widrow"].source, bias="nguyen_widrow")


def _hadamard_block(rows: int, cols: int) -> np.ndarray:
    """H_m[:rows, :cols] of Sylvester's Hadamard matrix, H[i, j] = (-1)^popcount(i & j): only
    the entries asked for (the whole 2^m x 2^m matrix of a 1 -> 20000 layer took 4 GB)."""
    x = np.arange(rows, dtype=np.int64)[:, None] & np.arange(cols, dtype=np.int64)[None, :]
    parity = np.zeros_like(x)
    while x.any():  # the parity of the set bits, one bit a pass
        parity ^= x & 1
        x >>= 1
    return np.where(parity == 1, -1.0, 1.0)


@register("zero_init", aliases=("zero", "zerO"),
          source="Zhao et al. 2021, arXiv:2110.12661 (ZerO): identity, or a scaled Hadamard block when the layer widens")
def zero_init():
    def sample(shape, fi, fo, seed, stream, dt):
        if len(shape) != 2:
            raise ValueError(f"zero_init needs a 2-D shape, got {shape}")
        out_, in_ = shape
        if out_ <= in_:
            return np.eye(out_, in_, dtype=dt)
        m = math.ceil(math.log2(out_))
        return (2.0 ** (-(m - 1) / 2) * _hadamard_block(out_, in_)).astype(dt)
    return _Draw(sample, lambda fi, fo: None, "W = I (fan_out <= fan_in) or 2^(-(m-1)/2) H_m[:fan_out, :fan_in], m = ceil(log2 fan_out)")


