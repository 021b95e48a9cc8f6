"""Output layers and their losses: the pairing a model's `output` names, and the checks that
turn user targets into what the C loss reads (csrc/fi_loss.c).

| output    | loss                                  | targets                          |
|-----------|---------------------------------------|----------------------------------|
| softmax   | cross-entropy, mean over the batch    | class ids in [0, classes)        |
| sigmoid   | binary cross-entropy on the logits    | 0/1 (or probabilities), (n,) or (n, outputs) |
| identity  | mean squared error over all elements  | values, (n,) or (n, outputs)     |
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["OUTPUTS", "Output", "get_output"]


@dataclass(frozen=True)
class Output:
    name: str
    loss: str
    kind: int  # fi_loss_t

    def targets(self, y, n: int, outputs: int, dtype) -> np.ndarray:
        """y checked and converted for the C loss: int64 (n,) labels or dtype (n, outputs)."""
        if isinstance(y, (list, tuple)):
            y = np.asarray(y)
        if not isinstance(y, np.ndarray):
            raise TypeError(f"y must be a numpy array or a list, got {type(y).__name__}")
        if y.shape[:1] != (n,):
            raise ValueError(f"y (shape {y.shape}, dtype {y.dtype}) must have one entry per row of X ({n})")
        if y.dtype.kind not in "biuf":
            raise TypeError(f"y (shape {y.shape}, dtype {y.dtype}): expected integer or float values")
        if self.kind == 0:
            if y.ndim != 1:
                raise ValueError(f"y (shape {y.shape}) must be 1-D class ids for a softmax output")
            if y.dtype.kind == "f":
                if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
                    raise ValueError(f"y (dtype {y.dtype}) holds non-integer class ids")
            labels = y.astype(np.int64)
            if n and (labels.min() < 0 or labels.max() >= outputs):
                raise ValueError(f"y holds labels in [{labels.min()}, {labels.max()}], outside [0, {outputs})")
            return np.ascontiguousarray(labels)
        t = np.asarray(y, dtype=dtype).reshape(n, -1)
        if t.shape[1] != outputs:
            raise ValueError(f"y (shape {y.shape}) must have {outputs} value(s) per row")
        if not np.all(np.isfinite(t)):
            raise ValueError("y holds NaN or infinite values")
        if self.kind == 1 and (t.min() < 0 or t.max() > 1):
            raise ValueError(f"y must lie in [0, 1] for a sigmoid output, got [{t.min()}, {t.max()}]")
        return np.ascontiguousarray(t)


OUTPUTS = {
    "softmax": Output("softmax", "cross_entropy", 0),
    "sigmoid": Output("sigmoid", "binary_cross_entropy", 1),
    "identity": Output("identity", "mse", 2),
}


def get_output(name) -> Output:
    key = {"linear": "identity", "none": "identity"}.get(str(name).lower(), str(name).lower())
    if key not in OUTPUTS:
        raise ValueError(f"unknown output {name!r}; choose one of: {', '.join(OUTPUTS)}")
    return OUTPUTS[key]
