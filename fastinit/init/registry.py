"""The init-scheme registry: fans and gains, the distributions schemes draw from, Initializer,
register/get/names. The schemes themselves are in schemes.py and lsuv.py."""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from fastinit import _validate, theory
from fastinit import rng as _rng
from fastinit._validate import unknown

# Keras's truncated normal keeps +-2 sigma; this is the std of N(0, 1) truncated there, which
# Keras divides out so the truncated values have the requested variance.
TRUNCATION_STD = 0.87962566103423978


# --------------------------------------------------------------------------- fans and gains

def compute_fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of `shape`, PyTorch layout: (out, in, *receptive_field).

    As torch and Keras compute them: for >2-D shapes the receptive field size multiplies both.
    A 1-D shape (a bias) has fan_in = fan_out = its length; a scalar has 1 and 1.
    """
    shape = _check_shape(shape)
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


_GAIN_METHODS = ("torch", "moment", "critical")
_AS_IDENTITY = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d"}


def calculate_gain(nonlinearity: str, param: float | None = None, method: str = "torch", *,
                   sigma_b2: float | None = None) -> float:
    """The recommended gain (weight std times sqrt(fan_in)) for a nonlinearity.

    method="torch": PyTorch's table (torch.nn.init.calculate_gain), for parity: linear/conv/
        sigmoid 1, tanh 5/3, relu sqrt(2), leaky_relu sqrt(2 / (1 + slope^2)) with slope `param`
        (default 0.01), selu 3/4 (LeCun normal, gain 1, is what self-normalizing networks need;
        see Klambauer et al. 2017). Other activations raise, as torch does.
    method="moment": 1 / sqrt(E[phi(z)^2]), z ~ N(0, 1): a layer fed unit-variance
        pre-activations hands on unit variance (relu sqrt(2), tanh 1.5925, selu 1), by quadrature
        through fastinit's own activation (fastinit.theory.second_moment).
    method="critical": sqrt(theory.critical_sigma_w2(phi, sigma_b2, asymptotic=True)), the
        sigma_w that puts the net on the edge of chaos chi_1 = 1 for bias variance sigma_b2
        (default 0), for unit-variance inputs. Where chi_1 reaches 1 only as q* -> inf (gelu,
        gelu_tanh, silu, softplus: relu at large q) that limit is relu's line: sqrt(2).
    param: the activation's parameter (leaky_relu slope, elu alpha); for the other activations
    with method="critical" it may give sigma_b2 instead of the keyword.
    """
    name = str(nonlinearity).lower()
    if method not in _GAIN_METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, _GAIN_METHODS))}; got {method!r}")
    if name == "leaky_relu" or (name == "elu" and method != "torch"):
        default = 0.01 if name == "leaky_relu" else 1.0
        slope = default if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"{'negative_slope' if name == 'leaky_relu' else 'alpha'} {slope!r} is not a valid number")
        slope = _validate.finite("negative_slope" if name == "leaky_relu" else "alpha", slope)
        if method == "torch":
            if abs(slope) > 1e150:  # slope**2 overflows: the gain would be 0
                raise ValueError(f"negative_slope must be a finite number of magnitude <= 1e150, got {slope!r}")
            return math.sqrt(2.0 / (1 + slope**2))
        spec = (name, float(slope))
    elif method == "torch":
        if name in _GAINS:
            return _GAINS[name]
        raise ValueError(f"unsupported nonlinearity {nonlinearity!r} for method='torch' (PyTorch's "
                         f"table has: {', '.join(sorted(_GAINS) + ['leaky_relu'])}); "
                         f"method='moment' or 'critical' answer for every activation")
    else:
        spec = "identity" if name in _AS_IDENTITY else name
        if method == "critical" and param is not None:
            if sigma_b2 is not None:
                raise ValueError(f"{name} takes no parameter: give sigma_b2 once, got param={param!r} "
                                 f"and sigma_b2={sigma_b2!r}")
            sigma_b2, param = param, None
        elif param is not None:
            raise ValueError(f"nonlinearity {name!r} takes no parameter, got {param!r}")
    if method == "moment":
        if sigma_b2 is not None:
            raise ValueError("sigma_b2 applies to method='critical' only")
        return 1.0 / math.sqrt(theory.second_moment(spec))
    return math.sqrt(theory.critical_sigma_w2(spec, 0.0 if sigma_b2 is None else sigma_b2, asymptotic=True))


# --------------------------------------------------------------------------- distributions

def _fill(dist, shape, seed, stream, dtype, *params):
    out = np.empty(shape, dtype)
    _rng.fill(out.reshape(-1), dist, seed, stream, *params)
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
    #: For a scheme that needs data (LSUV): finish(model, X, y) completes the model's init on a
    #: validated batch (y may be None) and returns a report. MLP.finish_init calls it; fit and
    #: the study call that on their first batch.
    finish: Callable[[Any, np.ndarray, np.ndarray | None], Any] | None = field(default=None, repr=False)
    doc: str = field(default="", repr=False)

    @property
    def needs_data(self) -> bool:
        return self.finish is not None

    def __call__(self, shape, *, seed: int = 0, stream: int = 0, dtype=np.float32,
                 fan_in: int | None = None, fan_out: int | None = None) -> np.ndarray:
        """Draw a tensor of `shape`. fan_in/fan_out override the fans computed from the shape
        (a bias drawn with its layer's fan_in, as torch.nn.Linear does)."""
        shape = _check_shape(shape)
        dt = _validate.float_dtype("dtype", dtype)
        fi, fo = compute_fans(shape)
        fi = fi if fan_in is None else _validate.integer("fan_in", fan_in, low=1)
        fo = fo if fan_out is None else _validate.integer("fan_out", fan_out, low=1)
        if math.prod(shape) and (fi <= 0 or fo <= 0):
            raise ValueError(f"{self.name}: fans must be positive, got fan_in={fi}, fan_out={fo} for shape {shape}")
        if not math.prod(shape):  # nothing to draw (and a fan of 0 would divide by zero)
            _validate.seed("seed", seed), _validate.seed("stream", stream)
            return np.zeros(shape, dt)
        return _checked_draw(self, shape, fi, fo, seed, stream, dt)

    def describe(self, fan_in: int | None = None, fan_out: int | None = None) -> dict:
        """Formula, source and parameters; with fans, the std of the values it produces."""
        out = {"name": self.name, "params": dict(self.params), "formula": self.draw.formula,
               "source": self.source}
        if fan_in is not None or fan_out is not None:
            fi = fan_in if fan_in is not None else fan_out
            fo = fan_out if fan_out is not None else fan_in
            fi, fo = _validate.integer("fan_in", fi, low=1), _validate.integer("fan_out", fo, low=1)
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
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        shape = (int(shape),)
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise TypeError(f"shape must be a tuple of ints, got {shape!r}")
    shape = tuple(shape)
    for i, s in enumerate(shape):  # 2.5 or np.float32(2.5) was truncated to 2
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"shape must be a tuple of ints, got {shape!r} (shape[{i}] is {type(s).__name__})")
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"shape must not have negative sizes, got {shape}")
    return shape


def _checked_draw(ini: "Initializer", shape: tuple, fi: int, fo: int, seed, stream, dt: np.dtype) -> np.ndarray:
    """ini's draw, checked: an ndarray of the shape and dtype asked for (a user scheme may
    return anything), every value finite (a std, gain or bound past the dtype's range gave
    inf or NaN weights)."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = ini.draw.sample(shape, fi, fo, seed, stream, dt)
    if not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != dt:
        got = _validate.describe("it", out)
        raise TypeError(f"init scheme {ini.name!r} returned {got}; expected an ndarray of shape {shape}, "
                        f"dtype {dt.name}")
    if not _validate.all_finite(out):
        params = ", ".join(f"{k}={v!r}" for k, v in ini.params.items())
        raise ValueError(f"init scheme {ini.name!r}{f' ({params})' if params else ''} drew NaN or inf for shape "
                         f"{shape} in {dt.name}: its scale (std, gain, bounds) is past {dt.name}'s range")
    return out


# --------------------------------------------------------------------------- parameter checks

def _positive(name, value):
    return _validate.positive(name, value)


def _finite(name, value):
    return _validate.finite(name, value)


def _choice(name, value, choices):
    return _validate.choice(name, value, choices)


def _fan(mode, fi, fo):
    return {"fan_in": fi, "fan_out": fo, "fan_avg": (fi + fo) / 2.0}[mode]


