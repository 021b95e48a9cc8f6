"""Build the fastinit._core extension: Cython wrappers over the C kernels in csrc/.

No -march=native: SIMD micro-kernels carry their own target attributes and are chosen at
run time, so one build runs on any CPU of its architecture. OpenMP is used when the compiler
accepts it; otherwise the kernels run serially.
"""
import glob
import os
import shlex
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# -ffp-contract=off: no a*b+c fused behind our back. GCC fuses by default where the target has
# FMA (every aarch64 CPU), which changed random numbers, optimizer updates and losses between x86
# and aarch64; the kernels' FMAs are explicit, so this costs them nothing and the bits agree.
BASE_FLAGS = ["-O3", "-fno-math-errno", "-ffp-contract=off", "-fvisibility=hidden"]


def _compiler_accepts(compiler, flags, ldflags):
    """Compile and link a tiny OpenMP program with `flags`; True if that works. The link gets
    CFLAGS and LDFLAGS too: compile() applies CFLAGS but link_executable() does not, so with
    -fsanitize=address in CFLAGS alone the probe failed to link and the build silently went
    without OpenMP."""
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "omp_probe.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n")
        objs = compiler.compile([src], output_dir=tmp, extra_postargs=flags)
        env = shlex.split(os.environ.get("CFLAGS", "")) + shlex.split(os.environ.get("LDFLAGS", ""))
        compiler.link_executable(objs, "omp_probe", output_dir=tmp, extra_postargs=ldflags + env)
        return True
    except Exception:
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
        if self.compiler.compiler_type == "msvc":
            flags, omp, omp_ld = ["/O2"], ["/openmp"], []
        else:
            flags, omp, omp_ld = list(BASE_FLAGS), ["-fopenmp"], ["-fopenmp"]
        use_omp = os.environ.get("FASTINIT_NO_OPENMP") != "1" and _compiler_accepts(self.compiler, omp, omp_ld)
        if use_omp:
            flags += omp
        else:
            omp_ld = []
        build_flags = " ".join(flags)
        for ext in self.extensions:
            ext.extra_compile_args = flags + ext.extra_compile_args
            ext.extra_link_args = omp_ld + ext.extra_link_args
            ext.define_macros.append(("FI_BUILD_FLAGS", '"%s"' % build_flags))
        sys.stderr.write("fastinit: compiling with %s (OpenMP %s)\n" % (build_flags, "on" if use_omp else "off"))
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
