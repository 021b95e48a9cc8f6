"""fastinit.sklearn: scikit-learn's estimator checks, Pipeline and GridSearchCV (an init study on
digits), clone, pickle and joblib round trips, partial_fit and labels of any type."""
import io
import pickle
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, make_classification, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import fastinit  # noqa: E402
from fastinit.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@parametrize_with_checks([MLPClassifier(hidden_layer_sizes=(16,), max_iter=100),
                          MLPRegressor(hidden_layer_sizes=(32,), max_iter=300),
                          MLPClassifier(hidden_layer_sizes=(8, 8), optimizer="nesterov", lr=0.05,
                                        init="xavier_normal", dtype="float64", max_iter=100)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_defaults_pass_check_estimator():
    # The checks above use small nets for speed; the defaults must pass too.
    from sklearn.utils.estimator_checks import check_estimator

    check_estimator(MLPClassifier())
    check_estimator(MLPRegressor())


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X, y


def test_grid_search_over_inits_on_digits_does_not_prefer_zeros(digits):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), MLPClassifier((32,), max_iter=15, lr=0.01, random_state=0))
    inits = ["zeros", "xavier_normal", "he_normal"]
    search = GridSearchCV(pipe, {"mlpclassifier__init": inits}, cv=3).fit(X, y)
    scores = dict(zip(inits, search.cv_results_["mean_test_score"]))
    assert search.best_params_["mlpclassifier__init"] != "zeros"
    # zeros: every hidden ReLU starts at 0 with zero gradient, so only the output bias learns.
    assert scores["zeros"] < 0.3 < 0.9 < min(scores["xavier_normal"], scores["he_normal"])
    assert search.score(X, y) > 0.9


def test_estimator_trains_exactly_as_fastinit_fit(digits):
    # The estimator adds no numerics of its own: the same seeds give fastinit.fit's bits.
    X, y = digits
    X = (X / 16.0).astype(np.float32)
    est = MLPClassifier((24,), init="xavier_uniform", optimizer="momentum", lr=0.05, batch_size=64,
                        max_iter=3, random_state=7).fit(X, y)
    seed_init, seed_shuffle, _ = est._seeds()
    model = fastinit.MLP([64, 24, 10], init="xavier_uniform", seed=seed_init)
    fastinit.fit(model, X, y, optimizer=fastinit.optim.SGD(0.05, momentum=0.9), epochs=3, batch_size=64,
                 seed=seed_shuffle, progress=False)
    for a, b in zip(est.model_.parameters(), model.parameters()):
        np.testing.assert_array_equal(a, b)
    assert est.n_iter_ == 3 and est.t_ == 3 * 29 and len(est.loss_curve_) == 3


@pytest.mark.parametrize("labels", [np.array(["cat", "dog", "emu"]), np.array([-3, 10, 42]),
                                    np.array([False, True])])
def test_labels_of_any_type(labels):
    X, yi = make_classification(200, 6, n_informative=4, n_classes=len(labels), random_state=0)
    y = labels[yi]
    est = MLPClassifier((16,), max_iter=100, lr=0.01, random_state=0).fit(X, y)
    np.testing.assert_array_equal(est.classes_, np.sort(labels))
    pred = est.predict(X)
    assert pred.dtype == y.dtype and set(pred) <= set(labels)
    assert est.score(X, y) > 0.8
    proba = est.predict_proba(X)
    assert proba.shape == (200, len(labels)) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(est.classes_[proba.argmax(axis=1)], pred)
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(proba), atol=1e-10)
    d = est.decision_function(X)
    assert d.shape == ((200,) if len(labels) == 2 else (200, len(labels)))


def test_binary_uses_one_sigmoid_output_and_multiclass_softmax():
    X, y = make_classification(100, 4, random_state=0)
    est = MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
    assert est.model_.output == "sigmoid" and est.model_.sizes == [4, 8, 1]
    z = est.decision_function(X)
    np.testing.assert_allclose(est.predict_proba(X)[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-12)
    X3, y3 = make_classification(100, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=0)
    est = MLPClassifier((8,), max_iter=5, random_state=0).fit(X3, y3)
    assert est.model_.output == "softmax" and est.model_.sizes == [4, 8, 3]


def _roundtrip_equal(est, X, methods):
    a = pickle.loads(pickle.dumps(est))
    buf = io.BytesIO()
    import joblib

    joblib.dump(est, buf)
    buf.seek(0)
    b = joblib.load(buf)
    for other in (a, b):
        assert other.model_ is not est.model_
        for m in methods:
            np.testing.assert_array_equal(getattr(other, m)(X), getattr(est, m)(X))
    return a


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pickle_joblib_clone_round_trips(dtype, digits):
    X, y = digits
    est = MLPClassifier((16,), activation=("leaky_relu", 0.2), init="lsuv", max_iter=3, dtype=dtype,
                        random_state=0).fit(X / 16, y)
    a = _roundtrip_equal(est, X / 16, ["predict", "predict_proba", "decision_function"])
    # The copy trains on independently (its optimizer state starts afresh; the original's weights stay).
    before = [p.copy() for p in est.model_.parameters()]
    a.partial_fit(X / 16, y)
    for p, q in zip(before, est.model_.parameters()):
        np.testing.assert_array_equal(p, q)
    c = clone(est)
    assert not hasattr(c, "model_") and c.get_params() == est.get_params()
    Xr, yr = make_regression(80, 5, n_targets=2, random_state=0)
    reg = MLPRegressor((8,), max_iter=5, dtype=dtype, random_state=0).fit(Xr, yr)
    _roundtrip_equal(reg, Xr, ["predict"])


def test_partial_fit_continues_and_checks_labels(digits):
    X, y = digits
    X = X / 16
    est = MLPClassifier((32,), lr=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        est.partial_fit(X[:100], y[:100])
    est.partial_fit(X[:100], y[:100], classes=np.arange(10))
    losses = []
    for _ in range(10):
        est.partial_fit(X, y)
        losses.append(est.loss_)
    assert est.n_iter_ == 11 and losses[-1] < 0.5 * losses[0]
    with pytest.raises(ValueError, match="not in classes_"):
        est.partial_fit(X[:5], np.array([0, 1, 2, 3, 11]))
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X[:5, :10], y[:5])
    # continuing: same optimizer, weights not reset (fit would reset them)
    w = est.model_.layers[0].W.copy()
    est.partial_fit(X[:50], y[:50])
    assert not np.array_equal(w, est.model_.layers[0].W)
    reg = MLPRegressor((16,), random_state=0, lr=0.01)
    Xr, yr = make_regression(200, 5, random_state=0)
    yr = yr / yr.std()
    for _ in range(30):
        reg.partial_fit(Xr, yr)
    assert reg.score(Xr, yr) > 0.8


def test_early_stopping_keeps_the_best_weights(digits):
    X, y = digits
    est = MLPClassifier((32,), lr=0.01, max_iter=200, early_stopping=True, n_iter_no_change=3,
                        random_state=0).fit(X / 16, y)
    assert est.n_iter_ < 200 and len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    best = int(np.argmax(est.validation_scores_))
    assert est.n_iter_ - 1 - best >= 3  # stopped 3 epochs without an improvement > tol
    reg = MLPRegressor((16,), max_iter=300, early_stopping=True, random_state=0)
    Xr, yr = make_regression(300, 5, noise=10, random_state=0)
    reg.fit(Xr, yr / yr.std())
    assert reg.best_validation_score_ == max(reg.validation_scores_) > 0.5


def test_stops_on_training_loss_plateau():
    X, y = make_classification(200, 5, random_state=0)
    est = MLPClassifier((8,), max_iter=10_000, tol=1e-2, n_iter_no_change=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    assert est.n_iter_ < 10_000 and est.best_loss_ == min(est.loss_curve_)


@pytest.mark.parametrize("name, value, match", [
    ("optimizer", "rmsprop", "optimizer must be one of"), ("lr", 0, "lr must be"),
    ("max_iter", 0, "max_iter must be"), ("batch_size", 0, "batch_size must be"),
    ("hidden_layer_sizes", (4, 0), "hidden_layer_sizes"), ("dtype", "float16", "dtype must be"),
    ("validation_fraction", 1.0, "validation_fraction"), ("init", "kaiming_nope", "unknown init scheme"),
    ("activation", "swish", "unknown activation"), ("momentum", 1.5, "momentum"),
])
def test_bad_parameters_are_named_at_fit(name, value, match):
    X, y = make_classification(40, 4, random_state=0)
    opt = {"optimizer": "momentum"} if name == "momentum" else {}
    est = MLPClassifier(**{name: value, **opt})  # never raises in __init__ (sklearn convention)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)


def test_one_class_is_an_error_naming_it():
    with pytest.raises(ValueError, match="at least 2 classes"):
        MLPClassifier().fit(np.ones((5, 2)), ["a"] * 5)


def test_sklearn_activation_name_logistic():
    X, y = make_classification(60, 4, random_state=0)
    est = MLPClassifier((4,), activation="logistic", max_iter=2, random_state=0).fit(X, y)
    assert est.model_.activations == ["sigmoid"]
