"""A rebuild never shows stale numbers: editing a helper re-executes the pages that import it.

Builds a two-page book in a temporary folder with the chapter's configuration mechanism
(``code/sphinx_ext/rebuild_on_helpers.py``): one page imports a small helper package and
prints a value from it, the other does not. After the helper changes, the next build must
show the new value on the first page and leave the second page alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
PAGE = """---
jupytext:
  text_representation: {{extension: .md, format_name: myst, format_version: 0.13}}
kernelspec: {{display_name: Python 3, language: python, name: python3}}
---

# {title}

```{{code-cell}} ipython3
{code}
```

The value is {{eval}}`value`.
"""


def shown(page: Path) -> str:
    """The value the page's {eval} role shows."""
    text = page.read_text()
    return text.split("The value is", 1)[1].split("</span>", 1)[0].rsplit(">", 1)[-1]


def build(book: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(book / "lib"))
    run = subprocess.run([str(JUPYTER_BOOK), "build", "-W", "-n", "--keep-going", str(book)],
                         capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]


@pytest.mark.skipif(not JUPYTER_BOOK.exists(), reason="jupyter-book is not installed")
def test_changing_a_helper_reexecutes_the_pages_that_import_it(tmp_path):
    (tmp_path / "lib" / "helper").mkdir(parents=True)
    module = tmp_path / "lib" / "helper" / "__init__.py"
    module.write_text("VALUE = 'one'\n")
    (tmp_path / "_config.yml").write_text(f"""title: rebuild test
only_build_toc_files: true
execute: {{execute_notebooks: inline, raise_on_error: true, allow_errors: false}}
sphinx:
  local_extensions: {{rebuild_on_helpers: {ROOT / "code" / "sphinx_ext"}}}
  config:
    rebuild_packages: {{helper: lib/helper}}
""")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: uses\nchapters:\n  - file: other\n")
    (tmp_path / "uses.md").write_text(PAGE.format(title="Uses the helper", code="import helper\nvalue = helper.VALUE"))
    (tmp_path / "other.md").write_text(PAGE.format(title="Does not", code="import time\nvalue = str(time.time())"))

    build(tmp_path)
    html = tmp_path / "_build" / "html"
    assert shown(html / "uses.html") == "one"
    other_before = (html / "other.html").read_text()

    time.sleep(1.1)                                  # a new modification time, whatever the file system's resolution
    module.write_text("VALUE = 'two'\n")
    build(tmp_path)
    assert shown(html / "uses.html") == "two"
    assert (html / "other.html").read_text() == other_before      # not re-executed: its time stamp is the same
