/* The portable GEMM frame (BLIS's five loops around the micro-kernel), included by frame.c
   once per dtype with T, SUF (s|d), BLK (blocking member of the context), UKR and UKR_ROWA
   (kernel members), UKR_T, ACT_FORWARD, PACK_A, PACK_B defined.

   Loop order: jc (NC columns of C) > pc (KC of the inner dimension: B block packed once, shared
   by all threads) > tasks over (ic: MC rows of C, a range of NR panels) spread over threads,
   each packing its A block > jr (NR) > ir (MR) > micro-kernel. Every C element is computed by
   one thread with the same K order, so results do not depend on the thread count. */
#define FI_CAT_(a, b) a##b
#define FI_CAT(a, b) FI_CAT_(a, b)
#define FN(name) FI_CAT(name, SUF)

/* C[0:mc, 0:nc] = act(C + bias); c points at C[i0][j0] of the whole matrix. */
static void FN(epilogue_)(T *c, fi_dim_t ldc, fi_dim_t i0, fi_dim_t j0, fi_dim_t mc, fi_dim_t nc,
                          const fi_epilogue_t *ep)
{
    const T *bias = (const T *)ep->bias;
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

void FI_CAT(fi_, FI_CAT(SUF, gemm))(int trans_a, int trans_b, fi_dim_t m, fi_dim_t n, fi_dim_t k,
                                    T alpha, const T *a, fi_dim_t lda, const T *b, fi_dim_t ldb,
                                    T beta, T *c, fi_dim_t ldc, const fi_epilogue_t *ep)
{
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == (T)0) {
        FN(scale_)(c, ldc, m, n, beta);
        if (ep) FN(epilogue_)(c, ldc, 0, 0, m, n, ep);
        return;
    }
    const fi_gemm_ctx_t *ctx = fi_gemm_ctx();
    const fi_blocking_t blk = ctx->BLK;
    const UKR_T ukr = ctx->UKR, ukr_rowa = ctx->UKR_ROWA;
    /* Skinny products read row-major A in place: packing would cost as much as using it. */
    const int rowa = !trans_a && n <= FI_GEMM_ROWA_MAX_N;
    const int mr = blk.mr, nr = blk.nr;
    const fi_dim_t MC = FI_MIN(blk.mc, (m + mr - 1) / mr * mr);
    const fi_dim_t NC = FI_MIN(blk.nc, (n + nr - 1) / nr * nr);
    /* Even K blocks: 784 = 4 x 196 rather than 3 x 256 + 16 (a thin last block wastes the
       C tile loads and stores of a whole pass). */
    const fi_dim_t KC = (k + (k + blk.kc - 1) / blk.kc - 1) / ((k + blk.kc - 1) / blk.kc);
    const fi_dim_t n_ic = (m + MC - 1) / MC;

    /* Threads only where the work pays for waking them, never more than there are tasks. */
    int nt = fi_get_num_threads();
    const double flops = 2.0 * (double)m * (double)n * (double)k;
    if (flops < FI_GEMM_MIN_FLOPS_PER_THREAD * 2.0) nt = 1;
    const fi_dim_t max_tasks = n_ic * ((NC + nr - 1) / nr);
    if ((fi_dim_t)nt > max_tasks) nt = (int)max_tasks;
    /* Split NR panels of a row block across threads when row blocks do not divide evenly. */
    const fi_dim_t sj = (n_ic % nt == 0) ? 1 : nt;

    const size_t a_stride = (size_t)((MC * KC + 15) / 16 * 16);
    const size_t b_size = (size_t)((KC * NC + 15) / 16 * 16);
    T *buf = (T *)fi_gemm_buffer(sizeof(T) * (b_size + (size_t)nt * a_stride));
    if (!buf) {
        FN(naive_)(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        if (ep) FN(epilogue_)(c, ldc, 0, 0, m, n, ep);
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
        _Alignas(64) T tile[FI_MAX_MR * FI_MAX_NR];
        for (fi_dim_t jc = 0; jc < n; jc += NC) {
            const fi_dim_t nc = FI_MIN(NC, n - jc);
            const fi_dim_t n_jr = (nc + nr - 1) / nr;
            for (fi_dim_t pc = 0; pc < k; pc += KC) {
                const fi_dim_t kc = FI_MIN(KC, k - pc);
                const T beta_pc = pc == 0 ? beta : (T)1;
                const int last_k = pc + kc >= k;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
                for (fi_dim_t jp = 0; jp < n_jr; jp++) {
                    const fi_dim_t j = jc + jp * nr;
                    const T *src = trans_b ? b + j * ldb + pc : b + pc * ldb + j;
                    PACK_B(bp + jp * kc * nr, src, ldb, trans_b, kc, FI_MIN((fi_dim_t)nr, nc - jp * nr), nr);
                }
                fi_dim_t packed_ic = -1;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
                for (fi_dim_t task = 0; task < n_ic * sj; task++) {
                    const fi_dim_t ib = task / sj, js = task % sj;
                    const fi_dim_t ic = ib * MC, mc = FI_MIN(MC, m - ic);
                    const fi_dim_t jp0 = js * n_jr / sj, jp1 = (js + 1) * n_jr / sj;
                    if (jp0 == jp1) continue;
                    if (!rowa && ib != packed_ic) {
                        const T *src = trans_a ? a + pc * lda + ic : a + ic * lda + pc;
                        PACK_A(ap, src, lda, trans_a, mc, kc, mr);
                        packed_ic = ib;
                    }
                    for (fi_dim_t jp = jp0; jp < jp1; jp++) {
                        const fi_dim_t nr_e = FI_MIN((fi_dim_t)nr, nc - jp * nr);
                        const T *bpan = bp + jp * kc * nr;
                        for (fi_dim_t ir = 0; ir < mc; ir += mr) {
                            const fi_dim_t mr_e = FI_MIN((fi_dim_t)mr, mc - ir);
                            T *cij = c + (ic + ir) * ldc + jc + jp * nr;
                            const T *arow = a + (ic + ir) * lda + pc;
                            const T *apan = ap + ir * kc;
                            if (rowa && mr_e < mr) {
                                PACK_A(ap, arow, lda, 0, mr_e, kc, mr); /* last rows: pad them */
                                apan = ap;
                            }
                            const int in_place = rowa && mr_e == mr;
                            if (mr_e == mr && nr_e == nr) {
                                if (in_place)
                                    ukr_rowa(kc, arow, lda, bpan, cij, ldc, alpha, beta_pc);
                                else
                                    ukr(kc, apan, 0, bpan, cij, ldc, alpha, beta_pc);
                            } else {
                                /* Edge tile: compute in full on the stack, merge what fits. */
                                if (in_place)
                                    ukr_rowa(kc, arow, lda, bpan, tile, nr, alpha, (T)0);
                                else
                                    ukr(kc, apan, 0, bpan, tile, nr, alpha, (T)0);
                                for (fi_dim_t i = 0; i < mr_e; i++)
                                    for (fi_dim_t j = 0; j < nr_e; j++)
                                        cij[i * ldc + j] = beta_pc == (T)0
                                                               ? tile[i * nr + j]
                                                               : beta_pc * cij[i * ldc + j] + tile[i * nr + j];
                            }
                        }
                    }
                    if (last_k && ep) {
                        const fi_dim_t j0 = jc + jp0 * nr, j1 = FI_MIN(jc + jp1 * nr, jc + nc);
                        FN(epilogue_)(c + ic * ldc + j0, ldc, ic, j0, mc, j1 - j0, ep);
                    }
                }
            }
        }
    }
}

#undef FN
#undef FI_CAT
#undef FI_CAT_
