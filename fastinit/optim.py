"""Optimizers: hyperparameters and a step count; the update itself runs in C inside the
training step (csrc/fi_optim.c), with torch.optim's semantics. State (momentum buffers, Adam
moments) lives with the model it updates."""
from __future__ import annotations

import math

__all__ = ["SGD", "Adam", "AdamW", "Optimizer"]

_SGD, _ADAM, _ADAMW = 0, 1, 2


def _number(name, value, *, low=0.0, strict=False, high=None):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < low or (strict and value == low) or (high is not None and value >= high):
        bound = f"> {low}" if strict else f">= {low}"
        raise ValueError(f"{name} must be {bound}" + (f" and < {high}" if high is not None else "") + f", got {value}")
    return float(value)


class Optimizer:
    """Base: learning rate, weight decay, optional global gradient-norm clipping."""
    kind = _SGD
    needs_second_moment = False

    def __init__(self, lr, weight_decay=0.0, clip_norm=None):
        self.lr = _number("lr", lr, strict=True)
        self.weight_decay = _number("weight_decay", weight_decay)
        self.clip_norm = None if clip_norm is None else _number("clip_norm", clip_norm, strict=True)

    def _args(self):
        """(kind, lr, momentum, weight_decay, beta1, beta2, eps, nesterov) for the C step."""
        raise NotImplementedError

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if v is not None)
        return f"{type(self).__name__}({fields})"


class SGD(Optimizer):
    """torch.optim.SGD: p -= lr * d, d = g + wd p, with momentum buf = mu buf + d (buf = d on
    the first step) and d = buf, or d + mu buf with Nesterov."""

    def __init__(self, lr, momentum=0.0, nesterov=False, weight_decay=0.0, clip_norm=None):
        super().__init__(lr, weight_decay, clip_norm)
        self.momentum = _number("momentum", momentum, high=1.0)
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.nesterov = bool(nesterov)

    def _args(self):
        return (_SGD, self.lr, self.momentum, self.weight_decay, 0.0, 0.0, 0.0, self.nesterov)


class Adam(Optimizer):
    """torch.optim.Adam (weight_decay as an L2 term added to the gradient)."""
    kind = _ADAM
    needs_second_moment = True

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, clip_norm=None):
        super().__init__(lr, weight_decay, clip_norm)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_number("betas[0]", betas[0], high=1.0), _number("betas[1]", betas[1], high=1.0))
        self.eps = _number("eps", eps, strict=True)

    def _args(self):
        return (self.kind, self.lr, 0.0, self.weight_decay, self.betas[0], self.betas[1], self.eps, False)


class AdamW(Adam):
    """torch.optim.AdamW: decoupled weight decay p *= 1 - lr wd before the Adam step."""
    kind = _ADAMW

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, clip_norm=None):
        super().__init__(lr, betas, eps, weight_decay, clip_norm)
