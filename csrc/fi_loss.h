/* Losses, value and gradient in one pass, mean over the batch, float32 (_s) and float64 (_d).
   Owns softmax cross-entropy (integer labels), BCE on logits and MSE; not the activations. */
#ifndef FI_LOSS_H
#define FI_LOSS_H

#include "fi_common.h"

typedef enum fi_loss {
    FI_LOSS_SOFTMAX_XENT = 0, /* logits (n, c), labels int64 in [0, c) */
    FI_LOSS_BCE_LOGITS = 1,   /* logits (n, c), targets (n, c) in [0, 1], usually c == 1 */
    FI_LOSS_MSE = 2           /* outputs (n, c), targets (n, c) */
} fi_loss_t;

/* loss = mean_i [logsumexp(z_i) - z_i[y_i]];  dz = (softmax(z) - onehot(y)) / n.
   z:(n,c) labels:(n) -> dz:(n,c) (dz may be NULL: value only). Labels must be in [0, c). */
/* With the gradient, the log terms are taken of products of the row sums s_i = sum_j
   exp(z_ij - max_j z_ij), one log each time the product passes FI_XENT_LOG_AT, rather than one
   per row (a tenth of a small net's step): each s_i is in [1, c], so a product stays finite
   for c < 2^123, and its rounding (2^-53 per row) is the sum of logs' own. The ensemble's lanes
   (fi_lanes_impl.h) take the same logs. */
#define FI_XENT_LOG_AT 0x1p900
double fi_loss_xent_s(float *dz, const float *z, const int64_t *labels, fi_dim_t n, fi_dim_t c);
double fi_loss_xent_d(double *dz, const double *z, const int64_t *labels, fi_dim_t n, fi_dim_t c);

/* loss = mean over n*c of max(z,0) - z*t + log1p(exp(-|z|));  dz = (sigmoid(z) - t) / (n*c). */
double fi_loss_bce_s(float *dz, const float *z, const float *t, fi_dim_t n, fi_dim_t c);
double fi_loss_bce_d(double *dz, const double *z, const double *t, fi_dim_t n, fi_dim_t c);

/* loss = mean over n*c of (z - t)^2 (as torch.nn.MSELoss);  dz = 2 (z - t) / (n*c). */
double fi_loss_mse_s(float *dz, const float *z, const float *t, fi_dim_t n, fi_dim_t c);
double fi_loss_mse_d(double *dz, const double *z, const double *t, fi_dim_t n, fi_dim_t c);

#endif
