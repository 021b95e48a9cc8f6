/* The portable GEMM frame (BLIS's five loops around the micro-kernel), included by frame.c
   once per dtype with T, SUF (s|d), BLK (blocking member of the context), UKR and UKR_STRIDED
   (kernel members), UKR_T, PACK_T, ACT_FORWARD, PACK_A, PACK_B (packer members) defined.

   Loop order: jc (NC columns of C) > pc (KC of the inner dimension: B block packed once, shared
   by all threads) > tasks over (ic: MC rows of C, a range of NR panels) spread over threads,
   each packing its A block > jr (NR) > ir (MR) > micro-kernel. Every C element is computed by
   one thread with the same K order, so results do not depend on the thread count.
   Small single-threaded products skip the blocking and most packing (see small_). */
#define FI_CAT_(a, b) a##b
#define FI_CAT(a, b) FI_CAT_(a, b)
#define FN(name) FI_CAT(name, SUF)

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
        if (ep->act != FI_ACT_IDENTITY) ACT_FORWARD(row, row, nc, ep->act, ep->act_param);
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
    const UKR_T ukr = ctx->UKR_STRIDED;
    const PACK_T pack_b = ctx->PACK_B;
    const int mr = ctx->BLK.mr, nr = ctx->BLK.nr;
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

void FI_CAT(fi_, FI_CAT(SUF, gemm))(int trans_a, int trans_b, fi_dim_t m, fi_dim_t n, fi_dim_t k,
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
    if (ctx->narrow && (n <= ctx->BLK.nr / 2 || flops > 2.0 * FI_GEMM_WIDE_MAX_MNK)) ctx = ctx->narrow;
    const fi_blocking_t blk = ctx->BLK;
    const int mr = blk.mr, nr = blk.nr;
    int nt = fi_get_num_threads();
    if (flops < FI_GEMM_MIN_FLOPS_PER_THREAD * 2.0) nt = 1;
    /* Even K blocks: 784 = 2 x 392 rather than 512 + 272 (a thin last block wastes the C tile
       loads and stores of a whole pass). */
    const fi_dim_t KC = (k + (k + blk.kc - 1) / blk.kc - 1) / ((k + blk.kc - 1) / blk.kc);

    if (nt == 1 && flops <= 2.0 * (double)ctx->small_mnk) {
        /* B's rows FI_GEMM_SMALL_LDB_BYTES or more apart crowd a few L1 sets (4 KiB apart:
           all in one), which measured 2x slower than packing them. */
        const int pack_b_all = trans_b || ldb * (fi_dim_t)sizeof(T) >= FI_GEMM_SMALL_LDB_BYTES;
        const fi_dim_t b_vals = KC * (pack_b_all ? (n + nr - 1) / nr * nr : nr);
        T *buf = (T *)fi_gemm_buffer(sizeof(T) * (size_t)b_vals);
        if (buf) {
            FN(small_)(ctx, trans_a, trans_b, pack_b_all, m, n, k, KC, alpha, a, lda, b, ldb, beta,
                       c, ldc, buf, ep);
            if (FN(act_left_)(ep)) FN(epilogue_)(c, ldc, 0, 0, m, n, ep, 0);
        } else {
            FN(naive_)(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            if (ep) FN(epilogue_)(c, ldc, 0, 0, m, n, ep, 1);
        }
        return;
    }

    const UKR_T ukr = ctx->UKR, ukr_strided = ctx->UKR_STRIDED;
    const PACK_T pack_a = ctx->PACK_A, pack_b = ctx->PACK_B;
    /* Skinny products read row-major A in place: packing would cost as much as using it. */
    const int rowa = !trans_a && n <= FI_GEMM_ROWA_MAX_N;
    /* Row blocks of at most blk.mc rows, as many as a multiple of the threads and as even as
       MR allows, so the threads get equal shares (1024 rows, 2 threads: 7 x 132 + 100 rather
       than 7 x 144 + 16, which gave one thread 29% more rows than the other). */
    const fi_dim_t n_ib = ((m + blk.mc - 1) / blk.mc + nt - 1) / nt * nt, m_panels = (m + mr - 1) / mr;
    const fi_dim_t MC = (m_panels + n_ib - 1) / n_ib * mr;
    const fi_dim_t NC = FI_MIN(blk.nc, (n + nr - 1) / nr * nr);
    const fi_dim_t n_ic = (m + MC - 1) / MC;

    /* Threads never outnumber tasks. */
    const fi_dim_t max_tasks = n_ic * ((NC + nr - 1) / nr);
    if ((fi_dim_t)nt > max_tasks) nt = (int)max_tasks;
    /* Split NR panels of a row block across threads when row blocks do not divide evenly. */
    const fi_dim_t sj = (n_ic % nt == 0) ? 1 : nt;

    const size_t a_stride = (size_t)((MC * KC + 15) / 16 * 16);
    const size_t b_size = (size_t)((KC * NC + 15) / 16 * 16);
    T *buf = (T *)fi_gemm_buffer(sizeof(T) * (b_size + (size_t)nt * a_stride));
    if (!buf) {
        FN(naive_)(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        if (ep) FN(epilogue_)(c, ldc, 0, 0, m, n, ep, 1);
        return;
    }
    T *const bp = buf;

#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
#ifdef _OPENMP
        const int tid = omp_get_thread_num();
#else
        const int tid = 0;
#endif
        T *const ap = buf + b_size + (size_t)tid * a_stride;
        for (fi_dim_t jc = 0; jc < n; jc += NC) {
            const fi_dim_t nc = FI_MIN(NC, n - jc);
            const fi_dim_t n_jr = (nc + nr - 1) / nr;
            /* Panels of B per packing task: up to FI_GEMM_PACK_B_PANELS, but a task per thread. */
            const fi_dim_t pb = FI_MAX(1, FI_MIN(FI_GEMM_PACK_B_PANELS, n_jr / nt));
            for (fi_dim_t pc = 0; pc < k; pc += KC) {
                const fi_dim_t kc = FI_MIN(KC, k - pc);
                const T beta_pc = pc == 0 ? beta : (T)1;
                const int last_k = pc + kc >= k;
                /* Dynamic schedules: on a shared machine a thread that loses its core leaves its
                   work to the others instead of holding everyone at the barrier. Which thread
                   computes a tile never changes its arithmetic. */
#ifdef _OPENMP
#pragma omp for schedule(dynamic)
#endif
                for (fi_dim_t jp = 0; jp < n_jr; jp += pb) {
                    const fi_dim_t j = jc + jp * nr;
                    const T *src = trans_b ? b + j * ldb + pc : b + pc * ldb + j;
                    pack_b(bp + jp * kc * nr, src, ldb, trans_b, kc, FI_MIN(nr * pb, nc - jp * nr));
                }
                fi_dim_t packed_ic = -1;
#ifdef _OPENMP
#pragma omp for schedule(dynamic)
#endif
                for (fi_dim_t task = 0; task < n_ic * sj; task++) {
                    const fi_dim_t ib = task / sj, js = task % sj;
                    const fi_dim_t ic = ib * MC, mc = FI_MIN(MC, m - ic);
                    const fi_dim_t jp0 = js * n_jr / sj, jp1 = (js + 1) * n_jr / sj;
                    if (jp0 == jp1) continue;
                    if (!rowa && ib != packed_ic) {
                        const T *src = trans_a ? a + pc * lda + ic : a + ic * lda + pc;
                        pack_a(ap, src, lda, trans_a, mc, kc);
                        packed_ic = ib;
                    }
                    for (fi_dim_t jp = jp0; jp < jp1; jp++) {
                        const fi_dim_t nr_e = FI_MIN((fi_dim_t)nr, nc - jp * nr);
                        const T *bpan = bp + jp * kc * nr;
                        for (fi_dim_t ir = 0; ir < mc; ir += mr) {
                            const fi_dim_t mr_e = FI_MIN((fi_dim_t)mr, mc - ir);
                            T *cij = c + (ic + ir) * ldc + jc + jp * nr;
                            fi_ukr_ep_t t;
                            const fi_ukr_ep_t *tep =
                                FN(tile_ep_)(&t, ep, last_k, ic + ir, jc + jp * nr);
                            if (!rowa)
                                FN(tile_)(ukr, nr, mr_e, nr_e, kc, alpha, ap + ir * kc, 0, 0, bpan,
                                          0, beta_pc, cij, ldc, tep);
                            else
                                FN(tile_)(ukr_strided, nr, mr_e, nr_e, kc, alpha, a + (ic + ir) * lda + pc,
                                          lda, 1, bpan, nr, beta_pc, cij, ldc, tep);
                        }
                    }
                    if (last_k && FN(act_left_)(ep)) { /* while the task's block is in cache */
                        const fi_dim_t j0 = jc + jp0 * nr, j1 = FI_MIN(jc + jp1 * nr, jc + nc);
                        FN(epilogue_)(c + ic * ldc + j0, ldc, ic, j0, mc, j1 - j0, ep, 0);
                    }
                }
            }
        }
    }
}

#undef FN
#undef FI_CAT
#undef FI_CAT_
