/* AVX2+FMA micro-kernels (x86-64): sgemm 6x16 and dgemm 6x8. Compiled with target attributes,
   not global flags, so the extension still runs on CPUs without AVX2; fi_gemm_select only
   installs this context where fi_cpu_has_avx2_fma() holds. */
#include "gemm/gemm_kernels.h"

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define FI_AVX2 __attribute__((target("avx2,fma")))

#define T float
#define VT __m256
#define VL 8
#define VZERO _mm256_setzero_ps
#define VLOADU _mm256_loadu_ps
#define VSTOREU _mm256_storeu_ps
#define VBCAST _mm256_broadcast_ss
#define VFMA _mm256_fmadd_ps
#define VMUL _mm256_mul_ps
#define VSET1 _mm256_set1_ps
#define A_RS 1
#define A_CS 6
#define B_RS 16
#define UKR_NAME ukr_avx2_s_6x16
#include "gemm/ukr_avx2_impl.h"
#undef A_RS
#undef A_CS
#undef B_RS
#undef UKR_NAME
#define A_RS rs_a
#define A_CS cs_a
#define B_RS rs_b
#define UKR_NAME ukr_avx2_s_6x16_strided
#include "gemm/ukr_avx2_impl.h"
#undef A_RS
#undef A_CS
#undef B_RS
#undef UKR_NAME
#undef T
#undef VT
#undef VL
#undef VZERO
#undef VLOADU
#undef VSTOREU
#undef VBCAST
#undef VFMA
#undef VMUL
#undef VSET1

#define T double
#define VT __m256d
#define VL 4
#define VZERO _mm256_setzero_pd
#define VLOADU _mm256_loadu_pd
#define VSTOREU _mm256_storeu_pd
#define VBCAST _mm256_broadcast_sd
#define VFMA _mm256_fmadd_pd
#define VMUL _mm256_mul_pd
#define VSET1 _mm256_set1_pd
#define A_RS 1
#define A_CS 6
#define B_RS 8
#define UKR_NAME ukr_avx2_d_6x8
#include "gemm/ukr_avx2_impl.h"
#undef A_RS
#undef A_CS
#undef B_RS
#undef UKR_NAME
#define A_RS rs_a
#define A_CS cs_a
#define B_RS rs_b
#define UKR_NAME ukr_avx2_d_6x8_strided
#include "gemm/ukr_avx2_impl.h"
#undef A_RS
#undef A_CS
#undef B_RS

/* Blocking for a Zen-class core (32 KiB L1d, 512 KiB L2): a KC x NR panel of B (16 KiB) and an
   MR x KC panel of A stay in L1, the MC x KC block of A (~150 KiB) in L2, KC x NC of B in L3. */
const fi_gemm_ctx_t fi_gemm_ctx_avx2 = {
    .name = "avx2",
    .s = {"sgemm_avx2_fma_6x16", 6, 16, 144, 512, 4080},
    .d = {"dgemm_avx2_fma_6x8", 6, 8, 72, 256, 2040},
    .s_ukr = ukr_avx2_s_6x16,
    .s_ukr_strided = ukr_avx2_s_6x16_strided,
    .d_ukr = ukr_avx2_d_6x8,
    .d_ukr_strided = ukr_avx2_d_6x8_strided,
};
#else
const fi_gemm_ctx_t fi_gemm_ctx_avx2 = {.name = NULL};
#endif
