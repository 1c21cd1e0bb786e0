"""The content report a safeguarding lead reviews: every item, as sent, overdue first, traced to the facts."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from bot.content import load_content
from bot.content_report import FACTS_FILE, build_report
from bot.settings import REGIONS, load_settings

NO_ENV_FILE = FACTS_FILE.with_name("no-such.env")  # the deployment defaults, whatever .env holds


class Sections(HTMLParser):
    """The data-key of each item section, in page order, and which of them are marked overdue."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []
        self.overdue: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section" and found.get("data-key"):
            self.keys.append(str(found["data-key"]))
            if "overdue" in (found.get("class") or "").split():
                self.overdue.append(str(found["data-key"]))


@pytest.fixture(scope="module")
def content():
    return load_content()


def parsed(page: str) -> Sections:
    sections = Sections()
    sections.feed(page)
    return sections


def test_every_item_is_shown_once(content) -> None:
    sections = parsed(build_report(load_settings({}, env_file=NO_ENV_FILE), content))
    assert sorted(sections.keys) == sorted(content.items)


def test_items_past_their_review_date_come_first(content) -> None:
    earliest = min(item.review_by for item in content.items.values())
    today = earliest + dt.timedelta(days=1)
    late = {key for key, item in content.items.items() if item.review_by < today}
    assert late and len(late) < len(content.items), "the content needs two review dates for this test"
    sections = parsed(build_report(load_settings({}, env_file=NO_ENV_FILE), content, today))
    assert set(sections.keys[: len(late)]) == late
    assert set(sections.overdue) == late


def test_messages_are_shown_as_sent_with_no_template_left(content) -> None:
    settings = load_settings({"TT_SCHOOL_NAME": "Hillside Primary"}, env_file=NO_ENV_FILE)
    page = build_report(settings, content)
    messages = re.findall(r"<p class=message>(.*?)</p>", page, flags=re.S)
    assert len(messages) >= len(content.items)
    assert not [m for m in messages if "{" in m], "a message still shows a placeholder"
    assert any("Hillside Primary" in m for m in messages), "the school's own settings are not filled in"
    assert "set by the school]" in page, "an unset school setting is not named for the reviewer"


def test_each_region_that_differs_is_shown(content) -> None:
    page = build_report(load_settings({}, env_file=NO_ENV_FILE), content)
    imagery = page[page.index('data-key="imagery_report"') :]
    imagery = imagery[: imagery.index("</section>")]
    assert "iwf.org.uk/report" in imagery and "esafety.gov.au" in imagery
    assert set(re.findall(r"<small>([A-Z, ]+|every region)</small>", imagery)) - {"every region"}
    assert len(REGIONS) > 1


@pytest.mark.skipif(not FACTS_FILE.exists(), reason=f"the reference facts are not at {FACTS_FILE}")
def test_numbers_are_traced_to_the_reference_facts(content) -> None:
    page = build_report(load_settings({}, env_file=NO_ENV_FILE), content)
    childline = re.search(r"<li>0800 1111: <q>([^<]+)</q>", page)
    assert childline and "Childline" in childline.group(1)
    unsupported = set(re.findall(r"<li>([^<:]+): <strong class=missing>", page))
    assert not unsupported, f"numbers or addresses the reference facts do not name: {sorted(unsupported)}"


def test_a_number_no_facts_line_names_is_marked(content, tmp_path) -> None:
    facts = tmp_path / "facts.md"
    facts.write_text("Childline 0800 1111\n", encoding="utf-8")
    page = build_report(load_settings({}, env_file=tmp_path / "none"), content, facts_file=facts)
    assert "<li>0800 1111: <q>Childline 0800 1111</q>" in page
    assert "<li>999: <strong class=missing>not found in facts.md</strong>" in page
