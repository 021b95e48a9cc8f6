/* CPU detection and thread count. The thread count is a global (relaxed atomic) set at
   import or by set_num_threads; kernels pass it to `num_threads(...)` so the setting holds
   for calls from any Python thread (omp_set_num_threads would be per calling thread). */
#include "fi_common.h"
#include "fi_cpu.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#ifndef FI_BUILD_FLAGS
#define FI_BUILD_FLAGS "unknown"
#endif

static int g_num_threads = 1;

int fi_cpu_has_avx2_fma(void)
{
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int fi_cpu_has_avx512(void)
{
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init(); /* libgcc/compiler-rt also check that the OS saves the zmm state */
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

int fi_openmp_enabled(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

void fi_cpu_init(void)
{
#ifdef _OPENMP
    const int n = omp_get_max_threads();
    FI_STORE_INT(&g_num_threads, n < 1 ? 1 : n);
#else
    FI_STORE_INT(&g_num_threads, 1);
#endif
}

int fi_get_num_threads(void) { return FI_LOAD_INT(&g_num_threads); }

void fi_set_num_threads(int n)
{
#ifdef _OPENMP
    FI_STORE_INT(&g_num_threads, n < 1 ? 1 : n);
#else
    (void)n;
    FI_STORE_INT(&g_num_threads, 1);
#endif
}

const char *fi_build_flags(void) { return FI_BUILD_FLAGS; }
