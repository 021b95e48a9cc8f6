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

/* Kernel selection: "auto" (best the CPU supports), "ref", "avx2", "avx512" or "neon".
   Returns 0 on success, -1 for an unknown name, -2 if the CPU lacks the kernel's ISA. Call
   under the GIL before any GEMM (done at import from FASTINIT_KERNEL). */
int fi_gemm_select(const char *name);

/* What runs now, for kernel_info(): names and blocking of the float32/float64 kernels. */
typedef struct fi_gemm_info {
    const char *name;   /* e.g. "avx2" */
    const char *s_ukr;  /* e.g. "sgemm_avx2_fma_6x16" */
    const char *d_ukr;
    int s_mr, s_nr, d_mr, d_nr;
    fi_dim_t s_mc, s_kc, s_nc, d_mc, d_kc, d_nc;
    /* Small path: single-threaded products up to small_mnk = m*n*k read operands in place,
       B only if its rows are less than small_ldb_bytes apart. */
    fi_dim_t small_mnk, small_ldb_bytes;
} fi_gemm_info_t;
void fi_gemm_get_info(fi_gemm_info_t *info);

/* Names of the kernels this CPU can run, NULL-terminated (for tests: each vs "ref"). */
const char *const *fi_gemm_available(void);

#endif
