"""The age band and country found in how people really write."""

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
    assert entities == {"age_band": "7_to_10", "region": "us"}
