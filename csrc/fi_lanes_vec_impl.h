/* Lane kernels template (see fi_lanes.h), included by fi_lanes_avx2.c and fi_lanes_avx512.c per
   dtype with T, VT (V lanes), LANES_ATTR, LANES_MR x LANES_NR (the register tile), LN(name)
   (this instantiation's names) and the vector operations VZERO, VLOAD, VSTORE, VSET1, VFMA
   (a*b + c, one rounding), VADD, VSUB, VMUL, VDIV, VSQRT, VRELU (t <= 0 ? 0 : t, NaN kept),
   VMASK, VMASK_ALL, VMASK_FINITE(m, p) (m and "p is finite"), VMASK_BITS defined. Every vector
   operation is the one the solo code performs on one value, in the same order. */

/* One register tile of C, rows i0.., columns j0.., over the KC block [p0, p1): accumulators
   from zero, merged into C (merge: a block after the first), then bias and relu after the
   last block (last_k). mr, nr, bc: constants after inlining. */
LANES_ATTR FI_INLINE void LN(tile)(const fi_lgemm_t *g, fi_dim_t i0, fi_dim_t j0, fi_dim_t p0,
                                   fi_dim_t p1, int merge, int last_k, const int mr, const int nr,
                                   const int bc)
{
    /* Row i of the tile at a + i*ars, column j at b + j*bcs, C(i, j) at c + i*crs + j*ccs:
       one base pointer per operand and run-time strides (scaled-index addressing, no table
       of pointers to spill). */
    const fi_dim_t ars = g->a_rs * V, acs = g->a_cs * V, crs = g->c_rs * V, ccs = g->c_cs * V;
    const fi_dim_t brs = bc ? g->b_rs : g->b_rs * V, bcs = bc ? g->b_cs : g->b_cs * V;
    const T *a = (const T *)g->a + i0 * ars + p0 * acs;
    const T *b = (const T *)g->b + j0 * bcs + p0 * brs;
    T *c = (T *)g->c + i0 * crs + j0 * ccs;
    VT acc[LANES_MR][LANES_NR];
    _Pragma("GCC unroll 8") for (int i = 0; i < mr; i++)
        _Pragma("GCC unroll 8") for (int j = 0; j < nr; j++) acc[i][j] = VZERO();
    for (fi_dim_t p = p0; p < p1; p++) {
        VT av[LANES_MR];
        _Pragma("GCC unroll 8") for (int i = 0; i < mr; i++) av[i] = VLOAD(a + i * ars);
        _Pragma("GCC unroll 8") for (int j = 0; j < nr; j++) {
            const VT bv = bc ? VSET1(b[j * bcs]) : VLOAD(b + j * bcs);
            _Pragma("GCC unroll 8") for (int i = 0; i < mr; i++) acc[i][j] = VFMA(av[i], bv, acc[i][j]);
        }
        a += acs;
        b += brs;
    }
    const T *bias = last_k ? (const T *)g->bias : NULL;
    _Pragma("GCC unroll 8") for (int i = 0; i < mr; i++)
        _Pragma("GCC unroll 8") for (int j = 0; j < nr; j++) {
            T *cp = c + i * crs + j * ccs;
            VT t = acc[i][j];
            if (merge) t = VADD(VLOAD(cp), t); /* fma(1, C, acc) of the solo kernel */
            if (bias) t = VADD(t, VLOAD(bias + (g->bias_on_j ? j0 + j : i0 + i) * V));
            if (last_k && g->relu) t = VRELU(t);
            VSTORE(cp, t);
        }
}

/* Every tile of one KC block, columns outer, with the tile shape as a constant for each edge
   case. */
LANES_ATTR FI_INLINE void LN(block)(const fi_lgemm_t *g, fi_dim_t p0, fi_dim_t p1, int merge,
                                    int last_k, const int bc)
{
    for (fi_dim_t j0 = 0; j0 < g->n; j0 += LANES_NR) {
        const int nr = (int)FI_MIN((fi_dim_t)LANES_NR, g->n - j0);
        for (fi_dim_t i0 = 0; i0 < g->m; i0 += LANES_MR) {
            const int mr = (int)FI_MIN((fi_dim_t)LANES_MR, g->m - i0);
#define LT(MR_, NR_)                                                                          \
    case (MR_) * 8 + (NR_):                                                                   \
        LN(tile)(g, i0, j0, p0, p1, merge, last_k, MR_, NR_, bc);                             \
        break;
            switch (mr * 8 + nr) {
                LANES_TILE_CASES
            default: break;
            }
#undef LT
        }
    }
}

/* The KC blocks in order, as the solo GEMM splits K (each block from zero, added to C). */
LANES_ATTR static void LN(gemm_bc)(const fi_lgemm_t *g, const int bc)
{
    for (fi_dim_t pc = 0; pc < g->k; pc += g->kc) {
        const fi_dim_t p1 = FI_MIN(pc + g->kc, g->k);
        if (bc) LN(block)(g, pc, p1, pc > 0, p1 == g->k, 1);
        else LN(block)(g, pc, p1, pc > 0, p1 == g->k, 0);
    }
}

/* Tiles cost about the same whatever their fill: where B is a lane operand too, compute C^T
   = B^T A^T if that needs fewer tiles (a product 2 rows tall fills more of a tile on its side). */
LANES_ATTR static void LN(gemm)(const fi_lgemm_t *g)
{
    const fi_dim_t tiles = ((g->m + LANES_MR - 1) / LANES_MR) * ((g->n + LANES_NR - 1) / LANES_NR);
    const fi_dim_t tiles_t = ((g->n + LANES_MR - 1) / LANES_MR) * ((g->m + LANES_NR - 1) / LANES_NR);
    if (!g->b_bcast && tiles_t < tiles) {
        fi_lgemm_t t = *g;
        t.m = g->n, t.n = g->m;
        t.a = g->b, t.a_rs = g->b_cs, t.a_cs = g->b_rs;
        t.b = g->a, t.b_rs = g->a_cs, t.b_cs = g->a_rs;
        t.c_rs = g->c_cs, t.c_cs = g->c_rs;
        t.bias_on_j = !g->bias_on_j;
        LN(gemm_bc)(&t, 0);
        return;
    }
    if (g->b_bcast) LN(gemm_bc)(g, 1);
    else LN(gemm_bc)(g, 0);
}

/* fi_optim_step's update, one vector of V members per element (the caller did clipping and
   the per-member scalars; the LR and STEP rows hold -lr and -step_size as the solo negates). */
LANES_ATTR static void LN(optim)(fi_lopt_t *o)
{
    const T *h = (const T *)o->hyp;
#define H(k) VLOAD(h + (k) * V)
    T *p = (T *)o->p, *s1 = (T *)o->s1, *s2 = (T *)o->s2;
    const T *g = (const T *)o->g;
    const VT lr_n = H(FI_LH_LR), wd = H(FI_LH_WD), mom = H(FI_LH_MOM);
    VMASK ok = VMASK_ALL;
    const fi_dim_t n = o->count * V;
    switch (o->kind) {
    case FI_LOPT_SGD:
        for (fi_dim_t i = 0; i < n; i += V) {
            const VT pv = VLOAD(p + i);
            const VT r = VADD(pv, VMUL(lr_n, VADD(VLOAD(g + i), VMUL(wd, pv))));
            VSTORE(p + i, r);
            ok = VMASK_FINITE(ok, r);
        }
        break;
    case FI_LOPT_MOMENTUM:
    case FI_LOPT_NESTEROV: {
        const int nest = o->kind == FI_LOPT_NESTEROV;
        for (fi_dim_t i = 0; i < n; i += V) {
            const VT pv = VLOAD(p + i);
            const VT gi = VADD(VLOAD(g + i), VMUL(wd, pv));
            const VT bv = VADD(VMUL(VLOAD(s1 + i), mom), gi);
            VSTORE(s1 + i, bv);
            const VT r = VADD(pv, VMUL(lr_n, nest ? VADD(gi, VMUL(mom, bv)) : bv));
            VSTORE(p + i, r);
            ok = VMASK_FINITE(ok, r);
        }
        break;
    }
    default: { /* Adam, AdamW */
        const int decoupled = o->kind == FI_LOPT_ADAMW;
        const VT w1 = H(FI_LH_W1), b2 = H(FI_LH_B2), w2 = H(FI_LH_W2);
        const VT step_n = H(FI_LH_STEP), bc2s = H(FI_LH_BC2S), eps = H(FI_LH_EPS);
        const VT shrink = H(FI_LH_SHRINK);
        for (fi_dim_t i = 0; i < n; i += V) {
            VT pv = VLOAD(p + i), gi = VLOAD(g + i);
            if (decoupled) pv = VMUL(pv, shrink);
            else gi = VADD(gi, VMUL(wd, pv));
            const VT mv = VLOAD(s1 + i);
            const VT m2 = VADD(mv, VMUL(w1, VSUB(gi, mv)));
            const VT v2 = VADD(VMUL(VLOAD(s2 + i), b2), VMUL(w2, VMUL(gi, gi)));
            VSTORE(s1 + i, m2);
            VSTORE(s2 + i, v2);
            const VT r = VADD(pv, VMUL(step_n, VDIV(m2, VADD(VDIV(VSQRT(v2), bc2s), eps))));
            VSTORE(p + i, r);
            ok = VMASK_FINITE(ok, r);
        }
        break;
    }
    }
#undef H
    o->ok = VMASK_BITS(ok);
}

/* dy * act'(.) from the output y, as fi_act_backward computes it (relu: y <= 0 ? 0 : dy). */
LANES_ATTR FI_INLINE VT LN(dact)(int act, VT d, VT y)
{
    const VT one = VSET1((T)1);
    switch (act) {
    case FI_ACT_RELU: return VSELECT_POS(y, d);
    case FI_ACT_TANH: return VMUL(d, VSUB(one, VMUL(y, y)));
    case FI_ACT_SIGMOID: return VMUL(d, VMUL(y, VSUB(one, y)));
    default: return d;
    }
}

/* nb column vectors from column c down the rows, each summed in its own register. */
LANES_ATTR FI_INLINE void LN(colsum_cols)(T *dz, const T *y, fi_dim_t rows, fi_dim_t cols, int act,
                                          T *colsum, fi_dim_t c, const int nb)
{
    VT s[8];
    for (int q = 0; q < nb; q++) s[q] = VZERO();
    for (fi_dim_t r = 0; r < rows; r++)
        _Pragma("GCC unroll 8") for (int q = 0; q < nb; q++) {
            const fi_dim_t o = (r * cols + c + q) * V;
            const VT d = LN(dact)(act, VLOAD(dz + o), act == FI_ACT_IDENTITY ? s[q] : VLOAD(y + o));
            VSTORE(dz + o, d);
            s[q] = VADD(s[q], d);
        }
    for (int q = 0; q < nb; q++) VSTORE(colsum + (c + q) * V, s[q]);
}

/* fi_act_backward_colsum in place on (rows, cols) lane vectors for identity, relu, tanh and
   sigmoid (else 0, doing nothing): the same values, each column summed in row order. */
LANES_ATTR static int LN(colsum)(void *dz_, const void *y_, fi_dim_t rows, fi_dim_t cols, int act,
                                 void *colsum_)
{
    T *dz = (T *)dz_, *colsum = (T *)colsum_;
    const T *y = (const T *)y_;
    if (act != FI_ACT_IDENTITY && act != FI_ACT_RELU && act != FI_ACT_TANH && act != FI_ACT_SIGMOID)
        return 0;
    fi_dim_t c = 0;
#define CS(ACT)                                                                                   \
    do {                                                                                          \
        for (; c + 8 <= cols; c += 8) LN(colsum_cols)(dz, y, rows, cols, ACT, colsum, c, 8);      \
        for (; c < cols; c++) LN(colsum_cols)(dz, y, rows, cols, ACT, colsum, c, 1);              \
    } while (0)
    switch (act) {
    case FI_ACT_RELU: CS(FI_ACT_RELU); break;
    case FI_ACT_TANH: CS(FI_ACT_TANH); break;
    case FI_ACT_SIGMOID: CS(FI_ACT_SIGMOID); break;
    default: CS(FI_ACT_IDENTITY); break;
    }
#undef CS
    return 1;
}
