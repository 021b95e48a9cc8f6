/* Packing of A and B blocks into contiguous micro-panels (see gemm_kernels.h). */
#include "gemm/gemm_kernels.h"

#define T float
#define SUF s
#include "gemm/pack_impl.h"
#undef T
#undef SUF

#define T double
#define SUF d
#include "gemm/pack_impl.h"
#undef T
#undef SUF
