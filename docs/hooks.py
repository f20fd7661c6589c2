"""MkDocs hooks: the figures are made from the code at every build (docs/make_figures.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent


_state = {"serve": False, "made": False}


def on_startup(command: str, dirty: bool) -> None:
    """Remember whether this is ``mkdocs serve`` (which rebuilds on every edit)."""
    _state["serve"] = command == "serve"


def on_pre_build(config) -> None:  # noqa: ANN001 (MkDocs's config object)
    """Runs ``python docs/make_figures.py`` before the pages are read; a failure stops the build.

    Under ``mkdocs serve`` only the first build makes them (edits of a page then rebuild in a
    moment; run the script, or restart serve, to remake the figures).
    """
    if _state["serve"] and _state["made"]:
        return
    subprocess.run([sys.executable, str(DOCS / "make_figures.py")], check=True, cwd=DOCS.parent)
    _state["made"] = True


SPHINX_ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|exc):(?=<code>)")


def on_page_content(html: str, **kwargs: object) -> str:
    """Docstrings written for Sphinx say ``:func:`name```; the reference shows just ``name``."""
    return SPHINX_ROLE.sub("", html)
