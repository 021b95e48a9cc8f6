/* Activations: forward and backward as pairs, float32 (_s) and float64 (_d), from one template
   (fi_act_impl.h). Owns the elementwise nonlinearities only; losses live in fi_loss. */
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
    FI_ACT_SILU,       /* x sigmoid(x), swish with beta 1 (Ramachandran et al. 2017) */
    FI_ACT_COUNT
} fi_act_t;

/* Klambauer et al. 2017 (arXiv:1706.02515). */
#define FI_SELU_ALPHA 1.6732632423543772848170429916717
#define FI_SELU_SCALE 1.0507009873554804934193349852946

/* y = act(x), n values. y may equal x (in place). */
void fi_act_forward_s(float *y, const float *x, fi_dim_t n, fi_act_t act, double param);
void fi_act_forward_d(double *y, const double *x, fi_dim_t n, fi_act_t act, double param);

/* dz = dy * act'(z), n values, with y = act(z) the saved output. Uses y where that is exact
   (relu, elu, selu, tanh, sigmoid, softsign) and z otherwise; z may be NULL when
   fi_act_needs_pre(act) is 0. dz may equal dy (in place). */
void fi_act_backward_s(float *dz, const float *dy, const float *z, const float *y, fi_dim_t n,
                       fi_act_t act, double param);
void fi_act_backward_d(double *dz, const double *dy, const double *z, const double *y, fi_dim_t n,
                       fi_act_t act, double param);

/* fi_act_backward over a (rows, cols) block, plus colsum[j] = the sum of column j of dz in row
   order (deterministic): a dense layer's bias gradient, summed while dz is in registers. */
void fi_act_backward_colsum_s(float *dz, const float *dy, const float *z, const float *y,
                              fi_dim_t rows, fi_dim_t cols, fi_act_t act, double param,
                              float *colsum);
void fi_act_backward_colsum_d(double *dz, const double *dy, const double *z, const double *y,
                              fi_dim_t rows, fi_dim_t cols, fi_act_t act, double param,
                              double *colsum);

/* y = exp(x), n values (y may equal x). float32: within 1 ulp, vectorized like tanh/sigmoid
   (the softmax loss uses it); float64: libm. */
void fi_exp_s(float *y, const float *x, fi_dim_t n);
void fi_exp_d(double *y, const double *x, fi_dim_t n);

/* The float32 exp, tanh and sigmoid run the kernels of the set selected for every family
   (fi_kernel_select in fi_cpu.h): AVX2 or AVX-512 (the same bits), the portable code for ref
   and neon. */
/* What runs now: "avx512", "avx2" or "ref". */
const char *fi_act_kernel(void);

/* 1 if the backward of act reads the pre-activation z, 0 if the output y is enough. */
int fi_act_needs_pre(fi_act_t act);

#endif
