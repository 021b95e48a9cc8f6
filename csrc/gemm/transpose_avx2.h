/* In-register transposes for packing B stored transposed: d[q*ldd + i] = s[i*lds + q]. Shared by
   the AVX2 and AVX-512 kernel sets (AVX-512F includes AVX2, so both can inline them); include
   after <immintrin.h> on x86-64 GCC/Clang only. */
#ifndef FI_TRANSPOSE_AVX2_H
#define FI_TRANSPOSE_AVX2_H

#include "gemm/gemm_kernels.h"

__attribute__((target("avx2,fma"))) FI_INLINE void
transpose_8x8_s(float *d, fi_dim_t ldd, const float *s, fi_dim_t lds)
{
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(s + i * lds);
    for (int i = 0; i < 8; i += 2) { /* pairs of rows interleaved */
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) { /* quads of rows: 4 columns per 128-bit lane */
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int q = 0; q < 4; q++) { /* lanes: rows 0-3 with rows 4-7 */
        _mm256_storeu_ps(d + q * ldd, _mm256_permute2f128_ps(r[q], r[q + 4], 0x20));
        _mm256_storeu_ps(d + (q + 4) * ldd, _mm256_permute2f128_ps(r[q], r[q + 4], 0x31));
    }
}

__attribute__((target("avx2,fma"))) FI_INLINE void
transpose_4x4_d(double *d, fi_dim_t ldd, const double *s, fi_dim_t lds)
{
    __m256d r[4], t[4];
    for (int i = 0; i < 4; i++) r[i] = _mm256_loadu_pd(s + i * lds);
    t[0] = _mm256_unpacklo_pd(r[0], r[1]);
    t[1] = _mm256_unpackhi_pd(r[0], r[1]);
    t[2] = _mm256_unpacklo_pd(r[2], r[3]);
    t[3] = _mm256_unpackhi_pd(r[2], r[3]);
    for (int q = 0; q < 2; q++) {
        _mm256_storeu_pd(d + q * ldd, _mm256_permute2f128_pd(t[q], t[q + 2], 0x20));
        _mm256_storeu_pd(d + (q + 2) * ldd, _mm256_permute2f128_pd(t[q], t[q + 2], 0x31));
    }
}

#endif
