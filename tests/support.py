"""Helpers the tests share: kernel sets and thread counts set for a block and restored after
(also when the block fails), and the one numerical-gradient check (central differences in
float64). tests/conftest.py wraps the first ones in fixtures."""
import contextlib
import html.parser
import os
from collections.abc import Callable, Iterator

import numpy as np

import fastinit
from fastinit import _core, runtime


def python_env(**overrides: str) -> dict:
    """The environment for a child Python: PYTHONPATH led by the directory holding the fastinit
    under test, so that a child started elsewhere (cwd=tmp_path, a script file, stdin) and its
    worker processes import this fastinit, not another one installed on the path."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(fastinit.__file__)))
    env = {**os.environ, **overrides}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    return env


def has_kernel(name: str) -> bool:
    return name in runtime.available_kernels()


def act_kernel() -> str:
    """The activation family's kernel set in use ("ref", "avx2", "avx512")."""
    return _core.act_kernel()


@contextlib.contextmanager
def kernels_restored() -> Iterator[None]:
    """Whatever the block selects, the kernel sets in use before it after: the GEMM's and the
    activations' (they differ inside act_kernel_set), so that a run under FASTINIT_KERNEL=ref
    stays on ref after a test that visits other sets."""
    gemm, act = _core.gemm_info()["kernel"], _core.act_kernel()
    try:
        yield
    finally:
        runtime.select_kernel(gemm)
        _core.select_act_kernel(act)


@contextlib.contextmanager
def kernel_set(name: str) -> Iterator[str]:
    """Every kernel family on the set `name` inside the block; the sets before, after."""
    with kernels_restored():
        runtime.select_kernel(name)
        yield name


@contextlib.contextmanager
def act_kernel_set(name: str) -> Iterator[str]:
    """The activation family alone on the set `name` (the GEMM stays on its own: GEMM 'ref' and
    'avx2' round differently, so activation kernels are compared under one GEMM); the
    activation set before, after."""
    before = _core.act_kernel()
    _core.select_act_kernel(name)
    try:
        yield name
    finally:
        _core.select_act_kernel(before)


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[int]:
    """The kernels on n threads inside the block; the count before, after."""
    before = fastinit.get_num_threads()
    fastinit.set_num_threads(n)
    try:
        yield n
    finally:
        fastinit.set_num_threads(before)


def numerical_gradient(f: Callable[[], object], x: np.ndarray, eps: float = 1e-6, *,
                       elementwise: bool = False) -> np.ndarray:
    """d f / d x by central differences (f(x + eps) - f(x - eps)) / (2 eps), x perturbed in place
    (f reads it; x is float64 and holds its values again on return).

    Default: f() is a scalar; one pair of calls per element of x, the gradient has x's shape.
    elementwise=True: f() is an array of x's shape whose element i depends on x[i] alone (an
    activation): all elements are perturbed at once and the result is the elementwise
    derivative, two calls in all.
    """
    assert x.dtype == np.float64, f"finite differences run in float64, got {x.dtype}"
    if elementwise:
        old = x.copy()
        try:
            x += eps
            fp = np.asarray(f(), dtype=np.float64)
            x[...] = old
            x -= eps
            fm = np.asarray(f(), dtype=np.float64)
        finally:
            x[...] = old
        return (fp - fm) / (2 * eps)
    g = np.zeros_like(x)
    flat, gf = x.reshape(-1), g.reshape(-1)
    assert np.shares_memory(flat, x), "x must be contiguous: it is perturbed through a flat view"
    for i in range(flat.size):
        old = flat[i]
        try:
            flat[i] = old + eps
            fp = f()
            flat[i] = old - eps
            fm = f()
        finally:
            flat[i] = old
        gf[i] = (fp - fm) / (2 * eps)
    return g


class HtmlCells(html.parser.HTMLParser):
    """Table cells (text, attributes) of a page, row by row, and every tag seen."""
    def __init__(self):
        super().__init__()
        self.rows, self._cell, self.tags = [], None, []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = ["", dict(attrs)]

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(tuple(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data
