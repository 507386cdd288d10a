"""Every page as a student meets it: opened in JupyterLab (jupytext + jupyterlab-myst), Run All.

Starts JupyterLab on 127.0.0.1 (no token) with the project's own setting that opens
``.md`` files as notebooks (``code/jupyter``, the README's command for students), drives it
with Chromium through Playwright, and for every notebook page checks that

* it opens as a notebook, not in the text editor;
* Run All finishes with no error and nothing on stderr;
* it shows at least as many images as the site shows figures;
* no raw MyST is visible (``{glue``, ``{cite``, ``{eval``, directive fences, unknown
  directives or unresolved citations);
* every solution is collapsed (its dropdown closed), and so is the code of every hidden cell.

Skips without Chromium or JupyterLab, except in CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import jupytext
import pytest
from browser_tools import chromium
from test_pages import NOTEBOOKS

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "_build" / "screenshots" / "jupyterlab"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"       # the page on show (not a tab restored behind it)
RAW = ["{glue", "{cite", "{eval", "{numref", "{doc}", "```{", ":::{", "Unknown Directive", "Citation Not Found"]
TEST_SETTINGS = {       # for the test only: every cell in the page (no windowing), no news pop-up, and the
    # pages never saved back (jupytext would rewrite their source)
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def expected_figures(path: Path) -> int:
    """Figures the site shows for this page: the code cells that carry figure metadata."""
    cells = jupytext.read(path).cells
    return sum(1 for c in cells if c.cell_type == "code" and "figure" in c.metadata.get("mystnb", {}))


def collapsed(path: Path, what: str) -> list[int]:
    """Indices of the cells whose input (what="source") or output (what="outputs") the page asks
    JupyterLab to collapse: hidden computations and checks. (JupyterLab shows again the output of a
    cell it runs, which is why solutions are prose only: tests/test_pages.py.)"""
    cells = jupytext.read(path).cells
    return [i for i, c in enumerate(cells) if c.metadata.get("jupyter", {}).get(f"{what}_hidden")]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server rooted at the repository; yields its URL."""
    pytest.importorskip("jupyterlab")
    pytest.importorskip("jupyterlab_myst")
    config = tmp_path_factory.mktemp("jupyter")
    (config / "labconfig").mkdir()
    (config / "labconfig" / "default_setting_overrides.json").write_text(json.dumps(TEST_SETTINGS))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_CONFIG_PATH=str(ROOT / "code" / "jupyter"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True", "--allow-root",
         f"--ServerApp.root_dir={ROOT}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("JupyterLab did not start")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


def shut_down_kernels(url: str) -> None:
    for kernel in json.load(urllib.request.urlopen(f"{url}/api/kernels")):
        urllib.request.urlopen(urllib.request.Request(f"{url}/api/kernels/{kernel['id']}", method="DELETE"))


@pytest.mark.browser
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_page_runs_in_jupyterlab(path, lab, browser):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    source = path.read_bytes()
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        page.goto(f"{lab}/lab/tree/chapters/{path.name}?reset")         # a fresh workspace: only this page
        page.wait_for_selector(f"{PANEL} .jp-Cell", timeout=60_000)        # a notebook, not the editor
        try:                           # JupyterLab may ask which kernel to start: the page's own (the default)
            page.wait_for_selector(".jp-Dialog .jp-mod-accept", timeout=3_000).click()
        except PlaywrightTimeout:
            pass
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
        for _ in range(3):             # a click before the kernel is ready runs nothing: try again
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_text("Run All Cells", exact=True).first.click()
            try:
                page.wait_for_function(f"""() => [...document.querySelectorAll('{PANEL} .jp-InputPrompt')]
                    .some(e => /[0-9*]/.test(e.textContent))""", timeout=10_000)
                break
            except PlaywrightTimeout:
                continue
        page.wait_for_function(f"""() => document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status
            === 'idle' && ![...document.querySelectorAll('{PANEL} .jp-InputPrompt')]
            .some(e => e.textContent.includes('*'))""", timeout=180_000, polling=500)
        page.wait_for_timeout(1000)                   # the last Markdown cells render their {eval} results
        seen = page.evaluate("""() => {
            const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
            const markdown = [...nb.querySelectorAll('.jp-MarkdownOutput, .jp-RenderedMarkdown')]
                .map(e => e.innerText).join('\\n');
            const solutions = [...nb.querySelectorAll('details')].filter(d => /Solution/.test(d.innerText));
            return {
                images: nb.querySelectorAll('.jp-OutputArea-output img, .jp-OutputArea-output svg').length,
                stderr: [...nb.querySelectorAll(
                    ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")]
                    .map(e => e.innerText.slice(0, 300)),
                markdown,
                solutions: solutions.length,
                open: solutions.filter(d => d.open).map(d => d.innerText.slice(0, 80)),
                cells: [...nb.querySelectorAll('.jp-Cell')].map(c => ({
                    input: [...c.querySelectorAll('.jp-InputArea')].some(e => e.offsetHeight > 0),
                    outputs: [...c.querySelectorAll('.jp-OutputArea-output')].filter(e => e.offsetHeight > 0).length,
                })),
            };
        }""")
        SHOTS.mkdir(parents=True, exist_ok=True)
        height = page.evaluate(f"() => document.querySelector('{PANEL} .jp-WindowedPanel-outer').scrollHeight")
        page.set_viewport_size({"width": 1280, "height": min(int(height) + 250, 16_000)})
        # the whole notebook from its first cell (Run All leaves it scrolled to the last one)
        page.evaluate(f"() => document.querySelector('{PANEL} .jp-WindowedPanel-outer').scrollTop = 0")
        page.wait_for_timeout(500)
        page.screenshot(path=str(SHOTS / f"{path.stem}.png"))
    finally:
        page.close()
        shut_down_kernels(lab)
    assert path.read_bytes() == source, f"{path.stem}: JupyterLab rewrote the page's source"
    assert seen["stderr"] == [], f"{path.stem}: error or stderr output {seen['stderr']}"
    assert seen["images"] >= expected_figures(path), f"{path.stem}: {seen['images']} images shown"
    raw = [marker for marker in RAW if marker in seen["markdown"]]
    assert raw == [], f"{path.stem}: raw MyST visible in JupyterLab: {raw}"
    assert seen["open"] == [], f"{path.stem}: open solutions {seen['open']}"
    cells = seen["cells"]
    assert len(cells) == len(jupytext.read(path).cells), f"{path.stem}: {len(cells)} cells shown"
    shown_code = [i for i in collapsed(path, "source") if cells[i]["input"]]
    assert shown_code == [], f"{path.stem}: cells {shown_code} show code the page hides"

