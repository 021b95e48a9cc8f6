"""fastinit.matmul against NumPy (OpenBLAS) on the same operands, float32 and float64, 1 and 2
threads.

Run: pytest bench/bench_gemm.py --benchmark-json=gemm.json && python bench/summarize.py gemm.json
"""
import numpy as np
import pytest

import fastinit

SHAPES = [(n, n, n) for n in (64, 128, 256, 512, 1024, 2048)] + [
    (128, 256, 784), (256, 1024, 1024), (256, 10, 1024)]  # (m, n, k); (64,64,64) is n=64


@pytest.mark.parametrize("impl", ["fastinit", "numpy"])
@pytest.mark.parametrize("mnk", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_gemm(benchmark, nthreads, settle, mnk, impl, dtype):
    m, n, k = mnk
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=dtype)
    b = rng.standard_normal((k, n), dtype=dtype)
    out = np.empty((m, n), dtype)
    fn = {"fastinit": lambda: fastinit.matmul(a, b, out=out),
          "numpy": lambda: np.matmul(a, b, out=out)}[impl]
    fn()
    want = a.astype(np.float64) @ b.astype(np.float64)
    eps = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, want, rtol=0, atol=eps * np.sqrt(k) * np.abs(want).max())
    benchmark.extra_info.update(flops=2.0 * m * n * k, case=f"{np.dtype(dtype).name} {m}x{n}x{k}",
                                threads=nthreads, impl=impl)
    settle()
    benchmark(fn)
