"""Per-layer tensors of one forward (and backward) pass, for the diagnostics: computed in
NumPy arrays through fastinit's own GEMM and activation kernels, apart from the C training
step, so that every intermediate is kept."""
from __future__ import annotations

import numpy as np

from fastinit import _core
from fastinit.activations import ACTIVATIONS
from fastinit.linalg import matmul

__all__ = ["Trace", "trace"]


class Trace:
    """pre[i] = Z_i (n, fan_out), post[i] = A_i = act(Z_i) (the last layer's post is the logits);
    with y: loss, grad_pre[i] = dL/dZ_i, grad_W[i], grad_b[i], grad_input[i] = dL/d(input of
    layer i) (n, fan_in)."""

    def __init__(self) -> None:
        self.pre: list[np.ndarray] = []
        self.post: list[np.ndarray] = []
        self.loss: float | None = None
        self.grad_W: list[np.ndarray] = []
        self.grad_b: list[np.ndarray] = []
        self.grad_pre: list[np.ndarray] = []
        self.grad_input: list[np.ndarray] = []

    def __repr__(self) -> str:
        return (f"Trace(layers={len(self.pre)}, "
                f"loss={'None' if self.loss is None else format(self.loss, '.6g')})")


def trace(model, X: np.ndarray, y: np.ndarray | None = None) -> Trace:
    """The Trace of `model` on validated X (and y in the model's loss form, if given)."""
    t = Trace()
    a = X
    for layer in model.layers:
        z = matmul(a, layer.W, trans_b=True)
        z += layer.b
        h = np.empty_like(z)
        _core.act_forward(z.reshape(-1), h.reshape(-1), ACTIVATIONS[layer.activation], layer.act_param)
        t.pre.append(z)
        t.post.append(h)
        a = h
    if y is None:
        return t
    g = np.empty_like(a)
    t.loss = _core.loss(model._loss_kind, a, y, g)
    n = len(model.layers)
    t.grad_W, t.grad_b = [None] * n, [None] * n
    t.grad_pre, t.grad_input = [None] * n, [None] * n
    for i in range(n - 1, -1, -1):
        layer = model.layers[i]
        dz = np.empty_like(g)
        _core.act_backward(g.reshape(-1), t.pre[i].reshape(-1), t.post[i].reshape(-1), dz.reshape(-1),
                           ACTIVATIONS[layer.activation], layer.act_param)
        inp = t.post[i - 1] if i else X
        t.grad_pre[i] = dz
        t.grad_W[i] = matmul(dz, inp, trans_a=True)
        t.grad_b[i] = dz.sum(axis=0, dtype=np.float64).astype(model.dtype)
        t.grad_input[i] = g = matmul(dz, layer.W)
    return t
