/* Types and macros shared by every kernel: sizes, restrict, dtype suffixes. No Python here. */
#ifndef FI_COMMON_H
#define FI_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Sizes and leading dimensions are 64-bit so m*k products cannot overflow on large tensors. */
typedef int64_t fi_dim_t;

#if defined(_MSC_VER)
#define FI_RESTRICT __restrict
#else
#define FI_RESTRICT restrict
#endif

#define FI_MIN(a, b) ((a) < (b) ? (a) : (b))
#define FI_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
