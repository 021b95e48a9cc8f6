/* Template body of fi_dense.c, instantiated per dtype (FI_DTYPE, fi_template.h). */
#include "fi_dtype_begin.h"

void FI_DT(fi_dense_forward)(T *y, T *z, const T *x, const T *w, const T *b, fi_dim_t n,
                                   fi_dim_t in, fi_dim_t out, fi_act_t act, double param)
{
    fi_epilogue_t ep = {b, b ? FI_BIAS_COL : FI_BIAS_NONE, z ? FI_ACT_IDENTITY : act, param};
    if (z) {
        FI_GEMM(0, 1, n, out, in, (T)1, x, in, w, in, (T)0, z, out, &ep);
        FI_DT(fi_act_forward)(y, z, n * out, act, param);
    } else {
        FI_GEMM(0, 1, n, out, in, (T)1, x, in, w, in, (T)0, y, out, &ep);
    }
}

void FI_DT(fi_dense_backward)(T *dx, T *dw, T *db, T *dy, const T *z, const T *y,
                                    const T *x, const T *w, fi_dim_t n, fi_dim_t in, fi_dim_t out,
                                    fi_act_t act, double param)
{
    FI_DT(fi_act_backward_colsum)(dy, dy, z, y, n, out, act, param, db);
    FI_GEMM(1, 0, out, in, n, (T)1, dy, out, x, in, (T)0, dw, in, NULL);
    if (dx) FI_GEMM(0, 0, n, in, out, (T)1, dy, out, w, in, (T)0, dx, in, NULL);
}

#include "fi_dtype_end.h"
