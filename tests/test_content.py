"""content/ is the single source of what the assistant says; these checks keep it safe to show."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path

import pytest
import textstat
import yaml

from bot.content import (
    AGE_SLOT_VALUES,
    AUDIENCE_SLOT_VALUES,
    AUDIENCES,
    TOPICS,
    VARIANT_SLOTS,
    WHEN_UNSET_SUFFIX,
    ContentError,
    Item,
    load_content,
    responses,
    runtime_settings_named,
)
from bot.nlg import DeploymentNLG
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


def _rendered(item: Item) -> list[str]:
    """Every text of `item` as the UK sees it: for any age, per age band and every variant's."""
    return [CONTENT.fill(text, "uk", item.key) for text in item.texts()]


def _used_responses() -> set[str]:
    used = {"utter_default"}  # sent by Rasa's action_default_fallback
    used |= {f"utter_{item}" for items in SERVER_REPLIES.values() for item in items}  # sent by the request guard
    domain = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))
    for form, spec in (domain.get("forms") or {}).items():  # a form asks with utter_ask_<form>_<slot>
        used |= {f"utter_ask_{form}_{slot}" for slot in spec["required_slots"]}
    for path in [*(PROJECT_DIR / "data").rglob("*.yml"), *(PROJECT_DIR / "actions").rglob("*.py")]:
        used |= set(re.findall(r"(?<![\w.])utter_[a-z0-9_]+\b(?!\()", path.read_text(encoding="utf-8")))
    return used


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://www.nspcc.org.uk/", "is a front page"),
        ("https://www.iwf.org.uk", "is a front page"),
        ("http://www.nspcc.org.uk/keeping-children-safe/", "is not an https address"),
    ],
)
def test_a_source_a_reviewer_cannot_check_against_the_advice_is_refused(tmp_path, url, problem):
    folder = _content_with(tmp_path, {"key": "tell", "text": "Tell the lead today."})
    topic = yaml.safe_load((folder / "school.yml").read_text())
    topic["sources"] = [{"title": "t", "url": url, "checked": "2026-01-01"}]
    (folder / "school.yml").write_text(yaml.safe_dump(topic))
    with pytest.raises(ContentError, match=problem):
        load_content(folder)


def test_a_service_site_counts_as_its_own_page(tmp_path):
    folder = _content_with(tmp_path, {"key": "tell", "text": "Tell the lead today."})
    topic = yaml.safe_load((folder / "school.yml").read_text())
    topic["sources"] = [{"title": "Take It Down", "url": "https://takeitdown.ncmec.org/", "checked": "2026-01-01"}]
    (folder / "school.yml").write_text(yaml.safe_dump(topic))
    assert load_content(folder).items["tell"].sources[0].url == "https://takeitdown.ncmec.org/"


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
    for text in (*item.texts(), *(b.title for v in item.variations() for b in v.buttons)):
        assert not NUMBER_OR_ADDRESS.search(text), f"{item.key}: use a {{{{resource}}}} from content/resources.yml"


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: item.key)
def test_no_banned_or_victim_blaming_language(item):
    for text in _rendered(item):
        for pattern in BANNED:
            assert not re.search(pattern, text.lower()), f"{item.key} uses {pattern!r}: {text!r}"


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: item.key)
def test_every_message_is_easy_to_read(item):
    for text in _rendered(item):
        assert textstat.flesch_reading_ease(text) >= 60, f"{item.key}: shorter sentences and words in {text!r}"


def test_every_response_is_used_and_every_used_response_exists():
    generated = set(responses(CONTENT))
    used = _used_responses()
    used |= {name + WHEN_UNSET_SUFFIX for name in used} & generated  # sent instead by bot/nlg.py

    assert generated - used == set(), "content items nothing sends"
    assert used - generated == set(), "responses sent but missing from content/"


def test_every_resource_has_a_value_and_a_source_for_every_region():
    # resources.yml: where no service exists for a region, the value names the police, never a gap.
    assert CONTENT.resources
    for resource in CONTENT.resources.values():
        assert set(resource.values) == set(REGIONS), resource.key
        for region in REGIONS:
            assert resource.values[region].strip(), f"{resource.key} shows nothing in {region}"
            assert resource.sources[region].strip(), f"{resource.key} has no source for {region}"


def test_the_generated_domain_is_what_rasa_reads(domain):
    for name, variations in responses(CONTENT).items():
        assert domain["responses"][name] == variations


def test_no_response_is_written_in_rasa_yaml():
    for path in [PROJECT_DIR / "domain.yml", *Path(PROJECT_DIR / "data").rglob("*.yml")]:
        assert "responses" not in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}), path


def test_the_generator_sends_each_items_most_specific_variant_for_every_slot_combination():
    """bot/nlg.py picks among the Rasa variations; it must send what content/ means
    (Item.variant_for) for every region, age, topic, audience and concern."""
    nlg = DeploymentNLG()
    nlg.responses = responses(CONTENT)
    combinations = list(
        itertools.product(
            REGIONS, (None, *AGE_SLOT_VALUES), (None, *TOPICS), (None, *AUDIENCE_SLOT_VALUES), (None, "self_harm")
        )
    )
    for item in CONTENT.items.values():
        slots_named = {slot for v in item.variations() for slot, _ in v.when}
        for region, age, topic, audience, concern in combinations:
            slots = {"region": region, "age_band": age, "topic": topic, "audience": audience, "concern": concern}
            if any(slots[name] is not None for name in set(slots) - slots_named - {"region"}):
                continue  # slots no variant names cannot change what is sent
            expected = item.variant_for(slots)
            chosen = nlg._random_response_for(item.response_name, "rest", slots)
            assert chosen is not None
            assert chosen["text"] == CONTENT.fill(expected.text, region, item.key), (item.key, slots)
            titles = [CONTENT.fill(b.title, region, item.key) for b in expected.buttons]
            assert [b["title"] for b in chosen.get("buttons", [])] == titles, (item.key, slots)


def test_the_slots_variants_name_are_the_domains():
    slots = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))["slots"]
    for name, values in VARIANT_SLOTS.items():
        assert tuple(slots[name]["values"]) == tuple(values), name


def test_a_user_abroad_gets_their_countrys_numbers():
    variations = responses(CONTENT)["utter_danger_call_emergency"]

    assert variations[0]["text"].startswith("Call 999 now")
    by_region = {v["condition"][0]["value"]: v["text"] for v in variations[1:]}
    assert by_region["ie"].startswith("Call 112 or 999 now")
    assert by_region["us"].startswith("Call 911 now")
    assert by_region["au"].startswith("Call 000 now")


def test_a_text_the_same_in_every_region_has_one_variation():
    assert responses(CONTENT)["utter_greet"] == [{"text": CONTENT.render("greet", "uk")}]


def test_the_replies_the_server_gives_itself_show_no_setting():
    # bot/server.py renders them at start-up, without the response generator that fills settings in
    for items in SERVER_REPLIES.values():
        for key in items:
            assert not runtime_settings_named(CONTENT.items[key].text), key


def test_did_you_mean_suggestions_name_real_intents(domain):
    assert CONTENT.suggestions
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    assert set(CONTENT.suggestions) <= intents


def _content_with(directory: Path, item: dict) -> Path:
    """A content folder with the real resources and one topic holding `item`."""
    (directory / "resources.yml").write_text((PROJECT_DIR / "content" / "resources.yml").read_text())
    topic = {"audiences": ["school_staff"], "review_by": "2099-01-01",
             "sources": [{"title": "t", "url": "https://example.org/guidance", "checked": "2026-01-01"}],
             "items": [item]}  # fmt: skip
    (directory / "school.yml").write_text(yaml.safe_dump(topic))
    return directory


def test_an_item_showing_the_schools_details_has_a_text_for_when_they_are_unset(tmp_path):
    item = {"key": "contact", "text": "Ask {dsl_contact}."}
    with pytest.raises(ContentError, match="needs a when_unset text"):
        load_content(_content_with(tmp_path, item))

    content = load_content(_content_with(tmp_path, {**item, "when_unset": "Ask the school office."}))
    assert content.render("contact_when_unset", "uk") == "Ask the school office."


def test_the_retention_period_is_always_set_and_needs_no_when_unset_text(tmp_path):
    content = load_content(_content_with(tmp_path, {"key": "kept", "text": "We keep it {retention_days} days."}))

    assert content.render("kept", "uk") == "We keep it {retention_days} days."


@pytest.mark.parametrize(
    "item",
    [
        {"key": "typo", "text": "We keep it for {retention_day} days."},
        {"key": "stray", "text": "Call {{emergency} now."},
        {"key": "button", "text": "Hello.", "buttons": [{"title": "Ask {dsl_contact}", "payload": "/greet"}]},
    ],
    ids=["unknown setting", "stray brace", "setting in a button title"],
)
def test_a_brace_that_would_reach_the_user_is_refused(tmp_path, item):
    with pytest.raises(ContentError, match=r"braces are for|a button title"):
        load_content(_content_with(tmp_path, item))


def _filled(region: str) -> list[tuple[str, str]]:
    """Every text of every item as it reads in `region`, with its item's key."""
    return [(item.key, CONTENT.fill(text, region, item.key)) for item in ITEMS for text in item.texts()]


@pytest.mark.parametrize("region", REGIONS)
def test_every_sentence_starts_with_a_capital_letter_after_the_resources_are_filled_in(region):
    # "{{adult_helpline}} can also advise you" must read "The NSPCC helpline ...", not "the ...".
    starts_lower = re.compile(r"(?:^|[.!?]\s+)([a-z]\w*)")
    found = [(key, match.group(1)) for key, text in _filled(region) for match in starts_lower.finditer(text)]
    assert not found


@pytest.mark.parametrize("region", REGIONS)
def test_no_resource_repeats_the_words_around_it(region):
    # "tell the police on {{police_non_emergency}}" read "tell the police on the police on 101".
    repeated = re.compile(r"\b([a-z]+ [a-z]+) (?:on |at |to )?\1\b")
    found = [(key, match.group(0)) for key, text in _filled(region) for match in repeated.finditer(text)]
    assert not found


def _filled_sentences(region: str) -> list[tuple[str, str]]:
    return [
        (item.key, sentence)
        for item in ITEMS
        for text in item.texts()
        for sentence in re.split(r"(?<=[.!?])\s+", CONTENT.fill(text, region, item.key))
    ]


def test_australian_imagery_goes_to_esafety_and_the_accce_is_never_called_anonymous():
    # facts.md corrections: abuse material seen online goes to eSafety (anonymous allowed); the
    # ACCCE takes grooming and sextortion reports and is not anonymous.
    assert "eSafety" in CONTENT.render("imagery_report", "au") and "ACCCE" not in CONTENT.render("imagery_report", "au")
    for region in REGIONS:
        for key, sentence in _filled_sentences(region):
            if re.search(r"ACCCE|CEOP", sentence):
                assert not re.search(r"anonymous|give your name", sentence, re.I), (region, key, sentence)


@pytest.mark.parametrize("region", ["us", "ca"])
def test_an_imagery_report_is_called_anonymous_only_where_a_page_says_so(region):
    for key, sentence in _filled_sentences(region):
        if CONTENT.resources["imagery_report"].values[region] in sentence or "report it" in sentence.lower():
            assert not re.search(r"anonymous", sentence, re.I), (key, sentence)
    assert "name" not in CONTENT.resources["imagery_anonymous"].values[region]


def test_no_advice_line_is_the_police_without_saying_so():
    # facts.md: "Where no service is confirmed, say so rather than name the police as an advice line".
    for resource in ("adult_helpline", "stop_it_now"):
        for region, shown in CONTENT.resources[resource].values.items():
            if re.search(r"police|Garda|Gardaí|ACCCE", shown) or (resource == "stop_it_now" and region == "ca"):
                assert "I don't know of" in shown, (resource, region, shown)


def test_stop_it_now_is_the_real_service_for_each_region():
    shown = CONTENT.resources["stop_it_now"].values
    assert "0808 1000 900" in shown["uk"]
    assert "+44 1372 847 161" in shown["ie"]
    assert "1.888.PREVENT" in shown["us"] and "stopitnow.org" in shown["us"]
    assert "stopitnow.org.au" in shown["au"]


def test_the_nspcc_helpline_shows_its_hours_and_its_any_time_email():
    shown = CONTENT.resources["adult_helpline"].values["uk"]
    assert "8am to 10pm" in shown and "9am to 6pm" in shown and "help@nspcc.org.uk at any time" in shown


@pytest.mark.parametrize("region", REGIONS)
def test_nobody_is_told_to_keep_or_save_a_nude_image(region):
    # Copying a nude of an under-18 is an offence: evidence is the messages, never the picture.
    keep = re.compile(r"\b(keep|save|screenshot|copy)\b(?:\W+\w+){0,2}?\W+(image|picture|photo|nude|pic)s?\b", re.I)
    refused = re.compile(r"\b(don't|do not|never|not)\b", re.I)
    for key, sentence in _filled_sentences(region):
        if keep.search(sentence):
            assert refused.search(sentence), (key, sentence)


def test_removal_is_never_promised():
    promise = re.compile(r"\b(can|will) (get|have) (it|them|the image|images?) (taken down|removed)\b", re.I)
    for key, sentence in _filled_sentences("uk"):
        assert not promise.search(sentence), (key, sentence)
        assert not re.search(r"often within an hour", sentence), (key, sentence)


def test_warning_signs_name_a_much_older_boyfriend_or_girlfriend_and_abusers_of_any_age():
    contacts = CONTENT.render("signs_contacts", "uk")
    assert 'much older "boyfriend" or "girlfriend"' in contacts and 'older "friend"' not in contacts
    assert "any age" in CONTENT.render("signs_pressure", "uk")
