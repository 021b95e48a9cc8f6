/* Template body of fi_dense.c, included per dtype with T, SUF, GEMM defined. */
#define FI_CAT_(a, b) a##_##b
#define FI_CAT(a, b) FI_CAT_(a, b)

void FI_CAT(fi_dense_forward, SUF)(T *y, T *z, const T *x, const T *w, const T *b, fi_dim_t n,
                                   fi_dim_t in, fi_dim_t out, fi_act_t act, double param)
{
    fi_epilogue_t ep = {b, b ? FI_BIAS_COL : FI_BIAS_NONE, z ? FI_ACT_IDENTITY : act, param};
    if (z) {
        GEMM(0, 1, n, out, in, (T)1, x, in, w, in, (T)0, z, out, &ep);
        FI_CAT(fi_act_forward, SUF)(y, z, n * out, act, param);
    } else {
        GEMM(0, 1, n, out, in, (T)1, x, in, w, in, (T)0, y, out, &ep);
    }
}

void FI_CAT(fi_dense_backward, SUF)(T *dx, T *dw, T *db, T *dy, const T *z, const T *y,
                                    const T *x, const T *w, fi_dim_t n, fi_dim_t in, fi_dim_t out,
                                    fi_act_t act, double param)
{
    FI_CAT(fi_act_backward_colsum, SUF)(dy, dy, z, y, n, out, act, param, db);
    GEMM(1, 0, out, in, n, (T)1, dy, out, x, in, (T)0, dw, in, NULL);
    if (dx) GEMM(0, 0, n, in, out, (T)1, dy, out, w, in, (T)0, dx, in, NULL);
}

#undef FI_CAT_
#undef FI_CAT
