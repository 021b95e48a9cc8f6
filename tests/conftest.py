import os
import tempfile

import numpy as np
import pytest
from support import act_kernel_set, has_kernel, kernel_set, num_threads

import fastinit
from fastinit import _core, runtime

# The suite's datasets cache (fastinit/_cache.py) is its own, shared by its subprocesses: a test
# run writes nothing to the user's cache and finds nothing of theirs.
os.environ["FASTINIT_CACHE"] = tempfile.mkdtemp(prefix="fastinit-test-cache-")


def _kernel_state():
    return _core.gemm_info()["kernel"], _core.act_kernel(), fastinit.get_num_threads()


@pytest.fixture(autouse=True)
def _leaves_kernels_and_threads_as_found():
    """Every test leaves the kernel sets and the thread count as it found them (use the helpers
    of tests/support.py): a test that forgot would move the tests after it off the set that
    FASTINIT_KERNEL forces, or off the thread count."""
    before = _kernel_state()
    yield
    after = _kernel_state()
    if after != before:  # put it back first, so that one leak does not fail the tests after it
        runtime.select_kernel(before[0])
        _core.select_act_kernel(before[1])
        fastinit.set_num_threads(before[2])
    assert after == before, f"the test left (GEMM set, activation set, threads) {after}, found {before}"


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(params=runtime.available_kernels())
def kernel(request):
    """The test once on every kernel set this CPU runs, every family on it; the sets before, after."""
    with kernel_set(request.param) as name:
        yield name


@pytest.fixture(params=["ref", "avx2", "avx512"])
def act_kernel(request):
    """The test once on the portable, the AVX2 and the AVX-512 activation kernels (the activation
    family alone, skipped where the CPU lacks the set); the set before, after."""
    if not has_kernel(request.param):
        pytest.skip(f"CPU lacks {request.param}")
    with act_kernel_set(request.param) as name:
        yield name


@pytest.fixture
def threads(request):
    """The kernels on `threads` threads for the test (1 unless parametrized indirectly:
    @pytest.mark.parametrize("threads", [1, 2], indirect=True)); the count before, after."""
    with num_threads(getattr(request, "param", 1)) as n:
        yield n


# Products take the small path up to a fixed m*n*k, not this machine's measured limit, so that
# the path tests (test_gemm.py reads the limit when imported) know which side they are on;
# test_gemm.py checks the measurement itself in a process of its own.
_core.gemm_pin_small_limit(1 << 25)


@pytest.fixture(autouse=True, scope="session")
def _thread_every_product():
    """Products of any size take the threaded path at nt > 1, whatever threshold this machine
    and its load measured at import: else the tests of thread-count independence might never
    leave one thread."""
    _core.set_parallel_min_flops(0)
    yield
    _core.set_parallel_min_flops(-1)


@pytest.fixture(autouse=True, scope="session")
def _lane_groups_as_planned():
    """Lane groups planned as if no cost were measured (csrc/fi_lanes.h): the lane tests choose
    K for each kind of group and tail, and a plan from this machine's timings would move them.
    tests/test_ensemble_lanes.py checks the measured plan on its own."""
    _core.lanes_plan_fixed(True)
    yield
    _core.lanes_plan_fixed(False)
