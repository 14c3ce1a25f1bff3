"""Tests of the built book: every page renders with its figures visible.

These tests read ``_build/html``, which ``make book`` writes and then checks
with them; a plain ``make test`` has no built book and skips them, saying so.
Chromium runs headless with its background networking off, as the book must
render without network.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageStat

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
# Debian's chromium here; the hosted runners ship Google Chrome instead.
CHROMIUM = next(
    filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))),
    None,
)
PAGES = sorted(
    p
    for p in HTML.rglob("*.html")
    if p.relative_to(HTML).parts[0] in ("notebooks", "book")
)
SHOTS = ROOT / "_build" / "screenshots"
# Marks plotly draws for data of any trace type (SVG traces, WebGL canvases,
# heatmap images, tables, pie slices) or for a diagram drawn with shapes; zero
# when plotly.js never ran or the figure has no data.
_DRAWN_MARKS = """el => (el._fullLayout && (el.data || []).length)
    ? el.querySelectorAll('.trace, .gl-canvas-context, .hm image, .table,'
        + ' .slice, .shapelayer path').length
    : (el._fullLayout && el.querySelectorAll('.shapelayer path').length) || 0"""

# sphinx-thebe (pulled in by Jupyter Book v1) inlines its settings script twice
# on every page; the second copy's `const` fails harmlessly, as the first copy
# already set the same values. The book does not use live code (Thebe).
_THEME_ERRORS = frozenset({"Identifier 'THEBE_JS_URL' has already been declared"})

pytestmark = [
    pytest.mark.skipif(not PAGES, reason="no built book: run `make book` first"),
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """A headless Chromium driven by Playwright, with no network beyond files."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.mark.parametrize("page_path", PAGES, ids=[p.stem for p in PAGES])
def test_page_renders_with_figures(browser: object, page_path: Path) -> None:
    """Check a page loads, shows no error output, and draws every plotly figure."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(page_path.as_uri(), wait_until="load")
    page.wait_for_timeout(500)

    figures = page.locator("div.plotly-graph-div")
    drawn = page.locator("div.plotly-graph-div .main-svg")
    n_figures = figures.count()
    assert drawn.count() >= n_figures, f"{page_path.name}: a figure was not drawn"
    for index in range(n_figures):
        box = figures.nth(index).bounding_box()
        assert box and box["height"] > 100, f"{page_path.name}: figure {index} is empty"
        marks = figures.nth(index).evaluate(_DRAWN_MARKS)
        assert marks > 0, f"{page_path.name}: figure {index} is blank"
        # What the reader sees: the figure's pixels, not only its DOM.
        figures.nth(index).scroll_into_view_if_needed()
        shot = Image.open(io.BytesIO(figures.nth(index).screenshot())).convert("L")
        colours = len(shot.getcolors(maxcolors=1 << 16) or range(1 << 16))
        spread = ImageStat.Stat(shot).stddev[0]
        assert colours > 8 and spread > 2, (
            f"{page_path.name}: figure {index} looks empty on screen "
            f"({colours} grey levels, spread {spread:.1f})"
        )
    unexpected = page.evaluate(
        """() => [...document.querySelectorAll('div.output.error, .traceback')]
              .filter(e => !e.closest('.tag_raises-exception')).length"""
    )
    assert not unexpected, f"{page_path.name}: {unexpected} unexpected error outputs"
    ours = [e for e in errors if e not in _THEME_ERRORS]
    assert not ours, f"{page_path.name}: script errors {ours}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{page_path.stem}.png"), full_page=True)
    page.close()
