"""The book's own Sphinx extensions (code/sphinx_ext), function by function.

What they achieve on the built site is checked in test_site.py; these check the pieces on
small inputs whose right answer is written out by hand.
"""

import struct
import sys
import zlib
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "code" / "sphinx_ext"))
import notebook_downloads  # noqa: E402
import page_fixes  # noqa: E402


def png(width, height) -> bytes:
    """The smallest valid PNG header of a width x height image (IHDR is all image_size reads)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))


def test_image_size_of_png_and_svg(tmp_path):
    (tmp_path / "a.png").write_bytes(png(640, 480))
    (tmp_path / "b.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="300pt" height="150pt"></svg>')
    (tmp_path / "c.svg").write_text('<svg viewBox="0 0 10 10"></svg>')
    assert page_fixes.image_size(tmp_path / "a.png") == (640, 480)
    assert page_fixes.image_size(tmp_path / "b.svg") == (400, 200)          # points to CSS pixels: 96/72
    assert page_fixes.image_size(tmp_path / "c.svg") is None


def test_images_get_width_and_height_attributes(tmp_path):
    (tmp_path / "x.png").write_bytes(png(320, 200))
    body = ('<img alt="a" src="../_images/x.png" style="width: 160px; height: 100px;" />'
            '<img alt="b" src="../_images/x.png" />'
            '<img alt="c" src="https://example.org/y.png" />')
    out = page_fixes.sized_images(body, lambda src: tmp_path / Path(src).name)
    assert '<img alt="a" src="../_images/x.png" width="160" height="100" />' in out     # from the notebook's size
    assert '<img alt="b" src="../_images/x.png" width="320" height="200">' in out       # from the file
    assert '<img alt="c" src="https://example.org/y.png" />' in out                      # left alone


def test_wide_tables_reflow_on_phones():
    wide = ("<table class=\"table\"><thead><tr><th class=\"head\"><p>Net</p></th><th>Year</th><th>Params</th>"
            "<th>MACs</th></tr></thead><tbody><tr><td><p>VGG</p></td><td>2014</td><td>138</td><td>15.5</td></tr>"
            "</tbody></table>")
    narrow = "<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>"
    out = page_fixes.reflow_tables(wide + narrow)
    assert '<table class="reflow table">' in out
    assert '<td data-label="Net"><p>VGG</p></td><td data-label="Year">2014</td>' in out
    assert '<td data-label="MACs">15.5</td>' in out
    assert out.endswith(narrow)                                                          # three columns or fewer


def test_eval_results_are_stored_in_document_order():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("x is {eval}`x`, see {eval}`cite(\"a\")`."),
        nbformat.v4.new_code_cell("x = 2"),
        nbformat.v4.new_markdown_cell("now x is {eval}`x`; no role here"),
    ])

    def result(data):
        return [{"output_type": "execute_result", "data": data, "metadata": {}}]
    citation = {"text/plain": "A (2000)", "text/html": "<a>A</a>", "text/markdown": "{cite:t}`a`"}
    evaluated = [("x", result({"text/plain": "'1'"})), ('cite("a")', result(citation)),
                 ("x", result({"text/plain": "'2'"}))]
    assert notebook_downloads.attach_expressions(nb, evaluated) == 3
    first, _, second = nb.cells
    assert [e["expression"] for e in first.metadata["user_expressions"]] == ["x", 'cite("a")']
    stored = first.metadata["user_expressions"][1]["result"]["data"]
    assert stored == {"text/plain": "A (2000)", "text/html": "<a>A</a>"}          # no {cite} role for JupyterLab
    assert second.metadata["user_expressions"][0]["result"]["data"] == {"text/plain": "'2'"}


def test_the_downloads_first_cell_says_how_to_run_it():
    cell = notebook_downloads.note_cell("chapters/residual", "https://github.com/org/repo", "main")
    assert "https://mybinder.org/v2/gh/org/repo/main?urlpath=lab/tree/chapters/residual.md" in cell.source
    assert "pip install -r requirements.txt" in cell.source and cell["id"] == "how-to-run"


@pytest.mark.parametrize("text, expected", [
    ("Short.", ""),
    ("A first paragraph that is long enough to describe the page well. It goes on.",
     "A first paragraph that is long enough to describe the page well. It goes on."),
])
def test_meta_description_from_the_first_paragraph(text, expected):
    from docutils import nodes
    tree = nodes.document(None, None)
    tree += nodes.paragraph(text=text)
    assert page_fixes.first_sentences(tree) == expected
