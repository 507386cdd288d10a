"""Collect the chapter's MyST Markdown notebooks (chapters/*.md) for nbval.

nbval only collects .ipynb files; here each chapters/*.md is read with jupytext
and handed to nbval's collector, which runs every code cell in a fresh kernel
whose working directory is chapters/ (as in JupyterLab and Binder). A .md
notebook carries no stored outputs, so nothing is compared: the notebooks'
own assertions (cells tagged remove-cell) and tests/ check the values.
"""

from pathlib import Path

import jupytext
import nbformat
from nbval.plugin import IPyNbFile

CHAPTERS = Path(__file__).parent / "chapters"


class MystNotebook(IPyNbFile):
    """An nbval collector for a jupytext MyST notebook."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.compare_outputs = False        # --nbval-lax: run the cells, compare nothing

    def collect(self):
        original = nbformat.read
        nbformat.read = lambda path, as_version=4: jupytext.read(path)
        try:
            yield from super().collect()
        finally:
            nbformat.read = original


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix == ".md" and file_path.parent == CHAPTERS:
        if "kernelspec" in jupytext.read(file_path).metadata:    # a notebook, not a plain page
            return MystNotebook.from_parent(parent, path=file_path)
    return None


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: opens the built site in Chromium")

