"""Load `content/` and turn it into Rasa responses.

`content/` is the single source of truth for what the assistant says. Each topic file holds
items; each item is one message (one idea) with optional buttons, and becomes the response
`utter_<key>`. Phone numbers and web addresses are never typed into an item: the text says
`{{resource_key}}` and the registry in `content/resources.yml` fills in the value for each
region; every region's text is in the responses, and the region is chosen when the message is
sent. Deployment settings are named in single braces, `{school_name}`, `{dsl_contact}`,
`{retention_days}`, and filled in when the message is sent too (bot/nlg.py), so the responses,
and the model trained on them, are the same for every deployment. An item showing a setting
that may be unset (the school's details) has a `when_unset` text, which becomes the item
`<key>_when_unset`, for deployments that do not set them. Any other brace is an error: it would
reach the user as it is. The generated responses go to `var/domain/responses.yml`, next to a
link to `domain.yml`, and Rasa trains and validates with that folder as its domain.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.settings import PROJECT_DIR, REGIONS, VAR_DIR

# Sites that are one service, whose front page is the service's own page (a source may cite them
# as they are); any other source must be a page below an organisation's front page.
SERVICE_SITES = frozenset(
    {"talk.iwf.org.uk", "takeitdown.ncmec.org", "report.cybertip.org", "reportharmfulcontent.com",
     "parents.snapchat.com", "familycenter.meta.com"}
)  # fmt: skip

CONTENT_DIR = PROJECT_DIR / "content"
RESOURCES_FILE = CONTENT_DIR / "resources.yml"
DOMAIN_DIR = VAR_DIR / "domain"
AUDIENCES = ("parent", "carer", "school_staff", "child", "concerned_adult")
# Who is talking, as the `audience` slot holds it: an audience of content, or an adult worried
# about their own thoughts (who says so about themselves).
AUDIENCE_SLOT_VALUES = (*AUDIENCES, "self_concern")
# Which guidance was given last, as the `topic` slot holds it: follow-ups are answered for it.
TOPICS = ("danger", "imagery", "shared_image", "ai_images", "harmful_content", "sextortion", "signs", "talk",
          "disclosure", "child", "school", "adult_concern", "own_thoughts", "seeking", "triage")  # fmt: skip
# The apps and games facts.md has a row for ("Apps and games"): app questions are answered for them.
APPS = ("roblox", "fortnite", "minecraft", "discord", "snapchat", "tiktok", "instagram", "whatsapp",
        "youtube", "xbox", "playstation", "nintendo", "twitch", "omegle")  # fmt: skip
AGE_BANDS = ("under_7", "7_to_10", "11_to_13", "14_to_17")
AGE_SLOT_VALUES = (*AGE_BANDS, "unknown")  # "I'd rather not say" gets the text for any age
MAX_MESSAGE_LENGTH = 2000  # characters; longer messages get a polite reply, not an error
# Values that are the same in every deployment and region, shown like resources as {{name}}.
_FIXED_VALUES = {"max_message_length": f"{MAX_MESSAGE_LENGTH:,}"}
_PLACEHOLDER = re.compile(r"{{\s*([a-z0-9_]+)\s*}}")
# Filled in at send time, see bot/nlg.py; `safeguarding_lead` and `lead` are the school lead's
# title for the deployment's nation (TT_NATION), e.g. "Designated Safeguarding Lead (DSL)", "DSL".
RUNTIME_SETTINGS = ("school_name", "dsl_contact", "retention_days", "safeguarding_lead", "lead")
OPTIONAL_SETTINGS = ("school_name", "dsl_contact")  # an item showing one of these needs a when_unset text
WHEN_UNSET_SUFFIX = "_when_unset"
_RUNTIME_PLACEHOLDER = re.compile(rf"(?<!{{){{({'|'.join(RUNTIME_SETTINGS)})}}(?!}})")
REGION_SLOT = "region"  # unset means the deployment's region (TT_REGION), see bot/nlg.py
REFERENCE_REGION = "uk"  # the unconditional variation: what a generator that does not fill the region sends
AGE_SLOT = "age_band"
# A variant of an item is sent when the conversation's slots say so: the slots it may name, and
# their values. Of the variants whose conditions all hold, the most specific is sent: self-harm
# mentioned counts most, then a topic whose guidance is the same for everyone (danger, imagery
# seen online), then who is talking, then any other topic, then the child's age ("school staff"
# beats "sextortion", which beats "age 11 to 13"; "imagery" beats "school staff"); the region
# only decides between otherwise equal variations.
VARIANT_SLOTS = {
    "topic": TOPICS,
    "app": APPS,
    "audience": AUDIENCE_SLOT_VALUES,
    AGE_SLOT: AGE_SLOT_VALUES,
    "concern": ("self_harm",),
}
_WEIGHTS = {"concern": 16, "app": 5, "audience": 4, "topic": 2, AGE_SLOT: 1}
_TOPICS_FOR_EVERYONE = {"danger", "imagery"}


def _weight(slot: str, value: Any) -> int:
    if slot == "topic" and value in _TOPICS_FOR_EVERYONE:
        return 8
    return _WEIGHTS.get(slot, 0)


def specificity(conditions: Iterable[tuple[str, Any]]) -> tuple[int, int]:
    """How specific a variation is whose conditions are these (slot, value) pairs: larger is sent first."""
    named = list(conditions)
    return sum(_weight(slot, value) for slot, value in named), sum(1 for slot, _ in named if slot == REGION_SLOT)


_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


def resources_named(text: str) -> list[str]:
    """The {{resources}} that `text` shows, in order, each once."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(text)))


def runtime_settings_named(text: str) -> set[str]:
    """The settings that `text` shows when it is sent, such as {school_name}."""
    return set(_RUNTIME_PLACEHOLDER.findall(text))


class ContentError(ValueError):
    """A content file breaks the rules in this module's docstring."""


@dataclass(frozen=True)
class Source:
    title: str
    url: str
    checked: dt.date


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Variant:
    when: tuple[tuple[str, str], ...]  # (slot, value) pairs that must all hold
    text: str
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Item:
    key: str
    topic: str
    text: str
    audiences: tuple[str, ...]
    by_age: Mapping[str, str]  # age band -> the text for a child of that age
    buttons: tuple[Button, ...]
    sources: tuple[Source, ...]
    review_by: dt.date
    not_to_blame: bool = False
    # It opens a reply that names the crisis lines itself (danger, self-harm): the crisis-lines
    # line that follows a turn's first message after self-harm was mentioned would repeat them.
    crisis_reply: bool = False
    variants: tuple[Variant, ...] = ()  # for a topic, an audience, an age: see VARIANT_SLOTS

    @property
    def response_name(self) -> str:
        return f"utter_{self.key}"

    def text_for(self, age_band: str | None) -> str:
        return self.by_age.get(age_band or "", self.text)

    def variations(self) -> list[Variant]:
        """The text for anyone, each age's and each variant's, as variants."""
        return [
            Variant((), self.text, self.buttons),
            *(Variant(((AGE_SLOT, band),), text, self.buttons) for band, text in self.by_age.items()),
            *self.variants,
        ]

    def variant_for(self, slots: Mapping[str, Any]) -> Variant:
        """What this item sends when the conversation's slots are `slots` (see VARIANT_SLOTS)."""
        holding = [v for v in self.variations() if all(slots.get(slot) == value for slot, value in v.when)]
        return max(holding, key=lambda v: specificity(v.when))

    def texts(self) -> tuple[str, ...]:
        """Every text this item may send: for any age, per age, and every variant's."""
        return (self.text, *self.by_age.values(), *(v.text for v in self.variants))


@dataclass(frozen=True)
class Resource:
    key: str
    description: str
    values: Mapping[str, str]  # region -> what the assistant shows
    sources: Mapping[str, str]  # region -> where the value was checked


@dataclass
class Content:
    items: dict[str, Item] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    suggestions: dict[str, str] = field(default_factory=dict)  # intent -> button title for "did you mean"

    def render(self, key: str, region: str) -> str:
        """The text of item `key` with its resources filled in for `region` (settings stay in braces)."""
        return self.fill(self.items[key].text, region, where=key)

    def fill(self, text: str, region: str, where: str) -> str:
        def value(match: re.Match[str]) -> str:
            if match.group(1) in _FIXED_VALUES:
                return _FIXED_VALUES[match.group(1)]
            resource = self.resources.get(match.group(1))
            if resource is None:
                raise ContentError(f"{where}: unknown resource {{{{{match.group(1)}}}}}")
            if region not in resource.values:
                raise ContentError(f"{where}: resource {resource.key} has no value for region {region}")
            filled = resource.values[region]
            # "the NSPCC helpline" opening a sentence reads "The NSPCC helpline".
            before = text[: match.start()].rstrip()
            return filled[:1].upper() + filled[1:] if not before or before[-1] in ".!?" else filled

        return _PLACEHOLDER.sub(value, text)


def _date(raw: Any, where: str) -> dt.date:
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError as error:
        raise ContentError(f"{where}: {raw!r} is not a date (YYYY-MM-DD)") from error


def _source(raw: Mapping[str, Any], where: str) -> Source:
    url = str(raw["url"])
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise ContentError(f"{where}: {url} is not an https address")
    if parts.path.strip("/") == "" and parts.hostname not in SERVICE_SITES:
        # A reviewer cannot check advice against an organisation's front page: cite the page itself.
        raise ContentError(f"{where}: {url} is a front page; cite the page that supports the advice")
    checked = _date(raw["checked"], where)
    if checked > dt.date.today():
        raise ContentError(f"{where}: {url} was checked on {checked}, a date still to come")
    return Source(title=str(raw["title"]), url=url, checked=checked)


def _sources(raw: Any, where: str) -> tuple[Source, ...]:
    if not raw:
        raise ContentError(f"{where}: every item needs sources")
    return tuple(_source(s, where) for s in raw)


def _listed(raw: Any, allowed: tuple[str, ...], where: str, what: str) -> tuple[str, ...]:
    values = tuple(raw or ())
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ContentError(f"{where}: unknown {what} {unknown}; allowed: {', '.join(allowed)}")
    return values


def _by_age(raw: Any, where: str) -> dict[str, str]:
    variants = {str(band): str(text).strip() for band, text in (raw or {}).items()}
    _listed(tuple(variants), AGE_BANDS, where, "age bands")
    return variants


def _variants(raw: Any, buttons: tuple[Button, ...], where: str) -> tuple[Variant, ...]:
    """`variants: [{when: {topic: sextortion, audience: [parent, carer]}, text: ...}]`; a list of
    values stands for one variant per value."""
    variants = []
    for spec in raw or ():
        when = spec.get("when") or {}
        if not when or set(when) - set(VARIANT_SLOTS):
            raise ContentError(f"{where}: a variant's `when` names some of {', '.join(VARIANT_SLOTS)}")
        choices = []
        for slot, values in when.items():
            values = [str(v) for v in (values if isinstance(values, list) else [values])]
            _listed(tuple(values), VARIANT_SLOTS[slot], where, f"{slot} values")
            choices.append([(str(slot), v) for v in values])
        text = str(spec.get("text", "")).strip()
        if not text:
            raise ContentError(f"{where}: a variant needs text")
        own = tuple(Button(str(b["title"]), str(b["payload"])) for b in spec["buttons"]) if "buttons" in spec else None
        for combination in itertools.product(*choices):
            variants.append(Variant(tuple(combination), text, buttons if own is None else own))
    return tuple(variants)


def _load_resources(path: Path) -> dict[str, Resource]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["resources"]
    resources = {}
    for key, spec in raw.items():
        regions = spec["regions"]
        unknown = set(regions) - set(REGIONS)
        if unknown:
            raise ContentError(f"resources.yml {key}: unknown regions {sorted(unknown)}")
        resources[key] = Resource(
            key=key,
            description=str(spec["description"]),
            values={r: str(v["show"]) for r, v in regions.items()},
            sources={r: str(v["source"]) for r, v in regions.items()},
        )
    return resources


def _load_topic(path: Path, content: Content) -> None:
    topic = path.stem
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    content.suggestions.update({str(intent): str(title) for intent, title in (raw.get("suggestions") or {}).items()})
    for spec in raw.get("items", []):
        key = str(spec.get("key", ""))
        where = f"{path.name} {key or '(item without key)'}"
        if not _KEY.match(key):
            raise ContentError(f"{where}: a key is lower_snake_case")
        if key in content.items:
            raise ContentError(f"{where}: key already used in {content.items[key].topic}.yml")
        text = str(spec.get("text", "")).strip()
        if not text:
            raise ContentError(f"{where}: an item needs text")
        buttons = tuple(Button(str(b["title"]), str(b["payload"])) for b in spec.get("buttons", []))
        item = Item(
            key=key,
            topic=topic,
            text=text,
            audiences=_listed(spec.get("audiences", raw.get("audiences")), AUDIENCES, where, "audiences"),
            by_age=_by_age(spec.get("by_age"), where),
            buttons=buttons,
            sources=_sources(spec.get("sources", raw.get("sources")), where),
            review_by=_date(spec.get("review_by", raw.get("review_by")), where),
            not_to_blame=bool(spec.get("not_to_blame", False)),
            crisis_reply=bool(spec.get("crisis_reply", False)),
            variants=_variants(spec.get("variants"), buttons, where),
        )
        content.items[key] = item
        when_unset = str(spec.get("when_unset", "")).strip()
        _check_placeholders(item, when_unset, where)
        if when_unset:
            unset_key = key + WHEN_UNSET_SUFFIX
            content.items[unset_key] = dataclasses.replace(item, key=unset_key, text=when_unset, by_age={}, variants=())


def _brace_left(text: str, settings_allowed: bool = True) -> bool:
    """Whether a brace is left once the {{resources}} (and the settings) are taken out: it would
    reach the user as it is."""
    rest = _PLACEHOLDER.sub("", text)
    rest = _RUNTIME_PLACEHOLDER.sub("", rest) if settings_allowed else rest
    return "{" in rest or "}" in rest


def _check_placeholders(item: Item, when_unset: str, where: str) -> None:
    texts = item.texts()
    if any(_brace_left(text) for text in (*texts, when_unset)):
        raise ContentError(f"{where}: braces are for {{{{resources}}}} and the settings {', '.join(RUNTIME_SETTINGS)}")
    buttons = (*item.buttons, *(b for v in item.variants for b in v.buttons))
    if any(_brace_left(button.title, settings_allowed=False) for button in buttons):
        raise ContentError(f"{where}: a button title may show {{{{resources}}}}, not settings")
    optional = set().union(*map(runtime_settings_named, texts)) & set(OPTIONAL_SETTINGS)
    if optional and not when_unset:
        raise ContentError(f"{where}: an item showing {sorted(optional)} needs a when_unset text")
    if runtime_settings_named(when_unset) & set(OPTIONAL_SETTINGS):
        raise ContentError(f"{where}: the when_unset text cannot show the settings it stands in for")


def load_content(directory: Path = CONTENT_DIR) -> Content:
    """Read every topic file and the resource registry, checking their structure."""
    content = Content(resources=_load_resources(directory / RESOURCES_FILE.name))
    for path in sorted(directory.glob("*.yml")):
        if path.name != RESOURCES_FILE.name:
            _load_topic(path, content)
    return content


def _rendered(content: Content, item: Item, text: str, buttons: tuple[Button, ...], region: str) -> dict[str, Any]:
    variation: dict[str, Any] = {"text": content.fill(text, region, item.key)}
    if buttons:
        variation["buttons"] = [
            {"title": content.fill(b.title, region, item.key), "payload": b.payload} for b in buttons
        ]
    return variation


def _slot_is(name: str, value: str | None) -> dict[str, Any]:
    return {"type": "slot", "name": name, "value": value}


def responses(content: Content) -> dict[str, list[dict[str, Any]]]:
    """Rasa responses for every item: a variation for its text, each age's and each variant's,
    in every region where the region's numbers make the text differ.

    Every region is in the domain, so the deployment's region (TT_REGION) is chosen when the
    message is sent, by the `region` slot bot/nlg.py fills in for Rasa, and changing it needs
    no retraining. The unconditional variation is the reference region's text for anyone. Of
    the variations whose conditions all hold, bot/nlg.py sends the most specific: the most
    conditions on who is talking, the topic and the age, then the region's own.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    for item in content.items.values():
        variations = []
        for when, text, buttons in ((v.when, v.text, v.buttons) for v in item.variations()):
            condition = [_slot_is(slot, value) for slot, value in when]
            by_region = {region: _rendered(content, item, text, buttons, region) for region in REGIONS}
            reference = by_region[REFERENCE_REGION]
            if not condition or all(v == reference for v in by_region.values()):
                variations.append({**reference, "condition": condition} if condition else reference)
            if any(v != reference for v in by_region.values()):
                variations += [
                    {**v, "condition": [*condition, _slot_is(REGION_SLOT, region)]} for region, v in by_region.items()
                ]
        out[item.response_name] = variations
    return out


def build_domain(target: Path = DOMAIN_DIR) -> Path:
    """Write the generated responses beside a link to `domain.yml`; return the folder."""
    content = load_content()
    target.mkdir(parents=True, exist_ok=True)
    link = target / "domain.yml"
    if not link.is_symlink():
        link.unlink(missing_ok=True)
        link.symlink_to(PROJECT_DIR / "domain.yml")
    generated = {
        "version": "3.1",
        "responses": responses(content),
    }
    text = "# Generated from content/ by `python -m bot build`: edit content/, not this file.\n"
    text += yaml.safe_dump(generated, sort_keys=True, allow_unicode=True, width=100)
    out = target / "responses.yml"
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")
    return target
