"""fastinit/_core.pyi names exactly what the extension defines, with the same parameters."""
import ast
import inspect
import pathlib

import fastinit
from fastinit import _core

STUB = ast.parse((pathlib.Path(fastinit.__file__).parent / "_core.pyi").read_text())


def _defined():
    return {n: getattr(_core, n) for n in dir(_core)
            if not n.startswith("__") and not inspect.ismodule(getattr(_core, n))}


def test_stub_names_match_the_extension():
    stubbed = {node.name for node in STUB.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    assert stubbed == set(_defined())


def test_stub_parameters_match_the_functions():
    for node in STUB.body:
        if isinstance(node, ast.FunctionDef):
            want = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
            got = list(inspect.signature(getattr(_core, node.name)).parameters)
            assert got == want, node.name
