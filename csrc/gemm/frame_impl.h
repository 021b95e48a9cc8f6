/* The portable GEMM frame (BLIS's five loops around the micro-kernel), instantiated by frame.c
   per dtype (FI_DTYPE, fi_template.h): the context members it reads are ctx->SUF (blocking) and
   FI_CTX(ukr), FI_CTX(ukr_strided), FI_CTX(pack_a), FI_CTX(pack_b).

   Loop order: jc (NC columns of C) > pc (KC of the inner dimension: B block packed once, shared
   by all threads) > tasks over (ic: MC rows of C, a range of NR panels) spread over threads,
   each packing its A block > jr (NR) > ir (MR) > micro-kernel. Every C element is computed by
   one thread with the same K order, so results do not depend on the thread count.
   Small single-threaded products skip the blocking and most packing (see small_). */
#include "fi_dtype_begin.h"
#define FN(name) FI_PASTE(name, SUF) /* this file's static names: epilogue_s, tile_d, ... */
#define UKR_T FI_PASTE3(fi_ukr_, SUF, _t)
#define PACK_T FI_PASTE3(fi_pack_, SUF, _t)

/* C[0:mc, 0:nc] = act(C + bias), the bias skipped when with_bias is 0 (the tiles added it);
   c points at C[i0][j0] of the whole matrix. */
static void FN(epilogue_)(T *c, fi_dim_t ldc, fi_dim_t i0, fi_dim_t j0, fi_dim_t mc, fi_dim_t nc,
                          const fi_epilogue_t *ep, int with_bias)
{
    const T *bias = with_bias ? (const T *)ep->bias : NULL;
    for (fi_dim_t i = 0; i < mc; i++) {
        T *row = c + i * ldc;
        if (bias && ep->bias_kind == FI_BIAS_COL) {
            for (fi_dim_t j = 0; j < nc; j++) row[j] += bias[j0 + j];
        } else if (bias && ep->bias_kind == FI_BIAS_ROW) {
            const T bi = bias[i0 + i];
            for (fi_dim_t j = 0; j < nc; j++) row[j] += bi;
        }
        if (ep->act != FI_ACT_IDENTITY) FI_DT(fi_act_forward)(row, row, nc, ep->act, ep->act_param);
    }
}

/* Whether the tiles leave only an activation to a pass over C (relu and identity they fuse). */
static int FN(act_left_)(const fi_epilogue_t *ep)
{
    return ep && ep->act != FI_ACT_IDENTITY && ep->act != FI_ACT_RELU;
}

/* The part of ep that the tile at C[i0][j0] fuses, or NULL: none, or not its last K block. */
static inline const fi_ukr_ep_t *FN(tile_ep_)(fi_ukr_ep_t *t, const fi_epilogue_t *ep, int last_k,
                                              fi_dim_t i0, fi_dim_t j0)
{
    if (!ep || !last_k) return NULL;
    const T *bias = (const T *)ep->bias;
    t->bias_kind = bias ? ep->bias_kind : FI_BIAS_NONE;
    t->bias = t->bias_kind == FI_BIAS_ROW   ? bias + i0
              : t->bias_kind == FI_BIAS_COL ? bias + j0
                                            : NULL;
    t->relu = ep->act == FI_ACT_RELU;
    return t->bias || t->relu ? t : NULL;
}

/* C = beta*C (C not read when beta == 0): the whole product when k == 0 or alpha == 0. */
static void FN(scale_)(T *c, fi_dim_t ldc, fi_dim_t m, fi_dim_t n, T beta)
{
    for (fi_dim_t i = 0; i < m; i++)
        for (fi_dim_t j = 0; j < n; j++) c[i * ldc + j] = beta == (T)0 ? (T)0 : beta * c[i * ldc + j];
}

/* Unpacked triple loop: used only if the packing buffers cannot be allocated. */
static void FN(naive_)(int ta, int tb, fi_dim_t m, fi_dim_t n, fi_dim_t k, T alpha, const T *a,
                       fi_dim_t lda, const T *b, fi_dim_t ldb, T beta, T *c, fi_dim_t ldc)
{
    for (fi_dim_t i = 0; i < m; i++)
        for (fi_dim_t j = 0; j < n; j++) {
            T acc = 0;
            for (fi_dim_t p = 0; p < k; p++)
                acc += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
            c[i * ldc + j] = beta == (T)0 ? alpha * acc : beta * c[i * ldc + j] + alpha * acc;
        }
}

/* One tile of C: mr_e (<= MR) rows go straight to C; a tile short of NR columns is computed
   whole on the stack (B is zero-padded) and its valid part copied, or merged with the same
   epilogue steps as the kernels when beta != 0 (tep: bias at this tile, see gemm_kernels.h). */
static inline void FN(tile_)(UKR_T ukr, int nr, fi_dim_t mr_e, fi_dim_t nr_e, fi_dim_t k, T alpha,
                             const T *a, fi_dim_t rs_a, fi_dim_t cs_a, const T *b, fi_dim_t rs_b,
                             T beta, T *c, fi_dim_t ldc, const fi_ukr_ep_t *tep)
{
    if (nr_e == nr) {
        ukr(k, (int)mr_e, a, rs_a, cs_a, b, rs_b, c, ldc, alpha, beta, tep);
        return;
    }
    _Alignas(64) T tile[FI_MAX_MR * FI_MAX_NR];
    if (beta == (T)0) { /* the kernel applies the epilogue, a column bias padded to NR */
        _Alignas(64) T bpad[FI_MAX_NR];
        fi_ukr_ep_t t;
        if (tep && tep->bias_kind == FI_BIAS_COL) {
            const T *bias = (const T *)tep->bias;
            for (fi_dim_t j = 0; j < nr; j++) bpad[j] = j < nr_e ? bias[j] : (T)0;
            t = *tep;
            t.bias = bpad;
            tep = &t;
        }
        ukr(k, (int)mr_e, a, rs_a, cs_a, b, rs_b, tile, nr, alpha, (T)0, tep);
        for (fi_dim_t i = 0; i < mr_e; i++)
            for (fi_dim_t j = 0; j < nr_e; j++) c[i * ldc + j] = tile[i * nr + j];
        return;
    }
    ukr(k, (int)mr_e, a, rs_a, cs_a, b, rs_b, tile, nr, alpha, (T)0, NULL);
    const T *bias = tep ? (const T *)tep->bias : NULL;
    const int relu = tep && tep->relu;
    for (fi_dim_t i = 0; i < mr_e; i++)
        for (fi_dim_t j = 0; j < nr_e; j++) {
            T v = beta * c[i * ldc + j] + tile[i * nr + j];
            if (bias) v += tep->bias_kind == FI_BIAS_ROW ? bias[i] : bias[j];
            c[i * ldc + j] = relu ? (v <= 0 ? (T)0 : v) : v;
        }
}

/* Small products (operands in cache, one thread): A read in place in either layout, B in
   place when stored row-major with close rows, else packed whole per K block (see the
   caller); otherwise only a last panel short of NR columns is packed, to zero-pad it. K is
   split into the same KC blocks as the blocked path so results stay bit-identical to it (a
   2-thread run of the same product takes the blocked path). buf: KC x n (rounded up to NR)
   values when B is packed whole, else KC*nr. */
static void FN(small_)(const fi_gemm_ctx_t *ctx, int ta, int tb, int pack_b_all, fi_dim_t m,
                       fi_dim_t n, fi_dim_t k, fi_dim_t KC, T alpha, const T *a, fi_dim_t lda,
                       const T *b, fi_dim_t ldb, T beta, T *c, fi_dim_t ldc, T *bp,
                       const fi_epilogue_t *ep)
{
    const UKR_T ukr = ctx->FI_CTX(ukr_strided);
    const PACK_T pack_b = ctx->FI_CTX(pack_b);
    const int mr = ctx->SUF.mr, nr = ctx->SUF.nr;
    const fi_dim_t rs_a = ta ? 1 : lda, cs_a = ta ? lda : 1;
    for (fi_dim_t pc = 0; pc < k; pc += KC) {
        const fi_dim_t kc = FI_MIN(KC, k - pc);
        const T beta_pc = pc == 0 ? beta : (T)1;
        const int last_k = pc + kc >= k;
        const T *a_pc = a + pc * cs_a, *b_pc = tb ? b + pc : b + pc * ldb;
        if (pack_b_all) pack_b(bp, b_pc, ldb, tb, kc, n);
        for (fi_dim_t j = 0; j < n; j += nr) {
            const fi_dim_t nr_e = FI_MIN((fi_dim_t)nr, n - j);
            const T *bpan = b_pc + j;
            fi_dim_t rs_b = ldb;
            if (pack_b_all || nr_e < nr) {
                if (!pack_b_all) pack_b(bp, bpan, ldb, 0, kc, nr_e);
                bpan = pack_b_all ? bp + j * kc : bp;
                rs_b = nr;
            }
            for (fi_dim_t i = 0; i < m; i += mr) {
                fi_ukr_ep_t t;
                FN(tile_)(ukr, nr, FI_MIN((fi_dim_t)mr, m - i), nr_e, kc, alpha, a_pc + i * rs_a,
                          rs_a, cs_a, bpan, rs_b, beta_pc, c + i * ldc + j, ldc,
                          FN(tile_ep_)(&t, ep, last_k, i, j));
            }
        }
    }
}

/* ---- the blocked path: one function per loop level, as BLIS's bli_gemm_blk_var* -------------
   gemm_ (entry: small path or blocked) > loop_jc_ (NC columns of C) > loop_pc_ (KC of the inner
   dimension: B block packed once by pack_b_task_s, shared) > ic_task_ (one MC row block, a range
   of its NR panels: packs its A block) > macro_ (JR over NR panels, IR over MR rows) > tile_. */

/* The state one blocked product shares across its loop levels and tasks. */
typedef struct FN(blocked_) {
    const fi_gemm_ctx_t *ctx;
    int ta, tb, rowa, nt;
    fi_dim_t m, n, k, lda, ldb, ldc;
    T alpha, beta;
    const T *a, *b;
    T *c;
    const fi_epilogue_t *ep;
    fi_dim_t MC, KC, NC, n_ic, sj; /* blocking, row blocks, panel splits per row block */
    T *bp, *ap;                    /* packed B block; packed A blocks, a_stride apart per worker */
    size_t a_stride;
    /* the current (jc, pc) block */
    fi_dim_t jc, nc, n_jr, pb, pc, kc;
    T beta_pc;
    int last_k;
    fi_dim_t packed_ic[FI_GEMM_MAX_THREADS]; /* row block whose A each worker holds packed */
} FN(blocked_t);

/* JR and IR: the tiles of C[ic:ic+mc, panels jp0..jp1) of the current (jc, pc) block, from the
   packed A block ap (or A in place when s->rowa) and the packed B panels. */
static void FN(macro_)(const FN(blocked_t) *s, const T *ap, fi_dim_t ic, fi_dim_t mc, fi_dim_t jp0,
                       fi_dim_t jp1)
{
    const fi_blocking_t *blk = &s->ctx->SUF;
    const int mr = blk->mr, nr = blk->nr;
    const fi_dim_t kc = s->kc;
    for (fi_dim_t jp = jp0; jp < jp1; jp++) {
        const fi_dim_t nr_e = FI_MIN((fi_dim_t)nr, s->nc - jp * nr);
        const T *bpan = s->bp + jp * kc * nr;
        for (fi_dim_t ir = 0; ir < mc; ir += mr) {
            const fi_dim_t mr_e = FI_MIN((fi_dim_t)mr, mc - ir);
            T *cij = s->c + (ic + ir) * s->ldc + s->jc + jp * nr;
            fi_ukr_ep_t t;
            const fi_ukr_ep_t *tep = FN(tile_ep_)(&t, s->ep, s->last_k, ic + ir, s->jc + jp * nr);
            if (!s->rowa)
                FN(tile_)(s->ctx->FI_CTX(ukr), nr, mr_e, nr_e, kc, s->alpha, ap + ir * kc, 0, 0, bpan, 0,
                          s->beta_pc, cij, s->ldc, tep);
            else
                FN(tile_)(s->ctx->FI_CTX(ukr_strided), nr, mr_e, nr_e, kc, s->alpha,
                          s->a + (ic + ir) * s->lda + s->pc, s->lda, 1, bpan, nr, s->beta_pc, cij,
                          s->ldc, tep);
        }
    }
}

/* IC task: row block ib, its panel share js of sj. Packs the A block unless this worker holds
   it already (its previous task was the same row block), then the macro-kernel, then (on the
   last K block) the activation left to a pass over C while the block is in cache. */
static void FN(ic_task_)(void *arg, long task, int worker)
{
    FN(blocked_t) *s = (FN(blocked_t) *)arg;
    const int nr = s->ctx->SUF.nr;
    const fi_dim_t ib = task / s->sj, js = task % s->sj;
    const fi_dim_t ic = ib * s->MC, mc = FI_MIN(s->MC, s->m - ic);
    const fi_dim_t jp0 = js * s->n_jr / s->sj, jp1 = (js + 1) * s->n_jr / s->sj;
    if (jp0 == jp1) return;
    T *ap = s->ap + (size_t)worker * s->a_stride;
    if (!s->rowa && s->packed_ic[worker] != ib) {
        const T *src = s->ta ? s->a + s->pc * s->lda + ic : s->a + ic * s->lda + s->pc;
        s->ctx->FI_CTX(pack_a)(ap, src, s->lda, s->ta, mc, s->kc);
        s->packed_ic[worker] = ib;
    }
    FN(macro_)(s, ap, ic, mc, jp0, jp1);
    if (s->last_k && FN(act_left_)(s->ep)) {
        const fi_dim_t j0 = s->jc + jp0 * nr, j1 = FI_MIN(s->jc + jp1 * nr, s->jc + s->nc);
        FN(epilogue_)(s->c + ic * s->ldc + j0, s->ldc, ic, j0, mc, j1 - j0, s->ep, 0);
    }
}

/* Packing task: pb NR panels of the current B block. */
static void FN(pack_b_task_)(void *arg, long task, int worker)
{
    (void)worker;
    const FN(blocked_t) *s = (const FN(blocked_t) *)arg;
    const int nr = s->ctx->SUF.nr;
    const fi_dim_t jp = (fi_dim_t)task * s->pb, j = s->jc + jp * nr;
    const T *src = s->tb ? s->b + j * s->ldb + s->pc : s->b + s->pc * s->ldb + j;
    s->ctx->FI_CTX(pack_b)(s->bp + jp * s->kc * nr, src, s->ldb, s->tb, s->kc,
                   FI_MIN(nr * s->pb, s->nc - jp * nr));
}

/* PC: the KC blocks of the inner dimension for the current NC columns, in order (each adds to
   C what the ones before left): pack the B block across the threads, then the IC tasks. */
static void FN(loop_pc_)(FN(blocked_t) *s)
{
    for (fi_dim_t pc = 0; pc < s->k; pc += s->KC) {
        s->pc = pc;
        s->kc = FI_MIN(s->KC, s->k - pc);
        s->beta_pc = pc == 0 ? s->beta : (T)1;
        s->last_k = pc + s->kc >= s->k;
        fi_pool_run(s->nt, (long)((s->n_jr + s->pb - 1) / s->pb), FN(pack_b_task_), s);
        for (int w = 0; w < s->nt; w++) s->packed_ic[w] = -1;
        fi_pool_run(s->nt, (long)(s->n_ic * s->sj), FN(ic_task_), s);
    }
}

/* JC: NC columns of C at a time. */
static void FN(loop_jc_)(FN(blocked_t) *s)
{
    const int nr = s->ctx->SUF.nr;
    for (fi_dim_t jc = 0; jc < s->n; jc += s->NC) {
        s->jc = jc;
        s->nc = FI_MIN(s->NC, s->n - jc);
        s->n_jr = (s->nc + nr - 1) / nr;
        /* Panels of B per packing task: as many as ctx->pack_b_bytes holds (each row of B is
           read in runs of pb*NR values: a packer walks full panels row by row), but a task
           per thread. */
        const fi_dim_t fit = s->ctx->pack_b_bytes / ((fi_dim_t)sizeof(T) * s->KC * nr);
        s->pb = FI_MAX(1, FI_MIN(fit, s->n_jr / s->nt));
        FN(loop_pc_)(s);
    }
}

/* ---- the streaming path: all of M in one A block ---------------------------------------------
   When op(A)'s rows for one K block fit the A block's share of L2 (an L-net layer: batch 256),
   the blocked path would pack a KC x NC block of B that each B value serves once, written to
   L3 and read back. Here each worker packs the whole A block (m x kc, m*kc values: small beside
   the product), then, task by task, a few NR panels of B into a buffer that stays in L2, and
   runs them against every row at once. Each operand is packed once per K block, B never leaves
   L2 between its packing and its use, and there is one pool run per K block, not two. The K
   blocks still run in order for every C value: the same arithmetic as the blocked path. */

typedef struct FN(stream_) {
    const fi_gemm_ctx_t *ctx;
    int ta, tb;
    fi_dim_t m, n, k, lda, ldb, ldc;
    T alpha, beta;
    const T *a, *b;
    T *c;
    const fi_epilogue_t *ep;
    fi_dim_t n_jr, pb; /* NR panels of C, panels per task */
    T *buf;            /* per worker: packed A block, then pb packed B panels */
    size_t w_stride, a_vals;
    fi_dim_t pc, kc; /* the current K block */
    T beta_pc;
    int last_k;
    fi_dim_t packed_pc[FI_GEMM_MAX_THREADS]; /* K block whose A each worker holds packed */
} FN(stream_t);

static void FN(stream_task_)(void *arg, long task, int worker)
{
    FN(stream_t) *s = (FN(stream_t) *)arg;
    const int mr = s->ctx->SUF.mr, nr = s->ctx->SUF.nr;
    const fi_dim_t kc = s->kc;
    T *ap = s->buf + (size_t)worker * s->w_stride, *bp = ap + s->a_vals;
    if (s->packed_pc[worker] != s->pc) {
        const T *src = s->ta ? s->a + s->pc * s->lda : s->a + s->pc;
        s->ctx->FI_CTX(pack_a)(ap, src, s->lda, s->ta, s->m, kc);
        s->packed_pc[worker] = s->pc;
    }
    const fi_dim_t jp0 = (fi_dim_t)task * s->pb, jp1 = FI_MIN(s->n_jr, jp0 + s->pb);
    const fi_dim_t j0 = jp0 * nr, j1 = FI_MIN(jp1 * nr, s->n);
    const T *src = s->tb ? s->b + j0 * s->ldb + s->pc : s->b + s->pc * s->ldb + j0;
    s->ctx->FI_CTX(pack_b)(bp, src, s->ldb, s->tb, kc, j1 - j0);
    for (fi_dim_t jp = jp0; jp < jp1; jp++) {
        const fi_dim_t j = jp * nr, nr_e = FI_MIN((fi_dim_t)nr, s->n - j);
        const T *bpan = bp + (jp - jp0) * kc * nr;
        for (fi_dim_t ir = 0; ir < s->m; ir += mr) {
            fi_ukr_ep_t t;
            FN(tile_)(s->ctx->FI_CTX(ukr), nr, FI_MIN((fi_dim_t)mr, s->m - ir), nr_e, kc, s->alpha,
                      ap + ir * kc, 0, 0, bpan, 0, s->beta_pc, s->c + ir * s->ldc + j, s->ldc,
                      FN(tile_ep_)(&t, s->ep, s->last_k, ir, j));
        }
    }
    if (s->last_k && FN(act_left_)(s->ep))
        FN(epilogue_)(s->c + j0, s->ldc, 0, j0, s->m, j1 - j0, s->ep, 0);
}

/* The streaming path on nt threads; 0, or -1 if the buffers cannot be allocated. */
static int FN(stream_)(const fi_gemm_ctx_t *ctx, int nt, int ta, int tb, fi_dim_t m, fi_dim_t n,
                       fi_dim_t k, fi_dim_t KC, T alpha, const T *a, fi_dim_t lda, const T *b,
                       fi_dim_t ldb, T beta, T *c, fi_dim_t ldc, const fi_epilogue_t *ep)
{
    const fi_blocking_t blk = ctx->SUF;
    const int mr = blk.mr, nr = blk.nr;
    FN(stream_t) s;
    s.ctx = ctx, s.ta = ta, s.tb = tb, s.m = m, s.n = n, s.k = k, s.lda = lda, s.ldb = ldb;
    s.ldc = ldc, s.alpha = alpha, s.beta = beta, s.a = a, s.b = b, s.c = c, s.ep = ep;
    s.n_jr = (n + nr - 1) / nr;
    /* Panels per task: as many as ctx->pack_b_bytes holds (rows of B read in runs of pb*NR
       values), but at least 4 tasks per thread so a late thread costs little. */
    const fi_dim_t fit = ctx->pack_b_bytes / ((fi_dim_t)sizeof(T) * KC * nr);
    s.pb = FI_MAX(1, FI_MIN(fit, s.n_jr / (4 * nt)));
    const long ntasks = (long)((s.n_jr + s.pb - 1) / s.pb);
    if (nt > ntasks) nt = (int)ntasks;
    s.a_vals = (size_t)((m + mr - 1) / mr * mr * KC + 15) / 16 * 16;
    s.w_stride = s.a_vals + (size_t)(s.pb * nr * KC + 15) / 16 * 16;
    s.buf = (T *)fi_gemm_buffer(sizeof(T) * s.w_stride * (size_t)nt);
    if (!s.buf) return -1;
    for (int w = 0; w < nt; w++) s.packed_pc[w] = -1;
    for (fi_dim_t pc = 0; pc < k; pc += KC) {
        s.pc = pc;
        s.kc = FI_MIN(KC, k - pc);
        s.beta_pc = pc == 0 ? beta : (T)1;
        s.last_k = pc + s.kc >= k;
        fi_pool_run(nt, ntasks, FN(stream_task_), &s);
    }
    return 0;
}

/* The blocked path on nt threads: blocking for this product, buffers, then the loops. Returns
   0, or -1 if the buffers cannot be allocated (the caller falls back). */
static int FN(blocked_)(const fi_gemm_ctx_t *ctx, int nt, int ta, int tb, fi_dim_t m, fi_dim_t n,
                        fi_dim_t k, fi_dim_t KC, T alpha, const T *a, fi_dim_t lda, const T *b,
                        fi_dim_t ldb, T beta, T *c, fi_dim_t ldc, const fi_epilogue_t *ep)
{
    const fi_blocking_t blk = ctx->SUF;
    const int mr = blk.mr, nr = blk.nr;
    FN(blocked_t) s;
    s.ctx = ctx, s.ta = ta, s.tb = tb, s.m = m, s.n = n, s.k = k, s.lda = lda, s.ldb = ldb;
    s.ldc = ldc, s.alpha = alpha, s.beta = beta, s.a = a, s.b = b, s.c = c, s.ep = ep, s.KC = KC;
    /* Skinny products read row-major A in place: packing would cost as much as using it. */
    s.rowa = !ta && n <= FI_GEMM_ROWA_MAX_N(nr);
    /* Row blocks of at most blk.mc rows, as many as a multiple of the threads and as even as
       MR allows, so the threads get equal shares (1024 rows, 2 threads: 7 x 132 + 100 rather
       than 7 x 144 + 16, which gave one thread 29% more rows than the other). */
    const fi_dim_t n_ib = ((m + blk.mc - 1) / blk.mc + nt - 1) / nt * nt, m_panels = (m + mr - 1) / mr;
    s.MC = (m_panels + n_ib - 1) / n_ib * mr;
    s.NC = FI_MIN(blk.nc, (n + nr - 1) / nr * nr);
    s.n_ic = (m + s.MC - 1) / s.MC;
    /* Threads never outnumber tasks. */
    const fi_dim_t max_tasks = s.n_ic * ((s.NC + nr - 1) / nr);
    if ((fi_dim_t)nt > max_tasks) nt = (int)max_tasks;
    s.nt = nt;
    /* Split NR panels of a row block across threads when row blocks do not divide evenly. */
    s.sj = (s.n_ic % nt == 0) ? 1 : nt;
    s.a_stride = (size_t)((s.MC * KC + 15) / 16 * 16);
    const size_t b_size = (size_t)((KC * s.NC + 15) / 16 * 16);
    T *buf = (T *)fi_gemm_buffer(sizeof(T) * (b_size + (size_t)nt * s.a_stride));
    if (!buf) return -1;
    s.bp = buf;
    s.ap = buf + b_size;
    FN(loop_jc_)(&s);
    return 0;
}

/* One product on the small path (small) or, if not, on the streaming or blocked path, with the
   set this context gives large products; -1 without memory for the packing buffers. */
static int FN(run_)(const fi_gemm_ctx_t *ctx, int nt, int small, int ta, int tb, fi_dim_t m,
                    fi_dim_t n, fi_dim_t k, T alpha, const T *a, fi_dim_t lda, const T *b,
                    fi_dim_t ldb, T beta, T *c, fi_dim_t ldc, const fi_epilogue_t *ep)
{
    if (!small && ctx->narrow && ctx->narrow_blocked) ctx = ctx->narrow;
    const fi_dim_t kc_max = ctx->SUF.kc;
    /* Even K blocks: 784 = 2 x 392 rather than 512 + 272 (a thin last block wastes the C tile
       loads and stores of a whole pass). */
    const fi_dim_t KC = (k + (k + kc_max - 1) / kc_max - 1) / ((k + kc_max - 1) / kc_max);
    if (small) {
        const int nr = ctx->SUF.nr;
        /* B's rows ctx->small_ldb_bytes or more apart crowd a few L1 sets, which measured 2x
           slower than packing them. */
        const int pack_b_all = tb || ldb * (fi_dim_t)sizeof(T) >= ctx->small_ldb_bytes;
        const fi_dim_t b_vals = KC * (pack_b_all ? (n + nr - 1) / nr * nr : nr);
        T *buf = (T *)fi_gemm_buffer(sizeof(T) * (size_t)b_vals);
        if (!buf) return -1;
        FN(small_)(ctx, ta, tb, pack_b_all, m, n, k, KC, alpha, a, lda, b, ldb, beta, c, ldc, buf, ep);
        if (FN(act_left_)(ep)) FN(epilogue_)(c, ldc, 0, 0, m, n, ep, 0);
        return 0;
    }
    return n > FI_GEMM_ROWA_MAX_N(ctx->SUF.nr) && (fi_dim_t)sizeof(T) * m * KC <= ctx->stream_a_bytes
               ? FN(stream_)(ctx, nt, ta, tb, m, n, k, KC, alpha, a, lda, b, ldb, beta, c, ldc, ep)
               : FN(blocked_)(ctx, nt, ta, tb, m, n, k, KC, alpha, a, lda, b, ldb, beta, c, ldc, ep);
}

/* Best of three runs of an n^3 product on each path, alternating, after one untimed run of
   each (caches and packing buffers as a training step finds them), in thread CPU microseconds
   (time the machine gives other work is not counted). */
static void FN(time_paths_)(const fi_gemm_ctx_t *ctx, fi_dim_t n, const T *a, const T *b, T *c,
                            double *us_small, double *us_other)
{
    *us_small = *us_other = 1e300;
    for (int rep = 0; rep < 4; rep++)
        for (int small = 1; small >= 0; small--) {
            const double t0 = fi_thread_seconds();
            FN(run_)(ctx, 1, small, 0, 0, n, n, n, (T)1, a, n, b, n, (T)0, c, n, NULL);
            const double us = 1e6 * (fi_thread_seconds() - t0);
            double *best = small ? us_small : us_other;
            if (rep > 0 && us < *best) *best = us;
        }
}

/* Measures lim (fi_small_limit_t): cubes from lo up by half octaves while at most hi, until
   the small path loses at two sizes in a row; the limit is the geometric middle between the
   last size it won and the next one (lo if it never won, hi if it never lost). */
static void FN(measure_small_)(const fi_gemm_ctx_t *ctx, fi_small_limit_t *lim)
{
    const double n_lo = cbrt((double)lim->lo), n_hi = cbrt((double)lim->hi);
    const size_t n_max = (size_t)n_hi + 1, stride = (n_max * n_max + 15) / 16 * 16; /* 64-byte aligned */
    void *raw = malloc(3 * stride * sizeof(T) + 64);
    T *buf = (T *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    lim->mnk = lim->lo;
    lim->n_sizes = 0;
    if (!raw) {
        snprintf(lim->why, sizeof lim->why, "no memory to measure: the small path up to %lld", lim->lo);
        return;
    }
    for (size_t i = 0; i < 3 * stride; i++) buf[i] = (T)((double)(i % 61) / 30.0 - 1.0);
    int last_win = -1, losses = 0;
    for (int i = 0; i < FI_SMALL_SIZES && losses < 2; i++) {
        const fi_dim_t n = (fi_dim_t)(n_lo * pow(2.0, i / 2.0) + 0.5);
        if ((double)n > n_hi) break;
        lim->size[i] = (int)n;
        FN(time_paths_)(ctx, n, buf, buf + stride, buf + 2 * stride, &lim->us_small[i],
                        &lim->us_other[i]);
        lim->n_sizes = i + 1;
        if (lim->us_small[i] <= lim->us_other[i]) last_win = i, losses = 0;
        else losses++;
    }
    free(raw);
    const int nw = lim->n_sizes;
    if (last_win < 0) {
        snprintf(lim->why, sizeof lim->why, "measured: the packed paths faster from %d^3 (%.0f vs %.0f us)",
                 lim->size[0], lim->us_other[0], lim->us_small[0]);
    } else if (last_win == nw - 1) {
        lim->mnk = lim->hi;
        snprintf(lim->why, sizeof lim->why, "measured: the small path faster up to %d^3 (%.0f vs %.0f us)",
                 lim->size[last_win], lim->us_small[last_win], lim->us_other[last_win]);
    } else {
        const double a3 = pow((double)lim->size[last_win], 3), b3 = pow((double)lim->size[last_win + 1], 3);
        lim->mnk = (long long)sqrt(a3 * b3);
        snprintf(lim->why, sizeof lim->why,
                 "measured: the small path faster at %d^3 (%.0f vs %.0f us), slower at %d^3 (%.0f vs "
                 "%.0f us); limit between",
                 lim->size[last_win], lim->us_small[last_win], lim->us_other[last_win],
                 lim->size[last_win + 1], lim->us_small[last_win + 1], lim->us_other[last_win + 1]);
    }
}

/* The limit of ctx's set for this dtype, measured by the first caller; while another thread
   measures, wait (wait) or return lo (no product in the band takes the small path meanwhile). */
static long long FN(small_limit_)(const fi_gemm_ctx_t *ctx, int wait)
{
    fi_small_limit_t *lim = ctx->SUF.lim;
    int st = atomic_load_explicit(&lim->state, memory_order_acquire);
    if (st == FI_SMALL_UNKNOWN &&
        atomic_compare_exchange_strong(&lim->state, &st, FI_SMALL_MEASURING)) {
        FN(measure_small_)(ctx, lim);
        atomic_store_explicit(&lim->state, FI_SMALL_KNOWN, memory_order_release);
        return lim->mnk;
    }
    while (wait && atomic_load_explicit(&lim->state, memory_order_acquire) != FI_SMALL_KNOWN) sched_yield();
    return atomic_load_explicit(&lim->state, memory_order_acquire) == FI_SMALL_KNOWN ? lim->mnk : lim->lo;
}

void FI_GEMM(int trans_a, int trans_b, fi_dim_t m, fi_dim_t n, fi_dim_t k,
                                    T alpha, const T *a, fi_dim_t lda, const T *b, fi_dim_t ldb,
                                    T beta, T *c, fi_dim_t ldc, const fi_epilogue_t *ep)
{
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == (T)0) {
        FN(scale_)(c, ldc, m, n, beta);
        if (ep) FN(epilogue_)(c, ldc, 0, 0, m, n, ep, 1);
        return;
    }
    const fi_gemm_ctx_t *ctx = fi_gemm_ctx();
    const double flops = 2.0 * (double)m * (double)n * (double)k;
    int nt = FI_MIN(fi_get_num_threads(), FI_GEMM_MAX_THREADS);
    /* below the threshold the region costs more than it saves, except for a due probe */
    if (nt > 1 && flops < fi_parallel_min_flops(nt) && !fi_pool_probe_due()) nt = 1;
    if (ctx->narrow && n <= ctx->SUF.nr / 2) ctx = ctx->narrow;
    const double mnk = flops / 2;
    const fi_small_limit_t *lim = ctx->SUF.lim;
    const int small = nt == 1 && (mnk <= (double)lim->lo ||
                                  (mnk <= (double)lim->hi && mnk <= (double)FN(small_limit_)(ctx, 0)));
    if (FN(run_)(ctx, nt, small, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep) == 0)
        return;
    /* no memory for the packing buffers */
    FN(naive_)(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    if (ep) FN(epilogue_)(c, ldc, 0, 0, m, n, ep, 1);
}

#undef FN
#undef UKR_T
#undef PACK_T
#include "fi_dtype_end.h"
