# Counter-based RNG (csrc/fi_rng.h): fills of preallocated arrays, GIL released.
from libc.stdint cimport uint32_t, uint64_t

cdef extern from "fi_rng.h" nogil:
    void fi_rng_block(uint32_t *out, uint64_t seed, uint64_t stream, uint64_t block)
    void fi_rng_uniform_s(float *out, long long n, uint64_t seed, uint64_t stream, double low, double high)
    void fi_rng_uniform_d(double *out, long long n, uint64_t seed, uint64_t stream, double low, double high)
    void fi_rng_normal_s(float *out, long long n, uint64_t seed, uint64_t stream, double mean, double std)
    void fi_rng_normal_d(double *out, long long n, uint64_t seed, uint64_t stream, double mean, double std)
    void fi_rng_truncnormal_s(float *out, long long n, uint64_t seed, uint64_t stream, double mean,
                              double std, double a, double b)
    void fi_rng_truncnormal_d(double *out, long long n, uint64_t seed, uint64_t stream, double mean,
                              double std, double a, double b)


cdef uint64_t _u64(name, value) except? 0:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not 0 <= value < 2**64:
        raise ValueError(f"{name} must be in [0, 2**64), got {value}")
    return <uint64_t>value


cdef cnp.ndarray _fill_target(out):
    if not isinstance(out, cnp.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    cdef cnp.ndarray x = <cnp.ndarray>out
    if cnp.PyArray_TYPE(x) != cnp.NPY_FLOAT32 and cnp.PyArray_TYPE(x) != cnp.NPY_FLOAT64:
        raise TypeError(f"{_describe('out', x)}: expected float32 or float64")
    if not cnp.PyArray_IS_C_CONTIGUOUS(x) or not cnp.PyArray_ISWRITEABLE(x):
        raise ValueError(f"{_describe('out', x)} must be C-contiguous and writeable")
    return x


def _rng_block(seed, stream, block):
    """The four raw 32-bit words of one Philox4x32-10 block (for pinned-value tests)."""
    cdef uint32_t w[4]
    fi_rng_block(w, _u64("seed", seed), _u64("stream", stream), _u64("block", block))
    return [w[0], w[1], w[2], w[3]]


def _rng_fill(out, str dist, seed, stream=0, double p0=0.0, double p1=1.0, double p2=0.0,
              double p3=0.0):
    """Fill `out` in place: dist "uniform" (low=p0, high=p1), "normal" (mean=p0, std=p1) or
    "truncnormal" (mean=p0, std=p1, bounds [p2, p3]). Element i depends only on (seed, stream, i)."""
    cdef cnp.ndarray x = _fill_target(out)
    cdef uint64_t s = _u64("seed", seed), st = _u64("stream", stream)
    cdef long long n = cnp.PyArray_SIZE(x)
    cdef void *p = cnp.PyArray_DATA(x)
    cdef bint f32 = cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32
    cdef int kind
    if dist == "uniform":
        kind = 0
    elif dist == "normal":
        kind = 1
    elif dist == "truncnormal":
        kind = 2
        if not p2 < p3:
            raise ValueError(f"truncation bounds need a < b, got a={p2}, b={p3}")
    else:
        raise ValueError(f"dist must be 'uniform', 'normal' or 'truncnormal', got {dist!r}")
    if kind and not p1 > 0:
        raise ValueError(f"std must be > 0, got {p1}")
    with nogil:
        if kind == 0:
            if f32:
                fi_rng_uniform_s(<float *>p, n, s, st, p0, p1)
            else:
                fi_rng_uniform_d(<double *>p, n, s, st, p0, p1)
        elif kind == 1:
            if f32:
                fi_rng_normal_s(<float *>p, n, s, st, p0, p1)
            else:
                fi_rng_normal_d(<double *>p, n, s, st, p0, p1)
        else:
            if f32:
                fi_rng_truncnormal_s(<float *>p, n, s, st, p0, p1, p2, p3)
            else:
                fi_rng_truncnormal_d(<double *>p, n, s, st, p0, p1, p2, p3)
    return out
