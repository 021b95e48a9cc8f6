/* AVX2+FMA lane kernels (fi_lanes.h): 8 float32 / 4 float64 members per ymm, a 3 x 4 tile of
   accumulators (12 of the 16 registers, 3 A vectors and a B vector beside them). Target
   attributes, not global flags: fi_lanes_isa() hands these out only under the avx2 set. */
#include "fi_lanes.h"
#include "fi_template.h"
#include "gemm/gemm_kernels.h"

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define LANES_ATTR __attribute__((target("avx2,fma")))
#define LANES_MR 3
#define LANES_NR 4
#define LANES_ROW(m) LT(m, 1) LT(m, 2) LT(m, 3) LT(m, 4)
#define LANES_TILE_CASES LANES_ROW(1) LANES_ROW(2) LANES_ROW(3)
#define VMASK_ALL VMASK_ONES()

#define T float
#define V 8
#define VT __m256
#define LN(name) FI_PASTE(name, _avx2_s)
#define VZERO _mm256_setzero_ps
#define VLOAD _mm256_loadu_ps
#define VSTORE _mm256_storeu_ps
#define VSET1 _mm256_set1_ps
#define VFMA _mm256_fmadd_ps
#define VADD _mm256_add_ps
#define VSUB _mm256_sub_ps
#define VMUL _mm256_mul_ps
#define VDIV _mm256_div_ps
#define VSQRT _mm256_sqrt_ps
#define VRELU(t) _mm256_and_ps(_mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_NLE_UQ), t)
#define VMASK __m256
#define VMASK_ONES() _mm256_castsi256_ps(_mm256_set1_epi32(-1))
#define VMASK_FINITE(m, p) _mm256_and_ps(m, _mm256_cmp_ps(_mm256_sub_ps(p, p), _mm256_setzero_ps(), _CMP_EQ_OQ))
#define VMASK_BITS(m) ((unsigned)_mm256_movemask_ps(m))
#define VSELECT_POS(y, d) _mm256_and_ps(_mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_NLE_UQ), d)
#include "fi_lanes_vec_impl.h"
#include "fi_lanes_vec_undef.h"
#undef VMASK_ONES
#undef VMASK_BITS

#define T double
#define V 4
#define VT __m256d
#define LN(name) FI_PASTE(name, _avx2_d)
#define VZERO _mm256_setzero_pd
#define VLOAD _mm256_loadu_pd
#define VSTORE _mm256_storeu_pd
#define VSET1 _mm256_set1_pd
#define VFMA _mm256_fmadd_pd
#define VADD _mm256_add_pd
#define VSUB _mm256_sub_pd
#define VMUL _mm256_mul_pd
#define VDIV _mm256_div_pd
#define VSQRT _mm256_sqrt_pd
#define VRELU(t) _mm256_and_pd(_mm256_cmp_pd(t, _mm256_setzero_pd(), _CMP_NLE_UQ), t)
#define VMASK __m256d
#define VMASK_ONES() _mm256_castsi256_pd(_mm256_set1_epi64x(-1))
#define VMASK_FINITE(m, p) _mm256_and_pd(m, _mm256_cmp_pd(_mm256_sub_pd(p, p), _mm256_setzero_pd(), _CMP_EQ_OQ))
#define VMASK_BITS(m) ((unsigned)_mm256_movemask_pd(m))
#define VSELECT_POS(y, d) _mm256_and_pd(_mm256_cmp_pd(y, _mm256_setzero_pd(), _CMP_NLE_UQ), d)
#include "fi_lanes_vec_impl.h"
#include "fi_lanes_vec_undef.h"

const fi_lanes_isa_t fi_lanes_avx2_s = {8, LANES_MR, LANES_NR, gemm_avx2_s, optim_avx2_s, colsum_avx2_s};
const fi_lanes_isa_t fi_lanes_avx2_d = {4, LANES_MR, LANES_NR, gemm_avx2_d, optim_avx2_d, colsum_avx2_d};
#else
const fi_lanes_isa_t fi_lanes_avx2_s = {0, 0, 0, 0, 0, 0};
const fi_lanes_isa_t fi_lanes_avx2_d = {0, 0, 0, 0, 0, 0};
#endif
