"""fastinit/_core/_ext.pyi names exactly what the binding extension defines, with the same
parameters, and the package re-exports all of it."""
import ast
import inspect
import pathlib

from fastinit import _core
from fastinit._core import _ext

STUB = ast.parse((pathlib.Path(_ext.__file__).parent / "_ext.pyi").read_text())


def _defined():
    return {n: getattr(_ext, n) for n in dir(_ext)
            if not n.startswith("__") and not inspect.ismodule(getattr(_ext, n))}


def _stubbed():
    names = {node.name for node in STUB.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    return names | {node.target.id for node in STUB.body if isinstance(node, ast.AnnAssign)}


def test_stub_names_match_the_extension():
    assert _stubbed() == set(_defined())


def test_the_binding_package_exports_every_name():
    assert set(_core.__all__) == _stubbed() - {"_Workspace", "_EnsWorkspace"}


def test_stub_parameters_match_the_functions():
    for node in STUB.body:
        if isinstance(node, ast.FunctionDef):
            want = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
            got = list(inspect.signature(getattr(_ext, node.name)).parameters)
            assert got == want, node.name
