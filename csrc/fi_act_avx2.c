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

/* p with e^y = s (1 + p), see fi_act_kernels.h. */
FI_AVX2_INLINE __m256d exp_red(__m256d y, __m256d *s)
{
    const __m256d magic = _mm256_set1_pd(FI_EXP_MAGIC);
    const __m256d t = _mm256_fmadd_pd(y, _mm256_set1_pd(FI_LOG2E), magic);
    const __m256d r = _mm256_fnmadd_pd(_mm256_sub_pd(t, magic), _mm256_set1_pd(FI_LN2), y);
    __m256d p = _mm256_set1_pd(fi_expm1_coef[0]);
    for (int k = 1; k < FI_EXPM1_NCOEF; k++) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(fi_expm1_coef[k]));
    /* n sits in the low mantissa bits of t: shifted into the exponent field and biased, 2^n. */
    const __m256i e = _mm256_add_epi64(_mm256_slli_epi64(_mm256_castpd_si256(t), 52),
                                       _mm256_set1_epi64x((int64_t)1023 << 52));
    *s = _mm256_castsi256_pd(e);
    return _mm256_mul_pd(p, r);
}

FI_AVX2_INLINE __m256d tanh4(__m256d x)
{
    const __m256d sign = _mm256_set1_pd(-0.0);
    /* vminpd returns its second operand when either is NaN: keep x there. */
    const __m256d a = _mm256_min_pd(_mm256_set1_pd(FI_TANH_CLAMP), _mm256_andnot_pd(sign, x));
    __m256d s;
    const __m256d p = exp_red(_mm256_add_pd(a, a), &s);
    const __m256d em1 = _mm256_fmadd_pd(s, p, _mm256_sub_pd(s, _mm256_set1_pd(1.0)));
    const __m256d t = _mm256_div_pd(em1, _mm256_add_pd(em1, _mm256_set1_pd(2.0)));
    return _mm256_or_pd(t, _mm256_and_pd(sign, x));
}

FI_AVX2_INLINE __m256d exp4(__m256d x)
{
    const __m256d c = _mm256_set1_pd(FI_EXP_CLAMP);
    const __m256d v = _mm256_max_pd(_mm256_sub_pd(_mm256_setzero_pd(), c), _mm256_min_pd(c, x));
    __m256d s;
    const __m256d p = exp_red(v, &s);
    return _mm256_fmadd_pd(s, p, s);
}

FI_AVX2_INLINE __m256d sigmoid4(__m256d x)
{
    const __m256d one = _mm256_set1_pd(1.0);
    return _mm256_div_pd(one, _mm256_add_pd(one, exp4(_mm256_sub_pd(_mm256_setzero_pd(), x))));
}

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

FI_AVX2 void fi_exp_avx2_s(float *y, const float *x, fi_dim_t n) { map(y, x, n, exp4); }
FI_AVX2 void fi_tanh_avx2_s(float *y, const float *x, fi_dim_t n) { map(y, x, n, tanh4); }
FI_AVX2 void fi_sigmoid_avx2_s(float *y, const float *x, fi_dim_t n) { map(y, x, n, sigmoid4); }

/* Backward with column sums: no FMA here (target avx2 only), since contracting 1 - y*y or
   dy * (...) would round differently from the portable loops of fi_act_impl.h. */
#define FI_AVX2_NOFMA_INLINE __attribute__((target("avx2"), always_inline)) static inline

/* dy * act'(.) from y, 8 lanes, as fi_act_backward computes it (relu: y > 0 ? dy : 0). */
FI_AVX2_NOFMA_INLINE __m256 dact8(int act, __m256 d, __m256 y)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    switch (act) {
    case FI_ACT_RELU: return _mm256_and_ps(_mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_GT_OQ), d);
    case FI_ACT_TANH: return _mm256_mul_ps(d, _mm256_sub_ps(one, _mm256_mul_ps(y, y)));
    case FI_ACT_SIGMOID: return _mm256_mul_ps(d, _mm256_mul_ps(y, _mm256_sub_ps(one, y)));
    default: return d;
    }
}

/* The same, one value (fi_act_impl.h's expressions). */
FI_AVX2_NOFMA_INLINE float dact1(int act, float d, float y)
{
    switch (act) {
    case FI_ACT_RELU: return y > 0 ? d : 0.0f;
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
