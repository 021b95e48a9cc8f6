"""The deeplearning.ai "Initialization" notebook's weights, drawn as the course draws them.

The course seeds NumPy's global Mersenne Twister once (np.random.seed(3)) and then calls
np.random.randn(n_l, n_{l-1}) layer by layer, so layer l's values depend on every earlier
layer's shape (the normal sampler consumes a variable number of uniforms). A per-tensor scheme
sees one shape only; this one therefore finishes through the Initializer.finish protocol, which
sees the whole model, and redraws every layer in order from one RandomState(seed) (explicit,
never NumPy's global one). It is the one scheme that does not draw from fastinit's Philox
generator: reproducing the course's numbers needs the course's generator.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from fastinit.init.registry import _REGISTRY, Initializer, _constant, register

#: kind -> (what the course calls it, the factor on N(0, 1) for a layer of fan_in n).
KINDS = {
    "zeros": ("initialize_parameters_zeros", lambda n: 0.0),
    "random": ("initialize_parameters_random", lambda n: 10.0),
    "he": ("initialize_parameters_he", lambda n: math.sqrt(2.0 / n)),
}


def course_weights(sizes, kind: str = "he", seed: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(W, b) per layer] in float64 as the course's initialize_parameters_<kind>(sizes) returns
    them after np.random.seed(seed): W_l = randn(n_l, n_{l-1}) * factor, b_l = 0 (zeros draws
    nothing)."""
    if kind not in KINDS:
        raise ValueError(f"course init: kind must be one of {sorted(KINDS)}, got {kind!r}")
    rs = np.random.RandomState(seed)
    factor = KINDS[kind][1]
    out = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        W = np.zeros((fan_out, fan_in)) if kind == "zeros" else rs.randn(fan_out, fan_in) * factor(fan_in)
        out.append((W, np.zeros(fan_out)))
    return out


def _finish(kind, model, X, y):
    """Every layer of `model` from course_weights(model.sizes, kind, model.seed)."""
    for layer, (W, b) in zip(model.layers, course_weights(model.sizes, kind, model.seed)):
        layer.W = W.astype(layer.W.dtype)
        layer.b = b.astype(layer.b.dtype)
    return {"kind": kind, "seed": model.seed, "generator": "numpy.random.RandomState"}


@register("course", source="deeplearning.ai, Improving Deep Neural Networks, week 1 'Initialization': "
                           "np.random.seed(seed), then randn(n_l, n_{l-1}) layer by layer (x sqrt(2/n_{l-1}) "
                           "for he, x 10 for random), zero biases")
def course(kind="he"):
    if kind not in KINDS:
        raise ValueError(f"course init: kind must be one of {sorted(KINDS)}, got {kind!r}")
    # Zeros until finished (MLP.finish_init; fit and the study do it on the first batch): the
    # draw needs every layer's shape, which only the model knows. The seed is the model's.
    return Initializer("course", {"kind": kind}, _constant(0.0), _REGISTRY["course"].source,
                       finish=functools.partial(_finish, kind))
