"""A figure's alt text from the figure itself (a local Sphinx extension).

myst-nb takes an image's alt text only from the cell's metadata, which is static text.
The chapter's figures (``convnets.plotting.PageFigure``, ``convnets.diagrams``) carry
their own alt text, computed with the figure (a diagram describes its definition; a
plot can state its measured numbers), in the output's metadata, next to its width and
height. This takes it from there when the cell's metadata gives none. It wraps myst-nb's
``NbElementRenderer.render_image`` (myst-nb 1.4, pinned in requirements.txt); the
browser tests check that every figure has alt text, so a change there cannot go unseen.
"""

from __future__ import annotations

from myst_nb.core.render import NbElementRenderer


def _install(app):
    original = NbElementRenderer.render_image

    def render_image(self, data):
        nodes = original(self, data)
        alt = data.output_metadata.get(data.mime_type, {}).get("alt")
        for node in nodes:
            if alt and not node.get("alt"):
                node["alt"] = str(alt)
        return nodes

    NbElementRenderer.render_image = render_image


def setup(app):
    app.connect("builder-inited", _install)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
