"""Filling a 4096x4096 float32 array: fastinit's Philox streams vs NumPy's Generator (PCG64),
normal and uniform, 1 and 2 threads (NumPy's generator is single-threaded).

Run: pytest bench/bench_init.py --benchmark-json=init.json && python bench/summarize.py init.json
"""
import numpy as np
import pytest

from fastinit import rng

SHAPE = (4096, 4096)


@pytest.mark.parametrize("impl", ["fastinit", "numpy"])
@pytest.mark.parametrize("dist", ["normal", "uniform"])
def test_fill(benchmark, nthreads, dist, impl):
    out = np.empty(SHAPE, np.float32)
    gen = np.random.default_rng(0)
    fn = {("fastinit", "normal"): lambda: rng.fill(out, "normal", 1, 0, 0.0, 1.0),
          ("fastinit", "uniform"): lambda: rng.fill(out, "uniform", 1, 0, 0.0, 1.0),
          ("numpy", "normal"): lambda: gen.standard_normal(out=out, dtype=np.float32),
          ("numpy", "uniform"): lambda: gen.random(out=out, dtype=np.float32)}[(impl, dist)]
    fn()
    sample = out.ravel()[::97].astype(np.float64)  # checked before timing: the right law
    if dist == "normal":
        assert abs(sample.mean()) < 0.01 and abs(sample.std() - 1) < 0.01
    else:
        assert 0 <= sample.min() and sample.max() < 1 and abs(sample.mean() - 0.5) < 0.01
    benchmark.extra_info.update(case=f"{dist} 4096x4096", threads=nthreads, impl=impl)
    benchmark(fn)
