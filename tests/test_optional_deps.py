"""The optional bridges say in one line what to install when their dependency is missing."""
import importlib
import sys

import pytest


@pytest.mark.parametrize("module, dep, advice", [
    ("fastinit.sklearn", "sklearn", "pip install scikit-learn (or pip install fastinit[sklearn])"),
    ("fastinit.torch", "torch", "pip install torch"),
])
def test_missing_dependency_names_what_to_install(module, dep, advice, monkeypatch):
    monkeypatch.delitem(sys.modules, module, raising=False)
    for name in [m for m in sys.modules if m == dep or m.startswith(dep + ".")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, dep, None)
    with pytest.raises(ImportError) as e:
        importlib.import_module(module)
    msg = str(e.value)
    assert advice in msg and "\n" not in msg


def test_fastinit_imports_no_optional_dependency():
    import subprocess

    code = ("import sys, fastinit, fastinit.nn, fastinit.study; "
            "print(sorted(m for m in ('sklearn', 'torch', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
