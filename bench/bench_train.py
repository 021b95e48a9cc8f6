"""One training step (forward, softmax cross-entropy, backward, SGD update; float32) of
fastinit.MLP against the plain-NumPy step of bench/numpy_mlp.py, PyTorch CPU eager and JAX
(jax.jit of the same step on CPU, an optional dependency: skipped without it), from the same
weights, at 1 and 2 threads. Before timing, each peer's loss and updated weights are checked
against fastinit's. XLA fixes its thread count when JAX first runs, so this module asks for
one thread (unless XLA_FLAGS is set), and JAX runs only in the 1-thread rows; JAX 0.10's CPU
runtime ignores that request (its L step took 45 ms of CPU per 23 ms of wall), so the JAX rows
also run with every thread of the process held to one CPU (conftest.one_cpu).

Run: pytest bench/bench_train.py --benchmark-json=train.json && python bench/summarize.py train.json
Or:  python bench/bench_train.py [--threads 1 2] [--seconds 2]   (all timed in turns, so they
     see the same load: the ratios to read on a shared machine; 1 thread in CPU time). JAX is
     timed by the pytest run only: its step runs on XLA threads that spin while they wait, so
     its CPU time is 3x its wall time, and in turns with other work they fall asleep between
     calls (a slower wall time than its own steady state).
"""
import argparse
import contextlib
import os
import sys

# Before anything imports JAX: XLA's CPU client reads its thread count once.
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # this checkout's fastinit
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fastinit  # noqa: E402
from fastinit import optim  # noqa: E402
from numpy_mlp import NumpyMLP  # noqa: E402

#: name -> (sizes, hidden activation, batch)
NETS = {
    "S": ([64, 64, 64, 10], "relu", 64),
    "D9": ([64] + [64] * 9 + [10], "tanh", 64),
    "M": ([784, 256, 256, 10], "relu", 128),
    "L": ([784, 1024, 1024, 1024, 10], "relu", 256),
}
LR = 0.01


def flops(sizes, n):
    """Multiply-adds of one step, counted as 2 flops: forward, dW and dX products (6 n fan_in fan_out)."""
    return 6.0 * n * sum(a * b for a, b in zip(sizes, sizes[1:]))


def setup(net):
    sizes, act, n = NETS[net]
    model = fastinit.MLP(sizes, activation=act, init="he_normal" if act == "relu" else "xavier_normal", seed=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], n)
    return model, X, y


def torch_net(model, act):
    torch = pytest.importorskip("torch")
    layers = []
    for i, l in enumerate(model.layers):
        lin = torch.nn.Linear(l.fan_in, l.fan_out)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(l.W))
            lin.bias.copy_(torch.from_numpy(l.b))
        layers.append(lin)
        if i < len(model.layers) - 1:
            layers.append(torch.nn.ReLU() if act == "relu" else torch.nn.Tanh())
    net = torch.nn.Sequential(*layers)
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    return torch, net, loss_fn, opt


def jax_step(model, act):
    """jax.jit of the same step (forward, softmax cross-entropy, jax.grad, SGD) on CPU; returns
    a step function that keeps the parameters between calls, and a getter for them."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_platforms", "cpu")
    jnp = jax.numpy
    f = jax.nn.relu if act == "relu" else jnp.tanh

    def loss_fn(params, X, y):
        h = X
        for i, (W, b) in enumerate(params):
            h = h @ W.T + b
            if i < len(params) - 1:
                h = f(h)
        return jnp.mean(jax.nn.logsumexp(h, axis=1) - jnp.take_along_axis(h, y[:, None], axis=1)[:, 0])

    @jax.jit
    def update(params, X, y):
        loss, g = jax.value_and_grad(loss_fn)(params, X, y)
        return [(W - LR * gW, b - LR * gb) for (W, b), (gW, gb) in zip(params, g)], loss

    state = {"params": [(jnp.asarray(l.W), jnp.asarray(l.b)) for l in model.layers]}

    def step(X, y):
        state["params"], loss = update(state["params"], X, y)
        return jax.block_until_ready(loss)

    return step, lambda: [np.asarray(p) for Wb in state["params"] for p in Wb]


@contextlib.contextmanager
def torch_threads(torch, n):
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def check(model, params_before, loss, want_loss, want_params):
    """A peer's loss and updated parameters against fastinit's, to float32 rounding."""
    assert loss == pytest.approx(want_loss, rel=1e-4)
    for p, q, p0 in zip(model.parameters(), want_params, params_before):
        np.testing.assert_allclose(p, q, rtol=1e-5, atol=1e-6)
        dq = q - p0
        np.testing.assert_allclose(p - p0, dq, rtol=0, atol=1e-3 * np.abs(dq).max())


@pytest.mark.parametrize("impl", ["fastinit", "numpy", "torch", "jax"])
@pytest.mark.parametrize("net", list(NETS))
def test_train_step(benchmark, nthreads, settle, net, impl):
    if impl == "jax" and nthreads != 1:
        pytest.skip("XLA's CPU threads are fixed at one for this module (see the docstring)")
    sizes, act, n = NETS[net]
    fn, ctx = step_fn(net, impl, nthreads)
    benchmark.extra_info.update(flops=flops(sizes, n), case=case(net), threads=nthreads, impl=impl)
    settle()
    with ctx:
        benchmark(fn)


def case(net):
    sizes, act, n = NETS[net]
    return f"{net} {'-'.join(map(str, sizes))} {act} b{n}"


def step_fn(net, impl, nthreads):
    """(one training step of `impl` on its own copy of the net, the context to time it in); a
    peer's first step is checked against fastinit's from the same weights."""
    sizes, act, n = NETS[net]
    model, X, y = setup(net)
    opt = optim.SGD(LR)
    before = [p.copy() for p in model.parameters()]
    ctx = contextlib.nullcontext()
    if impl == "fastinit":
        fn = lambda: model.train_step(X, y, opt)  # noqa: E731
        fn()
    elif impl == "numpy":
        ref = NumpyMLP([l.W for l in model.layers], [l.b for l in model.layers], act)
        loss = ref.step(X, y, LR)
        check(model, before, model.train_step(X, y, opt),
              loss, [p for W, b in zip(ref.W, ref.b) for p in (W, b)])
        fn = lambda: ref.step(X, y, LR)  # noqa: E731
    elif impl == "jax":
        step, params = jax_step(model, act)
        import jax.numpy as jnp

        tX, ty = jnp.asarray(X), jnp.asarray(y)
        loss = float(step(tX, ty))
        check(model, before, model.train_step(X, y, opt), loss, params())
        fn = lambda: step(tX, ty)  # noqa: E731
        from conftest import one_cpu

        ctx = one_cpu()
    else:
        torch, tnet, loss_fn, topt = torch_net(model, act)
        tX, ty = torch.from_numpy(X), torch.from_numpy(y)

        def fn():
            topt.zero_grad()
            loss = loss_fn(tnet(tX), ty)
            loss.backward()
            topt.step()
            return loss

        loss = fn().item()
        check(model, before, model.train_step(X, y, opt), loss,
              [t.detach().numpy() for t in tnet.parameters()])
        ctx = torch_threads(torch, nthreads)
    return fn, ctx


def main():
    from conftest import interleaved, threads

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seconds", type=float, default=2.0, help="per net")
    ap.add_argument("--nets", nargs="+", default=list(NETS))
    args = ap.parse_args()
    peers = ["numpy", "torch"]
    print("| case | threads | fastinit median | " + " | ".join(f"{p} median" for p in peers) + " | fastinit GFLOP/s | "
          + " | ".join(f"speed vs {p}" for p in peers) + " |")
    print("|---" * (4 + 2 * len(peers)) + "|")
    for nt in args.threads:
        with threads(nt), contextlib.ExitStack() as stack:
            for net in args.nets:
                fns = {}
                for impl in ["fastinit"] + peers:
                    try:
                        fn, ctx = step_fn(net, impl, nt)
                    except pytest.skip.Exception:  # optional peer not installed
                        continue
                    stack.enter_context(ctx)
                    fns[impl] = fn
                t = interleaved(fns, args.seconds, nt)
                f = t["fastinit"]
                cells = [_fmt(t[p]) if p in t else "-" for p in peers]
                ratios = [f"{t[p] / f:.2f}x" if p in t else "-" for p in peers]
                sizes, _, n = NETS[net]
                print(f"| {case(net)} | {nt} | {_fmt(f)} | " + " | ".join(cells)
                      + f" | {flops(sizes, n) / f / 1e9:.1f} | " + " | ".join(ratios) + " |", flush=True)


def _fmt(t):
    return f"{t * 1e6:.1f} us" if t < 1e-3 else f"{t * 1e3:.2f} ms"


if __name__ == "__main__":
    main()
