/* SIMD micro-kernel template, included by ukr_vec_set.h (for ukr_avx2.c, ukr_avx512.c and
   ukr_neon.c) per dtype and operand layout with UKR_ATTR (target attribute), VT (vector type,
   VL lanes) and its operations defined.
   Defines UKR_NAME(k, rows, a, rs_a, cs_a, b, rs_b, c, ldc, alpha, beta, ep) for a UKR_MR x
   (2*VL) tile, UKR_MR 6 or 8: 2*UKR_MR accumulators, two B vectors and one broadcast A register
   (6 rows: 15 of AVX2's 16 ymm; 8 rows: 19 of AVX-512's 32 zmm or of NEON's 32 q registers).
   Every C value is one FMA chain over k in order, then the same store steps, whatever VL: the
   AVX2, AVX-512 and NEON kernels give the same bits.
   a[i][p] is at a[i*A_RS + p*A_CS], b[p][j] at b[p*B_RS + j]: constants for packed panels
   (A_RS 1, A_CS UKR_MR, B_RS 2*VL), the run-time strides for operands read in place.
   Only the first `rows` rows are read and written: the body is inlined once per row count,
   so a short last row block neither computes padding nor needs A packed or C merged.
   A_RS, A_CS, B_RS and UKR_NAME are undefined at the end, ready for the next instantiation. */
#include "fi_template.h"
#define BODY FI_PASTE(UKR_NAME, _rows)

#define ROW_FMA(i)                                         \
    do {                                                   \
        if ((i) < rows) {                                  \
            const VT ai = VBCAST(a + (i) * (A_RS));        \
            c##i##0 = VFMA(ai, b0, c##i##0);               \
            c##i##1 = VFMA(ai, b1, c##i##1);               \
        }                                                  \
    } while (0)

/* C row i = relu?(alpha*acc [+ beta*C] [+ bias]): each step rounds as the separate epilogue
   pass did (bias added to the stored value), so fusing it changes no bit. */
#define ROW_STORE(i)                                                              \
    do {                                                                          \
        T *ci = c + (i) * ldc;                                                    \
        if ((i) >= rows) break;                                                   \
        VT t0 = VMUL(va, c##i##0), t1 = VMUL(va, c##i##1);                        \
        if (beta != (T)0) {                                                       \
            t0 = VFMA(vb, VLOADU(ci), t0);                                        \
            t1 = VFMA(vb, VLOADU(ci + VL), t1);                                   \
        }                                                                         \
        if (bias_kind == FI_BIAS_ROW) {                                           \
            const VT bi = VBCAST(bias + (i));                                     \
            t0 = VADD(t0, bi);                                                    \
            t1 = VADD(t1, bi);                                                    \
        } else if (bias_kind == FI_BIAS_COL) {                                    \
            t0 = VADD(t0, bc0);                                                   \
            t1 = VADD(t1, bc1);                                                   \
        }                                                                         \
        if (relu) { /* t <= 0 ? 0 : t (NaN kept, -0 -> +0) as the scalar epilogue */ \
            t0 = VRELU(t0);                                                       \
            t1 = VRELU(t1);                                                       \
        }                                                                         \
        VSTOREU(ci, t0);                                                          \
        VSTOREU(ci + VL, t1);                                                     \
    } while (0)

UKR_ATTR FI_INLINE void BODY(fi_dim_t k, const int rows, const T *FI_RESTRICT a, fi_dim_t rs_a,
                            fi_dim_t cs_a, const T *FI_RESTRICT b, fi_dim_t rs_b,
                            T *FI_RESTRICT c, fi_dim_t ldc, T alpha, T beta,
                            const fi_ukr_ep_t *ep)
{
    (void)rs_a;
    (void)cs_a;
    (void)rs_b;
    VT c00 = VZERO(), c01 = VZERO(), c10 = VZERO(), c11 = VZERO(), c20 = VZERO(), c21 = VZERO();
    VT c30 = VZERO(), c31 = VZERO(), c40 = VZERO(), c41 = VZERO(), c50 = VZERO(), c51 = VZERO();
    VT c60 = VZERO(), c61 = VZERO(), c70 = VZERO(), c71 = VZERO(); /* unused below 7 rows */
    for (int i = 0; i < rows; i++) __builtin_prefetch(c + i * ldc);
#pragma GCC unroll 4
    for (fi_dim_t p = 0; p < k; p++) {
        const VT b0 = VLOADU(b), b1 = VLOADU(b + VL);
        ROW_FMA(0); ROW_FMA(1); ROW_FMA(2); ROW_FMA(3);
        ROW_FMA(4); ROW_FMA(5); ROW_FMA(6); ROW_FMA(7);
        a += A_CS;
        b += B_RS;
    }
    const VT va = VSET1(alpha), vb = VSET1(beta);
    const T *bias = ep ? (const T *)ep->bias : NULL;
    const fi_bias_kind_t bias_kind = bias ? ep->bias_kind : FI_BIAS_NONE;
    const int relu = ep && ep->relu;
    const VT bc0 = bias_kind == FI_BIAS_COL ? VLOADU(bias) : VZERO();
    const VT bc1 = bias_kind == FI_BIAS_COL ? VLOADU(bias + VL) : VZERO();
    ROW_STORE(0); ROW_STORE(1); ROW_STORE(2); ROW_STORE(3); ROW_STORE(4); ROW_STORE(5);
    ROW_STORE(6); ROW_STORE(7);
}

UKR_ATTR static void UKR_NAME(fi_dim_t k, int rows, const T *FI_RESTRICT a, fi_dim_t rs_a,
                             fi_dim_t cs_a, const T *FI_RESTRICT b, fi_dim_t rs_b,
                             T *FI_RESTRICT c, fi_dim_t ldc, T alpha, T beta,
                             const fi_ukr_ep_t *ep)
{
    switch (rows) {
#if UKR_MR > 6
    case 8: BODY(k, 8, a, rs_a, cs_a, b, rs_b, c, ldc, alpha, beta, ep); break;
    case 7: BODY(k, 7, a, rs_a, cs_a, b, rs_b, c, ldc, alpha, beta, ep); break;
#endif
    case 6: BODY(k, 6, a, rs_a, cs_a, b, rs_b, c, ldc, alpha, beta, ep); break;
    case 5: BODY(k, 5, a, rs_a, cs_a, b, rs_b, c, ldc, alpha, beta, ep); break;
    case 4: BODY(k, 4, a, rs_a, cs_a, b, rs_b, c, ldc, alpha, beta, ep); break;
    case 3: BODY(k, 3, a, rs_a, cs_a, b, rs_b, c, ldc, alpha, beta, ep); break;
    case 2: BODY(k, 2, a, rs_a, cs_a, b, rs_b, c, ldc, alpha, beta, ep); break;
    default: BODY(k, 1, a, rs_a, cs_a, b, rs_b, c, ldc, alpha, beta, ep); break;
    }
}

#undef ROW_FMA
#undef ROW_STORE
#undef BODY
#undef A_RS
#undef A_CS
#undef B_RS
#undef UKR_NAME
