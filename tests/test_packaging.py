"""The sdist (setup.py, pyproject.toml, MANIFEST.in) carries every input of the build."""
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD_OUTPUTS = ("*.so", "*.pyd", "*.o", "_ext.c", "_ext.html", "build", "dist", "*.egg-info", ".git",
                 "__pycache__", ".pytest_cache", ".benchmarks", ".hypothesis", "fastinit_results")


def _inputs():
    files = [*ROOT.glob("csrc/**/*.c"), *ROOT.glob("csrc/**/*.h"), *ROOT.glob("fastinit/**/*.py"),
             *ROOT.glob("fastinit/_core/*.pyx"), *ROOT.glob("fastinit/_core/*.pxi"),
             *ROOT.glob("fastinit/_core/*.pxd"), *ROOT.glob("fastinit/_core/*.pyi"),
             ROOT / "fastinit/py.typed", ROOT / "setup.py", ROOT / "pyproject.toml", ROOT / "README.md"]
    return {f.relative_to(ROOT).as_posix() for f in files}


def test_sdist_holds_every_build_input_and_no_build_output(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(*BUILD_OUTPUTS))
    proc = subprocess.run([sys.executable, "setup.py", "-q", "sdist", "-d", str(tmp_path / "dist")], cwd=src,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (sdist,) = (tmp_path / "dist").glob("fastinit-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    missing = _inputs() - names
    assert not missing, f"the sdist lacks {sorted(missing)}: add them to MANIFEST.in"
    assert "csrc/gemm/ukr_avx2.c" in names and "fastinit/_core/_ext.pyx" in names
    assert not {n for n in names if n.endswith((".so", "_ext.c"))}
