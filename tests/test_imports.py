"""The import direction: backend <- autograd <- ops <- tensor <- nn <- transformer.

Each module of the library may import only modules of its own layer or a lower one; nothing
lower imports anything higher. The imports are read with ``ast`` (every ``import`` statement,
at module level or inside a function, except the annotation-only ones under
``if TYPE_CHECKING:``), so the test needs no import machinery and names the file and line at
fault.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# lower number = lower layer; the first matching prefix wins
LAYERS = [
    ("minigrad.errors", 0),
    ("minigrad.return_types", 0),
    ("minigrad.aliases", 0),  # axis= for dim=  # named tuples the ops return (max(dim))
    ("minigrad.backend", 1),
    ("minigrad.promotion", 1),  # PyTorch's dtype promotion table, over backend dtypes
    ("minigrad.inplace", 1),  # the version counters the engine checks
    ("minigrad.saved", 1),  # the saved-tensor hooks the engine calls
    ("minigrad.autograd", 2),
    (
        "minigrad.observe",
        2,
    ),  # the one observer slot the engine calls; sets it, never imported by it
    ("minigrad.ops", 3),
    ("minigrad.tensor", 4),
    ("minigrad", 5),  # the public API built on Tensor: creation, gradcheck, viz, __init__
    ("nn", 6),
    ("transformer", 7),
]

# Imports that cross a line the wrong way, each with its reason: none today. Keep it that way.
KNOWN_UPWARD: set[tuple[str, str]] = set()

# Inside one layer, pairs where the second must not import the first (no cycle between them).
NOT_BACKWARDS = [
    ("nn.optim", "nn.schedule"),  # nn.optim re-exports the schedulers
    ("transformer.train", "transformer.translate"),  # a script never imports another script
    ("transformer.translate", "transformer.train"),
]


def _layer(module: str) -> int | None:
    for prefix, rank in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return rank
    return None  # not ours: the standard library or a third-party package


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, imported module) for every run-time import in ``tree``."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # `from minigrad import backend` imports the submodule minigrad.backend
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _library_files() -> list[Path]:
    return sorted(
        p for pkg in ("minigrad", "nn", "transformer") for p in (ROOT / pkg).rglob("*.py")
    )


def _resolve(name: str) -> str:
    """``minigrad.backend.float32`` -> ``minigrad.backend``: the longest prefix that is a module."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ROOT.joinpath(*parts[:n])
        if candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists():
            return ".".join(parts[:n])
    return name


def _all_imports() -> list[tuple[str, Path, int, str]]:
    rows = []
    for path in _library_files():
        importer = _module_name(path)
        for line, name in _imports(ast.parse(path.read_text(), str(path))):
            rows.append((importer, path, line, _resolve(name)))
    return rows


def test_the_import_parser_sees_imports_and_skips_type_checking():
    tree = ast.parse(
        "import a.b\nfrom c import d\nif TYPE_CHECKING:\n    import hidden\n"
        "def f():\n    from e import g\n"
    )
    assert [name for _, name in _imports(tree)] == ["a.b", "c.d", "e.g"]


def test_no_module_imports_a_higher_layer():
    upward = []
    for importer, path, line, imported in _all_imports():
        low, high = _layer(importer), _layer(imported)
        if low is None or high is None or high <= low:
            continue
        if any(importer.startswith(a) and imported.startswith(b) for a, b in KNOWN_UPWARD):
            continue
        upward.append(f"{path.relative_to(ROOT)}:{line}: {importer} imports {imported}")
    assert not upward, "imports against the direction backend <- ... <- transformer:\n" + (
        "\n".join(upward)
    )


@pytest.mark.parametrize("lower, higher", NOT_BACKWARDS)
def test_no_cycle_inside_a_layer(lower, higher):
    offending = [
        f"{path.relative_to(ROOT)}:{line}"
        for importer, path, line, imported in _all_imports()
        if importer == higher and (imported == lower or imported.startswith(lower + "."))
    ]
    assert not offending, f"{higher} imports {lower}: " + ", ".join(offending)


def test_nn_and_transformer_use_no_private_name_of_minigrad():
    private = []
    for path in _library_files():
        if _module_name(path).split(".")[0] not in ("nn", "transformer"):
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("minigrad"):
                names = [node.module, *(a.name for a in node.names)]
                if any(part.startswith("_") for n in names for part in n.split(".")):
                    private.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            elif isinstance(node, ast.Attribute) and node.attr in ("_wrap", "_util"):
                private.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
    assert not private, "private minigrad names used in nn/transformer: " + ", ".join(private)


# nn.Module reads the registries of the modules it walks (its own class's private state)
OWN_PRIVATE_STATE = {("nn/module.py", "module")}


def test_nn_and_transformer_read_private_attributes_only_of_their_own_objects():
    """``x._name`` in nn/ and transformer/ only on ``self``/``cls`` (or a Module walking its
    submodules): a minigrad object's private attribute (``t._version``, ``node._hooks``) is
    never read there, nor fetched by ``getattr(x, "_name")``."""
    found = []
    for path in _library_files():
        if _module_name(path).split(".")[0] not in ("nn", "transformer"):
            continue
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and _private(node.attr):
                owner = ast.unparse(node.value)
                if owner not in ("self", "cls") and (where, owner) not in OWN_PRIVATE_STATE:
                    found.append(f"{where}:{node.lineno} {owner}.{node.attr}")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
                and _private(str(node.args[1].value))
            ):
                found.append(f"{where}:{node.lineno} {ast.unparse(node)}")
    assert not found, "private attributes of other objects read in nn/transformer: " + (
        ", ".join(found)
    )


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
