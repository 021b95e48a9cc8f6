/* Activation kernels. Minimal forward set for the GEMM epilogue; see fi_act.h. */
#include <math.h>

#include "fi_act.h"

#define FI_ACT_FORWARD(SUF, T, EXP, TANH)                                              \
    void fi_act_forward_##SUF(T *y, const T *x, fi_dim_t n, fi_act_t act, double param) \
    {                                                                                   \
        (void)param;                                                                    \
        switch (act) {                                                                  \
        case FI_ACT_RELU:                                                               \
            for (fi_dim_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : (T)0;             \
            break;                                                                      \
        case FI_ACT_TANH:                                                               \
            for (fi_dim_t i = 0; i < n; i++) y[i] = TANH(x[i]);                         \
            break;                                                                      \
        case FI_ACT_SIGMOID:                                                            \
            for (fi_dim_t i = 0; i < n; i++) y[i] = (T)1 / ((T)1 + EXP(-x[i]));         \
            break;                                                                      \
        default:                                                                        \
            if (y != x)                                                                 \
                for (fi_dim_t i = 0; i < n; i++) y[i] = x[i];                           \
        }                                                                               \
    }

FI_ACT_FORWARD(s, float, expf, tanhf)
FI_ACT_FORWARD(d, double, exp, tanh)
