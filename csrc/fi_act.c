/* Activation kernels (see fi_act.h). The float32 tanh and sigmoid, the hot ones, evaluate
   exp in double with a branch-free polynomial the compiler vectorizes, then round once to
   float: correctly rounded or 1 ulp off, and several times faster than a libm call per value.
   The float64 path uses libm (accuracy first: gradient checks and PyTorch parity run there). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fi_act.h"

/* exp(x) for x in [-700, 700], relative error < 1e-14: x = n ln2 + r, |r| <= ln2/2,
   Taylor polynomial of degree 11 in r, 2^n built in the exponent bits. Branch free. */
static inline double fi_exp_poly(double x)
{
    const double magic = 6755399441055744.0; /* 1.5 * 2^52: rounds to an integer in the low bits */
    x = x < -700.0 ? -700.0 : (x > 700.0 ? 700.0 : x);
    const double t = x * 1.4426950408889634074 + magic;
    const double nd = t - magic;
    const double r = (x - nd * 6.93147180369123816490e-01) - nd * 1.90821492927058770002e-10;
    double p = 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t bits;
    memcpy(&bits, &t, sizeof bits);
    const int64_t e = ((bits - (int64_t)0x4338000000000000LL) + 1023) << 52;
    double scale;
    memcpy(&scale, &e, sizeof scale);
    return p * scale;
}

static inline float fi_tanh_f(float x)
{
    const double a = fabs((double)x);
    const double e = fi_exp_poly(-2.0 * (a < 20.0 ? a : 20.0));
    double t = (1.0 - e) / (1.0 + e); /* relative error ~1e-16 / a near 0: fine for a > 1e-5 */
    t = a < 1e-5 ? a : t;
    return (float)(x < 0 ? -t : t);
}

static inline float fi_sigmoid_f(float x)
{
    const double v = (double)x;
    return (float)(1.0 / (1.0 + fi_exp_poly(-(v < -120.0 ? -120.0 : (v > 120.0 ? 120.0 : v)))));
}

static inline double fi_sigmoid_d(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    const double e = exp(x); /* never overflows for x < 0 */
    return e / (1.0 + e);
}

int fi_act_needs_pre(fi_act_t act)
{
    return act == FI_ACT_LEAKY_RELU || act == FI_ACT_GELU || act == FI_ACT_GELU_TANH ||
           act == FI_ACT_SOFTPLUS;
}

#define T float
#define SUF s
#define TANH fi_tanh_f
#define SIGM fi_sigmoid_f
#define EXPM1 expm1f
#define EXP expf
#define LOG1P log1pf
#define ERFC erfcf
#include "fi_act_impl.h"
#undef T
#undef SUF
#undef TANH
#undef SIGM
#undef EXPM1
#undef EXP
#undef LOG1P
#undef ERFC

#define T double
#define SUF d
#define TANH tanh
#define SIGM fi_sigmoid_d
#define EXPM1 expm1
#define EXP exp
#define LOG1P log1p
#define ERFC erfc
#include "fi_act_impl.h"
