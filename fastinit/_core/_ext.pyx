# cython: language_level=3
"""fastinit._core._ext: the binding layer, thin Cython over csrc/ (declared once in capi.pxd).

Every function here assumes its input was validated by the library (fastinit/_validate.py):
dtypes, shapes, contiguity and ranges are the caller's contract, as in scikit-learn's Cython.
They take pointers, release the GIL and call C. One extension module, so that every kernel
family shares csrc's one CPU-dispatch context; each included file imports what it uses.
"""
include "cpu.pxi"
include "gemm.pxi"
include "rng.pxi"
include "stats.pxi"
include "nn.pxi"
include "ensemble.pxi"
