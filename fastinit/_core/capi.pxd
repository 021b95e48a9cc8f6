# csrc's C API, declared once, in the headers' own types. Every float32/float64 pair (_s/_d)
# also gets one fused inline below, so the binding code is written once per operation.
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t

from cython cimport floating

cdef extern from "fi_common.h" nogil:
    ctypedef int64_t fi_dim_t

cdef extern from "fi_pool.h" nogil:
    int fi_pool_threads()
    double fi_pool_join_us()
    void fi_pool_set_join_us(double us)

cdef extern from "fi_cpu.h" nogil:
    int fi_cpu_has_avx2_fma()
    int fi_cpu_has_avx512()
    int fi_get_num_threads()
    void fi_set_num_threads(int n)
    void fi_cpu_init()
    const char *fi_build_flags()
    double fi_parallel_min_flops(int nt)
    double fi_parallel_min_ns(int nt)
    void fi_set_parallel_min_flops(double flops)
    ctypedef struct fi_cpu_info_t:
        char vendor[13]
        char brand[49]
        int family, model
        int has_avx2_fma, has_avx512
        long long l1d, l2, l3
        int l3_sharing
        int l1d_ways
        const char *cache_source
        double fma256_gflops, fma512_gflops
        int fma512_full_rate
        double parallel_overhead_us
        int parallel_threads
    const fi_cpu_info_t *fi_cpu_info()
    ctypedef enum fi_kernel_set_t:
        FI_KERNEL_REF
        FI_KERNEL_AVX2
        FI_KERNEL_AVX512
        FI_KERNEL_NEON
    ctypedef enum fi_kernel_family_t:
        FI_FAMILY_GEMM
        FI_FAMILY_ACT
    int fi_kernel_select(const char *name)
    fi_kernel_set_t fi_kernel_set()
    const char *fi_kernel_name(fi_kernel_set_t s)
    int fi_kernel_forced()
    int fi_kernel_override(fi_kernel_family_t family, const char *name)
    const char *const *fi_kernel_available()

cdef extern from "fi_act.h" nogil:
    ctypedef enum fi_act_t:
        FI_ACT_IDENTITY
        FI_ACT_RELU
        FI_ACT_LEAKY_RELU
        FI_ACT_ELU
        FI_ACT_SELU
        FI_ACT_TANH
        FI_ACT_SIGMOID
        FI_ACT_GELU
        FI_ACT_GELU_TANH
        FI_ACT_SOFTPLUS
        FI_ACT_SOFTSIGN
        FI_ACT_SILU
        FI_ACT_COUNT
    void fi_act_forward_s(float *y, const float *x, fi_dim_t n, fi_act_t act, double param)
    void fi_act_forward_d(double *y, const double *x, fi_dim_t n, fi_act_t act, double param)
    void fi_act_backward_s(float *dz, const float *dy, const float *z, const float *y, fi_dim_t n,
                           fi_act_t act, double param)
    void fi_act_backward_d(double *dz, const double *dy, const double *z, const double *y,
                           fi_dim_t n, fi_act_t act, double param)
    void fi_exp_s(float *y, const float *x, fi_dim_t n)
    void fi_exp_d(double *y, const double *x, fi_dim_t n)
    const char *fi_act_kernel()
    int fi_act_needs_pre(fi_act_t act)

cdef extern from "gemm/fi_gemm.h" nogil:
    ctypedef enum fi_bias_kind_t:
        FI_BIAS_NONE
        FI_BIAS_ROW
        FI_BIAS_COL
    ctypedef struct fi_epilogue_t:
        const void *bias
        fi_bias_kind_t bias_kind
        fi_act_t act
        double act_param
    ctypedef struct fi_gemm_info_t:
        const char *name
        const char *s_ukr
        const char *d_ukr
        int s_mr, s_nr, d_mr, d_nr
        fi_dim_t s_mc, s_kc, s_nc, d_mc, d_kc, d_nc
        long long s_small_mnk, d_small_mnk, s_small_lo, d_small_lo, s_small_hi, d_small_hi
        const char *s_small_why
        const char *d_small_why
        fi_dim_t small_ldb_bytes
        fi_dim_t stream_a_bytes, pack_b_bytes, s_rowa_max_n, d_rowa_max_n
        const char *blocked_set
        const char *narrow_set
        const char *blocking_reason
        const char *large_reason
    void fi_sgemm(int trans_a, int trans_b, fi_dim_t m, fi_dim_t n, fi_dim_t k, float alpha,
                  const float *a, fi_dim_t lda, const float *b, fi_dim_t ldb, float beta,
                  float *c, fi_dim_t ldc, const fi_epilogue_t *ep)
    void fi_dgemm(int trans_a, int trans_b, fi_dim_t m, fi_dim_t n, fi_dim_t k, double alpha,
                  const double *a, fi_dim_t lda, const double *b, fi_dim_t ldb, double beta,
                  double *c, fi_dim_t ldc, const fi_epilogue_t *ep)
    void fi_gemm_init()
    void fi_gemm_assume_fma512(int full_rate)
    long long fi_gemm_small_limit(int f64)
    void fi_gemm_pin_small_limit(long long mnk)
    int fi_gemm_small_table(int f64, int cap, int *size, double *us_small, double *us_other)
    void fi_gemm_get_info(fi_gemm_info_t *info)

cdef extern from "fi_rng.h" nogil:
    void fi_rng_block(uint32_t *out, uint64_t seed, uint64_t stream, uint64_t block)
    void fi_rng_uniform_s(float *out, fi_dim_t n, uint64_t seed, uint64_t stream, double low, double high)
    void fi_rng_uniform_d(double *out, fi_dim_t n, uint64_t seed, uint64_t stream, double low, double high)
    void fi_rng_normal_s(float *out, fi_dim_t n, uint64_t seed, uint64_t stream, double mean, double std)
    void fi_rng_normal_d(double *out, fi_dim_t n, uint64_t seed, uint64_t stream, double mean, double std)
    void fi_rng_truncnormal_s(float *out, fi_dim_t n, uint64_t seed, uint64_t stream, double mean,
                              double std, double a, double b)
    void fi_rng_truncnormal_d(double *out, fi_dim_t n, uint64_t seed, uint64_t stream, double mean,
                              double std, double a, double b)

cdef extern from "fi_stats.h" nogil:
    ctypedef struct fi_stats_t:
        double mean, std, min, max, zero_frac, sat_frac
        int64_t nonfinite
    void fi_stats_s(fi_stats_t *out, int64_t *hist, const float *x, fi_dim_t n, double sat_lo,
                    double sat_hi, int bins)
    void fi_stats_d(fi_stats_t *out, int64_t *hist, const double *x, fi_dim_t n, double sat_lo,
                    double sat_hi, int bins)
    fi_dim_t fi_dead_units_s(const float *a, fi_dim_t n, fi_dim_t k)
    fi_dim_t fi_dead_units_d(const double *a, fi_dim_t n, fi_dim_t k)
    fi_dim_t fi_distinct_rows_s(const float *w, const float *b, fi_dim_t r, fi_dim_t k, double tol)
    fi_dim_t fi_distinct_rows_d(const double *w, const double *b, fi_dim_t r, fi_dim_t k, double tol)

cdef extern from "fi_loss.h" nogil:
    ctypedef enum fi_loss_t:
        FI_LOSS_SOFTMAX_XENT
        FI_LOSS_BCE_LOGITS
        FI_LOSS_MSE
    double fi_loss_xent_s(float *dz, const float *z, const int64_t *labels, fi_dim_t n, fi_dim_t c)
    double fi_loss_xent_d(double *dz, const double *z, const int64_t *labels, fi_dim_t n, fi_dim_t c)
    double fi_loss_bce_s(float *dz, const float *z, const float *t, fi_dim_t n, fi_dim_t c)
    double fi_loss_bce_d(double *dz, const double *z, const double *t, fi_dim_t n, fi_dim_t c)
    double fi_loss_mse_s(float *dz, const float *z, const float *t, fi_dim_t n, fi_dim_t c)
    double fi_loss_mse_d(double *dz, const double *z, const double *t, fi_dim_t n, fi_dim_t c)

cdef extern from "fi_optim.h" nogil:
    ctypedef enum fi_optim_kind_t:
        FI_OPT_SGD
        FI_OPT_ADAM
        FI_OPT_ADAMW
    ctypedef struct fi_optim_t:
        fi_optim_kind_t kind
        double lr, momentum
        int nesterov
        double weight_decay, beta1, beta2, eps, clip_norm
        int64_t step
        int finite

cdef extern from "fi_mlp.h" nogil:
    ctypedef struct fi_mlp_t:
        int nlayers
        const fi_dim_t *sizes
        const fi_act_t *acts
        const double *act_params
        fi_loss_t loss
        void **p
        void **g
        const fi_dim_t *count
    ctypedef struct fi_mlp_ws_t:
        fi_dim_t n
        void **a
        void **z
    int fi_mlp_ws_init(fi_mlp_ws_t *ws, const fi_mlp_t *m, fi_dim_t n, size_t elsize)
    void fi_mlp_ws_free(fi_mlp_ws_t *ws)
    void fi_mlp_forward_s(const fi_mlp_t *m, fi_mlp_ws_t *ws, const float *x, fi_dim_t n)
    void fi_mlp_forward_d(const fi_mlp_t *m, fi_mlp_ws_t *ws, const double *x, fi_dim_t n)
    double fi_mlp_backprop_s(const fi_mlp_t *m, fi_mlp_ws_t *ws, const float *x, const void *y,
                             fi_dim_t n, double *gin_ss)
    double fi_mlp_backprop_d(const fi_mlp_t *m, fi_mlp_ws_t *ws, const double *x, const void *y,
                             fi_dim_t n, double *gin_ss)
    double fi_mlp_step_s(const fi_mlp_t *m, fi_mlp_ws_t *ws, const float *x, const void *y,
                         fi_dim_t n, fi_optim_t *opt, float **s1, float **s2, double *gin_ss)
    double fi_mlp_step_d(const fi_mlp_t *m, fi_mlp_ws_t *ws, const double *x, const void *y,
                         fi_dim_t n, fi_optim_t *opt, double **s1, double **s2, double *gin_ss)
    int fi_all_finite_s(const float *x, fi_dim_t n)
    int fi_all_finite_d(const double *x, fi_dim_t n)


# --- one name per operation: `floating` is float (the _s kernel) or double (the _d kernel)

cdef inline void gemm(int ta, int tb, fi_dim_t m, fi_dim_t n, fi_dim_t k, double alpha,
                      const floating *a, fi_dim_t lda, const floating *b, fi_dim_t ldb, double beta,
                      floating *c, fi_dim_t ldc, const fi_epilogue_t *ep) noexcept nogil:
    if floating is float:
        fi_sgemm(ta, tb, m, n, k, <float>alpha, a, lda, b, ldb, <float>beta, c, ldc, ep)
    else:
        fi_dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)

cdef inline void act_forward(floating *y, const floating *x, fi_dim_t n, fi_act_t act,
                             double param) noexcept nogil:
    if floating is float:
        fi_act_forward_s(y, x, n, act, param)
    else:
        fi_act_forward_d(y, x, n, act, param)

cdef inline void act_backward(floating *dz, const floating *dy, const floating *z,
                              const floating *y, fi_dim_t n, fi_act_t act, double param) noexcept nogil:
    if floating is float:
        fi_act_backward_s(dz, dy, z, y, n, act, param)
    else:
        fi_act_backward_d(dz, dy, z, y, n, act, param)

cdef inline void exp(floating *y, const floating *x, fi_dim_t n) noexcept nogil:
    if floating is float:
        fi_exp_s(y, x, n)
    else:
        fi_exp_d(y, x, n)

cdef inline double loss(fi_loss_t kind, floating *dz, const floating *z, const void *y, fi_dim_t n,
                        fi_dim_t c) noexcept nogil:
    if kind == FI_LOSS_SOFTMAX_XENT:
        if floating is float:
            return fi_loss_xent_s(dz, z, <const int64_t *>y, n, c)
        else:
            return fi_loss_xent_d(dz, z, <const int64_t *>y, n, c)
    if kind == FI_LOSS_BCE_LOGITS:
        if floating is float:
            return fi_loss_bce_s(dz, z, <const float *>y, n, c)
        else:
            return fi_loss_bce_d(dz, z, <const double *>y, n, c)
    if floating is float:
        return fi_loss_mse_s(dz, z, <const float *>y, n, c)
    else:
        return fi_loss_mse_d(dz, z, <const double *>y, n, c)

cdef inline void rng_fill(int kind, floating *out, fi_dim_t n, uint64_t seed, uint64_t stream,
                          double p0, double p1, double p2, double p3) noexcept nogil:
    """kind 0: uniform [p0, p1); 1: normal (mean p0, std p1); 2: truncated normal on [p2, p3]."""
    if kind == 0:
        if floating is float:
            fi_rng_uniform_s(out, n, seed, stream, p0, p1)
        else:
            fi_rng_uniform_d(out, n, seed, stream, p0, p1)
    elif kind == 1:
        if floating is float:
            fi_rng_normal_s(out, n, seed, stream, p0, p1)
        else:
            fi_rng_normal_d(out, n, seed, stream, p0, p1)
    else:
        if floating is float:
            fi_rng_truncnormal_s(out, n, seed, stream, p0, p1, p2, p3)
        else:
            fi_rng_truncnormal_d(out, n, seed, stream, p0, p1, p2, p3)

cdef inline void stats(fi_stats_t *out, int64_t *hist, const floating *x, fi_dim_t n, double lo,
                       double hi, int bins) noexcept nogil:
    if floating is float:
        fi_stats_s(out, hist, x, n, lo, hi, bins)
    else:
        fi_stats_d(out, hist, x, n, lo, hi, bins)

cdef inline fi_dim_t dead_units(const floating *a, fi_dim_t n, fi_dim_t k) noexcept nogil:
    if floating is float:
        return fi_dead_units_s(a, n, k)
    else:
        return fi_dead_units_d(a, n, k)

cdef inline fi_dim_t distinct_rows(const floating *w, const floating *b, fi_dim_t r, fi_dim_t k,
                                   double tol) noexcept nogil:
    if floating is float:
        return fi_distinct_rows_s(w, b, r, k, tol)
    else:
        return fi_distinct_rows_d(w, b, r, k, tol)

cdef inline int all_finite(const floating *x, fi_dim_t n) noexcept nogil:
    if floating is float:
        return fi_all_finite_s(x, n)
    else:
        return fi_all_finite_d(x, n)

cdef inline void mlp_forward(const fi_mlp_t *m, fi_mlp_ws_t *ws, const floating *x, fi_dim_t n) noexcept nogil:
    if floating is float:
        fi_mlp_forward_s(m, ws, x, n)
    else:
        fi_mlp_forward_d(m, ws, x, n)

cdef inline double mlp_backprop(const fi_mlp_t *m, fi_mlp_ws_t *ws, const floating *x, const void *y,
                                fi_dim_t n, double *gin_ss) noexcept nogil:
    if floating is float:
        return fi_mlp_backprop_s(m, ws, x, y, n, gin_ss)
    else:
        return fi_mlp_backprop_d(m, ws, x, y, n, gin_ss)

cdef inline double mlp_step(const fi_mlp_t *m, fi_mlp_ws_t *ws, const floating *x, const void *y,
                            fi_dim_t n, fi_optim_t *opt, void **s1, void **s2, double *gin_ss) noexcept nogil:
    if floating is float:
        return fi_mlp_step_s(m, ws, x, y, n, opt, <float **>s1, <float **>s2, gin_ss)
    else:
        return fi_mlp_step_d(m, ws, x, y, n, opt, <double **>s1, <double **>s2, gin_ss)


cdef extern from "fi_lanes.h" nogil:
    void fi_lanes_plan_fixed(int fixed)

cdef extern from "fi_ensemble.h" nogil:
    ctypedef struct fi_ens_t:
        int k
        const fi_mlp_t *m
        fi_optim_t **opt
        void ***s1
        void ***s2
    ctypedef struct fi_lanes_costs_t:
        double seconds[3]
        long long steps[3]
    ctypedef struct fi_ens_ws_t:
        int k
        fi_dim_t n
        uint8_t *laned
        fi_lanes_costs_t costs
    int fi_ens_ws_init(fi_ens_ws_t *w, const fi_mlp_t *m, int k, fi_dim_t n, size_t elsize)
    void fi_ens_ws_free(fi_ens_ws_t *w)
    size_t fi_ens_y_row_bytes(const fi_mlp_t *m, size_t elsize)
    int fi_ens_lane_width(size_t elsize)
    void fi_ens_step_s(const fi_ens_t *e, fi_ens_ws_t *w, const float *x, fi_dim_t x_stride,
                       const void *y, fi_dim_t y_stride, fi_dim_t n, const uint8_t *active,
                       double *loss)
    void fi_ens_step_d(const fi_ens_t *e, fi_ens_ws_t *w, const double *x, fi_dim_t x_stride,
                       const void *y, fi_dim_t y_stride, fi_dim_t n, const uint8_t *active,
                       double *loss)
    void fi_ens_run_s(const fi_ens_t *e, fi_ens_ws_t *w, const float *x, fi_dim_t x_stride,
                      const void *y, fi_dim_t y_stride, const int64_t *idx, fi_dim_t idx_stride,
                      const fi_dim_t *off, const fi_dim_t *start, fi_dim_t nsteps,
                      const uint8_t *active, double *loss, fi_dim_t *done, double *seconds, double *ceiling,
                      double factor)
    void fi_ens_run_d(const fi_ens_t *e, fi_ens_ws_t *w, const double *x, fi_dim_t x_stride,
                      const void *y, fi_dim_t y_stride, const int64_t *idx, fi_dim_t idx_stride,
                      const fi_dim_t *off, const fi_dim_t *start, fi_dim_t nsteps,
                      const uint8_t *active, double *loss, fi_dim_t *done, double *seconds, double *ceiling,
                      double factor)

cdef inline void ens_step(const fi_ens_t *e, fi_ens_ws_t *w, const floating *x, fi_dim_t x_stride,
                          const void *y, fi_dim_t y_stride, fi_dim_t n, const uint8_t *active,
                          double *loss) noexcept nogil:
    if floating is float:
        fi_ens_step_s(e, w, x, x_stride, y, y_stride, n, active, loss)
    else:
        fi_ens_step_d(e, w, x, x_stride, y, y_stride, n, active, loss)

cdef inline void ens_run(const fi_ens_t *e, fi_ens_ws_t *w, const floating *x, fi_dim_t x_stride,
                         const void *y, fi_dim_t y_stride, const int64_t *idx, fi_dim_t idx_stride,
                         const fi_dim_t *off, const fi_dim_t *start, fi_dim_t nsteps,
                         const uint8_t *active, double *loss, fi_dim_t *done, double *seconds, double *ceiling,
                         double factor) noexcept nogil:
    if floating is float:
        fi_ens_run_s(e, w, x, x_stride, y, y_stride, idx, idx_stride, off, start, nsteps, active, loss, done, seconds, ceiling, factor)
    else:
        fi_ens_run_d(e, w, x, x_stride, y, y_stride, idx, idx_stride, off, start, nsteps, active, loss, done, seconds, ceiling, factor)
