"""The age band, the country and who is talking, found in how people really write."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.context_entities import ContextEntityExtractor, find_entities


def found(text: str) -> dict[str, str]:
    return {entity["entity"]: entity["value"] for entity in find_entities(text)}


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("how should I talk to my 10 year old about staying safe", "7_to_10"),
        ("my 6yo has a tablet", "under_7"),
        ("my eight-year-old plays roblox", "7_to_10"),
        ("my daughter is 12 and on tiktok", "11_to_13"),
        ("year 8 pupil told me", "11_to_13"),
        ("what can I say to my teenage son about nudes", "14_to_17"),
        ("im 13 and someone has a pic of me", "11_to_13"),
        ("rules for my toddler and the ipad", "under_7"),
        ("my 16 yr old", "14_to_17"),
        ("my granddaughter, aged 9", "7_to_10"),
        ("14", "14_to_17"),
        ("about 6", "under_7"),
        ("nine and a half", "7_to_10"),
    ],
)
def test_age_bands(text, band):
    assert found(text).get("age_band") == band


@pytest.mark.parametrize(
    "text",
    ["he spends 5 hours a day gaming", "she is 2 weeks into the new school", "my son is 19", "we have 3 kids"],
)
def test_no_age_band_where_none_is_named(text):
    assert "age_band" not in found(text)


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("I'm in Ireland", "ie"),
        ("we live in Northern Ireland", "uk"),
        ("numbers for the US please", "us"),
        ("I'm in Canada and my son is being blackmailed", "ca"),
        ("we're Australian", "au"),
        ("I live in Scotland", "uk"),
    ],
)
def test_regions(text, region):
    assert found(text).get("region") == region


def test_us_as_a_word_is_not_a_country():
    assert "region" not in found("can you help us with our son")


def test_component_adds_entities_to_the_message():
    message = Message.build(text="my 9 year old in the USA")
    [processed] = ContextEntityExtractor().process([message])

    entities = {e["entity"]: e["value"] for e in processed.get("entities")}
    assert entities == {"age_band": "7_to_10", "region": "us", "audience": "parent"}


@pytest.mark.parametrize(
    ("text", "audience"),
    [
        ("teacher here. a yr 8 girl just told me a man has pics of her", "school_staff"),
        ("im a TA, a pupil told me an older lad keeps asking him for nudes", "school_staff"),
        ("a yr 10 girl came to me saying a lad has a nude of her", "school_staff"),
        ("head of sixth form. a 17 yr old lad has shared a nude", "school_staff"),
        ("i run the after school club, one of the kids said", "school_staff"),
        ("TA in year 2, a girl just told me someone online asked for photos", "school_staff"),
        ("a student asked me to look at a video on his phone", "school_staff"),
        ("planning a pshe lesson on nudes for year 10", "school_staff"),
        ("we have a new TA starting next week", "school_staff"),
        ("head teacher here, a parent rang about a year 7", "school_staff"),
        ("im a foster carer. my 14 yr old sent a pic", "carer"),
        ("my grandson is 13 and an older boy has a pic of him", "carer"),
        ("im 13 and someone i met on insta has a pic of me", "child"),
        ("someone online says theyll share my pics if i dont send more", "child"),
        ("i went on a video call and they recorded me", "child"),
        ("i cant tell my mum", "child"),
        ("my son is 15 and he sent a nude", "parent"),
        ("my girl is 15 and she sent a video", "parent"),
        ("i think my boyfriend has been looking at stuff he shouldnt", "concerned_adult"),
        ("im worried about my neighbours boy", "concerned_adult"),
        # a role outranks what the words suggest
        ("teacher here, my son's friend told me someone has a pic of her", "school_staff"),
        ("pupil in yr 8 says a pic of her is going round", "school_staff"),
        ("our year 11 group chat has a video of a girl in it", "school_staff"),
        ("im 14, my mum will kill me if she finds out", "child"),
        ("my ex posted my nudes on a fake account", "child"),
    ],
)
def test_who_is_talking(text, audience):
    assert found(text).get("audience") == audience


@pytest.mark.parametrize(
    "text",
    [
        "what are the signs of grooming",
        "im 25 and worried about my thoughts",
        "she made me promise not to tell",
        "im planning a party for the weekend",
    ],
)
def test_nobody_is_named_where_nothing_says_who_is_talking(text):
    assert "audience" not in found(text)


@pytest.mark.parametrize(
    ("text", "app"),
    [
        ("is roblox safe for my 8 year old", "roblox"),
        ("what age is whatsapp for", "whatsapp"),
        ("should i ban snap", "snapchat"),
        ("he met her on insta", "instagram"),
        ("my son plays on his ps5 every night", "playstation"),
        ("can strangers talk to kids on the nintendo switch console", "nintendo"),
        ("is discrod ok for a 12 year old", "discord"),
        ("first on tik tok then on roblox", "tiktok"),  # the first app named
    ],
)
def test_the_app_named(text, app):
    assert found(text).get("app") == app


def test_no_app_in_a_message_that_names_none():
    assert "app" not in found("please switch off the light, she is 12")


def test_every_app_content_names_has_a_pattern():
    from bot.content import APPS
    from bot.nlu.context_entities import _APP_PATTERNS

    assert {app for _, app in _APP_PATTERNS} == set(APPS)
