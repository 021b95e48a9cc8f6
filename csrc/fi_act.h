/* Activations: forward and backward as pairs, float32 (_s) and float64 (_d). */
#ifndef FI_ACT_H
#define FI_ACT_H

#include "fi_common.h"

typedef enum fi_act {
    FI_ACT_IDENTITY = 0,
    FI_ACT_RELU,
    FI_ACT_LEAKY_RELU, /* param: negative slope (0.01) */
    FI_ACT_ELU,        /* param: alpha (1.0) */
    FI_ACT_SELU,
    FI_ACT_TANH,
    FI_ACT_SIGMOID,
    FI_ACT_GELU,       /* erf form */
    FI_ACT_GELU_TANH,  /* tanh approximation */
    FI_ACT_SOFTPLUS,
    FI_ACT_SOFTSIGN,
    FI_ACT_COUNT
} fi_act_t;

/* y = act(x), n values. y may equal x (in place). */
void fi_act_forward_s(float *y, const float *x, fi_dim_t n, fi_act_t act, double param);
void fi_act_forward_d(double *y, const double *x, fi_dim_t n, fi_act_t act, double param);

#endif
