# CPU features, thread count and build flags (csrc/fi_cpu.h).
from fastinit._core cimport capi

capi.fi_cpu_init()


def set_num_threads(int n):
    """Threads the kernels use (n >= 1, checked by the caller). Results do not depend on it."""
    capi.fi_set_num_threads(n)


def get_num_threads():
    """Threads the kernels use (from OMP_NUM_THREADS or the core count at import)."""
    return capi.fi_get_num_threads()


def cpu_features():
    """What the CPU, OS and build offer: {"avx2_fma", "avx512", "openmp", "compiler_flags"}."""
    return {"avx2_fma": bool(capi.fi_cpu_has_avx2_fma()), "avx512": bool(capi.fi_cpu_has_avx512()),
            "openmp": bool(capi.fi_openmp_enabled()), "compiler_flags": capi.fi_build_flags().decode()}
