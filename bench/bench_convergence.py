"""Convergence: every run of every `fastinit compare --preset`, trained by fastinit and by the same
loop in PyTorch (same initial weights, same batches in the same order, same optimizer, the same
evaluations), one thread each. Records steps and seconds (training steps only) to the preset's
target and the final test accuracy, so the time a user saves is a ratio measured side by side.

Run: pytest bench/bench_convergence.py --benchmark-json=conv.json && python bench/summarize.py conv.json
"""
import time

import numpy as np
import pytest

import fastinit
from fastinit import study
from fastinit.study import presets


def _runs():
    out = []
    for preset in sorted(presets.PRESETS):
        kw = dict(presets.PRESETS[preset])
        configs, _ = study.plan(inits=kw.pop("inits"), **kw)
        out += [pytest.param(preset, cfg, id=f"{preset}-{cfg.init}-seed{cfg.seed}"
                             + (f"-{cfg.activation}" if isinstance(kw.get("activation"), list) else ""))
                for cfg in configs]
    return out


def torch_run(cfg):
    """study.run's training loop (fastinit.fit) written in PyTorch: a dict like study.run's."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    ds, model = study.initial_model(cfg)
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "identity": nn.Identity}
    layers = []
    for i, layer in enumerate(model.layers):
        lin = nn.Linear(layer.fan_in, layer.fan_out)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(layer.W))
            lin.bias.copy_(torch.from_numpy(layer.b))
        layers += [lin] + ([acts[cfg.activation]()] if i < len(model.layers) - 1 else [])
    net = nn.Sequential(*layers)
    sigmoid = cfg.output == "sigmoid"
    loss_fn = nn.BCEWithLogitsLoss() if sigmoid else nn.CrossEntropyLoss()

    def target_tensor(y):
        return torch.from_numpy(y.astype(np.float32)).reshape(-1, 1) if sigmoid else torch.from_numpy(y)

    X, y = torch.from_numpy(ds.X_train.astype(np.float32)), target_tensor(ds.y_train)
    Xv, yv = torch.from_numpy(ds.X_test.astype(np.float32)), ds.y_test
    name = cfg.optimizer.lower()
    if name in ("sgd", "momentum", "nesterov"):
        momentum = cfg.momentum or (0.9 if name != "sgd" else 0.0)
        opt = torch.optim.SGD(net.parameters(), lr=cfg.lr, momentum=momentum, nesterov=name == "nesterov")
    else:
        opt = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name](net.parameters(), lr=cfg.lr)

    def val_acc():
        with torch.no_grad():
            out = net(Xv).numpy()
        pred = (out[:, 0] > 0) if sigmoid else out.argmax(axis=1)
        return float((pred == yv).mean())

    n = len(X)
    bs = cfg.batch_size or n
    rng = np.random.default_rng(cfg.seed)  # the batch order fastinit.fit draws
    step, train_time, first_loss = 0, 0.0, None
    hit = (None, None)
    acc = val_acc()
    if cfg.target is not None and acc >= cfg.target:
        hit = (0, 0.0)
    while step < cfg.steps:
        order = torch.from_numpy(rng.permutation(n)) if cfg.batch_size else None
        for s in range(0, n, bs):
            xb, yb = (X[s:s + bs], y[s:s + bs]) if order is None else (X[order[s:s + bs]], y[order[s:s + bs]])
            t0 = time.perf_counter()
            opt.zero_grad()
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
            train_time += time.perf_counter() - t0
            first_loss = loss.item() if first_loss is None else first_loss
            step += 1
            if step % cfg.eval_every == 0 or step == cfg.steps:
                acc = val_acc()
                if hit[0] is None and cfg.target is not None and acc >= cfg.target:
                    hit = (step, train_time)
            if step == cfg.steps:
                break
    return {"steps_to_target": hit[0], "seconds_to_target": hit[1], "final": {"val_acc": acc},
            "first_loss": first_loss}


def _first_batch_loss(cfg):
    """fastinit's loss on the first batch fit draws: the torch loop must start from the same."""
    ds, model = study.initial_model(cfg)
    n = len(ds.X_train)
    idx = np.random.default_rng(cfg.seed).permutation(n)[:cfg.batch_size] if cfg.batch_size else np.arange(n)
    return model.loss(ds.X_train[idx], ds.y_train[idx])


@pytest.fixture
def one_thread():
    old = fastinit.get_num_threads()
    fastinit.set_num_threads(1)
    yield
    fastinit.set_num_threads(old)


@pytest.mark.parametrize("impl", ["fastinit", "torch"])
@pytest.mark.parametrize("preset,cfg", _runs())
def test_convergence(benchmark, preset, cfg, impl, one_thread):
    if impl == "torch":
        pytest.importorskip("torch").set_num_threads(1)
    res = benchmark.pedantic(torch_run if impl == "torch" else study.run, args=(cfg,), rounds=1, iterations=1)
    if impl == "torch":
        assert res["first_loss"] == pytest.approx(_first_batch_loss(cfg), rel=1e-4), "not the same run"
    benchmark.extra_info.update(
        case=f"{preset}: {cfg.init}" + (f" ({cfg.activation})" if preset == "glorot2010" else ""), threads=1,
        impl=impl, seed=cfg.seed, steps_to_target=res["steps_to_target"],
        seconds_to_target=res["seconds_to_target"], test_acc=res["final"]["val_acc"])
