"""The content report as a safeguarding lead sees it, opened in Chromium and screenshotted."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import Browser

from bot.content import load_content
from bot.content_report import REPORT_FILE, write_report
from bot.settings import PROJECT_DIR, VAR_DIR, load_settings

pytestmark = pytest.mark.e2e

SCREENSHOT = VAR_DIR / "results" / "browser" / "content-report.png"


def test_the_report_shows_every_item_and_is_screenshotted(browser: Browser) -> None:
    report = write_report(load_settings({}, env_file=PROJECT_DIR / "no-such.env"), REPORT_FILE)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(report.as_uri())
        assert page.title() == "Talk Together: content for review"
        shown = page.locator("section.item")
        assert shown.count() == len(load_content().items)
        assert all(box is not None and box["height"] > 40 for box in (s.bounding_box() for s in shown.all()[:5]))
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        image = Image.open(io.BytesIO(page.screenshot(path=str(SCREENSHOT)))).convert("RGB")
    finally:
        page.close()
    assert image.size == (1280, 900)
    assert len(image.getcolors(maxcolors=1280 * 900) or ()) >= 16, "the screenshot is blank"
