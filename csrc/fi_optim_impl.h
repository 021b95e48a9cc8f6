/* Template body of fi_optim.c, instantiated per dtype (FI_DTYPE, fi_template.h). */
#include "fi_dtype_begin.h"

FI_CLONES_AVX2 void FI_DT(fi_optim_step)(fi_optim_t *opt, int nt, T *const *p, T *const *g,
                                               T *const *s1, T *const *s2, const fi_dim_t *count)
{
    opt->step++;
    int ok = 1; /* p - p is 0 for finite p, NaN for inf/NaN: an int AND beside each update */
    if (opt->clip_norm > 0) {
        double ss = 0.0;
        for (int k = 0; k < nt; k++)
            for (fi_dim_t i = 0; i < count[k]; i++) ss += (double)g[k][i] * (double)g[k][i];
        const double coef = opt->clip_norm / (sqrt(ss) + 1e-6);
        if (coef < 1.0) {
            const T c = (T)coef;
            for (int k = 0; k < nt; k++)
                for (fi_dim_t i = 0; i < count[k]; i++) g[k][i] *= c;
        }
    }
    const T lr = (T)opt->lr, wd = (T)opt->weight_decay;
    if (opt->kind == FI_OPT_SGD) {
        const T mom = (T)opt->momentum;
        for (int k = 0; k < nt; k++) {
            T *FI_RESTRICT pk = p[k];
            const T *FI_RESTRICT gk = g[k];
            const fi_dim_t cnt = count[k];
            if (mom == 0) {
                for (fi_dim_t i = 0; i < cnt; i++) {
                    pk[i] += -lr * (gk[i] + wd * pk[i]);
                    ok &= (pk[i] - pk[i]) == 0;
                }
            } else {
                T *FI_RESTRICT bk = s1[k];
                /* torch starts the buffer at g; with dampening 0, mom*0 + g is exactly that. */
                if (opt->nesterov) {
                    for (fi_dim_t i = 0; i < cnt; i++) {
                        const T gi = gk[i] + wd * pk[i];
                        bk[i] = bk[i] * mom + gi;
                        pk[i] += -lr * (gi + mom * bk[i]);
                        ok &= (pk[i] - pk[i]) == 0;
                    }
                } else {
                    for (fi_dim_t i = 0; i < cnt; i++) {
                        const T gi = gk[i] + wd * pk[i];
                        bk[i] = bk[i] * mom + gi;
                        pk[i] += -lr * bk[i];
                        ok &= (pk[i] - pk[i]) == 0;
                    }
                }
            }
        }
        opt->finite = ok;
        return;
    }
    /* Adam / AdamW, as torch's single-tensor path: m.lerp_(g, 1-b1); v = b2 v + (1-b2) g^2;
       p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps). */
    const double t = (double)opt->step;
    const double bc1 = 1.0 - pow(opt->beta1, t), bc2 = 1.0 - pow(opt->beta2, t);
    const T w1 = (T)(1.0 - opt->beta1), b2 = (T)opt->beta2, w2 = (T)(1.0 - opt->beta2);
    const T step_size = (T)(opt->lr / bc1), bc2s = (T)sqrt(bc2), eps = (T)opt->eps;
    const int decoupled = opt->kind == FI_OPT_ADAMW;
    const T shrink = (T)(1.0 - opt->lr * opt->weight_decay);
    (void)lr;
    for (int k = 0; k < nt; k++) {
        T *FI_RESTRICT pk = p[k];
        const T *FI_RESTRICT gk = g[k];
        T *FI_RESTRICT mk = s1[k];
        T *FI_RESTRICT vk = s2[k];
        const fi_dim_t cnt = count[k];
        for (fi_dim_t i = 0; i < cnt; i++) {
            T gi = gk[i];
            if (decoupled)
                pk[i] *= shrink;
            else
                gi += wd * pk[i];
            mk[i] += w1 * (gi - mk[i]);
            vk[i] = vk[i] * b2 + w2 * (gi * gi);
            pk[i] += -step_size * (mk[i] / (FI_LIBM(sqrt)(vk[i]) / bc2s + eps));
            ok &= (pk[i] - pk[i]) == 0;
        }
    }
    opt->finite = ok;
}

#include "fi_dtype_end.h"
