"""The layers' rule (docs/architecture.md): study -> library -> _core, never upwards; no
function-level import of a fastinit module; no module over ~450 lines."""
import ast
import pathlib

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / "fastinit"
MODULES = sorted(p for p in PKG.rglob("*.py"))


def _name(path: pathlib.Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    """0 the binding layer, 1 the library, 2 the application (the study), 3 the package facade
    and the `python -m fastinit` entry."""
    if module in ("fastinit", "fastinit.__main__"):
        return 3
    if module.startswith("fastinit.study"):
        return 2
    if module.startswith("fastinit._core"):
        return 0
    return 1


def _imports(tree: ast.AST, module: str):
    """(line, imported fastinit module, at module level?) for every import in tree."""
    top = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            names = [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for n in names:
            if n == "fastinit" or n.startswith("fastinit."):
                yield node.lineno, n, id(node) in top


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _name(p))
def test_no_module_imports_a_layer_above_it(path):
    module = _name(path)
    tree = ast.parse(path.read_text())
    for line, imported, _ in _imports(tree, module):
        target = imported
        while target not in {_name(p) for p in MODULES} and "." in target:
            target = target.rsplit(".", 1)[0]  # fastinit.init.get -> fastinit.init
        assert _layer(target) <= _layer(module), f"{module}:{line} imports {imported}, a layer above it"


#: Modules that exist to wrap an optional dependency: imported where they are used, so that
#: importing fastinit never pulls that dependency in.
OPTIONAL_BRIDGES = ("fastinit.torch",)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _name(p))
def test_no_function_level_import_of_fastinit(path):
    module = _name(path)
    inner = [(line, n) for line, n, top in _imports(ast.parse(path.read_text()), module)
             if not top and not n.startswith(OPTIONAL_BRIDGES)]
    assert not inner, f"{module} imports fastinit modules inside functions: {inner}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _name(p))
def test_modules_stay_small(path):
    assert len(path.read_text().splitlines()) <= 450, f"{_name(path)}: split it by concern"


def test_the_library_never_imports_the_study():
    for path in MODULES:
        module = _name(path)
        if _layer(module) <= 1:
            for line, imported, _ in _imports(ast.parse(path.read_text()), module):
                assert not imported.startswith("fastinit.study"), f"{module}:{line} imports {imported}"


def test_the_rule_catches_an_upward_import():
    """The checker itself can fail: a library module importing the study is caught."""
    tree = ast.parse("from fastinit.study import plan\n")
    found = [(_layer(n.rsplit('.', 1)[0]), n) for _, n, _ in _imports(tree, "fastinit.nn")]
    assert any(layer > _layer("fastinit.nn") for layer, _ in found)
