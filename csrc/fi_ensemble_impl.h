/* Template body of fi_ensemble.c, instantiated per dtype (FI_DTYPE, fi_template.h). No include
   guard on purpose. */
#include "fi_dtype_begin.h"

/* The lane groups of one call (fi_ens_lanes), each on one thread with all its steps; threads
   split the groups, never a group. Leaves w->laned marking the members they trained. */
static void FI_DT(fi_ens_lane_groups)(const fi_ens_t *e, fi_ens_ws_t *w, const uint8_t *active,
                                      const fi_lanes_sched_t *s)
{
    const fi_lanes_isa_t *isa[2];
    int nt = 1;
    const int ng = fi_ens_lanes(e, w, active, sizeof(T), isa, &nt);
    if (ng == 0) return;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
#endif
    for (int g = 0; g < ng; g++) {
#ifdef _OPENMP
        const int slot = omp_in_parallel() ? omp_get_thread_num() : 0;
#else
        const int slot = 0;
#endif
        FI_DT(fi_lanes_run)(isa[w->lane_half[g]], w->lanes, slot, e, w->lane_js + w->lane_start[g],
                            w->lane_start[g + 1] - w->lane_start[g], s);
    }
    (void)nt;
}

void FI_DT(fi_ens_step)(const fi_ens_t *e, fi_ens_ws_t *w, const T *x, fi_dim_t x_stride,
                              const void *y, fi_dim_t y_stride, fi_dim_t n, const uint8_t *active,
                              double *loss)
{
    const int k = e->k, nt = fi_ens_threads(k);
    const fi_dim_t off[2] = {0, n};
    const fi_lanes_sched_t s = {x, x_stride, y, y_stride, NULL, 0, off, NULL, 1, 0, loss,
                                NULL, NULL, NULL, 0.0};
    FI_DT(fi_ens_lane_groups)(e, w, active, &s);
    /* One member per task: its whole step (forward, loss, backward, update) on one thread with
       the solo code; which thread runs it cannot change its arithmetic. */
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
#endif
    for (int j = 0; j < k; j++) {
        if ((active && !active[j]) || w->laned[j]) continue;
        loss[j] = FI_DT(fi_mlp_step)(&e->m[j], &w->ws[j], x + (fi_dim_t)j * x_stride,
                                           (const char *)y + (fi_dim_t)j * y_stride, n, e->opt[j],
                                           (T *const *)e->s1[j], (T *const *)e->s2[j], NULL);
    }
    (void)nt;
}

void FI_DT(fi_ens_run)(const fi_ens_t *e, fi_ens_ws_t *w, const T *x, fi_dim_t x_stride,
                       const void *y, fi_dim_t y_stride, const int64_t *idx,
                       fi_dim_t idx_stride, const fi_dim_t *off, const fi_dim_t *start,
                       fi_dim_t nsteps, const uint8_t *active, double *loss, fi_dim_t *done,
                       double *seconds, double *ceiling, double factor)
{
    const int k = e->k, nt = fi_ens_threads(k);
    const fi_mlp_t *m0 = &e->m[0];
    const size_t yrow = fi_ens_y_row_bytes(m0, sizeof(T));
    const fi_dim_t in = m0->sizes[0], out = m0->sizes[m0->nlayers];
    const int labels = m0->loss == FI_LOSS_SOFTMAX_XENT;
    const fi_lanes_sched_t s = {x, x_stride, y, y_stride, idx, idx_stride, off, start, nsteps, 1,
                                loss, seconds, ceiling, done, factor};
    FI_DT(fi_ens_lane_groups)(e, w, active, &s);
    /* A member per task, all its steps in a row: its parameters stay in this core's cache. */
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
#endif
    for (int j = 0; j < k; j++) {
        if (w->laned[j]) continue;
        done[j] = 0;
        if (active && !active[j]) continue;
        const double t0 = seconds ? fi_ens_now() : 0.0;
        const T *xj = x + (fi_dim_t)j * x_stride;
        const char *yj = (const char *)y + (fi_dim_t)j * y_stride;
        const int64_t *ij = idx ? idx + (fi_dim_t)j * idx_stride : NULL;
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
                    for (fi_dim_t r = 0; r < rows; r++)
                        ((int64_t *)yb)[r] = ((const int64_t *)yj)[ij[r0 + r]];
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
                                                      (T *const *)e->s1[j], (T *const *)e->s2[j],
                                                      NULL);
            loss[(fi_dim_t)j * nsteps + t] = l;
            t++;
            if (!isfinite(l) || !e->opt[j]->finite) break; /* a NaN/inf loss or parameter: diverged */
            if (ceiling) { /* fit's finite blow-up rule: set by the member's first step, then kept */
                if (ceiling[j] < 0) ceiling[j] = factor * (l > 1e-12 ? l : 1e-12);
                else if (l > ceiling[j]) break;
            }
        }
        done[j] = t;
        if (seconds) seconds[j] += fi_ens_now() - t0;
    }
    (void)nt;
}

#include "fi_dtype_end.h"
