/* Dense layer kernels (see fi_dense.h): one template, two dtypes. Never calls a BLAS. */
#include "fi_dense.h"
#include "gemm/fi_gemm.h"

#define T float
#define SUF s
#define GEMM fi_sgemm
#include "fi_dense_impl.h"
#undef T
#undef SUF
#undef GEMM

#define T double
#define SUF d
#define GEMM fi_dgemm
#include "fi_dense_impl.h"
