/* Statistics of a tensor for the diagnostics: moments, extremes, zero and saturated fractions,
   a histogram, dead units. Deterministic (fixed summation order), accumulated in double. */
#ifndef FI_STATS_H
#define FI_STATS_H

#include <stdint.h>

#include "fi_common.h"

typedef struct fi_stats {
    double mean, std, min, max; /* over the finite values */
    double zero_frac;           /* fraction of values == 0 */
    double sat_frac;            /* fraction outside [sat_lo, sat_hi] */
    int64_t nonfinite;          /* NaN and inf values, left out of the rest */
} fi_stats_t;

/* Statistics of n values; if bins > 0, hist[0..bins) counts the finite values in equal bins
   over [min, max] (the last bin closed); if all are equal, [v - 0.5, v + 0.5]. */
void fi_stats_s(fi_stats_t *out, int64_t *hist, const float *x, fi_dim_t n, double sat_lo, double sat_hi,
                int bins);
void fi_stats_d(fi_stats_t *out, int64_t *hist, const double *x, fi_dim_t n, double sat_lo, double sat_hi,
                int bins);

/* Columns of a:(n, k) that are <= 0 in every row (ReLU units dead on the whole batch). */
fi_dim_t fi_dead_units_s(const float *a, fi_dim_t n, fi_dim_t k);
fi_dim_t fi_dead_units_d(const double *a, fi_dim_t n, fi_dim_t k);

/* Distinct rows of [w | b] (w:(r, k) row-major, b:(r,) or NULL) once every value is rounded to
   a multiple of tol * (largest finite |value|, at least 1e-30), tol > 0; NaN and each infinity
   are values of their own. The number of neurons of a layer that compute different functions.
   -1 if out of memory. */
fi_dim_t fi_distinct_rows_s(const float *w, const float *b, fi_dim_t r, fi_dim_t k, double tol);
fi_dim_t fi_distinct_rows_d(const double *w, const double *b, fi_dim_t r, fi_dim_t k, double tol);

#endif
