"""K small MLPs trained side by side (issue 14): fastinit.Ensemble against the per-model loop
(MLP.train_step), JAX jit(vmap(lax.scan)) and torch.func vmap, in the same run, one thread.
Figures are per model-step (one model, one SGD step), median process CPU time; JAX's compile
time (wall) is reported apart. JAX runs with the process held to one CPU (conftest.one_cpu):
JAX 0.10's XLA CPU runtime uses every core whatever XLA_FLAGS asks.
Before timing, the ensemble's losses and weights are checked bit for bit against the loop's and
the peers' losses against fastinit's (float32 tolerance).

Run: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_ensemble.py [--quick]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # this checkout's fastinit
import fastinit
from conftest import one_cpu  # bench/, the script's folder
from fastinit import optim

LR = 0.1

#: name -> (sizes, rows of data, batch (None = full batch), steps timed, hidden activation)
WORKLOADS = {
    "tiny": ([2, 16, 16, 2], 300, None, 1500),
    "mnist1d": ([40, 100, 100, 10], 4000, 100, 1000),
}


def flops(sizes, n):
    """Multiply-adds of one step as 2 flops: forward, dW and dX products (6 n fan_in fan_out)."""
    return 6.0 * n * sum(a * b for a, b in zip(sizes, sizes[1:]))


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def problem(name, k, steps):
    sizes, n, bs, _ = WORKLOADS[name]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], n).astype(np.int64)
    if bs is None:
        batches = [np.arange(n)] * steps
    else:
        batches, order = [], []
        while len(batches) < steps:
            order = rng.permutation(n)
            batches += [order[s:s + bs] for s in range(0, n - bs + 1, bs)]
        batches = batches[:steps]
    models = [fastinit.MLP(sizes, activation="relu", init="he_normal", seed=s) for s in range(k)]
    return sizes, X, y, batches, models


def median_time(fn, reps):
    """Median CPU seconds of the process over reps calls: on a machine shared with other jobs,
    CPU time does not count the time the single-threaded work waits for a core."""
    times = []
    for _ in range(reps):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def run_loop(models, X, y, batches, full, opt=None):
    """Today's path: one C call per model per step (batches gathered beforehand); opt: the
    optimizer, SGD(LR) by default."""
    xb = [X] if full else [X[b] for b in batches]
    yb = [y] if full else [y[b] for b in batches]
    opt = opt or optim.SGD(LR)
    out = np.empty((len(models), len(batches)))

    def go():
        for j, m in enumerate(models):
            for t in range(len(batches)):
                out[j, t] = m.train_step(xb[0 if full else t], yb[0 if full else t], opt)
    return go, out


def jax_runner(sizes, X, y, batches, models):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_platforms", "cpu")
    params = [tuple(jnp.stack([jnp.asarray(p) for p in ps]) for ps in zip(*[m.parameters() for m in models]))]
    params = params[0]
    idx = jnp.asarray(np.stack(batches))
    Xj, yj = jnp.asarray(X), jnp.asarray(y)

    def loss_fn(ps, xb, yb):
        h = xb
        L = len(ps) // 2
        for i in range(L):
            h = h @ ps[2 * i].T + ps[2 * i + 1]
            if i < L - 1:
                h = jax.nn.relu(h)
        logz = jax.nn.logsumexp(h, axis=1)
        return jnp.mean(logz - jnp.take_along_axis(h, yb[:, None], axis=1)[:, 0])

    def train_one(ps):
        def body(ps, b):
            l, g = jax.value_and_grad(loss_fn)(ps, Xj[b], yj[b])
            return tuple(p - LR * gi for p, gi in zip(ps, g)), l
        return jax.lax.scan(body, ps, idx)

    f = jax.jit(jax.vmap(train_one))
    t0 = time.perf_counter()
    f = f.lower(params).compile()
    compile_s = time.perf_counter() - t0

    def go():
        out = f(params)
        jax.block_until_ready(out)
        go.losses = np.asarray(out[1])
    return go, compile_s


def torch_runner(sizes, X, y, batches, models):
    import torch
    from torch.func import functional_call, grad_and_value, stack_module_state, vmap

    torch.set_num_threads(1)
    nets = []
    for m in models:
        layers = []
        for i, l in enumerate(m.layers):
            lin = torch.nn.Linear(l.fan_in, l.fan_out)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(l.W))
                lin.bias.copy_(torch.from_numpy(l.b))
            layers += [lin] + ([torch.nn.ReLU()] if i < len(m.layers) - 1 else [])
        nets.append(torch.nn.Sequential(*layers))
    params0, _ = stack_module_state(nets)
    base = nets[0]
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    bt = [torch.from_numpy(np.asarray(b)) for b in batches]

    def loss(p, xb, yb):
        return torch.nn.functional.cross_entropy(functional_call(base, p, (xb,)), yb)

    step = vmap(grad_and_value(loss), in_dims=(0, None, None))

    def go():
        p = {k: v.detach().clone() for k, v in params0.items()}
        ls = []
        with torch.no_grad():
            for b in bt:
                g, lv = step(p, Xt[b], yt[b])
                for k in p:
                    p[k] -= LR * g[k]
                ls.append(lv)
        go.losses = torch.stack(ls, 1).numpy()
    return go


def peer_close(peer, ours):
    """A peer trains the same models: the same losses to float32 rounding over the first steps,
    and within 2% later (float32 rounding differences grow over a long run)."""
    np.testing.assert_allclose(peer[:, :20], ours[:, :20], rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(peer, ours, rtol=2e-2, atol=1e-3)


def bench(name, k, steps, reps, peers):
    sizes, X, y, batches, models = problem(name, k, steps)
    full = WORKLOADS[name][2] is None
    ms = k * steps
    res = {"workload": name, "k": k, "steps": steps}

    # correctness first: the ensemble's losses and weights vs the loop's, bit for bit
    loop_models = [fastinit.MLP(m.sizes, activation="relu", init="he_normal", seed=m.seed) for m in models]
    go_loop, loop_losses = run_loop(loop_models, X, y, batches, full)
    go_loop()
    ens = fastinit.Ensemble(models)
    ens_losses = ens.run(X, y, optim.SGD(LR), batches)
    assert ens_losses.tobytes() == loop_losses.tobytes(), "ensemble losses differ from the loop's"
    for a, b in zip(ens.members, loop_models):
        assert all(p.tobytes() == q.tobytes() for p, q in zip(a.parameters(), b.parameters()))

    def fresh_loop():
        mods = [fastinit.MLP(m.sizes, activation="relu", init="he_normal", seed=m.seed) for m in models]
        return run_loop(mods, X, y, batches, full)[0]

    res["loop"] = median_time(fresh_loop(), reps) / ms
    ens_s = fastinit.Ensemble(models)
    opt_s = optim.SGD(LR)
    if full:
        res["ens_step"] = median_time(lambda: [ens_s.train_step(X, y, opt_s) for _ in range(steps)], reps) / ms
    else:
        xb, yb = [X[b] for b in batches], [y[b] for b in batches]
        res["ens_step"] = median_time(lambda: [ens_s.train_step(a, b, opt_s) for a, b in zip(xb, yb)], reps) / ms
    ens_r = fastinit.Ensemble(models)
    opt_r = optim.SGD(LR)
    res["ens_run"] = median_time(lambda: ens_r.run(X, y, opt_r, batches), reps) / ms
    if "jax" in peers:
        try:
            go, comp = jax_runner(sizes, X, y, batches, models)
            go()
            peer_close(go.losses, ens_losses)
            with one_cpu():  # JAX 0.10's XLA runs on every core whatever it is told
                res["jax"], res["jax_compile_s"] = median_time(go, reps) / ms, comp
        except ImportError:
            pass
    if "torch" in peers:
        try:
            go = torch_runner(sizes, X, y, batches, models)
            go()
            peer_close(go.losses, ens_losses)
            res["torch_vmap"] = median_time(go, max(1, reps // 2)) / ms
        except ImportError:
            pass
    n = X.shape[0] if full else WORKLOADS[name][2]
    res["gflops_ens_run"] = flops(sizes, n) / res["ens_run"] / 1e9
    return res


def bench_fit(reps):
    """The default `fastinit compare` workload as fit calls, one per run, against one
    fit_ensemble call: 5 inits x 3 seeds of 2-16-16-2 on circles (300 rows, full batch,
    1500 SGD steps lr 0.1, eval every 50 on the 100 test rows). Histories checked equal."""
    ds = fastinit.data.circles()
    inits = ["zeros", "random_small", "random_large", "xavier_normal", "he_normal"]
    runs = [(i, s) for i in inits for s in range(3)]
    kw = dict(steps=1500, batch_size=None, shuffle=False, validation_data=(ds.X_test, ds.y_test),
              target=0.95, eval_every=50)
    mk = lambda: [fastinit.MLP([2, 16, 16, 2], init=i, seed=s) for i, s in runs]

    def solo():
        solo.h = [fastinit.fit(m, ds.X_train, ds.y_train, optimizer=optim.SGD(0.1), progress=False, **kw)
                  for m in mk()]

    def together():
        together.h = fastinit.fit_ensemble(fastinit.Ensemble(mk()), ds.X_train, ds.y_train,
                                           optimizer=optim.SGD(0.1), **kw)
    t_solo, t_ens = median_time(solo, reps), median_time(together, reps)
    for a, b in zip(solo.h, together.h):
        da, db = a.to_dict(), b.to_dict()
        for d in (da, db):
            d.pop("wall_time"), d.pop("target_time")
            for e in d["evals"]:
                e.pop("time")
        assert da == db, "fit_ensemble History differs from fit's"
    return t_solo, t_ens


def bench_threads(reps):
    """Ensemble.run of 64 x 2-16-16-2 (300 steps) on 1 and 2 threads: wall seconds (threads
    split the members; the bits are the same, checked)."""
    _, X, y, batches, models = problem("tiny", 64, 300)
    out = {}
    for nt in (1, 2):
        fastinit.set_num_threads(nt)
        ens = fastinit.Ensemble(models)
        opt = optim.SGD(LR)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            loss = ens.run(X, y, opt, batches)
            times.append(time.perf_counter() - t0)
        out[nt] = (statistics.median(times), loss, ens.parameters.copy())
    fastinit.set_num_threads(1)
    assert out[1][1].tobytes() == out[2][1].tobytes() and out[1][2].tobytes() == out[2][2].tobytes()
    return out[1][0] / (64 * 300), out[2][0] / (64 * 300)


#: The lane plan's nets: (label, sizes, activation, rows, batch, optimizer)
PLAN_NETS = [("40-100-100-10 relu, batch 100, SGD", [40, 100, 100, 10], "relu", 4000, 100, lambda: optim.SGD(0.1)),
             ("40-100-100-10 relu, batch 100, Adam", [40, 100, 100, 10], "relu", 4000, 100, lambda: optim.Adam(0.01)),
             ("2-64x12-3 tanh, batch 64, SGD", [2] + [64] * 12 + [3], "tanh", 600, 64, lambda: optim.SGD(0.05)),
             ("2-16-16-2 relu, full batch 300, SGD", [2, 16, 16, 2], "relu", 300, 300, lambda: optim.SGD(0.1))]
PLAN_KS = (4, 5, 6, 8, 12, 16)


def bench_steps(reps):
    """Ensemble.run and Ensemble.train_step alone, per member-step in process CPU time, the
    least of reps calls: a line to compare builds by (copy this file into another checkout:
    it imports the fastinit of the folder it sits in)."""
    out = []
    for name, k, steps in (("tiny", 64, 1500), ("mnist1d", 32, 300)):
        sizes, X, y, batches, models = problem(name, k, steps)
        ens, opt = fastinit.Ensemble(models), optim.SGD(LR)
        ens.run(X, y, opt, batches[:20])
        runs = []
        for _ in range(reps):
            t = time.process_time()
            ens.run(X, y, opt, batches)
            runs.append((time.process_time() - t) / (k * steps))
        xb, yb = [X[b] for b in batches], [y[b] for b in batches]
        ens, opt = fastinit.Ensemble(models), optim.SGD(LR)
        for a, b in zip(xb[:20], yb[:20]):
            ens.train_step(a, b, opt)
        per_step = []
        for _ in range(reps):
            t = time.process_time()
            for a, b in zip(xb, yb):
                ens.train_step(a, b, opt)
            per_step.append((time.process_time() - t) / (k * steps))
        out.append(f"{k} x {'-'.join(map(str, sizes))}: run {min(runs) * 1e6:.2f} us, "
                   f"train_step {min(per_step) * 1e6:.2f} us")
    print(" | ".join(out), flush=True)


def bench_plan(steps=300):
    """Per member-step (process CPU time) of one Ensemble.run of `steps` steps after three
    warm-up calls, for each net of PLAN_NETS and K of PLAN_KS, with the lane plan from the
    calls' own timings and with the fixed half-busy rule, beside the per-model loop."""
    from fastinit import _core

    rng = np.random.default_rng(0)
    print("| net | plan | alone (loop) | " + " | ".join(f"K={k}" for k in PLAN_KS) + " |")
    print("|---|---|---|" + "---|" * len(PLAN_KS))
    for label, sizes, act, rows, bs, opt in PLAN_NETS:
        X = rng.standard_normal((rows, sizes[0]), dtype=np.float32)
        y = rng.integers(0, sizes[-1], rows)
        batches = [rng.permutation(rows)[:bs] for _ in range(steps)]
        loop = median_time(run_loop([fastinit.MLP(sizes, activation=act, seed=0)], X, y, batches, False,
                                    opt())[0], 1) / steps
        for fixed, name in ((True, "half busy"), (False, "measured")):
            _core.lanes_plan_fixed(fixed)
            cells = []
            for k in PLAN_KS:
                ens = fastinit.Ensemble.from_sizes(sizes, seeds=k, activation=act)
                o = opt()
                for _ in range(3):
                    ens.run(X, y, o, batches[:10])
                t0 = time.process_time()
                ens.run(X, y, o, batches)
                cells.append(f"{(time.process_time() - t0) / (k * steps) * 1e6:.1f}")
            print(f"| {label} | {name} | {loop * 1e6:.1f} us | " + " | ".join(cells) + " |", flush=True)
        _core.lanes_plan_fixed(False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps and repetitions (a smoke run)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--peers", default="jax,torch")
    ap.add_argument("--only", default=None, help="'fit', 'threads', 'plan' or 'steps': only that line or table")
    args = ap.parse_args()
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    fastinit.set_num_threads(1)
    peers = set(args.peers.split(",")) if args.peers else set()
    reps = 1 if args.quick else args.reps
    if args.only == "plan":
        bench_plan(30 if args.quick else 300)
        return
    if args.only == "steps":
        bench_steps(max(1, reps // 2 + 1))
        return
    if "fit" in (args.only or "fit"):
        t_solo, t_ens = bench_fit(reps)
        print(f"default study workload, 15 runs: fit loop {t_solo:.3f} s, fit_ensemble {t_ens:.3f} s "
              f"({t_solo / t_ens:.2f}x), Histories equal")
        if args.only == "fit":
            return
    if "threads" in (args.only or "threads"):
        t1, t2 = bench_threads(reps)
        print(f"Ensemble.run 64 x 2-16-16-2, wall per model-step: 1 thread {t1 * 1e6:.2f} us, 2 threads "
              f"{t2 * 1e6:.2f} us ({t1 / t2:.2f}x), same bits")
        if args.only == "threads":
            return
    cases = [("tiny", 8), ("tiny", 64), ("tiny", 256), ("mnist1d", 8), ("mnist1d", 32), ("mnist1d", 256)]
    print(f"CPU: {cpu_name()}; fastinit kernel {fastinit.kernel_info()['kernel']}, 1 thread; median of {reps}; "
          f"load average {os.getloadavg()[0]:.1f}")
    head = ("| workload | K | steps | loop | Ensemble.train_step | Ensemble.run | JAX jit(vmap(scan)) "
            "| JAX compile | torch.func vmap | run vs loop | run vs JAX | run GFLOP/s |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for name, k in cases:
        steps = WORKLOADS[name][3]
        # about as many model-steps per case as at K = 64 (tiny) or 32 (mnist1d)
        ref_k = 64 if name == "tiny" else 32
        steps = max(50, steps * ref_k // max(k, ref_k)) if not args.quick else max(20, steps // 20)
        r = bench(name, k, steps, reps, peers)
        print(row(name, k, steps, r), flush=True)


def row(name, k, steps, r):
    """One markdown table row of bench()'s result r."""
    us = lambda key: f"{r[key] * 1e6:.2f} us" if key in r else "-"  # noqa: E731
    sizes = "-".join(map(str, WORKLOADS[name][0]))
    jax = f"{r['jax_compile_s']:.2f} s" if "jax" in r else "-"
    vs_jax = f"{r['jax'] / r['ens_run']:.2f}x" if "jax" in r else "-"
    return (f"| {k} x {sizes} | {k} | {steps} | {us('loop')} | {us('ens_step')} | {us('ens_run')} | {us('jax')} "
            f"| {jax} | {us('torch_vmap')} | {r['loop'] / r['ens_run']:.2f}x | {vs_jax} | {r['gflops_ens_run']:.1f} |")


if __name__ == "__main__":
    main()
