/* One core's float32 FMA peak, the yardstick of the training benchmark's large-net target:
   12 independent chains of 8-wide FMAs (enough to cover FMA latency on two FMA pipes).
   Build and run: gcc -O2 bench/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

#define INIT(i) __m256 a##i = _mm256_set1_ps(1.0f + (i) * 1e-3f);
#define STEP(i) a##i = _mm256_fmadd_ps(a##i, b, c);
#define ALL(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11)

__attribute__((target("avx2,fma"))) int main(void)
{
    ALL(INIT)
    const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    const long iters = 50000000;
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (long k = 0; k < iters; k++) {
            ALL(STEP)
            __asm__ volatile("" ::"x"(a0)); /* keep the loop from being folded away */
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        const double t = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        best = t < best ? t : best;
    }
    float sink[8];
    _mm256_storeu_ps(sink, _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                                         _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7))));
    sink[0] += _mm256_cvtss_f32(_mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    printf("one core float32 FMA peak: %.1f GFLOP/s (checksum %g)\n", 12.0 * 16 * iters / best / 1e9, sink[0]);
    return 0;
}
