"""Make the bibliography's markup valid ARIA (a local Sphinx extension for this book).

docutils 0.21 writes the bibliography as ``<div role="list">`` whose entries carry
``role="doc-biblioentry"``, a role deprecated in DPUB-ARIA 1.1. A list without
``listitem`` children is an error for screen readers and for axe-core
("aria-required-children", critical). This rewrites the entries' role to
``listitem`` in every page's HTML body.
"""


def _fix_roles(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if body and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def setup(app):
    app.connect("html-page-context", _fix_roles)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
