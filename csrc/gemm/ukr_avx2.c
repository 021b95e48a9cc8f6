/* AVX2+FMA micro-kernels (x86-64): sgemm 6x16 and dgemm 6x8, and their packers. Compiled
   with target attributes, not global flags, so the extension still runs on CPUs without AVX2;
   fi_gemm_select only installs this context where fi_cpu_has_avx2_fma() holds. */
#include "gemm/gemm_kernels.h"

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define FI_AVX2 __attribute__((target("avx2,fma")))
#define PACK_ATTR FI_AVX2
#define UKR_ATTR FI_AVX2
#define UKR_MR 6

#include "gemm/transpose_avx2.h"

#define T float
#define VT __m256
#define VL 8
#define VZERO _mm256_setzero_ps
#define VLOADU _mm256_loadu_ps
#define VSTOREU _mm256_storeu_ps
#define VBCAST _mm256_broadcast_ss
#define VFMA _mm256_fmadd_ps
#define VMUL _mm256_mul_ps
#define VADD _mm256_add_ps
#define VRELU(t) _mm256_and_ps(_mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_NLE_UQ), t)
#define VSET1 _mm256_set1_ps
#define PACK_A_NAME pack_a_avx2_s
#define PACK_B_NAME pack_b_avx2_s
#define PACK_TRANSPOSE transpose_8x8_s
#define PACK_TB 8
#define UKR_PACKED ukr_avx2_s_6x16
#define UKR_STRIDED ukr_avx2_s_6x16_strided
#include "gemm/ukr_vec_set.h"

#define T double
#define VT __m256d
#define VL 4
#define VZERO _mm256_setzero_pd
#define VLOADU _mm256_loadu_pd
#define VSTOREU _mm256_storeu_pd
#define VBCAST _mm256_broadcast_sd
#define VFMA _mm256_fmadd_pd
#define VMUL _mm256_mul_pd
#define VADD _mm256_add_pd
#define VRELU(t) _mm256_and_pd(_mm256_cmp_pd(t, _mm256_setzero_pd(), _CMP_NLE_UQ), t)
#define VSET1 _mm256_set1_pd
#define PACK_A_NAME pack_a_avx2_d
#define PACK_B_NAME pack_b_avx2_d
#define PACK_TRANSPOSE transpose_4x4_d
#define PACK_TB 4
#define UKR_PACKED ukr_avx2_d_6x8
#define UKR_STRIDED ukr_avx2_d_6x8_strided
#include "gemm/ukr_vec_set.h"

/* Blocking for a Zen-class core (32 KiB L1d, 512 KiB-1 MiB L2): the MC x KC block of A stays in
   L2, KC x NC of B in L3, and a KC x NR panel of B in L1 as far as it fits. float32 KC is 512
   (a 32 KiB B panel, partly served by L2): on Zen 4 it measured 2-4% faster than 256 at
   k >= 784, since C tiles are loaded and stored in half as many K passes. */
const fi_gemm_ctx_t fi_gemm_ctx_avx2 = {
    .name = "avx2",
    .s = {"sgemm_avx2_fma_6x16", 6, 16, 144, 512, 4080},
    .d = {"dgemm_avx2_fma_6x8", 6, 8, 72, 256, 2040},
    .s_ukr = ukr_avx2_s_6x16,
    .s_ukr_strided = ukr_avx2_s_6x16_strided,
    .d_ukr = ukr_avx2_d_6x8,
    .d_ukr_strided = ukr_avx2_d_6x8_strided,
    .s_pack_a = pack_a_avx2_s,
    .s_pack_b = pack_b_avx2_s,
    .d_pack_a = pack_a_avx2_d,
    .d_pack_b = pack_b_avx2_d,
};
#else
const fi_gemm_ctx_t fi_gemm_ctx_avx2 = {.name = NULL};
#endif
