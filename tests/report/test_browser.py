"""The page in a real browser: Chromium from the operating system, driven by Playwright.

Set ``GENLAB_CHROMIUM`` to another executable; ``GENLAB_REQUIRE_BROWSER=1`` (CI) turns a
missing browser into a failure instead of a skip. A full-page screenshot is written to
``GENLAB_ARTIFACTS`` (default ``test-artifacts/``) at desktop and phone width.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("GENLAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright)"
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set GENLAB_CHROMIUM)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        if os.environ.get("GENLAB_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests required but {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _open(browser, page_path: Path, width: int):
    tab = browser.new_page(viewport={"width": width, "height": 900})
    errors, requests = [], []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("request", lambda r: requests.append(r.url))
    tab.goto(page_path.as_uri())
    tab.wait_for_load_state("load")
    return tab, errors, requests


def test_loads_without_errors_or_network_requests(browser, page):
    tab, errors, requests = _open(browser, page, 1280)
    assert errors == []
    assert [u for u in requests if not u.startswith(("data:", page.as_uri()))] == []
    tab.close()


def test_every_section_in_lecture_order_with_claims_and_loaded_figures(browser, page, store):
    from genlab.experiments import available
    from genlab.runs import latest_runs

    tab, _, _ = _open(browser, page, 1280)
    expected = [n for n in available() if n in latest_runs(store)]
    shown = tab.eval_on_selector_all("section.lecture[id]", "els => els.map(e => e.id)")
    assert [s for s in shown if s not in ("closing", "references")] == expected
    for name in expected:
        rows = tab.locator(f"section#{name} table.claims tbody tr")
        assert rows.count() >= 1
        widths = tab.eval_on_selector_all(f"section#{name} figure img",
                                          "imgs => imgs.map(i => i.complete && i.naturalWidth)")
        assert widths and all(w > 0 for w in widths), (name, widths)
    tab.close()


def test_every_navigation_link_lands_on_its_section(browser, page):
    tab, _, _ = _open(browser, page, 1280)
    links = tab.locator("nav.toc a")
    for i in range(links.count()):
        target = links.nth(i).get_attribute("href")
        links.nth(i).click()
        tab.wait_for_function(f"location.hash === '{target}'")
        # the (smooth) scroll ends with the section's top at the top of the window, or,
        # for the last sections, with the page scrolled to its end and the section in view
        tab.wait_for_function(
            "t => { const r = document.querySelector(t).getBoundingClientRect();"
            " const end = window.scrollY + window.innerHeight >="
            " document.documentElement.scrollHeight - 2;"
            " return (r.top > -2 && r.top < 120) || (end && r.top >= 0 &&"
            " r.top < window.innerHeight); }", arg=target, timeout=5000)
    tab.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_no_horizontal_overflow_and_screenshot(browser, page, width):
    tab, _, _ = _open(browser, page, width)
    scroll, inner = tab.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"page is {scroll} px wide in a {inner} px window"
    out = Path(os.environ.get("GENLAB_ARTIFACTS", "test-artifacts"))
    out.mkdir(parents=True, exist_ok=True)
    shot = out / f"lecture-{width}px.png"
    tab.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    tab.close()
