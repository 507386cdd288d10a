"""The pages' sources follow the rules that make one page work on the site, in JupyterLab,
as a download and in Live Code (see README, "How a page is written").

These read the MyST Markdown of ``chapters/*.md``; what the rules buy is checked where it
shows: ``test_live_code.py`` (visible cells run alone), ``test_site.py`` (the built pages and
their downloads), ``test_jupyterlab.py`` (Run All in JupyterLab).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
NOTEBOOKS = sorted(p for p in CHAPTERS.glob("*.md") if "kernelspec" in jupytext.read(p).metadata)

# MyST that JupyterLab (jupyterlab-myst) cannot render: each would show raw or as an error there
SITE_ONLY_MARKUP = ["{glue", "{cite", "{numref}", "{doc}", "{ref}", "{tableofcontents}", "{literalinclude}",
                    "{bibliography}", "{eval:figure}", "{glue:figure}"]
EVAL_ROLE = re.compile(r"\{eval\}`([^`]*)`")
EVAL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*(\([^()\n]*\))?$")  # nb_eval_name_regex, and on one line
MAX_PROSE = 12_500                                                    # characters of Markdown per page


def tags(cell) -> set[str]:
    return set(cell.metadata.get("tags", []))


def hidden_in_jupyterlab(cell) -> bool:
    return bool(cell.metadata.get("jupyter", {}).get("source_hidden"))


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def notebook(request):
    return request.param.stem, jupytext.read(request.param)


def test_there_are_notebook_pages():
    assert len(NOTEBOOKS) >= 8


def test_first_code_cell_imports_with_a_clear_message(notebook):
    name, nb = notebook
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert tags(first) == {"hide-input"}, f"{name}: the imports cell must be visible (collapsed) for Live Code"
    assert "import convnets" in first.source and "pip install -r requirements.txt" in first.source, name


def test_no_cell_is_removed_whole(notebook):
    """In inline execution a remove-cell cell runs only when a later cell renders (a last one never):
    hidden cells are tagged remove-input and remove-output instead."""
    name, nb = notebook
    assert not [c.source[:60] for c in nb.cells if tags(c) & {"remove-cell", "remove_cell"}], name


def test_hidden_cells_are_collapsed_in_jupyterlab(notebook):
    name, nb = notebook
    for cell in nb.cells:
        if cell.cell_type == "code" and "remove-input" in tags(cell):
            assert hidden_in_jupyterlab(cell), f"{name}: hidden cell shown in JupyterLab: {cell.source[:60]!r}"


def test_markdown_uses_only_what_both_renderers_know(notebook):
    name, nb = notebook
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        found = [m for m in SITE_ONLY_MARKUP if m in cell.source]
        assert not found, f"{name}: {found} in {cell.source[:80]!r}"
        for expression in EVAL_ROLE.findall(cell.source):
            assert EVAL_NAME.match(expression), f"{name}: {{eval}} argument {expression!r} is not a name or a call"


def test_code_uses_no_site_only_machinery(notebook):
    name, nb = notebook
    for cell in nb.cells:
        if cell.cell_type == "code":
            for banned in ("myst_nb", "glue(", "%matplotlib", "matplotlib.pyplot", "plt.close"):
                assert banned not in cell.source, f"{name}: {banned} in {cell.source[:60]!r}"


def test_solutions_are_single_dropdowns(notebook):
    """A solution is one {solution} dropdown: JupyterLab keeps it closed. Gated solutions
    (solution-start ... solution-end) cannot stay collapsed there: JupyterLab shows again the output
    of every cell it runs and expands every Markdown cell it renders."""
    name, nb = notebook
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "{solution-start}" not in text and "{solution-end}" not in text, name
    solutions = re.findall(r"\{solution\} ([\w-]+)\n:class: dropdown", text)
    exercises = re.findall(r"\{exercise\}\n:label: ([\w-]+)", text)
    assert solutions == exercises, f"{name}: exercises {exercises}, dropdown solutions {solutions}"


def test_prose_fits_one_idea(notebook):
    name, nb = notebook
    prose = sum(len(c.source) for c in nb.cells if c.cell_type == "markdown")
    assert prose <= MAX_PROSE, f"{name}: {prose} characters of prose"


def test_index_lists_every_page_in_reading_order():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [entry["file"].removeprefix("chapters/") for entry in toc["chapters"]]
    index = (CHAPTERS / "index.md").read_text()
    linked = re.findall(r"^- \[[^]]+\]\(([\w-]+)\.md\)", index, flags=re.M)
    assert linked == pages


def test_nothing_mentions_an_earlier_version():
    """Readers never saw an earlier version of the chapter: no page, caption, comment or docstring refers to one."""
    files = [*CHAPTERS.glob("*.md"), *(ROOT / "code").rglob("*.py"), *(ROOT / "tests").glob("*.py"),
             *(ROOT / "benchmarks").glob("*.py"), ROOT / "README.md"]
    phrases = ("seed version", "seed page", "the seed's", "earlier version of this", "previous version of this")
    for path in files:
        if path.name == "test_pages.py":                       # this test's own list of phrases
            continue
        text = path.read_text().lower()
        for phrase in phrases:
            assert phrase not in text, f"{path.relative_to(ROOT)}: {phrase!r}"


def test_without_convnets_the_first_cell_says_how_to_install_it():
    """A downloaded notebook run where convnets is not installed stops at once with instructions."""
    first = next(c for c in jupytext.read(CHAPTERS / "index.md").cells if c.cell_type == "code")
    namespace: dict = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "convnets", None)          # None in sys.modules: "import convnets" fails
        with pytest.raises(ModuleNotFoundError, match=r"pip install -r requirements.txt") as error:
            exec(first.source, namespace)
    assert "convnets" in str(error.value) and error.value.__cause__ is None
