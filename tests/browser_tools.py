"""What the browser tests (test_site.py, test_jupyterlab.py) share: Chromium driven by Playwright,
and a missing tool or build that skips the test on a workstation but fails it on CI."""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IN_CI = bool(os.environ.get("CI"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def missing(reason: str):
    """Skip the test for want of ``reason``; on CI, which must provide everything, fail it."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must provide it)")
    pytest.skip(reason)


def chromium():
    """Yield the system's Chromium (Debian's package), else one that ``playwright install chromium``
    fetched; closed when the generator resumes. For a module-scoped ``browser`` fixture."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except sync_api.Error as err:
            missing(f"no Chromium to drive (Debian: apt-get install chromium; elsewhere: "
                    f"python -m playwright install chromium): {str(err).splitlines()[0]}")
        yield browser
        browser.close()
