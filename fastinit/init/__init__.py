"""Weight-initialization schemes: a registry of names, formulas and sources.

Every random scheme draws from fastinit's counter-based generator (Philox4x32-10 in C): the
values depend only on (seed, stream, shape), never on thread count or call order. An MLP draws
layer i's weights from stream 2*i and its bias from stream 2*i + 1.

Formulas follow PyTorch (torch.nn.init) and Keras 3 / jax.nn.initializers where those define
them; docs/init.md tabulates where the two differ (Keras's normal schemes are truncated).
A scheme that needs data (LSUV) carries ``Initializer.finish``: MLP.finish_init(X, y) runs it.

    >>> from fastinit import init
    >>> W = init.initialize("he_normal", (256, 784), seed=0)        # W is (fan_out, fan_in)
    >>> init.get("xavier_uniform").describe(fan_in=784, fan_out=256)["std"]
"""
from fastinit.init.registry import (
    TRUNCATION_STD, Initializer, calculate_gain, compute_fans, get, initialize, module_of, names, normal_draw,
    register,
)
from fastinit.init import schemes  # noqa: F401  (registers the built-in schemes)
from fastinit.init.lsuv import lsuv
from fastinit.init import course  # noqa: F401  (registers the course's layer-by-layer draw)

__all__ = [
    "Initializer", "TRUNCATION_STD", "calculate_gain", "compute_fans", "get", "initialize", "lsuv", "module_of",
    "names", "normal_draw", "register",
]
