import os

import pytest
from support import num_threads

import fastinit
from fastinit import runtime


def test_thread_count_roundtrip():
    old = fastinit.get_num_threads()
    with num_threads(1):
        assert fastinit.get_num_threads() == 1
        fastinit.set_num_threads(2)
        assert fastinit.get_num_threads() == 2
    assert fastinit.get_num_threads() == old


@pytest.mark.parametrize("n", [0, -3])
def test_thread_count_rejects_nonpositive(n):
    with pytest.raises(ValueError, match=r"n must be an int in \[1, 1024\]"):
        fastinit.set_num_threads(n)


# ---------------------------------------------------------------- issue 12, items 2 and 12
@pytest.mark.parametrize("n, exc", [(2.9, TypeError), ("2", TypeError), (None, TypeError), (True, TypeError),
                                    (0, ValueError), (-1, ValueError), (100000, ValueError)])
def test_set_num_threads_refuses_fractions_strings_and_huge_counts(n, exc):
    before = fastinit.get_num_threads()
    with pytest.raises(exc, match="set_num_threads: n"):
        fastinit.set_num_threads(n)
    assert fastinit.get_num_threads() == before


def test_the_thread_bound_is_stated_and_accepted():
    assert "MAX_THREADS" in runtime.set_num_threads.__doc__ or str(runtime.MAX_THREADS) in str(
        pytest.raises(ValueError, fastinit.set_num_threads, runtime.MAX_THREADS + 1).value)


_UNDER_LIMIT = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
import numpy as np, fastinit
from fastinit import runtime
top = runtime.thread_limit()
assert 1 <= top < runtime.MAX_THREADS, top
try:
    fastinit.set_num_threads(runtime.MAX_THREADS)
except ValueError as e:
    assert "address-space limit" in str(e), e
else:
    raise AssertionError("accepted more threads than the process can start")
fastinit.set_num_threads(top)
a = np.ones((768, 768), np.float32)
assert fastinit.matmul(a, a)[0, 0] == 768
print(fastinit.get_num_threads())
"""


@pytest.mark.parametrize("omp", [None, "100000"])
def test_thread_counts_the_process_cannot_start_are_refused_not_fatal(omp):
    # Under a 2 GiB address-space limit, 1024 thread stacks made the OpenMP runtime exit the process;
    # the pool would start fewer, but their stacks still leave nothing for the arrays.
    import subprocess, sys, os
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(fastinit.__file__)))
    if omp:
        env["OMP_NUM_THREADS"] = omp
    r = subprocess.run([sys.executable, "-c", _UNDER_LIMIT], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert ("more than this process can start" in r.stderr) == bool(omp)


# ---------------------------------------------------------------- threads under a CPU quota
def _fake_root(tmp_path, cgroup, files):
    """A file system root with /proc/self/cgroup and the given files (path -> text)."""
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/self/cgroup").write_text(cgroup)
    for path, text in files.items():
        f = tmp_path / path
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    return str(tmp_path)


@pytest.mark.parametrize("cgroup, files, want", [
    # v2, a container's namespace: its own limit at the root
    ("0::/\n", {"sys/fs/cgroup/cpu.max": "200000 100000\n"}, 2),
    # v2: the tightest of the cgroup and its ancestors, rounded up (1.5 CPUs -> 2)
    ("0::/a/b\n", {"sys/fs/cgroup/a/b/cpu.max": "max 100000\n", "sys/fs/cgroup/a/cpu.max": "150000 100000\n",
                   "sys/fs/cgroup/cpu.max": "400000 100000\n"}, 2),
    ("0::/\n", {"sys/fs/cgroup/cpu.max": "max 100000\n"}, None),
    # v1, mounted as "cpu,cpuacct"; the process's path absent under the mount (no cgroup namespace)
    ("4:memory:/x\n3:cpu,cpuacct:/docker/abc\n", {"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "300000\n",
                                                  "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n"}, 3),
    ("3:cpu:/\n", {"sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n", "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n"}, None),
    ("0::/\n", {}, None),
    ("garbage\n", {"sys/fs/cgroup/cpu.max": "oops\n"}, None),
])
def test_cpu_quota_is_read_from_cgroups(tmp_path, cgroup, files, want):
    assert runtime.cpu_quota(_fake_root(tmp_path, cgroup, files)) == want


def test_no_cgroup_file_means_no_quota(tmp_path):
    assert runtime.cpu_quota(str(tmp_path)) is None


def test_the_default_thread_count_says_where_it_came_from():
    want = "OMP_NUM_THREADS" if os.environ.get("OMP_NUM_THREADS") else ("cgroup CPU quota" if runtime.cpu_quota()
                                                                        else "the CPUs this process may run on")
    assert want in fastinit.kernel_info()["threads_default_from"]
