"""Optimizers with torch.optim's exact semantics, applied in C inside MLP.train_step.

    SGD(lr, momentum=0, nesterov=False, weight_decay=0)      # torch.optim.SGD (dampening 0)
    Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)   # L2 added to the gradient
    AdamW(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)  # decoupled: p *= 1 - lr*wd

clip_norm (all): scale all gradients by min(1, clip_norm / (||g||_2 + 1e-6)) before the update,
as torch.nn.utils.clip_grad_norm_. One optimizer may drive several models; each gets its own
state (momentum buffers, moments, step count), created at its first step.
"""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from fastinit import _core, _validate

__all__ = ["SGD", "Adam", "AdamW", "Optimizer"]

_SGD, _ADAM, _ADAMW = (_core.OPTIM_CODES[k] for k in ("sgd", "adam", "adamw"))


def _number(name, value, *, low=0.0, low_inclusive=True, high=None):
    return _validate.real(name, value, low=low, low_open=not low_inclusive, high=high, high_open=True)


class Optimizer:
    """Base class: hyper-parameters in Python, per-model state in C-visible NumPy buffers."""

    _kind = _SGD
    _n_state = 0

    def __init__(self, lr: float, *, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, clip_norm: float | None = None) -> None:
        self._lr = _number("lr", lr, low=0.0, low_inclusive=False)
        self.momentum = _number("momentum", momentum)
        self.nesterov = bool(nesterov)
        self.weight_decay = _number("weight_decay", weight_decay)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_number("betas[0]", betas[0], high=1.0), _number("betas[1]", betas[1], high=1.0))
        self.eps = _number("eps", eps, low_inclusive=False)
        self.clip_norm = None if clip_norm is None else _number("clip_norm", clip_norm, low_inclusive=False)
        self._states = weakref.WeakKeyDictionary()
        self._frozen = True

    def __setattr__(self, name, value):
        # The C state of each model copies the hyper-parameters at its first step (and sizes
        # its buffers by them): a later change would be ignored, or read buffers never made.
        if getattr(self, "_frozen", False) and name != "lr" and not name.startswith("_"):
            raise AttributeError(f"{type(self).__name__}.{name} is fixed when the optimizer is made "
                                 f"(only lr may change); create a new optimizer instead")
        object.__setattr__(self, name, value)

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _number("lr", value, low=0.0, low_inclusive=False)
        for st in self._states.values():
            st[0].lr = self._lr

    def _state_for(self, model):
        """The C state of this optimizer for `model`, created (zeroed) on first use."""
        entry = self._states.get(model)
        if entry is None:
            params = model.parameters()
            s1 = [np.zeros_like(p) for p in params] if self._n_state >= 1 else []
            s2 = [np.zeros_like(p) for p in params] if self._n_state >= 2 else []
            st = _core._OptState(self._kind, self._lr, self.momentum, self.nesterov, self.weight_decay,
                                 self.betas[0], self.betas[1], self.eps, self.clip_norm or 0.0, s1, s2)
            entry = self._states[model] = (st, s1, s2)
        return entry[0]

    def steps(self, model: Any) -> int:
        """Updates this optimizer has applied to `model`."""
        entry = self._states.get(model)
        return 0 if entry is None else entry[0].step

    def state(self, model: Any) -> dict[str, list[np.ndarray]]:
        """Copies of the state buffers for `model` (momentum buffers / Adam moments)."""
        entry = self._states.get(model)
        return {} if entry is None else {"s1": [a.copy() for a in entry[1]], "s2": [a.copy() for a in entry[2]]}

    def _hyper(self):
        return {"lr": self._lr}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyper().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with classic or Nesterov momentum (torch.optim.SGD)."""

    def __init__(self, lr: float, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0, *,
                 clip_norm: float | None = None) -> None:
        super().__init__(lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay,
                         clip_norm=clip_norm)
        if self.nesterov and self.momentum <= 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self._n_state = 1 if self.momentum > 0 else 0

    def _hyper(self):
        return {"lr": self._lr, "momentum": self.momentum, "nesterov": self.nesterov,
                "weight_decay": self.weight_decay, "clip_norm": self.clip_norm}


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; weight_decay adds wd * p to the gradient."""

    _kind = _ADAM
    _n_state = 2

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, *, clip_norm: float | None = None) -> None:
        super().__init__(lr, betas=betas, eps=eps, weight_decay=weight_decay, clip_norm=clip_norm)

    def _hyper(self):
        return {"lr": self._lr, "betas": self.betas, "eps": self.eps,
                "weight_decay": self.weight_decay, "clip_norm": self.clip_norm}


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay p *= 1 - lr * wd."""

    _kind = _ADAMW

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01, *, clip_norm: float | None = None) -> None:
        super().__init__(lr, betas=betas, eps=eps, weight_decay=weight_decay, clip_norm=clip_norm)
