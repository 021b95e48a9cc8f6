# Counter-based RNG (csrc/fi_rng.h): fills of preallocated arrays, GIL released.
from cython cimport floating
from libc.stdint cimport uint32_t, uint64_t

from fastinit._core cimport capi

#: distribution name -> the kind capi.rng_fill takes
RNG_KINDS = {"uniform": 0, "normal": 1, "truncnormal": 2}


def rng_block(uint64_t seed, uint64_t stream, uint64_t block):
    """The four raw 32-bit words of one Philox4x32-10 block (for pinned-value tests)."""
    cdef uint32_t w[4]
    capi.fi_rng_block(w, seed, stream, block)
    return [w[0], w[1], w[2], w[3]]


def rng_fill(floating[::1] out, int kind, uint64_t seed, uint64_t stream, double p0, double p1,
             double p2=0.0, double p3=0.0):
    """Fill `out` in place: kind 0 uniform [p0, p1), 1 normal (mean p0, std p1 > 0), 2 normal
    truncated to [p2, p3] (p2 < p3). Element i depends only on (seed, stream, i)."""
    if out.shape[0] == 0:
        return
    with nogil:
        capi.rng_fill(kind, &out[0], out.shape[0], seed, stream, p0, p1, p2, p3)
