# Tensor statistics (csrc/fi_stats.h) for the diagnostics.

cdef extern from "fi_stats.h" nogil:
    ctypedef struct fi_stats_t:
        double mean, std, min, max, zero_frac, sat_frac
        int64_t nonfinite
    void fi_stats_s(fi_stats_t *out, int64_t *hist, const float *x, long long n, double sat_lo, double sat_hi, int bins)
    void fi_stats_d(fi_stats_t *out, int64_t *hist, const double *x, long long n, double sat_lo, double sat_hi, int bins)
    long long fi_dead_units_s(const float *a, long long n, long long k)
    long long fi_dead_units_d(const double *a, long long n, long long k)
    long long fi_distinct_rows_s(const float *w, const float *b, long long r, long long k, double tol)
    long long fi_distinct_rows_d(const double *w, const double *b, long long r, long long k, double tol)


cdef cnp.ndarray _stats_input(name, x):
    if not isinstance(x, cnp.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    cdef cnp.ndarray a = <cnp.ndarray>x
    if cnp.PyArray_TYPE(a) != cnp.NPY_FLOAT32 and cnp.PyArray_TYPE(a) != cnp.NPY_FLOAT64:
        raise TypeError(f"{_describe(name, a)}: expected float32 or float64")
    return np.ascontiguousarray(a)


def tensor_stats(x, double sat_lo=-np.inf, double sat_hi=np.inf, int bins=0):
    """mean, std, min, max, zero and saturated (outside [sat_lo, sat_hi]) fractions of the
    finite values of x, the count of non-finite ones, and with bins > 0 a histogram over
    [min, max] ([v - 0.5, v + 0.5] if all equal v, as NumPy's): a dict with "hist" = (counts, edges)."""
    cdef cnp.ndarray a = _stats_input("x", x)
    if bins < 0:
        raise ValueError(f"bins must be >= 0, got {bins}")
    cdef fi_stats_t s
    cdef cnp.ndarray counts = np.zeros(max(bins, 1), np.int64)
    cdef long long n = cnp.PyArray_SIZE(a)
    with nogil:
        if cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32:
            fi_stats_s(&s, <int64_t *>cnp.PyArray_DATA(counts), <const float *>cnp.PyArray_DATA(a), n, sat_lo, sat_hi, bins)
        else:
            fi_stats_d(&s, <int64_t *>cnp.PyArray_DATA(counts), <const double *>cnp.PyArray_DATA(a), n, sat_lo, sat_hi, bins)
    out = {"mean": s.mean, "std": s.std, "min": s.min, "max": s.max, "zero_frac": s.zero_frac,
           "sat_frac": s.sat_frac, "nonfinite": s.nonfinite}
    if bins:
        lo, hi = (s.min, s.max) if s.max > s.min else (s.min - 0.5, s.min + 0.5)
        out["hist"] = (counts, np.linspace(lo, hi, bins + 1))
    return out


def dead_units(a):
    """Number of columns of a (n, k) that are <= 0 in every row."""
    cdef cnp.ndarray x = _stats_input("a", a)
    if x.ndim != 2:
        raise ValueError(f"{_describe('a', x)}: expected a 2-D (batch, units) array")
    cdef long long n = x.shape[0], k = x.shape[1], dead
    with nogil:
        if cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32:
            dead = fi_dead_units_s(<const float *>cnp.PyArray_DATA(x), n, k)
        else:
            dead = fi_dead_units_d(<const double *>cnp.PyArray_DATA(x), n, k)
    return dead


def distinct_rows(w, b=None, double tol=1e-6):
    """Number of different rows of [w | b] (w (r, k), b (r,) or None) once every value is
    rounded to a multiple of tol * max|value| (finite values; NaN and +-inf are values of
    their own)."""
    cdef cnp.ndarray x = _stats_input("w", w), xb = None
    if x.ndim != 2:
        raise ValueError(f"{_describe('w', x)}: expected a 2-D (rows, columns) array")
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol}")
    if b is not None:
        xb = _stats_input("b", b)
        if xb.ndim != 1 or xb.shape[0] != x.shape[0] or xb.dtype != x.dtype:
            raise ValueError(f"{_describe('b', xb)}: expected a ({x.shape[0]},) {x.dtype} array to match w")
    cdef long long r = x.shape[0], k = x.shape[1], out
    cdef void *pw = cnp.PyArray_DATA(x)
    cdef void *pb = cnp.PyArray_DATA(xb) if xb is not None else NULL
    with nogil:
        if cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32:
            out = fi_distinct_rows_s(<const float *>pw, <const float *>pb, r, k, tol)
        else:
            out = fi_distinct_rows_d(<const double *>pw, <const double *>pb, r, k, tol)
    if out < 0:
        raise MemoryError(f"distinct_rows: cannot allocate the codes of a {r}x{k} matrix")
    return out
