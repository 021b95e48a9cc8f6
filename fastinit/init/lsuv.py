"""LSUV, the data-dependent scheme (Mishkin & Matas 2015): an orthonormal draw, finished on a
batch by rescaling each layer to unit output variance (the Initializer.finish protocol)."""
from __future__ import annotations

import functools
import math
import warnings

from fastinit import _validate
from fastinit.init.registry import _REGISTRY, Initializer, register
from fastinit.init.schemes import orthogonal

# --------------------------------------------------------------------------- LSUV

def lsuv(model, X, *, tol: float = 0.1, max_iter: int = 10, center_bias: bool = False) -> list[int]:
    """Layer-sequential unit variance (Mishkin & Matas 2015), in place on `model`.

    Assumes the weights are orthonormal (MLP(init="lsuv") does that). Layer by layer, from the
    first, scales W so that the variance of the layer's pre-activation output on the batch X is
    1 within `tol` (at most `max_iter` rescalings); with center_bias, first sets the bias so that
    output has zero mean. Returns the rescalings used per layer. The last layer is included.
    """
    tol = _validate.positive("tol", tol)
    max_iter = _validate.integer("max_iter", max_iter, low=1)
    X = model.check_X(X)
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
    model._pending = None  # finished, also when called directly
    return iterations


def _finish(tol, max_iter, center_bias, model, X, y):
    return lsuv(model, X, tol=tol, max_iter=max_iter, center_bias=center_bias)


@register("lsuv", source="Mishkin & Matas 2015, arXiv:1511.06422: orthonormal init, then scale each layer to unit output variance on a batch")
def lsuv_scheme(tol=0.1, max_iter=10, center_bias=False):
    tol, max_iter = _validate.positive("tol", tol), _validate.integer("max_iter", max_iter, low=1)
    return Initializer("lsuv", {"tol": tol, "max_iter": max_iter, "center_bias": bool(center_bias)}, orthogonal(),
                       _REGISTRY["lsuv"].source, finish=functools.partial(_finish, tol, max_iter, bool(center_bias)))

