"""The documentation's code runs: every ```python block of every page under docs/ (and the
README), in order.

Conventions (docs/index.md's source says the same to authors):

- A fenced block whose info string is exactly ``python`` is executed. Blocks of one page share
  one namespace, in page order (solutions folded in ``??? success`` admonitions included); each
  page starts fresh, in an empty temporary working directory.
- A ``text`` block right after a python block (only blank lines between) is the output the page
  promises: the block's printed stdout must equal it (trailing whitespace and leading/trailing
  blank lines ignored). A python block that prints must be followed by one.
- Blocks meant to be read, not run (a script for ``mpiexec``, shell commands) use ``py`` or
  ``bash``.

``python tests/test_docs.py --update [PAGE ...]`` rewrites the output blocks from a fresh run
(then read the diff: it is what the page will promise).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>`{3,})(?P<info>[^`\n]*)$")


@dataclass
class Block:
    lang: str
    code: str
    start: int  # line index of the opening fence
    end: int  # line index of the closing fence
    indent: str


def parse_blocks(text: str) -> list[Block]:
    lines = text.split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, ticks, info = m["indent"], m["ticks"], m["info"].strip()
        j = i + 1
        while j < len(lines) and lines[j].strip() != ticks:
            j += 1
        if j == len(lines):
            raise ValueError(f"unclosed code fence at line {i + 1}")
        body = "\n".join(
            ln[len(indent) :] if ln.startswith(indent) else ln for ln in lines[i + 1 : j]
        )
        blocks.append(Block(info.split()[0] if info else "", body, i, j, indent))
        i = j + 1
    return blocks


def pairs(text: str) -> list[tuple[Block, Block | None]]:
    """Each executed block with the output block right after it (or None)."""
    blocks, lines = parse_blocks(text), text.split("\n")
    out = []
    for k, b in enumerate(blocks):
        if b.lang != "python":
            continue
        nxt = blocks[k + 1] if k + 1 < len(blocks) else None
        between = lines[b.end + 1 : nxt.start] if nxt else []
        if nxt is not None and nxt.lang == "text" and all(not ln.strip() for ln in between):
            out.append((b, nxt))
        else:
            out.append((b, None))
    return out


def normalize(s: str) -> str:
    return "\n".join(ln.rstrip() for ln in s.strip("\n").split("\n")).strip("\n")


def pages() -> list[Path]:
    """Every page of the site, and the README (its example is the first a newcomer runs)."""
    found = sorted(p for p in DOCS.rglob("*.md") if "```python" in p.read_text())
    return [*found, ROOT / "README.md"]


def run_page(page: Path) -> list[tuple[Block, Block | None, str]]:
    """Runs a page's blocks in one namespace; returns (block, output block, printed) each."""
    text = page.read_text()
    results = []
    namespace: dict = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    old_cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            for block, expected in pairs(text):
                buf = io.StringIO()
                line = block.start + 2
                code = compile(block.code, f"{page.relative_to(ROOT)}:{line}", "exec")
                with contextlib.redirect_stdout(buf):
                    exec(code, namespace)  # noqa: S102
                results.append((block, expected, buf.getvalue()))
        finally:
            os.chdir(old_cwd)
            import matplotlib.pyplot as plt

            plt.close("all")
    return results


def _reset_state() -> None:
    import minigrad as mg

    mg.set_backend("numpy")
    mg.manual_seed(0)


PAGES = pages()


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_page_runs_and_prints_what_it_shows(page: Path) -> None:
    _reset_state()
    for block, expected, printed in run_page(page):
        where = f"{page.relative_to(ROOT)}, block at line {block.start + 1}"
        if expected is None:
            assert not printed.strip(), f"{where} prints but no ```text block follows:\n{printed}"
        else:
            assert normalize(printed) == normalize(expected.code), (
                f"{where}: the printed output differs from the page's.\n"
                f"--- page\n{normalize(expected.code)}\n--- printed\n{normalize(printed)}"
            )


def test_the_course_pages_are_all_found() -> None:
    names = {p.name for p in PAGES}
    assert {"01-tensors-and-graphs.md", "04-checking-gradients.md", "08-transformer.md"} <= names


def update(page: Path) -> None:
    """Rewrites the page's output blocks from a fresh run (inserting missing ones)."""
    _reset_state()
    text = page.read_text()
    lines = text.split("\n")
    edits = []
    for block, expected, printed in run_page(page):
        body = normalize(printed)
        ind = block.indent
        new = (
            [f"{ind}```text"]
            + [(ind + ln) if ln else "" for ln in body.split("\n")]
            + [f"{ind}```"]
        )
        if expected is not None:
            edits.append((expected.start, expected.end + 1, new))
        elif body:
            edits.append((block.end + 1, block.end + 1, ["", *new]))
    for a, b, new in sorted(edits, reverse=True):
        lines[a:b] = new
    page.write_text("\n".join(lines))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    args = sys.argv[1:]
    if not args or args[0] != "--update":
        sys.exit("usage: python tests/test_docs.py --update [PAGE ...]")
    targets = [Path(a).resolve() for a in args[1:]] or PAGES
    for p in targets:
        update(p)
        print(f"updated {p.relative_to(ROOT)}")
