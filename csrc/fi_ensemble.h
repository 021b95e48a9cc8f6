/* The ensemble engine: K models of one architecture (sizes, activations, loss) trained in one
   call, per step or per N steps with the batch schedule given as row indices. Each member has
   its own parameters, gradients, optimizer hyper-parameters, state and step count. Where the
   kernel set has FMA lanes (avx2, avx512), members run in groups of one SIMD width, a member
   per lane, each lane the solo step's arithmetic (fi_lanes.h); elsewhere, and for members left
   out of a group, a member runs its whole step on one thread with the solo engine's code
   (fi_mlp_step). Either way its bits are those of the same model trained alone, whatever the
   thread count or which members share the call.
   Threads split the members, never one member's step; no value is reduced across members.
   Owns the workspaces (allocated once per (K, batch size)); parameters, gradients and optimizer
   state belong to the caller. */
#ifndef FI_ENSEMBLE_H
#define FI_ENSEMBLE_H

#include "fi_common.h"
#include "fi_mlp.h"
#include "fi_optim.h"

/* k members. m[j] is member j (same nlayers, sizes, acts, act_params and loss for all j; its
   own p and g); opt[j] its optimizer (kind, hyper-parameters and step count may differ per
   member); s1[j], s2[j] its 2*nlayers state tensors as in fi_optim_step (NULL where unused). */
typedef struct fi_ens {
    int k;
    const fi_mlp_t *m;
    fi_optim_t **opt;
    void ***s1; /* read only; not const-qualified so that Cython can fill the struct */
    void ***s2;
} fi_ens_t;

/* What the two paths measured on one ensemble's calls for one batch size, by path (FI_PATH_*):
   thread CPU seconds per step of a lane group of full or half width, and per member-step
   alone, each the least any call measured (a first call's cold caches, its new workspaces'
   page faults and another process's passing load only ever add time; 0: not measured), and
   how many steps the calls that measured it ran. Lanes pay where a group's
   step costs less than its members' steps alone: a 2-16-16-2 net 9.7 against 21.1 us a
   member, but a 12 x 64 tanh net at batch 64 230 against 224 even with every lane busy, and
   the MNIST-1D net's 40-100-100-10 only with three quarters of them (Zen 4, measured by
   bench/bench_ensemble.py --only plan). */
enum { FI_PATH_GROUP = 0, FI_PATH_HALF_GROUP = 1, FI_PATH_ALONE = 2 };
typedef struct fi_lanes_costs {
    double seconds[3];
    long long steps[3];
} fi_lanes_costs_t;

/* Per member: the fi_mlp workspace for batches of up to n rows, and buffers for one gathered
   batch (x: n * sizes[0] values; y: n rows of labels or targets). The lane engine's state
   (fi_lanes.h): its workspaces (made at the first call that uses them), the plan of one
   call (lane_js, lane_start: k + 1 ints each; lane_half, laned: k + 1 flags each), the costs
   measured by the calls so far, and per task of a call its seconds per step (t_task: the lane
   groups' at [0, k], the members' at [k + 1, 2k + 1); 0: it did not run). */
typedef struct fi_ens_ws {
    int k;
    fi_dim_t n;
    fi_mlp_ws_t *ws;
    void **xb, **yb;
    void *raw;
    struct fi_lanes_pool *lanes;
    int *lane_js, *lane_start;
    uint8_t *lane_half, *laned;
    fi_lanes_costs_t costs;
    double *t_task;
} fi_ens_ws_t;

/* Allocate w for k members of architecture m[0], batches of up to n rows of elsize-byte
   values. 0 on success, -1 if out of memory or a size overflows (w is then empty and
   fi_ens_ws_free is still safe). */
int fi_ens_ws_init(fi_ens_ws_t *w, const fi_mlp_t *m, int k, fi_dim_t n, size_t elsize);
void fi_ens_ws_free(fi_ens_ws_t *w);

/* Bytes of one row of y for architecture m: 8 (an int64 label) for FI_LOSS_SOFTMAX_XENT, else
   sizes[nlayers] values of elsize bytes. */
size_t fi_ens_y_row_bytes(const fi_mlp_t *m, size_t elsize);

/* One training step of every member j with active[j] != 0 (active NULL: all), on x + j*x_stride
   (n, sizes[0]) and y + j*y_stride bytes (n rows, see fi_ens_y_row_bytes); strides 0 share one
   batch. loss[j] receives the loss before the update (inactive members' loss is untouched).
   n <= w->n. */
void fi_ens_step_s(const fi_ens_t *e, fi_ens_ws_t *w, const float *x, fi_dim_t x_stride,
                   const void *y, fi_dim_t y_stride, fi_dim_t n, const uint8_t *active,
                   double *loss);
void fi_ens_step_d(const fi_ens_t *e, fi_ens_ws_t *w, const double *x, fi_dim_t x_stride,
                   const void *y, fi_dim_t y_stride, fi_dim_t n, const uint8_t *active,
                   double *loss);

/* nsteps training steps of every active member, in one call. Step t of member j trains on the
   rows idx[j*idx_stride + off[t] .. j*idx_stride + off[t+1]) of its data x + j*x_stride and
   y + j*y_stride bytes, gathered into its buffers; idx NULL: on the off[t+1] - off[t] rows from
   row start[t] (start NULL: off[t]), read in place (a full batch each step: start all 0).
   Batches hold 1 .. w->n rows; every row must exist (the caller checks).
   loss[j*nsteps + t] receives step t's loss. A member stops after a step whose loss is not
   finite; done[j] receives the steps it ran (0 if inactive). seconds[j], if not NULL, gets the
   time member j's steps took added (its thread's wall clock, gathering included). A member also
   stops after a step whose update left a parameter non-finite (opt->finite 0), and, with
   ceiling not NULL, after a step whose loss exceeds ceiling[j]: a negative ceiling[j] is set by
   the member's next step to factor * max(its loss, 1e-12) (fit's blow-up rule). */
void fi_ens_run_s(const fi_ens_t *e, fi_ens_ws_t *w, const float *x, fi_dim_t x_stride,
                  const void *y, fi_dim_t y_stride, const int64_t *idx, fi_dim_t idx_stride,
                  const fi_dim_t *off, const fi_dim_t *start, fi_dim_t nsteps,
                  const uint8_t *active, double *loss, fi_dim_t *done, double *seconds, double *ceiling,
                  double factor);
void fi_ens_run_d(const fi_ens_t *e, fi_ens_ws_t *w, const double *x, fi_dim_t x_stride,
                  const void *y, fi_dim_t y_stride, const int64_t *idx, fi_dim_t idx_stride,
                  const fi_dim_t *off, const fi_dim_t *start, fi_dim_t nsteps,
                  const uint8_t *active, double *loss, fi_dim_t *done, double *seconds, double *ceiling,
                  double factor);

/* Members a lane group holds with elsize-byte values in the kernel set in use (the SIMD width),
   0 where members never share lanes (the ref and neon sets): a caller splitting a study into
   ensembles keeps them at least this large so that the lane engine runs. */
int fi_ens_lane_width(size_t elsize);

#endif
