"""The activations by name: their C codes (exported by csrc/fi_act.h through _core), default
parameters, and validated elementwise forward/backward over any C-contiguous float array."""
from __future__ import annotations

import numpy as np

from fastinit import _core, _validate
from fastinit._validate import describe

__all__ = ["ACTIVATIONS", "ACT_DEFAULT_PARAM", "backward", "exp", "forward", "needs_pre", "parse"]

#: Activation names and their C codes; "linear" is an alias of "identity".
ACTIVATIONS: dict[str, int] = {**_core.ACT_CODES, "linear": _core.ACT_CODES["identity"]}
#: Default parameter of the activations that take one (leaky_relu: slope, elu: alpha).
ACT_DEFAULT_PARAM = {"leaky_relu": 0.01, "elu": 1.0}


def parse(spec, where: str) -> tuple[str, float]:
    """(name, param) from "relu", ("leaky_relu", 0.2) or "leaky_relu:0.2" (the command line's
    spelling); `where` names the argument."""
    param = None
    if isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[0], str):
        spec, param = spec
    elif isinstance(spec, str) and ":" in spec:
        spec, text = spec.split(":", 1)
        try:
            param = float(text)
        except ValueError:
            raise ValueError(f"{where}: the parameter of {spec!r} must be a number, got {text!r}") from None
    if not isinstance(spec, str):
        raise TypeError(f"{where} must be an activation name or (name, param), got {spec!r}")
    name = spec.lower()
    if name not in ACTIVATIONS:
        raise ValueError(f"{where}: {_validate.unknown('activation', spec, ACTIVATIONS)}")
    if name == "linear":
        name = "identity"
    if param is None:
        return name, ACT_DEFAULT_PARAM.get(name, 0.0)
    if name not in ACT_DEFAULT_PARAM:
        raise ValueError(f"{where}: activation {name!r} takes no parameter, got {param!r}")
    return name, _validate.finite(f"{where}: the activation parameter", param)


def _code(act) -> int:
    if isinstance(act, str):
        return ACTIVATIONS[parse(act, "act")[0]]
    return _validate.integer("act", act, low=0, high=len(_core.ACT_CODES) - 1)


def _flat(name: str, x, *, like: np.ndarray | None = None, writeable: bool = False) -> np.ndarray:
    a = _validate.float_array(name, x, writeable=writeable)
    if not a.flags.c_contiguous:
        raise ValueError(f"{describe(name, x)} must be C-contiguous")
    if like is not None and (a.dtype != like.dtype or a.shape != like.shape):
        raise ValueError(f"{describe(name, x)}: expected shape {like.shape} and dtype {like.dtype}")
    return a.reshape(-1)


def forward(x: np.ndarray, y: np.ndarray, act, param: float = 0.0) -> None:
    """y = act(x) elementwise (y may be x), any shape, C-contiguous float32/float64."""
    code = _code(act)
    fx = _flat("x", x)
    _core.act_forward(fx, _flat("y", y, like=x, writeable=True), code, _validate.finite("param", param))


def backward(dy: np.ndarray, z: np.ndarray, y: np.ndarray, dz: np.ndarray, act, param: float = 0.0) -> None:
    """dz = dy * act'(z) with y = act(z) (dz may be dy); all of one shape and dtype."""
    code = _code(act)
    fdy = _flat("dy", dy)
    like = np.asarray(dy)
    _core.act_backward(fdy, _flat("z", z, like=like), _flat("y", y, like=like),
                       _flat("dz", dz, like=like, writeable=True), code, _validate.finite("param", param))


def exp(x: np.ndarray, y: np.ndarray) -> None:
    """y = exp(x) elementwise with the kernel the softmax loss uses (y may be x)."""
    _core.exp(_flat("x", x), _flat("y", y, like=x, writeable=True))


def needs_pre(act) -> bool:
    """Whether the backward of activation `act` (name or code) reads the pre-activation."""
    return _core.act_needs_pre(_code(act))
