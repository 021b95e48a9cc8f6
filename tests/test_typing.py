"""The public API type-checks: mypy --strict on a user's script (tests/typing/user_script.py),
which also runs; and _core/_ext.pyi declares the extension's classes as they are."""
import ast
import inspect
import os
import pathlib
import subprocess
import sys
import tempfile

import pytest

import fastinit
from fastinit._core import _ext

SCRIPT = pathlib.Path(__file__).parent / "typing" / "user_script.py"
# mypy resolves `fastinit` from its working directory first: the package the tests import.
PACKAGE_PARENT = pathlib.Path(fastinit.__file__).resolve().parents[1]


def test_user_script_passes_mypy_strict():
    pytest.importorskip("mypy")
    pytest.importorskip("sklearn")  # the script uses fastinit.sklearn
    # Errors inside fastinit itself are not the user's (follow-imports=silent checks them for the
    # types they give, without reporting); the cache outlives the run (numpy's stubs are large).
    cache = os.path.join(tempfile.gettempdir(), "fastinit-mypy-cache")
    proc = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-error-summary",
                           "--cache-dir", cache, str(SCRIPT)], cwd=PACKAGE_PARENT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_user_script_runs():
    pytest.importorskip("sklearn")
    proc = subprocess.run([sys.executable, str(SCRIPT)], cwd=PACKAGE_PARENT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(PACKAGE_PARENT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "estimator acc" in proc.stdout


def test_core_stub_classes_match_the_extension():
    stub = ast.parse((pathlib.Path(_ext.__file__).parent / "_ext.pyi").read_text())
    for node in stub.body:
        if not isinstance(node, ast.ClassDef):
            continue
        cls = getattr(_ext, node.name)
        declared = {n.name for n in node.body if isinstance(n, ast.FunctionDef)} | \
                   {n.target.id for n in node.body if isinstance(n, ast.AnnAssign)}
        defined = {k for k in vars(cls) if not k.startswith("__")} | ({"__init__"} if "__init__" in declared else set())
        assert declared == defined, node.name
        for fn in node.body:
            member = getattr(cls, fn.name, None) if isinstance(fn, ast.FunctionDef) else None
            if member is None or fn.name == "__init__" or isinstance(member, property) or not callable(member):
                continue
            want = [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
            assert list(inspect.signature(member).parameters) == want, f"{node.name}.{fn.name}"
