# GEMM (csrc/gemm/fi_gemm.h): the product with its fused epilogue, and the report of its kernels.
cimport numpy as cnp

from fastinit._core cimport capi
from fastinit._core.capi cimport fi_dim_t

cnp.import_array()

BIAS_NONE, BIAS_ROW, BIAS_COL = capi.FI_BIAS_NONE, capi.FI_BIAS_ROW, capi.FI_BIAS_COL


def gemm_info():
    """The GEMM kernels in use: names, tiles, blocking and the small path (see fi_gemm_info_t)."""
    cdef capi.fi_gemm_info_t i
    capi.fi_gemm_get_info(&i)
    return {
        "kernel": i.name.decode(),
        "float32": {"micro_kernel": i.s_ukr.decode(), "tile": f"{i.s_mr}x{i.s_nr}",
                    "mc": i.s_mc, "kc": i.s_kc, "nc": i.s_nc},
        "float64": {"micro_kernel": i.d_ukr.decode(), "tile": f"{i.d_mr}x{i.d_nr}",
                    "mc": i.d_mc, "kc": i.d_kc, "nc": i.d_nc},
        "small_path": {"max_mnk": i.small_mnk, "b_in_place_below_bytes": i.small_ldb_bytes},
        "gemm_choice": {"blocked_path_set": i.blocked_set.decode(), "narrow_set": i.narrow_set.decode(),
                        "blocking": i.blocking_reason.decode(), "large_products": i.large_reason.decode()},
    }


def gemm(cnp.ndarray a, cnp.ndarray b, cnp.ndarray c, bint trans_a, bint trans_b, double alpha,
         double beta, cnp.ndarray bias, int bias_kind, int act, double act_param):
    """c = act(alpha * op(a) @ op(b) + beta * c + bias), in place. a, b, c: one float dtype,
    2-D with contiguous rows (row stride = leading dimension), shapes that chain; bias of c's
    dtype (m,) for BIAS_ROW or (n,) for BIAS_COL, else None."""
    cdef fi_dim_t m = cnp.PyArray_DIMS(c)[0], n = cnp.PyArray_DIMS(c)[1]
    cdef fi_dim_t k = cnp.PyArray_DIMS(a)[0] if trans_a else cnp.PyArray_DIMS(a)[1]
    cdef fi_dim_t isz = cnp.PyArray_ITEMSIZE(c)
    if m == 0 or n == 0:
        return
    cdef capi.fi_epilogue_t ep
    ep.bias = cnp.PyArray_DATA(bias) if bias is not None else NULL
    ep.bias_kind = <capi.fi_bias_kind_t>bias_kind
    ep.act = <capi.fi_act_t>act
    ep.act_param = act_param
    cdef const capi.fi_epilogue_t *pep = &ep if (bias_kind or act) else NULL
    # k == 0: a and b hold no elements and are never read.
    cdef void *pa = cnp.PyArray_DATA(a)
    cdef void *pb = cnp.PyArray_DATA(b)
    cdef void *pc = cnp.PyArray_DATA(c)
    cdef fi_dim_t lda = cnp.PyArray_STRIDES(a)[0] // isz if k else 1
    cdef fi_dim_t ldb = cnp.PyArray_STRIDES(b)[0] // isz if k else 1
    cdef fi_dim_t ldc = cnp.PyArray_STRIDES(c)[0] // isz
    cdef bint f32 = cnp.PyArray_TYPE(c) == cnp.NPY_FLOAT32
    with nogil:
        if f32:
            capi.gemm[float](trans_a, trans_b, m, n, k, alpha, <const float *>pa, lda,
                             <const float *>pb, ldb, beta, <float *>pc, ldc, pep)
        else:
            capi.gemm[double](trans_a, trans_b, m, n, k, alpha, <const double *>pa, lda,
                              <const double *>pb, ldb, beta, <double *>pc, ldc, pep)


def product(cnp.ndarray a, cnp.ndarray b):
    """a @ b as a new array, a (m, k) and b (k, n) C-contiguous of one float dtype (checked by
    the caller): matmul's common case, with the least work between Python and the kernel."""
    cdef cnp.npy_intp dims[2]
    dims[0] = cnp.PyArray_DIMS(a)[0]
    dims[1] = cnp.PyArray_DIMS(b)[1]
    cdef cnp.ndarray c = cnp.PyArray_EMPTY(2, dims, cnp.PyArray_TYPE(a), 0)
    cdef fi_dim_t m = dims[0], n = dims[1], k = cnp.PyArray_DIMS(a)[1]
    cdef void *pa = cnp.PyArray_DATA(a)
    cdef void *pb = cnp.PyArray_DATA(b)
    cdef void *pc = cnp.PyArray_DATA(c)
    if m == 0 or n == 0:
        return c
    with nogil:
        if cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32:
            capi.gemm[float](0, 0, m, n, k, 1.0, <const float *>pa, k if k else 1, <const float *>pb,
                             n, 0.0, <float *>pc, n, NULL)
        else:
            capi.gemm[double](0, 0, m, n, k, 1.0, <const double *>pa, k if k else 1, <const double *>pb,
                              n, 0.0, <double *>pc, n, NULL)
    return c
