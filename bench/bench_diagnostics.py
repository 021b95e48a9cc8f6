"""The cost of leaving diagnostics on: fastinit.fit on net M (784-256-256-10 relu, batch 128,
SGD) for 100 steps, without a diagnostics.Monitor, with one every 10 steps (read from the
training steps: the default) and with one on a 128-row probe batch. Target (issue 5): at most
10% more time per step with the default Monitor.

Run: pytest bench/bench_diagnostics.py --benchmark-json=diag.json && python bench/summarize.py diag.json
(the "speed vs" column of the Monitor-less row is the slowdown the Monitor costs).
"""
import numpy as np
import pytest

import fastinit
from fastinit import diagnostics

STEPS, EVERY, BATCH = 100, 10, 128


@pytest.mark.parametrize("impl", ["fastinit", "with Monitor", "with Monitor on a probe batch"])
def test_monitor_overhead(benchmark, nthreads, impl):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(BATCH * 8, 784)).astype(np.float32)
    y = rng.integers(0, 10, len(X))
    model = fastinit.MLP([784, 256, 256, 10], seed=0)
    opt = fastinit.optim.SGD(0.01)

    def train():
        probe = (X[:BATCH], y[:BATCH]) if impl.endswith("probe batch") else ()
        cbs = [diagnostics.Monitor(*probe, every=EVERY)] if impl != "fastinit" else []
        fastinit.fit(model, X, y, optimizer=opt, steps=STEPS, batch_size=BATCH, progress=False, callbacks=cbs)
        return cbs

    cbs = train()  # checked before timing: the Monitor records what it promises
    assert not cbs or [r["step"] for r in cbs[0].records] == list(range(0, STEPS + 1, EVERY))
    benchmark.extra_info.update(case=f"fit M, {STEPS} steps, Monitor every {EVERY}", threads=nthreads, impl=impl)
    benchmark(train)
