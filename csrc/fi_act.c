/* Activation kernels (see fi_act.h). The float32 exp, tanh and sigmoid, the hot ones, evaluate
   exp in double (formula in fi_act_kernels.h) and round once to float: within 1 ulp. With
   AVX2+FMA they run 8 at a time (fi_act_avx2.c), with AVX-512F 16 (fi_act_avx512.c, the same
   bits); the portable path below is the same formula, one value at a time. The float64 path
   uses libm (accuracy first: gradient checks and PyTorch parity run there). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fi_act.h"
#include "fi_act_kernels.h"
#include "fi_cpu.h"

/* p with e^y = s (1 + p), see fi_act_kernels.h; y in [-200, 200] or NaN. */
static inline double fi_exp_red(double y, double *s)
{
    const double t = y * FI_LOG2E + FI_EXP_MAGIC;
    const double r = y - (t - FI_EXP_MAGIC) * FI_LN2;
    double p = fi_expm1_coef[0];
    for (int k = 1; k < FI_EXPM1_NCOEF; k++) p = p * r + fi_expm1_coef[k];
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits << 52) + ((uint64_t)1023 << 52); /* n from t's low bits into the exponent: 2^n */
    memcpy(s, &bits, sizeof bits);
    return p * r;
}

static inline float fi_tanh_f(float x)
{
    double a = fabs((double)x), s;
    a = a > FI_TANH_CLAMP ? FI_TANH_CLAMP : a; /* NaN stays */
    const double p = fi_exp_red(a + a, &s);
    const double em1 = s * p + (s - 1.0);
    return copysignf((float)(em1 / (em1 + 2.0)), x);
}

/* e^x in double (relative error < 7e-10), x clamped to +-FI_EXP_CLAMP (NaN stays). */
static inline double fi_exp_c(double x)
{
    double s;
    x = x > FI_EXP_CLAMP ? FI_EXP_CLAMP : (x < -FI_EXP_CLAMP ? -FI_EXP_CLAMP : x);
    const double p = fi_exp_red(x, &s);
    return s * p + s;
}

static inline float fi_exp_f(float x) { return (float)fi_exp_c(x); }

static inline float fi_sigmoid_f(float x) { return (float)(1.0 / (1.0 + fi_exp_c(-(double)x))); }

/* Which kernels float32 exp/tanh/sigmoid run: 0 portable, 1 AVX2, 2 AVX-512 (the backward
   column sums: AVX2 from 1); -1 until chosen (first use or select). */
static int g_act_level = -1;

static int fi_act_avx2_usable(void) { return FI_HAVE_ACT_AVX2 && fi_cpu_has_avx2_fma(); }
static int fi_act_avx512_usable(void) { return fi_act_avx2_usable() && fi_cpu_has_avx512(); }

static int fi_act_level(void)
{
    int level = FI_LOAD_INT(&g_act_level);
    if (level < 0) { /* first use: every thread computes the same level, any may store it */
        level = fi_act_avx512_usable() ? 2 : fi_act_avx2_usable();
        FI_STORE_INT(&g_act_level, level);
    }
    return level;
}

static int fi_act_use_avx2(void) { return fi_act_level() >= 1; }

int fi_act_select(const char *name)
{
    if (!name || !strcmp(name, "auto")) {
        FI_STORE_INT(&g_act_level, -1);
        fi_act_level();
        return 0;
    }
    if (!strcmp(name, "ref")) {
        FI_STORE_INT(&g_act_level, 0);
        return 0;
    }
    if (!strcmp(name, "avx2")) {
        if (!fi_act_avx2_usable()) return -2;
        FI_STORE_INT(&g_act_level, 1);
        return 0;
    }
    if (!strcmp(name, "avx512")) {
        if (!fi_act_avx512_usable()) return -2;
        FI_STORE_INT(&g_act_level, 2);
        return 0;
    }
#if defined(__aarch64__)
    if (!strcmp(name, "neon")) { /* no NEON activation set: the portable code, as "ref" */
        FI_STORE_INT(&g_act_level, 0);
        return 0;
    }
#endif
    return -1;
}

const char *fi_act_kernel(void)
{
    static const char *const names[] = {"ref", "avx2", "avx512"};
    return names[fi_act_level()];
}

/* Body of a float32 map y = f(x) over n values: the widest kernel selected, else scalar. */
#if FI_HAVE_ACT_AVX2
#define FI_MAP_S(f, scalar)                     \
    switch (fi_act_level()) {                   \
    case 2: FI_CAT3(fi_, f, _avx512_s)(y, x, n); return; \
    case 1: FI_CAT3(fi_, f, _avx2_s)(y, x, n); return;   \
    default: break;                             \
    }                                           \
    for (fi_dim_t i = 0; i < n; i++) y[i] = scalar(x[i])
#define FI_CAT3_(a, b, c) a##b##c
#define FI_CAT3(a, b, c) FI_CAT3_(a, b, c)
#else
#define FI_MAP_S(f, scalar) for (fi_dim_t i = 0; i < n; i++) y[i] = scalar(x[i])
#endif

void fi_exp_s(float *y, const float *x, fi_dim_t n) { FI_MAP_S(exp, fi_exp_f); }
static void fi_tanh_n_s(float *y, const float *x, fi_dim_t n) { FI_MAP_S(tanh, fi_tanh_f); }
static void fi_sigmoid_n_s(float *y, const float *x, fi_dim_t n)
{
    FI_MAP_S(sigmoid, fi_sigmoid_f);
}

static int fi_backward_colsum_fast_s(float *dz, const float *dy, const float *y, fi_dim_t rows,
                                     fi_dim_t cols, fi_act_t act, float *colsum)
{
#if FI_HAVE_ACT_AVX2
    if (fi_act_use_avx2()) return fi_act_backward_colsum_avx2_s(dz, dy, y, rows, cols, act, colsum);
#endif
    (void)dz, (void)dy, (void)y, (void)rows, (void)cols, (void)act, (void)colsum;
    return 0;
}

void fi_exp_d(double *y, const double *x, fi_dim_t n)
{
    for (fi_dim_t i = 0; i < n; i++) y[i] = exp(x[i]);
}

static inline double fi_sigmoid_d(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    const double e = exp(x); /* never overflows for x < 0 */
    return e / (1.0 + e);
}

static void fi_tanh_n_d(double *y, const double *x, fi_dim_t n)
{
    for (fi_dim_t i = 0; i < n; i++) y[i] = tanh(x[i]);
}

static void fi_sigmoid_n_d(double *y, const double *x, fi_dim_t n)
{
    for (fi_dim_t i = 0; i < n; i++) y[i] = fi_sigmoid_d(x[i]);
}

int fi_act_needs_pre(fi_act_t act)
{
    return act == FI_ACT_LEAKY_RELU || act == FI_ACT_GELU || act == FI_ACT_GELU_TANH ||
           act == FI_ACT_SOFTPLUS;
}

#define T float
#define SUF s
#define TANH_N fi_tanh_n_s
#define SIGM_N fi_sigmoid_n_s
#define SIGM fi_sigmoid_f
#define EXPM1 expm1f
#define EXP expf
#define LOG1P log1pf
#define ERFC erfcf
#define BACKWARD_COLSUM_FAST fi_backward_colsum_fast_s
#include "fi_act_impl.h"
#undef T
#undef SUF
#undef TANH_N
#undef SIGM_N
#undef SIGM
#undef EXPM1
#undef EXP
#undef LOG1P
#undef ERFC
#undef BACKWARD_COLSUM_FAST

#define T double
#define SUF d
#define TANH_N fi_tanh_n_d
#define SIGM_N fi_sigmoid_n_d
#define SIGM fi_sigmoid_d
#define EXPM1 expm1
#define EXP exp
#define LOG1P log1p
#define ERFC erfc
#define BACKWARD_COLSUM_FAST(dz, dy, y, rows, cols, act, colsum) 0
#include "fi_act_impl.h"
