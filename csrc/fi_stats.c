/* Tensor statistics (see fi_stats.h), one macro template for both dtypes: a pass for the
   moments and extremes, a second for the histogram over the range the first found. */
#include <math.h>
#include <string.h>

#include "fi_stats.h"

#define FI_DEFINE_STATS(SUF, T)                                                                      \
    void fi_stats_##SUF(fi_stats_t *out, int64_t *hist, const T *x, fi_dim_t n, double sat_lo,       \
                        double sat_hi, int bins)                                                     \
    {                                                                                                \
        double sum = 0, sumsq = 0, mn = INFINITY, mx = -INFINITY;                                    \
        int64_t zeros = 0, sat = 0, bad = 0;                                                         \
        for (fi_dim_t i = 0; i < n; i++) {                                                           \
            const double v = (double)x[i];                                                           \
            if (!isfinite(v)) {                                                                      \
                bad++;                                                                               \
                continue;                                                                            \
            }                                                                                        \
            sum += v;                                                                                \
            mn = v < mn ? v : mn;                                                                    \
            mx = v > mx ? v : mx;                                                                    \
            zeros += v == 0;                                                                         \
            sat += v < sat_lo || v > sat_hi;                                                         \
        }                                                                                            \
        const int64_t good = (int64_t)n - bad;                                                       \
        const double mean = good ? sum / (double)good : NAN;                                         \
        for (fi_dim_t i = 0; i < n; i++) { /* second pass: no cancellation in the variance */       \
            const double v = (double)x[i];                                                           \
            if (isfinite(v)) sumsq += (v - mean) * (v - mean);                                       \
        }                                                                                            \
        out->mean = mean;                                                                            \
        out->std = good ? sqrt(sumsq / (double)good) : NAN;                                          \
        out->min = good ? mn : NAN;                                                                  \
        out->max = good ? mx : NAN;                                                                  \
        out->zero_frac = good ? (double)zeros / (double)good : NAN;                                  \
        out->sat_frac = good ? (double)sat / (double)good : NAN;                                     \
        out->nonfinite = bad;                                                                        \
        if (bins <= 0 || !hist) return;                                                              \
        memset(hist, 0, (size_t)bins * sizeof *hist);                                                \
        if (!good) return;                                                                           \
        const double width = mx > mn ? (mx - mn) / bins : 1.0;                                       \
        for (fi_dim_t i = 0; i < n; i++) {                                                           \
            const double v = (double)x[i];                                                           \
            if (!isfinite(v)) continue;                                                              \
            int b = (int)((v - mn) / width);                                                         \
            hist[b >= bins ? bins - 1 : b < 0 ? 0 : b]++;                                            \
        }                                                                                            \
    }                                                                                                \
    fi_dim_t fi_dead_units_##SUF(const T *a, fi_dim_t n, fi_dim_t k)                                 \
    {                                                                                                \
        fi_dim_t dead = 0;                                                                           \
        for (fi_dim_t j = 0; j < k; j++) {                                                           \
            fi_dim_t i = 0;                                                                          \
            while (i < n && !(a[i * k + j] > 0)) i++;                                                \
            dead += i == n;                                                                          \
        }                                                                                            \
        return dead;                                                                                 \
    }

FI_DEFINE_STATS(s, float)
FI_DEFINE_STATS(d, double)
