"""The executed notebook a reader downloads from a page, made to work on its own (a local Sphinx extension).

myst-nb executes each page "inline" (cell by cell while it renders, so the prose's
``{eval}`` roles read the kernel) and writes the executed notebook, which the theme's
download button offers. Two things are added to that notebook before it is written:

* the value of every ``{eval}`` expression of a Markdown cell, as the cell's
  ``user_expressions`` metadata: what jupyterlab-myst stores after running a cell, so the
  numbers and citations in the text show as soon as the notebook is opened. Only
  ``text/plain`` and ``text/html`` are kept: ``text/markdown`` holds the site's ``{cite}``
  role, which JupyterLab cannot resolve;
* a first Markdown cell that says how to run the notebook.

It wraps two methods of myst-nb's inline execution client (myst-nb 1.4, pinned in
requirements.txt); ``tests/test_book.py`` checks the downloaded notebooks, so a myst-nb
that changes them fails the tests instead of silently dropping the values.
"""

from __future__ import annotations

import re

import nbformat
from myst_nb.core.execute.inline import NotebookClientInline

EVAL_ROLE = re.compile(r"\{eval\}`([^`]+)`")
NOTE_TAG = "how-to-run"
KEPT_MIME_TYPES = ("text/plain", "text/html")


def note_cell(page: str, repository: str, branch: str) -> nbformat.NotebookNode:
    """The first cell of a downloaded notebook: how to run it."""
    org_repo = repository.removeprefix("https://github.com/").strip("/")
    binder = f"https://mybinder.org/v2/gh/{org_repo}/{branch}?urlpath=lab/tree/{page}.md"
    text = (
        "**How to run this notebook.** It is a page of the course chapter ch316 and needs the chapter's "
        "helper package `convnets`. Either open it in [Binder](" + binder + "), where everything is "
        "installed, or clone the [repository](" + repository + ") and follow its README "
        "(`pip install -r requirements.txt` installs `convnets` and JupyterLab with the `jupyterlab-myst` "
        "extension, which renders this notebook's text: its numbers, citations, exercises and collapsed "
        "solutions). Then run all cells from the top."
    )
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["tags"] = [NOTE_TAG]
    cell["id"] = NOTE_TAG                     # fixed, so that the download is the same at every build
    return cell


def attach_expressions(notebook, evaluated: list[tuple[str, list]]) -> int:
    """Store each evaluated expression's result on the Markdown cells that use it, in document order.

    ``evaluated`` lists (expression, outputs) in the order the page rendered them; the k-th
    occurrence of an expression in the Markdown gets its k-th evaluation. Returns how many
    expressions were attached.
    """
    queues: dict[str, list] = {}
    for expression, outputs in evaluated:
        queues.setdefault(expression, []).append(outputs)
    attached = 0
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        results = []
        for expression in EVAL_ROLE.findall(cell.source):
            if not queues.get(expression):
                continue
            outputs = queues[expression].pop(0)
            data = next((o.get("data", {}) for o in outputs if o.get("output_type") in
                         ("execute_result", "display_data")), {})
            kept = {mime: value for mime, value in data.items() if mime in KEPT_MIME_TYPES}
            results.append({"expression": expression, "result": {"status": "ok", "data": kept, "metadata": {}}})
            attached += 1
        if results:
            cell.metadata["user_expressions"] = results
    return attached


def _install(app):
    original_eval, original_finalise = NotebookClientInline.eval_variable, NotebookClientInline.finalise_client
    config = app.config.html_theme_options

    def eval_variable(self, name):
        outputs = original_eval(self, name)
        self.__dict__.setdefault("_evaluated", []).append((name, outputs))
        return outputs

    def finalise_client(self):
        original_finalise(self)
        attach_expressions(self.notebook, self.__dict__.get("_evaluated", []))
        page = self.path.relative_to(app.srcdir).with_suffix("").as_posix()
        self.notebook.cells.insert(0, note_cell(page, config.get("repository_url", ""),
                                                config.get("repository_branch", "main")))

    NotebookClientInline.eval_variable = eval_variable
    NotebookClientInline.finalise_client = finalise_client


def setup(app):
    app.connect("builder-inited", _install)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
