/* Template body of fi_lanes.c, instantiated per dtype (FI_DTYPE, fi_template.h): one lane
   group's steps. Element e of lane l sits at [e*V + l]. The losses run per lane with the
   expressions of fi_loss_impl.h (their exp through fi_exp, libm otherwise); activations are
   elementwise, so fi_act_forward / fi_act_backward_colsum run over the interleaved blocks as
   they are (a column sum over (rows, out*V) is each lane's bias gradient in row order). No
   include guard on purpose. */
#include "fi_dtype_begin.h"
#define LF(name) FI_PASTE3(name, _l, SUF) /* this file's static names */

/* Per lane l < V: fi_loss_xent's value and gradient on logits z (rows, c) of the lanes into
   dz, labels per lane (lab[i*V + l]) or shared (bc: lab[i]). Loops run across the lanes
   innermost (vectorizable: V is a constant after inlining); each lane sees the solo's
   operations in the solo's order, the sum of -z_y first, then the log terms. */
FI_INLINE void LF(xent_v)(T *dz, const T *z, const int64_t *lab, int bc, fi_dim_t n, fi_dim_t c,
                          double *loss, const int V)
{
    double total[16], s[16], prod[16]; /* prod: of the row sums, see FI_XENT_LOG_AT */
    T mx[16], inv[16];
    const T inv_n = (T)(1.0 / (double)n);
    for (int l = 0; l < V; l++) total[l] = 0.0, prod[l] = 1.0;
    for (fi_dim_t i = 0; i < n; i++) {
        const T *zi = z + i * c * V;
        T *di = dz + i * c * V;
        for (int l = 0; l < V; l++) mx[l] = zi[l];
        for (fi_dim_t j = 1; j < c; j++)
            for (int l = 0; l < V; l++) mx[l] = zi[j * V + l] > mx[l] ? zi[j * V + l] : mx[l];
        for (fi_dim_t j = 0; j < c; j++)
            for (int l = 0; l < V; l++) di[j * V + l] = zi[j * V + l] - mx[l];
    }
    for (fi_dim_t i = 0; i < n; i++)
        for (int l = 0; l < V; l++)
            total[l] -= (double)dz[(i * c + (bc ? lab[i] : lab[i * V + l])) * V + l];
    FI_DT(fi_exp)(dz, dz, n * c * V);
    for (fi_dim_t i = 0; i < n; i++) {
        T *di = dz + i * c * V;
        for (int l = 0; l < V; l++) s[l] = 0.0;
        for (fi_dim_t j = 0; j < c; j++)
            for (int l = 0; l < V; l++) s[l] += (double)di[j * V + l];
        for (int l = 0; l < V; l++) inv[l] = (T)(1.0 / s[l]) * inv_n;
        for (fi_dim_t j = 0; j < c; j++)
            for (int l = 0; l < V; l++) di[j * V + l] *= inv[l];
        for (int l = 0; l < V; l++) {
            di[(bc ? lab[i] : lab[i * V + l]) * V + l] -= inv_n;
            prod[l] *= s[l];
            if (prod[l] > FI_XENT_LOG_AT) total[l] += log(prod[l]), prod[l] = 1.0;
        }
    }
    for (int l = 0; l < V; l++) loss[l] = (total[l] + log(prod[l])) / (double)n;
}

/* Per lane l < V: the loss of fi_loss_xent/bce/mse on logits z (rows, c) of the lanes, its
   gradient into dz; labels or targets per lane (y[i*V + l], y[(i*c + j)*V + l]) or shared
   (bc: y[i], y[i*c + j]). */
static void LF(loss)(fi_loss_t kind, T *dz, const T *z, const void *y, int bc, fi_dim_t n,
                     fi_dim_t c, int V, double *loss)
{
    if (kind == FI_LOSS_SOFTMAX_XENT) {
        const int64_t *lab = (const int64_t *)y;
        switch (V) {
        case 16: LF(xent_v)(dz, z, lab, bc, n, c, loss, 16); return;
        case 8: LF(xent_v)(dz, z, lab, bc, n, c, loss, 8); return;
        case 4: LF(xent_v)(dz, z, lab, bc, n, c, loss, 4); return;
        default: LF(xent_v)(dz, z, lab, bc, n, c, loss, V); return;
        }
    }
    double total[16];
    for (int l = 0; l < V; l++) total[l] = 0.0;
    const T *t = (const T *)y;
    const fi_dim_t m = n * c;
    if (kind == FI_LOSS_BCE_LOGITS) {
        const T inv = (T)(1.0 / (double)m);
        for (fi_dim_t i = 0; i < m; i++)
            for (int l = 0; l < V; l++) {
                const T v = z[i * V + l], ti = bc ? t[i] : t[i * V + l];
                const T e = FI_LIBM(exp)(-(v > 0 ? v : -v)); /* exp(-|z|) in (0, 1]: no overflow */
                total[l] += (double)((v > 0 ? v : (T)0) - v * ti + FI_LIBM(log1p)(e));
                const T s = v >= 0 ? (T)1 / ((T)1 + e) : e / ((T)1 + e);
                dz[i * V + l] = (s - ti) * inv;
            }
    } else {
        const T inv2 = (T)(2.0 / (double)m);
        for (fi_dim_t i = 0; i < m; i++)
            for (int l = 0; l < V; l++) {
                const T d = z[i * V + l] - (bc ? t[i] : t[i * V + l]);
                total[l] += (double)d * (double)d;
                dz[i * V + l] = d * inv2;
            }
    }
    for (int l = 0; l < V; l++) loss[l] = total[l] / (double)m;
}

/* The group's state while it trains. */
typedef struct LF(group) {
    const fi_lanes_isa_t *isa;
    const fi_ens_t *e;
    const fi_mlp_t *m0;
    int V, L, r, cls;
    const int *js;
    fi_dim_t np, toff[2 * FI_LANES_MAX_LAYERS + 1]; /* tensor offsets in a member's parameters */
    fi_dim_t kc_max;
    T *p, *g, *s1, *s2, *g0, *g1, *xl, *xs;
    T *a[FI_LANES_MAX_LAYERS], *z[FI_LANES_MAX_LAYERS];
    char *yl, *ys;
} LF(group_t);

/* Between the members' own tensors and the interleaved buffer `which` (0 p, 1 g, 2 s1, 3 s2)
   for the lanes in the mask `lanes`: into the lanes (pack) or back. Element-major, so the
   interleaved side is walked contiguously. */
static void LF(move)(const LF(group_t) *G, unsigned lanes, int which, int pack)
{
    const int V = G->V;
    T *buf = which == 0 ? G->p : which == 1 ? G->g : which == 2 ? G->s1 : G->s2;
    int ls[16], nl = 0;
    for (int l = 0; l < G->r; l++)
        if (lanes >> l & 1) ls[nl++] = l;
    for (int t = 0; t < 2 * G->L; t++) {
        T *mem[16];
        for (int q = 0; q < nl; q++) {
            const int j = G->js[ls[q]];
            void *const *tens = which == 0   ? G->e->m[j].p
                                : which == 1 ? G->e->m[j].g
                                : which == 2 ? (void *const *)G->e->s1[j]
                                             : (void *const *)G->e->s2[j];
            mem[q] = (T *)tens[t];
        }
        T *b = buf + G->toff[t] * V;
        const fi_dim_t cnt = G->toff[t + 1] - G->toff[t];
        if (pack) {
            for (fi_dim_t i = 0; i < cnt; i++)
                for (int q = 0; q < nl; q++) b[i * V + ls[q]] = mem[q][i];
        } else {
            for (fi_dim_t i = 0; i < cnt; i++)
                for (int q = 0; q < nl; q++) mem[q][i] = b[i * V + ls[q]];
        }
    }
}

/* The lanes' members' parameters, gradients and optimizer state back to their own buffers. */
static void LF(write_back)(const LF(group_t) *G, unsigned lanes)
{
    LF(move)(G, lanes, 0, 0);
    LF(move)(G, lanes, 1, 0);
    if (G->cls != FI_LOPT_SGD) LF(move)(G, lanes, 2, 0);
    if (G->cls >= FI_LOPT_ADAM) LF(move)(G, lanes, 3, 0);
}

/* Lane l emptied (a member that stopped): zeros keep its arithmetic finite and cheap. */
static void LF(clear_lane)(const LF(group_t) *G, int l)
{
    for (fi_dim_t e = 0; e < G->np; e++) {
        G->p[e * G->V + l] = 0;
        G->s1[e * G->V + l] = 0;
        G->s2[e * G->V + l] = 0;
    }
}

static void LF(gemm)(const LF(group_t) *G, fi_dim_t m, fi_dim_t n, fi_dim_t k, const T *a,
                     fi_dim_t a_rs, fi_dim_t a_cs, const T *b, fi_dim_t b_rs, fi_dim_t b_cs,
                     int b_bcast, T *c, fi_dim_t c_rs, fi_dim_t c_cs, const T *bias, int relu)
{
    const fi_lgemm_t g = {m, n, k, fi_lanes_kc(k, G->kc_max), a, a_rs, a_cs, b, b_rs,
                          b_cs, b_bcast, c, c_rs, c_cs, bias, 0, relu};
    G->isa->gemm(&g);
}

/* Forward, loss, backward of every lane on rows of x (lanes, or shared when bc), y likewise;
   loss[l] receives lane l's loss. fi_mlp_backprop's sequence, product for product. */
static void LF(backprop)(const LF(group_t) *G, const T *x, int bc, const void *y, fi_dim_t rows,
                         double *loss)
{
    const fi_mlp_t *m = G->m0;
    const int L = G->L, V = G->V;
    const fi_dim_t *sz = m->sizes;
    const T *in = x;
    for (int l = 0; l < L; l++) {
        const fi_dim_t fi = sz[l], fo = sz[l + 1];
        const T *W = G->p + G->toff[2 * l] * V, *b = G->p + G->toff[2 * l + 1] * V;
        const fi_act_t act = m->acts[l];
        T *zl = G->z[l], *al = G->a[l];
        /* C(o, r) = sum_i W(o, i) in(r, i) + b(o), stored at (r*fo + o): the solo's x @ W^T. */
        LF(gemm)(G, fo, rows, fi, W, fi, 1, in, 1, fi, l == 0 && bc, zl ? zl : al, 1, fo, b,
                 !zl && act == FI_ACT_RELU);
        if (zl) FI_DT(fi_act_forward)(al, zl, rows * fo * V, act, m->act_params[l]);
        else if (act != FI_ACT_RELU && act != FI_ACT_IDENTITY)
            FI_DT(fi_act_forward)(al, al, rows * fo * V, act, m->act_params[l]);
        in = al;
    }
    T *g = G->g0, *gn = G->g1;
    LF(loss)(m->loss, g, G->a[L - 1], y, bc, rows, sz[L], V, loss);
    for (int l = L - 1; l >= 0; l--) {
        const fi_dim_t fi = sz[l], fo = sz[l + 1];
        const T *inp = l ? G->a[l - 1] : x;
        const int ibc = l == 0 && bc;
        T *dW = G->g + G->toff[2 * l] * V, *db = G->g + G->toff[2 * l + 1] * V;
        if (!G->isa->colsum(g, G->a[l], rows, fo, m->acts[l], db))
            FI_DT(fi_act_backward_colsum)(g, g, G->z[l], G->a[l], rows, fo * V, m->acts[l],
                                          m->act_params[l], db);
        /* dW(o, i) = sum_r dz(r, o) in(r, i) */
        LF(gemm)(G, fo, fi, rows, g, 1, fo, inp, fi, 1, ibc, dW, fi, 1, NULL, 0);
        if (l) { /* dx(r, i) = sum_o dz(r, o) W(o, i) */
            const T *W = G->p + G->toff[2 * l] * V;
            LF(gemm)(G, rows, fi, fo, g, fo, 1, W, fi, 1, 0, gn, fi, 1, NULL, 0);
        }
        T *tmp = g;
        g = gn;
        gn = tmp;
    }
}

/* fi_optim_step for the lanes in live (bit l: lane l trains): step counts, clipping per lane,
   the per-lane constants, the vector update; opt->finite per live member. */
static void LF(optim)(const LF(group_t) *G, unsigned live)
{
    const int V = G->V;
    T hyp[FI_LH_COUNT * 16];
    memset(hyp, 0, sizeof hyp);
    for (int l = 0; l < G->r; l++) {
        if (!(live >> l & 1)) continue;
        fi_optim_t *opt = G->e->opt[G->js[l]];
        opt->step++;
        if (opt->clip_norm > 0) {
            double ss = 0.0;
            for (fi_dim_t e = 0; e < G->np; e++) ss += (double)G->g[e * V + l] * (double)G->g[e * V + l];
            const double coef = opt->clip_norm / (sqrt(ss) + 1e-6);
            if (coef < 1.0) {
                const T c = (T)coef;
                for (fi_dim_t e = 0; e < G->np; e++) G->g[e * V + l] *= c;
            }
        }
        const T lr = (T)opt->lr;
        hyp[FI_LH_LR * V + l] = -lr;
        hyp[FI_LH_WD * V + l] = (T)opt->weight_decay;
        hyp[FI_LH_MOM * V + l] = (T)opt->momentum;
        if (G->cls >= FI_LOPT_ADAM) {
            const double t = (double)opt->step;
            const double bc1 = 1.0 - pow(opt->beta1, t), bc2 = 1.0 - pow(opt->beta2, t);
            hyp[FI_LH_W1 * V + l] = (T)(1.0 - opt->beta1);
            hyp[FI_LH_B2 * V + l] = (T)opt->beta2;
            hyp[FI_LH_W2 * V + l] = (T)(1.0 - opt->beta2);
            hyp[FI_LH_STEP * V + l] = -(T)(opt->lr / bc1);
            hyp[FI_LH_BC2S * V + l] = (T)sqrt(bc2);
            hyp[FI_LH_EPS * V + l] = (T)opt->eps;
            hyp[FI_LH_SHRINK * V + l] = (T)(1.0 - opt->lr * opt->weight_decay);
        }
    }
    fi_lopt_t o = {G->np, G->p, G->g, G->s1, G->s2, G->cls, hyp, 0};
    G->isa->optim(&o);
    for (int l = 0; l < G->r; l++)
        if (live >> l & 1) G->e->opt[G->js[l]]->finite = (int)(o.ok >> l & 1);
}

fi_dim_t FI_DT(fi_lanes_run)(const fi_lanes_isa_t *isa, fi_lanes_pool_t *pool, int slot,
                             const fi_ens_t *e, const int *js, int r, const fi_lanes_sched_t *s)
{
    LF(group_t) G;
    const fi_mlp_t *m0 = &e->m[js[0]];
    const int V = isa->v, L = m0->nlayers;
    const fi_dim_t in = m0->sizes[0], out = m0->sizes[L];
    const int labels = m0->loss == FI_LOSS_SOFTMAX_XENT;
    const size_t yrow = labels ? sizeof(int64_t) : (size_t)out * sizeof(T);
    const double t_start = s->seconds ? fi_ens_now() : 0.0;
    G.isa = isa, G.e = e, G.m0 = m0, G.V = V, G.L = L, G.r = r, G.js = js;
    G.cls = fi_lanes_opt_class(e->opt[js[0]], sizeof(T));
    G.np = pool->np;
    G.toff[0] = 0;
    for (int t = 0; t < 2 * L; t++) G.toff[t + 1] = G.toff[t] + m0->count[t];
    fi_gemm_info_t gi;
    fi_gemm_get_info(&gi);
    G.kc_max = sizeof(T) == 4 ? gi.s_kc : gi.d_kc;
    char *base = fi_lanes_slot(pool, slot);
    G.p = (T *)(base + pool->o_p), G.g = (T *)(base + pool->o_g);
    G.s1 = (T *)(base + pool->o_s1), G.s2 = (T *)(base + pool->o_s2);
    G.g0 = (T *)(base + pool->o_g0), G.g1 = (T *)(base + pool->o_g1);
    G.xl = (T *)(base + pool->o_xl), G.xs = (T *)(base + pool->o_xs);
    G.yl = base + pool->o_yl, G.ys = base + pool->o_ys;
    for (int l = 0; l < L; l++) {
        G.a[l] = (T *)(base + pool->o_a[l]);
        G.z[l] = fi_act_needs_pre(m0->acts[l]) ? (T *)(base + pool->o_z[l]) : NULL;
    }
    /* Padding lanes hold zeros throughout (finite arithmetic, never written back); a full group
       has none, and the packing below writes every lane of what the optimizer uses (a call of
       one step, as Ensemble.train_step makes, spent 4% of its time clearing 3 MB). */
    const int shared = s->x_stride == 0 && s->y_stride == 0 && (!s->idx || s->idx_stride == 0);
    if (r < V) {
        const size_t pv = (size_t)G.np * (size_t)V * sizeof(T);
        memset(G.p, 0, pv);
        if (G.cls != FI_LOPT_SGD) memset(G.s1, 0, pv);
        if (G.cls >= FI_LOPT_ADAM) memset(G.s2, 0, pv);
        if (!shared) {
            memset(G.xl, 0, (size_t)pool->n * (size_t)in * (size_t)V * sizeof(T));
            memset(G.yl, 0, (size_t)pool->n * (size_t)V * yrow);
        }
    }
    unsigned live = r >= 32 ? ~0u : (1u << r) - 1;
    LF(move)(&G, live, 0, 1);
    if (G.cls != FI_LOPT_SGD) LF(move)(&G, live, 2, 1);
    if (G.cls >= FI_LOPT_ADAM) LF(move)(&G, live, 3, 1);
    for (int l = 0; l < r; l++)
        if (s->done) s->done[js[l]] = 0;
    int nlive = r;
    double t_prev = s->seconds ? fi_ens_now() : 0.0;
    if (s->seconds) /* packing, shared by all */
        for (int l = 0; l < r; l++) s->seconds[js[l]] += (t_prev - t_start) / r;
    double lossv[16];
    fi_dim_t t = 0;
    for (; t < s->nsteps && nlive > 0; t++) {
        const fi_dim_t r0 = s->off[t], rows = s->off[t + 1] - s->off[t];
        const fi_dim_t first = s->start ? s->start[t] : r0;
        const T *xin;
        const void *yin;
        if (shared) {
            if (s->idx) {
                const int64_t *ix = s->idx + r0;
                for (fi_dim_t q = 0; q < rows; q++) {
                    const T *src = (const T *)s->x + ix[q] * in;
                    for (fi_dim_t c = 0; c < in; c++) G.xs[q * in + c] = src[c];
                    memcpy(G.ys + (size_t)q * yrow, (const char *)s->y + (size_t)ix[q] * yrow, yrow);
                }
                xin = G.xs;
                yin = G.ys;
            } else {
                xin = (const T *)s->x + first * in;
                yin = (const char *)s->y + (size_t)first * yrow;
            }
        } else {
            for (int l = 0; l < r; l++) {
                if (!(live >> l & 1)) continue;
                const int j = js[l];
                const T *xj = (const T *)s->x + (fi_dim_t)j * s->x_stride;
                const char *yj = (const char *)s->y + (fi_dim_t)j * s->y_stride;
                const int64_t *ij = s->idx ? s->idx + (fi_dim_t)j * s->idx_stride + r0 : NULL;
                for (fi_dim_t q = 0; q < rows; q++) {
                    const fi_dim_t row = ij ? ij[q] : first + q;
                    const T *src = xj + row * in;
                    for (fi_dim_t c = 0; c < in; c++) G.xl[(q * in + c) * V + l] = src[c];
                    if (labels) {
                        ((int64_t *)G.yl)[q * V + l] = ((const int64_t *)yj)[row];
                    } else {
                        const T *ys = (const T *)yj + row * out;
                        for (fi_dim_t c = 0; c < out; c++) ((T *)G.yl)[(q * out + c) * V + l] = ys[c];
                    }
                }
            }
            xin = G.xl;
            yin = G.yl;
        }
        LF(backprop)(&G, xin, shared, yin, rows, lossv);
        LF(optim)(&G, live);
        const int live_before = nlive;
        unsigned ending = 0, stopped = 0;
        for (int l = 0; l < r; l++) {
            if (!(live >> l & 1)) continue;
            const int j = js[l];
            const double lv = lossv[l];
            s->loss[(fi_dim_t)j * s->nsteps + t] = lv;
            int stop = 0;
            if (s->stops) {
                if (!isfinite(lv) || !e->opt[j]->finite) stop = 1; /* diverged */
                else if (s->ceiling) { /* fit's finite blow-up rule, as fi_ens_run */
                    if (s->ceiling[j] < 0) s->ceiling[j] = s->factor * (lv > 1e-12 ? lv : 1e-12);
                    else if (lv > s->ceiling[j]) stop = 1;
                }
            }
            if (s->done) s->done[j] = t + 1;
            if (stop || t + 1 == s->nsteps) {
                ending |= 1u << l;
                stopped |= (unsigned)stop << l;
                live &= ~(1u << l);
                nlive--;
            }
        }
        if (ending) LF(write_back)(&G, ending);
        for (int l = 0; l < r; l++)
            if (stopped >> l & 1) LF(clear_lane)(&G, l);
        if (s->seconds) {
            const double now = fi_ens_now();
            for (int l = 0; l < r; l++) /* the lanes that trained this step share its time */
                if ((live >> l & 1) || (s->done && s->done[js[l]] == t + 1))
                    s->seconds[js[l]] += (now - t_prev) / live_before;
            t_prev = now;
        }
    }
    return t;
}

#undef LF
#include "fi_dtype_end.h"
