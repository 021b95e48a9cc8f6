"""A user's script on fastinit's public API, type-checked: tests/test_typing.py runs
`mypy --strict` on it (and runs it). Every call here must type-check without casts or ignores."""
from __future__ import annotations

import os
import tempfile

import numpy as np
import numpy.typing as npt

import fastinit
from fastinit import init, optim, study
from fastinit.sklearn import MLPClassifier
from fastinit.train import History


def make_data(n: int, seed: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 8)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return X, y


def train(scheme: str) -> float:
    X, y = make_data(256, 0)
    model = fastinit.MLP([8, 16, 2], activation="relu", init=scheme, seed=1)
    hist: History = fastinit.fit(model, X, y, optimizer=optim.SGD(0.1, momentum=0.9), epochs=3,
                                 batch_size=32, progress=False)
    steps, acc = hist.metric("train_acc")
    assert len(steps) == len(acc) == hist.epochs + 1
    loss: float = model.train_step(X[:32], y[:32], optim.Adam(1e-3))
    proba = model.predict_proba(X)
    labels = model.predict(X)
    W = model.layers[0].W
    assert W.shape == (16, 8) and proba.shape == (256, 2) and labels.shape == (256,) and loss > 0
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.npz")
        model.save(path)
        again = fastinit.load(path)
        assert np.array_equal(again.forward(X), model.forward(X))
    return float(acc[-1])


def schemes() -> dict[str, float]:
    out: dict[str, float] = {}
    for name in ("xavier_uniform", "he_normal", "orthogonal"):
        w = init.initialize(name, (16, 8), seed=0, dtype=np.float64)
        out[name] = float(w.std())
    std = init.get("he_normal").describe(fan_in=8, fan_out=16)["std"]
    out["he_normal formula"] = float(std)
    return out


def study_table() -> str:
    res = study.compare("circles", ["zeros", "he_normal"], seeds=1, steps=50, sizes=[8], n_jobs=1, progress=False)
    rows = res.table
    assert [r["init"] for r in rows] == ["zeros", "he_normal"]
    return res.format_table()


def estimator() -> float:
    X, y = make_data(200, 1)
    clf = MLPClassifier((16,), init="xavier_normal", optimizer="momentum", lr=0.05, max_iter=20, random_state=0)
    clf.fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (200, 2)
    return float(np.mean(clf.predict(X) == y))


def main() -> None:
    info = fastinit.kernel_info()
    print("kernel", info["kernel"], "threads", fastinit.get_num_threads())
    print("train acc", train("he_normal"))
    print("stds", schemes())
    print(study_table())
    print("estimator acc", estimator())


if __name__ == "__main__":
    main()
