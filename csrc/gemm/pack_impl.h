/* Packing template, included by pack.c once per dtype with T (element type) and SUF defined.
   op(A)[i][p] is a[i*lda + p] (no transpose) or a[p*lda + i] (transposed storage). */
#define FI_CAT_(a, b) a##b
#define FI_CAT(a, b) FI_CAT_(a, b)

void FI_CAT(fi_pack_a_, SUF)(T *FI_RESTRICT dst, const T *FI_RESTRICT a, fi_dim_t lda, int trans,
                             fi_dim_t mc, fi_dim_t kc, int mr)
{
    for (fi_dim_t i0 = 0; i0 < mc; i0 += mr) {
        const fi_dim_t rows = FI_MIN((fi_dim_t)mr, mc - i0);
        if (!trans) {
            /* Rows of A are contiguous: gather mr of them column by column. */
            for (fi_dim_t p = 0; p < kc; p++) {
                T *d = dst + p * mr;
                fi_dim_t i = 0;
                for (; i < rows; i++) d[i] = a[(i0 + i) * lda + p];
                for (; i < mr; i++) d[i] = (T)0;
            }
        } else {
            /* Stored transposed: each packed column is a contiguous run of op(A)'s column. */
            for (fi_dim_t p = 0; p < kc; p++) {
                const T *s = a + p * lda + i0;
                T *d = dst + p * mr;
                fi_dim_t i = 0;
                for (; i < rows; i++) d[i] = s[i];
                for (; i < mr; i++) d[i] = (T)0;
            }
        }
        dst += kc * mr;
    }
}

void FI_CAT(fi_pack_b_, SUF)(T *FI_RESTRICT dst, const T *FI_RESTRICT b, fi_dim_t ldb, int trans,
                             fi_dim_t kc, fi_dim_t nc, int nr)
{
    for (fi_dim_t j0 = 0; j0 < nc; j0 += nr) {
        const fi_dim_t cols = FI_MIN((fi_dim_t)nr, nc - j0);
        if (!trans) {
            for (fi_dim_t p = 0; p < kc; p++) {
                const T *s = b + p * ldb + j0;
                T *d = dst + p * nr;
                fi_dim_t j = 0;
                for (; j < cols; j++) d[j] = s[j];
                for (; j < nr; j++) d[j] = (T)0;
            }
        } else {
            /* op(B)[p][j] = b[j*ldb + p]: walk each stored row once, scattering by stride nr. */
            fi_dim_t j = 0;
            for (; j < cols; j++) {
                const T *s = b + (j0 + j) * ldb;
                for (fi_dim_t p = 0; p < kc; p++) dst[p * nr + j] = s[p];
            }
            for (; j < nr; j++)
                for (fi_dim_t p = 0; p < kc; p++) dst[p * nr + j] = (T)0;
        }
        dst += kc * nr;
    }
}

#undef FI_CAT
#undef FI_CAT_
