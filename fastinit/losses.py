"""Losses paired with the MLP's output: value and gradient in one C pass, mean over the batch.

    softmax  -> "cross_entropy": logits (n, c), integer labels (n,)      (stable log-sum-exp)
    sigmoid  -> "bce":           logits (n, c), targets (n, c) in [0, 1] (BCE on logits)
    identity -> "mse":           outputs (n, c), targets (n, c)          (mean over all n*c, as torch)
"""
from __future__ import annotations

import numpy as np

from fastinit import _core

__all__ = ["LOSSES", "OUTPUTS", "bce_with_logits", "cross_entropy", "mse", "probabilities"]


def _grad_buffer(z, with_grad):
    return np.empty_like(z) if with_grad else None


def cross_entropy(logits, labels, *, grad=True):
    """(mean softmax cross-entropy, d loss / d logits or None). labels: int64 (n,)."""
    g = _grad_buffer(logits, grad)
    return _core._loss(0, logits, labels, g), g


def bce_with_logits(logits, targets, *, grad=True):
    """(mean binary cross-entropy of sigmoid(logits) vs targets, gradient or None)."""
    g = _grad_buffer(logits, grad)
    return _core._loss(1, logits, targets, g), g


def mse(outputs, targets, *, grad=True):
    """(mean squared error over all elements, gradient or None)."""
    g = _grad_buffer(outputs, grad)
    return _core._loss(2, outputs, targets, g), g


LOSSES = {"cross_entropy": cross_entropy, "bce": bce_with_logits, "mse": mse}
#: output nonlinearity -> (loss name, C loss code)
OUTPUTS = {"softmax": ("cross_entropy", 0), "sigmoid": ("bce", 1), "identity": ("mse", 2)}


def probabilities(output, logits):
    """softmax (row-wise, stable) or elementwise sigmoid of logits, in their dtype."""
    if output == "softmax":
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    p = np.empty_like(logits)
    _core._act_forward(logits, p, 6)
    return p
