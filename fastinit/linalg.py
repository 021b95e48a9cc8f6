"""Matrix products on fastinit's own GEMM (csrc/gemm): `matmul`, and `gemm` with its fused
epilogue on arrays as stored (leading dimensions, alpha/beta, bias, activation)."""
from __future__ import annotations

import numpy as np

from fastinit import _core, _validate
from fastinit._validate import describe

__all__ = ["gemm", "matmul"]

_BIAS_KINDS = {_core.BIAS_NONE: "none", _core.BIAS_ROW: "row", _core.BIAS_COL: "column"}


def _operand(name: str, x, trans: bool) -> tuple[np.ndarray, bool]:
    """(matrix with contiguous rows, trans flag) for x, copying only when unavoidable."""
    a = _validate.float_array(name, x, ndim=2)
    if a.flags.c_contiguous or _validate.rows_contiguous(a):
        return a, trans
    if a.flags.f_contiguous:
        return a.T, not trans  # a transposed C-contiguous matrix: flip the flag, no copy
    return np.ascontiguousarray(a), trans


def matmul(a: np.ndarray, b: np.ndarray, *, trans_a: bool = False, trans_b: bool = False,
           out: np.ndarray | None = None) -> np.ndarray:
    """op(a) @ op(b) for 2-D float32 or float64 arrays of one dtype, op(x) = x.T if trans_x.

    Non-contiguous operands are handled (transposed views without a copy). `out`, if given,
    must be a C-contiguous writeable array of the result's shape and dtype that shares no
    memory with a or b. The GIL is released while the kernel runs.
    """
    if not trans_a and not trans_b:
        c = _core.product(a, b, out)  # None unless the common case, checked in C
        if c is not None:
            return c
    xa, ta = _operand("a", a, bool(trans_a))
    xb, tb = _operand("b", b, bool(trans_b))
    if xa.dtype != xb.dtype:
        raise TypeError(f"{describe('a', a)} and {describe('b', b)} must have the same dtype")
    m, k = (xa.shape[1], xa.shape[0]) if ta else xa.shape
    k2, n = (xb.shape[1], xb.shape[0]) if tb else xb.shape
    if k != k2:
        raise ValueError(f"inner dimensions differ: op(a) is {(m, k)} and op(b) is {(k2, n)} "
                         f"({describe('a', a)}, {describe('b', b)}, trans_a={trans_a}, trans_b={trans_b})")
    if out is None:
        xo = np.empty((m, n), xa.dtype)
    else:
        xo = _validate.contiguous_output("out", out, (m, n), xa.dtype)
        if _validate.overlaps(xo, xa) or _validate.overlaps(xo, xb):
            raise ValueError(f"{describe('out', xo)} overlaps an input; pass a separate array")
    _core.gemm(xa, xb, xo, ta, tb, 1.0, 0.0, None, _core.BIAS_NONE, 0, 0.0)
    return xo


def gemm(a: np.ndarray, b: np.ndarray, c: np.ndarray, trans_a: bool = False, trans_b: bool = False,
         alpha: float = 1.0, beta: float = 0.0, bias: np.ndarray | None = None, bias_kind: int = 0,
         act: int = 0, act_param: float = 0.0) -> None:
    """c = act(alpha * op(a) @ op(b) + beta * c + bias), in place, on arrays as stored.

    Rows may be padded (leading dimension = row stride); the last axis must be contiguous.
    bias_kind: BIAS_NONE (0), BIAS_ROW (1: one value per row of c) or BIAS_COL (2: one per
    column); act: an activation code (fastinit.activations.ACTIVATIONS).
    """
    xa = _validate.float_array("a", a, ndim=2)
    xb = _validate.float_array("b", b, ndim=2)
    xc = _validate.float_array("c", c, ndim=2, writeable=True)
    if not (xa.dtype == xb.dtype == xc.dtype):
        raise TypeError(f"{describe('a', a)}, {describe('b', b)} and {describe('c', c)} must share one dtype")
    m, n = xc.shape
    am, k = (xa.shape[1], xa.shape[0]) if trans_a else xa.shape
    bk, bn = (xb.shape[1], xb.shape[0]) if trans_b else xb.shape
    if am != m or bn != n or bk != k:
        raise ValueError(f"shapes do not chain: op(a) is ({am}, {k}), op(b) is ({bk}, {bn}), c is ({m}, {n})")
    for name, x in (("a", xa), ("b", xb), ("c", xc)):
        if not _validate.rows_contiguous(x):
            raise ValueError(f"{describe(name, x)} needs contiguous rows (strides {x.strides})")
    act = _validate.integer("act", act, low=0, high=len(_core.ACT_CODES) - 1)
    bias_kind = _validate.integer("bias_kind", bias_kind)
    if bias_kind not in _BIAS_KINDS:
        raise ValueError(f"bias_kind must be 0 (none), 1 (row) or 2 (column), got {bias_kind}")
    xbias = None
    if bias_kind:
        want = m if bias_kind == _core.BIAS_ROW else n
        xbias = _validate.float_array("bias", bias, ndim=1, dtype=xc.dtype)
        if xbias.shape != (want,) or not xbias.flags.c_contiguous:
            raise ValueError(f"{describe('bias', xbias)}: expected a contiguous ({want},) {xc.dtype} array")
    _core.gemm(xa, xb, xc, bool(trans_a), bool(trans_b), _validate.finite("alpha", alpha),
               _validate.finite("beta", beta), xbias, bias_kind, act, _validate.finite("act_param", act_param))
