"""convnets.notebook: citations and source code that read the same on the site and in JupyterLab."""

import pytest
from convnets.network import Residual
from convnets.notebook import bibliography, cite, citep, source


def test_bibliography_reads_authors_years_and_links():
    refs = bibliography()
    he = refs["he2016deep"]
    assert (he.authors, he.year) == ("He et al.", "2016a")           # four authors: "et al."; 2016a and 2016b
    assert he.url == "https://arxiv.org/abs/1512.03385"
    assert refs["simonyan2015vgg"].authors == "Simonyan and Zisserman"  # two authors: both names
    assert refs["torchvision2016"].authors == "TorchVision maintainers and contributors"   # an organisation


def test_textual_and_parenthetical_citations():
    assert repr(cite("he2016deep")) == "He et al. (2016a)"
    assert repr(citep("he2016deep")) == "(He et al., 2016a)"
    assert repr(citep("simonyan2015vgg", "he2016deep")) == "(Simonyan and Zisserman, 2015; He et al., 2016a)"


def test_the_site_gets_a_bibtex_role_and_jupyterlab_a_link():
    citation = citep("simonyan2015vgg", "he2016deep")
    assert citation._repr_markdown_() == "{cite:p}`simonyan2015vgg,he2016deep`"
    assert cite("he2016deep")._repr_markdown_() == "{cite:t}`he2016deep`"
    html = cite("he2016deep")._repr_html_()
    assert html.startswith("He et al. (<a href=\"https://arxiv.org/abs/1512.03385\"")
    assert 'title="Deep Residual Learning for Image Recognition"' in html


def test_bad_keys_are_refused_by_name():
    with pytest.raises(KeyError, match="'he2017deep' is not in references.bib"):
        cite("he2017deep")
    with pytest.raises(ValueError, match="at least one bibliography key"):
        citep()
    with pytest.raises(TypeError, match="must be a string, got 2016"):
        cite(2016)


def test_source_shows_the_code_as_it_is():
    shown = source(Residual.backward)
    assert repr(shown).startswith("def backward(self, dout):\n")            # dedented method
    assert "return dfx + dsx" in repr(shown)
    assert shown._repr_markdown_().startswith("```python\ndef backward")
    assert "<pre" in shown._repr_html_()
    with pytest.raises(TypeError, match="source needs a function, method or class"):
        source(3)


def test_no_two_references_read_the_same():
    """Two papers of the same authors and year are told apart by a letter (He et al., 2016a and 2016b)."""
    labels = [(r.authors, r.year) for r in bibliography().values()]
    assert len(labels) == len(set(labels))
    assert repr(citep("he2016deep", "he2016identity")) == "(He et al., 2016a; He et al., 2016b)"
