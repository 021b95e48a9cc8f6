/* A whole MLP training step in one call: forward through every dense layer (GEMM with the
   bias and activation fused into its write-out), loss, backward, optimizer update. All memory
   is the caller's, allocated once per (model, batch size): nothing here allocates. */
#ifndef FI_MLP_H
#define FI_MLP_H

#include "fi_act.h"
#include "fi_common.h"
#include "fi_loss.h"
#include "fi_optim.h"

/* Layer l maps width sizes[l] to sizes[l+1]: A_l = act_l(A_{l-1} @ W_l^T + b_l), A_{-1} = X,
   W_l:(sizes[l+1], sizes[l]) row-major, b_l:(sizes[l+1]). The last layer's output A_{L-1} is
   the logits the loss reads. Pointer arrays hold nlayers entries of the model's dtype. */
typedef struct fi_mlp {
    int nlayers;
    const fi_dim_t *sizes;
    const fi_act_t *acts;
    const double *act_params;
    void *const *W, *const *b, *const *dW, *const *db;
    void *const *mW, *const *vW, *const *mb, *const *vb; /* optimizer state, NULL if unused */
    void *const *A; /* (n_max, sizes[l+1]) outputs */
    void *const *Z; /* (n_max, sizes[l+1]) pre-activations where kept (needed by gelu, softplus
                       backward, or asked for), else NULL: then the activation is fused */
    void *g0, *g1;  /* two (n_max, max width) scratch buffers for the backward pass */
    fi_loss_t loss;
} fi_mlp_t;

/* Forward pass of n rows of X:(n, sizes[0]). */
void fi_mlp_forward_s(const fi_mlp_t *net, const float *X, fi_dim_t n);
void fi_mlp_forward_d(const fi_mlp_t *net, const double *X, fi_dim_t n);

/* Forward, loss and backward: fills dW, db; returns the mean loss. */
double fi_mlp_grad_s(const fi_mlp_t *net, const float *X, const void *target, fi_dim_t n);
double fi_mlp_grad_d(const fi_mlp_t *net, const double *X, const void *target, fi_dim_t n);

/* One training step: grad, optional global-norm clipping (clip_norm > 0: gradients scaled by
   clip_norm / (norm + 1e-6) when norm exceeds it, as torch's clip_grad_norm_), then the update.
   Returns the loss before the update. */
double fi_mlp_step_s(const fi_mlp_t *net, const float *X, const void *target, fi_dim_t n,
                     const fi_optim_t *opt, double clip_norm);
double fi_mlp_step_d(const fi_mlp_t *net, const double *X, const void *target, fi_dim_t n,
                     const fi_optim_t *opt, double clip_norm);

#endif
