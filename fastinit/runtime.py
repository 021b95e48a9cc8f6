"""The kernels' run-time settings: thread count and kernel set, and the report of both.

The kernel set (GEMM, activations and every SIMD family) is one choice, made at import from
FASTINIT_KERNEL ("auto" by default): "ref" (portable C), "avx2", "avx512" or "neon". All give
the same bits; forcing one lets tests check every path on one machine.
"""
from __future__ import annotations

import os
from typing import Any

from fastinit import _core, _omp_env, _validate

__all__ = ["available_kernels", "get_num_threads", "kernel_info", "select_kernel", "set_num_threads",
           "MAX_THREADS"]

#: More threads than this are refused: OpenMP runtimes abort the process (stack or thread
#: creation failure) long before, and no CPU this library targets has more hardware threads.
MAX_THREADS = 1024


def set_num_threads(n: int) -> None:
    """Threads the kernels use, 1 <= n <= MAX_THREADS. Results do not depend on it."""
    _core.set_num_threads(_validate.integer("set_num_threads: n", n, low=1, high=MAX_THREADS))


def get_num_threads() -> int:
    """Threads the kernels use (from OMP_NUM_THREADS or the core count at import)."""
    return _core.get_num_threads()


def available_kernels() -> list[str]:
    """The kernel sets this CPU can run ("ref" always)."""
    return _core.available_kernels()


def select_kernel(name: str) -> None:
    """Switch every kernel family to the set `name` ("auto" = the widest the CPU runs well) for
    this process. Not thread-safe: call it when no kernel runs."""
    if not isinstance(name, str):
        raise TypeError(f"kernel name must be a str, got {type(name).__name__}")
    rc = _core.select_kernel(name)
    if rc == -1:
        raise ValueError(f"unknown kernel {name!r}; choose one of: auto, " + ", ".join(available_kernels()))
    if rc == -2:
        raise ValueError(f"kernel {name!r} needs a CPU feature this machine lacks; available: "
                         + ", ".join(available_kernels()))


def kernel_info() -> dict[str, Any]:
    """What runs the kernels here and why: the kernel set and its micro-kernels, tiles and
    blocking, the activation kernel, threads and when a product uses them, and what was
    detected (CPU, caches, FMA rates measured at import) that decided each choice."""
    c = _core.cpu_info()
    full, nt = c["fma512_full_rate"], max(2, get_num_threads())
    why = "forced by FASTINIT_KERNEL (or select_kernel)" if c["forced"] else "auto: the widest set this CPU and build run"
    return {
        **_core.gemm_info(), "available": available_kernels(), "activations": _core.act_kernel(),
        "threads": get_num_threads(), "openmp": c["openmp"], "cpu_avx2_fma": c["avx2_fma"],
        "cpu_avx512": c["avx512"], "compiler_flags": c["compiler_flags"],
        "cpu": {"vendor": c["vendor"], "model_name": c["model_name"], "family": c["family"], "model": c["model"]},
        "caches": {"l1d_bytes": c["l1d_bytes"], "l2_bytes": c["l2_bytes"], "l3_bytes": c["l3_bytes"],
                   "l3_shared_by": c["l3_shared_by"], "source": c["cache_source"]},
        "fma": {"gflops_256": round(c["fma256_gflops"], 1), "gflops_512": round(c["fma512_gflops"], 1),
                "fma512_full_rate": None if full < 0 else bool(full),
                "source": "measured at import (thread CPU time, best of 5)" if c["fma256_gflops"] > 0
                          else "not measured (no AVX2)"},
        "kernel_choice": f"{c['kernel']}: {why}",
        "threading": {"wait_policy": _omp_env.WAIT_POLICY, "parallel_region_us": round(c["parallel_overhead_us"], 1),
                      "measured_on_threads": c["parallel_threads"],
                      f"min_flops_for_{nt}_threads": round(_core.parallel_min_flops(nt)),
                      "rule": "thread a product when the time the extra threads save at the measured FMA peak "
                              "exceeds the measured time for sleeping helper threads to wake and join"},
    }


select_kernel(os.environ.get("FASTINIT_KERNEL", "auto") or "auto")
