"""OpenMP's wait policy, chosen before fastinit._core loads the OpenMP runtime (libgomp reads it
once, when it loads). By default idle OpenMP threads spin for a while between parallel regions;
on a machine shared with other work that spinning takes the core the thread they wait for needs,
and a 2-thread fit measured 20x slower than a 1-thread one beside busy processes (bench/bench_load.py).
Passive waiting (sleep at once) costs a wake-up per region. (GEMM runs on fastinit's own task pool,
csrc/fi_pool.c, whose helpers sleep and are never waited for before they start; the policy here
serves the OpenMP loops left, e.g. random fills.) A policy the user set (OMP_WAIT_POLICY or
GOMP_SPINCOUNT) is kept. Child processes inherit the setting."""
import os

#: What this module did, for kernel_info(): "passive (set by fastinit)", "kept: OMP_WAIT_POLICY=...".
WAIT_POLICY = ""


def _runtime_already_loaded() -> bool:
    """Whether an OpenMP runtime is in this process already (e.g. torch imported first): then
    the variable comes too late to change its policy."""
    try:
        with open("/proc/self/maps") as f:
            return any(name in line for line in f for name in ("libgomp", "libiomp", "libomp"))
    except OSError:
        return False


def _choose() -> str:
    for var in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        if var in os.environ:
            return f"kept: {var}={os.environ[var]}"
    os.environ["OMP_WAIT_POLICY"] = "passive"
    if _runtime_already_loaded():
        return "passive requested, but an OpenMP runtime was loaded before fastinit: its own policy"
    return "passive (set by fastinit)"


WAIT_POLICY = _choose()
