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

/* Settings read by kernels on any thread and written by the selection calls (thread count,
   activation kernel level): relaxed atomic ints, so concurrent calls are race-free (a
   ThreadSanitizer harness over the C API found the plain ints). MSVC: an aligned int access
   through volatile is atomic on the targets it builds for. */
#if defined(__GNUC__) || defined(__clang__)
#define FI_LOAD_INT(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define FI_STORE_INT(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#else
#define FI_LOAD_INT(p) (*(volatile int *)(p))
#define FI_STORE_INT(p, v) (*(volatile int *)(p) = (v))
#endif

#define FI_MIN(a, b) ((a) < (b) ? (a) : (b))
#define FI_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
