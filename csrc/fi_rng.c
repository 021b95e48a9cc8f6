/* Philox4x32-10 and the distributions drawn from it (see fi_rng.h). Generation runs in chunks:
   raw words into a stack buffer, then branch-free transforms the compiler vectorizes. The
   transforms use only IEEE +, *, /, sqrt (no contraction into FMA), so every build and ISA
   clone gives the same bits. Large fills split whole chunks over the task pool's threads. */
#include <math.h>

#include "fi_cpu.h"
#include "fi_pool.h"
#include "fi_rng.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* Blocks per chunk (4 words each). */
#define CHUNK 256

/* Threads for a fill of n values, from its cost per value, measured (thread CPU time) on its
   first call of at least `chunk` values (*ps: picoseconds per value, 0 until then): thread it
   when the time the extra threads save exceeds the measured cost of waking them. Returns 0 to
   ask the caller to run on one thread and report its time through fill_measured. */
static int fill_threads(const int *ps, fi_dim_t n, fi_dim_t chunk)
{
    const int nt = fi_get_num_threads();
    if (nt <= 1 || n < chunk) return 1;
    const int p = FI_LOAD_INT(ps);
    if (p <= 0) return 0;
    return 1e-3 * (double)p * (double)n >= fi_parallel_min_ns(nt) ? nt : 1;
}

static void fill_measured(int *ps, fi_dim_t n, double seconds)
{
    const double p = seconds * 1e12 / (double)n;
    FI_STORE_INT(ps, p < 1 ? 1 : p > 2e9 ? 2000000000 : (int)p);
}


static inline void philox(uint32_t out[4], uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                          uint32_t k0, uint32_t k1)
{
    for (int r = 0; r < 10; r++) {
        const uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
        const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

void fi_rng_block(uint32_t out[4], uint64_t seed, uint64_t stream, uint64_t block)
{
    philox(out, (uint32_t)block, (uint32_t)(block >> 32), (uint32_t)stream, (uint32_t)(stream >> 32),
           (uint32_t)seed, (uint32_t)(seed >> 32));
}

/* words[0 .. 4*nb) = blocks b0 .. b0+nb of (seed, stream). The rounds run on LANES blocks side
   by side (structure of arrays) so the 32x32->64 multiplies vectorize. */
#define LANES 8
FI_CLONES_AVX2 static void raw_words(uint32_t *FI_RESTRICT words, fi_dim_t nb, uint64_t seed,
                                uint64_t stream, uint64_t b0)
{
    fi_dim_t j = 0;
    for (; j + LANES <= nb; j += LANES) {
        uint32_t c0[LANES], c1[LANES], c2[LANES], c3[LANES];
        uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
        for (int l = 0; l < LANES; l++) {
            const uint64_t blk = b0 + (uint64_t)(j + l);
            c0[l] = (uint32_t)blk;
            c1[l] = (uint32_t)(blk >> 32);
            c2[l] = (uint32_t)stream;
            c3[l] = (uint32_t)(stream >> 32);
        }
        for (int r = 0; r < 10; r++) {
            for (int l = 0; l < LANES; l++) {
                const uint64_t p0 = (uint64_t)PHILOX_M0 * c0[l], p1 = (uint64_t)PHILOX_M1 * c2[l];
                const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[l] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3[l] ^ k1;
                c1[l] = (uint32_t)p1;
                c3[l] = (uint32_t)p0;
                c0[l] = n0;
                c2[l] = n2;
            }
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        for (int l = 0; l < LANES; l++) {
            words[4 * (j + l)] = c0[l];
            words[4 * (j + l) + 1] = c1[l];
            words[4 * (j + l) + 2] = c2[l];
            words[4 * (j + l) + 3] = c3[l];
        }
    }
    for (; j < nb; j++) fi_rng_block(words + 4 * j, seed, stream, b0 + (uint64_t)j);
}

/* Uniforms in (0, 1]: 24-bit from one word (float path), 53-bit from two words (double). */
static inline float u24(uint32_t w) { return (float)(int32_t)((w >> 8) + 1u) * 0x1p-24f; }
static inline double u53(uint32_t hi, uint32_t lo)
{
    return (double)((((uint64_t)hi << 32 | lo) >> 11) + 1u) * 0x1p-53;
}

/* Exact select without a branch: a where mask is all ones, b where it is zero. */
static inline float sel_f(uint32_t mask, float a, float b)
{
    union { float f; uint32_t u; } x = {a}, y = {b}, r;
    r.u = (x.u & mask) | (y.u & ~mask);
    return r.f;
}

/* log(x) for x in (0, 1], float accuracy, branch-free: x = m 2^e, m in [sqrt(.5), sqrt(2)),
   log m = 2 atanh(t), t = (m-1)/(m+1), |t| <= 0.172. */
static inline float log_f(float x)
{
    union { float f; uint32_t u; } v = {x};
    int32_t e = (int32_t)(v.u >> 23) - 127;
    v.u = (v.u & 0x007FFFFFu) | 0x3F800000u; /* m in [1, 2) */
    const int big = v.f > 1.41421356f;
    const float m = sel_f(0u - (uint32_t)big, v.f * 0.5f, v.f);
    e += big;
    const float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
    const float s = t * (2.0f + t2 * (0.666666667f + t2 * (0.4f + t2 * (0.285714286f + t2 * 0.222222222f))));
    return (float)e * 0.693147181f + s;
}

/* n pairs of standard normals from 2n words by Box-Muller, branch-free so it vectorizes:
   r = sqrt(-2 log u1) with u1 in (0, 1]; the angle 2*pi*u2 is reduced to the nearest quarter
   turn k and |x| <= pi/4, where short Taylor series give sin and cos to float accuracy. */
static inline void box_muller_f(float *FI_RESTRICT z, const uint32_t *FI_RESTRICT w, fi_dim_t n)
{
    for (fi_dim_t p = 0; p < n; p++) {
        const float r = sqrtf(-2.0f * log_f(u24(w[2 * p])));
        const float u = (float)(int32_t)(w[2 * p + 1] >> 8) * 0x1p-24f;
        const int k = (int)(u * 4.0f + 0.5f); /* u >= 0: truncation is floor */
        const float x = (u - (float)k * 0.25f) * 6.28318531f, x2 = x * x;
        const float sx = x * (1.0f + x2 * (-1.0f / 6 + x2 * (1.0f / 120 + x2 * (-1.0f / 5040 + x2 * (1.0f / 362880)))));
        const float cx = 1.0f + x2 * (-0.5f + x2 * (1.0f / 24 + x2 * (-1.0f / 720 + x2 * (1.0f / 40320))));
        const uint32_t odd = 0u - (uint32_t)(k & 1);
        const float sin_sign = (float)(1 - (k & 2)), cos_sign = (float)(1 - ((k + 1) & 2));
        z[2 * p] = r * (cos_sign * sel_f(odd, sx, cx));
        z[2 * p + 1] = r * (sin_sign * sel_f(odd, cx, sx));
    }
}

/* One fill for the task pool: chunk ch of out (n values) is filled by chunk(job, ch) from the
   blocks (ch * CHUNK ..) of (seed, stream); p holds the distribution's parameters. */
typedef struct fill_job {
    void *out;
    fi_dim_t n, per_chunk, ch0;
    uint64_t seed, stream;
    const double *p;
    void (*chunk)(const struct fill_job *, fi_dim_t);
} fill_job_t;

static void fill_task(void *arg, long task, int worker)
{
    (void)worker;
    const fill_job_t *j = (const fill_job_t *)arg;
    j->chunk(j, j->ch0 + task);
}

/* The chunks of a fill, threaded by fill_threads; the first chunk of a fill's first call large
   enough to thread runs alone, timed, to give *ps (the fill's cost per value). */
static void fill(fill_job_t *j, int *ps)
{
    const fi_dim_t nchunks = (j->n + j->per_chunk - 1) / j->per_chunk;
    j->ch0 = 0;
    int nt = fill_threads(ps, j->n, j->per_chunk);
    if (nt == 0) {
        const double t0 = fi_thread_seconds();
        j->chunk(j, 0);
        fill_measured(ps, j->per_chunk, fi_thread_seconds() - t0);
        j->ch0 = 1;
        nt = fill_threads(ps, j->n - j->per_chunk, j->per_chunk);
    }
    fi_pool_run(nt, (long)(nchunks - j->ch0), fill_task, j);
}

/* A chunk function: the words of chunk ch (float draws take one word each, double draws two;
   PER_BLOCK values per 4-word block), then the body (the rest) writes o[0 .. cnt) from them and p. ATTR:
   FI_CLONES_AVX2 where the body vectorizes, else nothing. */
#define FILL_CHUNK(NAME, ATTR, T, PER_BLOCK, ...)                                             \
    ATTR static void NAME(const fill_job_t *j, fi_dim_t ch)                                  \
    {                                                                                        \
        uint32_t words[4 * CHUNK];                                                           \
        const fi_dim_t i0 = ch * j->per_chunk, cnt = FI_MIN(j->per_chunk, j->n - i0);        \
        raw_words(words, (cnt + (PER_BLOCK) - 1) / (PER_BLOCK), j->seed, j->stream,          \
                  (uint64_t)(ch * CHUNK));                                                   \
        T *o = (T *)j->out + i0;                                                             \
        const double *p = j->p;                                                              \
        __VA_ARGS__                                                                          \
    }
/* The public fill: n values into out from chunk function NAME with parameters p (an array). */
#define FILL(NAME, PER_BLOCK, p)                                                              \
    {                                                                                        \
        static int ps_value; /* this fill's cost per value */                                \
        fill_job_t job = {out, n, (fi_dim_t)CHUNK * (PER_BLOCK), 0, seed, stream, p, NAME}; \
        fill(&job, &ps_value);                                                               \
    }

/* p: low, high - low */
FILL_CHUNK(uniform_s_chunk, FI_CLONES_AVX2, float, 4, {
    const float lo = (float)p[0], w = (float)p[1];
    for (fi_dim_t i = 0; i < cnt; i++) o[i] = lo + w * (float)(int32_t)(words[i] >> 8) * 0x1p-24f;
})

void fi_rng_uniform_s(float *out, fi_dim_t n, uint64_t seed, uint64_t stream, double low, double high)
{
    const double p[2] = {low, high - low};
    FILL(uniform_s_chunk, 4, p)
}

FILL_CHUNK(uniform_d_chunk, FI_CLONES_AVX2, double, 2, {
    const double low = p[0], w = p[1];
    for (fi_dim_t i = 0; i < cnt; i++)
        o[i] = low + w * (double)((((uint64_t)words[2 * i] << 32) | words[2 * i + 1]) >> 11) * 0x1p-53;
})

void fi_rng_uniform_d(double *out, fi_dim_t n, uint64_t seed, uint64_t stream, double low, double high)
{
    const double p[2] = {low, high - low};
    FILL(uniform_d_chunk, 2, p)
}

/* p: mean, std */
FILL_CHUNK(normal_s_chunk, FI_CLONES_AVX2, float, 4, {
    const float mu = (float)p[0], sd = (float)p[1];
    float z[4 * CHUNK];
    box_muller_f(z, words, (cnt + 1) / 2);
    for (fi_dim_t i = 0; i < cnt; i++) o[i] = mu + sd * z[i];
})

void fi_rng_normal_s(float *out, fi_dim_t n, uint64_t seed, uint64_t stream, double mean, double std)
{
    const double p[2] = {mean, std};
    FILL(normal_s_chunk, 4, p)
}

FILL_CHUNK(normal_d_chunk, , double, 2, {
    const double mean = p[0], std = p[1];
    for (fi_dim_t q = 0; q < (cnt + 1) / 2; q++) {
        const uint32_t *w = words + 4 * q;
        const double r = sqrt(-2.0 * log(u53(w[0], w[1])));
        const double t = 6.283185307179586 * ((double)((((uint64_t)w[2] << 32) | w[3]) >> 11) * 0x1p-53);
        o[2 * q] = mean + std * (r * cos(t));
        if (2 * q + 1 < cnt) o[2 * q + 1] = mean + std * (r * sin(t));
    }
})

void fi_rng_normal_d(double *out, fi_dim_t n, uint64_t seed, uint64_t stream, double mean, double std)
{
    const double p[2] = {mean, std};
    FILL(normal_d_chunk, 2, p)
}

/* Standard normal quantile: Acklam's rational approximation refined by one Halley step on
   erfc, accurate to double precision on (0, 1). */
static double ndtri(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                               1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                               6.680131188771972e+01, -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                               -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    double x;
    if (p < 0.02425) {
        const double q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        const double q = sqrt(-2 * log1p(-p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        const double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    const double e = 0.5 * erfc(-x / 1.4142135623730951) - p;
    const double u = e * 2.5066282746310002 * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

static double phi_cdf(double z) { return 0.5 * erfc(-z / 1.4142135623730951); }

/* log Phi(z), accurate where Phi(z) underflows: below -5 from Laplace's continued fraction of
   the Mills ratio R(x) = Phi(-x) / phi(x) = 1 / (x + 1/(x + 2/(x + 3/(x + ...)))), x = -z
   (80 terms: below 1e-16 relative from x = 5 on). */
static double log_phi_cdf(double z)
{
    if (z > -5.0) return log(phi_cdf(z));
    const double x = -z;
    double t = x;
    for (int k = 80; k >= 1; k--) t = x + k / t;
    return -0.5 * z * z - 0.91893853320467274178 - log(t); /* log phi(z) + log R(x) */
}

/* The z <= -5 with log Phi(z) = lp: Newton's method on the concave log Phi from the
   asymptotic start -sqrt(-2 lp - log(-2 lp) - log 2pi); a fixed cap on the iterations, so a
   value depends on its uniform alone. */
static double log_ndtri_tail(double lp)
{
    const double w = -2.0 * lp;
    double z = -sqrt(w - log(w) - 1.8378770664093454836);
    for (int it = 0; it < 40; it++) {
        const double x = -z;
        double t = x;
        for (int k = 80; k >= 1; k--) t = x + k / t;
        const double f = log_phi_cdf(z) - lp; /* d/dz log Phi = phi / Phi = t for z <= -5 */
        const double dz = z > -5.0 ? f / exp(-0.5 * z * z - 0.91893853320467274178 - log_phi_cdf(z)) : f / t;
        z -= dz;
        if (fabs(dz) <= 1e-15 * fabs(z)) break;
    }
    return z;
}

/* Sample the standard normal restricted to [lo, hi] by inverting the CDF; intervals on the
   right are mirrored to the left, where the CDF keeps its precision. An interval wholly
   below -5 sigma (after mirroring) is sampled in log space: p = Phi(lo) + u (Phi(hi) - Phi(lo))
   as log p = log Phi(hi) + log(u + (1 - u) Phi(lo) / Phi(hi)), inverted by log_ndtri_tail,
   since Phi underflows there (40 sigma out, Phi is 1e-350: the plain inverse gave NaN).
   truncnormal_params sets p (per fill); TRUNC_BODY draws value i with UNIFORM, the (0, 1)
   draw i from `words`, as type T. */
enum { T_MEAN, T_STD, T_A, T_B, T_LO, T_HI, T_MIRROR, T_TAIL, T_PL, T_SPAN, T_LPH, T_RATIO, T_COUNT };

static void truncnormal_params(double *p, double mean, double std, double a, double b)
{
    const double al = (a - mean) / std, bl = (b - mean) / std;
    const int mirror = al > 0;
    const double lo = mirror ? -bl : al, hi = mirror ? -al : bl;
    const int tail = hi < -5.0;
    const double pl = tail ? 0.0 : phi_cdf(lo);
    p[T_MEAN] = mean, p[T_STD] = std, p[T_A] = a, p[T_B] = b, p[T_LO] = lo, p[T_HI] = hi;
    p[T_MIRROR] = mirror, p[T_TAIL] = tail, p[T_PL] = pl, p[T_SPAN] = tail ? 0.0 : phi_cdf(hi) - pl;
    p[T_LPH] = tail ? log_phi_cdf(hi) : 0.0;
    p[T_RATIO] = tail ? exp(log_phi_cdf(lo) - p[T_LPH]) : 0.0;
}

#define TRUNC_BODY(T, UNIFORM)                                                                \
    {                                                                                        \
        const double mean = p[T_MEAN], std = p[T_STD], a = p[T_A], b = p[T_B];               \
        const double lo = p[T_LO], hi = p[T_HI], pl = p[T_PL], span = p[T_SPAN];             \
        const double lph = p[T_LPH], ratio = p[T_RATIO];                                     \
        const int mirror = p[T_MIRROR] != 0.0, tail = p[T_TAIL] != 0.0;                      \
        for (fi_dim_t i = 0; i < cnt; i++) {                                                 \
            const double u = (UNIFORM);                                                      \
            double z = tail ? log_ndtri_tail(lph + log(u + (1.0 - u) * ratio))               \
                            : ndtri(pl + span * u);                                          \
            z = z < lo ? lo : z > hi ? hi : z;                                               \
            double v = mean + std * (mirror ? -z : z);                                       \
            if (tail) v = v < a ? a : v > b ? b : v;                                         \
            o[i] = (T)v;                                                                     \
        }                                                                                    \
    }

FILL_CHUNK(truncnormal_s_chunk, , float, 4, TRUNC_BODY(float, ((double)(words[i] >> 8) + 0.5) * 0x1p-24))
FILL_CHUNK(truncnormal_d_chunk, , double, 2,
           TRUNC_BODY(double, ((double)((((uint64_t)words[2 * i] << 32) | words[2 * i + 1]) >> 11) + 0.5) * 0x1p-53))

void fi_rng_truncnormal_s(float *out, fi_dim_t n, uint64_t seed, uint64_t stream, double mean,
                          double std, double a, double b)
{
    double p[T_COUNT];
    truncnormal_params(p, mean, std, a, b);
    FILL(truncnormal_s_chunk, 4, p)
}

void fi_rng_truncnormal_d(double *out, fi_dim_t n, uint64_t seed, uint64_t stream, double mean,
                          double std, double a, double b)
{
    double p[T_COUNT];
    truncnormal_params(p, mean, std, a, b);
    FILL(truncnormal_d_chunk, 2, p)
}
