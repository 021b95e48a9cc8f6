"""fastinit: dense neural networks on the CPU, with a C core, for studying weight initialization."""
from fastinit._version import __version__
from fastinit import data, diagnostics, init, optim, theory
from fastinit.linalg import matmul
from fastinit.ensemble import Ensemble, fit_ensemble
from fastinit.nn import MLP, load
from fastinit.runtime import get_num_threads, kernel_info, set_num_threads
from fastinit.train import History, fit
from fastinit import study  # the application layer, above the library

__all__ = ["Ensemble", "History", "MLP", "data", "diagnostics", "fit", "fit_ensemble", "get_num_threads", "init", "kernel_info", "load",
           "matmul", "optim", "set_num_threads", "study", "theory", "__version__"]
