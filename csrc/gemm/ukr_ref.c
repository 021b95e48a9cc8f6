/* Portable reference micro-kernels and their packers: the oracle the SIMD kernels are tested
   against and the fallback on CPUs without them. Plain C; -O3 may auto-vectorize it for the
   baseline ISA. */
#include "gemm/gemm_kernels.h"

#define REF_MR 4
#define REF_NR 8

/* NAME: function name; a[i][p] is a[i*RS + p*CS], b[p][j] is b[p*BRS + j] (packed: 1, REF_MR,
   REF_NR; strided: the run-time strides). The epilogue steps round as in frame_impl.h's. */
#define FI_DEFINE_UKR_REF(NAME, T, RS, CS, BRS)                                                \
    static void NAME(fi_dim_t k, int rows, const T *FI_RESTRICT a, fi_dim_t rs_a,              \
                     fi_dim_t cs_a, const T *FI_RESTRICT b, fi_dim_t rs_b, T *FI_RESTRICT c,   \
                     fi_dim_t ldc, T alpha, T beta, const fi_ukr_ep_t *ep)                     \
    {                                                                                          \
        (void)rs_a;                                                                            \
        (void)cs_a;                                                                            \
        (void)rs_b;                                                                            \
        T acc[REF_MR][REF_NR] = {{0}};                                                         \
        for (fi_dim_t p = 0; p < k; p++)                                                       \
            for (int i = 0; i < rows; i++)                                                     \
                for (int j = 0; j < REF_NR; j++) acc[i][j] += a[i * (RS) + p * (CS)] * b[p * (BRS) + j]; \
        const T *bias = ep ? (const T *)ep->bias : NULL;                                       \
        for (int i = 0; i < rows; i++)                                                         \
            for (int j = 0; j < REF_NR; j++) {                                                 \
                T v = alpha * acc[i][j];                                                       \
                if (beta != (T)0) v = beta * c[i * ldc + j] + v;                               \
                if (bias) v += ep->bias_kind == FI_BIAS_ROW ? bias[i] : bias[j];               \
                if (ep && ep->relu) v = v <= 0 ? (T)0 : v;                                      \
                c[i * ldc + j] = v;                                                            \
            }                                                                                  \
    }

FI_DEFINE_UKR_REF(ukr_ref_s, float, 1, REF_MR, REF_NR)
FI_DEFINE_UKR_REF(ukr_ref_d, double, 1, REF_MR, REF_NR)
FI_DEFINE_UKR_REF(ukr_ref_strided_s, float, rs_a, cs_a, rs_b)
FI_DEFINE_UKR_REF(ukr_ref_strided_d, double, rs_a, cs_a, rs_b)

#define PACK_ATTR
#define MR REF_MR
#define NR REF_NR
#define T float
#define PACK_A_NAME pack_a_ref_s
#define PACK_B_NAME pack_b_ref_s
#include "gemm/pack_impl.h"
#undef T
#undef PACK_A_NAME
#undef PACK_B_NAME
#define T double
#define PACK_A_NAME pack_a_ref_d
#define PACK_B_NAME pack_b_ref_d
#include "gemm/pack_impl.h"

const fi_gemm_ctx_t fi_gemm_ctx_ref = {
    .name = "ref",
    .s = {"sgemm_ref_4x8", REF_MR, REF_NR, 128, 256, 4096},
    .d = {"dgemm_ref_4x8", REF_MR, REF_NR, 128, 256, 4096},
    .s_ukr = ukr_ref_s,
    .s_ukr_strided = ukr_ref_strided_s,
    .d_ukr = ukr_ref_d,
    .d_ukr_strided = ukr_ref_strided_d,
    .s_pack_a = pack_a_ref_s,
    .s_pack_b = pack_b_ref_s,
    .d_pack_a = pack_a_ref_d,
    .d_pack_b = pack_b_ref_d,
};
