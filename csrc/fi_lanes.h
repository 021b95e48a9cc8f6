/* The lane engine behind fi_ensemble: V members of one architecture trained together, member
   m in SIMD lane m. Parameters, gradients, optimizer state and activations are stored
   interleaved, element e of member m at [e*V + m], so each scalar operation of the solo step
   (fi_mlp_step) becomes one vector operation over V members. Each lane performs exactly the
   solo step's sequence of operations for its member (the GEMM's FMA chain over k in order with
   its KC split and epilogue, the activation and loss code, the optimizer formula), so every
   member's bits are those of its solo run.
   Owns the interleaved workspaces and the group driver (fi_lanes.c, per dtype); the per-ISA
   kernels (lane GEMM, optimizer update) live in fi_lanes_avx2.c and fi_lanes_avx512.c. Used only
   where the GEMM family runs an FMA set (avx2, avx512): the ref set keeps the per-member path. */
#ifndef FI_LANES_H
#define FI_LANES_H

#include "fi_common.h"
#include "fi_ensemble.h"

/* C(i,j) = sum_p A(i,p) B(p,j) over V lanes, every lane the solo GEMM's arithmetic for one
   element: per KC block an FMA chain from zero over p in order, merged into C as C + acc for
   blocks after the first, then (after the last block) + bias, then relu.
   A(i,p) is the lane vector at a + (i*a_rs + p*a_cs)*V; B(p,j) the lane vector at
   b + (p*b_rs + j*b_cs)*V, or with b_bcast the one value b[p*b_rs + j*b_cs] for all lanes (a
   batch shared by the members); C(i,j) at c + (i*c_rs + j*c_cs)*V. bias: NULL or lane vectors,
   bias + i*V (bias_on_j 0) or bias + j*V. */
typedef struct fi_lgemm {
    fi_dim_t m, n, k, kc;
    const void *a;
    fi_dim_t a_rs, a_cs;
    const void *b;
    fi_dim_t b_rs, b_cs;
    int b_bcast;
    void *c;
    fi_dim_t c_rs, c_cs;
    const void *bias;
    int bias_on_j, relu;
} fi_lgemm_t;

/* Deeper nets take the per-member path (a group keeps per-layer pointers on the stack). */
#define FI_LANES_MAX_LAYERS 64

/* Optimizer kinds of a lane group: every lane runs the same branch of fi_optim_step. */
enum { FI_LOPT_SGD = 0, FI_LOPT_MOMENTUM = 1, FI_LOPT_NESTEROV = 2, FI_LOPT_ADAM = 3, FI_LOPT_ADAMW = 4 };
/* Per-lane hyper-parameters (rows of V values of the dtype), in fi_optim_step's roundings;
   LR and STEP hold -lr and -step_size. */
enum { FI_LH_LR = 0, FI_LH_WD, FI_LH_MOM, FI_LH_W1, FI_LH_B2, FI_LH_W2, FI_LH_STEP, FI_LH_BC2S,
       FI_LH_EPS, FI_LH_SHRINK, FI_LH_COUNT };

/* One update of count interleaved elements; ok receives a bit per lane: 1 if every updated
   parameter of that lane is finite. */
typedef struct fi_lopt {
    fi_dim_t count;
    void *p, *g, *s1, *s2;
    int kind;
    const void *hyp; /* FI_LH_COUNT x V values */
    unsigned ok;
} fi_lopt_t;

/* One ISA's kernels for one dtype. */
typedef struct fi_lanes_isa {
    int v, mr, nr;
    void (*gemm)(const fi_lgemm_t *g);
    void (*optim)(fi_lopt_t *o);
    /* fi_act_backward_colsum in place over (rows, cols) lane vectors, dz from the output y,
       for identity, relu, tanh and sigmoid; returns 0 (doing nothing) for other acts. */
    int (*colsum)(void *dz, const void *y, fi_dim_t rows, fi_dim_t cols, int act, void *colsum);
} fi_lanes_isa_t;

/* Defined where built (x86-64 GCC/Clang), each only to be run where its ISA is (fi_cpu.h). */
extern const fi_lanes_isa_t fi_lanes_avx2_s, fi_lanes_avx2_d, fi_lanes_avx512_s, fi_lanes_avx512_d;

/* The kernels for the kernel set in use and this dtype (elsize 4 or 8), or NULL: the ref and
   neon sets, or a build without them. */
const fi_lanes_isa_t *fi_lanes_isa(size_t elsize);

/* Workspaces for groups of up to v lanes of architecture m and batches of up to n rows, one
   per thread slot; opaque, owned by an fi_ens_ws_t (its lanes member). */
typedef struct fi_lanes_pool fi_lanes_pool_t;
/* A pool with at least `slots` workspaces for (m, n, v, elsize) in *pool (reallocated if the
   one there is smaller). Returns the usable slots (>= 1), or 0 if out of memory (*pool is
   then freed and NULL; the caller runs the per-member path). */
int fi_lanes_pool_get(fi_lanes_pool_t **pool, const fi_mlp_t *m, fi_dim_t n, int v, size_t elsize,
                      int slots);
void fi_lanes_pool_free(fi_lanes_pool_t *pool);

/* Lane groups for one call: the members j with active[j] (active NULL: all), split by
   optimizer class (fi_lanes_opt_class), in member order, into groups of v; a class's last,
   short group at width v_half (0: none) if it fits there, else padded at width v. Where both
   paths of a width were timed over two steps or more (c), a group of r members runs in lanes
   if its step costs less than r member-steps alone; else it needs at least half of its lanes
   busy, and until two steps of a member alone were timed a class of two or more keeps its
   last member on its own (so that later calls can compare). Members not in a group take the per-member path.
   js receives the members group by group, gstart[0..ngroups] where each group starts in js
   (room for k + 1), ghalf[g] 1 for a group of width v_half, laned[j] 1 for a member in a
   group, else 0. Returns ngroups. */
int fi_lanes_plan(const fi_ens_t *e, const uint8_t *active, int v, int v_half, size_t elsize,
                  const fi_lanes_costs_t *c, int *js, int *gstart, uint8_t *ghalf, uint8_t *laned);
/* For tests: 1 plans every call as if nothing were measured and without holding a member out
   (at least half of a group's lanes busy: every kind of group and tail on chosen K); 0 (the
   default) plans from the measured costs. */
void fi_lanes_plan_fixed(int fixed);

/* The kernels of half the width of isa's (the AVX2 ones beside AVX-512's), or NULL. */
const fi_lanes_isa_t *fi_lanes_isa_half(const fi_lanes_isa_t *isa);

/* Monotonic seconds (fi_ensemble.c). */
double fi_ens_now(void);

/* The FI_LOPT_* branch opt runs (members share a lane group only if theirs agree). */
int fi_lanes_opt_class(const fi_optim_t *opt, size_t elsize);

/* The batch schedule of fi_ens_run (see fi_ensemble.h), nsteps >= 1. */
typedef struct fi_lanes_sched {
    const void *x;
    fi_dim_t x_stride;
    const void *y;
    fi_dim_t y_stride;
    const int64_t *idx;
    fi_dim_t idx_stride;
    const fi_dim_t *off, *start;
    fi_dim_t nsteps;
    int stops; /* 1: a member stops at a non-finite loss or parameter or past its ceiling */
    double *loss, *seconds, *ceiling;
    fi_dim_t *done; /* may be NULL */
    double factor;
} fi_lanes_sched_t;

/* All steps of the r (1..isa->v) members js[0..r) of e, in lanes 0..r-1 of slot `slot` of
   pool (lanes r.. are padding, never written back). fi_ens_run's semantics per member: loss,
   done, seconds (the group's time split evenly among the lanes still training), ceiling and
   stops; parameters, gradients, optimizer state and step counts written back at the end or
   when the member stops. Returns the steps the group ran (until its last member stopped). */
fi_dim_t fi_lanes_run_s(const fi_lanes_isa_t *isa, fi_lanes_pool_t *pool, int slot, const fi_ens_t *e,
                    const int *js, int r, const fi_lanes_sched_t *s);
fi_dim_t fi_lanes_run_d(const fi_lanes_isa_t *isa, fi_lanes_pool_t *pool, int slot, const fi_ens_t *e,
                    const int *js, int r, const fi_lanes_sched_t *s);

#endif
