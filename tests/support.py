"""Helpers the tests share: kernel sets and thread counts set for a block and restored after,
and the one numerical-gradient check (central differences in float64)."""
import contextlib
import os

import numpy as np

import fastinit
from fastinit import _core, runtime


def has_kernel(name: str) -> bool:
    return name in runtime.available_kernels()


#: The kernel set this test process runs on (CI runs suites under FASTINIT_KERNEL=ref and avx2).
ENV_KERNEL = os.environ.get("FASTINIT_KERNEL", "auto") or "auto"


@contextlib.contextmanager
def kernel_set(name: str):
    """Every kernel family on the set `name` inside the block; the process's set after."""
    runtime.select_kernel(name)
    try:
        yield name
    finally:
        runtime.select_kernel(ENV_KERNEL)


@contextlib.contextmanager
def num_threads(n: int):
    """The kernels on n threads inside the block; the count before, after."""
    before = fastinit.get_num_threads()
    fastinit.set_num_threads(n)
    try:
        yield n
    finally:
        fastinit.set_num_threads(before)


def numerical_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d f / d x by central differences, one element at a time, in place on float64 x."""
    g = np.zeros_like(x)
    flat, gf = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        fp = f()
        flat[i] = old - eps
        fm = f()
        flat[i] = old
        gf[i] = (fp - fm) / (2 * eps)
    return g


def act_kernel() -> str:
    return _core.act_kernel()
