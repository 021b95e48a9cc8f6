"""The kernels' run-time settings: thread count and kernel set, and the report of both.

The kernel set (GEMM, activations and every SIMD family) is one choice, made at import from
FASTINIT_KERNEL ("auto" by default): "ref" (portable C), "avx2", "avx512" or "neon". All give
the same bits; forcing one lets tests check every path on one machine.
"""
from __future__ import annotations

import os
import warnings
from typing import Any

try:
    import resource
except ImportError:  # not on Windows: no address-space limit to respect there
    resource = None

from fastinit import _core, _validate

__all__ = ["available_kernels", "cpu_quota", "get_num_threads", "kernel_info", "select_kernel", "set_num_threads",
           "thread_limit", "MAX_THREADS"]

#: More threads than this are refused: no CPU this library targets has more hardware threads.
MAX_THREADS = 1024


def _stack_bytes() -> int:
    """The stack each of the task pool's threads gets: the stack limit (glibc's thread default),
    else 32 MiB (glibc's default without a limit)."""
    soft = resource.getrlimit(resource.RLIMIT_STACK)[0]
    return soft if 0 < soft != resource.RLIM_INFINITY else 32 << 20


def _mapped_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def thread_limit() -> int:
    """The most threads set_num_threads accepts: MAX_THREADS, fewer under an address-space
    limit (RLIMIT_AS) that would not hold their stacks in half of what is left (the pool runs
    on the threads it could start, but their stacks would leave nothing for the arrays)."""
    if resource is None:
        return MAX_THREADS
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return MAX_THREADS
    room = max(0, soft - _mapped_bytes()) // 2
    return max(1, min(MAX_THREADS, room // (_stack_bytes() + (64 << 10))))


def cpu_quota(root: str = "/") -> int | None:
    """The CPUs a cgroup CPU quota gives this process, rounded up (cgroup v2 cpu.max, v1
    cpu.cfs_quota_us / cpu.cfs_period_us; the tightest over its cgroup and the ancestors that
    exist), or None without one. A container started with --cpus=2 on a 64-core host has 64
    CPUs in its affinity mask and the time of 2: 64 threads would take turns on them. root: the
    file system root to read (tests)."""
    def read(path):
        try:
            with open(os.path.join(root, path.lstrip("/"))) as f:
                return f.read().split()
        except (OSError, UnicodeDecodeError):
            return None

    def ancestors(path):  # /a/b, /a, /
        parts = [p for p in path.split("/") if p]
        return ["/" + "/".join(parts[:i]) for i in range(len(parts), -1, -1)]

    try:
        with open(os.path.join(root, "proc/self/cgroup")) as f:
            lines = [line.rstrip("\n").split(":", 2) for line in f]
    except OSError:
        return None
    best = None
    for fields in lines:
        if len(fields) != 3:
            continue
        _, controllers, path = fields
        if controllers == "":  # v2
            cands = [read(f"sys/fs/cgroup{a.rstrip('/')}/cpu.max") for a in ancestors(path)]
            limits = [(c[0], c[1]) for c in cands if c and len(c) == 2]
        elif "cpu" in controllers.split(","):  # v1, mounted as its controller list or as "cpu"
            limits = []
            for mount in dict.fromkeys([controllers, "cpu"]):
                for a in ancestors(path):
                    q, per = (read(f"sys/fs/cgroup/{mount}{a.rstrip('/')}/cpu.cfs_{x}_us") for x in ("quota", "period"))
                    if q and per:
                        limits.append((q[0], per[0]))
        else:
            continue
        for quota, period in limits:
            try:
                q, per = int(quota), int(period)
            except ValueError:  # "max": no quota
                continue
            if q > 0 and per > 0:
                n = max(1, -(-q // per))
                best = n if best is None else min(best, n)
    return best


def set_num_threads(n: int) -> None:
    """Threads the kernels use, 1 <= n <= thread_limit() (MAX_THREADS = 1024 unless an
    address-space limit lowers it). Results do not depend on it."""
    top = thread_limit()
    if top < MAX_THREADS and not isinstance(n, bool) and isinstance(n, int) and n > top:
        raise ValueError(f"set_num_threads: n must be an int in [1, {top}] (the address-space limit "
                         f"holds no more thread stacks), got {n}")
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


def kernel_info(measure: bool = False) -> dict[str, Any]:
    """What runs the kernels here and why: the kernel set and its micro-kernels, tiles and
    blocking, the activation kernel, threads and when a product uses them, and what was
    detected (CPU, caches, FMA rates measured at import) that decided each choice.

    The small path's limits are measured at the first one-thread product that needs them and
    reported as None until then; measure=True measures them now (about 60 ms)."""
    if measure:
        _core.gemm_small_limit(False)
        _core.gemm_small_limit(True)
    c = _core.cpu_info()
    full, nt = c["fma512_full_rate"], max(2, get_num_threads())
    why = "forced by FASTINIT_KERNEL (or select_kernel)" if c["forced"] else "auto: the widest set this CPU and build run"
    return {
        **_core.gemm_info(), "available": available_kernels(), "activations": _core.act_kernel(),
        "threads": get_num_threads(), "threads_default_from": THREADS_FROM,
        "threads_supported": c["threads_supported"], "cpu_avx2_fma": c["avx2_fma"],
        "cpu_avx512": c["avx512"], "compiler_flags": c["compiler_flags"],
        "cpu": {"vendor": c["vendor"], "model_name": c["model_name"], "family": c["family"], "model": c["model"]},
        "caches": {"l1d_bytes": c["l1d_bytes"], "l2_bytes": c["l2_bytes"], "l3_bytes": c["l3_bytes"],
                   "l3_shared_by": c["l3_shared_by"], "l1d_ways": c["l1d_ways"], "source": c["cache_source"]},
        "fma": {"gflops_256": round(c["fma256_gflops"], 1), "gflops_512": round(c["fma512_gflops"], 1),
                "fma512_full_rate": None if full < 0 else bool(full),
                "source": "measured at import (thread CPU time, best of 5)" if c["fma256_gflops"] > 0
                          else "not measured (no AVX2)"},
        "kernel_choice": f"{c['kernel']}: {why}",
        "threading": {"join_us": round(c["join_us"], 1),
                      "join_us_at_import": round(c["parallel_overhead_us"], 1),
                      "measured_on_threads": c["parallel_threads"],
                      f"min_flops_for_{nt}_threads": round(_core.parallel_min_flops(nt)),
                      f"min_work_us_for_{nt}_threads": round(_core.parallel_min_ns(nt) * 1e-3, 1),
                      "rule": "thread a product when the time the extra threads save at the measured FMA peak "
                              "exceeds the join estimate: how long helper threads take to join a job, "
                              "calibrated at import (a helper kept from its core by another process counts "
                              "as no measurement) and then a running median over the jobs the pool runs, "
                              "so it follows the load; work below the threshold still goes to the pool "
                              "once per 100 join estimates to measure it again; a random fill likewise, "
                              "from its own cost per value timed on its first large call; a helper polls "
                              "for the next job as long as a join costs"},
    }


#: Why the FASTINIT_KERNEL of this process could not be honoured (None when it was): an import
#: must not fail on it (`fastinit info` still says what is available); the CLI refuses to run.
KERNEL_REQUEST_ERROR: str | None = None
try:
    select_kernel(os.environ.get("FASTINIT_KERNEL", "auto") or "auto")
except ValueError as _e:
    KERNEL_REQUEST_ERROR = f"FASTINIT_KERNEL={os.environ.get('FASTINIT_KERNEL')!r}: {_e}"
    warnings.warn(f"fastinit: {KERNEL_REQUEST_ERROR}; using the automatic choice", RuntimeWarning, stacklevel=2)
    select_kernel("auto")
#: Where the default thread count came from, for kernel_info().
THREADS_FROM = "OMP_NUM_THREADS" if os.environ.get("OMP_NUM_THREADS") else "the CPUs this process may run on"
if not os.environ.get("OMP_NUM_THREADS"):
    _quota = cpu_quota()
    if _quota is not None and _quota < get_num_threads():
        THREADS_FROM = f"a cgroup CPU quota of {_quota} CPUs (the process may run on {get_num_threads()})"
        _core.set_num_threads(_quota)
if get_num_threads() > thread_limit():  # OMP_NUM_THREADS=100000: more stacks than the address space holds
    warnings.warn(f"fastinit: {get_num_threads()} threads (OMP_NUM_THREADS) is more than this process can "
                  f"start; using {thread_limit()}", RuntimeWarning, stacklevel=2)
    _core.set_num_threads(thread_limit())
