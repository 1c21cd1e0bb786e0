"""The school widget in a real browser (Debian's Chromium driven by Playwright).

The demo school page is served on its own port, so the widget talks to the assistant across
origins exactly as on a school's website.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image, ImageChops
from playwright.sync_api import Browser, Locator, Page, expect

from bot.local_servers import free_port, local_environ, local_servers
from bot.settings import PROJECT_DIR, VAR_DIR
from tests.e2e.replies import has_placeholder

pytestmark = pytest.mark.e2e

SCREENSHOTS = VAR_DIR / "results" / "browser"
EXIT_URL = "https://www.bbc.co.uk/weather"
SCREEN_SIZES = ((1280, 800), (375, 740))  # a desktop, and a phone, where the panel fills the screen
# widget.css: the panel's shadow is 0.75em (12 px) down, blurred by 2.5em, a Gaussian with sigma 20 px;
# three sigmas beyond that it is no longer seen.
PANEL_SHADOW_PX = 12 + 3 * 20
# Served byte for byte from widget/ (the table in widget/README.md), written out so a wrong route fails.
WIDGET_FILES = {
    "/widget.js": ("widget.js", "text/javascript"),
    "/widget.css": ("widget.css", "text/css"),
    "/widget/socket.io.min.js": ("vendor/socket.io.min.js", "text/javascript"),
}
Box = tuple[int, int, int, int]  # left, top, right, bottom in screen pixels, as Pillow's getbbox()


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator:
    database = tmp_path_factory.mktemp("browser") / "tt.db"
    with local_servers(local_environ(f"sqlite:///{database}")) as running:
        yield running


@pytest.fixture
def page(browser: Browser, servers) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.route(f"{EXIT_URL}**", lambda route: route.fulfill(body="<title>Weather</title><h1>Weather</h1>"))
    page.requests = []  # type: ignore[attr-defined]
    page.on("request", lambda request: page.requests.append(request.url))  # type: ignore[attr-defined]
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))  # type: ignore[attr-defined]
    page.goto(servers.demo_url)
    yield page
    context.close()


def open_with_keyboard(page: Page) -> None:
    page.wait_for_selector("#tt-launcher")
    for _ in range(40):
        if page.evaluate("document.activeElement && document.activeElement.id") == "tt-launcher":
            break
        page.keyboard.press("Tab")
    else:
        pytest.fail("the launcher cannot be reached with the Tab key")
    page.keyboard.press("Enter")
    expect(page.locator("#tt-panel")).to_be_visible()
    expect(page.locator("#tt-input")).to_be_focused()


def send(page: Page, text: str) -> str:
    """Type a message, press Enter, and return the text of the first bot reply to it."""
    before = page.locator("#tt-log .tt-bot").count()
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    first_reply = page.locator("#tt-log .tt-bot").nth(before)
    first_reply.wait_for(timeout=15_000)
    shown = first_reply.inner_text()
    assert not has_placeholder(shown), f"a placeholder reached the user: {shown}"
    return shown


def serious_violations(page: Page, state: str) -> list[str]:
    """Serious and critical axe-core findings; every finding is kept in var/results/browser/axe-STATE.json."""
    results = Axe().run(page)
    violations = results.response["violations"]
    summary = {
        "state": state,
        "rules_passed": len(results.response["passes"]),
        "violations_by_impact": dict(Counter(v.get("impact") or "none" for v in violations)),
        "violations": [{"id": v["id"], "impact": v.get("impact"), "nodes": len(v["nodes"])} for v in violations],
    }
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"axe-{state}.json").write_text(json.dumps(summary, indent=2))
    return [f"{v['id']}: {v['help']}" for v in violations if v.get("impact") in ("serious", "critical")]


def test_a_parent_uses_the_widget_with_the_keyboard_only(page: Page, servers) -> None:
    expect(page.locator("#talk-together-widget")).to_contain_text("Call 999")
    open_with_keyboard(page)

    guidance = send(page, "how do I talk to my 8 year old about online safety")
    assert "talk" in guidance.lower()

    danger = send(page, "my daughter is meeting a man from snapchat right now")
    assert "999" in danger

    choices = page.locator("#tt-log .tt-choice:enabled")
    before = page.locator("#tt-log .tt-bot").count()
    choices.first.click()
    expect(page.locator("#tt-log .tt-bot")).not_to_have_count(before)

    allowed = {origin(servers.demo_url), origin(servers.base_url)}
    assert {origin(url) for url in page.requests} <= allowed  # type: ignore[attr-defined]

    page.keyboard.press("Escape")
    page.wait_for_url(f"{EXIT_URL}**")
    assert page.evaluate("sessionStorage.length") == 0


def test_no_serious_accessibility_violations_open_or_closed(page: Page) -> None:
    # Measured at rest: a message fading in has, for a moment, too little contrast.
    page.emulate_media(reduced_motion="reduce")
    page.wait_for_selector("#tt-launcher")
    assert serious_violations(page, "closed") == []
    page.click("#tt-launcher")
    expect(page.locator("#tt-panel")).to_be_visible()
    send(page, "hello")
    expect(page.locator("#tt-log .tt-bot")).to_have_count(2)
    page.wait_for_timeout(500)
    assert serious_violations(page, "open") == []


def test_html_in_a_message_is_shown_as_text_and_runs_nothing(page: Page) -> None:
    attack = "<img src=x onerror=alert(1)>"
    page.click("#tt-launcher")
    page.locator("#tt-input").fill(attack)
    page.keyboard.press("Enter")

    expect(page.locator("#tt-log .tt-user").last).to_have_text(attack)
    page.locator("#tt-log .tt-bot").first.wait_for()
    assert page.locator("#tt-log img").count() == 0
    assert page.dialogs == []  # type: ignore[attr-defined]


def screenshot(page: Page, path: Path | None = None) -> Image.Image:
    """The viewport as the user sees it, with animations run to their end."""
    png = page.screenshot(path=None if path is None else str(path), animations="disabled")
    return Image.open(io.BytesIO(png)).convert("RGB")


def colours(image: Image.Image) -> int:
    return len(image.getcolors(maxcolors=image.width * image.height) or ())


def contains(outer: Box, inner: Box) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3]


def grown(box: Box, by: int) -> Box:
    return box[0] - by, box[1] - by, box[2] + by, box[3] + by


def drawn_by(page: Page, element: Locator, shown: Image.Image) -> Box | None:
    """Where the screen changes when `element` is hidden: the pixels it draws, shadow included."""
    element.evaluate("e => e.style.setProperty('visibility', 'hidden')")
    without = screenshot(page)
    element.evaluate("e => e.style.removeProperty('visibility')")
    return ImageChops.difference(shown, without).getbbox()


def test_screenshots_show_the_open_chat_panel(page: Page) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.click("#tt-launcher")
    send(page, "hello")
    expect(page.locator("#tt-log .tt-bot")).to_have_count(2)  # the greeting and the privacy note
    panel = page.locator("#tt-panel")
    for width, height in SCREEN_SIZES:
        page.set_viewport_size({"width": width, "height": height})
        expect(panel).to_be_visible()
        found = panel.bounding_box()
        assert found is not None, f"{width} px: the panel has no box"
        box = (
            math.floor(found["x"]),
            math.floor(found["y"]),
            math.ceil(found["x"] + found["width"]),
            math.ceil(found["y"] + found["height"]),
        )
        assert contains((0, 0, width, height), box), f"{width} px: the panel at {box} is not all on screen"

        shown = screenshot(page, SCREENSHOTS / f"widget-{width}.png")
        assert shown.size == (width, height)
        assert colours(shown) >= 16 and colours(shown.crop(box)) >= 16, f"{width} px: the screenshot is blank"
        drawn = drawn_by(page, panel, shown)
        assert drawn is not None, f"{width} px: the panel draws nothing"
        assert contains(grown(drawn, 1), box), f"{width} px: the panel at {box} is drawn only at {drawn}"
        assert contains(grown(box, PANEL_SHADOW_PX), drawn), f"{width} px: the panel at {box} draws at {drawn}"


def test_a_page_on_an_origin_not_allowed_cannot_hold_a_conversation(browser: Browser, servers) -> None:
    port = free_port()
    command = [sys.executable, "-m", "bot.demo_site", "--port", str(port), "--assistant", servers.base_url]
    other_site = subprocess.Popen(command, cwd=PROJECT_DIR)
    try:
        context = browser.new_context()
        page = context.new_page()
        for _ in range(50):
            try:
                page.goto(f"http://127.0.0.1:{port}/")
                break
            except Exception:  # the site is still starting
                page.wait_for_timeout(100)
        page.click("#tt-launcher")
        page.locator("#tt-input").fill("hello")
        page.keyboard.press("Enter")
        # The widget works there and is turned away: it shows the message and says it cannot connect.
        expect(page.locator("#tt-log .tt-user")).to_have_text("hello")
        expect(page.locator("#tt-log .tt-error").first).to_contain_text("can't connect", timeout=15_000)
        expect(page.locator("#tt-log .tt-bot")).to_have_count(0)
        context.close()
    finally:
        other_site.terminate()
        other_site.wait()


def test_widget_files_come_from_the_assistant(servers) -> None:
    import urllib.request

    def get(path: str) -> tuple[str, bytes]:
        with urllib.request.urlopen(servers.base_url + path, timeout=10) as response:
            return response.headers.get_content_type(), response.read()

    for path, (file, content_type) in WIDGET_FILES.items():
        served_type, body = get(path)
        assert served_type == content_type, path
        assert body == (PROJECT_DIR / "widget" / file).read_bytes(), f"{path} is not widget/{file}"
    content_type, body = get("/widget/config.json")
    config = json.loads(body)
    assert content_type == "application/json"
    assert config["emergency_number"] == "999" and "iwf.org.uk/report" in config["link_addresses"]
    licence = (PROJECT_DIR / "widget" / "vendor" / "socket.io-client.LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("The MIT License"), "the vendored Socket.IO client comes with its licence"


@pytest.mark.parametrize(
    ("colour", "shown"),
    [("#7a1f5c", "rgb(122, 31, 92)"), ("#ffd700", "rgb(11, 85, 102)")],  # gold: white text unreadable on it
)
def test_the_widget_takes_the_schools_title_and_a_readable_colour(browser: Browser, servers, colour, shown) -> None:
    context = browser.new_context()
    page = context.new_page()
    config = {"title": "Ask Oakfield", "colour": colour, "emergency_number": "999"}
    page.route(
        "**/widget/config.json", lambda route: route.fulfill(json=config, headers={"Access-Control-Allow-Origin": "*"})
    )
    page.goto(servers.demo_url)
    launcher = page.locator("#tt-launcher")
    expect(launcher).to_be_visible()
    page.wait_for_function("document.getElementById('tt-title').textContent === 'Ask Oakfield'")

    # The config is applied (the title is set in the same step); the launcher eases to its colour.
    expect(launcher).to_have_css("background-color", shown)
    launcher.click()
    expect(page.locator("#tt-title")).to_have_text("Ask Oakfield")
    context.close()
