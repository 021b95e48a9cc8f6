/* Portable reference micro-kernels: the oracle the SIMD kernels are tested against and the
   fallback on CPUs without them. Plain C; -O3 may auto-vectorize it for the baseline ISA. */
#include "gemm/gemm_kernels.h"

#define REF_MR 4
#define REF_NR 8

#define FI_DEFINE_UKR_REF(SUF, T)                                                              \
    static void ukr_ref_##SUF(fi_dim_t k, const T *FI_RESTRICT a, const T *FI_RESTRICT b,    \
                                T *FI_RESTRICT c, fi_dim_t ldc, T alpha, T beta)               \
    {                                                                                          \
        T acc[REF_MR][REF_NR] = {{0}};                                                         \
        for (fi_dim_t p = 0; p < k; p++)                                                       \
            for (int i = 0; i < REF_MR; i++)                                                   \
                for (int j = 0; j < REF_NR; j++) acc[i][j] += a[p * REF_MR + i] * b[p * REF_NR + j]; \
        for (int i = 0; i < REF_MR; i++)                                                       \
            for (int j = 0; j < REF_NR; j++)                                                   \
                c[i * ldc + j] = beta == (T)0 ? alpha * acc[i][j]                              \
                                              : beta * c[i * ldc + j] + alpha * acc[i][j];     \
    }

FI_DEFINE_UKR_REF(s, float)
FI_DEFINE_UKR_REF(d, double)

const fi_gemm_ctx_t fi_gemm_ctx_ref = {
    .name = "ref",
    .s = {"sgemm_ref_4x8", REF_MR, REF_NR, 128, 256, 4096},
    .d = {"dgemm_ref_4x8", REF_MR, REF_NR, 128, 256, 4096},
    .s_ukr = ukr_ref_s,
    .d_ukr = ukr_ref_d,
};
