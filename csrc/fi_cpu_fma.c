/* FMA throughput calibration (see fi_cpu_fma.h). x86-64 only; each width's loop is compiled
   with its own target attribute, so the file builds without global ISA flags. */
#include "fi_cpu_fma.h"

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(_WIN32)
#include <immintrin.h>
#include <time.h>

static double thread_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define FMA_CHAINS 12

/* Seconds for `iters` iterations of FMA_CHAINS independent FMAs (x -> x * 0.999999 + 1e-7 stays
   finite), written out so that every chain stays in a register; the accumulators' sum goes to
   *sink so nothing is folded away. One body for both widths: V the vector type, P its
   intrinsics' prefix, REG the asm constraint that keeps the loop from being folded. */
#define FMA_LOOP(NAME, TARGET, V, P, REG)                                                          \
    __attribute__((target(TARGET))) static double NAME(long iters, float *sink)                    \
    {                                                                                              \
        V a0 = P##_set1_ps(1.0f), a1 = P##_set1_ps(1.0f + 1e-3f), a2 = P##_set1_ps(1.0f + 2e-3f);  \
        V a3 = P##_set1_ps(1.0f + 3e-3f), a4 = P##_set1_ps(1.0f + 4e-3f);                          \
        V a5 = P##_set1_ps(1.0f + 5e-3f), a6 = P##_set1_ps(1.0f + 6e-3f);                          \
        V a7 = P##_set1_ps(1.0f + 7e-3f), a8 = P##_set1_ps(1.0f + 8e-3f);                          \
        V a9 = P##_set1_ps(1.0f + 9e-3f), a10 = P##_set1_ps(1.0f + 10e-3f);                        \
        V a11 = P##_set1_ps(1.0f + 11e-3f);                                                        \
        const V b = P##_set1_ps(0.999999f), c = P##_set1_ps(1e-7f);                                \
        const double t0 = thread_seconds();                                                        \
        for (long k = 0; k < iters; k++) {                                                         \
            a0 = P##_fmadd_ps(a0, b, c), a1 = P##_fmadd_ps(a1, b, c), a2 = P##_fmadd_ps(a2, b, c); \
            a3 = P##_fmadd_ps(a3, b, c), a4 = P##_fmadd_ps(a4, b, c), a5 = P##_fmadd_ps(a5, b, c); \
            a6 = P##_fmadd_ps(a6, b, c), a7 = P##_fmadd_ps(a7, b, c), a8 = P##_fmadd_ps(a8, b, c); \
            a9 = P##_fmadd_ps(a9, b, c), a10 = P##_fmadd_ps(a10, b, c);                            \
            a11 = P##_fmadd_ps(a11, b, c);                                                         \
            __asm__ volatile("" : REG(a0));                                                        \
        }                                                                                          \
        const double t = thread_seconds() - t0;                                                    \
        V s = P##_add_ps(P##_add_ps(P##_add_ps(a0, a1), P##_add_ps(a2, a3)), P##_add_ps(a4, a5));  \
        s = P##_add_ps(s, P##_add_ps(P##_add_ps(P##_add_ps(a6, a7), P##_add_ps(a8, a9)),           \
                                     P##_add_ps(a10, a11)));                                       \
        *sink += P##_cvtss_f32(s);                                                                 \
        return t;                                                                                  \
    }

FMA_LOOP(fma_loop_256, "avx2,fma", __m256, _mm256, "+x")
FMA_LOOP(fma_loop_512, "avx2,fma,avx512f", __m512, _mm512, "+v")

double fi_fma_gflops(int bits, long iters, int reps)
{
    if (bits != 256 && bits != 512) return 0.0;
    if (bits == 256 ? !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")
                    : !__builtin_cpu_supports("avx512f"))
        return 0.0;
    volatile float sink = 0.0f;
    float s = 0.0f;
    double best = 0.0;
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up (clock ramp, AVX-512 power licence) */
        const double t = bits == 256 ? fma_loop_256(iters, &s) : fma_loop_512(iters, &s);
        if (r >= 0 && t > 0 && (best == 0.0 || t < best)) best = t;
    }
    sink = s;
    (void)sink;
    const double lanes = bits / 32.0;
    return best > 0 ? FMA_CHAINS * 2.0 * lanes * (double)iters / best / 1e9 : 0.0;
}
#else
double fi_fma_gflops(int bits, long iters, int reps)
{
    (void)bits, (void)iters, (void)reps;
    return 0.0;
}
#endif
