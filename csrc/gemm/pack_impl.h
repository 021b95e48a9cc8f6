/* Packing template (layout in gemm_kernels.h), included by each kernel set once per dtype with
   T, MR, NR (the micro-kernel's tile), PACK_ATTR (its target attribute, or empty), PACK_A_NAME
   and PACK_B_NAME defined, and optionally PACK_TRANSPOSE(dst, ldd, src, lds) with PACK_TB: a
   TB x TB block transpose (NR a multiple of TB). Constant MR/NR and the kernel's ISA let the
   compiler unroll and vectorize the copies; a full panel is the common case, so each panel
   body is inlined twice, once with the constant width. op(A)[i][p] is a[i*lda + p], or
   a[p*lda + i] if transposed. */
#include "fi_template.h"
#define PANEL_A FI_PASTE(PACK_A_NAME, _panel)
#define PANEL_B FI_PASTE(PACK_B_NAME, _panel)

/* One MR-row panel of A: `rows` valid rows, zero-padded to MR. */
PACK_ATTR FI_INLINE void
PANEL_A(T *FI_RESTRICT d, const T *FI_RESTRICT a, fi_dim_t lda, int trans, fi_dim_t rows, fi_dim_t kc)
{
    for (fi_dim_t p = 0; p < kc; p++, d += MR) {
        fi_dim_t i = 0;
        if (!trans)
            for (; i < rows; i++) d[i] = a[i * lda + p]; /* gather MR rows column by column */
        else
            for (; i < rows; i++) d[i] = a[p * lda + i]; /* a contiguous run of op(A)'s column */
        for (; i < MR; i++) d[i] = (T)0;
    }
}

/* One NR-column panel of B: `cols` valid columns, zero-padded to NR. */
PACK_ATTR FI_INLINE void
PANEL_B(T *FI_RESTRICT d, const T *FI_RESTRICT b, fi_dim_t ldb, int trans, fi_dim_t cols, fi_dim_t kc)
{
    if (!trans) {
        for (fi_dim_t p = 0; p < kc; p++, d += NR) {
            fi_dim_t j = 0;
            for (; j < cols; j++) d[j] = b[p * ldb + j];
            for (; j < NR; j++) d[j] = (T)0;
        }
    } else {
        /* op(B)[p][j] = b[j*ldb + p]. Whole TB x TB blocks go through the kernel set's
           in-register transpose if it has one (the scalar scatter costs ~1 cycle a value,
           a fifth of a 64^3 product), also in a panel short of NR columns (a 10-wide layer);
           the rest walks each stored row once, scattering by NR; the padding is zeroed row
           by row. */
        fi_dim_t p0 = 0, jt = 0;
#ifdef PACK_TRANSPOSE
        jt = cols / PACK_TB * PACK_TB;
        if (jt > 0)
            for (; p0 + PACK_TB <= kc; p0 += PACK_TB)
                for (fi_dim_t j = 0; j < jt; j += PACK_TB)
                    PACK_TRANSPOSE(d + p0 * NR + j, NR, b + j * ldb + p0, ldb);
#endif
        for (fi_dim_t j = 0; j < cols; j++)
            for (fi_dim_t p = j < jt ? p0 : 0; p < kc; p++) d[p * NR + j] = b[j * ldb + p];
        if (cols < NR)
            for (fi_dim_t p = 0; p < kc; p++)
                for (fi_dim_t j = cols; j < NR; j++) d[p * NR + j] = (T)0;
    }
}

PACK_ATTR static void PACK_A_NAME(T *FI_RESTRICT dst, const T *FI_RESTRICT a, fi_dim_t lda,
                                  int trans, fi_dim_t mc, fi_dim_t kc)
{
    for (fi_dim_t i0 = 0; i0 < mc; i0 += MR, dst += kc * MR) {
        const T *src = trans ? a + i0 : a + i0 * lda;
        if (mc - i0 >= MR)
            PANEL_A(dst, src, lda, trans, MR, kc);
        else
            PANEL_A(dst, src, lda, trans, mc - i0, kc);
    }
}

PACK_ATTR static void PACK_B_NAME(T *FI_RESTRICT dst, const T *FI_RESTRICT b, fi_dim_t ldb,
                                  int trans, fi_dim_t kc, fi_dim_t nc)
{
    fi_dim_t j0 = 0;
    if (!trans) { /* full panels row by row: rows of B are read in long runs, not NR values */
        const fi_dim_t full = nc / NR * NR;
        for (fi_dim_t p = 0; p < kc; p++)
            for (fi_dim_t j = 0; j < full; j += NR)
                for (int q = 0; q < NR; q++) dst[j * kc + p * NR + q] = b[p * ldb + j + q];
        j0 = full;
        dst += full * kc;
    }
    for (; j0 < nc; j0 += NR, dst += kc * NR) {
        const T *src = trans ? b + j0 * ldb : b + j0;
        if (nc - j0 >= NR)
            PANEL_B(dst, src, ldb, trans, NR, kc);
        else
            PANEL_B(dst, src, ldb, trans, nc - j0, kc);
    }
}

#undef PANEL_A
#undef PANEL_B
