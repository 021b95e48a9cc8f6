# GEMM (csrc/gemm/fi_gemm.h): matmul, kernel selection and kernel_info.
import os

import numpy as np

cdef extern from "fi_act.h" nogil:
    ctypedef enum fi_act_t:
        FI_ACT_IDENTITY
        FI_ACT_COUNT

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
        long long s_mc, s_kc, s_nc, d_mc, d_kc, d_nc
        long long small_mnk, small_ldb_bytes
    void fi_sgemm(int trans_a, int trans_b, long long m, long long n, long long k, float alpha,
                  const float *a, long long lda, const float *b, long long ldb, float beta,
                  float *c, long long ldc, const fi_epilogue_t *ep)
    void fi_dgemm(int trans_a, int trans_b, long long m, long long n, long long k, double alpha,
                  const double *a, long long lda, const double *b, long long ldb, double beta,
                  double *c, long long ldc, const fi_epilogue_t *ep)
    int fi_gemm_select(const char *name)
    void fi_gemm_get_info(fi_gemm_info_t *info)
    const char *const *fi_gemm_available()


def _available_kernels():
    cdef const char *const *names = fi_gemm_available()
    cdef int i = 0
    out = []
    while names[i] != NULL:
        out.append(names[i].decode())
        i += 1
    return out


def _select_kernel(name):
    """Switch the GEMM kernel ("auto", "ref", "avx2", "avx512", "neon") for this process. Not
    thread-safe."""
    rc = fi_gemm_select(str(name).encode())
    if rc == -1:
        raise ValueError(f"unknown kernel {name!r}; choose one of: auto, "
                         + ", ".join(_available_kernels()))
    if rc == -2:
        raise ValueError(f"kernel {name!r} needs a CPU feature this machine lacks; available: "
                         + ", ".join(_available_kernels()))


_select_kernel(os.environ.get("FASTINIT_KERNEL", "auto") or "auto")


def kernel_info():
    """What runs the dense kernels here: kernel, micro-kernel tiles, block sizes, threads."""
    cdef fi_gemm_info_t i
    fi_gemm_get_info(&i)
    return {
        "kernel": i.name.decode(),
        "available": _available_kernels(),
        "float32": {"micro_kernel": i.s_ukr.decode(), "tile": f"{i.s_mr}x{i.s_nr}",
                    "mc": i.s_mc, "kc": i.s_kc, "nc": i.s_nc},
        "float64": {"micro_kernel": i.d_ukr.decode(), "tile": f"{i.d_mr}x{i.d_nr}",
                    "mc": i.d_mc, "kc": i.d_kc, "nc": i.d_nc},
        "small_path": {"max_mnk": i.small_mnk, "b_in_place_below_bytes": i.small_ldb_bytes},
        "threads": fi_get_num_threads(),
        "openmp": bool(fi_openmp_enabled()),
        "cpu_avx2_fma": bool(fi_cpu_has_avx2_fma()),
        "cpu_avx512": bool(fi_cpu_has_avx512()),
        "compiler_flags": fi_build_flags().decode(),
    }


cdef inline bint _rows_ok(cnp.ndarray x):
    """True if x (2-D) has contiguous rows and a positive row stride >= its width."""
    cdef Py_ssize_t isz = cnp.PyArray_ITEMSIZE(x)
    cdef cnp.npy_intp *st = cnp.PyArray_STRIDES(x)
    cdef cnp.npy_intp *sh = cnp.PyArray_DIMS(x)
    if sh[0] == 0 or sh[1] == 0:
        return True
    return st[1] == isz and st[0] >= sh[1] * isz and st[0] % isz == 0


cdef inline bint _overlaps(cnp.ndarray x, cnp.ndarray y):
    """Whether the memory extents of x and y intersect (bounds only, like may_share_memory)."""
    cdef char *x0 = <char *>cnp.PyArray_DATA(x)
    cdef char *y0 = <char *>cnp.PyArray_DATA(y)
    cdef char *x1 = x0 + (cnp.PyArray_DIMS(x)[0] - 1) * cnp.PyArray_STRIDES(x)[0] + \
        cnp.PyArray_DIMS(x)[1] * cnp.PyArray_ITEMSIZE(x)
    cdef char *y1 = y0 + (cnp.PyArray_DIMS(y)[0] - 1) * cnp.PyArray_STRIDES(y)[0] + \
        cnp.PyArray_DIMS(y)[1] * cnp.PyArray_ITEMSIZE(y)
    if cnp.PyArray_SIZE(x) == 0 or cnp.PyArray_SIZE(y) == 0:
        return False
    return x0 < y1 and y0 < x1


cdef int _gemm_run(cnp.ndarray a, cnp.ndarray b, cnp.ndarray c, bint ta, bint tb, double alpha,
                   double beta, cnp.ndarray bias, int bias_kind, int act, double act_param) except -1:
    """The one call into C: operands already validated (dtype, shapes, contiguous rows)."""
    cdef long long m = cnp.PyArray_DIMS(c)[0], n = cnp.PyArray_DIMS(c)[1]
    cdef long long k = cnp.PyArray_DIMS(a)[0] if ta else cnp.PyArray_DIMS(a)[1]
    cdef long long isz = cnp.PyArray_ITEMSIZE(c)
    if m == 0 or n == 0:
        return 0
    cdef fi_epilogue_t ep
    ep.bias = cnp.PyArray_DATA(bias) if bias is not None else NULL
    ep.bias_kind = <fi_bias_kind_t>bias_kind
    ep.act = <fi_act_t>act
    ep.act_param = act_param
    cdef const fi_epilogue_t *pep = &ep if (bias_kind or act) else NULL
    # k == 0: a and b hold no elements and are never read.
    cdef void *pa = cnp.PyArray_DATA(a)
    cdef void *pb = cnp.PyArray_DATA(b)
    cdef void *pc = cnp.PyArray_DATA(c)
    cdef long long lda = cnp.PyArray_STRIDES(a)[0] // isz if k else 1
    cdef long long ldb = cnp.PyArray_STRIDES(b)[0] // isz if k else 1
    cdef long long ldc = cnp.PyArray_STRIDES(c)[0] // isz
    cdef bint f32 = cnp.PyArray_TYPE(c) == cnp.NPY_FLOAT32
    with nogil:
        if f32:
            fi_sgemm(ta, tb, m, n, k, <float>alpha, <const float *>pa, lda, <const float *>pb, ldb,
                     <float>beta, <float *>pc, ldc, pep)
        else:
            fi_dgemm(ta, tb, m, n, k, alpha, <const double *>pa, lda, <const double *>pb, ldb,
                     beta, <double *>pc, ldc, pep)
    return 0


cdef str _describe(name, object x):
    return f"{name} (shape {x.shape}, dtype {x.dtype})"


cdef cnp.ndarray _float_matrix(name, x):
    """x as a 2-D float32/float64 ndarray, or TypeError/ValueError naming it."""
    if not isinstance(x, cnp.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>x)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise TypeError(f"{_describe(name, x)}: expected float32 or float64")
    if cnp.PyArray_NDIM(<cnp.ndarray>x) != 2:
        raise ValueError(f"{_describe(name, x)}: expected a 2-D array")
    return <cnp.ndarray>x


def _gemm(a, b, c, bint trans_a=False, bint trans_b=False, double alpha=1.0, double beta=0.0,
          bias=None, int bias_kind=0, int act=0, double act_param=0.0):
    """c = act(alpha * op(a) @ op(b) + beta * c + bias), in place, on arrays as stored.

    Rows may be padded (leading dimension = row stride); the last axis must be contiguous.
    bias_kind: 0 none, 1 one value per row of c, 2 one value per column. The tests' hook for
    leading dimensions, alpha/beta and the epilogue; everything is checked.
    """
    cdef cnp.ndarray xa = _float_matrix("a", a), xb = _float_matrix("b", b), xc = _float_matrix("c", c)
    if not (cnp.PyArray_TYPE(xa) == cnp.PyArray_TYPE(xb) == cnp.PyArray_TYPE(xc)):
        raise TypeError(f"{_describe('a', xa)}, {_describe('b', xb)} and {_describe('c', xc)} "
                        "must share one dtype")
    m, n = xc.shape[0], xc.shape[1]
    am, k = (xa.shape[1], xa.shape[0]) if trans_a else (xa.shape[0], xa.shape[1])
    bk, bn = (xb.shape[1], xb.shape[0]) if trans_b else (xb.shape[0], xb.shape[1])
    if am != m or bn != n or bk != k:
        raise ValueError(f"shapes do not chain: op(a) is ({am}, {k}), op(b) is ({bk}, {bn}), "
                         f"c is ({m}, {n})")
    for name, x in (("a", xa), ("b", xb), ("c", xc)):
        if not _rows_ok(x):
            raise ValueError(f"{_describe(name, x)} needs contiguous rows (strides {(<object>x).strides})")
    if not xc.flags.writeable:
        raise ValueError(f"{_describe('c', xc)} is read-only")
    if not 0 <= act < FI_ACT_COUNT:
        raise ValueError(f"act must be in [0, {FI_ACT_COUNT}), got {act}")
    if bias_kind not in (0, 1, 2):
        raise ValueError(f"bias_kind must be 0 (none), 1 (row) or 2 (column), got {bias_kind}")
    cdef cnp.ndarray xbias = None
    if bias_kind:
        if not isinstance(bias, cnp.ndarray):
            raise TypeError(f"bias_kind={bias_kind} needs a bias array, got {type(bias).__name__}")
        xbias = <cnp.ndarray>bias
        want = m if bias_kind == 1 else n
        if xbias.dtype != xc.dtype or xbias.ndim != 1 or xbias.shape[0] != want or not xbias.flags.c_contiguous:
            raise ValueError(f"{_describe('bias', xbias)}: expected a contiguous ({want},) {xc.dtype} array")
    _gemm_run(xa, xb, xc, trans_a, trans_b, alpha, beta, xbias, bias_kind, act, act_param)


cdef tuple _operand(name, x, bint trans):
    """(matrix with contiguous rows, trans flag) for x, copying only when unavoidable."""
    cdef cnp.ndarray xa = _float_matrix(name, x)
    if cnp.PyArray_IS_C_CONTIGUOUS(xa) or _rows_ok(xa):
        return xa, trans
    if cnp.PyArray_IS_F_CONTIGUOUS(xa):
        return xa.T, not trans  # a transposed C-contiguous matrix: flip the flag, no copy
    return np.ascontiguousarray(xa), trans


def matmul(a, b, *, trans_a=False, trans_b=False, out=None):
    """op(a) @ op(b) for 2-D float32 or float64 arrays, op(x) = x.T if trans_x else x.

    Both operands must have the same dtype. Non-contiguous operands are handled (transposed
    views without a copy). `out`, if given, must be a C-contiguous array of the result's shape
    and dtype that shares no memory with a or b. The GIL is released while the kernel runs.
    """
    cdef cnp.ndarray xa, xb, xo
    cdef bint ta, tb
    cdef cnp.npy_intp dims[2]
    xa, ta = _operand("a", a, trans_a)
    xb, tb = _operand("b", b, trans_b)
    if cnp.PyArray_TYPE(xa) != cnp.PyArray_TYPE(xb):
        raise TypeError(f"{_describe('a', a)} and {_describe('b', b)} must have the same dtype")
    cdef cnp.npy_intp *da = cnp.PyArray_DIMS(xa)
    cdef cnp.npy_intp *db = cnp.PyArray_DIMS(xb)
    cdef cnp.npy_intp m = da[1] if ta else da[0], k = da[0] if ta else da[1]
    cdef cnp.npy_intp k2 = db[1] if tb else db[0], n = db[0] if tb else db[1]
    if k != k2:
        raise ValueError(f"inner dimensions differ: op(a) is {(m, k)} and op(b) is {(k2, n)} "
                         f"({_describe('a', a)}, {_describe('b', b)}, trans_a={trans_a}, trans_b={trans_b})")
    if out is None:
        dims[0] = m
        dims[1] = n
        xo = cnp.PyArray_EMPTY(2, dims, cnp.PyArray_TYPE(xa), 0)
    else:
        if not isinstance(out, cnp.ndarray):
            raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
        xo = <cnp.ndarray>out
        if cnp.PyArray_TYPE(xo) != cnp.PyArray_TYPE(xa):
            raise TypeError(f"{_describe('out', xo)}: expected dtype {xa.dtype}")
        if cnp.PyArray_NDIM(xo) != 2 or xo.shape[0] != m or xo.shape[1] != n:
            raise ValueError(f"{_describe('out', xo)}: expected shape {(m, n)}")
        if not cnp.PyArray_IS_C_CONTIGUOUS(xo):
            raise ValueError(f"{_describe('out', xo)} must be C-contiguous")
        if not cnp.PyArray_ISWRITEABLE(xo):
            raise ValueError(f"{_describe('out', xo)} is read-only")
        if _overlaps(xo, xa) or _overlaps(xo, xb):
            raise ValueError(f"{_describe('out', xo)} overlaps an input; pass a separate array")
    _gemm_run(xa, xb, xo, ta, tb, 1.0, 0.0, None, 0, 0, 0.0)
    return xo
