"""PyTorch bridge: fastinit's schemes on torch modules, and fastinit models to and from torch.

    >>> import torch.nn as nn, fastinit.torch as ft
    >>> net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    >>> ft.init_(net, "he_normal", seed=3)        # the bits fastinit.MLP([784, 256, 10], seed=3) draws
    >>> ft.init_(net, "lsuv", X=batch)            # data-dependent schemes take a batch
    >>> seq = ft.to_torch(model); model2 = ft.from_torch(seq, output="softmax")

Layer i (the i-th nn.Linear in module order) draws its weight from stream 2*i and its bias
from stream 2*i + 1 of `seed`, with torch's (and fastinit's) fan convention: weight (fan_out,
fan_in). A fastinit model's output nonlinearity belongs to its loss, so to_torch returns logits:
train them with loss_for(model.output) (CrossEntropyLoss, BCEWithLogitsLoss or MSELoss).
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

try:
    import torch
    from torch import nn
except ImportError as _e:
    raise ImportError(f"fastinit.torch needs PyTorch: pip install torch; {_e}") from None

from fastinit import _validate
from fastinit import init as _init
from fastinit.nn import MLP

__all__ = ["from_torch", "init_", "loss_for", "to_torch"]

_NP = {torch.float32: np.float32, torch.float64: np.float64}
_TORCH = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def _linears(module: nn.Module) -> list[nn.Linear]:
    lins = [m for m in module.modules() if isinstance(m, nn.Linear)]
    for i, m in enumerate(lins):
        if isinstance(m.weight, nn.parameter.UninitializedParameter):
            raise ValueError(f"init_: Linear layer {i} ({m}) is lazy and not materialized yet: run one "
                             f"forward pass first")
    if not lins:
        raise ValueError(f"init_: {type(module).__name__} has no nn.Linear layer")
    return lins


def _as_numpy(X: Any) -> np.ndarray:
    if isinstance(X, torch.Tensor):
        return X.detach().cpu().numpy()
    return np.asarray(X)


@torch.no_grad()
def _copy(dst: torch.Tensor, src: np.ndarray) -> None:
    dst.copy_(torch.from_numpy(np.ascontiguousarray(src)).to(dst.device))


def init_(module: nn.Module, scheme: Any, *, seed: int = 0, bias_init: Any = None, X: Any = None,
          **params: Any) -> nn.Module:
    """Apply fastinit scheme `scheme` to every nn.Linear of `module` in place; returns `module`.

    For float32 and float64 layers the weights are bit for bit those fastinit.MLP(sizes,
    init=scheme, bias_init=bias_init, seed=seed) draws (other dtypes: drawn in float32, then
    cast); bias_init None, as in MLP, is the bias the scheme implies (torch_default's own), else zeros. scheme may be a list with one per Linear layer. params are the scheme's, e.g.
    init_(net, "he_normal", nonlinearity="tanh"), or, for a data-dependent scheme (lsuv), its
    finishing step's (tol, max_iter, center_bias); such a scheme needs a batch X (n, fan_in of
    the first Linear). A Linear/activation stack that fastinit.MLP can express runs fastinit's
    LSUV itself (fastinit's bits); any other module runs the same algorithm on module(X) in torch.
    """
    lins = _linears(module)
    schemes = list(scheme) if isinstance(scheme, list) else [scheme] * len(lins)
    if len(schemes) != len(lins):
        raise ValueError(f"init_: scheme has {len(schemes)} entries; the module has {len(lins)} Linear layers")
    needs_data = any(getattr(_init.get(s), "needs_data", False) for s in schemes)
    draw_params = {} if needs_data else params
    for i, (lin, s) in enumerate(zip(lins, schemes)):
        fo, fi = lin.weight.shape
        dt = _NP.get(lin.weight.dtype, np.float32)
        _copy(lin.weight, _init.initialize(s, (fo, fi), seed=seed, stream=2 * i, dtype=dt, **draw_params))
        if lin.bias is not None:
            bias = bias_init if bias_init is not None else _init.get(s).bias or "zeros"
            _copy(lin.bias, _init.initialize(bias, (fo,), seed=seed, stream=2 * i + 1, dtype=dt,
                                             fan_in=fi, fan_out=fo))
    if needs_data:
        if X is None:
            names = sorted({str(getattr(s, "name", s)) for s in schemes if getattr(_init.get(s), "needs_data", False)})
            raise ValueError(f"init_: scheme {', '.join(names)} needs a batch of data: pass X=")
        _lsuv(module, lins, _as_numpy(X), **params)
    return module


def _lsuv(module: nn.Module, lins: list[nn.Linear], X: np.ndarray, *, tol: float = 0.1, max_iter: int = 10,
          center_bias: bool = False) -> None:
    try:
        model = from_torch(module)
    except (TypeError, ValueError):
        model = None
    if model is not None:  # fastinit's own LSUV on the same weights: fastinit's bits
        _init.lsuv(model, X, tol=tol, max_iter=max_iter, center_bias=center_bias)
        for lin, layer in zip(lins, model.layers):
            _copy(lin.weight, layer.W)
            if lin.bias is not None:
                _copy(lin.bias, layer.b)
        return
    tol = _validate.positive("tol", tol)
    max_iter = _validate.integer("max_iter", max_iter, low=1)
    p = lins[0].weight
    x = torch.as_tensor(X, dtype=p.dtype, device=p.device)
    seen: dict[int, torch.Tensor] = {}
    for i, lin in enumerate(lins):
        hook = lin.register_forward_hook(lambda m, inp, out, i=i: seen.__setitem__(i, out.detach()))
        try:
            with torch.no_grad():
                if center_bias and lin.bias is not None:
                    module(x)
                    lin.bias -= seen[i].reshape(-1, seen[i].shape[-1]).mean(dim=0)
                for used in range(1, int(max_iter) + 2):
                    module(x)
                    var = float(seen[i].double().var(unbiased=False))
                    if abs(var - 1.0) < tol:
                        break
                    if var == 0.0 or not math.isfinite(var) or used > max_iter:
                        warnings.warn(f"LSUV: Linear layer {i}'s output has variance {var:.6g} on this batch "
                                      f"after {used - 1} rescalings; its weights stay as they are",
                                      RuntimeWarning, stacklevel=3)
                        break
                    lin.weight /= math.sqrt(var)
        finally:
            hook.remove()


# --------------------------------------------------------------------------- to / from torch

def _act_module(name: str, param: float) -> nn.Module:
    if name == "leaky_relu":
        return nn.LeakyReLU(param)
    if name == "elu":
        return nn.ELU(param)
    return {"identity": nn.Identity, "relu": nn.ReLU, "selu": nn.SELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
            "gelu": nn.GELU, "softplus": nn.Softplus, "softsign": nn.Softsign,
            "gelu_tanh": lambda: nn.GELU(approximate="tanh")}[name]()


def to_torch(model: MLP) -> nn.Sequential:
    """`model` as nn.Sequential(Linear, activation, ..., Linear) of its dtype, with copies of its
    weights: the same outputs (logits) as model.forward. Train it with loss_for(model.output)."""
    mods: list[nn.Module] = []
    dt = _TORCH[np.dtype(model.dtype)]
    for i, layer in enumerate(model.layers):
        lin = nn.Linear(layer.fan_in, layer.fan_out, dtype=dt)
        _copy(lin.weight, layer.W)
        _copy(lin.bias, layer.b)
        mods.append(lin)
        if i < len(model.layers) - 1:
            mods.append(_act_module(layer.activation, layer.act_param))
    return nn.Sequential(*mods)


def loss_for(output: str) -> nn.Module:
    """The torch loss of a fastinit output kind on logits: softmax -> CrossEntropyLoss, sigmoid ->
    BCEWithLogitsLoss, identity -> MSELoss (each a mean over the batch, as fastinit's)."""
    losses = {"softmax": nn.CrossEntropyLoss, "sigmoid": nn.BCEWithLogitsLoss, "identity": nn.MSELoss}
    if output not in losses:
        raise ValueError(f"output must be one of {sorted(losses)}, got {output!r}")
    return losses[output]()


def _activation_of(m: nn.Module, where: str) -> Any:
    """fastinit's spelling of a torch activation module, or a TypeError naming it."""
    if isinstance(m, nn.Identity):
        return "identity"
    if isinstance(m, nn.LeakyReLU):
        return ("leaky_relu", float(m.negative_slope))
    if isinstance(m, nn.ELU):
        return ("elu", float(m.alpha))
    if isinstance(m, nn.GELU):
        return {"none": "gelu", "tanh": "gelu_tanh"}[m.approximate]
    if isinstance(m, nn.Softplus):
        if m.beta != 1 or m.threshold != 20:
            raise TypeError(f"{where}: Softplus(beta={m.beta}, threshold={m.threshold}) has no fastinit "
                            f"equivalent (fastinit's softplus is beta=1, threshold=20)")
        return "softplus"
    simple = {nn.ReLU: "relu", nn.SELU: "selu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.Softsign: "softsign"}
    for cls, name in simple.items():
        if type(m) is cls:
            return name
    raise TypeError(f"{where}: {type(m).__name__} is neither nn.Linear nor an activation fastinit has "
                    f"(ReLU, LeakyReLU, ELU, SELU, Tanh, Sigmoid, GELU, Softplus, Softsign, Identity)")


def _flatten(module: nn.Module) -> list[nn.Module]:
    if isinstance(module, nn.Sequential):
        return [m for child in module for m in _flatten(child)]
    return [module]


def from_torch(module: nn.Module, output: str = "softmax") -> MLP:
    """A fastinit.MLP with the weights (copies) and activations of `module`: an nn.Linear, or an
    nn.Sequential (nested ones flattened) of Linear layers with at most one activation between
    two of them and none after the last (its nonlinearity is `output`'s: "softmax", "sigmoid"
    or "identity"). The weights' dtype (float32 or float64) is the model's; a Linear without a
    bias gets a zero one."""
    mods = _flatten(module)
    if not mods or not isinstance(mods[0], nn.Linear):
        raise TypeError(f"from_torch: expected an nn.Linear or an nn.Sequential starting with one, got "
                        f"{type(mods[0] if mods else module).__name__}")
    lins: list[nn.Linear] = []
    acts: list[Any] = []
    pending: Any = None
    for j, m in enumerate(mods):
        where = f"from_torch: module {j}"
        if isinstance(m, nn.Linear):
            if lins:
                acts.append("identity" if pending is None else pending)
            if lins and m.in_features != lins[-1].out_features:
                raise ValueError(f"{where}: Linear({m.in_features}, {m.out_features}) follows a layer with "
                                 f"{lins[-1].out_features} outputs")
            lins.append(m)
            pending = None
        else:
            act = _activation_of(m, where)
            if pending is not None:
                raise TypeError(f"{where}: two activations in a row ({pending!r}, then {act!r})")
            pending = act
    if pending is not None:
        raise TypeError(f"from_torch: the stack ends with {type(mods[-1]).__name__}; a fastinit model ends with "
                        f"a Linear layer whose nonlinearity is the loss's: drop it and pass output=")
    dts = {lin.weight.dtype for lin in lins}
    if len(dts) != 1 or next(iter(dts)) not in _NP:
        raise TypeError(f"from_torch: the Linear weights must all be float32 or all float64, got "
                        f"{sorted(str(d) for d in dts)}")
    sizes = [lins[0].in_features] + [lin.out_features for lin in lins]
    model = MLP(sizes, activation=acts, output=output, init="zeros", bias_init="zeros",
                dtype=_NP[next(iter(dts))])
    model.init = model.bias_init = "from_torch"
    with torch.no_grad():
        for layer, lin in zip(model.layers, lins):
            layer.W = lin.weight.detach().cpu().numpy()
            if lin.bias is not None:
                layer.b = lin.bias.detach().cpu().numpy()
    return model
