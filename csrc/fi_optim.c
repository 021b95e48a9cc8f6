/* Optimizer kernels (see fi_optim.h), one macro template for both dtypes. */
#include <math.h>

#include "fi_optim.h"

#define FI_DEFINE_OPTIM(SUF, T, SQRT)                                                            \
    void fi_optim_update_##SUF(T *FI_RESTRICT p, const T *FI_RESTRICT g, T *FI_RESTRICT m,        \
                               T *FI_RESTRICT v, fi_dim_t n, const fi_optim_t *o, double grad_scale) \
    {                                                                                            \
        const T lr = (T)o->lr, wd = (T)o->weight_decay, gs = (T)grad_scale;                      \
        if (o->kind == FI_OPT_SGD) {                                                             \
            const T mu = (T)o->momentum;                                                         \
            for (fi_dim_t i = 0; i < n; i++) {                                                   \
                T d = g[i] * gs + wd * p[i];                                                     \
                if (mu != 0) {                                                                   \
                    m[i] = o->step == 1 ? d : mu * m[i] + d;                                     \
                    d = o->nesterov ? d + mu * m[i] : m[i];                                      \
                }                                                                                \
                p[i] -= lr * d;                                                                  \
            }                                                                                    \
            return;                                                                              \
        }                                                                                        \
        const T b1 = (T)o->beta1, b2 = (T)o->beta2, eps = (T)o->eps;                             \
        const T bc1 = (T)(1.0 - pow(o->beta1, (double)o->step));                                 \
        const T bc2 = (T)SQRT((T)(1.0 - pow(o->beta2, (double)o->step)));                        \
        const T step = lr / bc1;                                                                 \
        const int adamw = o->kind == FI_OPT_ADAMW;                                               \
        for (fi_dim_t i = 0; i < n; i++) {                                                       \
            T d = g[i] * gs;                                                                     \
            if (adamw)                                                                           \
                p[i] *= (T)1 - lr * wd;                                                          \
            else                                                                                 \
                d += wd * p[i];                                                                  \
            m[i] = b1 * m[i] + ((T)1 - b1) * d;                                                  \
            v[i] = b2 * v[i] + ((T)1 - b2) * d * d;                                              \
            p[i] -= step * m[i] / (SQRT(v[i]) / bc2 + eps);                                      \
        }                                                                                        \
    }                                                                                            \
    double fi_sumsq_##SUF(const T *x, fi_dim_t n)                                                \
    {                                                                                            \
        double s = 0.0;                                                                          \
        for (fi_dim_t i = 0; i < n; i++) s += (double)x[i] * (double)x[i];                       \
        return s;                                                                                \
    }

FI_DEFINE_OPTIM(s, float, sqrtf)
FI_DEFINE_OPTIM(d, double, sqrt)
