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
        "small_path": {"max_mnk": {"float32": i.s_small_mnk if i.s_small_mnk >= 0 else None,
                                   "float64": i.d_small_mnk if i.d_small_mnk >= 0 else None},
                       "measured_between": {"float32": (i.s_small_lo, i.s_small_hi),
                                            "float64": (i.d_small_lo, i.d_small_hi)},
                       "why": {"float32": i.s_small_why.decode(), "float64": i.d_small_why.decode()},
                       "measured": {"float32": _small_table(False), "float64": _small_table(True)},
                       "rule": "one-thread products up to max_mnk = m*n*k read A and B in place; the "
                               "limit is where the small path measured slower than the packed one "
                               "(cubes, at the first product in the band)",
                       "b_in_place_below_bytes": i.small_ldb_bytes,
                       "b_rule": "B read in place while its rows are less than half an L1 way apart "
                                 "(L1d size / ways / 2); farther apart they crowd two L1 sets"},
        "streaming_path": {"a_max_bytes": i.stream_a_bytes,
                           "rule": "C wider than two tiles and all of op(A)'s rows for one K block in "
                                   "half of L2: A packed whole per K block, B a few panels at a time"},
        "packing": {"b_task_max_bytes": i.pack_b_bytes,
                    "a_in_place_max_n": {"float32": i.s_rowa_max_n, "float64": i.d_rowa_max_n},
                    "rule": "a task packs B panels up to a quarter of L2 (rows read in long runs); "
                            "A is read in place, not packed, when C is at most two tiles wide"},
        "gemm_choice": {"blocked_path_set": i.blocked_set.decode(), "narrow_set": i.narrow_set.decode(),
                        "blocking": i.blocking_reason.decode(), "large_products": i.large_reason.decode()},
    }


cdef list _small_table(bint f64):
    """[(n, small path us, other path us)] of the cubes the small-path limit was measured on."""
    cdef int size[16]
    cdef double us_small[16], us_other[16]
    cdef int count = capi.fi_gemm_small_table(f64, 16, size, us_small, us_other)
    return [(size[j], round(us_small[j], 1), round(us_other[j], 1)) for j in range(count)]


def gemm_small_limit(bint f64):
    """The small path's m*n*k limit for float64 (f64) or float32 in the set in use, measured now
    if no product has yet."""
    return capi.fi_gemm_small_limit(f64)


def gemm_pin_small_limit(long long mnk):
    """Test hook: every set's small-path limit set to mnk, or (mnk < 0) measured again at first use."""
    capi.fi_gemm_pin_small_limit(mnk)


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


def overlaps(cnp.ndarray x, cnp.ndarray y):
    """Whether the memory extents of x and y intersect (their bounds, as np.may_share_memory's
    cheap test)."""
    return _overlap(x, y)


cdef bint _overlap(cnp.ndarray x, cnp.ndarray y):
    if cnp.PyArray_SIZE(x) == 0 or cnp.PyArray_SIZE(y) == 0:
        return False
    cdef char *x0 = <char *>cnp.PyArray_DATA(x)
    cdef char *y0 = <char *>cnp.PyArray_DATA(y)
    cdef char *x1 = x0 + cnp.PyArray_NBYTES(x)
    cdef char *y1 = y0 + cnp.PyArray_NBYTES(y)
    cdef int i
    for i in range(cnp.PyArray_NDIM(x)):  # strided views reach past size * itemsize
        x1 = max(x1, x0 + (cnp.PyArray_DIMS(x)[i] - 1) * cnp.PyArray_STRIDES(x)[i] + cnp.PyArray_ITEMSIZE(x))
        x0 = min(x0, x0 + (cnp.PyArray_DIMS(x)[i] - 1) * cnp.PyArray_STRIDES(x)[i])
    for i in range(cnp.PyArray_NDIM(y)):
        y1 = max(y1, y0 + (cnp.PyArray_DIMS(y)[i] - 1) * cnp.PyArray_STRIDES(y)[i] + cnp.PyArray_ITEMSIZE(y))
        y0 = min(y0, y0 + (cnp.PyArray_DIMS(y)[i] - 1) * cnp.PyArray_STRIDES(y)[i])
    return x0 < y1 and y0 < x1


cdef inline bint _plain(object x, int typenum):
    """x is an exact ndarray of typenum, 2-D, C-contiguous, aligned, in native byte order."""
    if not cnp.PyArray_CheckExact(x):
        return False
    cdef cnp.ndarray v = <cnp.ndarray>x
    return (cnp.PyArray_TYPE(v) == typenum and cnp.PyArray_NDIM(v) == 2 and cnp.PyArray_ISCARRAY_RO(v)
            and cnp.PyArray_ISNOTSWAPPED(v))


def product(a, b, c=None):
    """a @ b into c (a new array if None) if that is matmul's common case, else None (the caller
    then checks the operands and says what is wrong): a (m, k), b (k, n) and c (m, n) plain
    ndarrays (no subclass), C-contiguous, aligned, native float32 or float64, one dtype, c
    writeable and apart from a and b. The checks cost tens of nanoseconds here against about
    a microsecond as Python attribute reads, a fifth of a 64^3 product."""
    if not cnp.PyArray_CheckExact(a):
        return None
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>a)
    if (t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64) or not _plain(a, t) or not _plain(b, t):
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>a, xb = <cnp.ndarray>b, xc
    cdef cnp.npy_intp dims[2]
    dims[0] = cnp.PyArray_DIMS(xa)[0]
    dims[1] = cnp.PyArray_DIMS(xb)[1]
    cdef fi_dim_t m = dims[0], n = dims[1], k = cnp.PyArray_DIMS(xa)[1]
    if k != cnp.PyArray_DIMS(xb)[0]:
        return None
    if c is None:
        xc = cnp.PyArray_EMPTY(2, dims, t, 0)
    else:
        if not _plain(c, t):
            return None
        xc = <cnp.ndarray>c
        if (not cnp.PyArray_ISWRITEABLE(xc) or cnp.PyArray_DIMS(xc)[0] != m or cnp.PyArray_DIMS(xc)[1] != n
                or _overlap(xc, xa) or _overlap(xc, xb)):
            return None
    cdef void *pa = cnp.PyArray_DATA(xa)
    cdef void *pb = cnp.PyArray_DATA(xb)
    cdef void *pc = cnp.PyArray_DATA(xc)
    if m == 0 or n == 0:
        return xc
    with nogil:
        if t == cnp.NPY_FLOAT32:
            capi.gemm[float](0, 0, m, n, k, 1.0, <const float *>pa, k if k else 1, <const float *>pb,
                             n, 0.0, <float *>pc, n, NULL)
        else:
            capi.gemm[double](0, 0, m, n, k, 1.0, <const double *>pa, k if k else 1, <const double *>pb,
                              n, 0.0, <double *>pc, n, NULL)
    return xc
