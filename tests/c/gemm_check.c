/* GEMM check for a kernel set this machine runs, in C so it runs where the Python extension is
   not built (aarch64 under qemu, see tests/test_gemm.py). Usage: gemm_check KERNEL.
   For each case: C = act(alpha op(A) op(B) + beta C + bias) against a double-double reference
   within a bound on the rounding error, then one line
   "case <id> <digest of the output bits>", so two kernels' outputs can be compared bit for
   bit. Exit 1 on a kernel selection error or any value outside its bound. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fi_cpu.h"
#include "gemm/fi_gemm.h"

static uint64_t g_state;

static double next_unit(void) /* in [-1, 1), the same sequence on every machine */
{
    g_state = g_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(g_state >> 11) * 0x1.0p-52 - 1.0;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

static int g_bad;

/* Reference value of C[i][j] before the activation, and the bound on its rounding error. The
   sum of products is kept as a double-double (exact products by fma, compensated sums): far
   more accurate than any float64 kernel, and fast where long double is emulated (aarch64). */
static void reference(int ta, int tb, long m, long n, long k, double alpha, const double *a, long lda,
                      const double *b, long ldb, double beta, const double *c0, long ldc, const double *bias,
                      int bias_kind, long i, long j, double *v, double *bound)
{
    (void)m, (void)n;
    double s = 0, comp = 0, mag = 0;
    for (long p = 0; p < k; p++) {
        const double x = ta ? a[p * lda + i] : a[i * lda + p], y = tb ? b[j * ldb + p] : b[p * ldb + j];
        const double prod = x * y, t = s + prod;
        comp += fma(x, y, -prod) + (fabs(s) >= fabs(prod) ? (s - t) + prod : (prod - t) + s);
        s = t;
        mag += fabs(prod);
    }
    double r = alpha * (s + comp);
    mag = fabs(alpha) * mag;
    if (beta != 0) {
        r += beta * c0[i * ldc + j];
        mag += fabs(beta * c0[i * ldc + j]);
    }
    if (bias_kind) {
        const double bv = bias[bias_kind == FI_BIAS_ROW ? i : j];
        r += bv;
        mag += fabs(bv);
    }
    *v = r;
    *bound = mag * (k + 4);
}

#define DEFINE_CASE(SUF, T, GEMM, EPS)                                                                    \
    static void case_##SUF(int id, int ta, int tb, long m, long n, long k, double alpha, double beta,      \
                           int bias_kind, fi_act_t act)                                                    \
    {                                                                                                      \
        const long pad = 3, lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;             \
        const long ar = ta ? k : m, br = tb ? n : k;                                                       \
        double *ad = malloc(sizeof(double) * (ar * lda + 1)), *bd = malloc(sizeof(double) * (br * ldb + 1)); \
        double *cd = malloc(sizeof(double) * (m * ldc + 1)), *biasd = malloc(sizeof(double) * (m + n + 1)); \
        T *a = malloc(sizeof(T) * (ar * lda + 1)), *b = malloc(sizeof(T) * (br * ldb + 1));                \
        T *c = malloc(sizeof(T) * (m * ldc + 1)), *bias = malloc(sizeof(T) * (m + n + 1));                 \
        g_state = (uint64_t)id * 2654435761ULL + 1;                                                        \
        for (long x = 0; x < ar * lda; x++) ad[x] = (double)(a[x] = (T)next_unit());                       \
        for (long x = 0; x < br * ldb; x++) bd[x] = (double)(b[x] = (T)next_unit());                       \
        for (long x = 0; x < m + n; x++) biasd[x] = (double)(bias[x] = (T)next_unit());                    \
        for (long x = 0; x < m * ldc; x++) {                                                               \
            c[x] = beta != 0 ? (T)next_unit() : (T)NAN; /* beta == 0 must not read C */                    \
            cd[x] = (double)c[x];                                                                          \
        }                                                                                                  \
        const fi_epilogue_t ep = {bias_kind ? (const void *)bias : NULL, (fi_bias_kind_t)bias_kind, act, 0.0}; \
        GEMM(ta, tb, m, n, k, (T)alpha, a, lda, b, ldb, (T)beta, c, ldc, &ep);                             \
        uint64_t h = 1469598103934665603ULL;                                                               \
        for (long i = 0; i < m; i++) {                                                                     \
            h = fnv(h, c + i * ldc, sizeof(T) * n);                                                        \
            for (long j = 0; j < n; j++) {                                                                 \
                double v;                                                                                  \
                double bound;                                                                              \
                reference(ta, tb, m, n, k, (T)alpha, ad, lda, bd, ldb, (T)beta, cd, ldc, biasd, bias_kind, \
                          i, j, &v, &bound);                                                               \
                if (act == FI_ACT_RELU) v = v > 0 ? v : 0;                                                 \
                if (act == FI_ACT_TANH) v = tanh(v), bound += 4;                                           \
                if (!(fabs((double)c[i * ldc + j] - v) <= bound * EPS)) {                                  \
                    if (g_bad++ < 10)                                                                      \
                        printf("BAD case %d (%ld,%ld): %.17g vs %.17g\n", id, i, j, (double)c[i * ldc + j], v); \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
        printf("case %d %016llx\n", id, (unsigned long long)h);                                            \
        free(ad), free(bd), free(cd), free(biasd), free(a), free(b), free(c), free(bias);                  \
    }

DEFINE_CASE(s, float, fi_sgemm, 0x1p-24)
DEFINE_CASE(d, double, fi_dgemm, 0x1p-53)

int main(int argc, char **argv)
{
    fi_cpu_init();
    const int rc = fi_kernel_select(argc > 1 ? argv[1] : "auto");
    if (rc) {
        printf("cannot select kernel %s (%d)\n", argc > 1 ? argv[1] : "auto", rc);
        return 1;
    }
    /* Edge sizes (0, 1, primes, tile and block non-multiples, K above both KCs) and every option. */
    static const long dims[][3] = {{0, 5, 3}, {5, 0, 3}, {4, 5, 0}, {1, 1, 1}, {7, 9, 13}, {8, 8, 8},
                                   {9, 17, 31}, {64, 64, 64}, {67, 10, 64}, {37, 19, 600}, {3, 4100, 5},
                                   {139, 21, 70}};
    static const double ab[][2] = {{1.0, 0.0}, {-0.5, 1.0}, {2.0, 0.25}};
    int id = 0;
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++)
        for (int t = 0; t < 4; t++)
            for (int e = 0; e < 3; e++) {
                const long m = dims[d][0], n = dims[d][1], k = dims[d][2];
                const int bias_kind = e == 0 ? FI_BIAS_NONE : e == 1 ? FI_BIAS_ROW : FI_BIAS_COL;
                const fi_act_t act = e == 0 ? FI_ACT_IDENTITY : e == 1 ? FI_ACT_RELU : FI_ACT_TANH;
                case_s(id, t & 1, t >> 1, m, n, k, ab[(d + t) % 3][0], ab[(d + t) % 3][1], bias_kind, act);
                id++;
                case_d(id, t & 1, t >> 1, m, n, k, ab[(d + e) % 3][0], ab[(d + e) % 3][1], bias_kind, act);
                id++;
            }
    printf("%d cases, %d values out of bounds\n", id, g_bad);
    return g_bad != 0;
}
