"""Shared benchmark helpers: thread control for both fastinit and the peer (NumPy/OpenBLAS), and
interleaved timing for the scripts' own runners."""
import contextlib
import statistics
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


def interleaved(fns, seconds, nthreads, turn=0.02):
    """Median seconds per call of each of fns (name -> callable), timed in turns (each about
    `turn` seconds of calls, at least three, over and over, for `seconds`), so that every one
    sees the same load on a shared machine; the first call of a turn finds the caches as the
    other peers left them, the rest as its own steady state. One thread: the process's CPU
    time (time lost to other processes does not count); more threads: wall time."""
    clock = time.process_time if nthreads == 1 else time.perf_counter
    times = {name: [] for name in fns}
    calls = {}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        fn()
        calls[name] = max(3, int(turn / max(time.perf_counter() - t0, 1e-7)))
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or not all(len(t) >= 9 for t in times.values()):
        for name, fn in fns.items():
            for _ in range(calls[name]):
                t0 = clock()
                fn()
                times[name].append(clock() - t0)
    return {name: statistics.median(t) for name, t in times.items()}
