"""fastinit.matmul against NumPy (OpenBLAS) on the same operands, float32, 1 and 2 threads.

Run: pytest bench/bench_gemm.py --benchmark-json=gemm.json && python bench/summarize.py gemm.json
"""
import numpy as np
import pytest

import fastinit

SHAPES = [(n, n, n) for n in (64, 128, 256, 512, 1024, 2048)] + [
    (128, 256, 784), (256, 1024, 1024), (256, 10, 1024)]  # (m, n, k); (64,64,64) is n=64


@pytest.mark.parametrize("impl", ["fastinit", "numpy"])
@pytest.mark.parametrize("mnk", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_sgemm(benchmark, nthreads, settle, mnk, impl):
    m, n, k = mnk
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    out = np.empty((m, n), np.float32)
    fn = {"fastinit": lambda: fastinit.matmul(a, b, out=out),
          "numpy": lambda: np.matmul(a, b, out=out)}[impl]
    fn()
    want = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-4 * np.sqrt(k) * np.abs(want).max())
    benchmark.extra_info.update(flops=2.0 * m * n * k, case=f"{m}x{n}x{k}", threads=nthreads, impl=impl)
    settle()
    benchmark(fn)
