/* Public GEMM API: C := act(alpha * op(A) @ op(B) + beta * C + bias), row-major.
   Implemented by the BLIS-style frame in frame.c over the micro-kernels chosen at run time. */
#ifndef FI_GEMM_H
#define FI_GEMM_H

#include "fi_act.h"
#include "fi_common.h"

typedef enum fi_bias_kind {
    FI_BIAS_NONE = 0,
    FI_BIAS_ROW = 1, /* bias[i] added to every element of row i (m values) */
    FI_BIAS_COL = 2  /* bias[j] added to every element of column j (n values) */
} fi_bias_kind_t;

/* Fused write-out C = act(C + bias): the bias and relu as each tile is stored after its last K
   panel, any other act over each block of C while it is in cache. A NULL epilogue means plain
   GEMM. The bias has C's dtype. */
typedef struct fi_epilogue {
    const void *bias;
    fi_bias_kind_t bias_kind;
    fi_act_t act;
    double act_param;
} fi_epilogue_t;

/* op(A):(m,k), op(B):(k,n), C:(m,n); op(X) = X or X^T by trans_x. Leading dimensions are
   row strides in elements (lda >= width of A as stored). beta == 0: C is never read (it may
   hold NaN). k == 0: C = act(beta*C + bias). Threads split the M/N loops only, never K, so
   the result is bit-identical for any thread count. Never fails. */
void fi_sgemm(int trans_a, int trans_b, fi_dim_t m, fi_dim_t n, fi_dim_t k, float alpha,
              const float *a, fi_dim_t lda, const float *b, fi_dim_t ldb, float beta, float *c,
              fi_dim_t ldc, const fi_epilogue_t *ep);
void fi_dgemm(int trans_a, int trans_b, fi_dim_t m, fi_dim_t n, fi_dim_t k, double alpha,
              const double *a, fi_dim_t lda, const double *b, fi_dim_t ldb, double beta, double *c,
              fi_dim_t ldc, const fi_epilogue_t *ep);

/* The kernel set is fi_cpu's one context (fi_kernel_select). fi_gemm_init builds the GEMM
   contexts (blocking from the detected caches) once; call it under the GIL before GEMMs run
   from several threads (the Python module does at import; the first GEMM does otherwise). */
void fi_gemm_init(void);
/* For tests, under the GIL with no GEMM running: rebuild the contexts as if 512-bit FMAs ran at
   full rate (1) or half rate (0), or as measured (-1), so that both large-product choices run
   on any AVX-512 machine. */
void fi_gemm_assume_fma512(int full_rate);

/* The small path's m*n*k limit of the set in use for float64 (f64) or float32, measured now if
   no product has yet (20-40 ms here; waits for a measurement another thread runs). */
long long fi_gemm_small_limit(int f64);
/* For tests, under the GIL with no GEMM running: every set's and dtype's limit set to mnk
   (>= 0), or (< 0) forgotten, to be measured again at first use. */
void fi_gemm_pin_small_limit(long long mnk);

/* What runs now, for kernel_info(): names and blocking of the float32/float64 kernels. */
typedef struct fi_gemm_info {
    const char *name;   /* e.g. "avx2" */
    const char *s_ukr;  /* e.g. "sgemm_avx2_fma_6x16" */
    const char *d_ukr;
    int s_mr, s_nr, d_mr, d_nr;
    fi_dim_t s_mc, s_kc, s_nc, d_mc, d_kc, d_nc;
    /* Small path: one-thread products up to s_/d_small_mnk = m*n*k (-1: not measured yet;
       measured between small_lo and small_hi, see fi_small_limit_t; why: the measurement)
       read operands in place, B only if its rows are less than small_ldb_bytes apart (from
       the L1 geometry). */
    long long s_small_mnk, d_small_mnk, s_small_lo, d_small_lo, s_small_hi, d_small_hi;
    const char *s_small_why, *d_small_why;
    fi_dim_t small_ldb_bytes;
    /* Streaming path: products wider than two tiles whose A rows for one K block take at
       most stream_a_bytes (half of L2); a packing task writes at most pack_b_bytes of B
       panels (a quarter of L2). Up to s_/d_rowa_max_n columns (two tiles of the blocked
       path's set), the blocked path reads row-major A in place. */
    fi_dim_t stream_a_bytes, pack_b_bytes, s_rowa_max_n, d_rowa_max_n;
    /* Which set runs blocked-path (large or multi-threaded) products and products at most
       half a tile wide, and why (the blocking, the large-product choice), in words. */
    const char *blocked_set, *narrow_set;
    const char *blocking_reason, *large_reason;
} fi_gemm_info_t;
void fi_gemm_get_info(fi_gemm_info_t *info);
/* The small-path measurement of the set in use for float64 (f64) or float32: up to cap cube
   sizes and each path's best time in microseconds; returns how many (0 if not measured). */
int fi_gemm_small_table(int f64, int cap, int *size, double *us_small, double *us_other);

#endif
