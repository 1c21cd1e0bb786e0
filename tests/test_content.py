"""content/ is the single source of what the assistant says; these checks keep it safe to show."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import textstat
import yaml

from bot.content import AGE_SLOT_VALUES, AUDIENCES, WHEN_UNSET_SUFFIX, ContentError, load_content, responses
from bot.request_guard import SERVER_REPLIES
from bot.settings import PROJECT_DIR, REGIONS

CONTENT = load_content()
ITEMS = list(CONTENT.items.values())
NUMBER_OR_ADDRESS = re.compile(r"\d{3,}|\d+ \d+|https?://|www\.|\b[\w-]+\.(org|uk|com|gov|ie|ca|au)\b", re.I)
BANNED = [
    r"child porn",
    r"kiddie",
    r"should have known",
    r"asked for it",
    r"self-generated",
    r"\bconsent(ed)? to\b",
    r"(send|upload|share|forward) (it|them|the (image|photo|video|link)) (to|with) (me|us)",
]


def _used_responses() -> set[str]:
    used = {"utter_default"}  # sent by Rasa's action_default_fallback
    used |= {f"utter_{item}" for items in SERVER_REPLIES.values() for item in items}  # sent by the request guard
    domain = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))
    for form, spec in (domain.get("forms") or {}).items():  # a form asks with utter_ask_<form>_<slot>
        used |= {f"utter_ask_{form}_{slot}" for slot in spec["required_slots"]}
    for path in [*(PROJECT_DIR / "data").rglob("*.yml"), *(PROJECT_DIR / "actions").rglob("*.py")]:
        used |= set(re.findall(r"(?<![\w.])utter_[a-z0-9_]+\b(?!\()", path.read_text(encoding="utf-8")))
    return used


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: item.key)
def test_item_has_sources_and_an_unexpired_review_date(item):
    assert item.sources, "every item cites where its facts come from"
    for source in item.sources:
        assert source.url.startswith("https://")
        assert source.checked <= dt.date.today()
    assert item.review_by > dt.date.today(), f"{item.key} is past its review date {item.review_by}"
    assert set(item.audiences) <= set(AUDIENCES) and item.audiences


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: item.key)
def test_numbers_and_addresses_come_only_from_the_registry(item):
    for text in (item.text, *(b.title for b in item.buttons)):
        assert not NUMBER_OR_ADDRESS.search(text), f"{item.key}: use a {{{{resource}}}} from content/resources.yml"


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: item.key)
def test_no_banned_or_victim_blaming_language(item):
    text = CONTENT.render(item.key, "uk").lower()
    for pattern in BANNED:
        assert not re.search(pattern, text), f"{item.key} uses {pattern!r}"


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: item.key)
def test_every_message_is_easy_to_read(item):
    text = CONTENT.render(item.key, "uk")
    assert textstat.flesch_reading_ease(text) >= 60, f"{item.key}: shorter sentences and words"


def test_every_response_is_used_and_every_used_response_exists():
    generated = set(responses(CONTENT, "uk"))
    used = _used_responses()
    used |= {name + WHEN_UNSET_SUFFIX for name in used} & generated  # sent instead by bot/nlg.py

    assert generated - used == set(), "content items nothing sends"
    assert used - generated == set(), "responses sent but missing from content/"


def test_every_resource_has_a_uk_value_and_a_source():
    for resource in CONTENT.resources.values():
        assert "uk" in resource.values, resource.key
        assert set(resource.values) == set(resource.sources) <= set(REGIONS)


def test_the_generated_domain_is_what_rasa_reads(domain):
    for name, variations in responses(CONTENT, "uk").items():
        assert domain["responses"][name] == variations


def test_no_response_is_written_in_rasa_yaml():
    for path in [PROJECT_DIR / "domain.yml", *Path(PROJECT_DIR / "data").rglob("*.yml")]:
        assert "responses" not in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}), path


def test_every_region_and_age_gets_exactly_one_variation():
    generated = responses(CONTENT, "uk")
    for name, variations in generated.items():
        item = CONTENT.items[name.removeprefix("utter_")]
        for region in (None, *REGIONS):
            for age in (None, *AGE_SLOT_VALUES):
                slots = {"region": region, "age_band": age}
                matching = [v for v in variations[1:] if all(slots[c["name"]] == c["value"] for c in v["condition"])]
                assert len(matching) <= 1, (name, slots)
                chosen = matching[0] if matching else variations[0]
                expected_age = age if item.by_age else None
                assert chosen["text"] == CONTENT.fill(item.text_for(expected_age), region or "uk", name)


def test_a_user_abroad_gets_their_countrys_numbers():
    variations = responses(CONTENT, "uk")["utter_danger_call_emergency"]

    assert variations[0]["text"].startswith("Call 999 now")
    by_region = {v["condition"][0]["value"]: v["text"] for v in variations[1:]}
    assert by_region["ie"].startswith("Call 112 or 999 now")
    assert by_region["us"].startswith("Call 911 now")
    assert by_region["au"].startswith("Call 000 now")


def test_did_you_mean_suggestions_name_real_intents(domain):
    assert CONTENT.suggestions
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    assert set(CONTENT.suggestions) <= intents


def test_an_item_showing_the_schools_details_has_a_text_for_when_they_are_unset(tmp_path):
    (tmp_path / "resources.yml").write_text((PROJECT_DIR / "content" / "resources.yml").read_text())
    topic = {"audiences": ["school_staff"], "review_by": "2099-01-01",
             "sources": [{"title": "t", "url": "https://example.org", "checked": "2026-01-01"}],
             "items": [{"key": "contact", "text": "Ask {dsl_contact}."}]}  # fmt: skip
    (tmp_path / "school.yml").write_text(yaml.safe_dump(topic))

    with pytest.raises(ContentError, match="needs a when_unset text"):
        load_content(tmp_path)

    topic["items"][0]["when_unset"] = "Ask the school office."
    (tmp_path / "school.yml").write_text(yaml.safe_dump(topic))
    content = load_content(tmp_path)
    assert content.render("contact_when_unset", "uk") == "Ask the school office."
