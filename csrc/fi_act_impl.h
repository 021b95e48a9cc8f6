/* Activation template, included by fi_act.c per dtype with T, SUF and the libm names EXP,
   EXPM1, LOG1P, TANH, ERF, SQRT for T. Each loop is one switch case, so the compiler sees a
   plain elementwise loop it can vectorize. */
#define FI_CAT_(a, b) a##b
#define FI_CAT(a, b) FI_CAT_(a, b)

void FI_CAT(fi_act_forward_, SUF)(T *y, const T *x, fi_dim_t n, fi_act_t act, double param)
{
    const T p = (T)param;
    switch (act) {
    case FI_ACT_IDENTITY:
        if (y != x)
            for (fi_dim_t i = 0; i < n; i++) y[i] = x[i];
        break;
    case FI_ACT_RELU:
        for (fi_dim_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : (T)0;
        break;
    case FI_ACT_LEAKY_RELU:
        for (fi_dim_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : p * x[i];
        break;
    case FI_ACT_ELU:
        for (fi_dim_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : p * EXPM1(x[i]);
        break;
    case FI_ACT_SELU:
        for (fi_dim_t i = 0; i < n; i++) y[i] = (T)SELU_L * (x[i] > 0 ? x[i] : (T)SELU_A * EXPM1(x[i]));
        break;
    case FI_ACT_TANH:
        for (fi_dim_t i = 0; i < n; i++) y[i] = TANH(x[i]);
        break;
    case FI_ACT_SIGMOID: /* never exponentiates a positive number */
        for (fi_dim_t i = 0; i < n; i++) {
            const T e = EXP(-(x[i] >= 0 ? x[i] : -x[i]));
            y[i] = x[i] >= 0 ? (T)1 / ((T)1 + e) : e / ((T)1 + e);
        }
        break;
    case FI_ACT_GELU:
        for (fi_dim_t i = 0; i < n; i++) y[i] = (T)0.5 * x[i] * ((T)1 + ERF(x[i] * (T)M_SQRT1_2));
        break;
    case FI_ACT_GELU_TANH:
        for (fi_dim_t i = 0; i < n; i++) {
            const T v = x[i];
            y[i] = (T)0.5 * v * ((T)1 + TANH((T)GELU_K * (v + (T)0.044715 * v * v * v)));
        }
        break;
    case FI_ACT_SOFTPLUS: /* max(x,0) + log1p(e^-|x|); past 20, x itself (torch's threshold) */
        for (fi_dim_t i = 0; i < n; i++) {
            const T v = x[i];
            y[i] = v > (T)20 ? v : (v > 0 ? v : (T)0) + LOG1P(EXP(-(v > 0 ? v : -v)));
        }
        break;
    case FI_ACT_SOFTSIGN:
        for (fi_dim_t i = 0; i < n; i++) y[i] = x[i] / ((T)1 + (x[i] > 0 ? x[i] : -x[i]));
        break;
    default:
        break;
    }
}

void FI_CAT(fi_act_backward_, SUF)(T *dx, const T *dy, const T *x, const T *y, fi_dim_t n,
                                   fi_act_t act, double param)
{
    const T p = (T)param;
    switch (act) {
    case FI_ACT_IDENTITY:
        if (dx != dy)
            for (fi_dim_t i = 0; i < n; i++) dx[i] = dy[i];
        break;
    case FI_ACT_RELU:
        for (fi_dim_t i = 0; i < n; i++) dx[i] = y[i] > 0 ? dy[i] : (T)0;
        break;
    case FI_ACT_LEAKY_RELU:
        for (fi_dim_t i = 0; i < n; i++) dx[i] = y[i] > 0 ? dy[i] : p * dy[i];
        break;
    case FI_ACT_ELU: /* x < 0: y = a(e^x - 1), y' = y + a */
        for (fi_dim_t i = 0; i < n; i++) dx[i] = y[i] > 0 ? dy[i] : dy[i] * (y[i] + p);
        break;
    case FI_ACT_SELU:
        for (fi_dim_t i = 0; i < n; i++)
            dx[i] = y[i] > 0 ? (T)SELU_L * dy[i] : dy[i] * (y[i] + (T)(SELU_L * SELU_A));
        break;
    case FI_ACT_TANH:
        for (fi_dim_t i = 0; i < n; i++) dx[i] = dy[i] * ((T)1 - y[i] * y[i]);
        break;
    case FI_ACT_SIGMOID:
        for (fi_dim_t i = 0; i < n; i++) dx[i] = dy[i] * (y[i] * ((T)1 - y[i]));
        break;
    case FI_ACT_GELU: /* Phi(x) + x phi(x) */
        for (fi_dim_t i = 0; i < n; i++) {
            const T v = x[i];
            dx[i] = dy[i] * ((T)0.5 * ((T)1 + ERF(v * (T)M_SQRT1_2)) + v * EXP((T)-0.5 * v * v) * (T)INV_SQRT_2PI);
        }
        break;
    case FI_ACT_GELU_TANH:
        for (fi_dim_t i = 0; i < n; i++) {
            const T v = x[i], t = TANH((T)GELU_K * (v + (T)0.044715 * v * v * v));
            dx[i] = dy[i] * ((T)0.5 * ((T)1 + t) +
                             (T)0.5 * v * ((T)1 - t * t) * (T)GELU_K * ((T)1 + (T)(3 * 0.044715) * v * v));
        }
        break;
    case FI_ACT_SOFTPLUS: /* sigmoid(x), 1 past the threshold */
        for (fi_dim_t i = 0; i < n; i++) {
            const T v = x[i], e = EXP(-(v >= 0 ? v : -v));
            const T s = v >= 0 ? (T)1 / ((T)1 + e) : e / ((T)1 + e);
            dx[i] = v > (T)20 ? dy[i] : dy[i] * s;
        }
        break;
    case FI_ACT_SOFTSIGN: /* 1 / (1 + |x|)^2 = (1 - |y|)^2 */
        for (fi_dim_t i = 0; i < n; i++) {
            const T a = (T)1 - (y[i] > 0 ? y[i] : -y[i]);
            dx[i] = dy[i] * a * a;
        }
        break;
    default:
        break;
    }
}

#undef FI_CAT
#undef FI_CAT_
