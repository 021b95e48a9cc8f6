"""scikit-learn estimators over fastinit.MLP: a grid search over ``init`` is an init study.

    >>> from fastinit.sklearn import MLPClassifier
    >>> from sklearn.model_selection import GridSearchCV
    >>> search = GridSearchCV(MLPClassifier((64,), max_iter=30, random_state=0),
    ...                       {"init": ["zeros", "xavier_normal", "he_normal"]}).fit(X, y)

scikit-learn's own MLP has one hard-coded Glorot-uniform init; here ``init`` and ``bias_init``
take any fastinit.init scheme (a name, "name:param=value" or an Initializer), and training runs
in fastinit's C engine (fastinit.fit). Importing this module needs scikit-learn >= 1.6.
"""
from __future__ import annotations

import numbers
import warnings
from typing import Any, Sequence

import numpy as np
import numpy.typing as npt

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets, unique_labels
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as _e:  # absent, or older than 1.6 (no validate_data)
    raise ImportError(f"fastinit.sklearn needs scikit-learn >= 1.6: pip install scikit-learn "
                      f"(or pip install fastinit[sklearn]); {_e}") from None

from fastinit import _validate
from fastinit import optim as _optim
from fastinit.nn import MLP, ActivationSpec, InitSpec
from fastinit.train import History, fit as _fit

__all__ = ["MLPClassifier", "MLPRegressor"]

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw")
_DTYPES = {"float32": np.float32, "float64": np.float64}
#: scikit-learn's activation names that fastinit spells differently.
_SKLEARN_ACTIVATIONS = {"logistic": "sigmoid"}


def _check_int(name: str, value: Any, low: int) -> int:
    return _validate.integer(name, value, low=low)


def _check_float(name: str, value: Any, low: float, high: float | None = None, *, open_low: bool = False) -> float:
    return _validate.real(name, value, low=low, low_open=open_low, high=high, high_open=True)


class _Stopper:
    """fit callback, per epoch: the loss curve, sklearn's stopping rule (no improvement larger
    than tol for n_iter_no_change epochs, on the training loss or with early stopping on the
    validation score) and a copy of the best weights for early stopping."""

    def __init__(self, est: "_BaseMLP", val: tuple | None, stop: bool):
        self.est, self.val, self.stop = est, val, stop
        self.tol, self.patience = est.tol, est.n_iter_no_change
        self.losses: list[float] = []
        self.scores: list[float] = []
        self.best = np.inf if val is None else -np.inf
        self.bad = 0
        self.best_params: list[np.ndarray] | None = None
        self.converged = False

    def on_eval(self, step: int, model: MLP, history: History) -> None:
        if step == 0:  # fit's evaluation at initialization
            return
        e = history.evals[-1]
        self.losses.append(float(e["train_loss"]))
        if self.val is None:
            improved = self.losses[-1] < self.best - self.tol
            self.best = min(self.best, self.losses[-1])
        else:
            score = self.est._val_score(model, e, *self.val)
            self.scores.append(score)
            improved = score > self.best + self.tol
            if score > self.best:
                self.best = score
                self.best_params = [p.copy() for p in model.parameters()]
        self.bad = 0 if improved else self.bad + 1
        if self.stop and self.bad >= self.patience:
            self.converged = True
            history.stop = True


class _BaseMLP(BaseEstimator):
    """Parameters and training shared by MLPClassifier and MLPRegressor."""

    _output: str = "identity"

    def __init__(self, hidden_layer_sizes: int | Sequence[int] = (100,), activation: ActivationSpec = "relu", *,
                 init: InitSpec = "he_normal", bias_init: InitSpec = None, optimizer: str = "adam",
                 lr: float = 1e-3, momentum: float = 0.9, weight_decay: float | None = None,
                 batch_size: int | None = 200, max_iter: int = 200, shuffle: bool = True,
                 random_state: int | np.random.RandomState | None = None, early_stopping: bool = False,
                 validation_fraction: float = 0.1, n_iter_no_change: int = 10, tol: float = 1e-4,
                 dtype: str | type = "float32", verbose: int = 0) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.bias_init = bias_init
        self.optimizer = optimizer
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.dtype = dtype
        self.verbose = verbose

    # ------------------------------------------------------------------ parameters
    def _hidden(self) -> list[int]:
        h = self.hidden_layer_sizes
        h = [h] if isinstance(h, numbers.Integral) and not isinstance(h, bool) else h
        try:
            out = [_check_int("hidden_layer_sizes entries", s, 1) for s in h]
        except TypeError:
            raise ValueError(f"hidden_layer_sizes must be an int or a sequence of ints, got {h!r}") from None
        return out

    def _dtype(self) -> np.dtype:
        d = self.dtype
        key = d if isinstance(d, str) else getattr(np.dtype(d) if d in (np.float32, np.float64) else None, "name", None)
        if key not in _DTYPES:
            raise ValueError(f"dtype must be 'float32' or 'float64', got {d!r}")
        return np.dtype(_DTYPES[key])

    def _activation(self):
        a = self.activation
        if isinstance(a, str):
            return _SKLEARN_ACTIVATIONS.get(a, a)
        return a  # (name, param) or a list per hidden layer; fastinit.MLP checks them

    def _make_optimizer(self) -> _optim.Optimizer:
        name = str(self.optimizer).lower()
        if name not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {self.optimizer!r}")
        lr = _check_float("lr", self.lr, 0.0, open_low=True)
        wd = {} if self.weight_decay is None else {"weight_decay": _check_float("weight_decay", self.weight_decay, 0.0)}
        if name == "sgd":
            return _optim.SGD(lr, **wd)
        if name in ("momentum", "nesterov"):
            m = _check_float("momentum", self.momentum, 0.0, 1.0, open_low=True)
            return _optim.SGD(lr, momentum=m, nesterov=name == "nesterov", **wd)
        return (_optim.Adam if name == "adam" else _optim.AdamW)(lr, **wd)

    def _check_params(self) -> None:
        _check_int("max_iter", self.max_iter, 1)
        _check_int("n_iter_no_change", self.n_iter_no_change, 1)
        _check_float("tol", self.tol, 0.0)
        _check_float("validation_fraction", self.validation_fraction, 0.0, 1.0, open_low=True)
        if self.batch_size is not None:
            _check_int("batch_size", self.batch_size, 1)
        self._hidden()
        self._dtype()

    # ------------------------------------------------------------------ training
    def _encode_y(self, y, first: bool, classes=None):  # pragma: no cover - overridden
        raise NotImplementedError

    def _n_outputs(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def _seeds(self) -> tuple[int, int, int]:
        """(init, shuffle, split) seeds from random_state (fresh ones for None)."""
        rs = check_random_state(self.random_state)
        s = rs.randint(0, 2**31 - 1, size=3)
        return int(s[0]), int(s[1]), int(s[2])

    def _new_model(self, n_features: int, seed: int) -> None:
        sizes = [n_features] + self._hidden() + [self._n_outputs()]
        self.model_ = MLP(sizes, activation=self._activation(), output=self._output, init=self.init,
                          bias_init=self.bias_init, seed=seed, dtype=self._dtype())
        self._optimizer = self._make_optimizer()
        self.n_iter_, self.t_, self.loss_curve_ = 0, 0, []

    def _train(self, X, y, *, epochs: int, seed: int, val=None, stop: bool) -> _Stopper:
        if getattr(self, "_optimizer", None) is None:  # dropped by pickling: a fresh state
            self._optimizer = self._make_optimizer()
        stopper = _Stopper(self, val, stop)
        v = self.verbose
        hist = _fit(self.model_, X, y, optimizer=self._optimizer, epochs=epochs, batch_size=self.batch_size,
                    shuffle=bool(self.shuffle), seed=seed, validation_data=None if val is None else val[:2],
                    callbacks=[stopper], progress=bool(v) and v < 2)
        if v and v >= 2:
            for i, loss in enumerate(stopper.losses):
                print(f"epoch {self.n_iter_ + i + 1}, loss = {loss:.8f}")
        self.history_ = hist
        self.n_iter_ += len(stopper.losses)
        self.t_ += hist.steps
        self.loss_curve_ = list(self.loss_curve_) + stopper.losses
        if stopper.losses:
            self.loss_ = stopper.losses[-1]
        return stopper

    def _fit(self, X, y):
        self._check_params()
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32), **self._y_validation())
        y = self._encode_y(y, first=True)
        seed_init, seed_shuffle, seed_split = self._seeds()
        self._new_model(X.shape[1], seed_init)
        val = None
        if self.early_stopping:
            strat = y.reshape(len(y), -1)[:, 0] if isinstance(self, ClassifierMixin) else None
            X, Xv, y, yv = train_test_split(X, y, test_size=self.validation_fraction,
                                            random_state=seed_split, stratify=strat)
            val = (Xv, yv, len(Xv))
        st = self._train(X, y, epochs=self.max_iter, seed=seed_shuffle, val=val, stop=True)
        self.best_loss_ = None if self.early_stopping else float(st.best)
        self.validation_scores_ = st.scores if self.early_stopping else None
        self.best_validation_score_ = float(st.best) if self.early_stopping else None
        if st.best_params is not None:
            for layer, W, b in zip(self.model_.layers, st.best_params[::2], st.best_params[1::2]):
                layer.W, layer.b = W, b
        if not st.converged and not self.history_.diverged and self.n_iter_ == self.max_iter:
            warnings.warn(f"{type(self).__name__}: max_iter={self.max_iter} epochs reached and the "
                          f"optimization has not converged yet", ConvergenceWarning, stacklevel=3)
        self._calls = 1
        return self

    def _partial_fit(self, X, y, classes=None):
        first = not hasattr(self, "model_")
        if first:
            self._check_params()
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32), reset=first, **self._y_validation())
        y = self._encode_y(y, first=first, classes=classes)
        if first:
            seed_init, seed_shuffle, _ = self._seeds()
            self._new_model(X.shape[1], seed_init)
            self._shuffle_seed, self._calls = seed_shuffle, 0
        self._train(X, y, epochs=1, seed=getattr(self, "_shuffle_seed", 0) + self._calls, stop=False)
        self._calls += 1
        return self

    def _logits(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        return np.asarray(self.model_.forward(X), dtype=np.float64)

    def __getstate__(self):
        # The optimizer's per-model state is keyed by weak references, which do not pickle; the
        # model (fastinit.MLP) pickles its arrays. partial_fit after unpickling restarts the
        # optimizer state (momentum buffers, Adam moments) from zero.
        state = super().__getstate__()
        state.pop("_optimizer", None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multilayer perceptron classifier trained by fastinit's C engine, with any init scheme.

    hidden_layer_sizes: units per hidden layer, e.g. (100,) or (256, 256); () is a linear model.
    activation: a fastinit activation (relu, tanh, leaky_relu, ("leaky_relu", 0.2), gelu, ...;
        sklearn's "logistic" is "sigmoid"), or a list with one per hidden layer.
    init, bias_init: fastinit.init schemes for weights and biases ("he_normal", "zeros", "lsuv",
        "identity:gain=1.5", an Initializer, or a list with one per layer).
    optimizer: "sgd", "momentum", "nesterov" (SGD with `momentum`), "adam" or "adamw"; lr its
        learning rate; weight_decay None keeps the optimizer's default (0, AdamW 0.01).
    batch_size: rows per step (None: full batch); max_iter: epochs; shuffle each epoch.
    Stopping as scikit-learn's MLP: after n_iter_no_change epochs without an improvement of
    more than tol of the training loss, or with early_stopping, of the accuracy on a stratified
    validation_fraction held out (the best weights are kept).
    random_state: seeds the init, the shuffling and the split (None: fresh each fit).
    dtype: "float32" (fast path) or "float64". verbose: 1 a progress bar, 2 a line per epoch.

    Two classes use one sigmoid output (decision_function is its logit), more a softmax.
    Fitted: model_ (the fastinit.MLP), classes_, n_features_in_, n_iter_ (epochs), t_ (steps),
    loss_curve_, loss_, best_loss_, validation_scores_, best_validation_score_, history_ (the
    last fastinit History).
    """

    def _y_validation(self) -> dict:
        return {}

    def _n_outputs(self) -> int:
        return 1 if len(self.classes_) == 2 else len(self.classes_)

    @property
    def _output(self) -> str:  # type: ignore[override]
        return "sigmoid" if len(self.classes_) == 2 else "softmax"

    def _encode_y(self, y, first: bool, classes=None):
        check_classification_targets(y)
        if first:
            cls = unique_labels(y) if classes is None else unique_labels(np.asarray(classes))
            if len(cls) < 2:
                raise ValueError(f"{type(self).__name__} needs at least 2 classes; y has 1 class: {cls[0]!r}")
            self.classes_ = cls
        elif classes is not None and not np.array_equal(unique_labels(np.asarray(classes)), self.classes_):
            raise ValueError(f"classes={classes!r} differs from the classes of the first partial_fit "
                             f"({self.classes_!r})")
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, len(self.classes_) - 1)
        bad = self.classes_[idx] != y
        if bad.any():
            raise ValueError(f"y contains labels not in classes_ ({self.classes_!r}): {np.unique(y[bad])!r}")
        if len(self.classes_) == 2:
            return idx.astype(self._dtype())[:, None]
        return idx.astype(np.int64)

    def _val_score(self, model: MLP, evaluation: dict, Xv, yv, n) -> float:
        return float(evaluation["val_acc"])

    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike) -> "MLPClassifier":
        """Train a new model on (X, y) for up to max_iter epochs."""
        return self._fit(X, y)

    def partial_fit(self, X: npt.ArrayLike, y: npt.ArrayLike, classes: npt.ArrayLike | None = None) -> "MLPClassifier":
        """One epoch on (X, y), continuing the model (and optimizer state). The first call
        needs `classes`, all the labels the model will see (scikit-learn's convention)."""
        if not hasattr(self, "model_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        return self._partial_fit(X, y, classes)

    def decision_function(self, X: npt.ArrayLike) -> np.ndarray:
        """Logits: (n,) for two classes (> 0 means classes_[1]), else (n, n_classes)."""
        z = self._logits(X)
        return z[:, 0] if z.shape[1] == 1 else z

    def predict_proba(self, X: npt.ArrayLike) -> np.ndarray:
        """Class probabilities (n, n_classes), computed in float64 from the logits."""
        z = self._logits(X)
        if z.shape[1] == 1:
            p = np.exp(-np.logaddexp(0.0, -z[:, 0]))  # sigmoid, stable for large |z|
            return np.stack([1.0 - p, p], axis=1)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X: npt.ArrayLike) -> np.ndarray:
        """log of predict_proba, computed stably from the logits."""
        z = self._logits(X)
        if z.shape[1] == 1:
            return np.stack([-np.logaddexp(0.0, z[:, 0]), -np.logaddexp(0.0, -z[:, 0])], axis=1)
        return z - np.logaddexp.reduce(z, axis=1, keepdims=True)

    def predict(self, X: npt.ArrayLike) -> np.ndarray:
        """Class labels (n,), of the type of classes_."""
        z = self._logits(X)
        idx = (z[:, 0] > 0).astype(np.intp) if z.shape[1] == 1 else z.argmax(axis=1)
        return self.classes_[idx]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multilayer perceptron regressor (mean squared error) trained by fastinit's C engine.

    Parameters as MLPClassifier; with early_stopping the validation score is R^2. y may be
    (n,) or (n, outputs). Fitted: model_, n_features_in_, n_outputs_, and the training record
    as MLPClassifier's.
    """

    _output = "identity"

    def _y_validation(self) -> dict:
        return {"multi_output": True, "y_numeric": True}

    def _n_outputs(self) -> int:
        return self.n_outputs_

    def _encode_y(self, y, first: bool, classes=None):
        y = np.asarray(y)
        k = 1 if y.ndim == 1 else y.shape[1]
        if first:
            self.n_outputs_, self._y_1d = k, y.ndim == 1
        elif k != self.n_outputs_:
            raise ValueError(f"y has {k} outputs; the model was fitted with {self.n_outputs_}")
        return np.ascontiguousarray(y.reshape(len(y), k), dtype=self._dtype())

    def _val_score(self, model: MLP, evaluation: dict, Xv, yv, n) -> float:
        return float(r2_score(yv, model.forward(Xv)))

    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike) -> "MLPRegressor":
        """Train a new model on (X, y) for up to max_iter epochs."""
        return self._fit(X, y)

    def partial_fit(self, X: npt.ArrayLike, y: npt.ArrayLike) -> "MLPRegressor":
        """One epoch on (X, y), continuing the model (and optimizer state)."""
        return self._partial_fit(X, y)

    def predict(self, X: npt.ArrayLike) -> np.ndarray:
        """Predictions (n,) for a 1-D y at fit, else (n, outputs); float64."""
        z = self._logits(X)
        return z[:, 0] if self._y_1d else z

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
