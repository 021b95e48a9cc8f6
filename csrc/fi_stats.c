/* Tensor statistics (see fi_stats.h), one macro template for both dtypes: a pass for the
   moments and extremes, a second for the histogram over the range the first found; distinct
   rows of a weight matrix by hashing. */
#include <math.h>
#include <stdlib.h>
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
        if (!(mx > mn)) { /* one value: the middle bin of [v - 0.5, v + 0.5], as NumPy's */          \
            hist[bins / 2] = good;                                                                   \
            return;                                                                                  \
        }                                                                                            \
        /* A range past DBL_MAX (-1e308 .. 1e308) is binned in halves, which cannot overflow;  \
           q is clamped before the conversion ((int) of NaN or of a huge q is undefined). */        \
        const int halve = !isfinite(mx - mn);                                                        \
        const double width = halve ? (mx * 0.5 - mn * 0.5) / bins : (mx - mn) / bins;                \
        for (fi_dim_t i = 0; i < n; i++) {                                                           \
            const double v = (double)x[i];                                                           \
            if (!isfinite(v)) continue;                                                              \
            const double q = halve ? (v * 0.5 - mn * 0.5) / width : (v - mn) / width;                \
            hist[q >= bins ? bins - 1 : !(q > 0) ? 0 : (int)q]++;                                    \
        }                                                                                            \
    }                                                                                                \
    fi_dim_t fi_dead_units_##SUF(const T *a, fi_dim_t n, fi_dim_t k)                                 \
    {                                                                                                \
        fi_dim_t dead = 0;                                                                           \
        for (fi_dim_t j = 0; j < k; j++) {                                                           \
            fi_dim_t i = 0;                                                                          \
            while (i < n && a[i * k + j] <= 0) i++; /* a NaN unit is not dead */                     \
            dead += i == n;                                                                          \
        }                                                                                            \
        return dead;                                                                                 \
    }

FI_DEFINE_STATS(s, float)
FI_DEFINE_STATS(d, double)

/* Distinct rows: hash each row's codes (values rounded to multiples of the quantum), sort the
   rows by hash, then count the different rows within each run of equal hashes by comparing
   their codes (a run is one row, or rows that really are equal, or a hash collision: still
   counted exactly). */
typedef struct {
    uint64_t hash;
    fi_dim_t row;
} fi_row_hash_t;

static int fi_row_hash_cmp(const void *pa, const void *pb)
{
    const fi_row_hash_t *a = (const fi_row_hash_t *)pa, *b = (const fi_row_hash_t *)pb;
    if (a->hash != b->hash) return a->hash < b->hash ? -1 : 1;
    return (a->row > b->row) - (a->row < b->row);
}

/* v * inv (inv = 1 / quantum) rounded half to even as an int64 code; NaN and each infinity
   have codes of their own, finite codes saturate at +-2^62. lrint is one instruction under
   -fno-math-errno (nearbyint, a libm call that saves and restores the floating-point
   environment, made this 3x slower). */
static int64_t fi_code(double v, double inv)
{
    const double q = v * inv;
    if (fabs(q) < 0x1p62) return (int64_t)lrint(q);
    if (isnan(q)) return INT64_MIN;
    if (isinf(v)) return v > 0 ? INT64_MAX : INT64_MIN + 1;
    return q > 0 ? ((int64_t)1 << 62) : -((int64_t)1 << 62);
}

/* Hash of a row's codes: a sum of codes times odd per-column constants, with no serial
   dependency between columns (so it pipelines); collisions only cost comparisons. */
#define FI_HASH_STEP 0x9e3779b97f4a7c15ULL

#define FI_DEFINE_DISTINCT(SUF, T)                                                                   \
    static double fi_max_abs_##SUF(const T *x, fi_dim_t n)                                           \
    {                                                                                                \
        double big = 1e-30;                                                                          \
        for (fi_dim_t i = 0; i < n; i++)                                                             \
            if (isfinite((double)x[i]) && fabs((double)x[i]) > big) big = fabs((double)x[i]);        \
        return big;                                                                                  \
    }                                                                                                \
    /* Code j of row i of [w | b] (width k + 1 with a bias). */                                      \
    static int64_t fi_row_code_##SUF(const T *w, const T *b, fi_dim_t k, fi_dim_t i, fi_dim_t j,    \
                                     double inv)                                                     \
    {                                                                                                \
        return fi_code(j < k ? (double)w[i * k + j] : (double)b[i], inv);                            \
    }                                                                                                \
    fi_dim_t fi_distinct_rows_##SUF(const T *w, const T *b, fi_dim_t r, fi_dim_t k, double tol)     \
    {                                                                                                \
        if (r <= 1) return r > 0 ? r : 0;                                                            \
        const fi_dim_t width = k + (b != NULL);                                                      \
        if (width == 0) return 1; /* empty rows are all equal */                                     \
        fi_row_hash_t *rows = (fi_row_hash_t *)malloc((size_t)r * sizeof *rows);                     \
        if (!rows) return -1;                                                                        \
        const double big_w = fi_max_abs_##SUF(w, r * k), big_b = b ? fi_max_abs_##SUF(b, r) : 0;    \
        double inv = 1.0 / (tol * (big_w > big_b ? big_w : big_b));                                 \
        if (!(inv <= 0x1p1000)) inv = 0x1p1000; /* a quantum that underflowed to 0 */                \
        for (fi_dim_t i = 0; i < r; i++) {                                                           \
            const T *FI_RESTRICT row = w + i * k;                                                    \
            uint64_t h = 0, mult = FI_HASH_STEP;                                                     \
            for (fi_dim_t j = 0; j < k; j++, mult += 2 * FI_HASH_STEP)                               \
                h += (uint64_t)fi_code((double)row[j], inv) * mult;                                  \
            if (b) h += (uint64_t)fi_code((double)b[i], inv) * mult;                                 \
            rows[i].hash = h ^ (h >> 29);                                                            \
            rows[i].row = i;                                                                         \
        }                                                                                            \
        qsort(rows, (size_t)r, sizeof *rows, fi_row_hash_cmp);                                       \
        fi_dim_t distinct = 0;                                                                       \
        for (fi_dim_t s = 0; s < r;) {                                                               \
            fi_dim_t e = s + 1;                                                                      \
            while (e < r && rows[e].hash == rows[s].hash) e++;                                       \
            /* Move each row of the run that equals no earlier representative to the front. */     \
            fi_dim_t reps = 0;                                                                       \
            for (fi_dim_t i = s; i < e; i++) {                                                       \
                fi_dim_t t = 0;                                                                      \
                for (; t < reps; t++) {                                                              \
                    fi_dim_t j = 0;                                                                  \
                    while (j < width && fi_row_code_##SUF(w, b, k, rows[i].row, j, inv) ==       \
                                            fi_row_code_##SUF(w, b, k, rows[s + t].row, j, inv)) \
                        j++;                                                                         \
                    if (j == width) break;                                                           \
                }                                                                                    \
                if (t == reps) rows[s + reps++] = rows[i];                                           \
            }                                                                                        \
            distinct += reps;                                                                        \
            s = e;                                                                                   \
        }                                                                                            \
        free(rows);                                                                                  \
        return distinct;                                                                             \
    }

FI_DEFINE_DISTINCT(s, float)
FI_DEFINE_DISTINCT(d, double)
