/* Dense layer kernels (see fi_dense.h): one template, two dtypes. Never calls a BLAS. */
#include "fi_dense.h"
#include "gemm/fi_gemm.h"

#define FI_DTYPE 32
#include "fi_dense_impl.h"

#define FI_DTYPE 64
#include "fi_dense_impl.h"

