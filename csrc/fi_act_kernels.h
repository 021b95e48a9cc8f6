/* Internal to the activations: the float32 exp/tanh/sigmoid formula, shared by the portable scalar
   path (fi_act.c) and the AVX2+FMA kernels (fi_act_avx2.c), so both round the same double value
   to float and agree to the last bit almost always (the FMA changes a double rounding, rarely
   the float result).

   e^y = s (1 + p): s = 2^n with n = round(y / ln2), r = y - n ln2 (|r| <= ln2/2) and
   p = expm1(r) by its Taylor polynomial of degree 8 (relative error < 7e-10). Rounded once to
   float that stays within 1 ulp (0.5 ulp from the rounding, 0.02 from the formula), and it is
   a third of the work of a double-accurate exp.
     exp x      = s p + s
     tanh |x|   = em1 / (em1 + 2), em1 = e^{2|x|} - 1 = s p + (s - 1): no cancellation near 0
     sigmoid x  = 1 / (1 + e^{-x})
   Arguments are clamped where the float result is already exact (e^{+-120} is past float's
   range both ways, tanh(20) = 1); the clamps keep NaN, so NaN in gives NaN out. */
#ifndef FI_ACT_KERNELS_H
#define FI_ACT_KERNELS_H

#include "fi_common.h"

#define FI_EXP_MAGIC 6755399441055744.0 /* 1.5 * 2^52: y/ln2 + magic is round(y/ln2) in the low bits */
#define FI_LOG2E 1.4426950408889634074
#define FI_LN2 0.69314718055994530942
#define FI_TANH_CLAMP 20.0
#define FI_EXP_CLAMP 120.0

/* Horner coefficients of expm1(r) / r, highest degree first: 1/8! .. 1/2!, 1. */
#define FI_EXPM1_NCOEF 8
static const double fi_expm1_coef[FI_EXPM1_NCOEF] = {
    1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1.0};

/* y = f(x) for n floats, f exp, tanh or sigmoid, 8 at a time (a short tail goes through the same
   vector code via a padded copy, so a value's result never depends on where it sits). Only
   where fi_cpu_has_avx2_fma() holds; defined on x86-64 GCC/Clang builds only. */
void fi_exp_avx2_s(float *y, const float *x, fi_dim_t n);
void fi_tanh_avx2_s(float *y, const float *x, fi_dim_t n);
void fi_sigmoid_avx2_s(float *y, const float *x, fi_dim_t n);
/* The same, 16 at a time with AVX-512F (same bits); only where fi_cpu_has_avx512() holds. */
void fi_exp_avx512_s(float *y, const float *x, fi_dim_t n);
void fi_tanh_avx512_s(float *y, const float *x, fi_dim_t n);
void fi_sigmoid_avx512_s(float *y, const float *x, fi_dim_t n);

/* fi_act_backward_colsum_s for identity, relu, tanh and sigmoid (else returns 0, doing
   nothing), 8 columns at a time down the rows: the same bits as the portable loops. */
int fi_act_backward_colsum_avx2_s(float *dz, const float *dy, const float *y, fi_dim_t rows,
                                  fi_dim_t cols, int act, float *colsum);

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define FI_HAVE_ACT_AVX2 1
#else
#define FI_HAVE_ACT_AVX2 0
#endif

#endif
