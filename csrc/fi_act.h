/* Activations: forward and backward as pairs, float32 (_s) and float64 (_d). */
#ifndef FI_ACT_H
#define FI_ACT_H

#include "fi_common.h"

typedef enum fi_act {
    FI_ACT_IDENTITY = 0,
    FI_ACT_RELU,
    FI_ACT_LEAKY_RELU, /* param: negative slope (0.01), >= 0 */
    FI_ACT_ELU,        /* param: alpha (1.0), > 0 */
    FI_ACT_SELU,       /* Klambauer et al. 2017 constants */
    FI_ACT_TANH,
    FI_ACT_SIGMOID,
    FI_ACT_GELU,       /* erf form */
    FI_ACT_GELU_TANH,  /* tanh approximation */
    FI_ACT_SOFTPLUS,   /* log(1 + e^x), x past 20 passed through as torch does */
    FI_ACT_SOFTSIGN,   /* x / (1 + |x|) */
    FI_ACT_COUNT
} fi_act_t;

/* y = act(x), n values. y may equal x (in place). */
void fi_act_forward_s(float *y, const float *x, fi_dim_t n, fi_act_t act, double param);
void fi_act_forward_d(double *y, const double *x, fi_dim_t n, fi_act_t act, double param);

/* dx = dy * act'(x), n values. The derivative is taken from the saved output y where that is
   exact (all but the three below), else from the pre-activation x: pass the one
   fi_act_needs_input says; the other may be NULL. dx may equal dy. */
void fi_act_backward_s(float *dx, const float *dy, const float *x, const float *y, fi_dim_t n,
                       fi_act_t act, double param);
void fi_act_backward_d(double *dx, const double *dy, const double *x, const double *y, fi_dim_t n,
                       fi_act_t act, double param);

/* 1 if the backward pass needs the pre-activation x (gelu, gelu_tanh, softplus), else 0. */
int fi_act_needs_input(fi_act_t act);

#endif
