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

/* Elementwise loops that the baseline build vectorizes only 4 floats wide get an AVX2 clone,
   chosen at load time (ifunc, GCC on x86-64 Linux). AVX2 without FMA: no product is
   contracted, so both clones compute the same bits. */
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define FI_CLONES_AVX2 __attribute__((target_clones("avx2", "default")))
#else
#define FI_CLONES_AVX2
#endif

#define FI_MIN(a, b) ((a) < (b) ? (a) : (b))
#define FI_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
