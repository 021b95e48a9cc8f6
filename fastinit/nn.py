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

import io
import os
import threading
import warnings
from typing import IO, Any, Sequence, Union

import numpy as np
import numpy.typing as npt

from fastinit import _core, _validate, init, persist
from fastinit import losses as _losses
from fastinit import trace as _trace
from fastinit.activations import ACT_DEFAULT_PARAM, ACTIVATIONS
from fastinit.activations import parse as _parse_activation
from fastinit.optim import Optimizer
from fastinit._validate import describe

__all__ = ["ACTIVATIONS", "Dense", "MLP", "load"]

_FORMAT = "fastinit.MLP/1"

#: What the public signatures take and give: arrays of any numeric dtype in, arrays out.
ArrayLike = npt.ArrayLike
Array = npt.NDArray[Any]
#: An activation: a name, (name, parameter), "name:parameter", or one per hidden layer.
ActivationSpec = Union[str, "tuple[str, float]", "list[Any]"]
#: An init scheme: a name ("he_normal", "identity:gain=1.5"), an Initializer, or one per layer.
InitSpec = Union[str, "init.Initializer", "list[Any]", None]


class Dense:
    """One dense layer y = act(x @ W.T + b) of an MLP. W is (fan_out, fan_in), b is (fan_out,).

    Reading ``W``/``b`` gives the live arrays (in-place edits are seen by the engine);
    assigning copies into them after checking shape and dtype. ``dW``/``db`` hold the
    gradients of the engine's last backward pass (a training step, gradients() or probe()).
    """

    __slots__ = ("_W", "_b", "dW", "db", "activation", "act_param", "fan_in", "fan_out")

    def __init__(self, W: np.ndarray, b: np.ndarray, dW: np.ndarray, db: np.ndarray, activation: str,
                 act_param: float) -> None:
        self._W, self._b, self.dW, self.db = W, b, dW, db
        self.activation, self.act_param = activation, act_param
        self.fan_out, self.fan_in = W.shape

    @staticmethod
    def _assign(name: str, dst: np.ndarray, value: Any) -> None:
        if not isinstance(value, np.ndarray):
            value = np.asarray(value)
        if value.dtype.kind != "f" or value.dtype.itemsize < 4:
            raise TypeError(f"{describe(name, value)}: expected a float32 or float64 array "
                            f"(the layer's dtype is {dst.dtype})")
        if value.shape != dst.shape:
            raise ValueError(f"{describe(name, value)}: expected shape {dst.shape}")
        np.copyto(dst, value, casting="same_kind")

    @property
    def W(self) -> np.ndarray:
        return self._W

    @W.setter
    def W(self, value: Any) -> None:
        self._assign("W", self._W, value)

    @property
    def b(self) -> np.ndarray:
        return self._b

    @b.setter
    def b(self, value: Any) -> None:
        self._assign("b", self._b, value)

    def __repr__(self) -> str:
        act = self.activation if self.activation not in ACT_DEFAULT_PARAM else \
            f"{self.activation}({self.act_param:g})"
        return f"Dense({self.fan_in} -> {self.fan_out}, {act}, {self._W.dtype})"


def _check_sizes(sizes: Any) -> list[int]:
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise TypeError(f"sizes must be a list of ints like [784, 256, 10], got {sizes!r}")
    out = [_validate.integer(f"sizes[{i}]", s, low=1) for i, s in enumerate(sizes)]
    if len(out) < 2:
        raise ValueError(f"sizes must hold >= 2 positive ints (inputs, ..., outputs), got {sizes!r}")
    return out


def _per_layer(name: str, value: Any, count: int) -> list:
    if isinstance(value, list):
        if len(value) != count:
            raise ValueError(f"{name} has {len(value)} entries; the model needs {count} (one per layer)")
        return list(value)
    return [value] * count


class MLP:
    """A multilayer perceptron trained by one C call per step.

    sizes: [inputs, hidden..., outputs], e.g. [784, 256, 256, 10].
    activation: hidden-layer activation, one name (or (name, param)) or a list per hidden layer;
        names: identity/linear, relu, leaky_relu (slope 0.01), elu (alpha 1), selu, tanh,
        sigmoid, gelu, gelu_tanh, softplus, softsign, silu.
    output: "softmax" (cross-entropy on integer labels), "sigmoid" (binary cross-entropy on
        logits, targets in [0, 1]) or "identity" (mean squared error). The last layer is linear;
        the output nonlinearity belongs to the loss.
    init: a fastinit.init name or Initializer, or a list with one per layer. Layer i draws W from
        stream 2*i and b from stream 2*i + 1 of `seed`. A scheme that needs data (LSUV) sets
        ``pending_init``; ``finish_init(X, y)`` completes it (fastinit.fit does, on its first batch).
    bias_init: the same for the biases; None (the default) takes the bias the weight scheme
        implies (torch_default, nguyen_widrow and edge_of_chaos draw theirs, as their sources
        do), else zeros.
    dtype: numpy.float32 (fast path) or numpy.float64.
    """

    def __init__(self, sizes: Sequence[int], activation: ActivationSpec = "relu", output: str = "softmax",
                 init: InitSpec = "he_normal", bias_init: InitSpec = None, seed: int = 0,
                 dtype: npt.DTypeLike = np.float32) -> None:
        self.sizes = _check_sizes(sizes)
        L = len(self.sizes) - 1
        self.dtype = dt = _validate.float_dtype("dtype", dtype)
        if not isinstance(output, str) or output not in _losses.OUTPUTS:
            raise ValueError(f"output must be one of {sorted(_losses.OUTPUTS)}, got {output!r}")
        if output == "softmax" and self.sizes[-1] < 2:
            raise ValueError(f"output='softmax' needs at least 2 outputs, sizes[-1] is {self.sizes[-1]}")
        self.output = output
        self.loss_name, self._loss_kind = _losses.OUTPUTS[output]
        self.seed = _validate.seed("seed", seed)

        hidden = _per_layer("activation", activation, L - 1)
        acts = [_parse_activation(a, "activation") for a in hidden] + [("identity", 0.0)]
        inits = [_initializer(i) for i in _per_layer("init", init, L)]
        self.init = _spec_name(init)
        biases = [_initializer(bias_init if bias_init is not None else i.bias or "zeros") for i in inits]
        self.bias_init = _spec_name(bias_init if bias_init is not None else [b.name for b in biases])
        self._pending: init.Initializer | None = None  # the scheme still waiting for data

        self.layers: list[Dense] = []
        params, grads = [], []
        for i in range(L):
            fi, fo = self.sizes[i], self.sizes[i + 1]
            W = np.ascontiguousarray(inits[i]((fo, fi), seed=self.seed, stream=2 * i, dtype=dt))
            b = np.ascontiguousarray(biases[i]((fo,), seed=self.seed, stream=2 * i + 1, dtype=dt,
                                               fan_in=fi, fan_out=fo))
            if W.shape != (fo, fi) or W.dtype != dt or b.shape != (fo,) or b.dtype != dt:
                raise RuntimeError(f"init returned {describe('W', W)} and {describe('b', b)} "
                                   f"for layer {i}; expected ({fo}, {fi}) and ({fo},) {dt}")
            if inits[i].needs_data:
                self._pending = inits[i]
            dW, db = np.zeros_like(W), np.zeros_like(b)
            self.layers.append(Dense(W, b, dW, db, *acts[i]))
            params += [W, b]
            grads += [dW, db]
        self._engine = _core._Engine(self.sizes, [ACTIVATIONS[a] for a, _ in acts],
                                     [p for _, p in acts], self._loss_kind, params, grads)
        self._opt = None  # (optimizer, its C state for this model): the train_step fast path
        # One workspace per batch size serves every call: calls from several Python threads
        # (the engine runs without the GIL) take turns, or they would share its buffers.
        self._lock = threading.RLock()
        self._warned_pending = False

    @classmethod
    def _view(cls, like: MLP, params: list[np.ndarray], grads: list[np.ndarray]) -> MLP:
        """An MLP with `like`'s architecture and settings whose parameters and gradients are the
        given arrays, used in place (no copy): how an Ensemble's members live in its buffers."""
        self = cls.__new__(cls)
        self.sizes, self.dtype, self.output = list(like.sizes), like.dtype, like.output
        self.loss_name, self._loss_kind = like.loss_name, like._loss_kind
        self.seed, self.init, self.bias_init = like.seed, like.init, like.bias_init
        self._pending, self._warned_pending = like._pending, False
        self._lock = threading.RLock()
        self.layers = [Dense(params[2 * i], params[2 * i + 1], grads[2 * i], grads[2 * i + 1],
                             l.activation, l.act_param) for i, l in enumerate(like.layers)]
        self._engine = _core._Engine(self.sizes, [ACTIVATIONS[l.activation] for l in like.layers],
                                     [l.act_param for l in like.layers], self._loss_kind, params, grads)
        self._opt = None
        return self

    # ------------------------------------------------------------------ properties
    @property
    def pending_init(self) -> str | None:
        """The name of a data-dependent init that still needs a batch (see finish_init), or None."""
        return None if self._pending is None else self._pending.name

    @property
    def activations(self) -> list[str]:
        return [l.activation for l in self.layers[:-1]]

    @property
    def num_parameters(self) -> int:
        return sum(l.W.size + l.b.size for l in self.layers)

    def parameters(self) -> list[np.ndarray]:
        """The live parameter arrays [W0, b0, W1, b1, ...]."""
        return [p for l in self.layers for p in (l.W, l.b)]

    def __repr__(self) -> str:
        acts = self.activations or ["-"]
        act = acts[0] if len(set(acts)) == 1 else acts  # one name, or one per hidden layer
        pend = f", pending_init={self.pending_init!r}" if self._pending else ""
        return (f"MLP({self.sizes}, activation={act!r}, output={self.output!r}, init={self.init!r}, "
                f"dtype={self.dtype.name}, parameters={self.num_parameters}{pend})")

    # ------------------------------------------------------------------ input checks
    def check_X(self, X: Any, name: str = "X") -> np.ndarray:
        """X as the engine takes it: C-contiguous (n >= 1, sizes[0]) of the model dtype, finite."""
        return _validate.features(name, X, self.dtype, self.sizes[0])

    def check_y(self, y: Any, n: int, name: str = "y") -> np.ndarray:
        """y as the engine takes it: int64 labels (n,) for softmax, (n, outputs) targets else."""
        return _losses.check_y(self._loss_kind, y, n, self.sizes[-1], self.dtype, name)

    # ------------------------------------------------------------------ data-dependent init
    def finish_init(self, X: Any, y: Any = None) -> Any:
        """Complete a data-dependent init (pending_init) on the batch X (and y): the one
        protocol for LSUV and user schemes. Returns what the scheme's finish returned (LSUV:
        rescalings per layer), None if nothing was pending."""
        pending = self._pending
        if pending is None:
            return None
        X = self.check_X(X)
        y = None if y is None else self.check_y(y, X.shape[0])
        report = pending.finish(self, X, y)
        self._pending = None
        return report

    # ------------------------------------------------------------------ inference
    def forward(self, X: ArrayLike) -> Array:
        """Logits (n, outputs) of X (n, inputs): the last layer before the output nonlinearity."""
        X = self.check_X(X)
        with self._lock:
            return self._engine.forward(X)

    __call__ = forward

    def predict_proba(self, X: ArrayLike) -> Array:
        """Softmax probabilities (n, classes) or sigmoid probabilities (n, outputs)."""
        if self.output == "identity":
            raise ValueError("predict_proba needs output='softmax' or 'sigmoid'; this model "
                             "regresses (output='identity'): use predict")
        return _losses.probabilities(self.output, self.forward(X))

    def predict(self, X: ArrayLike) -> Array:
        """Class labels (n,) for softmax; 0/1 labels (n,) for one sigmoid output ((n, k) for
        several); the outputs themselves for identity."""
        z = self.forward(X)
        if self.output == "softmax":
            return z.argmax(axis=1)
        if self.output == "sigmoid":
            lab = (z > 0).astype(np.int64)
            return lab[:, 0] if lab.shape[1] == 1 else lab
        return z

    def loss(self, X: ArrayLike, y: ArrayLike) -> float:
        """Mean loss on (X, y): cross-entropy, binary cross-entropy or MSE by `output`."""
        X = self.check_X(X)
        y = self.check_y(y, X.shape[0])
        with self._lock:
            z = self._engine.forward(X)
        return _core.loss(self._loss_kind, z, y, None)

    def gradients(self, X: Any, y: Any) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(dW, db), ...] of the mean loss on (X, y), as new arrays (no update)."""
        X = self.check_X(X)
        y = self.check_y(y, X.shape[0])
        with self._lock:
            self._engine.backprop(X, y)
            return [(l.dW.copy(), l.db.copy()) for l in self.layers]

    def train_step(self, X: ArrayLike, y: ArrayLike, optimizer: Optimizer, *,
                   record: dict[str, Any] | None = None) -> float:
        """One step of `optimizer` on the batch (X, y) in one C call; returns the batch loss
        before the update. X and y are validated.

        record: a dict to fill with what the step saw, for diagnostics at a fraction of a
        step's cost (see probe): "loss", "outputs" and "grad_input_rms", of the weights before
        this step's update."""
        X = self.check_X(X)
        return self._step(X, self.check_y(y, X.shape[0]), optimizer, record)

    def _step(self, X: np.ndarray, y: np.ndarray, optimizer: Optimizer, record: dict | None) -> float:
        """train_step on X and y already in engine form (fit validates its data once)."""
        o = self._opt
        if o is None or o[0] is not optimizer:
            if not isinstance(optimizer, Optimizer):
                raise TypeError(f"optimizer must be a fastinit.optim optimizer (SGD, Adam, AdamW), got "
                                f"{type(optimizer).__name__}")
            if self._pending is not None and not self._warned_pending:
                self._warned_pending = True
                warnings.warn(f"MLP.train_step: the {self.pending_init!r} init still needs data: call "
                              f"model.finish_init(X, y) before training (fit does it on the first batch); "
                              f"training from the weights as they are", RuntimeWarning, stacklevel=3)
            o = self._opt = (optimizer, optimizer._state_for(self))
        return self._run(self._engine.step, X, y, record, o[1])

    def _last_step_finite(self) -> bool:
        """Whether every parameter was finite after the last training step (the C update
        flags it as it writes them: no extra pass)."""
        return self._opt is None or self._opt[1].finite

    def probe(self, X: Any, y: Any) -> dict:
        """What a training step on (X, y) would see, without updating the weights: a dict with
        "loss"; "outputs", each layer's output (copies); "grad_input_rms", per layer the rms
        of the loss gradient with respect to its input. One forward and backward pass in C
        (the layer gradients dW, db are overwritten)."""
        X = self.check_X(X)
        record: dict = {}
        self._run(self._engine.backprop, X, self.check_y(y, X.shape[0]), record)
        return record

    def _run(self, call, X: np.ndarray, y: np.ndarray, record: dict | None, *args) -> float:
        """call(X, y, *args, gin_ss) on validated X and y; fills record. One call at a time per
        model (self._lock)."""
        ss = None if record is None else np.empty(len(self.layers))
        with self._lock:
            loss = call(X, y, *args, ss)
            outputs = self._engine.outputs() if record is not None else None
        if record is not None:
            n = len(X)
            record["loss"] = loss
            record["outputs"] = outputs
            record["grad_input_rms"] = [float(np.sqrt(s / (n * l.fan_in))) for s, l in zip(ss, self.layers)]
        return loss

    # ------------------------------------------------------------------ diagnostics
    def trace(self, X: Any, y: Any = None) -> _trace.Trace:
        """A Trace of every layer's pre-activation and output (and gradients when y is given)."""
        X = self.check_X(X)
        return _trace.trace(self, X, None if y is None else self.check_y(y, X.shape[0]))

    # ------------------------------------------------------------------ torch bridge (optional)
    def to_torch(self) -> Any:
        """This model as a torch.nn.Sequential with the same outputs: fastinit.torch.to_torch."""
        from fastinit.torch import to_torch  # torch is optional: imported when asked for
        return to_torch(self)

    @staticmethod
    def from_torch(module: Any, output: str = "softmax") -> MLP:
        """The MLP of a torch Linear/activation stack: fastinit.torch.from_torch."""
        from fastinit.torch import from_torch  # torch is optional: imported when asked for
        return from_torch(module, output=output)

    # ------------------------------------------------------------------ persistence
    def __reduce__(self) -> tuple:
        """Pickle (and copy.deepcopy) through save/load: the C engine is rebuilt over copies of
        the arrays, so the copy is exact and independent. Optimizer state is not the model's."""
        buf = io.BytesIO()
        self.save(buf)
        pending = None if self._pending is None else (self._pending.name, self._pending.params)
        return _from_bytes, (buf.getvalue(), pending)

    def save(self, path: str | os.PathLike[str] | IO[bytes]) -> None:
        """Write the architecture and parameters to an .npz file (exact round trip via load)."""
        meta = {"format": _FORMAT, "sizes": self.sizes, "output": self.output,
                "activations": [[l.activation, l.act_param] if l.activation in ACT_DEFAULT_PARAM
                                else l.activation for l in self.layers[:-1]],
                "dtype": self.dtype.name, "seed": self.seed, "init": self.init,
                "bias_init": _spec_name(self.bias_init)}
        arrays = {}
        for i, l in enumerate(self.layers):
            arrays[f"W{i}"], arrays[f"b{i}"] = l.W, l.b
        persist.write(path, meta, arrays)


def _initializer(spec: Any) -> init.Initializer:
    return init.get(spec)


def _spec_name(spec: Any) -> Any:
    """The name(s) of an init spec as given: a str, an Initializer's name, or a list of them."""
    if isinstance(spec, list):
        names = [_spec_name(s) for s in spec]
        return names[0] if all(n == names[0] for n in names) else names
    return spec.name if isinstance(spec, init.Initializer) else spec if isinstance(spec, str) else str(spec)


def _expected_arrays(meta: dict) -> dict:
    """The arrays a model file's meta implies, {name: (shape, dtype)}; checked before MLP is
    built or any array read (a meta of sizes [10**6, 10**6] next to small arrays is refused)."""
    sizes = _check_sizes(meta["sizes"])
    dtype = _validate.float_dtype("dtype", meta["dtype"])
    out = {}
    for i in range(len(sizes) - 1):
        out[f"W{i}"], out[f"b{i}"] = ((sizes[i + 1], sizes[i]), dtype), ((sizes[i + 1],), dtype)
    return out


def _from_bytes(data: bytes, pending: tuple[str, dict] | None = None) -> MLP:
    """The MLP of MLP.__reduce__: load() of the bytes save() wrote, its pending init again."""
    model = load(io.BytesIO(data))
    if pending is not None:
        model._pending = init.get(pending[0], **pending[1])
    return model


def load(path: str | os.PathLike[str] | IO[bytes]) -> MLP:
    """An MLP saved by MLP.save. Raises ValueError for a file that is not one."""
    meta, data = persist.read(path, _FORMAT, _expected_arrays)
    try:
        model = MLP(meta["sizes"], activation=[tuple(a) if isinstance(a, list) else a for a in meta["activations"]],
                    output=meta["output"], init="zeros", bias_init="zeros", seed=meta["seed"],
                    dtype=np.dtype(meta["dtype"]))
        model.init, model.bias_init = meta["init"], meta["bias_init"]
        for i, l in enumerate(model.layers):
            W, b = data[f"W{i}"], data[f"b{i}"]
            if W.dtype != model.dtype or b.dtype != model.dtype:
                raise ValueError(f"layer {i} arrays are {W.dtype}/{b.dtype}, expected {model.dtype}")
            l.W, l.b = W, b
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path!r} is not a valid fastinit model file: {e}") from None
    return model
