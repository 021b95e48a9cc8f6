# What the CPU is and the one kernel context every SIMD family reads (csrc/fi_cpu.h): ISA,
# family, caches, measured FMA rates, the kernel set chosen by one call, the thread count.
from fastinit._core cimport capi

capi.fi_cpu_init()
capi.fi_gemm_init()


def set_num_threads(int n):
    """Threads the kernels use (n >= 1, checked by the caller). Results do not depend on it."""
    capi.fi_set_num_threads(n)


def get_num_threads():
    """Threads the kernels use (from OMP_NUM_THREADS or the core count at import)."""
    return capi.fi_get_num_threads()


def available_kernels():
    """Names of the kernel sets this CPU and build run, "ref" first."""
    cdef const char *const *names = capi.fi_kernel_available()
    cdef int i = 0
    out = []
    while names[i] != NULL:
        out.append(names[i].decode())
        i += 1
    return out


def select_kernel(str name):
    """Switch every family to the set `name` ("auto", "ref", "avx2", "avx512", "neon"): 0 on
    success, -1 for an unknown name, -2 if the CPU lacks its ISA. Not thread-safe."""
    return capi.fi_kernel_select(name.encode())


def cpu_info():
    """What fi_cpu detected and measured, and which set runs and why."""
    cdef const capi.fi_cpu_info_t *ci = capi.fi_cpu_info()
    return {"vendor": ci.vendor.decode(errors="replace"), "model_name": ci.brand.decode(errors="replace"),
            "family": ci.family, "model": ci.model, "avx2_fma": bool(ci.has_avx2_fma),
            "avx512": bool(ci.has_avx512), "l1d_bytes": ci.l1d, "l2_bytes": ci.l2, "l3_bytes": ci.l3,
            "l3_shared_by": ci.l3_sharing, "l1d_ways": ci.l1d_ways, "cache_source": ci.cache_source.decode(),
            "fma256_gflops": ci.fma256_gflops, "fma512_gflops": ci.fma512_gflops,
            "fma512_full_rate": ci.fma512_full_rate, "parallel_overhead_us": ci.parallel_overhead_us,
            "parallel_threads": ci.parallel_threads, "join_us": capi.fi_pool_join_us(),
            "kernel": capi.fi_kernel_name(capi.fi_kernel_set()).decode(), "forced": bool(capi.fi_kernel_forced()),
            "threads_supported": bool(capi.fi_pool_threads()), "compiler_flags": capi.fi_build_flags().decode()}


def parallel_min_flops(int nt):
    """The fewest flops a product needs to run on nt > 1 threads (from the join estimate now)."""
    return capi.fi_parallel_min_flops(nt)


def parallel_min_ns(int nt):
    """The fewest nanoseconds of one-thread work worth running on nt > 1 threads (from the join
    estimate now)."""
    return capi.fi_parallel_min_ns(nt)


def set_pool_join_us(double us):
    """Test hook: set the join estimate, as a spoilt calibration or a heavy load leaves it."""
    capi.fi_pool_set_join_us(us)


def set_parallel_min_flops(double flops):
    """Test hook: thread every product of at least `flops` flops (< 0: the measured rule again)."""
    capi.fi_set_parallel_min_flops(flops)


def gemm_assume_fma512(int full_rate):
    """Test hook: choose GEMM sets as if 512-bit FMAs ran at full rate (1), half rate (0), or as
    measured (-1)."""
    capi.fi_gemm_assume_fma512(full_rate)
