"""fastinit: dense neural networks on the CPU, with a C core, for studying weight initialization."""
from fastinit import data, diagnostics, init, optim, study
from fastinit._core import get_num_threads, kernel_info, matmul, set_num_threads
from fastinit.nn import MLP, load
from fastinit.train import History, fit

__version__ = "0.1.0"

__all__ = ["History", "MLP", "data", "diagnostics", "fit", "get_num_threads", "init", "kernel_info", "load",
           "matmul", "optim", "set_num_threads", "study", "__version__"]
