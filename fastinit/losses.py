"""Losses paired with the MLP's output: value and gradient in one C pass, mean over the batch.

    softmax  -> "cross_entropy": logits (n, c), integer labels (n,)      (stable log-sum-exp)
    sigmoid  -> "bce":           logits (n, c), targets (n, c) in [0, 1] (BCE on logits)
    identity -> "mse":           outputs (n, c), targets (n, c)          (mean over all n*c, as torch)
"""
from __future__ import annotations

import numpy as np

from fastinit import _core, _validate
from fastinit._validate import describe

__all__ = ["LOSSES", "OUTPUTS", "bce_with_logits", "cross_entropy", "loss", "mse", "probabilities"]

#: output nonlinearity -> (loss name, C loss code)
OUTPUTS = {"softmax": ("cross_entropy", _core.LOSS_CODES["cross_entropy"]),
           "sigmoid": ("bce", _core.LOSS_CODES["bce"]), "identity": ("mse", _core.LOSS_CODES["mse"])}


def check_y(kind: int, y, n: int, outputs: int, dtype: np.dtype, name: str = "y") -> np.ndarray:
    """y in the form loss `kind` takes (labels or targets), validated."""
    if kind == _core.LOSS_CODES["cross_entropy"]:
        return _validate.labels(name, y, n, outputs)
    return _validate.targets(name, y, n, outputs, dtype, unit_interval=kind == _core.LOSS_CODES["bce"])


def loss(kind: int, z: np.ndarray, y, dz: np.ndarray | None = None) -> float:
    """Mean loss of logits z (n, c) against y; gradient into dz when given. kind: a C loss
    code (LOSS_CODES): cross-entropy takes labels (n,) in [0, c), BCE and MSE (n, c) targets."""
    if kind not in _core.LOSS_CODES.values():
        raise ValueError(f"unknown loss kind {kind!r}; known: {_core.LOSS_CODES}")
    az = _validate.float_array("z", z, ndim=2)
    if az.shape[0] == 0 or az.shape[1] == 0 or not az.flags.c_contiguous:
        raise ValueError(f"{describe('z', z)}: expected a non-empty C-contiguous 2-D array")
    ay = check_y(kind, y, az.shape[0], az.shape[1], az.dtype)
    if dz is not None:
        dz = _validate.contiguous_output("dz", dz, az.shape, az.dtype)
    return _core.loss(kind, az, ay, dz)


def _with_grad(kind: int, z, y, grad: bool) -> tuple[float, np.ndarray | None]:
    g = np.empty_like(z) if grad else None
    return loss(kind, z, y, g), g


def cross_entropy(logits, labels, *, grad=True):
    """(mean softmax cross-entropy, d loss / d logits or None). labels: integers (n,)."""
    return _with_grad(_core.LOSS_CODES["cross_entropy"], logits, labels, grad)


def bce_with_logits(logits, targets, *, grad=True):
    """(mean binary cross-entropy of sigmoid(logits) vs targets, gradient or None)."""
    return _with_grad(_core.LOSS_CODES["bce"], logits, targets, grad)


def mse(outputs, targets, *, grad=True):
    """(mean squared error over all elements, gradient or None)."""
    return _with_grad(_core.LOSS_CODES["mse"], outputs, targets, grad)


LOSSES = {"cross_entropy": cross_entropy, "bce": bce_with_logits, "mse": mse}


def probabilities(output: str, logits: np.ndarray) -> np.ndarray:
    """softmax (row-wise, stable) or elementwise sigmoid of logits, in their dtype."""
    if output == "softmax":
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    p = np.empty_like(logits)
    _core.act_forward(logits.reshape(-1), p.reshape(-1), _core.ACT_CODES["sigmoid"], 0.0)
    return p
