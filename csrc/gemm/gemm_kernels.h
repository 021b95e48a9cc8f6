/* Internal to csrc/gemm: micro-kernel signatures, per-dtype blocking and the dispatch context.

   A micro-kernel computes one MR x NR tile of row-major C from packed panels:
     C[i][j] := beta * C[i][j] + alpha * sum_p a[p*MR + i] * b[p*NR + j]
   a: MR-row micro-panel (k columns of MR values), b: NR-column micro-panel (k rows of NR
   values), ldc: row stride of C. beta == 0 never reads C. A non-NULL ep (given only with
   the last K block) adds a bias and applies relu as the tile is stored, saving a pass over
   C. Only rows 0..rows-1 (1 <= rows <= MR) of A are read and of C written, so a short last
   row block needs no padding.
   The "strided" variants read operands in place: a[i][p] = a[i*rs_a + p*cs_a], b[p][j] =
   b[p*rs_b + j]. They serve skinny products (small n: A used too few times to repay packing
   it) and small ones (packing would cost a large share of the product). Packed kernels
   ignore the strides. */
#ifndef FI_GEMM_KERNELS_H
#define FI_GEMM_KERNELS_H

#include <stdatomic.h>

#include "gemm/fi_gemm.h"

/* A tile's share of the epilogue: C = relu?(C + bias), applied to the stored value in that
   order, as the whole-block epilogue does, so fusing it changes no bit. bias (C's dtype)
   points at the tile's first row (FI_BIAS_ROW, rows values) or first column (FI_BIAS_COL, NR
   values), or is NULL. */
typedef struct fi_ukr_ep {
    const void *bias;
    fi_bias_kind_t bias_kind;
    int relu;
} fi_ukr_ep_t;

typedef void (*fi_ukr_s_t)(fi_dim_t k, int rows, const float *FI_RESTRICT a, fi_dim_t rs_a,
                           fi_dim_t cs_a, const float *FI_RESTRICT b, fi_dim_t rs_b,
                           float *FI_RESTRICT c, fi_dim_t ldc, float alpha, float beta,
                           const fi_ukr_ep_t *ep);
typedef void (*fi_ukr_d_t)(fi_dim_t k, int rows, const double *FI_RESTRICT a, fi_dim_t rs_a,
                           fi_dim_t cs_a, const double *FI_RESTRICT b, fi_dim_t rs_b,
                           double *FI_RESTRICT c, fi_dim_t ldc, double alpha, double beta,
                           const fi_ukr_ep_t *ep);

/* Packing, provided by each kernel set for its tile (pack_impl.h). pack_a: block
   op(A)[0:mc, 0:kc] -> ceil(mc/MR) panels of kc*MR values, rows past mc zero-padded. pack_b:
   op(B)[0:kc, 0:nc] -> ceil(nc/NR) panels of kc*NR values, columns past nc zero-padded. src
   points at op(X)[0][0]; trans says whether X is stored transposed. Arguments: (dst, src,
   ld, trans, mc|kc, kc|nc). */
typedef void (*fi_pack_s_t)(float *FI_RESTRICT dst, const float *FI_RESTRICT src, fi_dim_t ld,
                            int trans, fi_dim_t rows, fi_dim_t cols);
typedef void (*fi_pack_d_t)(double *FI_RESTRICT dst, const double *FI_RESTRICT src, fi_dim_t ld,
                            int trans, fi_dim_t rows, fi_dim_t cols);

/* Up to which m*n*k a one-thread product takes the small path, for one kernel set and dtype.
   The crossover is a ratio of two speeds (reading A in place n/NR times against packing it
   once), so it is measured, not assumed: at the first one-thread product in the band (lo, hi]
   both paths are timed on cubes from lo up, until the small one loses twice in a row
   (frame_impl.h). Below lo all three operands fit in half of L2 and packing is pure cost; above
   hi (512^3) packing is under 1/512 of the work and the paths measured within a few per cent
   either way (AMD family 25: float32 1024^3 small 0.95x, float64 1.09x), not worth a
   measurement whose time grows as the cube of its top size. */
#define FI_SMALL_SIZES 16
enum { FI_SMALL_UNKNOWN = 0, FI_SMALL_MEASURING = 1, FI_SMALL_KNOWN = 2 };
typedef struct fi_small_limit {
    atomic_int state;
    int pinned; /* set by a test (fi_gemm_pin_small_limit), kept across rebuilds */
    long long lo, hi, mnk;
    int n_sizes; /* the cube sizes measured and each path's best time, microseconds */
    int size[FI_SMALL_SIZES];
    double us_small[FI_SMALL_SIZES], us_other[FI_SMALL_SIZES];
    char why[224];
} fi_small_limit_t;

/* Register tile and cache blocking of one dtype's kernel (MC, NC multiples of MR, NR); lim:
   the run-time context's small-path limit (dispatch.c), NULL in the templates. */
typedef struct fi_blocking {
    const char *ukr_name;
    int mr, nr;
    fi_dim_t mc, kc, nc;
    fi_small_limit_t *lim;
} fi_blocking_t;

typedef struct fi_gemm_ctx {
    const char *name;
    fi_blocking_t s, d;
    fi_ukr_s_t s_ukr, s_ukr_strided;
    fi_ukr_d_t d_ukr, d_ukr_strided;
    fi_pack_s_t s_pack_a, s_pack_b;
    fi_pack_d_t d_pack_a, d_pack_b;
    /* Products at most half a tile wide run this set instead, or NULL: a 32-wide tile would
       spend two thirds of its FMAs on the padding of a 10-wide product; with narrow_blocked,
       so do products on the blocked path (set from the measured FMA rates, dispatch.c). */
    const struct fi_gemm_ctx *narrow;
    int narrow_blocked;
    /* From the caches (dispatch.c): the streaming path (frame_impl.h) when op(A)'s rows for
       one K block take at most stream_a_bytes; a task packs B panels of at most pack_b_bytes;
       the small path reads B in place if its rows are less than small_ldb_bytes apart. */
    fi_dim_t stream_a_bytes, pack_b_bytes, small_ldb_bytes;
} fi_gemm_ctx_t;

/* The kernel sets' templates (default blocking); fi_gemm_ctx_avx2/avx512/neon are safe to
   reference on any CPU (name NULL where not built) but avx2/avx512 must only run where
   fi_cpu_has_avx2_fma() / fi_cpu_has_avx512() holds. */
extern const fi_gemm_ctx_t fi_gemm_ctx_ref;
extern const fi_gemm_ctx_t fi_gemm_ctx_avx2;
extern const fi_gemm_ctx_t fi_gemm_ctx_avx512;
extern const fi_gemm_ctx_t fi_gemm_ctx_neon;

/* The context of the kernel set in use (fi_kernel_set), blocking from the caches. */
const fi_gemm_ctx_t *fi_gemm_ctx(void);

/* A is read in place rather than packed when C is at most this many columns wide: packing
   costs a pass over A, about what reading it in place costs two NR panels of B. */
#define FI_GEMM_ROWA_MAX_N(nr) (2 * (fi_dim_t)(nr))


/* Forced inlining, for template helpers that must be specialized on constant arguments. */
#if defined(_MSC_VER)
#define FI_INLINE static __forceinline
#else
#define FI_INLINE static inline __attribute__((always_inline))
#endif

/* Largest MR/NR of any kernel: bounds the stack tile for edge tiles. */
#define FI_MAX_MR 8
#define FI_MAX_NR 32

#endif
