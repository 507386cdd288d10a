"""Small fixes to the HTML the themes and extensions write (a local Sphinx extension).

* **Duplicate scripts.** sphinx-thebe registers its configuration script once per read
  phase; the theme then includes it twice, and the second ``const THEBE_JS_URL`` is a
  JavaScript error on every page. Identical inline scripts are kept once.
* **Duplicate ids.** sphinx-exercise gives every exercise's and solution's body the same
  id (``exercise-content``, ``solution-content``); each gets its exercise's id instead.
* **Image sizes.** Figures get ``width`` and ``height`` attributes from the image file, so
  the browser reserves their space before they load and the page does not shift.
* **Meta description.** A page without one gets the first sentences of its first paragraph.
* **404 page.** sphinx-notfound-page's links are prefixed with the repository's name, the
  path under which GitHub Pages serves the site.
* **Tables on a phone.** A table of four columns or more gets the class ``reflow`` and each
  cell the name of its column (``data-label``); ``static/ch316.css`` shows such a table as
  one card per row on a narrow screen instead of scrolling it sideways.
* **Citations in round brackets.** An author-year reference style that writes
  "He et al. (2016)" and "(He et al., 2016)", as the notebooks' citations do.
"""

from __future__ import annotations

import html
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from docutils import nodes
from sphinxcontrib.bibtex.plugin import register_plugin
from sphinxcontrib.bibtex.style.referencing import BracketStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

EXERCISE_BODY_IDS = {"exercise-content", "solution-content"}
IMG_TAG = re.compile(r'<img\b[^>]*\bsrc="([^"]+)"[^>]*>')
TABLE = re.compile(r"<table\b([^>]*)>(.*?)</table>", flags=re.S)
HEADER_CELL = re.compile(r"<th\b[^>]*>(.*?)</th>", flags=re.S)
ROW = re.compile(r"<tr\b[^>]*>.*?</tr>", flags=re.S)
DATA_CELL = re.compile(r"<td\b")
TAG = re.compile(r"<[^>]+>")
REFLOW_COLUMNS = 4


def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")")


@dataclass
class RoundBracketAuthorYear(AuthorYearReferenceStyle):
    """sphinxcontrib-bibtex's author-year style with round brackets."""

    bracket_textual: BracketStyle = field(default_factory=_round)
    bracket_parenthetical: BracketStyle = field(default_factory=_round)
    bracket_author: BracketStyle = field(default_factory=_round)
    bracket_label: BracketStyle = field(default_factory=_round)
    bracket_year: BracketStyle = field(default_factory=_round)


register_plugin("sphinxcontrib.bibtex.style.referencing", "author_year_round", RoundBracketAuthorYear)


def unique_exercise_ids(app, doctree, docname):
    for section in doctree.findall(nodes.section):
        if set(section["ids"]) & EXERCISE_BODY_IDS:
            owner = section.parent
            base = owner["ids"][0] if owner is not None and owner.get("ids") else docname.replace("/", "-")
            section["ids"] = [f"{base}-{section['ids'][0]}"]


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) in CSS pixels of a PNG or SVG file, or None."""
    data = path.read_bytes()[:4096]
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return struct.unpack(">II", data[16:24])
    if path.suffix == ".svg":
        text = data.decode("utf8", "replace")
        w, h = re.search(r'\bwidth="([\d.]+)(pt|px)?"', text), re.search(r'\bheight="([\d.]+)(pt|px)?"', text)
        if w and h:
            scale = 96 / 72 if w.group(2) == "pt" else 1
            return round(float(w.group(1)) * scale), round(float(h.group(1)) * scale)
    return None


STYLE_SIZE = re.compile(r'\sstyle="width: (\d+)px; height: (\d+)px;"')


def sized_images(body: str, locate) -> str:
    """Give every <img> width and height attributes: from its size in the notebook's output
    (which Sphinx writes as a fixed-size style, which would distort it in a narrow column),
    else from the file ``locate(src)`` finds. The theme's CSS scales it down to the column."""
    def add_size(match):
        tag, src = match.group(0), match.group(1)
        styled = STYLE_SIZE.search(tag)
        if styled:
            return STYLE_SIZE.sub(f' width="{styled.group(1)}" height="{styled.group(2)}"', tag)
        if " width=" in tag or src.startswith(("http:", "https:", "data:")):
            return tag
        path = locate(html.unescape(src))
        size = image_size(path) if path is not None and path.is_file() else None
        if size is None:
            return tag
        return tag[:-1].rstrip("/").rstrip() + f' width="{size[0]}" height="{size[1]}">'
    return IMG_TAG.sub(add_size, body)


def reflow_tables(body: str) -> str:
    """Mark tables of REFLOW_COLUMNS columns or more for the phone layout and label their cells."""
    def label(match):
        attributes, inner = match.group(1), match.group(2)
        headers = [html.escape(" ".join(TAG.sub("", h).split()), quote=True) for h in HEADER_CELL.findall(inner)]
        if len(headers) < REFLOW_COLUMNS:
            return match.group(0)

        def label_row(row):
            names = iter(headers)
            return DATA_CELL.sub(lambda _: f'<td data-label="{next(names, "")}"', row.group(0))
        inner = ROW.sub(label_row, inner)
        if 'class="' in attributes:
            attributes = attributes.replace('class="', 'class="reflow ', 1)
        else:
            attributes += ' class="reflow"'
        return f"<table{attributes}>{inner}</table>"
    return TABLE.sub(label, body)


def first_sentences(doctree, limit: int = 160) -> str:
    for paragraph in doctree.findall(nodes.paragraph):
        text = " ".join(paragraph.astext().split())
        if len(text) > 40:
            if len(text) <= limit:
                return text
            cut = text[:limit].rsplit(". ", 1)[0]
            return cut + "." if len(cut) > 40 else text[:limit].rsplit(" ", 1)[0] + " …"
    return ""


def fix_page(app, pagename, templatename, context, doctree):
    scripts, seen = [], set()
    for script in context.get("script_files", []):
        # the same inline script is registered once with filename None and once with "" (so
        # neither Sphinx's own check nor a comparison of the objects sees the duplicate)
        key = (getattr(script, "filename", str(script)) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            scripts.append(script)
    context["script_files"] = scripts
    if "body" in context:
        # images are copied to _images/ after the pages are written: find them at their source
        sources = {name: Path(app.srcdir) / source for source, name in app.builder.images.items()}

        def locate(src):
            return sources.get(Path(src).name)
        context["body"] = reflow_tables(sized_images(context["body"], locate))
    if doctree is not None and 'name="description"' not in context.get("metatags", ""):
        description = first_sentences(doctree)
        if description:
            context["metatags"] = context.get("metatags", "") + \
                f'\n    <meta name="description" content="{html.escape(description)}" />'


def configure(app, config):
    config.html_static_path.append(str(Path(__file__).parent / "static"))
    # the 404 page's links start from the site's root: GitHub Pages serves a project's site under
    # /<repository>/, named once, in _config.yml's repository URL
    repository = config.html_theme_options.get("repository_url", "").rstrip("/")
    if repository and "notfound_urls_prefix" in config:
        config.notfound_urls_prefix = f"/{repository.rsplit('/', 1)[-1]}/"


def setup(app):
    app.connect("config-inited", configure)
    app.add_css_file("ch316.css")
    app.connect("doctree-resolved", unique_exercise_ids)
    app.connect("html-page-context", fix_page, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
