"""fastinit.matmul against NumPy (OpenBLAS) on the same operands, float32 and float64, 1 and 2
threads.

Run: pytest bench/bench_gemm.py --benchmark-json=gemm.json && python bench/summarize.py gemm.json
Or:  python bench/bench_gemm.py [--threads 1 2] [--seconds 1]   (the two timed in turns, so
     both see the same load: the ratios to read on a shared machine; 1 thread in CPU time)
     python bench/bench_gemm.py --small-path   (one thread: the small path against the packed
     ones in turns, on the products around its measured limit, and what the measurement chose)
"""
import argparse
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # this checkout's fastinit
import fastinit  # noqa: E402

SHAPES = [(n, n, n) for n in (64, 128, 256, 512, 1024, 2048)] + [
    (128, 256, 784), (256, 1024, 1024), (256, 10, 1024)]  # (m, n, k); (64,64,64) is n=64
# Inside the small path's band (csrc/gemm/gemm_kernels.h, fi_small_limit_t): above 512^3 it never runs.
SMALL_PATH_SHAPES = [(n, n, n) for n in (300, 400, 512)] + [
    (128, 256, 784), (256, 256, 1024), (1024, 64, 1024)]


@pytest.mark.parametrize("impl", ["fastinit", "numpy"])
@pytest.mark.parametrize("mnk", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_gemm(benchmark, nthreads, settle, mnk, impl, dtype):
    m, n, k = mnk
    fn = products(mnk, dtype)[impl]
    benchmark.extra_info.update(flops=2.0 * m * n * k, case=f"{np.dtype(dtype).name} {m}x{n}x{k}",
                                threads=nthreads, impl=impl)
    settle()
    benchmark(fn)


def products(mnk, dtype):
    """impl -> the product on one pair of operands, each checked against float64 once."""
    m, n, k = mnk
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=dtype)
    b = rng.standard_normal((k, n), dtype=dtype)
    out = np.empty((m, n), dtype)
    fns = {"fastinit": lambda: fastinit.matmul(a, b, out=out), "numpy": lambda: np.matmul(a, b, out=out)}
    want = a.astype(np.float64) @ b.astype(np.float64)
    eps = 1e-4 if dtype == np.float32 else 1e-12
    for fn in fns.values():
        out[...] = np.nan
        fn()
        np.testing.assert_allclose(out, want, rtol=0, atol=eps * np.sqrt(k) * np.abs(want).max())
    return fns


def main():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from conftest import interleaved, threads

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seconds", type=float, default=1.0, help="per case")
    ap.add_argument("--small-path", action="store_true", help="the small path against the packed ones")
    args = ap.parse_args()
    if args.small_path:
        with threads(1):
            small_path(args.seconds, interleaved)
        return
    print("| case | threads | fastinit median | numpy median | fastinit GFLOP/s | numpy GFLOP/s | speed vs numpy |")
    print("|---|---|---|---|---|---|---|")
    for nt in args.threads:
        with threads(nt):
            for dtype in (np.float32, np.float64):
                for m, n, k in SHAPES:
                    t = interleaved(products((m, n, k), dtype), args.seconds, nt)
                    g = 2e-9 * m * n * k
                    print(f"| {np.dtype(dtype).name} {m}x{n}x{k} | {nt} | {_fmt(t['fastinit'])} | "
                          f"{_fmt(t['numpy'])} | {g / t['fastinit']:.1f} | {g / t['numpy']:.1f} | "
                          f"{t['numpy'] / t['fastinit']:.2f}x |", flush=True)


def small_path(seconds, interleaved):
    """One thread, in turns: each product with the small path's limit pinned below it (the
    packed paths) and above it (the small path); then the limits this process measures."""
    from fastinit import _core

    print("| product | dtype | packed paths | small path | small / packed |")
    print("|---|---|---|---|---|")
    for dtype in (np.float32, np.float64):
        for m, n, k in SMALL_PATH_SHAPES:
            run = products((m, n, k), dtype)["fastinit"]

            def pinned(limit):
                def go():
                    _core.gemm_pin_small_limit(limit)
                    run()
                return go

            t = interleaved({"packed": pinned(0), "small": pinned(1 << 40)}, seconds, 1)
            print(f"| {m}x{n}x{k} | {np.dtype(dtype).name} | {_fmt(t['packed'])} | {_fmt(t['small'])} | "
                  f"{t['small'] / t['packed']:.3f} |", flush=True)
    _core.gemm_pin_small_limit(-1)
    for f64 in (False, True):
        limit = _core.gemm_small_limit(f64)
        name = "float64" if f64 else "float32"
        print(f"measured limit, {name}: {limit} = {limit ** (1 / 3):.0f}^3 "
              f"({fastinit.kernel_info()['small_path']['why'][name]})")


def _fmt(t):
    return f"{t * 1e6:.1f} us" if t < 1e-3 else f"{t * 1e3:.2f} ms"


if __name__ == "__main__":
    main()
