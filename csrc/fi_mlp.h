/* The whole-step engine: forward through all dense layers, loss, backward, optimizer update,
   in one call, on workspaces allocated once per (model, batch size). Owns the workspace;
   parameters, gradients and optimizer state belong to the caller (NumPy arrays in Python). */
#ifndef FI_MLP_H
#define FI_MLP_H

#include "fi_act.h"
#include "fi_common.h"
#include "fi_loss.h"
#include "fi_optim.h"

/* A network of nlayers dense layers, sizes[0] inputs .. sizes[nlayers] outputs. Tensor k of
   p/g/count is W_l (k = 2l, (sizes[l+1], sizes[l])) or b_l (k = 2l+1, (sizes[l+1],)). The last
   layer's act is the identity: its output is the logits fed to the loss. */
typedef struct fi_mlp {
    int nlayers;
    const fi_dim_t *sizes;
    const fi_act_t *acts;
    const double *act_params;
    fi_loss_t loss;
    void *const *p;          /* parameters, 2*nlayers tensors */
    void *const *g;          /* their gradients, same shapes */
    const fi_dim_t *count;   /* values per tensor */
} fi_mlp_t;

/* Activations for up to n rows: a[l] (n, sizes[l+1]) output of layer l (a[nlayers-1] = logits),
   z[l] pre-activation when the act's backward needs it (else NULL), g0/g1 (n, max width of
   sizes[0..nlayers]). */
typedef struct fi_mlp_ws {
    fi_dim_t n;
    int nlayers;
    void **a, **z;
    void *g0, *g1;
    void *raw;
} fi_mlp_ws_t;

/* Allocate ws for batches of up to n rows of elsize-byte values. 0 on success, -1 if out of
   memory or the size overflows (ws is then empty; fi_mlp_ws_free is still safe). */
int fi_mlp_ws_init(fi_mlp_ws_t *ws, const fi_mlp_t *m, fi_dim_t n, size_t elsize);
void fi_mlp_ws_free(fi_mlp_ws_t *ws);

/* Logits of x:(n, sizes[0]) into ws->a[nlayers-1]; n <= ws->n. */
void fi_mlp_forward_s(const fi_mlp_t *m, fi_mlp_ws_t *ws, const float *x, fi_dim_t n);
void fi_mlp_forward_d(const fi_mlp_t *m, fi_mlp_ws_t *ws, const double *x, fi_dim_t n);

/* Forward, loss, backward: fills every gradient m->g, returns the mean loss. y is int64
   labels (n) for FI_LOSS_SOFTMAX_XENT (each in [0, classes): the caller checks), else targets
   (n, sizes[nlayers]) of the model's dtype. gin_ss, if not NULL, receives per layer the sum of
   squares of the loss gradient with respect to the layer's input (for the diagnostics: this
   costs one more product, the first layer's, and a pass over each input gradient). */
double fi_mlp_backprop_s(const fi_mlp_t *m, fi_mlp_ws_t *ws, const float *x, const void *y,
                         fi_dim_t n, double *gin_ss);
double fi_mlp_backprop_d(const fi_mlp_t *m, fi_mlp_ws_t *ws, const double *x, const void *y,
                         fi_dim_t n, double *gin_ss);

/* One training step: fi_mlp_backprop then fi_optim_step on all 2*nlayers tensors with state
   s1/s2 (see fi_optim.h). Returns the loss before the update. */
double fi_mlp_step_s(const fi_mlp_t *m, fi_mlp_ws_t *ws, const float *x, const void *y,
                     fi_dim_t n, fi_optim_t *opt, float *const *s1, float *const *s2,
                     double *gin_ss);
double fi_mlp_step_d(const fi_mlp_t *m, fi_mlp_ws_t *ws, const double *x, const void *y,
                     fi_dim_t n, fi_optim_t *opt, double *const *s1, double *const *s2,
                     double *gin_ss);

/* 1 if all n values are finite. */
int fi_all_finite_s(const float *x, fi_dim_t n);
int fi_all_finite_d(const double *x, fi_dim_t n);

#endif
