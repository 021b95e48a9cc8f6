# GEMM (csrc/gemm/fi_gemm.h): matmul, kernel selection and kernel_info.
import os

import numpy as np
from cython cimport floating

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
    """Switch the GEMM kernel ("auto", "ref", "avx2") for this process. Not thread-safe."""
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
        "threads": fi_get_num_threads(),
        "openmp": bool(fi_openmp_enabled()),
        "cpu_avx2_fma": bool(fi_cpu_has_avx2_fma()),
        "compiler_flags": fi_build_flags().decode(),
    }


cdef _check_rows(name, Py_ssize_t rows, Py_ssize_t cols, Py_ssize_t s0, Py_ssize_t s1,
                 Py_ssize_t isz):
    if rows and cols and (s1 != isz or s0 < cols * isz or s0 % isz):
        raise ValueError(f"{name} needs contiguous rows: strides ({s0}, {s1}) for shape "
                         f"({rows}, {cols}) and itemsize {isz}")


def _gemm(floating[:, :] a, floating[:, :] b, floating[:, :] c, bint trans_a=False,
          bint trans_b=False, double alpha=1.0, double beta=0.0, floating[::1] bias=None,
          int bias_kind=0, int act=0, double act_param=0.0):
    """c = act(alpha * op(a) @ op(b) + beta * c + bias), in place, on arrays as stored.

    Rows may be padded (leading dimension = row stride); the last axis must be contiguous.
    Shapes are checked; this is the engine's entry point and the tests' hook for ld/alpha/beta.
    """
    cdef Py_ssize_t isz = sizeof(floating)
    cdef long long m = c.shape[0], n = c.shape[1]
    cdef long long k = a.shape[0] if trans_a else a.shape[1]
    cdef long long am = a.shape[1] if trans_a else a.shape[0]
    cdef long long bk = b.shape[1] if trans_b else b.shape[0]
    cdef long long bn = b.shape[0] if trans_b else b.shape[1]
    if am != m or bn != n or bk != k:
        raise ValueError(f"shapes do not chain: op(a) is ({am}, {k}), op(b) is ({bk}, {bn}), "
                         f"c is ({m}, {n})")
    _check_rows("a", a.shape[0], a.shape[1], a.strides[0], a.strides[1], isz)
    _check_rows("b", b.shape[0], b.shape[1], b.strides[0], b.strides[1], isz)
    _check_rows("c", c.shape[0], c.shape[1], c.strides[0], c.strides[1], isz)
    if not 0 <= act < FI_ACT_COUNT:
        raise ValueError(f"act must be in [0, {FI_ACT_COUNT}), got {act}")
    if bias_kind not in (0, 1, 2):
        raise ValueError(f"bias_kind must be 0 (none), 1 (row) or 2 (column), got {bias_kind}")
    if bias_kind and bias is None:
        raise ValueError("bias_kind is set but bias is None")
    if bias is not None and bias.shape[0] != (m if bias_kind == 1 else n):
        raise ValueError(f"bias has {bias.shape[0]} values, expected {m if bias_kind == 1 else n}")
    if m == 0 or n == 0:
        return
    cdef fi_epilogue_t ep
    ep.bias = &bias[0] if (bias is not None and bias_kind) else NULL
    ep.bias_kind = <fi_bias_kind_t>bias_kind
    ep.act = <fi_act_t>act
    ep.act_param = act_param
    cdef const fi_epilogue_t *pep = &ep if (bias_kind or act) else NULL
    # k == 0 leaves a or b without elements: any valid pointer will do, none is read.
    cdef const floating *pa = &a[0, 0] if k else &c[0, 0]
    cdef const floating *pb = &b[0, 0] if k else &c[0, 0]
    cdef long long lda = a.strides[0] // isz if k else 1
    cdef long long ldb = b.strides[0] // isz if k else 1
    with nogil:
        if floating is float:
            fi_sgemm(trans_a, trans_b, m, n, k, <float>alpha, pa, lda, pb, ldb, <float>beta,
                     &c[0, 0], c.strides[0] // isz, pep)
        else:
            fi_dgemm(trans_a, trans_b, m, n, k, alpha, pa, lda, pb, ldb, beta,
                     &c[0, 0], c.strides[0] // isz, pep)


_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


cdef _describe(name, x):
    return f"{name} (shape {x.shape}, dtype {x.dtype})"


cdef _operand(name, x, bint trans):
    """Return (array with contiguous rows, trans flag) for x, copying only when needed."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    if x.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"{_describe(name, x)}: matmul takes float32 or float64 arrays")
    if x.ndim != 2:
        raise ValueError(f"{_describe(name, x)}: matmul takes 2-D arrays")
    if x.flags.c_contiguous or x.size == 0:
        return x, trans
    if x.flags.f_contiguous:
        return x.T, not trans  # a transposed C-contiguous matrix: flip the flag, no copy
    s0, s1 = x.strides
    if s1 == x.itemsize and s0 > 0 and s0 % x.itemsize == 0 and s0 >= x.shape[1] * x.itemsize:
        return x, trans  # padded rows: pass the row stride as leading dimension
    return np.ascontiguousarray(x), trans


def matmul(a, b, *, trans_a=False, trans_b=False, out=None):
    """op(a) @ op(b) for 2-D float32 or float64 arrays, op(x) = x.T if trans_x else x.

    Both operands must have the same dtype. Non-contiguous operands are handled (transposed
    views without a copy). `out`, if given, must be a C-contiguous array of the result's shape
    and dtype that shares no memory with a or b. The GIL is released while the kernel runs.
    """
    a2, ta = _operand("a", a, trans_a)
    b2, tb = _operand("b", b, trans_b)
    if a2.dtype != b2.dtype:
        raise TypeError(f"{_describe('a', a)} and {_describe('b', b)} must have the same dtype")
    m, k = (a.shape[1], a.shape[0]) if trans_a else a.shape
    k2, n = (b.shape[1], b.shape[0]) if trans_b else b.shape
    if k != k2:
        raise ValueError(f"inner dimensions differ: op(a) is {(m, k)} and op(b) is {(k2, n)} "
                         f"({_describe('a', a)}, {_describe('b', b)}, trans_a={trans_a}, trans_b={trans_b})")
    if out is None:
        out = np.empty((m, n), dtype=a2.dtype)
    else:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
        if out.dtype != a2.dtype:
            raise TypeError(f"{_describe('out', out)}: expected dtype {a2.dtype}")
        if out.shape != (m, n):
            raise ValueError(f"{_describe('out', out)}: expected shape {(m, n)}")
        if not out.flags.c_contiguous:
            raise ValueError(f"{_describe('out', out)} must be C-contiguous")
        if not out.flags.writeable:
            raise ValueError(f"{_describe('out', out)} is read-only")
        if np.may_share_memory(out, a) or np.may_share_memory(out, b):
            raise ValueError(f"{_describe('out', out)} overlaps an input; pass a separate array")
    if k == 0 or m == 0 or n == 0:
        out[...] = 0
        return out
    _gemm(a2, b2, out, ta, tb)
    return out
