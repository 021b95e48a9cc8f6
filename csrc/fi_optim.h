/* Optimizer updates in place, with PyTorch's semantics (torch.optim.SGD/Adam/AdamW, and
   torch.nn.utils.clip_grad_norm_ for the optional global clipping). Owns no buffers. */
#ifndef FI_OPTIM_H
#define FI_OPTIM_H

#include "fi_common.h"

typedef enum fi_optim_kind { FI_OPT_SGD = 0, FI_OPT_ADAM = 1, FI_OPT_ADAMW = 2 } fi_optim_kind_t;

typedef struct fi_optim {
    fi_optim_kind_t kind;
    double lr;
    double momentum;     /* SGD: 0 = plain SGD */
    int nesterov;        /* SGD with momentum */
    double weight_decay; /* SGD/Adam: added to the gradient; AdamW: decoupled, p *= 1 - lr*wd */
    double beta1, beta2, eps;
    double clip_norm;    /* > 0: scale all gradients by min(1, clip / (||g||_2 + 1e-6)) first */
    int64_t step;        /* updates done so far; incremented by each fi_optim_step */
    int finite;          /* set by each fi_optim_step: 1 if every parameter is finite after it */
} fi_optim_t;

/* One update of nt tensors: p[k] (count[k] values) from gradient g[k]. State s1[k] is the
   momentum buffer (SGD with momentum) or Adam's first moment, s2[k] Adam's second moment;
   both start at zero and are unused (may be NULL) otherwise. Clipping scales g in place. */
void fi_optim_step_s(fi_optim_t *opt, int nt, float *const *p, float *const *g, float *const *s1,
                     float *const *s2, const fi_dim_t *count);
void fi_optim_step_d(fi_optim_t *opt, int nt, double *const *p, double *const *g,
                     double *const *s1, double *const *s2, const fi_dim_t *count);

#endif
