"""House style that a test can hold: no function in the library over 60 lines, and every
module's docstring says what the file owns and what it may import.

A function's length is counted from its first line (``def``, after any decorators) to its
last, docstring and signature included, for every function and method, nested ones too, in
``minigrad/``, ``nn/`` and ``transformer/``. A long function is split into named steps that
read top to bottom, not cut at an arbitrary line.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ("minigrad", "nn", "transformer")
MAX_LINES = 60

# Functions still over the limit, each with the reason. Keep this list short; a name leaves it
# when its function is split.
ALLOWED: set[str] = set()  # "path:Qualified.name" of a function allowed to stay long, if any


def function_lengths(tree: ast.AST) -> list[tuple[str, int, int]]:
    """(qualified name, first line, length in lines) of every function in ``tree``, methods
    and nested functions included: ``Class.method``, ``outer.inner``."""
    found: list[tuple[str, int, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                found.append((name, child.lineno, child.end_lineno - child.lineno + 1))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def long_functions(limit: int = MAX_LINES) -> dict[str, int]:
    """``path:qualified name`` -> length, for every library function over ``limit`` lines."""
    long = {}
    for package in LIBRARY:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for name, _, length in function_lengths(tree):
                if length > limit:
                    long[f"{path.relative_to(ROOT).as_posix()}:{name}"] = length
    return long


def test_the_counter_sees_methods_nested_functions_docstrings_and_decorators():
    source = (
        "@decorator\n"  # 1: not counted, the count starts at def
        "def f(a,\n"  # 2
        "      b):\n"  # 3
        '    """doc"""\n'  # 4
        "    def inner():\n"  # 5
        "        return 1\n"  # 6
        "    return inner\n"  # 7
        "class C:\n"
        "    def m(self):\n"
        "        if True:\n"
        "            async def deep():\n"
        "                pass\n"
    )
    found = {name: (line, n) for name, line, n in function_lengths(ast.parse(source))}
    assert found == {
        "f": (2, 6),
        "f.inner": (5, 2),
        "C.m": (9, 4),
        "C.m.deep": (11, 2),
    }


def test_no_library_function_over_60_lines():
    long = long_functions()
    over = {name: n for name, n in long.items() if name not in ALLOWED}
    assert not over, f"functions over {MAX_LINES} lines (split them into named steps): " + (
        ", ".join(f"{name} ({n} lines)" for name, n in sorted(over.items()))
    )


def test_the_allow_list_names_only_functions_that_are_still_long():
    stale = sorted(ALLOWED - set(long_functions()))
    assert not stale, (
        f"now within {MAX_LINES} lines or gone, remove from ALLOWED in tests/test_style.py: "
        + ", ".join(stale)
    )


def test_every_library_module_says_what_it_owns_and_may_import():
    """A newcomer opening any file of the library reads its room in the first docstring."""
    silent = []
    for package in LIBRARY:
        for path in sorted((ROOT / package).rglob("*.py")):
            doc = ast.get_docstring(ast.parse(path.read_text(), str(path))) or ""
            if "Owns:" not in doc or "May import:" not in doc:
                silent.append(path.relative_to(ROOT).as_posix())
    assert not silent, "module docstrings without 'Owns:' and 'May import:': " + ", ".join(silent)
