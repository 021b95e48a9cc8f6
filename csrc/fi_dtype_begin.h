/* Opens a dtype template body (convention in fi_template.h): FI_DTYPE 32|64 -> T, SUF, FI_DT,
   FI_LIBM, FI_CTX, FI_GEMM. No include guard: included once per instantiation. */
#include "fi_template.h"

#if !defined(FI_DTYPE)
#error "define FI_DTYPE as 32 or 64 before including a template body"
#elif FI_DTYPE == 32
#define T float
#define SUF s
#define FI_LIBM(fn) fn##f
#define FI_GEMM fi_sgemm
#elif FI_DTYPE == 64
#define T double
#define SUF d
#define FI_LIBM(fn) fn
#define FI_GEMM fi_dgemm
#else
#error "FI_DTYPE must be 32 or 64"
#endif
#define FI_DT(name) FI_PASTE3(name, _, SUF)
#define FI_CTX(member) FI_PASTE3(SUF, _, member)
