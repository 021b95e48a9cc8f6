# Tensor statistics (csrc/fi_stats.h) for the diagnostics.
import numpy as np

from cython cimport floating
from libc.stdint cimport int64_t

from fastinit._core cimport capi
from fastinit._core.capi cimport fi_dim_t


def tensor_stats(floating[::1] x, double sat_lo, double sat_hi, int64_t[::1] counts, int bins):
    """mean, std, min, max, zero and saturated (outside [sat_lo, sat_hi]) fractions of the
    finite values of x and the count of non-finite ones; with bins > 0 (len(counts) >= bins),
    a histogram of the finite values over [min, max] into counts."""
    cdef capi.fi_stats_t s
    cdef floating dummy = 0
    cdef const floating *px = &x[0] if x.shape[0] else &dummy
    with nogil:
        capi.stats(&s, &counts[0], px, x.shape[0], sat_lo, sat_hi, bins)
    return {"mean": s.mean, "std": s.std, "min": s.min, "max": s.max, "zero_frac": s.zero_frac,
            "sat_frac": s.sat_frac, "nonfinite": s.nonfinite}


def dead_units(const floating[:, ::1] a):
    """Number of columns of a (n, k) that are <= 0 in every row."""
    if a.shape[0] == 0 or a.shape[1] == 0:
        return a.shape[1] if a.shape[0] == 0 else 0
    cdef fi_dim_t out
    with nogil:
        out = capi.dead_units(&a[0, 0], a.shape[0], a.shape[1])
    return out


def distinct_rows(const floating[:, ::1] w, const floating[::1] b, double tol):
    """Number of different rows of [w | b] (b None or (rows,)), values rounded to multiples of
    tol * max|value|; -1 if the codes could not be allocated."""
    if w.shape[0] == 0:
        return 0
    cdef fi_dim_t out
    cdef const floating *pb = &b[0] if b is not None else NULL
    cdef const floating *pw = &w[0, 0] if w.shape[1] else NULL
    with nogil:
        out = capi.distinct_rows(pw, pb, w.shape[0], w.shape[1], tol)
    return out
