/* AVX2+FMA float32 exp, tanh and sigmoid (formula in fi_act_kernels.h): 8 floats widened to two
   groups of 4 doubles, evaluated, rounded back once. Target attributes rather than global
   flags, so the extension still runs on CPUs without AVX2: fi_act.c calls these only where
   fi_cpu_has_avx2_fma() holds. */
#include <string.h>

#include "fi_act.h"
#include "fi_act_kernels.h"

#if FI_HAVE_ACT_AVX2
#include <immintrin.h>

#define FI_AVX2 __attribute__((target("avx2,fma")))
#define FI_AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) static inline

#define VINLINE FI_AVX2_INLINE
#define VD __m256d
#define VSET1 _mm256_set1_pd
#define VZERO _mm256_setzero_pd
#define VADD _mm256_add_pd
#define VSUB _mm256_sub_pd
#define VMUL _mm256_mul_pd
#define VDIV _mm256_div_pd
#define VMIN _mm256_min_pd
#define VMAX _mm256_max_pd
#define VFMADD _mm256_fmadd_pd
#define VFNMADD _mm256_fnmadd_pd
#define VABS(x) _mm256_andnot_pd(_mm256_set1_pd(-0.0), x)
#define VORSIGN(t, x) _mm256_or_pd(t, _mm256_and_pd(_mm256_set1_pd(-0.0), x))
/* n sits in the low mantissa bits of t: shifted into the exponent field and biased, 2^n. */
#define VPOW2(t)                                                                                   \
    _mm256_castsi256_pd(_mm256_add_epi64(_mm256_slli_epi64(_mm256_castpd_si256(t), 52),           \
                                         _mm256_set1_epi64x((int64_t)1023 << 52)))
#include "fi_act_vec_impl.h"

/* y[0:8] = f(x[0:8]); y may equal x. */
FI_AVX2_INLINE void map8(float *y, const float *x, __m256d (*f)(__m256d))
{
    const __m256 v = _mm256_loadu_ps(x);
    const __m128 lo = _mm256_cvtpd_ps(f(_mm256_cvtps_pd(_mm256_castps256_ps128(v))));
    const __m128 hi = _mm256_cvtpd_ps(f(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))));
    _mm256_storeu_ps(y, _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1));
}

FI_AVX2_INLINE void map(float *y, const float *x, fi_dim_t n, __m256d (*f)(__m256d))
{
    fi_dim_t i = 0;
    for (; i + 8 <= n; i += 8) map8(y + i, x + i, f);
    if (i < n) {
        float buf[8] = {0};
        memcpy(buf, x + i, (size_t)(n - i) * sizeof(float));
        map8(buf, buf, f);
        memcpy(y + i, buf, (size_t)(n - i) * sizeof(float));
    }
}

FI_AVX2 void fi_exp_avx2_s(float *y, const float *x, fi_dim_t n) { map(y, x, n, exp_v); }
FI_AVX2 void fi_tanh_avx2_s(float *y, const float *x, fi_dim_t n) { map(y, x, n, tanh_v); }
FI_AVX2 void fi_sigmoid_avx2_s(float *y, const float *x, fi_dim_t n) { map(y, x, n, sigmoid_v); }

/* Backward with column sums: no FMA here (target avx2 only), since contracting 1 - y*y or
   dy * (...) would round differently from the portable loops of fi_act_impl.h. */
#define FI_AVX2_NOFMA_INLINE __attribute__((target("avx2"), always_inline)) static inline

/* dy * act'(.) from y, 8 lanes, as fi_act_backward computes it (relu: y <= 0 ? 0 : dy, so NaN y passes dy). */
FI_AVX2_NOFMA_INLINE __m256 dact8(int act, __m256 d, __m256 y)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    switch (act) {
    case FI_ACT_RELU: return _mm256_and_ps(_mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_NLE_UQ), d);
    case FI_ACT_TANH: return _mm256_mul_ps(d, _mm256_sub_ps(one, _mm256_mul_ps(y, y)));
    case FI_ACT_SIGMOID: return _mm256_mul_ps(d, _mm256_mul_ps(y, _mm256_sub_ps(one, y)));
    default: return d;
    }
}

/* The same, one value (fi_act_impl.h's expressions). */
FI_AVX2_NOFMA_INLINE float dact1(int act, float d, float y)
{
    switch (act) {
    case FI_ACT_RELU: return y <= 0 ? 0.0f : d;
    case FI_ACT_TANH: return d * (1.0f - y * y);
    case FI_ACT_SIGMOID: return d * (y * (1.0f - y));
    default: return d;
    }
}

/* nb blocks of 8 columns from column j walked down the rows, each with its sum in a register
   (nb independent add chains: one would wait on the add latency every row). */
FI_AVX2_NOFMA_INLINE void colsum_blocks(float *dz, const float *dy, const float *y, fi_dim_t rows,
                                        fi_dim_t cols, int act, float *colsum, fi_dim_t j, int nb)
{
    __m256 s[4];
    for (int b = 0; b < nb; b++) s[b] = _mm256_setzero_ps();
    for (fi_dim_t i = 0; i < rows; i++)
        for (int b = 0; b < nb; b++) {
            const fi_dim_t o = i * cols + j + 8 * b;
            const __m256 yv = act == FI_ACT_IDENTITY ? s[b] : _mm256_loadu_ps(y + o);
            const __m256 d = dact8(act, _mm256_loadu_ps(dy + o), yv);
            _mm256_storeu_ps(dz + o, d);
            s[b] = _mm256_add_ps(s[b], d);
        }
    for (int b = 0; b < nb; b++) _mm256_storeu_ps(colsum + j + 8 * b, s[b]);
}

/* Blocks of 8 columns, four at a time, then the last columns one by one: every column is
   summed in row order. act is a constant after inlining. */
FI_AVX2_NOFMA_INLINE void colsum_act(float *dz, const float *dy, const float *y, fi_dim_t rows,
                                     fi_dim_t cols, int act, float *colsum)
{
    fi_dim_t j = 0;
    for (; j + 32 <= cols; j += 32) colsum_blocks(dz, dy, y, rows, cols, act, colsum, j, 4);
    for (; j + 8 <= cols; j += 8) colsum_blocks(dz, dy, y, rows, cols, act, colsum, j, 1);
    for (; j < cols; j++) { /* scalar: AMD's masked stores cost more than the whole block */
        float sj = 0.0f;
        for (fi_dim_t i = 0; i < rows; i++) {
            const fi_dim_t o = i * cols + j;
            const float d = dact1(act, dy[o], act == FI_ACT_IDENTITY ? 0.0f : y[o]);
            dz[o] = d;
            sj += d;
        }
        colsum[j] = sj;
    }
}

__attribute__((target("avx2"))) int fi_act_backward_colsum_avx2_s(float *dz, const float *dy,
                                                                  const float *y, fi_dim_t rows,
                                                                  fi_dim_t cols, int act,
                                                                  float *colsum)
{
    switch (act) {
    case FI_ACT_IDENTITY: colsum_act(dz, dy, y, rows, cols, FI_ACT_IDENTITY, colsum); return 1;
    case FI_ACT_RELU: colsum_act(dz, dy, y, rows, cols, FI_ACT_RELU, colsum); return 1;
    case FI_ACT_TANH: colsum_act(dz, dy, y, rows, cols, FI_ACT_TANH, colsum); return 1;
    case FI_ACT_SIGMOID: colsum_act(dz, dy, y, rows, cols, FI_ACT_SIGMOID, colsum); return 1;
    default: return 0;
    }
}

#endif
