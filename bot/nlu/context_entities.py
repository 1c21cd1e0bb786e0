"""Find the child's age band and the user's country in a message.

"my 10 year old", "my 9yo", "teenage son", "year 8 daughter" → `age_band`; "I'm in Ireland",
"we live in the US" → `region`. The values are the slot values in domain.yml, so Rasa's
`from_entity` slot mappings fill `age_band` and `region`, and content variations follow them.
Rules are enough here: people name ages and countries in few ways, and a regular expression
is exact where a statistical extractor would need hundreds of annotated examples.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu import RuleComponent

_NUMBER_WORDS = {
    word: number
    for number, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
        ]
    )
}
_NUMBER = r"(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")"
_AGE_PATTERNS = [
    re.compile(rf"\b{_NUMBER}\s*-?\s*(?:years?|yrs?|yr|y)\s*-?\s*olds?\b"),
    re.compile(rf"\b{_NUMBER}\s*(?:yo|y/o|y\.o\.)\b"),
    re.compile(rf"\b(?:aged|age)\s+{_NUMBER}\b"),
    re.compile(rf"\b(?:i'?m|i am|im|(?:she|he)'?s|is|are|was|turned|turning)\s+{_NUMBER}\b"
               r"(?!\s*(?:hours?|hrs?|mins?|minutes?|days?|weeks?|months?|%|pounds|quid|times|pm|am|o'?clock"
               r"|:|\.\d))"),
]  # fmt: skip
# A whole message that is just an age: the answer to "How old is the child?"
_BARE_AGE = re.compile(rf"^\s*(?:about|around|nearly|almost|only)?\s*{_NUMBER}(?:\s*and a half)?\s*[.!]?\s*$")
_SCHOOL_YEAR = re.compile(r"\b(?:year|yr|y)\s?(\d{1,2})\b(?!\s*(?:old|olds))")
_AGE_WORDS = [
    (re.compile(r"\b(?:toddler|baby|preschool(?:er)?|nursery|reception class|little one)s?\b"), "under_7"),
    (re.compile(r"\b(?:tween|pre-?teen)s?\b"), "11_to_13"),
    (re.compile(r"\b(?:teen|teenage|teenager|adolescent)s?\b"), "14_to_17"),
]
_REGION_PATTERNS = [
    (re.compile(r"\bnorthern ireland\b|\b(?:uk|u\.k\.|england|scotland|wales|britain|united kingdom)\b"), "uk"),
    (re.compile(r"\b(?:ireland|irish|eire|republic of ireland)\b"), "ie"),
    (re.compile(r"\b(?:usa|u\.s\.a?\.?|the us|the states|america|american|united states)\b"), "us"),
    (re.compile(r"\b(?:canada|canadian)\b"), "ca"),
    (re.compile(r"\b(?:australia|australian|aussie)\b"), "au"),
]


def age_band(age: int) -> str | None:
    if age < 7:
        return "under_7"
    if age <= 10:
        return "7_to_10"
    if age <= 13:
        return "11_to_13"
    if age <= 17:
        return "14_to_17"
    return None


def _school_year_band(year: int) -> str | None:
    """UK school years: year 1 is age 5-6, year 7 is 11-12, year 13 is 17-18."""
    return age_band(year + 5) if 1 <= year <= 13 else None


def _entity(name: str, value: str, match: re.Match[str]) -> dict[str, Any]:
    return {
        "entity": name,
        "value": value,
        "start": match.start(),
        "end": match.end(),
        "confidence_entity": 1.0,
        "extractor": ContextEntityExtractor.__name__,
    }


def _ages(text: str) -> Iterator[dict[str, Any]]:
    for pattern in (*_AGE_PATTERNS, _BARE_AGE):
        for match in pattern.finditer(text):
            raw = match.group(1)
            band = age_band(int(raw) if raw.isdigit() else _NUMBER_WORDS[raw])
            if band:
                yield _entity("age_band", band, match)
    for match in _SCHOOL_YEAR.finditer(text):
        band = _school_year_band(int(match.group(1)))
        if band:
            yield _entity("age_band", band, match)
    for pattern, band in _AGE_WORDS:
        for match in pattern.finditer(text):
            yield _entity("age_band", band, match)


def _regions(text: str) -> Iterator[dict[str, Any]]:
    taken: list[tuple[int, int]] = []
    for pattern, region in _REGION_PATTERNS:
        for match in pattern.finditer(text):
            if not any(start <= match.start() < end for start, end in taken):  # "northern ireland" is uk only
                taken.append(match.span())
                yield _entity("region", region, match)


def find_entities(text: str) -> list[dict[str, Any]]:
    """The first age band and the first region named in `text`."""
    lowered = text.lower()
    found = []
    for entities in (_ages(lowered), _regions(lowered)):
        first = min(entities, key=lambda entity: entity["start"], default=None)
        if first:
            found.append(first)
    return found


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class ContextEntityExtractor(RuleComponent, EntityExtractorMixin):
    """Adds `age_band` and `region` entities found by `find_entities`."""

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if text:
                entities = [*message.get(ENTITIES, []), *find_entities(text)]
                message.set(ENTITIES, entities, add_to_output=True)
        return messages
