# CPU features and thread count (csrc/fi_cpu.h).

cdef extern from "fi_cpu.h" nogil:
    int fi_cpu_has_avx2_fma()
    int fi_cpu_has_avx512()
    int fi_openmp_enabled()
    int fi_get_num_threads()
    void fi_set_num_threads(int n)
    void fi_cpu_init()
    const char *fi_build_flags()

fi_cpu_init()


def set_num_threads(int n):
    """Set the number of threads the kernels use (>= 1). Results do not depend on it."""
    if n < 1:
        raise ValueError(f"set_num_threads: n must be >= 1, got {n}")
    fi_set_num_threads(n)


def get_num_threads():
    """Number of threads the kernels use (from OMP_NUM_THREADS or the core count at import)."""
    return fi_get_num_threads()
