"""The kernels' run-time settings: thread count and kernel set, and the report of both.

The kernel set (GEMM, activations and every SIMD family) is one choice, made at import from
FASTINIT_KERNEL ("auto" by default): "ref" (portable C), "avx2", "avx512" or "neon". All give
the same bits; forcing one lets tests check every path on one machine.
"""
from __future__ import annotations

import os
from typing import Any

from fastinit import _core, _validate

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
    """What runs the kernels here: kernel set, micro-kernel tiles, block sizes, the activation
    kernel, threads and what the CPU and build offer."""
    cpu = _core.cpu_features()
    return {**_core.gemm_info(), "available": available_kernels(), "activation_kernel": _core.act_kernel(),
            "threads": get_num_threads(), "openmp": cpu["openmp"], "cpu_avx2_fma": cpu["avx2_fma"],
            "cpu_avx512": cpu["avx512"], "compiler_flags": cpu["compiler_flags"]}


select_kernel(os.environ.get("FASTINIT_KERNEL", "auto") or "auto")
