/* Template body of fi_ensemble.c, instantiated per dtype (FI_DTYPE, fi_template.h). No include
   guard on purpose. */
#include "fi_dtype_begin.h"

/* A lane group per task (fi_ens_lanes), all its steps, timed (thread CPU seconds per step); the
   worker names its workspace slot. */
static void FI_DT(fi_ens_lane_task)(void *arg, long g, int worker)
{
    const fi_ens_job_t *jb = (const fi_ens_job_t *)arg;
    const fi_ens_ws_t *w = jb->w;
    const double t0 = fi_thread_seconds();
    const fi_dim_t steps = FI_DT(fi_lanes_run)(jb->isa[w->lane_half[g]], w->lanes, worker, jb->e,
                                               w->lane_js + w->lane_start[g],
                                               w->lane_start[g + 1] - w->lane_start[g], jb->s);
    if (steps > 0) w->t_task[g] = (fi_thread_seconds() - t0) / (double)steps;
}

/* The lane groups of one call, each on one thread with all its steps; threads split the groups,
   never a group. Leaves w->laned marking the members they trained. */
static void FI_DT(fi_ens_lane_groups)(const fi_ens_t *e, fi_ens_ws_t *w, const uint8_t *active,
                                      const fi_lanes_sched_t *s)
{
    fi_ens_job_t jb = {e, w, active, s, {NULL, NULL}};
    int nt = 1;
    const int ng = fi_ens_lanes(e, w, active, sizeof(T), jb.isa, &nt);
    if (ng > 0) {
        fi_pool_run(nt, ng, FI_DT(fi_ens_lane_task), &jb);
        fi_ens_fold(&w->costs, w->t_task, ng, w->lane_half, s->nsteps);
    }
}

/* Member j's step: forward, loss, backward, update, on one thread with the solo code; which
   thread runs it cannot change its arithmetic. */
static void FI_DT(fi_ens_step_task)(void *arg, long task, int worker)
{
    (void)worker;
    const fi_ens_job_t *jb = (const fi_ens_job_t *)arg;
    const fi_ens_t *e = jb->e;
    const fi_lanes_sched_t *s = jb->s;
    const int j = (int)task;
    if ((jb->active && !jb->active[j]) || jb->w->laned[j]) return;
    const fi_dim_t n = s->off[1];
    const double t0 = fi_thread_seconds();
    s->loss[j] = FI_DT(fi_mlp_step)(&e->m[j], &jb->w->ws[j], (const T *)s->x + (fi_dim_t)j * s->x_stride,
                                    (const char *)s->y + (fi_dim_t)j * s->y_stride, n, e->opt[j],
                                    (T *const *)e->s1[j], (T *const *)e->s2[j], NULL);
    jb->w->t_task[e->k + 1 + j] = fi_thread_seconds() - t0;
}

void FI_DT(fi_ens_step)(const fi_ens_t *e, fi_ens_ws_t *w, const T *x, fi_dim_t x_stride,
                              const void *y, fi_dim_t y_stride, fi_dim_t n, const uint8_t *active,
                              double *loss)
{
    const fi_dim_t off[2] = {0, n};
    const fi_lanes_sched_t s = {x, x_stride, y, y_stride, NULL, 0, off, NULL, 1, 0, loss,
                                NULL, NULL, NULL, 0.0};
    FI_DT(fi_ens_lane_groups)(e, w, active, &s);
    fi_ens_job_t jb = {e, w, active, &s, {NULL, NULL}};
    fi_pool_run(fi_ens_threads(e->k), e->k, FI_DT(fi_ens_step_task), &jb);
    fi_ens_fold(&w->costs, w->t_task + e->k + 1, e->k, NULL, 1);
}

/* Member j's steps, all in a row: its parameters stay in this core's cache. */
static void FI_DT(fi_ens_run_task)(void *arg, long task, int worker)
{
    (void)worker;
    const fi_ens_job_t *jb = (const fi_ens_job_t *)arg;
    const fi_ens_t *e = jb->e;
    const fi_ens_ws_t *w = jb->w;
    const fi_lanes_sched_t *s = jb->s;
    const int j = (int)task;
    if (w->laned[j]) return;
    s->done[j] = 0;
    if (jb->active && !jb->active[j]) return;
    const fi_mlp_t *m0 = &e->m[0];
    const size_t yrow = fi_ens_y_row_bytes(m0, sizeof(T));
    const fi_dim_t in = m0->sizes[0], out = m0->sizes[m0->nlayers], nsteps = s->nsteps;
    const int labels = m0->loss == FI_LOSS_SOFTMAX_XENT;
    const fi_dim_t *off = s->off, *start = s->start;
    const double t0 = s->seconds ? fi_ens_now() : 0.0, c0 = fi_thread_seconds();
    const T *xj = (const T *)s->x + (fi_dim_t)j * s->x_stride;
    const char *yj = (const char *)s->y + (fi_dim_t)j * s->y_stride;
    const int64_t *ij = s->idx ? s->idx + (fi_dim_t)j * s->idx_stride : NULL;
    T *xb = (T *)w->xb[j];
    char *yb = (char *)w->yb[j];
    fi_dim_t t = 0;
    while (t < nsteps) {
        const fi_dim_t r0 = off[t], rows = off[t + 1] - off[t];
        const T *xs;
        const void *ys;
        if (ij) {
            /* Rows are a few values: element loops beat a memcpy call per row. */
            for (fi_dim_t r = 0; r < rows; r++) {
                const T *src = xj + ij[r0 + r] * in;
                for (fi_dim_t c = 0; c < in; c++) xb[r * in + c] = src[c];
            }
            if (labels) {
                for (fi_dim_t r = 0; r < rows; r++) ((int64_t *)yb)[r] = ((const int64_t *)yj)[ij[r0 + r]];
            } else {
                for (fi_dim_t r = 0; r < rows; r++) {
                    const T *src = (const T *)yj + ij[r0 + r] * out;
                    for (fi_dim_t c = 0; c < out; c++) ((T *)yb)[r * out + c] = src[c];
                }
            }
            xs = xb;
            ys = yb;
        } else {
            const fi_dim_t first = start ? start[t] : r0;
            xs = xj + first * in;
            ys = yj + (size_t)first * yrow;
        }
        const double l = FI_DT(fi_mlp_step)(&e->m[j], &w->ws[j], xs, ys, rows, e->opt[j],
                                            (T *const *)e->s1[j], (T *const *)e->s2[j], NULL);
        s->loss[(fi_dim_t)j * nsteps + t] = l;
        t++;
        if (!isfinite(l) || !e->opt[j]->finite) break; /* a NaN/inf loss or parameter: diverged */
        if (s->ceiling) { /* fit's finite blow-up rule: set by the member's first step, then kept */
            if (s->ceiling[j] < 0) s->ceiling[j] = s->factor * (l > 1e-12 ? l : 1e-12);
            else if (l > s->ceiling[j]) break;
        }
    }
    s->done[j] = t;
    if (s->seconds) s->seconds[j] += fi_ens_now() - t0;
    if (t > 0) w->t_task[e->k + 1 + j] = (fi_thread_seconds() - c0) / (double)t;
}

void FI_DT(fi_ens_run)(const fi_ens_t *e, fi_ens_ws_t *w, const T *x, fi_dim_t x_stride,
                       const void *y, fi_dim_t y_stride, const int64_t *idx,
                       fi_dim_t idx_stride, const fi_dim_t *off, const fi_dim_t *start,
                       fi_dim_t nsteps, const uint8_t *active, double *loss, fi_dim_t *done,
                       double *seconds, double *ceiling, double factor)
{
    const fi_lanes_sched_t s = {x, x_stride, y, y_stride, idx, idx_stride, off, start, nsteps, 1,
                                loss, seconds, ceiling, done, factor};
    FI_DT(fi_ens_lane_groups)(e, w, active, &s);
    fi_ens_job_t jb = {e, w, active, &s, {NULL, NULL}};
    fi_pool_run(fi_ens_threads(e->k), e->k, FI_DT(fi_ens_run_task), &jb);
    fi_ens_fold(&w->costs, w->t_task + e->k + 1, e->k, NULL, nsteps);
}

#include "fi_dtype_end.h"
