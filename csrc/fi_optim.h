/* Optimizer updates in place, with torch.optim's semantics. */
#ifndef FI_OPTIM_H
#define FI_OPTIM_H

#include "fi_common.h"

typedef enum fi_opt_kind { FI_OPT_SGD = 0, FI_OPT_ADAM = 1, FI_OPT_ADAMW = 2 } fi_opt_kind_t;

typedef struct fi_optim {
    fi_opt_kind_t kind;
    double lr, momentum, weight_decay, beta1, beta2, eps;
    int nesterov;
    long long step; /* 1 on the first update */
} fi_optim_t;

/* One update of p (n values) from gradient g * grad_scale (grad_scale < 1 when clipping).
   SGD: g += wd p; momentum: m = g at step 1, else mu m + g; nesterov: g + mu m; p -= lr g.
   Adam: g += wd p (L2); AdamW: p *= 1 - lr wd (decoupled); m, v moments with bias correction;
   p -= lr m_hat / (sqrt(v_hat) + eps). m and v are state buffers (v unused by SGD). */
void fi_optim_update_s(float *FI_RESTRICT p, const float *FI_RESTRICT g, float *FI_RESTRICT m,
                       float *FI_RESTRICT v, fi_dim_t n, const fi_optim_t *o, double grad_scale);
void fi_optim_update_d(double *FI_RESTRICT p, const double *FI_RESTRICT g, double *FI_RESTRICT m,
                       double *FI_RESTRICT v, fi_dim_t n, const fi_optim_t *o, double grad_scale);

/* Sum of squares of n values, accumulated in double in a fixed order (for clipping). */
double fi_sumsq_s(const float *x, fi_dim_t n);
double fi_sumsq_d(const double *x, fi_dim_t n);

#endif
