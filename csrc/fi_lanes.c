/* Lane engine driver (see fi_lanes.h): the kernel table for the set in use, the workspace pool,
   then one template (fi_lanes_impl.h) for two dtypes. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fi_act.h"
#include "fi_cpu.h"
#include "fi_lanes.h"
#include "fi_loss.h"
#include "gemm/fi_gemm.h"
#include "gemm/gemm_kernels.h" /* FI_INLINE */

#define FI_LANES_ALIGN 64

const fi_lanes_isa_t *fi_lanes_isa(size_t elsize)
{
    /* The GEMM family's set decides: its FMA chains are what the lanes reproduce. */
    switch (fi_kernel_set_for(FI_FAMILY_GEMM)) {
    case FI_KERNEL_AVX512:
        if (fi_lanes_avx512_s.v) return elsize == 4 ? &fi_lanes_avx512_s : &fi_lanes_avx512_d;
        return NULL;
    case FI_KERNEL_AVX2:
        if (fi_lanes_avx2_s.v) return elsize == 4 ? &fi_lanes_avx2_s : &fi_lanes_avx2_d;
        return NULL;
    default:
        return NULL;
    }
}

int fi_lanes_opt_class(const fi_optim_t *opt, size_t elsize)
{
    if (opt->kind == FI_OPT_ADAM) return FI_LOPT_ADAM;
    if (opt->kind == FI_OPT_ADAMW) return FI_LOPT_ADAMW;
    /* fi_optim_step tests the momentum rounded to the dtype against 0 */
    const int mom_zero = elsize == 4 ? (float)opt->momentum == 0.0f : opt->momentum == 0.0;
    return mom_zero ? FI_LOPT_SGD : opt->nesterov ? FI_LOPT_NESTEROV : FI_LOPT_MOMENTUM;
}

static int g_plan_fixed = 0; /* fi_lanes_plan_fixed */

void fi_lanes_plan_fixed(int fixed) { g_plan_fixed = fixed != 0; }

/* Whether a group of r members at width w (h: FI_PATH_GROUP or FI_PATH_HALF_GROUP) runs in
   lanes: from the costs once both paths were timed over two steps or more (a one-step call's
   first time is its cold caches'), else if it keeps half of its lanes busy. */
static int group_pays(const fi_lanes_costs_t *c, int r, int w, int h)
{
    if (c->steps[h] >= 2 && c->steps[FI_PATH_ALONE] >= 2)
        return c->seconds[h] < (double)r * c->seconds[FI_PATH_ALONE];
    return 2 * r >= w;
}

int fi_lanes_plan(const fi_ens_t *e, const uint8_t *active, int v, int v_half, size_t elsize,
                  const fi_lanes_costs_t *c, int *js, int *gstart, uint8_t *ghalf, uint8_t *laned)
{
    static const fi_lanes_costs_t none = {{0.0, 0.0, 0.0}, {0, 0, 0}};
    if (g_plan_fixed) c = &none;
    int ng = 0, nj = 0;
    for (int j = 0; j < e->k; j++) laned[j] = 0;
    for (int cls = FI_LOPT_SGD; cls <= FI_LOPT_ADAMW; cls++) {
        int members = 0;
        for (int j = 0; j < e->k; j++)
            members += !(active && !active[j]) && fi_lanes_opt_class(e->opt[j], elsize) == cls;
        /* the last one times the path alone, over two steps at least */
        if (!g_plan_fixed && c->steps[FI_PATH_ALONE] < 2 && members >= 2) members--;
        int r = 0;
        for (int j = 0; j < e->k && members > 0; j++) {
            if ((active && !active[j]) || fi_lanes_opt_class(e->opt[j], elsize) != cls) continue;
            members--;
            if (r == 0) gstart[ng] = nj;
            js[nj++] = j;
            laned[j] = 1;
            if (++r == v) {
                if (group_pays(c, v, v, FI_PATH_GROUP)) {
                    ghalf[ng] = 0;
                    gstart[++ng] = nj;
                } else { /* a full group loses: these members on their own */
                    for (int q = nj - r; q < nj; q++) laned[js[q]] = 0;
                    nj -= r;
                }
                r = 0;
            }
        }
        if (r == 0) continue;
        const int half = r <= v_half && group_pays(c, r, v_half, FI_PATH_HALF_GROUP);
        if (half || group_pays(c, r, v, FI_PATH_GROUP)) { /* the narrower width first */
            ghalf[ng] = (uint8_t)half;
            gstart[++ng] = nj;
        } else { /* too few for a group: back to the per-member path */
            for (int q = nj - r; q < nj; q++) laned[js[q]] = 0;
            nj -= r;
        }
    }
    gstart[ng] = nj;
    return ng;
}

const fi_lanes_isa_t *fi_lanes_isa_half(const fi_lanes_isa_t *isa)
{
    if (!fi_kernel_usable(FI_KERNEL_AVX2)) return NULL;
    return isa == &fi_lanes_avx512_s ? &fi_lanes_avx2_s : isa == &fi_lanes_avx512_d ? &fi_lanes_avx2_d : NULL;
}

/* A slot: p, g, s1, s2 (P*V each), per layer a (and z when its act needs it), g0/g1, the lane
   input xl, the shared input xs, lane targets yl and shared ones ys. Offsets in bytes. */
struct fi_lanes_pool {
    int slots, v, nlayers;
    fi_dim_t n, np; /* rows, parameters per member */
    size_t elsize, slot_bytes;
    size_t o_p, o_g, o_s1, o_s2, o_g0, o_g1, o_xl, o_xs, o_yl, o_ys;
    size_t *o_a, *o_z; /* per layer; o_z[l] = 0 when layer l keeps no pre-activation */
    void *raw;
};

void fi_lanes_pool_free(fi_lanes_pool_t *pool)
{
    if (!pool) return;
    free(pool->raw);
    free(pool->o_a);
    free(pool);
}

static size_t fi_lanes_round(size_t b) { return (b + FI_LANES_ALIGN - 1) / FI_LANES_ALIGN * FI_LANES_ALIGN; }

int fi_lanes_pool_get(fi_lanes_pool_t **pool, const fi_mlp_t *m, fi_dim_t n, int v, size_t elsize,
                      int slots)
{
    fi_lanes_pool_t *p = *pool;
    if (p && p->n >= n && p->v >= v && p->elsize == elsize && p->slots >= slots) return p->slots;
    fi_lanes_pool_free(p);
    *pool = NULL;
    const int L = m->nlayers;
    p = (fi_lanes_pool_t *)calloc(1, sizeof *p);
    if (!p) return 0;
    p->o_a = (size_t *)calloc(2 * (size_t)L, sizeof(size_t));
    if (!p->o_a) {
        fi_lanes_pool_free(p);
        return 0;
    }
    p->o_z = p->o_a + L;
    /* Sizes were checked against overflow by fi_ens_ws_init for k members of n rows; a slot
       holds v members' worth, and v <= 16 <= the caller's check headroom (SIZE_MAX / 4). */
    fi_dim_t np = 0, maxw = 1;
    for (int l = 0; l < L; l++) {
        np += m->sizes[l + 1] * m->sizes[l] + m->sizes[l + 1];
        maxw = FI_MAX(maxw, m->sizes[l + 1]);
    }
    const size_t V = (size_t)v, E = elsize, N = (size_t)n, in = (size_t)m->sizes[0];
    const size_t out = (size_t)m->sizes[L], yrow = FI_MAX(sizeof(int64_t), out * E);
    size_t o = 0;
#define TAKE(field, bytes) (p->field = o, o += fi_lanes_round(bytes))
    TAKE(o_p, (size_t)np * V * E);
    TAKE(o_g, (size_t)np * V * E);
    TAKE(o_s1, (size_t)np * V * E);
    TAKE(o_s2, (size_t)np * V * E);
    for (int l = 0; l < L; l++) {
        const size_t b = N * (size_t)m->sizes[l + 1] * V * E;
        TAKE(o_a[l], b);
        if (fi_act_needs_pre(m->acts[l])) TAKE(o_z[l], b);
    }
    TAKE(o_g0, N * (size_t)maxw * V * E);
    TAKE(o_g1, N * (size_t)maxw * V * E);
    TAKE(o_xl, N * in * V * E);
    TAKE(o_xs, N * in * E);
    TAKE(o_yl, N * yrow * V);
    TAKE(o_ys, N * yrow);
#undef TAKE
    p->slot_bytes = o;
    if (o > SIZE_MAX / 4 / (size_t)slots) {
        fi_lanes_pool_free(p);
        return 0;
    }
    p->raw = malloc(o * (size_t)slots + FI_LANES_ALIGN);
    if (!p->raw) {
        fi_lanes_pool_free(p);
        return 0;
    }
    p->slots = slots, p->v = v, p->nlayers = L, p->n = n, p->np = np, p->elsize = elsize;
    *pool = p;
    return slots;
}

/* The base of slot s, 64-byte aligned. */
static char *fi_lanes_slot(const fi_lanes_pool_t *p, int s)
{
    char *base = (char *)(((uintptr_t)p->raw + FI_LANES_ALIGN - 1) / FI_LANES_ALIGN * FI_LANES_ALIGN);
    return base + (size_t)s * p->slot_bytes;
}

/* The solo GEMM's KC for a product of depth k (frame_impl.h): even blocks of at most kc_max. */
static fi_dim_t fi_lanes_kc(fi_dim_t k, fi_dim_t kc_max)
{
    const fi_dim_t nb = (k + kc_max - 1) / kc_max;
    return (k + nb - 1) / nb;
}

#define FI_DTYPE 32
#include "fi_lanes_impl.h"
#define FI_DTYPE 64
#include "fi_lanes_impl.h"
