/* Ensemble engine (see fi_ensemble.h): workspaces, then one template for two dtypes. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fi_cpu.h"
#include "fi_ensemble.h"
#include "fi_lanes.h"
#include "fi_pool.h"

#define FI_ENS_ALIGN 64

static size_t fi_ens_round_up(size_t b) { return (b + FI_ENS_ALIGN - 1) / FI_ENS_ALIGN * FI_ENS_ALIGN; }

size_t fi_ens_y_row_bytes(const fi_mlp_t *m, size_t elsize)
{
    return m->loss == FI_LOSS_SOFTMAX_XENT ? sizeof(int64_t) : (size_t)m->sizes[m->nlayers] * elsize;
}

void fi_ens_ws_free(fi_ens_ws_t *w)
{
    if (w->ws)
        for (int j = 0; j < w->k; j++) fi_mlp_ws_free(&w->ws[j]);
    free(w->ws);
    free(w->xb); /* yb shares the block of xb */
    free(w->raw);
    fi_lanes_pool_free(w->lanes);
    free(w->lane_js); /* lane_start, lane_half and laned share its block */
    free(w->t_task);
    w->t_task = NULL;
    w->lanes = NULL;
    w->lane_js = w->lane_start = NULL;
    w->lane_half = w->laned = NULL;
    w->ws = NULL;
    w->xb = w->yb = NULL;
    w->raw = NULL;
    w->k = 0;
    w->n = 0;
}

int fi_ens_ws_init(fi_ens_ws_t *w, const fi_mlp_t *m, int k, fi_dim_t n, size_t elsize)
{
    w->ws = NULL;
    w->xb = w->yb = NULL;
    w->raw = NULL;
    w->lanes = NULL;
    w->lane_js = w->lane_start = NULL;
    w->lane_half = w->laned = NULL;
    w->t_task = NULL;
    w->costs = (fi_lanes_costs_t){{0.0, 0.0, 0.0}, {0, 0, 0}};
    w->k = 0;
    w->n = 0;
    if (k <= 0 || n <= 0 || m->nlayers <= 0) return -1;
    const size_t cap = SIZE_MAX / 4;
    const size_t xrow = (size_t)m->sizes[0] * elsize, yrow = fi_ens_y_row_bytes(m, elsize);
    if (xrow > cap / (size_t)n || yrow > cap / (size_t)n) return -1;
    const size_t xb = fi_ens_round_up((size_t)n * xrow), yb = fi_ens_round_up((size_t)n * yrow);
    if (xb + yb > cap / (size_t)k) return -1;
    w->ws = (fi_mlp_ws_t *)calloc((size_t)k, sizeof(fi_mlp_ws_t));
    w->xb = (void **)calloc(2 * (size_t)k, sizeof(void *));
    w->raw = malloc((size_t)k * (xb + yb) + FI_ENS_ALIGN);
    w->lane_js = (int *)malloc(2 * ((size_t)k + 1) * (sizeof(int) + 1));
    w->t_task = (double *)calloc(2 * (size_t)k + 1, sizeof(double));
    if (!w->ws || !w->xb || !w->raw || !w->lane_js || !w->t_task) {
        fi_ens_ws_free(w);
        return -1;
    }
    w->k = k; /* from here fi_ens_ws_free frees the member workspaces made so far */
    w->yb = w->xb + k;
    w->lane_start = w->lane_js + k + 1;
    w->lane_half = (uint8_t *)(w->lane_start + k + 1);
    w->laned = w->lane_half + k + 1;
    for (int j = 0; j < k; j++) {
        if (fi_mlp_ws_init(&w->ws[j], m, n, elsize) != 0) {
            fi_ens_ws_free(w);
            return -1;
        }
    }
    char *p = (char *)(((uintptr_t)w->raw + FI_ENS_ALIGN - 1) / FI_ENS_ALIGN * FI_ENS_ALIGN);
    for (int j = 0; j < k; j++) {
        w->xb[j] = p;
        p += xb;
        w->yb[j] = p;
        p += yb;
    }
    w->n = n;
    return 0;
}

double fi_ens_now(void)
{
    struct timespec ts;
#if defined(CLOCK_MONOTONIC)
    clock_gettime(CLOCK_MONOTONIC, &ts);
#else
    timespec_get(&ts, TIME_UTC);
#endif
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Threads for a call over `count` members: never more than the members, one if just one. */
static int fi_ens_threads(int count)
{
    int nt = fi_get_num_threads();
    return nt > count ? (count > 0 ? count : 1) : nt;
}

int fi_ens_lane_width(size_t elsize)
{
    const fi_lanes_isa_t *isa = fi_lanes_isa(elsize);
    return isa ? isa->v : 0;
}

/* The lane plan of one call (fi_lanes_plan into w's arrays) and workspaces for it; returns the
   groups (0: every member on the per-member path, laned all 0). isa[0]: the kernels of full
   groups, isa[1] of half-width ones; *nt: the threads the groups use (at most the slots). */
static int fi_ens_lanes(const fi_ens_t *e, fi_ens_ws_t *w, const uint8_t *active, size_t elsize,
                        const fi_lanes_isa_t **isa, int *nt)
{
    const fi_mlp_t *m0 = &e->m[0];
    for (int j = 0; j < e->k; j++) w->laned[j] = 0;
    isa[0] = fi_lanes_isa(elsize);
    if (!isa[0] || m0->nlayers > FI_LANES_MAX_LAYERS) return 0;
    isa[1] = fi_lanes_isa_half(isa[0]);
    const int ng = fi_lanes_plan(e, active, isa[0]->v, isa[1] ? isa[1]->v : 0, elsize, &w->costs,
                                 w->lane_js, w->lane_start, w->lane_half, w->laned);
    if (ng == 0) return 0;
    const int slots = fi_lanes_pool_get(&w->lanes, m0, w->n, isa[0]->v, elsize, fi_ens_threads(ng));
    if (slots == 0) { /* no memory: the per-member path */
        for (int j = 0; j < e->k; j++) w->laned[j] = 0;
        return 0;
    }
    *nt = slots < fi_ens_threads(ng) ? slots : fi_ens_threads(ng);
    return ng;
}

/* Folds a job's per-task seconds per step (t[0..count), 0 where a task did not run; width[i]
   selects the path of task i, NULL: alone) into the measured costs: the mean of the job's
   tasks of a path, kept where it is less than what earlier calls measured; steps: the call's,
   counted for each path it timed. Clears t. */
static void fi_ens_fold(fi_lanes_costs_t *c, double *t, int count, const uint8_t *width, fi_dim_t steps)
{
    double sum[3] = {0, 0, 0};
    int n[3] = {0, 0, 0};
    for (int i = 0; i < count; i++) {
        if (t[i] <= 0) continue;
        const int h = width ? width[i] : FI_PATH_ALONE; /* lane_half: 0 full, 1 half */
        sum[h] += t[i], n[h]++;
        t[i] = 0;
    }
    for (int h = 0; h < 3; h++) {
        if (!n[h]) continue;
        if (c->seconds[h] <= 0 || sum[h] / n[h] < c->seconds[h]) c->seconds[h] = sum[h] / n[h];
        c->steps[h] += steps;
    }
}

/* One call's work for the pool's tasks: a lane group or a member each (fi_ensemble_impl.h). The
   member steps of fi_ens_step read their batch from the schedule's first step (off {0, n}). */
typedef struct fi_ens_job {
    const fi_ens_t *e;
    fi_ens_ws_t *w;
    const uint8_t *active;
    const fi_lanes_sched_t *s;
    const fi_lanes_isa_t *isa[2]; /* the lane kernels of full and half-width groups */
} fi_ens_job_t;

#define FI_DTYPE 32
#include "fi_ensemble_impl.h"
#define FI_DTYPE 64
#include "fi_ensemble_impl.h"
