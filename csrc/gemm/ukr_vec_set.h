/* One dtype of a SIMD kernel set, included by ukr_avx2.c, ukr_avx512.c and ukr_neon.c with T,
   VT, VL and the vector operations of ukr_vec_impl.h defined, UKR_MR, PACK_ATTR and UKR_ATTR
   set for the file, and PACK_A_NAME, PACK_B_NAME (optionally PACK_TRANSPOSE and PACK_TB),
   UKR_PACKED and UKR_STRIDED naming what to define. Instantiates the packers for the
   UKR_MR x (2*VL) tile, the micro-kernel on packed panels and the one reading operands in
   place; then undefines everything of this dtype, ready for the next. */
#define MR UKR_MR
#define NR (2 * VL)
#include "gemm/pack_impl.h"
#undef MR
#undef NR

#define A_RS 1
#define A_CS UKR_MR
#define B_RS (2 * VL)
#define UKR_NAME UKR_PACKED
#include "gemm/ukr_vec_impl.h"
#define A_RS rs_a
#define A_CS cs_a
#define B_RS rs_b
#define UKR_NAME UKR_STRIDED
#include "gemm/ukr_vec_impl.h"

#undef PACK_A_NAME
#undef PACK_B_NAME
#undef PACK_TRANSPOSE
#undef PACK_TB
#undef UKR_PACKED
#undef UKR_STRIDED
#undef T
#undef VT
#undef VL
#undef VZERO
#undef VLOADU
#undef VSTOREU
#undef VBCAST
#undef VFMA
#undef VMUL
#undef VADD
#undef VRELU
#undef VSET1
