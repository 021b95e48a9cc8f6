/* Losses on the logits of the last layer: value and gradient in one pass, mean reduction. */
#ifndef FI_LOSS_H
#define FI_LOSS_H

#include <stdint.h>

#include "fi_common.h"

typedef enum fi_loss {
    FI_LOSS_SOFTMAX_CE = 0, /* target: int64 class ids (n); mean over the batch */
    FI_LOSS_BCE_LOGITS = 1, /* target: T in [0,1] (n, k); mean over all n*k elements */
    FI_LOSS_MSE = 2         /* target: T (n, k); mean over all n*k elements (torch's MSELoss) */
} fi_loss_t;

/* Mean loss of logits z:(n,k) against target; if dz is not NULL also dz = d loss / d z.
   Stable: log-sum-exp with the row max subtracted; BCE as max(z,0) - z*y + log1p(e^-|z|).
   Class ids must be in [0, k) (checked by the caller). Accumulates in double. */
double fi_loss_s(float *dz, const float *z, const void *target, fi_dim_t n, fi_dim_t k, fi_loss_t loss);
double fi_loss_d(double *dz, const double *z, const void *target, fi_dim_t n, fi_dim_t k, fi_loss_t loss);

#endif
