"""MkDocs hooks: the figures are made from the code at every build (docs/make_figures.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent


def on_pre_build(config) -> None:  # noqa: ANN001 (MkDocs's config object)
    """Runs ``python docs/make_figures.py`` before the pages are read; a failure stops the build."""
    subprocess.run([sys.executable, str(DOCS / "make_figures.py")], check=True, cwd=DOCS.parent)


SPHINX_ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|exc):(?=<code>)")


def on_page_content(html: str, **kwargs: object) -> str:
    """Docstrings written for Sphinx say ``:func:`name```; the reference shows just ``name``."""
    return SPHINX_ROLE.sub("", html)
