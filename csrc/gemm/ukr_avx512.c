/* AVX-512 micro-kernels (x86-64): sgemm 8x32 and dgemm 8x16, the AVX2 template on zmm registers,
   and their packers. Zen 4 runs a 512-bit FMA at the rate of two 256-bit ones, so the gain is
   half the instructions per flop (loads, broadcasts, loop) and twice the work per C tile; Zen 5
   and Intel server cores run it at full rate, twice the flops.
   Products up to half a tile wide, and where 512-bit FMAs run at half rate the blocked path's
   products (dispatch.c), run the AVX2 set: every C value is the same FMA chain in both, so the
   choice changes no bit.
   Target attributes, not global flags; fi_gemm_select only installs this context where
   fi_cpu_has_avx512() holds. */
#include "gemm/gemm_kernels.h"

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define FI_AVX512 __attribute__((target("avx2,fma,avx512f")))
#define PACK_ATTR FI_AVX512
#define UKR_ATTR FI_AVX512
#define UKR_MR 8

#include "gemm/transpose_avx2.h"

#define T float
#define VT __m512
#define VL 16
#define VZERO _mm512_setzero_ps
#define VLOADU _mm512_loadu_ps
#define VSTOREU _mm512_storeu_ps
#define VBCAST(p) _mm512_set1_ps(*(p))
#define VFMA _mm512_fmadd_ps
#define VMUL _mm512_mul_ps
#define VADD _mm512_add_ps
#define VRELU(t) _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(t, _mm512_setzero_ps(), _CMP_NLE_UQ), t)
#define VSET1 _mm512_set1_ps
#define PACK_A_NAME pack_a_avx512_s
#define PACK_B_NAME pack_b_avx512_s
#define PACK_TRANSPOSE transpose_8x8_s
#define PACK_TB 8
#define UKR_PACKED ukr_avx512_s_8x32
#define UKR_STRIDED ukr_avx512_s_8x32_strided
#include "gemm/ukr_vec_set.h"

#define T double
#define VT __m512d
#define VL 8
#define VZERO _mm512_setzero_pd
#define VLOADU _mm512_loadu_pd
#define VSTOREU _mm512_storeu_pd
#define VBCAST(p) _mm512_set1_pd(*(p))
#define VFMA _mm512_fmadd_pd
#define VMUL _mm512_mul_pd
#define VADD _mm512_add_pd
#define VRELU(t) _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(t, _mm512_setzero_pd(), _CMP_NLE_UQ), t)
#define VSET1 _mm512_set1_pd
#define PACK_A_NAME pack_a_avx512_d
#define PACK_B_NAME pack_b_avx512_d
#define PACK_TRANSPOSE transpose_4x4_d
#define PACK_TB 4
#define UKR_PACKED ukr_avx512_d_8x16
#define UKR_STRIDED ukr_avx512_d_8x16_strided
#include "gemm/ukr_vec_set.h"

/* The AVX2 set's cache blocking (same KC, so K is split where the AVX2 kernel splits it),
   NC rounded down to a multiple of NR. */
const fi_gemm_ctx_t fi_gemm_ctx_avx512 = {
    .name = "avx512",
    .s = {"sgemm_avx512_8x32", 8, 32, 144, 512, 4064},
    .d = {"dgemm_avx512_8x16", 8, 16, 72, 256, 2032},
    .s_ukr = ukr_avx512_s_8x32,
    .s_ukr_strided = ukr_avx512_s_8x32_strided,
    .d_ukr = ukr_avx512_d_8x16,
    .d_ukr_strided = ukr_avx512_d_8x16_strided,
    .s_pack_a = pack_a_avx512_s,
    .s_pack_b = pack_b_avx512_s,
    .d_pack_a = pack_a_avx512_d,
    .d_pack_b = pack_b_avx512_d,
    .narrow = &fi_gemm_ctx_avx2, /* replaced by the run-time AVX2 context (dispatch.c) */
};
#else
const fi_gemm_ctx_t fi_gemm_ctx_avx512 = {.name = NULL};
#endif
