"""Live Code: the cells a page shows run on their own, in order, in a fresh kernel.

Thebe (the site's "Live Code" button) sends only the code cells present in the HTML:
cells tagged ``remove-input`` (hidden computations and checks) are absent. So every cell a
reader can see, collapsed or not, must run without them; this runs exactly those cells,
in the page's folder, as Thebe's kernel would.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient
from test_pages import NOTEBOOKS, tags


def visible_code(nb) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_code_cell(c.source) for c in nb.cells
             if c.cell_type == "code" and not tags(c) & {"remove-input", "remove_input"}]
    return nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_visible_cells_run_alone(path: Path):
    nb = visible_code(jupytext.read(path))
    assert nb.cells, f"{path.stem}: no visible code cell"
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()                                   # raises CellExecutionError naming the cell that failed
