/* Template body of fi_loss.c, instantiated per dtype (FI_DTYPE, fi_template.h); the exp of n
   values at once is fi_exp_s/_d (vectorized for float32).
   Sums run in double in a fixed order (deterministic, accurate for float32 too). */
#include "fi_dtype_begin.h"

double FI_DT(fi_loss_xent)(T *dz, const T *z, const int64_t *labels, fi_dim_t n, fi_dim_t c)
{
    double total = 0.0;
    const T inv_n = (T)(1.0 / (double)n);
    if (dz) {
        /* Shifted logits of every row first, so one vectorized exp covers the whole block. */
        for (fi_dim_t i = 0; i < n; i++) {
            const T *zi = z + i * c;
            T mx = zi[0];
            for (fi_dim_t j = 1; j < c; j++) mx = zi[j] > mx ? zi[j] : mx;
            for (fi_dim_t j = 0; j < c; j++) dz[i * c + j] = zi[j] - mx;
        }
        for (fi_dim_t i = 0; i < n; i++) /* z_y - max, before the exp overwrites it */
            total -= (double)dz[i * c + labels[i]];
        FI_DT(fi_exp)(dz, dz, n * c);
        double prod = 1.0; /* of the row sums, see FI_XENT_LOG_AT */
        for (fi_dim_t i = 0; i < n; i++) {
            T *di = dz + i * c;
            double s = 0.0;
            for (fi_dim_t j = 0; j < c; j++) s += (double)di[j];
            const T inv = (T)(1.0 / s) * inv_n;
            for (fi_dim_t j = 0; j < c; j++) di[j] *= inv;
            di[labels[i]] -= inv_n;
            prod *= s;
            if (prod > FI_XENT_LOG_AT) total += log(prod), prod = 1.0;
        }
        return (total + log(prod)) / (double)n;
    }
    for (fi_dim_t i = 0; i < n; i++) {
        const T *zi = z + i * c;
        T mx = zi[0];
        for (fi_dim_t j = 1; j < c; j++) mx = zi[j] > mx ? zi[j] : mx;
        double s = 0.0;
        for (fi_dim_t j = 0; j < c; j++) s += (double)FI_LIBM(exp)(zi[j] - mx);
        total += log(s) + (double)mx - (double)zi[labels[i]];
    }
    return total / (double)n;
}

double FI_DT(fi_loss_bce)(T *dz, const T *z, const T *t, fi_dim_t n, fi_dim_t c)
{
    const fi_dim_t m = n * c;
    const T inv = (T)(1.0 / (double)m);
    double total = 0.0;
    for (fi_dim_t i = 0; i < m; i++) {
        const T v = z[i];
        const T e = FI_LIBM(exp)(-(v > 0 ? v : -v)); /* exp(-|z|) in (0, 1]: no overflow */
        total += (double)((v > 0 ? v : (T)0) - v * t[i] + FI_LIBM(log1p)(e));
        if (dz) {
            const T s = v >= 0 ? (T)1 / ((T)1 + e) : e / ((T)1 + e);
            dz[i] = (s - t[i]) * inv;
        }
    }
    return total / (double)m;
}

double FI_DT(fi_loss_mse)(T *dz, const T *z, const T *t, fi_dim_t n, fi_dim_t c)
{
    const fi_dim_t m = n * c;
    const T inv2 = (T)(2.0 / (double)m);
    double total = 0.0;
    for (fi_dim_t i = 0; i < m; i++) {
        const T d = z[i] - t[i];
        total += (double)d * (double)d;
        if (dz) dz[i] = d * inv2;
    }
    return total / (double)m;
}

#include "fi_dtype_end.h"
