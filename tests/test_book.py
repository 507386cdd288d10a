"""The book's structure: pages, configuration, citations, requirements."""

import re
from pathlib import Path

import jupytext
import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    stack = list(toc.get("chapters", [])) + [e for part in toc.get("parts", []) for e in part["chapters"]]
    while stack:
        entry = stack.pop()
        files.append(entry["file"])
        stack.extend(entry.get("sections", []))
    return files


def test_toc_and_chapters_folder_list_the_same_pages():
    in_toc = {f.removesuffix(".md") for f in toc_files()}
    on_disk = {f"chapters/{p.stem}" for p in (ROOT / "chapters").glob("*.md")}
    assert in_toc == on_disk


def test_every_page_but_the_bibliography_is_an_executable_notebook():
    for path in (ROOT / "chapters").glob("*.md"):
        nb = jupytext.read(path)
        if path.stem == "references":
            continue
        assert nb.metadata["kernelspec"]["name"] == "python3", path
        assert any(c.cell_type == "code" for c in nb.cells), path


def test_config_executes_and_fails_on_errors():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    execute = config["execute"]
    assert execute["execute_notebooks"] == "inline"       # {eval} reads the kernel as the page renders
    assert execute["raise_on_error"] is True and execute["allow_errors"] is False
    assert execute["timeout"] > 0
    assert config["only_build_toc_files"] is True
    assert config["launch_buttons"]["notebook_interface"] == "jupyterlab"
    assert config["launch_buttons"]["thebe"] is True and not config["launch_buttons"].get("colab_url")


BIBLIOGRAPHY = ROOT / "code" / "convnets" / "data" / "references.bib"


def cited_keys(text: str) -> set[str]:
    """Keys cited in a page: {eval}`cite("a", "b")` / citep in prose, {cite:t}`a,b` in figure captions."""
    keys = set()
    for args in re.findall(r"\{eval\}`citep?\(([^)]*)\)`", text):
        keys.update(re.findall(r'"([^"]+)"', args))
    for group in re.findall(r"\{cite(?::[pt])?\}`([^`]+)`", text):
        keys.update(k.strip() for k in group.split(","))
    return keys


def test_every_citation_has_a_bibliography_entry():
    keys = set(re.findall(r"@\w+\{([^,]+),", BIBLIOGRAPHY.read_text()))
    cited = set()
    for path in (ROOT / "chapters").glob("*.md"):
        cited |= cited_keys(path.read_text())
    from convnets import results, zoo
    cited.update(r["cite"] for r in results.load())
    cited.update(e.cite for e in zoo.ZOO.values())
    assert cited - keys == set()
    assert len(cited) >= 20


def test_every_bibliography_entry_is_cited():
    """The references page lists what the chapter cites; an entry nothing cites is dead weight."""
    keys = set(re.findall(r"@\w+\{([^,]+),", BIBLIOGRAPHY.read_text()))
    cited = set()
    for path in (ROOT / "chapters").glob("*.md"):
        cited |= cited_keys(path.read_text())
    from convnets import results, zoo
    cited.update(r["cite"] for r in results.load())
    cited.update(e.cite for e in zoo.ZOO.values())
    assert keys - cited == set()


def test_requirements_are_pinned_and_include_the_tools():
    lines = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    pinned = {line.split("==")[0].lower() for line in lines if "==" in line}
    assert all("==" in line for line in lines if line != "-e .")
    assert "-e ." in lines
    for tool in ("jupyter-book", "myst-nb", "nbval", "jupytext", "numpy", "matplotlib", "scikit-learn", "pytest"):
        assert tool in pinned
    assert (ROOT / "runtime.txt").read_text().strip() == "python-3.11"


def test_no_package_named_code():
    assert not (ROOT / "code" / "__init__.py").exists()


def test_readme_holds_exactly_two_commands():
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- ci:commands")[1].split("<!-- /ci:commands")[0]
    commands = [line for line in block.splitlines()[1:] if line.strip() and not line.startswith("```")]
    assert len(commands) == 2
    assert "pip install -r requirements.txt" in commands[0] and "jupyter-book build -W -n --keep-going ." in commands[0]
    assert "pytest" in commands[1]
