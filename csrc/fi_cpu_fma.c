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
   *sink so nothing is folded away. */
__attribute__((target("avx2,fma"))) static double fma_loop_256(long iters, float *sink)
{
    __m256 a0 = _mm256_set1_ps(1.0f); __m256 a1 = _mm256_set1_ps(1.0f + 1e-3f); __m256 a2 = _mm256_set1_ps(1.0f + 2e-3f); __m256 a3 = _mm256_set1_ps(1.0f + 3e-3f); __m256 a4 = _mm256_set1_ps(1.0f + 4e-3f); __m256 a5 = _mm256_set1_ps(1.0f + 5e-3f);
    __m256 a6 = _mm256_set1_ps(1.0f + 6e-3f); __m256 a7 = _mm256_set1_ps(1.0f + 7e-3f); __m256 a8 = _mm256_set1_ps(1.0f + 8e-3f); __m256 a9 = _mm256_set1_ps(1.0f + 9e-3f); __m256 a10 = _mm256_set1_ps(1.0f + 10e-3f); __m256 a11 = _mm256_set1_ps(1.0f + 11e-3f);
    const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    const double t0 = thread_seconds();
    for (long k = 0; k < iters; k++) {
        a0 = _mm256_fmadd_ps(a0, b, c); a1 = _mm256_fmadd_ps(a1, b, c); a2 = _mm256_fmadd_ps(a2, b, c); a3 = _mm256_fmadd_ps(a3, b, c); a4 = _mm256_fmadd_ps(a4, b, c); a5 = _mm256_fmadd_ps(a5, b, c);
        a6 = _mm256_fmadd_ps(a6, b, c); a7 = _mm256_fmadd_ps(a7, b, c); a8 = _mm256_fmadd_ps(a8, b, c); a9 = _mm256_fmadd_ps(a9, b, c); a10 = _mm256_fmadd_ps(a10, b, c); a11 = _mm256_fmadd_ps(a11, b, c);
        __asm__ volatile("" : "+x"(a0)); /* keep the loop from being folded */
    }
    const double t = thread_seconds() - t0;
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)), _mm256_add_ps(a4, a5));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a6, a7), _mm256_add_ps(a8, a9)), _mm256_add_ps(a10, a11)));
    *sink += _mm256_cvtss_f32(s);
    return t;
}

__attribute__((target("avx2,fma,avx512f"))) static double fma_loop_512(long iters, float *sink)
{
    __m512 a0 = _mm512_set1_ps(1.0f); __m512 a1 = _mm512_set1_ps(1.0f + 1e-3f); __m512 a2 = _mm512_set1_ps(1.0f + 2e-3f); __m512 a3 = _mm512_set1_ps(1.0f + 3e-3f); __m512 a4 = _mm512_set1_ps(1.0f + 4e-3f); __m512 a5 = _mm512_set1_ps(1.0f + 5e-3f);
    __m512 a6 = _mm512_set1_ps(1.0f + 6e-3f); __m512 a7 = _mm512_set1_ps(1.0f + 7e-3f); __m512 a8 = _mm512_set1_ps(1.0f + 8e-3f); __m512 a9 = _mm512_set1_ps(1.0f + 9e-3f); __m512 a10 = _mm512_set1_ps(1.0f + 10e-3f); __m512 a11 = _mm512_set1_ps(1.0f + 11e-3f);
    const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    const double t0 = thread_seconds();
    for (long k = 0; k < iters; k++) {
        a0 = _mm512_fmadd_ps(a0, b, c); a1 = _mm512_fmadd_ps(a1, b, c); a2 = _mm512_fmadd_ps(a2, b, c); a3 = _mm512_fmadd_ps(a3, b, c); a4 = _mm512_fmadd_ps(a4, b, c); a5 = _mm512_fmadd_ps(a5, b, c);
        a6 = _mm512_fmadd_ps(a6, b, c); a7 = _mm512_fmadd_ps(a7, b, c); a8 = _mm512_fmadd_ps(a8, b, c); a9 = _mm512_fmadd_ps(a9, b, c); a10 = _mm512_fmadd_ps(a10, b, c); a11 = _mm512_fmadd_ps(a11, b, c);
        __asm__ volatile("" : "+v"(a0)); /* keep the loop from being folded */
    }
    const double t = thread_seconds() - t0;
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)), _mm512_add_ps(a4, a5));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a6, a7), _mm512_add_ps(a8, a9)), _mm512_add_ps(a10, a11)));
    *sink += _mm512_cvtss_f32(s);
    return t;
}

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
