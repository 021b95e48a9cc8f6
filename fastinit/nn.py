"""Dense layers and the MLP: parameters as NumPy arrays, one C call per training step.

    >>> import numpy as np, fastinit
    >>> from fastinit import optim
    >>> model = fastinit.MLP([2, 10, 5, 1], activation="relu", output="sigmoid", init="he_normal")
    >>> loss = model.train_step(X, y, optim.SGD(lr=0.1))       # forward, loss, backward, update

Parameters live in NumPy arrays owned by Python (``model.layers[i].W`` of shape
(fan_out, fan_in), ``.b`` of shape (fan_out,)); the C engine holds pointers to them, so assigning
``layer.W = ...`` copies into the existing buffer (after checking shape and dtype) instead of
rebinding it. Workspaces are allocated once per batch size and reused.

Inputs: ``X`` is (batch, features). Integer ``X`` is converted to the model's float dtype, and
so is float64 ``X`` for a float32 model; float16, bool, complex and object arrays are rejected.
"""
from __future__ import annotations

import json
import math
import warnings
import zipfile

import numpy as np

from fastinit import _core
from fastinit import losses as _losses
from fastinit._names import unknown

__all__ = ["ACTIVATIONS", "Dense", "MLP", "Trace", "load"]

#: Activation names and their C codes (csrc/fi_act.h); "linear" is an alias of "identity".
ACTIVATIONS = {
    "identity": 0, "linear": 0, "relu": 1, "leaky_relu": 2, "elu": 3, "selu": 4, "tanh": 5,
    "sigmoid": 6, "gelu": 7, "gelu_tanh": 8, "softplus": 9, "softsign": 10,
}
#: Default parameter of the activations that take one (leaky_relu: slope, elu: alpha).
ACT_DEFAULT_PARAM = {"leaky_relu": 0.01, "elu": 1.0}

_FORMAT = "fastinit.MLP/1"


def _describe(name, a):
    return f"{name} (shape {getattr(a, 'shape', None)}, dtype {getattr(a, 'dtype', type(a).__name__)})"


def _parse_activation(spec, where):
    """(name, param) from "relu" or ("leaky_relu", 0.2)."""
    param = None
    if isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[0], str):
        spec, param = spec
    if not isinstance(spec, str):
        raise TypeError(f"{where} must be an activation name or (name, param), got {spec!r}")
    name = spec.lower()
    if name not in ACTIVATIONS:
        e = unknown("activation", spec, ACTIVATIONS)
        raise ValueError(f"{where}: {e}")
    if name == "linear":
        name = "identity"
    if param is None:
        param = ACT_DEFAULT_PARAM.get(name, 0.0)
    elif name not in ACT_DEFAULT_PARAM:
        raise ValueError(f"{where}: activation {name!r} takes no parameter, got {param!r}")
    param = float(param)
    if not math.isfinite(param):
        raise ValueError(f"{where}: activation parameter must be finite, got {param}")
    return name, param


class Dense:
    """One dense layer y = act(x @ W.T + b) of an MLP. W is (fan_out, fan_in), b is (fan_out,).

    Reading ``W``/``b`` gives the live arrays (in-place edits are seen by the engine);
    assigning copies into them after checking shape and dtype. ``dW``/``db`` hold the
    gradients of the engine's last backward pass (a training step, gradients() or probe()).
    """

    __slots__ = ("_W", "_b", "dW", "db", "activation", "act_param", "fan_in", "fan_out")

    def __init__(self, W, b, dW, db, activation, act_param):
        self._W, self._b, self.dW, self.db = W, b, dW, db
        self.activation, self.act_param = activation, act_param
        self.fan_out, self.fan_in = W.shape

    def _assign(self, name, dst, value):
        if not isinstance(value, np.ndarray):
            value = np.asarray(value)
        if value.dtype.kind != "f" or value.dtype.itemsize < 4:
            raise TypeError(f"{_describe(name, value)}: expected a float32 or float64 array "
                            f"(the layer's dtype is {dst.dtype})")
        if value.shape != dst.shape:
            raise ValueError(f"{_describe(name, value)}: expected shape {dst.shape}")
        np.copyto(dst, value, casting="same_kind")

    @property
    def W(self):
        return self._W

    @W.setter
    def W(self, value):
        self._assign("W", self._W, value)

    @property
    def b(self):
        return self._b

    @b.setter
    def b(self, value):
        self._assign("b", self._b, value)

    def __repr__(self):
        act = self.activation if self.activation not in ACT_DEFAULT_PARAM else \
            f"{self.activation}({self.act_param:g})"
        return f"Dense({self.fan_in} -> {self.fan_out}, {act}, {self._W.dtype})"


class Trace:
    """Per-layer tensors of one forward (and backward, when y is given) pass, for diagnostics.

    pre[i] = Z_i (n, fan_out), post[i] = A_i = act(Z_i) (the last layer's post is the logits);
    with y: loss, grad_pre[i] = dL/dZ_i, grad_W[i], grad_b[i], grad_input[i] = dL/d(input of
    layer i) (n, fan_in).
    """

    def __init__(self):
        self.pre, self.post = [], []
        self.loss = None
        self.grad_W, self.grad_b, self.grad_pre, self.grad_input = [], [], [], []

    def __repr__(self):
        return (f"Trace(layers={len(self.pre)}, "
                f"loss={'None' if self.loss is None else format(self.loss, '.6g')})")


class MLP:
    """A multilayer perceptron trained by one C call per step.

    sizes: [inputs, hidden..., outputs], e.g. [784, 256, 256, 10].
    activation: hidden-layer activation, one name (or (name, param)) or a list per hidden layer;
        names: identity/linear, relu, leaky_relu (slope 0.01), elu (alpha 1), selu, tanh,
        sigmoid, gelu, gelu_tanh, softplus, softsign.
    output: "softmax" (cross-entropy on integer labels), "sigmoid" (binary cross-entropy on
        logits, targets in [0, 1]) or "identity" (mean squared error). The last layer is linear;
        the output nonlinearity belongs to the loss.
    init: a fastinit.init name or Initializer, or a list with one per layer. Layer i draws W from
        stream 2*i and b from stream 2*i + 1 of `seed`. A data-dependent init ("lsuv") sets
        ``pending_init``; fastinit.fit finishes it on the first batch.
    bias_init: the same for the biases (default zeros).
    dtype: numpy.float32 (fast path) or numpy.float64.
    """

    def __init__(self, sizes, activation="relu", output="softmax", init="he_normal",
                 bias_init="zeros", seed=0, dtype=np.float32):
        from fastinit import init as _init

        self.sizes = self._check_sizes(sizes)
        L = len(self.sizes) - 1
        dt = np.dtype(dtype) if not isinstance(dtype, np.dtype) else dtype
        if dt not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {dtype!r}")
        self.dtype = dt
        if output not in _losses.OUTPUTS:
            raise ValueError(f"output must be one of {sorted(_losses.OUTPUTS)}, got {output!r}")
        if output == "softmax" and self.sizes[-1] < 2:
            raise ValueError(f"output='softmax' needs at least 2 outputs, sizes[-1] is {self.sizes[-1]}")
        self.output = output
        self.loss_name, self._loss_kind = _losses.OUTPUTS[output]
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self.seed = int(seed)

        hidden = self._per_layer("activation", activation, L - 1)
        acts = [_parse_activation(a, "activation") for a in hidden] + [("identity", 0.0)]
        inits = self._per_layer("init", init, L)
        self.init = inits[0] if all(i == inits[0] for i in inits) else list(inits)
        self.bias_init = bias_init
        self.pending_init = None

        self.layers = []
        params, grads = [], []
        for i in range(L):
            fi, fo = self.sizes[i], self.sizes[i + 1]
            W = np.ascontiguousarray(_init.initialize(inits[i], (fo, fi), seed=self.seed,
                                                      stream=2 * i, dtype=dt))
            b = np.ascontiguousarray(_init.initialize(bias_init, (fo,), seed=self.seed,
                                                      stream=2 * i + 1, dtype=dt, fan_in=fi, fan_out=fo))
            if W.shape != (fo, fi) or W.dtype != dt or b.shape != (fo,) or b.dtype != dt:
                raise RuntimeError(f"init returned {_describe('W', W)} and {_describe('b', b)} "
                                   f"for layer {i}; expected ({fo}, {fi}) and ({fo},) {dt}")
            if getattr(_init.get(inits[i]), "needs_data", False):
                self.pending_init = str(getattr(inits[i], "name", inits[i]))
            dW, db = np.zeros_like(W), np.zeros_like(b)
            self.layers.append(Dense(W, b, dW, db, *acts[i]))
            params += [W, b]
            grads += [dW, db]
        self._engine = _core._Engine(self.sizes, [ACTIVATIONS[a] for a, _ in acts],
                                     [p for _, p in acts], self._loss_kind, params, grads)
        self._opt = None  # (optimizer, its C state for this model): the train_step fast path

    # ------------------------------------------------------------------ construction helpers
    @staticmethod
    def _check_sizes(sizes):
        try:
            out = [int(s) for s in sizes]
        except (TypeError, ValueError):
            raise TypeError(f"sizes must be a list of ints like [784, 256, 10], got {sizes!r}") from None
        if len(out) < 2 or any(s < 1 for s in out) or any(
                isinstance(s, bool) or (isinstance(s, float) and s != int(s)) for s in sizes):
            raise ValueError(f"sizes must hold >= 2 positive ints (inputs, ..., outputs), got {sizes!r}")
        return out

    @staticmethod
    def _per_layer(name, value, count):
        if isinstance(value, list):
            if len(value) != count:
                raise ValueError(f"{name} has {len(value)} entries; the model needs {count} (one per layer)")
            return list(value)
        return [value] * count

    # ------------------------------------------------------------------ properties
    @property
    def activations(self):
        return [l.activation for l in self.layers[:-1]]

    @property
    def num_parameters(self):
        return sum(l.W.size + l.b.size for l in self.layers)

    def parameters(self):
        """The live parameter arrays [W0, b0, W1, b1, ...]."""
        return [p for l in self.layers for p in (l.W, l.b)]

    def __repr__(self):
        acts = sorted(set(self.activations)) or ["-"]
        act = acts[0] if len(acts) == 1 else acts
        init = self.init if isinstance(self.init, str) else getattr(self.init, "name", self.init)
        pend = f", pending_init={self.pending_init!r}" if self.pending_init else ""
        return (f"MLP({self.sizes}, activation={act!r}, output={self.output!r}, init={init!r}, "
                f"dtype={self.dtype.name}, parameters={self.num_parameters}{pend})")

    # ------------------------------------------------------------------ input checks
    def _check_X(self, X, name="X"):
        """X as a C-contiguous (n, sizes[0]) array of the model dtype; clear errors otherwise."""
        if isinstance(X, (str, bytes, dict, set)) or X is None:
            raise TypeError(f"{name} must be a 2-D numeric array, got {type(X).__name__}")
        a = np.asarray(X)
        k = a.dtype.kind
        if k in "iu":
            a = a.astype(self.dtype)
        elif k != "f" or a.dtype.itemsize < 4:
            raise TypeError(f"{_describe(name, a)}: expected float32, float64 or integer values")
        if a.ndim != 2:
            raise ValueError(f"{_describe(name, a)}: expected a 2-D array (batch, {self.sizes[0]})")
        if a.shape[1] != self.sizes[0]:
            raise ValueError(f"{_describe(name, a)}: expected {self.sizes[0]} features per row "
                             f"(the model's sizes[0])")
        if a.shape[0] == 0:
            raise ValueError(f"{_describe(name, a)} is empty")
        a = np.ascontiguousarray(a, dtype=self.dtype)
        if not np.isfinite(a).all():
            raise ValueError(f"{_describe(name, a)} contains NaN or inf")
        return a

    def _check_y(self, y, n, name="y"):
        """y as the engine wants it: int64 labels (n,) for softmax, (n, outputs) targets else."""
        if isinstance(y, (str, bytes, dict, set)) or y is None:
            raise TypeError(f"{name} must be an array, got {type(y).__name__}")
        a = np.asarray(y)
        if a.dtype.kind == "b":  # y = X[:, 0] > 0: classes 0 and 1
            a = a.astype(np.int64)
        c = self.sizes[-1]
        if a.dtype.kind not in "iuf" or a.dtype.itemsize < 2 or (a.dtype.kind == "f" and a.dtype.itemsize < 4):
            raise TypeError(f"{_describe(name, a)}: expected integer labels or float targets")
        if a.shape[:1] != (n,):
            raise ValueError(f"{_describe(name, a)}: expected {n} rows (as many as X)")
        if self._loss_kind == 0:
            if a.ndim == 2 and a.shape[1] == 1:
                a = a[:, 0]
            if a.ndim != 1:
                raise ValueError(f"{_describe(name, a)}: expected integer class labels of shape ({n},)")
            if a.dtype.kind == "f":
                if not (np.isfinite(a).all() and (a == np.round(a)).all()):
                    raise ValueError(f"{_describe(name, a)}: class labels must be integers")
            lo, hi = a.min(), a.max()
            if lo < 0 or hi >= c:
                raise ValueError(f"{_describe(name, a)}: labels must be in [0, {c}), found "
                                 f"{lo if lo < 0 else hi}")
            return np.ascontiguousarray(a, dtype=np.int64)
        if a.ndim == 1 and c == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[1] != c:
            raise ValueError(f"{_describe(name, a)}: expected targets of shape ({n}, {c})")
        a = np.ascontiguousarray(a, dtype=self.dtype)
        if not np.isfinite(a).all():
            raise ValueError(f"{_describe(name, a)} contains NaN or inf")
        if self._loss_kind == 1 and ((a < 0).any() or (a > 1).any()):
            raise ValueError(f"{_describe(name, a)}: binary cross-entropy targets must be in [0, 1]")
        return a

    # ------------------------------------------------------------------ inference
    def forward(self, X):
        """Logits (n, outputs) of X (n, inputs): the last layer before the output nonlinearity."""
        out = self._engine.forward(X)
        if out is None:
            out = self._engine.forward(self._check_X(X))
        return out

    __call__ = forward

    def predict_proba(self, X):
        """Softmax probabilities (n, classes) or sigmoid probabilities (n, outputs)."""
        if self.output == "identity":
            raise ValueError("predict_proba needs output='softmax' or 'sigmoid'; this model "
                             "regresses (output='identity'): use predict")
        return _losses.probabilities(self.output, self.forward(X))

    def predict(self, X):
        """Class labels (n,) for softmax; 0/1 labels (n,) for one sigmoid output ((n, k) for
        several); the outputs themselves for identity."""
        z = self.forward(X)
        if self.output == "softmax":
            return z.argmax(axis=1)
        if self.output == "sigmoid":
            lab = (z > 0).astype(np.int64)
            return lab[:, 0] if lab.shape[1] == 1 else lab
        return z

    def loss(self, X, y):
        """Mean loss on (X, y): cross-entropy, binary cross-entropy or MSE by `output`."""
        X = self._check_X(X)
        return _losses.LOSSES[self.loss_name](self.forward(X), self._check_y(y, X.shape[0]))[0]

    def gradients(self, X, y):
        """[(dW, db), ...] of the mean loss on (X, y), as new arrays (no update)."""
        if self._engine.backprop(X, y) is None:
            X = self._check_X(X)
            self._engine.backprop(X, self._check_y(y, X.shape[0]))
        return [(l.dW.copy(), l.db.copy()) for l in self.layers]

    def train_step(self, X, y, optimizer, *, record=None):
        """One step of `optimizer` on the batch (X, y) in one C call; returns the batch loss
        before the update. X and y are validated (fast path when already in engine form).

        record: a dict to fill with what the step saw, for diagnostics at a fraction of a
        step's cost (see probe): "loss", "outputs" and "grad_input_rms", of the weights before
        this step's update."""
        o = self._opt
        if o is None or o[0] is not optimizer:
            if self.pending_init:
                warnings.warn(f"MLP.train_step: the {self.pending_init!r} init still needs data: call "
                              f"fastinit.init.{self.pending_init}(model, X) before training (fit does it on the "
                              f"first batch); training from the weights as they are", RuntimeWarning, stacklevel=2)
            o = self._opt = (optimizer, optimizer._state_for(self))
        return self._run(self._engine.step, X, y, record, o[1])

    def probe(self, X, y):
        """What a training step on (X, y) would see, without updating the weights: a dict with
        "loss"; "outputs", each layer's output (copies); "grad_input_rms", per layer the rms
        of the loss gradient with respect to its input. One forward and backward pass in C
        (the layer gradients dW, db are overwritten)."""
        record = {}
        self._run(self._engine.backprop, X, y, record)
        return record

    def _run(self, call, X, y, record, *args):
        """call(X, y, *args, gin_ss) on the fast path, else on validated X and y; fills record."""
        ss = None if record is None else np.empty(len(self.layers))
        loss = call(X, y, *args, ss)
        if loss is None:
            X = self._check_X(X)
            loss = call(X, self._check_y(y, X.shape[0]), *args, ss)
        if record is not None:
            n = len(X)
            record["loss"] = loss
            record["outputs"] = self._engine.outputs()
            record["grad_input_rms"] = [float(np.sqrt(s / (n * l.fan_in))) for s, l in zip(ss, self.layers)]
        return loss

    # ------------------------------------------------------------------ diagnostics
    def trace(self, X, y=None):
        """A Trace of every layer's pre-activation and output (and gradients when y is given)."""
        X = self._check_X(X)
        t = Trace()
        a = X
        for layer in self.layers:
            z = _core.matmul(a, layer.W, trans_b=True)
            z += layer.b
            h = np.empty_like(z)
            _core._act_forward(z, h, ACTIVATIONS[layer.activation], layer.act_param)
            t.pre.append(z)
            t.post.append(h)
            a = h
        if y is None:
            return t
        y = self._check_y(y, X.shape[0])
        g = np.empty_like(a)
        t.loss = _core._loss(self._loss_kind, a, y, g)
        n = len(self.layers)
        t.grad_W, t.grad_b = [None] * n, [None] * n
        t.grad_pre, t.grad_input = [None] * n, [None] * n
        for i in range(n - 1, -1, -1):
            layer = self.layers[i]
            dz = np.empty_like(g)
            _core._act_backward(g, t.pre[i], t.post[i], dz, ACTIVATIONS[layer.activation], layer.act_param)
            inp = t.post[i - 1] if i else X
            t.grad_pre[i] = dz
            t.grad_W[i] = _core.matmul(dz, inp, trans_a=True)
            t.grad_b[i] = dz.sum(axis=0, dtype=np.float64).astype(self.dtype)
            t.grad_input[i] = g = _core.matmul(dz, layer.W)
        return t

    # ------------------------------------------------------------------ persistence
    def save(self, path):
        """Write the architecture and parameters to an .npz file (exact round trip via load)."""
        meta = {"format": _FORMAT, "sizes": self.sizes, "output": self.output,
                "activations": [[l.activation, l.act_param] if l.activation in ACT_DEFAULT_PARAM
                                else l.activation for l in self.layers[:-1]],
                "dtype": self.dtype.name, "seed": self.seed,
                "init": self.init if isinstance(self.init, (str, list)) else str(self.init),
                "bias_init": self.bias_init if isinstance(self.bias_init, str) else str(self.bias_init)}
        arrays = {"meta": np.array(json.dumps(meta))}
        for i, l in enumerate(self.layers):
            arrays[f"W{i}"], arrays[f"b{i}"] = l.W, l.b
        if hasattr(path, "write"):
            np.savez(path, **arrays)
        else:
            with open(path, "wb") as f:
                np.savez(f, **arrays)


def load(path):
    """An MLP saved by MLP.save. Raises ValueError for a file that is not one."""
    try:
        f = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        # NumPy reads anything that is neither .npy nor .npz as a pickle, refused here: its
        # message (load it unsafely with allow_pickle) is not advice to pass on.
        why = "" if isinstance(e, ValueError) else f" ({e})"
        raise ValueError(f"{path!r} is not a fastinit model file: not a readable .npz archive{why}") from None
    if not isinstance(f, np.lib.npyio.NpzFile):
        raise ValueError(f"{path!r} is not a fastinit model file: it holds one array (.npy), not an .npz archive")
    try:
        with f:
            data = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path!r} is not a fastinit model file: a damaged .npz archive ({e})") from None
    try:
        meta = json.loads(str(data["meta"][()]))
        if meta.get("format") != _FORMAT:
            raise ValueError(f"unknown format {meta.get('format')!r}")
        sizes = meta["sizes"]
        model = MLP(sizes, activation=[tuple(a) if isinstance(a, list) else a for a in meta["activations"]], output=meta["output"],
                    init="zeros", bias_init="zeros", seed=meta["seed"], dtype=np.dtype(meta["dtype"]))
        model.init, model.bias_init = meta["init"], meta["bias_init"]
        for i, l in enumerate(model.layers):
            W, b = data[f"W{i}"], data[f"b{i}"]
            if W.dtype != model.dtype or b.dtype != model.dtype:
                raise ValueError(f"layer {i} arrays are {W.dtype}/{b.dtype}, expected {model.dtype}")
            l.W, l.b = W, b
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as e:
        raise ValueError(f"{path!r} is not a valid fastinit model file: {e}") from None
    return model
