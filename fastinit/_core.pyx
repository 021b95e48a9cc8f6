# cython: language_level=3
"""fastinit._core: thin Cython wrappers over the C kernels in csrc/.

Each concern lives in its own .pxi below (declarations of its C API plus its wrappers);
they are compiled into this one module so all kernels share one CPU-dispatch context.
Wrappers validate shapes and dtypes, take typed memoryviews, release the GIL and call C.
"""
cimport numpy as cnp

cnp.import_array()

include "_cpu.pxi"
include "_gemm.pxi"
include "_rng.pxi"
include "_nn.pxi"
include "_stats.pxi"
