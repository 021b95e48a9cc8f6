/* Template body of fi_mlp.c, instantiated per dtype (FI_DTYPE, fi_template.h). */
#include "fi_dtype_begin.h"

void FI_DT(fi_mlp_forward)(const fi_mlp_t *m, fi_mlp_ws_t *ws, const T *x, fi_dim_t n)
{
    const T *in = x;
    for (int l = 0; l < m->nlayers; l++) {
        T *y = (T *)ws->a[l];
        FI_DT(fi_dense_forward)(y, (T *)ws->z[l], in, (const T *)m->p[2 * l],
                                      (const T *)m->p[2 * l + 1], n, m->sizes[l], m->sizes[l + 1],
                                      m->acts[l], m->act_params[l]);
        in = y;
    }
}

/* Sum of squares of n values in double, in 8 interleaved partial sums (one serial chain
   would be latency bound), always combined in the same order. */
static double FI_DT(fi_sumsq)(const T *x, fi_dim_t n)
{
    double s[8] = {0};
    fi_dim_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) s[j] += (double)x[i + j] * (double)x[i + j];
    for (; i < n; i++) s[0] += (double)x[i] * (double)x[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

double FI_DT(fi_mlp_backprop)(const fi_mlp_t *m, fi_mlp_ws_t *ws, const T *x, const void *y,
                                    fi_dim_t n, double *gin_ss)
{
    const int L = m->nlayers;
    FI_DT(fi_mlp_forward)(m, ws, x, n);
    const T *logits = (const T *)ws->a[L - 1];
    const fi_dim_t c = m->sizes[L];
    T *g = (T *)ws->g0, *g_next = (T *)ws->g1;
    double loss;
    switch (m->loss) {
    case FI_LOSS_SOFTMAX_XENT:
        loss = FI_DT(fi_loss_xent)(g, logits, (const int64_t *)y, n, c);
        break;
    case FI_LOSS_BCE_LOGITS:
        loss = FI_DT(fi_loss_bce)(g, logits, (const T *)y, n, c);
        break;
    default:
        loss = FI_DT(fi_loss_mse)(g, logits, (const T *)y, n, c);
        break;
    }
    for (int l = L - 1; l >= 0; l--) {
        const T *in = l ? (const T *)ws->a[l - 1] : x;
        /* The first layer's input gradient is only computed when asked for. */
        T *dx = l || gin_ss ? g_next : NULL;
        FI_DT(fi_dense_backward)(dx, (T *)m->g[2 * l], (T *)m->g[2 * l + 1], g,
                                       (const T *)ws->z[l], (const T *)ws->a[l], in,
                                       (const T *)m->p[2 * l], n, m->sizes[l], m->sizes[l + 1],
                                       m->acts[l], m->act_params[l]);
        if (gin_ss) gin_ss[l] = FI_DT(fi_sumsq)(dx, n * m->sizes[l]);
        T *tmp = g;
        g = g_next;
        g_next = tmp;
    }
    return loss;
}

double FI_DT(fi_mlp_step)(const fi_mlp_t *m, fi_mlp_ws_t *ws, const T *x, const void *y,
                                fi_dim_t n, fi_optim_t *opt, T *const *s1, T *const *s2,
                                double *gin_ss)
{
    const double loss = FI_DT(fi_mlp_backprop)(m, ws, x, y, n, gin_ss);
    FI_DT(fi_optim_step)(opt, 2 * m->nlayers, (T *const *)m->p, (T *const *)m->g, s1, s2,
                               m->count);
    return loss;
}

FI_CLONES_AVX2 int FI_DT(fi_all_finite)(const T *x, fi_dim_t n)
{
    int ok = 1; /* x - x is 0 for finite x and NaN for inf/NaN; an int AND vectorizes */
    for (fi_dim_t i = 0; i < n; i++) ok &= (x[i] - x[i]) == 0;
    return ok;
}

#include "fi_dtype_end.h"
