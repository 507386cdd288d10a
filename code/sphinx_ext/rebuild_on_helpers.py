"""Rebuild a notebook page when the helper package it imports changes (a local Sphinx extension).

Sphinx re-reads (and myst-nb re-executes) a page only when its source changed, or when a
file the page recorded with ``env.note_dependency`` changed. The chapter's pages import
``convnets``; without this, editing a helper and rebuilding would keep every old number
and figure. Every page whose source imports one of the packages listed in
``rebuild_packages`` (a dict of import name -> folder, relative to the book's root)
records every file of that folder as a dependency.
"""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE_FILES = ("*.py", "*.csv", "*.bib")


def _files(folder: Path) -> list[str]:
    return sorted(str(p) for pattern in PACKAGE_FILES for p in folder.rglob(pattern) if "__pycache__" not in p.parts)


def note_helper_dependencies(app, docname, source):
    text = source[0]
    for package, folder in app.config.rebuild_packages.items():
        if re.search(rf"^\s*(from|import)\s+{re.escape(package)}\b", text, flags=re.M):
            for path in _files(Path(app.confdir) / folder):
                app.env.note_dependency(path)


def setup(app):
    app.add_config_value("rebuild_packages", {}, "env", types=[dict])
    app.connect("source-read", note_helper_dependencies)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
