"""Shared benchmark helpers: thread control for both fastinit and the peer (NumPy/OpenBLAS), and
interleaved timing for the scripts' own runners."""
import contextlib
import os
import statistics
import time

import pytest

import fastinit


@contextlib.contextmanager
def one_cpu():
    """Every thread of this process held to one CPU (the first it may use) inside the block, for
    peers whose own thread setting does not hold (JAX 0.10's XLA CPU runtime); Linux only,
    elsewhere a no-op. Threads started inside inherit it."""
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    tids = [int(t) for t in os.listdir("/proc/self/task")]
    old = {t: os.sched_getaffinity(t) for t in tids}
    cpu = {min(os.sched_getaffinity(0))}
    for t in tids:
        os.sched_setaffinity(t, cpu)
    try:
        yield
    finally:
        for t, mask in old.items():
            try:
                os.sched_setaffinity(t, mask)
            except OSError:  # the thread ended meanwhile
                pass


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


#: OpenBLAS's worker threads busy-wait ~0.1 s after each call (measured: 105-110 ms of CPU in
#: the 0.5 s after a product), which takes a core from whatever runs next on more than one
#: thread; sleeping this long first lets them go idle.
SETTLE_S = 0.2


@pytest.fixture
def settle():
    """Call just before timing: lets OpenBLAS's spinning workers go idle (SETTLE_S)."""
    return lambda: time.sleep(SETTLE_S)


def interleaved(fns, seconds, nthreads, turn=None):
    """Median seconds per call of each of fns (name -> callable), timed in turns (each about
    `turn` seconds of calls, at least three, over and over, for `seconds`), so that every one
    sees the same load on a shared machine; the first call of a turn finds the caches as the
    other peers left them, the rest as its own steady state. One thread: the process's CPU
    time (time lost to other processes does not count), turns of 20 ms; more threads: wall
    time, turns of 0.2 s, each after SETTLE_S with nothing running, so that no peer's turn
    starts while another's threads still spin on a core it needs (OpenBLAS's do for ~0.1 s,
    which made fastinit's 2-thread turns run at 1-thread speed)."""
    clock = time.process_time if nthreads == 1 else time.perf_counter
    turn = turn or (0.02 if nthreads == 1 else 0.2)
    times = {name: [] for name in fns}
    calls = {}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        fn()
        calls[name] = max(3, int(turn / max(time.perf_counter() - t0, 1e-7)))
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or not all(len(t) >= 9 for t in times.values()):
        for name, fn in fns.items():
            if nthreads > 1:
                time.sleep(SETTLE_S)
            for _ in range(calls[name]):
                t0 = clock()
                fn()
                times[name].append(clock() - t0)
    return {name: statistics.median(t) for name, t in times.items()}
