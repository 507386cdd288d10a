"""Small fixes to the HTML the themes and extensions write (a local Sphinx extension).

* **Duplicate scripts.** sphinx-thebe registers its configuration script once per read
  phase; the theme then includes it twice, and the second ``const THEBE_JS_URL`` is a
  JavaScript error on every page. Identical inline scripts are kept once.
* **Duplicate ids.** sphinx-exercise gives every exercise's and solution's body the same
  id (``exercise-content``, ``solution-content``); each gets its exercise's id instead.
* **Image sizes.** Figures get ``width`` and ``height`` attributes from the image file, so
  the browser reserves their space before they load and the page does not shift.
* **Meta description.** A page without one gets the first sentences of its first paragraph.
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
        key = (str(script), tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            scripts.append(script)
    context["script_files"] = scripts
    if "body" in context:
        # images are copied to _images/ after the pages are written: find them at their source
        sources = {name: Path(app.srcdir) / source for source, name in app.builder.images.items()}

        def locate(src):
            return sources.get(Path(src).name)
        context["body"] = sized_images(context["body"], locate)
    if doctree is not None and 'name="description"' not in context.get("metatags", ""):
        description = first_sentences(doctree)
        if description:
            context["metatags"] = context.get("metatags", "") + \
                f'\n    <meta name="description" content="{html.escape(description)}" />'


def setup(app):
    app.connect("doctree-resolved", unique_exercise_ids)
    app.connect("html-page-context", fix_page, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
