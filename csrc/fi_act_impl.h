/* Template body of fi_act.c, included once per dtype with T, SUF and the math macros
   TANH_N, SIGM_N (n values at once: where a SIMD kernel may take over), SIGM, EXPM1, EXP, LOG1P,
   ERFC, and BACKWARD_COLSUM_FAST (a SIMD fi_act_backward_colsum: 1 if it handled the call)
   defined. No include guard on purpose. */
#define FI_CAT_(a, b) a##_##b
#define FI_CAT(a, b) FI_CAT_(a, b)

void FI_CAT(fi_act_forward, SUF)(T *y, const T *x, fi_dim_t n, fi_act_t act, double param)
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
        for (fi_dim_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : p * EXPM1(x[i]);
        break;
    case FI_ACT_SELU: {
        const T s = (T)FI_SELU_SCALE, sa = (T)(FI_SELU_SCALE * FI_SELU_ALPHA);
        for (fi_dim_t i = 0; i < n; i++) y[i] = x[i] > 0 ? s * x[i] : sa * EXPM1(x[i]);
        break;
    }
    case FI_ACT_TANH:
        TANH_N(y, x, n);
        break;
    case FI_ACT_SIGMOID:
        SIGM_N(y, x, n);
        break;
    case FI_ACT_GELU: { /* x * Phi(x) with Phi = erfc(-x/sqrt2)/2: no cancellation for x < 0 */
        const T r = (T)0.70710678118654752440;
        for (fi_dim_t i = 0; i < n; i++) y[i] = (T)0.5 * x[i] * ERFC(-x[i] * r);
        break;
    }
    case FI_ACT_GELU_TANH: { /* 0.5 (1 + tanh(u)) = sigmoid(2u): stable for u < 0 */
        const T k2 = (T)(2 * 0.79788456080286535588), c = (T)0.044715;
        for (fi_dim_t i = 0; i < n; i++) {
            const T v = x[i];
            y[i] = v * SIGM(k2 * (v + c * v * v * v));
        }
        break;
    }
    case FI_ACT_SOFTPLUS: /* max(x, 0) + log1p(exp(-|x|)): no overflow for large |x| */
        for (fi_dim_t i = 0; i < n; i++) {
            const T v = x[i];
            y[i] = (v > 0 ? v : (T)0) + LOG1P(EXP(-(v > 0 ? v : -v)));
        }
        break;
    case FI_ACT_SOFTSIGN:
        for (fi_dim_t i = 0; i < n; i++) y[i] = x[i] / ((T)1 + (x[i] > 0 ? x[i] : -x[i]));
        break;
    default:
        break;
    }
}

void FI_CAT(fi_act_backward, SUF)(T *dz, const T *dy, const T *z, const T *y, fi_dim_t n,
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
            dz[i] = dy[i] * ((T)0.5 * ERFC(-v * r) + v * q * EXP((T)-0.5 * v * v));
        }
        break;
    }
    case FI_ACT_GELU_TANH: { /* s = sigmoid(2u): d/dz [z s] = s + z 2 s (1 - s) u' */
        const T k = (T)0.79788456080286535588, c = (T)0.044715;
        for (fi_dim_t i = 0; i < n; i++) {
            const T v = z[i];
            const T s = SIGM((T)2 * k * (v + c * v * v * v));
            dz[i] = dy[i] * (s + v * (T)2 * s * ((T)1 - s) * k * ((T)1 + (T)3 * c * v * v));
        }
        break;
    }
    case FI_ACT_SOFTPLUS:
        for (fi_dim_t i = 0; i < n; i++) dz[i] = dy[i] * SIGM(z[i]);
        break;
    case FI_ACT_SOFTSIGN: /* 1 - |y| = 1 / (1 + |z|) */
        for (fi_dim_t i = 0; i < n; i++) {
            const T a = (T)1 - (y[i] > 0 ? y[i] : -y[i]);
            dz[i] = dy[i] * (a * a);
        }
        break;
    default:
        break;
    }
}

void FI_CAT(fi_act_backward_colsum, SUF)(T *dz, const T *dy, const T *z, const T *y, fi_dim_t rows,
                                         fi_dim_t cols, fi_act_t act, double param, T *colsum)
{
    if (BACKWARD_COLSUM_FAST(dz, dy, y, rows, cols, act, colsum)) return;
    FI_CAT(fi_act_backward, SUF)(dz, dy, z, y, rows * cols, act, param);
    T *FI_RESTRICT sum = colsum;
    for (fi_dim_t j = 0; j < cols; j++) sum[j] = 0;
    for (fi_dim_t i = 0; i < rows; i++)
        for (fi_dim_t j = 0; j < cols; j++) sum[j] += dz[i * cols + j];
}

#undef FI_CAT_
#undef FI_CAT
