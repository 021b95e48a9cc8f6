/* AVX-512F lane kernels (fi_lanes.h): 16 float32 / 8 float64 members per zmm, a 4 x 6 tile of
   accumulators (24 of the 32 registers, 4 A vectors and a B vector beside them). Target
   attributes, not global flags: fi_lanes_isa() hands these out only under the avx512 set. */
#include "fi_lanes.h"
#include "fi_template.h"
#include "gemm/gemm_kernels.h"

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define LANES_ATTR __attribute__((target("avx2,fma,avx512f")))
#define LANES_MR 4
#define LANES_NR 6
#define LANES_ROW(m) LT(m, 1) LT(m, 2) LT(m, 3) LT(m, 4) LT(m, 5) LT(m, 6)
#define LANES_TILE_CASES LANES_ROW(1) LANES_ROW(2) LANES_ROW(3) LANES_ROW(4)
#define VMASK_ALL ((VMASK)~0u)
#define VMASK_BITS(m) ((unsigned)(m))

#define T float
#define V 16
#define VT __m512
#define LN(name) FI_PASTE(name, _avx512_s)
#define VZERO _mm512_setzero_ps
#define VLOAD _mm512_loadu_ps
#define VSTORE _mm512_storeu_ps
#define VSET1 _mm512_set1_ps
#define VFMA _mm512_fmadd_ps
#define VADD _mm512_add_ps
#define VSUB _mm512_sub_ps
#define VMUL _mm512_mul_ps
#define VDIV _mm512_div_ps
#define VSQRT _mm512_sqrt_ps
#define VRELU(t) _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(t, _mm512_setzero_ps(), _CMP_NLE_UQ), t)
#define VMASK __mmask16
#define VMASK_FINITE(m, p) ((VMASK)((m) & _mm512_cmp_ps_mask(_mm512_sub_ps(p, p), _mm512_setzero_ps(), _CMP_EQ_OQ)))
#define VSELECT_POS(y, d) _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_NLE_UQ), d)
#include "fi_lanes_vec_impl.h"
#include "fi_lanes_vec_undef.h"

#define T double
#define V 8
#define VT __m512d
#define LN(name) FI_PASTE(name, _avx512_d)
#define VZERO _mm512_setzero_pd
#define VLOAD _mm512_loadu_pd
#define VSTORE _mm512_storeu_pd
#define VSET1 _mm512_set1_pd
#define VFMA _mm512_fmadd_pd
#define VADD _mm512_add_pd
#define VSUB _mm512_sub_pd
#define VMUL _mm512_mul_pd
#define VDIV _mm512_div_pd
#define VSQRT _mm512_sqrt_pd
#define VRELU(t) _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(t, _mm512_setzero_pd(), _CMP_NLE_UQ), t)
#define VMASK __mmask8
#define VMASK_FINITE(m, p) ((VMASK)((m) & _mm512_cmp_pd_mask(_mm512_sub_pd(p, p), _mm512_setzero_pd(), _CMP_EQ_OQ)))
#define VSELECT_POS(y, d) _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(y, _mm512_setzero_pd(), _CMP_NLE_UQ), d)
#include "fi_lanes_vec_impl.h"
#include "fi_lanes_vec_undef.h"

const fi_lanes_isa_t fi_lanes_avx512_s = {16, LANES_MR, LANES_NR, gemm_avx512_s, optim_avx512_s, colsum_avx512_s};
const fi_lanes_isa_t fi_lanes_avx512_d = {8, LANES_MR, LANES_NR, gemm_avx512_d, optim_avx512_d, colsum_avx512_d};
#else
const fi_lanes_isa_t fi_lanes_avx512_s = {0, 0, 0, 0, 0, 0};
const fi_lanes_isa_t fi_lanes_avx512_d = {0, 0, 0, 0, 0, 0};
#endif
