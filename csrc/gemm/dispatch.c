/* Kernel choice: the best the CPU runs, or the one FASTINIT_KERNEL names (via fi_gemm_select). */
#include <string.h>

#include "fi_cpu.h"
#include "gemm/fi_gemm.h"
#include "gemm/gemm_kernels.h"

static const fi_gemm_ctx_t *g_ctx = NULL;

static int avx2_usable(void) { return fi_gemm_ctx_avx2.name != NULL && fi_cpu_has_avx2_fma(); }
static int avx512_usable(void)
{
    return fi_gemm_ctx_avx512.name != NULL && fi_cpu_has_avx512() && avx2_usable();
}

static int neon_usable(void) { return fi_gemm_ctx_neon.name != NULL; }

static const fi_gemm_ctx_t *best(void)
{
    if (avx512_usable()) return &fi_gemm_ctx_avx512;
    if (avx2_usable()) return &fi_gemm_ctx_avx2;
    return neon_usable() ? &fi_gemm_ctx_neon : &fi_gemm_ctx_ref;
}

const fi_gemm_ctx_t *fi_gemm_ctx(void)
{
    if (!g_ctx) g_ctx = best();
    return g_ctx;
}

int fi_gemm_select(const char *name)
{
    if (!name || !strcmp(name, "auto")) {
        g_ctx = best();
        return 0;
    }
    if (!strcmp(name, "ref")) {
        g_ctx = &fi_gemm_ctx_ref;
        return 0;
    }
    if (!strcmp(name, "avx2")) {
        if (!avx2_usable()) return -2;
        g_ctx = &fi_gemm_ctx_avx2;
        return 0;
    }
    if (!strcmp(name, "avx512")) {
        if (!avx512_usable()) return -2;
        g_ctx = &fi_gemm_ctx_avx512;
        return 0;
    }
    if (!strcmp(name, "neon")) {
        if (!neon_usable()) return -2;
        g_ctx = &fi_gemm_ctx_neon;
        return 0;
    }
    return -1;
}

const char *const *fi_gemm_available(void)
{
    static const char *const with_avx512[] = {"ref", "avx2", "avx512", NULL};
    static const char *const with_avx2[] = {"ref", "avx2", NULL};
    static const char *const with_neon[] = {"ref", "neon", NULL};
    static const char *const ref_only[] = {"ref", NULL};
    if (neon_usable()) return with_neon;
    return avx512_usable() ? with_avx512 : avx2_usable() ? with_avx2 : ref_only;
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
    info->small_mnk = ctx->small_mnk;
    info->small_ldb_bytes = FI_GEMM_SMALL_LDB_BYTES;
}
