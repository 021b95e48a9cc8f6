"""Build the fastinit._core extension: Cython wrappers over the C kernels in csrc/.

No -march=native: SIMD micro-kernels carry their own target attributes and are chosen at
run time, so one build runs on any CPU of its architecture. Threads are the kernels' own task
pool (csrc/fi_pool.c, pthreads): no OpenMP runtime is linked.
"""
import glob
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# -ffp-contract=off: no a*b+c fused behind our back. GCC fuses by default where the target has
# FMA (every aarch64 CPU), which changed random numbers, optimizer updates and losses between x86
# and aarch64; the kernels' FMAs are explicit, so this costs them nothing and the bits agree.
BASE_FLAGS = ["-O3", "-fno-math-errno", "-ffp-contract=off", "-fvisibility=hidden"]


def _compile_on_every_core(compiler):
    """Make compiler.compile build its sources side by side, one per core: setuptools compiles
    the ~40 files of one extension one after the other, which was most of every build (CI
    builds several). Same commands, same objects; unix compilers only (their compile() is
    _setup_compile, then _compile per object)."""
    def compile(sources, output_dir=None, macros=None, include_dirs=None, debug=0, extra_preargs=None,
                extra_postargs=None, depends=None):
        macros, objects, extra, pp_opts, build = compiler._setup_compile(
            output_dir, macros, include_dirs, sources, depends, extra_postargs)
        cc_args = compiler._get_cc_args(pp_opts, debug, extra_preargs)
        todo = [(obj, *build[obj]) for obj in objects if obj in build]
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            list(pool.map(lambda t: compiler._compile(t[0], t[1], t[2], cc_args, extra, pp_opts), todo))
        return objects
    compiler.compile = compile


class BuildExt(build_ext):
    def build_extensions(self):
        # Threads are csrc/fi_pool's own (pthreads): no OpenMP runtime to find, link or graft.
        if self.compiler.compiler_type == "msvc":
            flags, ld = ["/O2"], []
        else:
            flags, ld = list(BASE_FLAGS) + ["-pthread"], ["-pthread"]
        build_flags = " ".join(flags)
        for ext in self.extensions:
            ext.extra_compile_args = flags + ext.extra_compile_args
            ext.extra_link_args = ld + ext.extra_link_args
            ext.define_macros.append(("FI_BUILD_FLAGS", '"%s"' % build_flags))
        sys.stderr.write("fastinit: compiling with %s\n" % build_flags)
        if self.compiler.compiler_type == "unix":
            _compile_on_every_core(self.compiler)
        super().build_extensions()


csrc = sorted(glob.glob("csrc/**/*.c", recursive=True))
ext = Extension(
    "fastinit._core._ext",
    sources=["fastinit/_core/_ext.pyx"] + csrc,
    include_dirs=["csrc", numpy.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    depends=sorted(glob.glob("csrc/**/*.h", recursive=True) + glob.glob("fastinit/_core/*.px[id]")),
)

setup(
    ext_modules=cythonize(
        [ext],
        include_path=["."],
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
    cmdclass={"build_ext": BuildExt},
)
