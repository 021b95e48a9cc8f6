"""fastinit's random numbers: Philox4x32-10 (counter-based, in C). Element i of a fill depends
only on (seed, stream, i): never on thread count, call order or array size."""
from __future__ import annotations

import numpy as np

from fastinit import _core, _validate
from fastinit._validate import describe

__all__ = ["block", "fill"]


def block(seed: int, stream: int, index: int) -> list[int]:
    """The four raw 32-bit words of one Philox4x32-10 block (for pinned-value tests)."""
    return _core.rng_block(_validate.seed("seed", seed), _validate.seed("stream", stream),
                           _validate.seed("block", index))


def fill(out: np.ndarray, dist: str, seed: int, stream: int = 0, p0: float = 0.0, p1: float = 1.0,
         p2: float = 0.0, p3: float = 0.0) -> np.ndarray:
    """Fill `out` (C-contiguous float32/float64) in place and return it: dist "uniform"
    (low=p0, high=p1), "normal" (mean=p0, std=p1) or "truncnormal" (mean=p0, std=p1, bounds
    [p2, p3])."""
    a = _validate.float_array("out", out, writeable=True)
    if not a.flags.c_contiguous:
        raise ValueError(f"{describe('out', out)} must be C-contiguous and writeable")
    if dist not in _core.RNG_KINDS:
        raise ValueError(f"dist must be 'uniform', 'normal' or 'truncnormal', got {dist!r}")
    s, st = _validate.seed("seed", seed), _validate.seed("stream", stream)
    p0, p1, p2, p3 = (_validate.finite(n, v) for n, v in (("p0", p0), ("p1", p1), ("p2", p2), ("p3", p3)))
    if dist == "uniform":
        if not p0 <= p1 or not np.isfinite(p1 - p0):
            raise ValueError(f"uniform needs low <= high with a finite width, got low={p0}, high={p1}")
    elif not p1 > 0:
        raise ValueError(f"std must be > 0, got {p1}")
    if dist == "truncnormal" and not p2 < p3:
        raise ValueError(f"truncation bounds need a < b, got a={p2}, b={p3}")
    _core.rng_fill(a.reshape(-1), _core.RNG_KINDS[dist], s, st, p0, p1, p2, p3)
    return out
