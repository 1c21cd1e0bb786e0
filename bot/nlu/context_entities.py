"""Find the child's age band, the user's country and who is talking in a message.

"my 10 year old", "my 9yo", "teenage son", "year 8 daughter" → `age_band`; "I'm in Ireland",
"we live in the US" → `region`; "I'm a teacher", "foster carer", "im 14", "my son" →
`audience` (the values of bot/content.py's AUDIENCES). The values are the slot values in domain.yml, so Rasa's
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

from bot.nlu.rule_component import RuleComponent

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

# The first app or game named sets `app` (its values: bot/content.py's APPS), so "is it safe" and "who can
# message him on it" are answered for it.
_APP_PATTERNS = [
    (re.compile(r"\broblox\b"), "roblox"),
    (re.compile(r"\bfortnite\b|\bepic games\b"), "fortnite"),
    (re.compile(r"\bminecraft\b"), "minecraft"),
    (re.compile(r"\bdisc(?:or|ro)d\b"), "discord"),
    (re.compile(r"\bsnap(?:chat)?\b|\bsnap ?map\b"), "snapchat"),
    (re.compile(r"\btik ?tok\b"), "tiktok"),
    (re.compile(r"\binsta(?:gram)?\b|\bfacebook\b|\bmessenger\b|\bthreads\b"), "instagram"),
    (re.compile(r"\bwhats ?app\b"), "whatsapp"),
    (re.compile(r"\byou ?tube\b"), "youtube"),
    (re.compile(r"\bxbox\b"), "xbox"),
    (re.compile(r"\bplay ?station\b|\bps[45]\b|\bpsn\b"), "playstation"),
    (re.compile(r"\bnintendo\b|\bswitch 2\b|\bswitch (?:console|games?)\b"), "nintendo"),
    (re.compile(r"\btwitch\b"), "twitch"),
    (re.compile(r"\bomegle\b"), "omegle"),
]

# Who is talking, most telling first: a role someone gives themselves outranks what their words
# suggest ("teacher here, my son's friend..." is staff; "im 14, my mum will kill me" a young person).
_WHO = r"(?:i'?m|i am|im|am)\s+(?:a |an |the |his |her |their |just |only )?"
_AUDIENCE_PATTERNS = [
    ("school_staff", re.compile(
        rf"\b{_WHO}(?:teacher|ta|teaching assistant|head ?teacher|head of (?:year|yr)|form tutor|tutor|dsl|dsp"
        r"|safeguarding lead|deputy head|school nurse|senco|lunchtime supervisor|pastoral lead|youth worker"
        r"|school counsell?or|head of (?:ks|key stage)\s?\d|head of sixth form|youth leader|scout leader"
        r"|cub leader|brownie leader|sports coach|football coach|coach)\b"
        r"|\b(?:teacher|ta|head ?teacher|head of (?:year|yr) ?\d*|head of sixth form|form tutor|dsl|staff member"
        r"|lunchtime supervisor"
        r"|youth worker|youth leader|senco|school nurse) here\b"
        r"|^(?:teacher|ta|head of sixth form|head of (?:year|yr) ?\d*|form tutor|dsl|lunchtime supervisor|youth worker"
        r"|senco|school nurse|pastoral lead)\s*[.,:;-]"
        r"|^(?:a )?(?:ta|teacher|teaching assistant) (?:in|at|for) (?:a |the |our )?"
        r"(?:year|yr|reception|nursery|primary|secondary|school|class|ks ?\d)?\b"
        r"|\b(?:planning|teaching|giving|doing) (?:a |an |the |my |our )?(?:pshe|rse|rshe|computing|tutor time)?"
        r" ?(?:lesson|assembly|session for (?:my |our )?(?:class|pupils|students))\b"
        r"|\bone of my (?:sixth formers|year \d+s|yr \d+s)\b"
        r"|\b(?:passed|handed|reported) (?:it )?(?:on )?to (?:the|our|my) dsl\b"
        r"|(?:^|\b(?:a|one of the|this|the) )(?:year|yr) ?\d{1,2}s? (?:girl|boy|pupil|student|lad|kid)?s? ?"
        r"(?:has |have )?"
        r"(?:just |only )?(?:came to me|come to me|told me|said|says|showed me|disclosed)\b"
        r"|\bone of my (?:tutor group|form|class|year \d+s?|pupils|students)\b"
        r"|\b(?:a|one of my|one of our) (?:pupil|student)s? (?:told|said|says|showed|has|came)\b"
        r"|\bi (?:coach|help (?:to )?run|run|volunteer (?:at|with|for)) (?:a |an |the |our |my )?(?:under ?\d+s? )?"
        r"(?:girls |boys )?(?:team|club|group|brownies|scouts|guides|cubs|beavers|youth club|squad|pack)\b"
        r"|\bi (?:teach|work (?:at|in) (?:a |the |our )?(?:primary |secondary )?school"
        r"|run (?:the|an|a) after ?school club)\b"
        r"|\b(?:a|one of my|my|one of our) (?:pupils?|students?) (?:told|said|has|is|came|showed|disclosed|asked)\b"
        r"|\b(?:one of my|my|our) (?:pupils|students)\b|\bin my (?:class|form|tutor group)\b|\bteacher btw\b"
        r"|^(?:a )?(?:pupil|student) (?:in|from) (?:year|yr) ?\d{1,2}\b|\bour (?:year|yr) ?\d{1,2}s?\b"
        r"|\b(?:we have|we've got|weve got|our) (?:a )?new (?:ta|teacher|teaching assistant|member of staff"
        r"|staff member|staff|nqt|ect|colleague)s?\b")),
    ("carer", re.compile(
        rf"\bfoster (?:carer|parent|mum|dad|son|daughter|child|kid)\b|\b{_WHO}(?:carer|gran|grandma|nan|nana|grandad"
        r"|grandpa|granny|auntie|aunt|uncle|childminder|guardian|step ?(?:mum|mom|dad))\b"
        r"|\bmy (?:grandson|granddaughter|grandchild|grandkids|grandchildren|niece|nephew)\b")),
    ("child", re.compile(
        rf"\b{_WHO}(?:8|9|1[0-7]|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen)\b"
        r"(?!\s*(?:%|pounds|quid|times|hours?|mins?|minutes?|weeks?|months?|year olds?|yr olds?|yo\b))"
        rf"|\b{_WHO}in (?:year|yr) ?\d{{1,2}}\b|\b{_WHO}(?:girl|boy)\b(?! ?friend)"
        # pictures of themselves: "my nudes", "my pics got leaked" (a parent says "my son's")
        r"|\bmy (?:nudes|nude pics?|naked pics?|nude photos?|private pics)\b")),
    ("parent", re.compile(
        rf"\b(?:my|our) (?:son|daughter|child|kid|kids|children|boy|girl|lad|teen|teenager|stepson|stepdaughter"
        r"|sons|daughters|little one|\d{1,2} ?(?:year old|yr old|yo))\b"
        rf"|\b{_WHO}(?:mum|mom|dad|parent|mother|father)\b|\bas a (?:parent|mum|mom|dad)\b")),
    ("child", re.compile(
        r"\b(?:tell|telling|told) my (?:mum|mom|dad|parents|teacher)\b"
        r"|\bmy (?:mum|mom|dad|parents) (?:will|would|is going to|doesn'?t know|dont know|can'?t know|finds? out)\b"
        r"|\b(?:pics?|pictures?|photos?|nudes?|videos?) of me\b|\b(?:asking|asked|wants|want) me (?:for|to send)\b"
        r"|\bi (?:sent|send) (?:him|her|them|a pic|pics|nudes|a nude|a photo|photos)\b"
        r"|\b(?:recorded|filmed|threatening|blackmailing|pressuring|grooming|groomed) me\b"
        r"|\b(?:sending|sent|showing) me (?:pics|nudes|photos|pictures|videos|his|her)\b"
        r"|\bmy (?:pics|nudes|photos|pictures|videos)\b|\bsomeone my age\b|\bmy (?:bff|bestie|best mate)\b"
        r"|\bin my year\b|\b(?:wants|want|asked|asking|keeps asking) to meet me\b")),
    ("concerned_adult", re.compile(
        r"\bmy (?:neighbou?rs?|friend'?s|sister'?s|brother'?s|cousin'?s) (?:son|daughter|kid|kids|boy|girl|child)\b"
        r"|\babout my (?:husband|boyfriend|partner|wife|girlfriend|colleague|boss|manager)\b"
        r"|\bmy (?:husband|boyfriend|partner|wife|girlfriend|ex|colleague|flatmate|housemate|brother in law"
        r"|brother-in-law|father in law|son in law) (?:is|has|keeps|looks|watches|was|might|could|seems|got)\b"
        r"|\ba (?:man|woman|guy|bloke|neighbou?r|colleague) (?:at|from|in|on) (?:my |our )?(?:church|work|street|club"
        r"|gym|mosque|temple|road|estate|building|office)\b|\bmy (?:line manager|boss|manager)\b")),
]  # fmt: skip


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


def _audience(text: str) -> Iterator[dict[str, Any]]:
    for audience, pattern in _AUDIENCE_PATTERNS:
        if match := pattern.search(text):
            yield _entity("audience", audience, match)
            return


def _apps(text: str) -> Iterator[dict[str, Any]]:
    for pattern, app in _APP_PATTERNS:
        for match in pattern.finditer(text):
            yield _entity("app", app, match)


def find_entities(text: str) -> list[dict[str, Any]]:
    """The first age band, region and app named in `text`, and who is talking."""
    lowered = text.lower()
    found = []
    for entities in (_ages(lowered), _regions(lowered), _apps(lowered)):
        first = min(entities, key=lambda entity: entity["start"], default=None)
        if first:
            found.append(first)
    return [*found, *_audience(lowered)]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class ContextEntityExtractor(RuleComponent, EntityExtractorMixin):
    """Adds the `age_band`, `region`, `app` and `audience` entities found by `find_entities`."""

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if text:
                entities = [*message.get(ENTITIES, []), *find_entities(text)]
                message.set(ENTITIES, entities, add_to_output=True)
        return messages
