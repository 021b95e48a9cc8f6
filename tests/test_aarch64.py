"""csrc built for aarch64 by a cross compiler and run under qemu: the NEON GEMM kernels are
correct, and every kernel gives the bits the x86 build gives (same seed, same numbers on any
machine). Needs aarch64-linux-gnu-gcc and qemu-aarch64 (.ci/run installs them)."""
import ast
import shutil
import subprocess
from pathlib import Path

import pytest

import fastinit

ROOT = Path(__file__).resolve().parents[1]
CROSS_CC, QEMU = "aarch64-linux-gnu-gcc", "qemu-aarch64"
KERNEL = fastinit.kernel_info()["kernel"]

pytestmark = pytest.mark.skipif(shutil.which(CROSS_CC) is None or shutil.which(QEMU) is None,
                                reason=f"needs {CROSS_CC} and {QEMU} (Debian: gcc-aarch64-linux-gnu qemu-user)")


def _extension_flags():
    """setup.py's BASE_FLAGS, so the checks are built as the extension is."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    (flags,) = [ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                and any(getattr(t, "id", None) == "BASE_FLAGS" for t in n.targets)]
    return [f for f in flags if not f.startswith("-fvisibility")]


def _build(main, tmp_path):
    """tests/c/<main>.c with all of csrc, for x86 (native) and aarch64 (static), side by side."""
    csrc = ROOT / "csrc"
    sources = [str(p) for p in (ROOT / "tests/c" / f"{main}.c", *csrc.glob("*.c"), *csrc.glob("gemm/*.c"))]
    outs = [tmp_path / f"{main}_x86", tmp_path / f"{main}_arm"]
    procs = [subprocess.Popen([cc, *_extension_flags(), "-std=gnu11", *extra, f"-I{csrc}", *sources, "-lm", "-o",
                               str(out)], stderr=subprocess.PIPE, text=True)
             for cc, extra, out in (("cc", [], outs[0]), (CROSS_CC, ["-static"], outs[1]))]
    for p in procs:
        err = p.communicate()[1]
        assert p.returncode == 0, err[-3000:]
    return [str(o) for o in outs]


def _run(argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    return r.stdout


def test_neon_gemm_is_correct_and_gives_the_x86_kernels_bits(tmp_path):
    x86, arm = _build("gemm_check", tmp_path)
    neon = _run([QEMU, arm, "neon"])
    assert " 0 values out of bounds" in neon
    cases = [line for line in neon.splitlines() if line.startswith("case ")]
    assert len(cases) == 288
    if KERNEL in ("avx2", "avx512"):
        # The same FMA chain for every C value on both architectures: the same bits.
        assert cases == [line for line in _run([x86, KERNEL]).splitlines() if line.startswith("case ")]


# glibc's erfc gives different last bits on x86-64 and aarch64; GELU (erf form) and the float64
# truncated normal call it. Everything else must agree bit for bit.
LIBM_ERFC = {"act7_forward_s", "act7_backward_s", "act7_forward_d", "act7_backward_d", "rng_truncnormal_d"}


def test_random_numbers_activations_losses_and_updates_have_the_same_bits_on_x86_and_aarch64(tmp_path):
    x86, arm = _build("repro_check", tmp_path)
    here = dict(line.split() for line in _run([x86]).splitlines())
    there = dict(line.split() for line in _run([QEMU, arm]).splitlines())
    assert here.keys() == there.keys() and len(here) == 86  # 12 activations x 2 passes x 2 dtypes + 38
    differ = {k for k in here if here[k] != there[k]}
    assert differ <= LIBM_ERFC, sorted(differ - LIBM_ERFC)
