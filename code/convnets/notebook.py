"""What a page shows that must read the same on the site and in JupyterLab.

The chapter's pages are notebooks. The site (Jupyter Book, myst-nb) and JupyterLab
(with jupyterlab-myst) both render MyST Markdown, and both evaluate the inline role
``{eval}`expression``` in the page's kernel. They differ in what they know:
sphinxcontrib-bibtex resolves ``{cite}`` roles on the site, while JupyterLab has no
bibliography and shows an unresolved key. So a citation is an object evaluated in the
kernel that carries both renderings:

* ``text/markdown``: a ``{cite:t}`` or ``{cite:p}`` role, which the site (configured to
  prefer Markdown) turns into a real bibliography reference with a link;
* ``text/html``: "He et al. (2016)" linked to the paper, which JupyterLab shows;
* ``text/plain``: the same words without the link.

In a page: ``{eval}`cite("he2016deep")``` reads "He et al. (2016)",
``{eval}`citep("he2016deep")``` reads "(He et al., 2016)". ``source(obj)`` shows the
code of a function or class the same way in both.
"""

from __future__ import annotations

import functools
import html
import inspect
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

BIBLIOGRAPHY = Path(__file__).parent / "data" / "references.bib"


@dataclass(frozen=True)
class Reference:
    """One bibliography entry, reduced to what an in-text citation needs."""

    key: str
    authors: str          # "He et al.", "Simonyan and Zisserman", "Lin"
    year: str
    title: str
    url: str


@functools.cache
def bibliography(path: Path = BIBLIOGRAPHY) -> dict[str, Reference]:
    """The chapter's references.bib, as ``{key: Reference}``."""
    from pybtex.database import parse_file

    entries = parse_file(str(path), bib_format="bibtex").entries
    return {key: _reference(key, entry) for key, entry in entries.items()}


def _reference(key, entry) -> Reference:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    surnames = [" ".join(p.last_names).replace("{", "").replace("}", "") for p in people]
    if not surnames:
        authors = entry.fields.get("organization", entry.fields.get("title", key))
    elif len(surnames) == 1:
        authors = surnames[0]
    elif len(surnames) == 2:
        authors = f"{surnames[0]} and {surnames[1]}"
    else:
        authors = f"{surnames[0]} et al."
    fields = entry.fields
    url = fields.get("url", "")
    if not url and "doi" in fields:
        url = f"https://doi.org/{fields['doi']}"
    if not url and fields.get("eprint"):
        url = f"https://arxiv.org/abs/{fields['eprint']}"
    arxiv = re.search(r"arXiv:(\d{4}\.\d{4,5})", fields.get("note", ""))
    if not url and arxiv:
        url = f"https://arxiv.org/abs/{arxiv.group(1)}"
    title = fields.get("title", "").replace("{", "").replace("}", "")
    return Reference(key, authors, fields.get("year", "n.d."), title, url)


class Citation:
    """One or more references cited in the text; see the module docstring."""

    def __init__(self, keys: tuple[str, ...], parenthetical: bool):
        if not keys:
            raise ValueError("cite needs at least one bibliography key, got none")
        known = bibliography()
        for key in keys:
            if not isinstance(key, str):
                raise TypeError(f"a bibliography key must be a string, got {key!r}")
            if key not in known:
                raise KeyError(f"{key!r} is not in {BIBLIOGRAPHY.name}; known keys: {', '.join(sorted(known))}")
        self.keys, self.parenthetical = keys, parenthetical
        self.references = [known[k] for k in keys]

    def _text(self, link: bool) -> str:
        def year(ref):
            if not (link and ref.url):
                return ref.year
            return f'<a href="{html.escape(ref.url)}" title="{html.escape(ref.title)}">{ref.year}</a>'

        if self.parenthetical:
            return "(" + "; ".join(f"{r.authors}, {year(r)}" for r in self.references) + ")"
        return ", ".join(f"{r.authors} ({year(r)})" for r in self.references)

    def _repr_markdown_(self) -> str:
        role = "cite:p" if self.parenthetical else "cite:t"
        return f"{{{role}}}`{','.join(self.keys)}`"

    def _repr_html_(self) -> str:
        return self._text(link=True)

    def __repr__(self) -> str:
        return self._text(link=False)


def cite(*keys: str) -> Citation:
    """A textual citation: ``cite("he2016deep")`` reads "He et al. (2016)"."""
    return Citation(keys, parenthetical=False)


def citep(*keys: str) -> Citation:
    """A parenthetical citation: ``citep("he2016deep")`` reads "(He et al., 2016)"."""
    return Citation(keys, parenthetical=True)


class Source:
    """The source code of a function, method or class, shown as highlighted code."""

    def __init__(self, obj):
        try:
            self.code = textwrap.dedent(inspect.getsource(obj))
        except (TypeError, OSError) as err:
            raise TypeError(f"source needs a function, method or class defined in a file, got {obj!r}: {err}") from None
        self.name = getattr(obj, "__qualname__", repr(obj))
        self.module = getattr(inspect.getmodule(obj), "__name__", "")

    def _repr_markdown_(self) -> str:
        return f"```python\n{self.code}```"

    def _repr_html_(self) -> str:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        return highlight(self.code, PythonLexer(), HtmlFormatter(noclasses=True, nowrap=False))

    def __repr__(self) -> str:
        return self.code


def source(obj) -> Source:
    """Show the code of ``obj`` (from :mod:`convnets`) on the page, as it is in the package."""
    return Source(obj)
