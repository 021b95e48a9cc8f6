/* GEMM kernel choice and blocking: the kernel set is the one context of fi_cpu (the set every
   family runs); this file maps it to a GEMM context whose cache blocking comes from the
   detected caches, and decides from the measured FMA rates which set runs large products. */
#include <stdio.h>
#include <string.h>

#include "fi_cpu.h"
#include "gemm/fi_gemm.h"
#include "gemm/gemm_kernels.h"

/* The contexts in use, one per kernel set: the kernel files' templates with MC and NC set from
   the caches. KC is never changed: it fixes where K is split, so it is part of the arithmetic
   (the same bits on every machine and set), not a cache choice. */
static fi_gemm_ctx_t g_rt[4];
static int g_rt_done = 0;
static char g_blocking_why[256] = "";
static char g_large_why[256] = "";
static fi_small_limit_t g_small[4][2]; /* per set: float32, float64 */

/* MC: the MC x KC block of A fills at most half of L2 (the rest holds the B micro-panel, C
   tiles and the next A block's prefetch); NC: the KC x NC block of B (shared by the threads)
   at most half of L3. Rounded down to the tile, at least one tile; defaults kept where the
   cache size is unknown. */
static void block_from_caches(fi_blocking_t *b, size_t elsize, const fi_cpu_info_t *ci)
{
    const long long panel = (long long)b->kc * (long long)elsize;
    if (ci->l2 > 0) {
        const long long mc = ci->l2 / 2 / panel / b->mr * b->mr;
        b->mc = mc < b->mr ? b->mr : mc;
    }
    if (ci->l3 > 0) {
        const long long nc = ci->l3 / 2 / panel / b->nr * b->nr;
        b->nc = nc < b->nr ? b->nr : nc;
    }
}

/* The band of m*n*k where the small path's limit is measured (fi_small_limit_t): from the
   largest cube whose three operands fit in half of L2 (64^3 where L2 is unknown) to 512^3.
   A measured limit is forgotten when the contexts are rebuilt, unless a test pinned it. */
static void small_band(fi_small_limit_t *lim, size_t elsize, const fi_cpu_info_t *ci)
{
    long long n = 64;
    if (ci->l2 > 0)
        for (n = 8; 3 * (n + 1) * (n + 1) * (long long)elsize <= ci->l2 / 2; n++) {}
    lim->lo = n * n * n;
    lim->hi = 512LL * 512 * 512;
    if (lim->pinned) return;
    lim->mnk = -1;
    lim->n_sizes = 0;
    snprintf(lim->why, sizeof lim->why,
             "not measured yet: the first one-thread product of %lld^3 to 512^3 times both paths", n);
    atomic_store(&lim->state, FI_SMALL_UNKNOWN);
}

static int g_assume_full = -1; /* fi_gemm_assume_fma512: -1 as measured */

static void build(void)
{
    const fi_cpu_info_t *ci = fi_cpu_info();
    const int full = g_assume_full >= 0 ? g_assume_full : ci->fma512_full_rate;
    const fi_gemm_ctx_t *tmpl[4] = {&fi_gemm_ctx_ref, &fi_gemm_ctx_avx2, &fi_gemm_ctx_avx512,
                                    &fi_gemm_ctx_neon};
    /* Rows of B read in place half an L1 way or more apart (L1d / ways bytes apart map to one
       set) fall in at most two sets per line offset: 2 x ways rows of a panel stay in L1 of
       the up to KC it walks. Where the geometry is unknown, 2 KiB (half a 4 KiB way). */
    const fi_dim_t ldb_limit = ci->l1d > 0 && ci->l1d_ways > 0 ? (fi_dim_t)(ci->l1d / ci->l1d_ways / 2) : 2048;
    for (int s = 0; s < 4; s++) {
        g_rt[s] = *tmpl[s];
        if (!g_rt[s].name) continue;
        block_from_caches(&g_rt[s].s, sizeof(float), ci);
        block_from_caches(&g_rt[s].d, sizeof(double), ci);
        /* Streaming path: A block in half of L2, as MC's; a packing task's B panels in a
           quarter (without a size, the template's MC x KC float32 block as half of L2). */
        const fi_dim_t l2 = ci->l2 > 0 ? ci->l2 : (fi_dim_t)(2 * tmpl[s]->s.mc * tmpl[s]->s.kc * 4);
        g_rt[s].stream_a_bytes = l2 / 2;
        g_rt[s].pack_b_bytes = l2 / 4;
        g_rt[s].small_ldb_bytes = ldb_limit;
        small_band(&g_small[s][0], sizeof(float), ci);
        small_band(&g_small[s][1], sizeof(double), ci);
        g_rt[s].s.lim = &g_small[s][0];
        g_rt[s].d.lim = &g_small[s][1];
    }
    if (ci->l2 > 0)
        snprintf(g_blocking_why, sizeof g_blocking_why,
                 "L2 %lld KiB, L3 %lld KiB (%s): MC x KC of A in half of L2, KC x NC of B in half "
                 "of L3; KC fixed (it sets the K order, so the bits)",
                 ci->l2 / 1024, ci->l3 / 1024, ci->cache_source);
    else
        snprintf(g_blocking_why, sizeof g_blocking_why, "cache sizes unknown: default blocking");
    /* AVX-512 context: products at most half its tile wide run the AVX2 set (a 32-wide tile
       spends up to two thirds of its FMAs on padding). Where 512-bit FMAs run at half rate
       they bring no more flops per cycle, only fewer instructions, which pays on the small
       path (operand reads dominate) but not on the blocked one (FMA-bound): there the AVX2 set,
       whose 6-row tile needs fewer C registers per flop, runs. Every C value is the same FMA
       chain in both sets, so this changes no bit. */
    fi_gemm_ctx_t *w = &g_rt[FI_KERNEL_AVX512];
    if (w->name) {
        w->narrow = &g_rt[FI_KERNEL_AVX2];
        w->narrow_blocked = full == 0;
        snprintf(g_large_why, sizeof g_large_why,
                 "512-bit FMAs %s (%s %.0f vs %.0f GFLOP/s at 256 bits): %s",
                 full > 0 ? "at full rate" : "at half rate",
                 g_assume_full >= 0 ? "assumed by a test; measured" : "measured", ci->fma512_gflops,
                 ci->fma256_gflops,
                 w->narrow_blocked ? "the blocked path runs the AVX2 set, the small path AVX-512"
                                   : "every product at least half a tile wide runs AVX-512");
    }
    g_rt_done = 1;
}

void fi_gemm_init(void)
{
    if (!g_rt_done) build();
}

void fi_gemm_pin_small_limit(long long mnk)
{
    for (int s = 0; s < 4; s++)
        for (int d = 0; d < 2; d++) {
            fi_small_limit_t *lim = &g_small[s][d];
            lim->pinned = mnk >= 0;
            if (mnk < 0) continue;
            lim->mnk = mnk;
            lim->n_sizes = 0;
            snprintf(lim->why, sizeof lim->why, "set by a test");
            atomic_store(&lim->state, FI_SMALL_KNOWN);
        }
    if (mnk < 0) build(); /* small_band forgets every limit */
}

void fi_gemm_assume_fma512(int full_rate)
{
    g_assume_full = full_rate < 0 ? -1 : full_rate != 0;
    build();
}

const fi_gemm_ctx_t *fi_gemm_ctx(void)
{
    if (!g_rt_done) build();
    const fi_kernel_set_t s = fi_kernel_set_for(FI_FAMILY_GEMM);
    return g_rt[s].name ? &g_rt[s] : &g_rt[FI_KERNEL_REF];
}

void fi_gemm_get_info(fi_gemm_info_t *info)
{
    const fi_gemm_ctx_t *ctx = fi_gemm_ctx();
    info->name = ctx->name;
    info->s_ukr = ctx->s.ukr_name;
    info->d_ukr = ctx->d.ukr_name;
    info->s_mr = ctx->s.mr;
    info->s_nr = ctx->s.nr;
    info->d_mr = ctx->d.mr;
    info->d_nr = ctx->d.nr;
    info->s_mc = ctx->s.mc;
    info->s_kc = ctx->s.kc;
    info->s_nc = ctx->s.nc;
    info->d_mc = ctx->d.mc;
    info->d_kc = ctx->d.kc;
    info->d_nc = ctx->d.nc;
    /* A limit being measured has its text half written by another thread: not read then. */
    const fi_small_limit_t *sl = ctx->s.lim, *dl = ctx->d.lim;
    const int s_st = atomic_load(&sl->state), d_st = atomic_load(&dl->state);
    info->s_small_mnk = s_st == FI_SMALL_KNOWN ? sl->mnk : -1;
    info->d_small_mnk = d_st == FI_SMALL_KNOWN ? dl->mnk : -1;
    info->s_small_lo = sl->lo, info->s_small_hi = sl->hi, info->d_small_lo = dl->lo, info->d_small_hi = dl->hi;
    info->s_small_why = s_st == FI_SMALL_MEASURING ? "being measured now" : sl->why;
    info->d_small_why = d_st == FI_SMALL_MEASURING ? "being measured now" : dl->why;
    info->small_ldb_bytes = ctx->small_ldb_bytes;
    info->stream_a_bytes = ctx->stream_a_bytes;
    info->pack_b_bytes = ctx->pack_b_bytes;
    const fi_gemm_ctx_t *blocked = ctx->narrow && ctx->narrow_blocked ? ctx->narrow : ctx;
    info->s_rowa_max_n = FI_GEMM_ROWA_MAX_N(blocked->s.nr);
    info->d_rowa_max_n = FI_GEMM_ROWA_MAX_N(blocked->d.nr);
    info->blocked_set = ctx->narrow && ctx->narrow_blocked ? ctx->narrow->name : ctx->name;
    info->narrow_set = ctx->narrow ? ctx->narrow->name : ctx->name;
    info->blocking_reason = g_blocking_why;
    info->large_reason = ctx->narrow ? g_large_why : "one kernel set for every product";
}

int fi_gemm_small_table(int f64, int cap, int *size, double *us_small, double *us_other)
{
    const fi_gemm_ctx_t *ctx = fi_gemm_ctx();
    const fi_small_limit_t *lim = f64 ? ctx->d.lim : ctx->s.lim;
    if (atomic_load(&lim->state) != FI_SMALL_KNOWN) return 0;
    const int n = lim->n_sizes < cap ? lim->n_sizes : cap;
    for (int i = 0; i < n; i++) size[i] = lim->size[i], us_small[i] = lim->us_small[i], us_other[i] = lim->us_other[i];
    return n;
}
