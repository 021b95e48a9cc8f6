"""Weight-initialization schemes: a registry of names, formulas and sources.

Every random scheme draws from fastinit's counter-based generator (Philox4x32-10 in C): the
values depend only on (seed, stream, shape), never on thread count or call order. An MLP draws
layer i's weights from stream 2*i and its bias from stream 2*i + 1.

Formulas follow PyTorch (torch.nn.init) and Keras 3 / jax.nn.initializers where those define
them; docs/init.md tabulates where the two differ (Keras's normal schemes are truncated).

    >>> from fastinit import init
    >>> W = init.initialize("he_normal", (256, 784), seed=0)        # W is (fan_out, fan_in)
    >>> init.get("xavier_uniform").describe(fan_in=784, fan_out=256)["std"]
"""
from __future__ import annotations

import inspect
import math
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from fastinit import _core
from fastinit._names import unknown

__all__ = [
    "Initializer", "calculate_gain", "compute_fans", "get", "initialize", "lsuv", "names", "register",
]

# Keras's truncated normal keeps +-2 sigma; this is the std of N(0, 1) truncated there, which
# Keras divides out so the truncated values have the requested variance.
TRUNCATION_STD = 0.87962566103423978


# --------------------------------------------------------------------------- fans and gains

def compute_fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of `shape`, PyTorch layout: (out, in, *receptive_field).

    As torch and Keras compute them: for >2-D shapes the receptive field size multiplies both.
    A 1-D shape (a bias) has fan_in = fan_out = its length; a scalar has 1 and 1.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


_GAINS = {
    "linear": 1.0, "identity": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0,
    "conv_transpose1d": 1.0, "conv_transpose2d": 1.0, "conv_transpose3d": 1.0,
    "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0),
    # Klambauer et al. 2017 use gain 1 (LeCun normal) for self-normalizing nets; 3/4 is the
    # value PyTorch returns so that kaiming/xavier with selu keep a stable variance.
    "selu": 3.0 / 4.0,
}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity, PyTorch's table (torch.nn.init.calculate_gain).

    linear/conv/sigmoid 1, tanh 5/3, relu sqrt(2), leaky_relu sqrt(2 / (1 + slope^2)) with
    slope `param` (default 0.01), selu 3/4 (LeCun normal, gain 1, is what self-normalizing
    networks need; see Klambauer et al. 2017).
    """
    name = str(nonlinearity).lower()
    if name == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"negative_slope {slope!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if name in _GAINS:
        return _GAINS[name]
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}; choose one of: "
                     + ", ".join(sorted(_GAINS) + ["leaky_relu"]))


# --------------------------------------------------------------------------- distributions

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _fill(dist, shape, seed, stream, dtype, *params):
    out = np.empty(shape, dtype)
    _core._rng_fill(out.reshape(-1), dist, seed, stream, *params)
    return out


@dataclass(frozen=True)
class _Draw:
    """What a scheme draws, given the fans of the tensor: `sample` fills, `std` is the
    standard deviation of the values it produces (None where a law does not apply)."""
    sample: Callable  # (shape, fan_in, fan_out, seed, stream, dtype) -> ndarray
    std: Callable     # (fan_in, fan_out) -> float | None
    formula: str


def _normal(mean, std_of, formula):
    return _Draw(lambda shape, fi, fo, seed, stream, dt: _fill("normal", shape, seed, stream, dt, mean, std_of(fi, fo)),
                 std_of, formula)


def _uniform_bound(bound_of, formula):
    return _Draw(lambda shape, fi, fo, seed, stream, dt: _fill("uniform", shape, seed, stream, dt,
                                                               -bound_of(fi, fo), bound_of(fi, fo)),
                 lambda fi, fo: bound_of(fi, fo) / math.sqrt(3.0), formula)


def _truncated(std_of, formula):
    """Keras truncated normal: N(0, s) cut at +-2s with s = std / 0.8796..., so that the values
    keep variance std^2."""
    def sample(shape, fi, fo, seed, stream, dt):
        s = std_of(fi, fo) / TRUNCATION_STD
        return _fill("truncnormal", shape, seed, stream, dt, 0.0, s, -2 * s, 2 * s)
    return _Draw(sample, std_of, formula)


def _truncated_std(alpha, beta):
    """Std of N(0, 1) restricted to [alpha, beta] (closed form)."""
    pdf = lambda x: math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    m = (pdf(alpha) - pdf(beta)) / z
    return math.sqrt(1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - m * m)


def _constant(value):
    return _Draw(lambda shape, fi, fo, seed, stream, dt: np.full(shape, value, dt),
                 lambda fi, fo: 0.0, f"W = {value}")


# --------------------------------------------------------------------------- the registry

@dataclass(frozen=True)
class Initializer:
    """A named scheme with its parameters bound; call it on a shape to draw a tensor."""
    name: str
    params: dict
    draw: _Draw
    source: str
    bias: str | None = None  # the bias scheme this one implies (torch_default), else None
    needs_data: bool = False  # LSUV: finished by init.lsuv(model, X)
    doc: str = field(default="", repr=False)

    def __call__(self, shape, *, seed: int = 0, stream: int = 0, dtype=np.float32,
                 fan_in: int | None = None, fan_out: int | None = None) -> np.ndarray:
        """Draw a tensor of `shape`. fan_in/fan_out override the fans computed from the shape
        (a bias drawn with its layer's fan_in, as torch.nn.Linear does)."""
        shape = _check_shape(shape)
        dt = np.dtype(dtype)
        if dt not in _DTYPES:
            raise TypeError(f"dtype must be float32 or float64, got {dt}")
        fi, fo = compute_fans(shape)
        fi = fi if fan_in is None else int(fan_in)
        fo = fo if fan_out is None else int(fan_out)
        if math.prod(shape) and (fi <= 0 or fo <= 0):
            raise ValueError(f"{self.name}: fans must be positive, got fan_in={fi}, fan_out={fo} for shape {shape}")
        return self.draw.sample(shape, fi, fo, seed, stream, dt)

    def describe(self, fan_in: int | None = None, fan_out: int | None = None) -> dict:
        """Formula, source and parameters; with fans, the std of the values it produces."""
        out = {"name": self.name, "params": dict(self.params), "formula": self.draw.formula,
               "source": self.source}
        if fan_in is not None or fan_out is not None:
            fi = fan_in if fan_in is not None else fan_out
            fo = fan_out if fan_out is not None else fan_in
            out.update(fan_in=fi, fan_out=fo, std=self.draw.std(fi, fo))
        return out


@dataclass(frozen=True)
class _Scheme:
    name: str
    factory: Callable
    source: str
    aliases: tuple


_REGISTRY: dict[str, _Scheme] = {}
_ALIASES: dict[str, str] = {}        # normalized alias -> name
_EXACT_ALIASES: dict[str, str] = {}  # case-sensitive aliases (Keras class names)


def _normalize(name: str) -> str:
    return str(name).strip().lower().replace("-", "_").rstrip("_")


def register(name: str, *, aliases=(), exact_aliases=(), source: str = ""):
    """Decorator adding a scheme. The factory takes the scheme's parameters and returns a
    _Draw (or an Initializer for schemes with extra behaviour). User schemes may register too:

        @init.register("my_scaled", source="my notes")
        def my_scaled(scale=1.0):
            return init.normal_draw(lambda fan_in, fan_out: scale / fan_in, "N(0, scale/fan_in)")
    """
    def deco(factory):
        key = _normalize(name)
        if key in _REGISTRY or key in _ALIASES:
            raise ValueError(f"init scheme {name!r} is already registered")
        _REGISTRY[key] = _Scheme(key, factory, source, tuple(aliases) + tuple(exact_aliases))
        for a in aliases:
            _ALIASES[_normalize(a)] = key
        for a in exact_aliases:
            _EXACT_ALIASES[a] = key
        return factory
    return deco


def normal_draw(std_of: Callable[[int, int], float], formula: str, mean: float = 0.0) -> _Draw:
    """A N(mean, std_of(fan_in, fan_out)^2) draw, for user schemes."""
    return _normal(mean, std_of, formula)


def names() -> list[str]:
    """The registered scheme names (aliases not included)."""
    return sorted(_REGISTRY)


def _resolve(name) -> _Scheme:
    if not isinstance(name, str):
        raise TypeError(f"init scheme name must be a str, got {type(name).__name__}")
    key = _EXACT_ALIASES.get(name.strip()) or _normalize(name)
    key = _ALIASES.get(key, key)
    if key not in _REGISTRY:
        raise unknown("init scheme", name, names(), aliases=sorted(_ALIASES))
    return _REGISTRY[key]


def _parse_spec(spec: str) -> tuple[str, dict]:
    """"identity:gain=1.5,x=2" -> ("identity", {"gain": 1.5, "x": 2}) (command-line spelling)."""
    name, _, rest = spec.partition(":")
    params = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise ValueError(f"init spec {spec!r}: expected name:param=value,..., got {item!r}")
        try:
            params[key.strip()] = int(value) if value.strip().lstrip("-").isdigit() else float(value)
        except ValueError:
            params[key.strip()] = value.strip()
    return name, params


def module_of(name: str) -> str:
    """The module that registered the scheme `name` names ("fastinit.init" for the built-in
    ones): a worker process must import it to know the scheme."""
    return _resolve(_parse_spec(name)[0] if ":" in name else name).factory.__module__


def get(name: str | Initializer, **params) -> Initializer:
    """The Initializer for `name` (PyTorch and Keras spellings accepted) with `params` bound.
    `name` may carry parameters: "identity:gain=1.5" is get("identity", gain=1.5)."""
    if isinstance(name, Initializer):
        if params:
            raise ValueError("parameters cannot be rebound on an Initializer; pass its name")
        return name
    if isinstance(name, str) and ":" in name:
        name, spec_params = _parse_spec(name)
        params = {**spec_params, **params}
    scheme = _resolve(name)
    accepted = inspect.signature(scheme.factory).parameters
    extra = sorted(set(params) - set(accepted))
    if extra and not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        raise TypeError(f"init scheme {scheme.name!r} takes {', '.join(accepted) or 'no parameters'}; "
                        f"got {', '.join(extra)}")
    try:
        made = scheme.factory(**params)
    except TypeError as e:
        raise TypeError(f"init scheme {scheme.name!r}: {e}") from None
    if isinstance(made, Initializer):
        return made
    return Initializer(scheme.name, dict(params), made, scheme.source)


def initialize(name: str | Initializer, shape, *, seed: int = 0, stream: int = 0, dtype=np.float32,
               fan_in: int | None = None, fan_out: int | None = None, **params) -> np.ndarray:
    """Draw a tensor of `shape` with scheme `name` (a weight is (fan_out, fan_in))."""
    return get(name, **params)(shape, seed=seed, stream=stream, dtype=dtype, fan_in=fan_in, fan_out=fan_out)


def _check_shape(shape) -> tuple:
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"shape must be a tuple of ints, got {shape!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"shape must not have negative sizes, got {shape}")
    return shape


# --------------------------------------------------------------------------- parameter checks

def _positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not value > 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
    return float(value)


def _finite(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def _fan(mode, fi, fo):
    return {"fan_in": fi, "fan_out": fo, "fan_avg": (fi + fo) / 2.0}[mode]


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


def _hadamard(m: int) -> np.ndarray:
    h = np.ones((1, 1))
    for _ in range(m):
        h = np.block([[h, h], [h, -h]])
    return h


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
        return (2.0 ** (-(m - 1) / 2) * _hadamard(m)[:out_, :in_]).astype(dt)
    return _Draw(sample, lambda fi, fo: None, "W = I (fan_out <= fan_in) or 2^(-(m-1)/2) H_m[:fan_out, :fan_in], m = ceil(log2 fan_out)")


@register("lsuv", source="Mishkin & Matas 2015, arXiv:1511.06422: orthonormal init, then scale each layer to unit output variance on a batch")
def lsuv_scheme():
    return Initializer("lsuv", {}, orthogonal(), _REGISTRY["lsuv"].source, needs_data=True)


# --------------------------------------------------------------------------- LSUV

def lsuv(model, X, *, tol: float = 0.1, max_iter: int = 10, center_bias: bool = False) -> list[int]:
    """Layer-sequential unit variance (Mishkin & Matas 2015), in place on `model`.

    Assumes the weights are orthonormal (MLP(init="lsuv") does that). Layer by layer, from the
    first, scales W so that the variance of the layer's pre-activation output on the batch X is
    1 within `tol` (at most `max_iter` rescalings); with center_bias, first sets the bias so that
    output has zero mean. Returns the rescalings used per layer. The last layer is included.
    """
    tol = _positive("tol", tol)
    if int(max_iter) < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter}")
    X = np.asarray(X)
    iterations = []
    for i, layer in enumerate(model.layers):
        used = 0
        if center_bias:
            layer.b = layer.b - model.trace(X).pre[i].mean(axis=0).astype(layer.b.dtype)
        for used in range(1, int(max_iter) + 2):
            var = float(model.trace(X).pre[i].var())
            if abs(var - 1.0) < tol:
                break
            if var == 0.0 or not math.isfinite(var) or used > max_iter:
                why = ("is constant on this batch (identical rows, or dead units before it)" if var == 0.0 else
                       f"has variance {var}" if not math.isfinite(var) else
                       f"has variance {var:.6g}, not within {tol:g} of 1, after {max_iter} rescalings")
                warnings.warn(f"LSUV: layer {i}'s pre-activation {why}; its weights stay as they are",
                              RuntimeWarning, stacklevel=2)
                break
            layer.W = (layer.W / math.sqrt(var)).astype(layer.W.dtype)
        iterations.append(used - 1)
    model.pending_init = None
    return iterations
