"""The built site as a reader sees it, in a real browser (Chromium driven by Playwright).

Needs the built book (``_build/html``: the README's first command) and Chromium
(Debian's ``chromium`` package; Playwright cannot download browsers here). Where either is
missing the tests skip with the reason, except in CI (``CI`` set), where they fail: CI
installs Chromium and builds the book first.

For every page: no JavaScript errors, no duplicate ids, MathJax has typeset every formula,
every image loads, has meaningful alt text and a width and height (no image moves the page
as it loads; the cumulative layout shift, from MathJax, is printed and must stay under 0.25),
figures show at their own size at 1280 px (so their text is as large as it was drawn) and their
smallest text is at least 0.8 times the body text (the sizes at 1280 and 390 px are printed), every
internal link and anchor resolves, axe-core finds no serious or critical WCAG 2 A/AA violations,
the page weighs at most 2 MB, every displayed formula fits a 390 px phone's column, and light
and dark screenshots at 1280 px and at 390 px (a phone) go to ``_build/screenshots/``. The
downloadable notebooks show their outputs and numbers.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import nbformat
import pytest
from browser_tools import chromium, missing

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
MAX_PAGE_BYTES = 2 * 1024 * 1024

# Cumulative layout shift: under 0.25 (web.dev's "poor" above), and none of it caused by an image
# loading (every image has its size). What is left is MathJax typesetting the first screen's formulas.
MAX_LAYOUT_SHIFT = 0.25
MEASURE_LAYOUT_SHIFT = """window.__cls = 0; window.__imageShifts = [];
new PerformanceObserver(list => { for (const e of list.getEntries()) if (!e.hadRecentInput) {
    window.__cls += e.value;
    for (const s of e.sources) if (s.node && s.node.nodeName === 'IMG' && s.previousRect.height > 0)
        window.__imageShifts.push(s.node.getAttribute('src')); } }).observe({type: 'layout-shift', buffered: true});"""
TEXT_SUFFIXES = {".html", ".js", ".css", ".json", ".svg", ".txt", ".map"}


def pages() -> list[str]:
    return sorted(str(p.relative_to(SITE)) for p in (SITE / "chapters").glob("*.html"))


@pytest.fixture(scope="module")
def server():
    if not (SITE / "chapters").is_dir():
        missing("the book is not built: run the README's first command")
    handler = functools.partial(QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


@pytest.fixture(scope="module")
def axe_source():
    axe = pytest.importorskip("axe_playwright_python")
    return (Path(axe.__file__).parent / "axe.min.js").read_text()


def transferred_bytes(page, server) -> int:
    """Bytes a reader downloads for the page as GitHub Pages serves it: text gzipped, binaries as is."""
    urls = page.evaluate("() => [location.href, ...performance.getEntriesByType('resource').map(e => e.name)]")
    total = 0
    for url in set(urls):
        if not url.startswith(server):
            continue
        path = SITE / unquote(urlparse(url).path.removeprefix("/"))
        if path.is_dir():
            path = path / "index.html"
        if path.is_file():
            data = path.read_bytes()
            total += len(gzip.compress(data)) if path.suffix in TEXT_SUFFIXES else len(data)
    return total


def open_page(browser, url, *, dark=False, width=1280):
    """Load ``url``; return (page, console errors)."""
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme="dark" if dark else "light")
    page = context.new_page()
    page.add_init_script(MEASURE_LAYOUT_SHIFT)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="networkidle")
    page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)")
    page.evaluate("() => window.MathJax ? MathJax.startup.promise : null")
    page.wait_for_load_state("networkidle")
    return page, errors


def figure_text_px(page, stem: str) -> list[float]:
    """The smallest text of each figure on ``page``, in CSS px as shown, in page order.

    Each figure's output in the executed notebook records its smallest text at its natural size
    (``min_text_px``, from ``convnets.plotting.PageFigure`` and ``convnets.diagrams.SvgFigure``); the
    browser gives the width each image is shown at.
    """
    notebook = nbformat.read(ROOT / "_build" / "jupyter_execute" / "chapters" / f"{stem}.ipynb", as_version=4)
    natural = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            kinds = [k for k in ("image/svg+xml", "image/png") if k in output.get("data", {})]
            if kinds:
                metadata = output.get("metadata", {})
                found = [metadata[k]["min_text_px"] for k in kinds if "min_text_px" in metadata.get(k, {})]
                assert found, f"{stem}: an image output without min_text_px (not a PageFigure or SvgFigure)"
                natural.append(found[0])
    shown = page.evaluate("""() => [...document.querySelectorAll('article img')].map(
        i => i.getBoundingClientRect().width / Number(i.getAttribute('width')))""")
    assert len(shown) == len(natural), f"{stem}: {len(natural)} figure outputs, {len(shown)} images on the page"
    return [px * scale for px, scale in zip(natural, shown, strict=True)]


@pytest.mark.browser
@pytest.mark.parametrize("name", pages())
def test_page_in_browser(name, server, browser, axe_source):
    url = urljoin(server, name)
    page, errors = open_page(browser, url)
    stem = Path(name).stem

    # JavaScript errors, duplicate ids
    assert errors == [], f"{name}: JavaScript errors {errors}"
    duplicates = page.evaluate("""() => { const seen = {}; document.querySelectorAll('[id]').forEach(
        e => seen[e.id] = (seen[e.id] || 0) + 1); return Object.keys(seen).filter(k => seen[k] > 1); }""")
    assert duplicates == [], f"{name}: duplicate ids {duplicates}"

    # MathJax: no raw TeX outside code
    raw = page.evaluate("""() => {
        const main = document.querySelector('main').cloneNode(true);
        main.querySelectorAll('pre, code, .highlight, mjx-container, script').forEach(e => e.remove());
        const text = main.textContent;
        return ['\\\\(', '\\\\[', '$$'].filter(d => text.includes(d));
    }""")
    assert raw == [], f"{name}: raw TeX delimiters left in the text: {raw}"
    has_math = page.evaluate("() => document.querySelectorAll('main .math').length")
    typeset = page.evaluate("() => document.querySelectorAll('main mjx-container').length")
    assert typeset >= has_math, f"{name}: {has_math} formulas, {typeset} typeset"

    # Images load, have meaningful alt text and a size; figures are not scaled down at 1280 px
    images = page.evaluate("""() => [...document.querySelectorAll('img')].map(i => ({
        src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0, alt: i.getAttribute('alt') || '',
        figure: i.closest('article') !== null, width: i.getAttribute('width'), height: i.getAttribute('height'),
        shown: i.getBoundingClientRect().width}))""")
    for image in images:
        assert image["ok"], f"{name}: image {image['src']} did not load"
        alt = image["alt"].strip()
        # figures need a description; interface icons (launch-button logos) need a name
        assert len(alt) >= (40 if image["figure"] else 3) and not re.search(r"\.(png|svg|jpe?g)$", alt), \
            f"{name}: image {image['src']} has no meaningful alt text: {alt!r}"
        if image["figure"]:
            assert image["width"] and image["height"], f"{name}: image {image['src']} has no width and height"
            assert image["shown"] >= 0.99 * float(image["width"]), \
                f"{name}: {image['src']} shown {image['shown']:.0f} px wide of its {image['width']}: its text shrinks"
    # Figure text at least 0.8x the body text at 1280 px (on a phone it shrinks with the column: printed)
    body_px = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('article p')).fontSize)")
    text_px = figure_text_px(page, stem) if stem != "references" else []
    if text_px:
        print(f"{name}: smallest figure text {min(text_px):.1f} px at 1280 px ({min(text_px) / body_px:.2f}x "
              f"the {body_px:g} px body text)")
        assert min(text_px) >= 0.8 * body_px, f"{name}: figure text of {min(text_px):.1f} px next to {body_px} px"
    shift = page.evaluate("() => window.__cls")
    print(f"{name}: cumulative layout shift {shift:.3f}")
    assert shift < MAX_LAYOUT_SHIFT, f"{name}: cumulative layout shift {shift:.3f}"
    moved_by_images = page.evaluate("() => window.__imageShifts")
    assert moved_by_images == [], f"{name}: images that moved the page as they loaded: {moved_by_images}"

    # Internal links and anchors resolve
    links = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    for link in links:
        parsed = urlparse(link)
        if not link.startswith(server):
            continue
        target = SITE / unquote(parsed.path.removeprefix("/"))
        if target.is_dir():
            target = target / "index.html"
        assert target.exists(), f"{name}: broken link {link}"
        if parsed.fragment and target.suffix == ".html":
            html = target.read_text()
            assert re.search(rf'id="{re.escape(unquote(parsed.fragment))}"', html), f"{name}: missing anchor {link}"

    # Accessibility: axe-core, WCAG 2 A and AA, no serious or critical violations
    page.add_script_tag(content=axe_source)
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})""")
    serious = [(v["id"], v["impact"], len(v["nodes"]), v["nodes"][0]["target"]) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{name}: axe violations {serious}"

    # Weight (as transferred with gzip) and screenshots
    total = transferred_bytes(page, server)
    assert total <= MAX_PAGE_BYTES, f"{name}: page weighs {total / 1e6:.2f} MB"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{stem}-light.png"), full_page=True)
    page.context.close()
    dark, _ = open_page(browser, url, dark=True)
    dark.evaluate("() => document.documentElement.dataset.theme = 'dark'")
    assert dark.evaluate("() => document.documentElement.dataset.theme") == "dark"
    # numbers computed into captions read as caption text: no box from myst-nb's text-output style
    boxed = dark.evaluate("""() => [...document.querySelectorAll('figcaption .output')].filter(
        e => getComputedStyle(e).borderTopStyle !== 'none').map(e => e.textContent)""")
    assert boxed == [], f"{name}: caption numbers drawn in boxes: {boxed}"
    dark.screenshot(path=str(SHOTS / f"{stem}-dark.png"), full_page=True)
    dark.context.close()
    phone, errors = open_page(browser, url, width=390)
    assert errors == [], f"{name} at 390 px: JavaScript errors {errors}"
    wide = phone.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= 390, f"{name}: the page is {wide} px wide on a 390 px phone"
    cut = phone.evaluate("""() => [...document.querySelectorAll('mjx-container[display="true"]')].filter(
        m => m.firstElementChild.getBoundingClientRect().width > m.parentElement.getBoundingClientRect().width + 1)
        .map(m => m.textContent.slice(0, 40))""")
    assert cut == [], f"{name}: formulas wider than a 390 px phone's column: {cut}"
    if text_px:
        print(f"{name}: smallest figure text {min(figure_text_px(phone, stem)):.1f} px on a 390 px phone")
    phone.screenshot(path=str(SHOTS / f"{stem}-phone.png"), full_page=True)
    phone.context.close()
    phone_dark, errors = open_page(browser, url, dark=True, width=390)
    phone_dark.evaluate("() => document.documentElement.dataset.theme = 'dark'")
    assert errors == [], f"{name} at 390 px, dark: JavaScript errors {errors}"
    phone_dark.screenshot(path=str(SHOTS / f"{stem}-phone-dark.png"), full_page=True)
    phone_dark.context.close()


@pytest.mark.browser
def test_launch_and_download_buttons(server):
    for name in pages():
        html = (SITE / name).read_text()
        stem = Path(name).stem
        if stem == "references":
            continue
        assert f"urlpath=lab/tree/chapters/{stem}.md" in html, f"{name}: Binder button does not open its .md"
        assert "colab" not in html.lower()
        assert f"_sources/chapters/{stem}.ipynb" in html and f"_sources/chapters/{stem}.md" in html
        notebook = nbformat.read(SITE / "_sources" / "chapters" / f"{stem}.ipynb", as_version=4)
        assert any(c.cell_type == "code" for c in notebook.cells)


EVAL_ROLE = re.compile(r"\{eval\}`([^`]+)`")


@pytest.mark.parametrize("name", [p for p in pages() if Path(p).stem != "references"])   # references: no notebook
def test_download_works_on_its_own(name):
    """The .ipynb a reader downloads: a first cell that says how to run it, every {eval} of the text
    stored with its value (jupyterlab-myst shows them before anything runs), every figure and table as
    a visible output, and nothing only a build tool can read."""
    stem = Path(name).stem
    notebook = nbformat.read(SITE / "_sources" / "chapters" / f"{stem}.ipynb", as_version=4)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and "How to run this notebook" in first.source
    assert f"urlpath=lab/tree/chapters/{stem}.md" in first.source and "pip install -r requirements.txt" in first.source
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            expressions = EVAL_ROLE.findall(cell.source)
            stored = [e["expression"] for e in cell.metadata.get("user_expressions", [])]
            assert stored == expressions, f"{stem}: {expressions} evaluated, {stored} stored"
            for e in cell.metadata.get("user_expressions", []):
                assert e["result"]["status"] == "ok" and "text/plain" in e["result"]["data"], e
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if any(k.startswith("application/papermill") for k in o.get("data", {}))]
    assert not [o for o in outputs if o.get("output_type") == "error"], f"{stem}: an error in the download"
    figures = sum(1 for c in notebook.cells if c.cell_type == "code" and "figure" in c.metadata.get("mystnb", {}))
    images = sum(1 for o in outputs if {"image/png", "image/svg+xml"} & set(o.get("data", {})))
    assert images >= figures, f"{stem}: {figures} figures, {images} image outputs"
    html = (SITE / name).read_text()
    assert html.count("<figure") <= images, f"{stem}: the site shows more figures than the download holds"


def test_not_found_page():
    if not (SITE / "chapters").is_dir():
        missing("the book is not built: run the README's first command")
    text = (SITE / "404.html").read_text()
    assert "Page not found" in text and "index.html" in text


@pytest.mark.browser
def test_offline_link_check(server):
    """Every internal link of the site, crawled by linkchecker from the home page.

    Crawled over HTTP from the local server rather than as file:// paths: run as root,
    linkchecker drops its privileges to "nobody", who may not read a private build folder.
    """
    linkchecker = shutil.which("linkchecker") or str(Path(os.sys.executable).parent / "linkchecker")
    if not Path(linkchecker).exists():
        missing("linkchecker is not installed")
    run = subprocess.run([linkchecker, "--no-status", "--no-warnings", f"--ignore-url=^(?!{re.escape(server)})",
                          urljoin(server, "index.html")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:]
    checked = re.search(r"(\d+) links? in (\d+) URLs? checked", run.stdout)
    assert checked and int(checked.group(2)) >= len(pages()), run.stdout[-1500:]
