"""fastinit: dense neural networks on the CPU, with a C core, for studying weight initialization."""
from fastinit._core import get_num_threads, kernel_info, matmul, set_num_threads

__version__ = "0.1.0"

__all__ = ["get_num_threads", "kernel_info", "matmul", "set_num_threads", "__version__"]
