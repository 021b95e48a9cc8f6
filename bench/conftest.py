"""Shared benchmark helpers: thread control for both fastinit and the peer (NumPy/OpenBLAS)."""
import contextlib
import time

import pytest

import fastinit


@contextlib.contextmanager
def threads(n):
    """Run fastinit and the BLAS behind NumPy with n threads each."""
    from threadpoolctl import threadpool_limits

    old = fastinit.get_num_threads()
    fastinit.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        fastinit.set_num_threads(old)


@pytest.fixture(params=[1, 2], ids=lambda n: f"{n}thr")
def nthreads(request):
    with threads(request.param):
        yield request.param


@pytest.fixture
def settle():
    """Call just before timing. OpenBLAS's worker threads busy-wait ~0.1 s after each call
    (measured: 105 ms of CPU), which would take a core from whatever is timed next; this lets
    them go idle first."""
    return lambda: time.sleep(0.2)
