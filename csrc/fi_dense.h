/* Dense layer forward/backward composed from the GEMM (with its fused bias+act epilogue) and
   the activation pairs. float32 (_s) and float64 (_d) from one template. Owns no memory. */
#ifndef FI_DENSE_H
#define FI_DENSE_H

#include "fi_act.h"
#include "fi_common.h"

/* y = act(x @ w^T + b).  x:(n,in) w:(out,in) b:(out) or NULL -> y:(n,out); row-major.
   z:(n,out) receives the pre-activation when non-NULL (then act runs after the GEMM),
   otherwise act is fused into the GEMM write-out. Overwrites y (and z). */
void fi_dense_forward_s(float *y, float *z, const float *x, const float *w, const float *b,
                        fi_dim_t n, fi_dim_t in, fi_dim_t out, fi_act_t act, double param);
void fi_dense_forward_d(double *y, double *z, const double *x, const double *w, const double *b,
                        fi_dim_t n, fi_dim_t in, fi_dim_t out, fi_act_t act, double param);

/* Backward of fi_dense_forward given dy = dL/dy:(n,out), overwritten by dz = dy * act'(.)
   (from y, or z when fi_act_needs_pre(act)).  dw:(out,in) = dz^T @ x, db:(out) = column sums
   of dz in row order (deterministic), dx:(n,in) = dz @ w (skipped when dx is NULL). */
void fi_dense_backward_s(float *dx, float *dw, float *db, float *dy, const float *z,
                         const float *y, const float *x, const float *w, fi_dim_t n, fi_dim_t in,
                         fi_dim_t out, fi_act_t act, double param);
void fi_dense_backward_d(double *dx, double *dw, double *db, double *dy, const double *z,
                         const double *y, const double *x, const double *w, fi_dim_t n,
                         fi_dim_t in, fi_dim_t out, fi_act_t act, double param);

#endif
