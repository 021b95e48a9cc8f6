/* Loss kernels (see fi_loss.h), one macro template for both dtypes. */
#include <math.h>

#include "fi_loss.h"

#define FI_DEFINE_LOSS(SUF, T, EXP, LOG, LOG1P)                                                    \
    double fi_loss_##SUF(T *dz, const T *z, const void *target, fi_dim_t n, fi_dim_t k, fi_loss_t loss) \
    {                                                                                              \
        double total = 0.0;                                                                        \
        if (n <= 0 || k <= 0) return 0.0;                                                          \
        if (loss == FI_LOSS_SOFTMAX_CE) {                                                          \
            const int64_t *y = (const int64_t *)target;                                            \
            for (fi_dim_t i = 0; i < n; i++) {                                                     \
                const T *zi = z + i * k;                                                           \
                T mx = zi[0];                                                                      \
                for (fi_dim_t j = 1; j < k; j++) mx = zi[j] > mx ? zi[j] : mx;                     \
                T s = 0;                                                                           \
                for (fi_dim_t j = 0; j < k; j++) s += EXP(zi[j] - mx);                             \
                total += (double)(mx + LOG(s) - zi[y[i]]);                                         \
                if (dz) {                                                                          \
                    T *di = dz + i * k;                                                            \
                    const T scale = (T)1 / (s * (T)n);                                             \
                    for (fi_dim_t j = 0; j < k; j++) di[j] = EXP(zi[j] - mx) * scale;              \
                    di[y[i]] -= (T)1 / (T)n;                                                       \
                }                                                                                  \
            }                                                                                      \
            return total / (double)n;                                                              \
        }                                                                                          \
        const T *y = (const T *)target;                                                            \
        const fi_dim_t nk = n * k;                                                                 \
        const T inv = (T)1 / (T)nk;                                                                \
        for (fi_dim_t i = 0; i < nk; i++) {                                                        \
            const T v = z[i], t = y[i];                                                            \
            if (loss == FI_LOSS_BCE_LOGITS) {                                                      \
                const T e = EXP(-(v >= 0 ? v : -v));                                               \
                total += (double)((v > 0 ? v : (T)0) - v * t + LOG1P(e));                          \
                if (dz) dz[i] = ((v >= 0 ? (T)1 / ((T)1 + e) : e / ((T)1 + e)) - t) * inv;         \
            } else {                                                                               \
                total += (double)((v - t) * (v - t));                                              \
                if (dz) dz[i] = (T)2 * (v - t) * inv;                                              \
            }                                                                                      \
        }                                                                                          \
        return total / (double)nk;                                                                 \
    }

FI_DEFINE_LOSS(s, float, expf, logf, log1pf)
FI_DEFINE_LOSS(d, double, exp, log, log1p)
