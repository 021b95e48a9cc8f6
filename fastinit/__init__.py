"""fastinit: dense neural networks on the CPU, with a C core, for studying weight initialization."""
__version__ = "0.1.0"

from fastinit import data, diagnostics, init, optim  # noqa: E402
from fastinit.linalg import matmul  # noqa: E402
from fastinit.nn import MLP, load  # noqa: E402
from fastinit.runtime import get_num_threads, kernel_info, set_num_threads  # noqa: E402
from fastinit.train import History, fit  # noqa: E402
from fastinit import study  # noqa: E402  (the application layer, above the library)

__all__ = ["History", "MLP", "data", "diagnostics", "fit", "get_num_threads", "init", "kernel_info", "load",
           "matmul", "optim", "set_num_threads", "study", "__version__"]
