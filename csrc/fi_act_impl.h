/* Template body of fi_act.c, instantiated per dtype (FI_DTYPE, fi_template.h). Per dtype it
   calls fi_tanh_n_s/_d and fi_sigmoid_n_s/_d (n values at once: where a SIMD kernel may take
   over), fi_sigmoid1_s/_d (one value), fi_backward_colsum_fast_s/_d (a SIMD
   fi_act_backward_colsum: 1 if it handled the call) and libm through FI_LIBM. No include
   guard on purpose. */
#include "fi_dtype_begin.h"

void FI_DT(fi_act_forward)(T *y, const T *x, fi_dim_t n, fi_act_t act, double param)
{
    const T p = (T)param;
    switch (act) {
    case FI_ACT_IDENTITY:
        if (y != x)
            for (fi_dim_t i = 0; i < n; i++) y[i] = x[i];
        break;
    case FI_ACT_RELU:
        for (fi_dim_t i = 0; i < n; i++) y[i] = x[i] <= 0 ? (T)0 : x[i]; /* NaN stays NaN */
        break;
    case FI_ACT_LEAKY_RELU:
        for (fi_dim_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : x[i] * p;
        break;
    case FI_ACT_ELU:
        for (fi_dim_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : p * FI_LIBM(expm1)(x[i]);
        break;
    case FI_ACT_SELU: {
        const T s = (T)FI_SELU_SCALE, sa = (T)(FI_SELU_SCALE * FI_SELU_ALPHA);
        for (fi_dim_t i = 0; i < n; i++) y[i] = x[i] > 0 ? s * x[i] : sa * FI_LIBM(expm1)(x[i]);
        break;
    }
    case FI_ACT_TANH:
        FI_DT(fi_tanh_n)(y, x, n);
        break;
    case FI_ACT_SIGMOID:
        FI_DT(fi_sigmoid_n)(y, x, n);
        break;
    case FI_ACT_GELU: { /* x * Phi(x) with Phi = erfc(-x/sqrt2)/2: no cancellation for x < 0 */
        const T r = (T)0.70710678118654752440;
        for (fi_dim_t i = 0; i < n; i++) y[i] = (T)0.5 * x[i] * FI_LIBM(erfc)(-x[i] * r);
        break;
    }
    case FI_ACT_GELU_TANH: { /* 0.5 (1 + tanh(u)) = sigmoid(2u): stable for u < 0 */
        const T k2 = (T)(2 * 0.79788456080286535588), c = (T)0.044715;
        for (fi_dim_t i = 0; i < n; i++) {
            const T v = x[i];
            y[i] = v * FI_DT(fi_sigmoid1)(k2 * (v + c * v * v * v));
        }
        break;
    }
    case FI_ACT_SOFTPLUS: /* max(x, 0) + log1p(exp(-|x|)): no overflow for large |x| */
        for (fi_dim_t i = 0; i < n; i++) {
            const T v = x[i];
            y[i] = (v > 0 ? v : (T)0) + FI_LIBM(log1p)(FI_LIBM(exp)(-(v > 0 ? v : -v)));
        }
        break;
    case FI_ACT_SOFTSIGN:
        for (fi_dim_t i = 0; i < n; i++) y[i] = x[i] / ((T)1 + (x[i] > 0 ? x[i] : -x[i]));
        break;
    case FI_ACT_SILU: /* x sigmoid(x): the scalar sigmoid, so every kernel set gives the same bits */
        for (fi_dim_t i = 0; i < n; i++) y[i] = x[i] * FI_DT(fi_sigmoid1)(x[i]);
        break;
    default:
        break;
    }
}

void FI_DT(fi_act_backward)(T *dz, const T *dy, const T *z, const T *y, fi_dim_t n,
                                  fi_act_t act, double param)
{
    const T p = (T)param;
    switch (act) {
    case FI_ACT_IDENTITY:
        if (dz != dy)
            for (fi_dim_t i = 0; i < n; i++) dz[i] = dy[i];
        break;
    case FI_ACT_RELU: /* dy read unconditionally: a select, not a branch on random signs */
        for (fi_dim_t i = 0; i < n; i++) {
            const T d = dy[i];
            dz[i] = y[i] <= 0 ? (T)0 : d; /* as torch: NaN y passes dy */
        }
        break;
    case FI_ACT_LEAKY_RELU:
        for (fi_dim_t i = 0; i < n; i++) dz[i] = z[i] > 0 ? dy[i] : dy[i] * p;
        break;
    case FI_ACT_ELU: /* y = alpha*(e^z - 1) for z <= 0, so act' = y + alpha */
        for (fi_dim_t i = 0; i < n; i++) dz[i] = y[i] > 0 ? dy[i] : dy[i] * (y[i] + p);
        break;
    case FI_ACT_SELU: {
        const T s = (T)FI_SELU_SCALE, sa = (T)(FI_SELU_SCALE * FI_SELU_ALPHA);
        for (fi_dim_t i = 0; i < n; i++) dz[i] = y[i] > 0 ? dy[i] * s : dy[i] * (y[i] + sa);
        break;
    }
    case FI_ACT_TANH:
        for (fi_dim_t i = 0; i < n; i++) dz[i] = dy[i] * ((T)1 - y[i] * y[i]);
        break;
    case FI_ACT_SIGMOID:
        for (fi_dim_t i = 0; i < n; i++) dz[i] = dy[i] * (y[i] * ((T)1 - y[i]));
        break;
    case FI_ACT_GELU: { /* Phi(z) + z phi(z) */
        const T r = (T)0.70710678118654752440, q = (T)0.39894228040143267794; /* 1/sqrt(2 pi) */
        for (fi_dim_t i = 0; i < n; i++) {
            const T v = z[i];
            dz[i] = dy[i] * ((T)0.5 * FI_LIBM(erfc)(-v * r) + v * q * FI_LIBM(exp)((T)-0.5 * v * v));
        }
        break;
    }
    case FI_ACT_GELU_TANH: { /* s = sigmoid(2u): d/dz [z s] = s + z 2 s (1 - s) u' */
        const T k = (T)0.79788456080286535588, c = (T)0.044715;
        for (fi_dim_t i = 0; i < n; i++) {
            const T v = z[i];
            const T s = FI_DT(fi_sigmoid1)((T)2 * k * (v + c * v * v * v));
            dz[i] = dy[i] * (s + v * (T)2 * s * ((T)1 - s) * k * ((T)1 + (T)3 * c * v * v));
        }
        break;
    }
    case FI_ACT_SOFTPLUS:
        for (fi_dim_t i = 0; i < n; i++) dz[i] = dy[i] * FI_DT(fi_sigmoid1)(z[i]);
        break;
    case FI_ACT_SOFTSIGN: /* 1 - |y| = 1 / (1 + |z|) */
        for (fi_dim_t i = 0; i < n; i++) {
            const T a = (T)1 - (y[i] > 0 ? y[i] : -y[i]);
            dz[i] = dy[i] * (a * a);
        }
        break;
    case FI_ACT_SILU: /* s = sigmoid(z): d/dz [z s] = s + z s (1 - s) = s (1 + z (1 - s)) */
        for (fi_dim_t i = 0; i < n; i++) {
            const T v = z[i], s = FI_DT(fi_sigmoid1)(v);
            dz[i] = dy[i] * (s * ((T)1 + v * ((T)1 - s)));
        }
        break;
    default:
        break;
    }
}

void FI_DT(fi_act_backward_colsum)(T *dz, const T *dy, const T *z, const T *y, fi_dim_t rows,
                                         fi_dim_t cols, fi_act_t act, double param, T *colsum)
{
    if (FI_DT(fi_backward_colsum_fast)(dz, dy, y, rows, cols, act, colsum)) return;
    FI_DT(fi_act_backward)(dz, dy, z, y, rows * cols, act, param);
    T *FI_RESTRICT sum = colsum;
    for (fi_dim_t j = 0; j < cols; j++) sum[j] = 0;
    for (fi_dim_t i = 0; i < rows; i++)
        for (fi_dim_t j = 0; j < cols; j++) sum[j] += dz[i * cols + j];
}

#include "fi_dtype_end.h"
