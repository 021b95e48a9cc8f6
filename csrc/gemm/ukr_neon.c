/* NEON micro-kernels (aarch64): sgemm 8x8 and dgemm 8x4, the AVX2 template on 128-bit
   registers (16 accumulators, two B vectors and one broadcast of A: 19 of 32), and their
   packers. Advanced SIMD is part of every aarch64 CPU, so this set needs no run-time check.
   vfmaq is a fused multiply-add like the x86 FMAs: every C value is the same FMA chain over k
   as in the AVX2 and AVX-512 kernels. */
#include "gemm/gemm_kernels.h"

#if defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#include <arm_neon.h>

#define PACK_ATTR
#define UKR_ATTR
#define UKR_MR 8

#define T float
#define VT float32x4_t
#define VL 4
#define VZERO() vdupq_n_f32(0.0f)
#define VLOADU vld1q_f32
#define VSTOREU vst1q_f32
#define VBCAST vld1q_dup_f32
#define VFMA(a, b, c) vfmaq_f32(c, a, b)
#define VMUL vmulq_f32
#define VADD vaddq_f32
#define VRELU(t) vbslq_f32(vcleq_f32(t, vdupq_n_f32(0.0f)), vdupq_n_f32(0.0f), t)
#define VSET1 vdupq_n_f32
#define PACK_A_NAME pack_a_neon_s
#define PACK_B_NAME pack_b_neon_s
#define UKR_PACKED ukr_neon_s_8x8
#define UKR_STRIDED ukr_neon_s_8x8_strided
#include "gemm/ukr_vec_set.h"

#define T double
#define VT float64x2_t
#define VL 2
#define VZERO() vdupq_n_f64(0.0)
#define VLOADU vld1q_f64
#define VSTOREU vst1q_f64
#define VBCAST vld1q_dup_f64
#define VFMA(a, b, c) vfmaq_f64(c, a, b)
#define VMUL vmulq_f64
#define VADD vaddq_f64
#define VRELU(t) vbslq_f64(vcleq_f64(t, vdupq_n_f64(0.0)), vdupq_n_f64(0.0), t)
#define VSET1 vdupq_n_f64
#define PACK_A_NAME pack_a_neon_d
#define PACK_B_NAME pack_b_neon_d
#define UKR_PACKED ukr_neon_d_8x4
#define UKR_STRIDED ukr_neon_d_8x4_strided
#include "gemm/ukr_vec_set.h"

/* Blocking for cores with 64 KiB or more of L1d and 1 MiB or more of L2 (Neoverse, Apple):
   an 8-row A panel and a KC x NR B panel fit L1 with room, the MC x KC block of A sits in L2. */
const fi_gemm_ctx_t fi_gemm_ctx_neon = {
    .name = "neon",
    .s = {"sgemm_neon_8x8", 8, 8, 128, 512, 4096},
    .d = {"dgemm_neon_8x4", 8, 4, 64, 256, 2048},
    .s_ukr = ukr_neon_s_8x8,
    .s_ukr_strided = ukr_neon_s_8x8_strided,
    .d_ukr = ukr_neon_d_8x4,
    .d_ukr_strided = ukr_neon_d_8x4_strided,
    .s_pack_a = pack_a_neon_s,
    .s_pack_b = pack_b_neon_s,
    .d_pack_a = pack_a_neon_d,
    .d_pack_b = pack_b_neon_d,
};
#else
const fi_gemm_ctx_t fi_gemm_ctx_neon = {.name = NULL};
#endif
