"""Dense layers and the MLP: parameters are NumPy arrays, every pass runs in C.

    >>> import fastinit
    >>> model = fastinit.MLP([784, 256, 256, 10], activation="relu", init="he_normal", seed=0)
    >>> loss = model.train_step(X, y, fastinit.optim.SGD(lr=0.1))

A weight W has shape (fan_out, fan_in) as in PyTorch, so a layer computes act(X @ W.T + b).
Inputs X are (batch, features); integer X is converted to the model's dtype.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fastinit import _core
from fastinit import init as _init
from fastinit.losses import get_output

__all__ = ["ACTIVATIONS", "Dense", "MLP", "Trace", "load"]

# name -> (fi_act_t, default parameter)
ACTIVATIONS = {
    "identity": (0, 0.0), "relu": (1, 0.0), "leaky_relu": (2, 0.01), "elu": (3, 1.0), "selu": (4, 0.0),
    "tanh": (5, 0.0), "sigmoid": (6, 0.0), "gelu": (7, 0.0), "gelu_tanh": (8, 0.0), "softplus": (9, 0.0),
    "softsign": (10, 0.0),
}
_ACT_ALIASES = {"linear": "identity", "none": "identity", "leakyrelu": "leaky_relu", "logistic": "sigmoid"}
_FORMAT = "fastinit-mlp-1"


def _activation(name):
    key = _ACT_ALIASES.get(str(name).lower(), str(name).lower())
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}")
    return key


class Dense:
    """One layer: act(X @ W.T + b). W and b are assigned in place (shape and dtype checked),
    so the C engine's view of them stays valid."""

    def __init__(self, W: np.ndarray, b: np.ndarray, activation: str, activation_param: float):
        self._W, self._b = W, b
        self.activation = activation
        self.activation_param = activation_param

    @property
    def W(self) -> np.ndarray:
        return self._W

    @W.setter
    def W(self, value):
        self._assign(self._W, value, "W")

    @property
    def b(self) -> np.ndarray:
        return self._b

    @b.setter
    def b(self, value):
        self._assign(self._b, value, "b")

    @staticmethod
    def _assign(dst, value, name):
        value = np.asarray(value)
        if value.shape != dst.shape:
            raise ValueError(f"{name} must have shape {dst.shape}, got {value.shape} (dtype {value.dtype})")
        if value.dtype.kind not in "fiu" or value.dtype == np.float16:
            raise TypeError(f"{name} must be float32/float64 (or int) values, got dtype {value.dtype}")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} holds NaN or infinite values")
        dst[...] = value

    @property
    def fan_in(self) -> int:
        return self._W.shape[1]

    @property
    def fan_out(self) -> int:
        return self._W.shape[0]

    def __repr__(self):
        return f"Dense({self.fan_in} -> {self.fan_out}, {self.activation}, {self._W.dtype})"


@dataclass
class Trace:
    """Per-layer values of one pass over a batch: pre[i] = Z_i, post[i] = A_i = act(Z_i), and
    with targets the loss and gradients: grad_W[i], grad_b[i], grad_pre[i] = dL/dZ_i and
    grad_input[i] = dL/d(input of layer i)."""
    pre: list = field(default_factory=list)
    post: list = field(default_factory=list)
    loss: float | None = None
    grad_W: list = field(default_factory=list)
    grad_b: list = field(default_factory=list)
    grad_pre: list = field(default_factory=list)
    grad_input: list = field(default_factory=list)


class MLP:
    """A multilayer perceptron with `sizes` = [inputs, hidden..., outputs].

    activation and init may be one name or one per layer (the output layer is always linear:
    its logits feed the loss `output` names: softmax + cross-entropy, sigmoid + binary
    cross-entropy, identity + mean squared error). bias_init=None takes the bias the scheme
    implies (torch_default: U(+-1/sqrt(fan_in)); otherwise zeros). Layer i draws W from stream
    2i and b from stream 2i+1 of `seed`, so weights never depend on other layers or threads.
    init="lsuv" initializes orthogonally and leaves model.pending_init = "lsuv" for
    fastinit.init.lsuv(model, X) (fit() runs it on the first batch).
    """

    def __init__(self, sizes, activation="relu", output="softmax", init="he_normal", bias_init=None,
                 seed=0, dtype=np.float32):
        sizes = list(sizes) if not isinstance(sizes, (str, bytes)) else None
        if not sizes or len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
            raise ValueError(f"sizes must list at least two positive ints (inputs, ..., outputs), got {sizes!r}")
        self.sizes = [int(s) for s in sizes]
        L = len(self.sizes) - 1
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {self.dtype}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
            raise ValueError(f"seed must be an int in [0, 2**64), got {seed!r}")
        self.seed = int(seed)
        self.output = get_output(output)
        acts = self._per_layer(activation, L - 1, "activation") if L > 1 else []
        self.activations = [_activation(a) for a in acts] + ["identity"]
        inits = self._per_layer(init, L, "init")
        self.inits = [_init.get(i) for i in inits]
        self.pending_init = "lsuv" if any(i.needs_data for i in self.inits) else None
        self.layers = []
        for i in range(L):
            fan_in, fan_out = self.sizes[i], self.sizes[i + 1]
            ini = self.inits[i]
            W = np.ascontiguousarray(ini((fan_out, fan_in), seed=self.seed, stream=2 * i, dtype=self.dtype))
            b_scheme = bias_init if bias_init is not None else (ini.bias or "zeros")
            b = np.ascontiguousarray(_init.get(b_scheme)((fan_out,), seed=self.seed, stream=2 * i + 1,
                                                         dtype=self.dtype, fan_in=fan_in, fan_out=fan_out))
            name = self.activations[i]
            self.layers.append(Dense(W, b, name, ACTIVATIONS[name][1]))
        self.init_names = [i.name for i in self.inits]
        self.bias_init = bias_init
        self._nets = {}
        self._opt = None  # (optimizer, step, state lists)

    @staticmethod
    def _per_layer(value, n, name):
        if isinstance(value, (list, tuple)):
            if len(value) != n:
                raise ValueError(f"{name} lists {len(value)} values for {n} layers")
            return list(value)
        return [value] * n

    # ------------------------------------------------------------------ bookkeeping

    def parameters(self) -> list[np.ndarray]:
        """[W0, b0, W1, b1, ...]: the live arrays."""
        return [p for layer in self.layers for p in (layer.W, layer.b)]

    @property
    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    @property
    def num_classes(self) -> int:
        return self.sizes[-1]

    def __repr__(self):
        inits = self.init_names[0] if len(set(self.init_names)) == 1 else self.init_names
        hidden = self.activations[0] if len(self.activations) > 1 else "-"
        return (f"MLP({self.sizes}, activation={hidden!r}, output={self.output.name!r}, init={inits!r}, "
                f"dtype={self.dtype.name}, parameters={self.num_parameters:,})")

    def _net(self, n: int, keep_z: bool = False):
        """The C workspace for batches of n rows (built once per batch size)."""
        key = (n, keep_z)
        net = self._nets.get(key)
        if net is None:
            net = _core._Net([l.W for l in self.layers], [l.b for l in self.layers],
                             [ACTIVATIONS[l.activation][0] for l in self.layers],
                             [l.activation_param for l in self.layers], self.output.kind, n, keep_z)
            self._nets[key] = net
        return net

    # ------------------------------------------------------------------ input checks

    def _check_X(self, X) -> np.ndarray:
        """X as a C-contiguous (n, inputs) array of the model's dtype; ints are converted."""
        if isinstance(X, (list, tuple)):
            X = np.asarray(X)
        if not isinstance(X, np.ndarray):
            raise TypeError(f"X must be a numpy array, got {type(X).__name__}")
        if X.dtype.kind not in "biuf" or X.dtype == np.float16:
            raise TypeError(f"X (shape {X.shape}, dtype {X.dtype}): expected float32/float64 (ints are converted)")
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"X (shape {X.shape}, dtype {X.dtype}) must be (n, {self.sizes[0]})")
        if X.shape[0] == 0:
            raise ValueError(f"X (shape {X.shape}) is empty")
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if not np.isfinite(X).all():
            raise ValueError(f"X (shape {X.shape}, dtype {X.dtype}) holds NaN or infinite values")
        return X

    def _check_y(self, y, n):
        return self.output.targets(y, n, self.sizes[-1], self.dtype)

    # ------------------------------------------------------------------ passes

    def forward(self, X) -> np.ndarray:
        """Logits (n, outputs), a new array."""
        X = self._check_X(X)
        return self._net(X.shape[0]).forward(X).copy()

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (softmax or sigmoid of the logits); for identity, the outputs."""
        z = self.forward(X).astype(np.float64)
        if self.output.kind == 0:
            z = np.exp(z - z.max(axis=1, keepdims=True))
            return (z / z.sum(axis=1, keepdims=True)).astype(self.dtype)
        if self.output.kind == 1:
            return (0.5 * (1 + np.tanh(0.5 * z))).astype(self.dtype)
        return z.astype(self.dtype)

    def predict(self, X) -> np.ndarray:
        """Labels (softmax: argmax; sigmoid: probability > 0.5) or values (identity)."""
        z = self.forward(X)
        if self.output.kind == 0:
            return z.argmax(axis=1)
        if self.output.kind == 1:
            labels = (z > 0).astype(np.int64)
            return labels[:, 0] if labels.shape[1] == 1 else labels
        return z

    def loss(self, X, y) -> float:
        """Mean loss on (X, y)."""
        X = self._check_X(X)
        return float(self._net(X.shape[0]).grad(X, self._check_y(y, X.shape[0])))

    def gradients(self, X, y) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(dW, db), ...] of the mean loss, new arrays."""
        X = self._check_X(X)
        net = self._net(X.shape[0])
        net.grad(X, self._check_y(y, X.shape[0]))
        return [(dW.copy(), db.copy()) for dW, db in zip(net.dW, net.db)]

    def train_step(self, X, y, optimizer) -> float:
        """One optimizer step on the batch (X, y), in one call into C; returns its loss."""
        X = self._check_X(X)
        return self._step(X, self._check_y(y, X.shape[0]), optimizer)

    def _step(self, X, target, optimizer) -> float:
        """train_step on already-checked arrays (the fit loop's path)."""
        net = self._net(X.shape[0])
        state = self._optimizer_state(optimizer)
        if net not in state["nets"]:
            net.set_state(*state["buffers"])
            state["nets"].add(net)
        state["step"] += 1
        return net.step(X, target, *optimizer._args(), state["step"], optimizer.clip_norm or 0.0)

    def _optimizer_state(self, optimizer):
        from fastinit.optim import Optimizer

        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a fastinit.optim optimizer, got {type(optimizer).__name__}")
        if self._opt is None or self._opt["optimizer"] is not optimizer:
            zeros = lambda arrays: [np.zeros_like(a) for a in arrays]  # noqa: E731
            Ws, bs = [l.W for l in self.layers], [l.b for l in self.layers]
            second = optimizer.needs_second_moment
            self._opt = {"optimizer": optimizer, "step": 0, "nets": set(),
                         "buffers": (zeros(Ws), zeros(Ws) if second else [None] * len(Ws),
                                     zeros(bs), zeros(bs) if second else [None] * len(bs))}
        return self._opt

    def trace(self, X, y=None) -> Trace:
        """Every layer's pre-activations and activations on X; with y, the loss and every
        gradient (computed layer by layer with the same kernels the engine uses)."""
        X = self._check_X(X)
        net = self._net(X.shape[0], keep_z=True)
        net.forward(X)
        t = Trace(pre=[z[: len(X)].copy() for z in net.Z], post=[a[: len(X)].copy() for a in net.A])
        if y is None:
            return t
        target = self._check_y(y, X.shape[0])
        t.loss, dz = _core._loss(t.post[-1], target, self.output.kind)
        inputs = [X] + t.post[:-1]
        grads_pre, grads_in, gW, gb = [], [], [], []
        for i in reversed(range(len(self.layers))):
            layer = self.layers[i]
            grads_pre.append(dz)
            gW.append(_core.matmul(dz, inputs[i], trans_a=True))
            gb.append(dz.sum(axis=0))
            d_in = _core.matmul(dz, layer.W)
            grads_in.append(d_in)
            if i:
                prev = self.layers[i - 1]
                dz = _core._act_backward(d_in, t.pre[i - 1], t.post[i - 1], ACTIVATIONS[prev.activation][0],
                                         prev.activation_param)
        t.grad_pre, t.grad_input, t.grad_W, t.grad_b = grads_pre[::-1], grads_in[::-1], gW[::-1], gb[::-1]
        return t

    # ------------------------------------------------------------------ persistence

    def save(self, path) -> None:
        """Write the model to an .npz file (no pickles): architecture, names and parameters."""
        arrays = {f"W{i}": l.W for i, l in enumerate(self.layers)}
        arrays.update({f"b{i}": l.b for i, l in enumerate(self.layers)})
        meta = {"format": _FORMAT, "sizes": self.sizes, "activations": self.activations,
                "output": self.output.name, "inits": self.init_names, "seed": self.seed,
                "dtype": self.dtype.name}
        import json

        np.savez(path, __meta__=np.array(json.dumps(meta)), **arrays)


def load(path) -> MLP:
    """Read a model written by MLP.save; a corrupt or foreign file raises ValueError."""
    import json
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["__meta__"]))
            if meta.get("format") != _FORMAT:
                raise ValueError(f"format {meta.get('format')!r} is not {_FORMAT!r}")
            L = len(meta["sizes"]) - 1
            params = [(f[f"W{i}"], f[f"b{i}"]) for i in range(L)]
    except (KeyError, ValueError, OSError, zipfile.BadZipFile, json.JSONDecodeError, TypeError) as e:
        raise ValueError(f"{path!s} is not a fastinit model file: {e}") from None
    model = MLP(meta["sizes"], activation=meta["activations"][:-1] or "relu", output=meta["output"],
                init="zeros", seed=meta["seed"], dtype=np.dtype(meta["dtype"]))
    model.init_names = meta["inits"]
    for layer, (W, b) in zip(model.layers, params):
        layer.W, layer.b = W, b
    return model
