"""The built site as a reader sees it, in a real browser (Chromium driven by Playwright).

Needs the built book (``_build/html``: the README's first command) and Chromium
(Debian's ``chromium`` package; Playwright cannot download browsers here). Where either is
missing the tests skip with the reason, except in CI (``CI`` set), where they fail: CI
installs Chromium and builds the book first.

For every page: no JavaScript errors (allow-list below), MathJax has typeset every formula,
every image loads and has meaningful alt text, every internal link and anchor resolves,
axe-core finds no serious or critical WCAG 2 A/AA violations, the page weighs at most 2 MB,
and light and dark screenshots go to ``_build/screenshots/``.
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

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IN_CI = bool(os.environ.get("CI"))
MAX_PAGE_BYTES = 2 * 1024 * 1024

# Console messages that are not the book's fault, each with its reason.
ALLOWED_CONSOLE = {
    # sphinx-book-theme declares THEBE_JS_URL in two scripts on every page (known theme bug)
    "Identifier 'THEBE_JS_URL' has already been declared",
    # pydata-sphinx-theme 0.17 on a first visit: nothing stored in localStorage yet, its inline
    # script sets the mode to "" and its main script then logs this and falls back to "auto"
    "Got invalid theme mode: . Resetting to auto.",
}
TEXT_SUFFIXES = {".html", ".js", ".css", ".json", ".svg", ".txt", ".map"}


def _missing(reason: str):
    if IN_CI:
        pytest.fail(f"{reason} (CI must provide it)")
    pytest.skip(reason)


def pages() -> list[str]:
    return sorted(str(p.relative_to(SITE)) for p in (SITE / "chapters").glob("*.html"))


@pytest.fixture(scope="module")
def server():
    if not (SITE / "chapters").is_dir():
        _missing("the book is not built: run the README's first command")
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
    """The system's Chromium (Debian's package), else one that ``playwright install chromium`` fetched."""
    sync_api = pytest.importorskip("playwright.sync_api")
    args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"]
    with sync_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        except sync_api.Error as err:
            _missing(f"no Chromium to drive (Debian: apt-get install chromium; elsewhere: "
                     f"python -m playwright install chromium): {str(err).splitlines()[0]}")
        yield browser
        browser.close()


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


def open_page(browser, url, *, dark=False):
    """Load ``url``; return (page, console errors)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark" if dark else "light")
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="networkidle")
    page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)")
    page.evaluate("() => window.MathJax ? MathJax.startup.promise : null")
    page.wait_for_load_state("networkidle")
    return page, errors


@pytest.mark.browser
@pytest.mark.parametrize("name", pages())
def test_page_in_browser(name, server, browser, axe_source):
    url = urljoin(server, name)
    page, errors = open_page(browser, url)
    stem = Path(name).stem

    # JavaScript errors
    unexpected = [e for e in errors if not any(allowed in e for allowed in ALLOWED_CONSOLE)]
    assert unexpected == [], f"{name}: JavaScript errors {unexpected}"

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

    # Images load and have meaningful alt text
    images = page.evaluate("""() => [...document.querySelectorAll('img')].map(i => ({
        src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0, alt: i.getAttribute('alt') || '',
        figure: i.closest('article') !== null}))""")
    for image in images:
        assert image["ok"], f"{name}: image {image['src']} did not load"
        alt = image["alt"].strip()
        # figures need a description; interface icons (launch-button logos) need a name
        assert len(alt) >= (40 if image["figure"] else 3) and not re.search(r"\.(png|svg|jpe?g)$", alt), \
            f"{name}: image {image['src']} has no meaningful alt text: {alt!r}"

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
    dark.screenshot(path=str(SHOTS / f"{stem}-dark.png"), full_page=True)
    dark.context.close()


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


@pytest.mark.browser
def test_offline_link_check(server):
    """Every internal link of the site, crawled by linkchecker from the home page.

    Crawled over HTTP from the local server rather than as file:// paths: run as root,
    linkchecker drops its privileges to "nobody", who may not read a private build folder.
    """
    linkchecker = shutil.which("linkchecker") or str(Path(os.sys.executable).parent / "linkchecker")
    if not Path(linkchecker).exists():
        _missing("linkchecker is not installed")
    run = subprocess.run([linkchecker, "--no-status", "--no-warnings", f"--ignore-url=^(?!{re.escape(server)})",
                          urljoin(server, "index.html")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:]
    checked = re.search(r"(\d+) links? in (\d+) URLs? checked", run.stdout)
    assert checked and int(checked.group(2)) >= len(pages()), run.stdout[-1500:]
