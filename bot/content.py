"""Load `content/` and turn it into Rasa responses.

`content/` is the single source of truth for what the assistant says. Each topic file holds
items; each item is one message (one idea) with optional buttons, and becomes the response
`utter_<key>`. Phone numbers and web addresses are never typed into an item: the text says
`{{resource_key}}` and the registry in `content/resources.yml` fills in the value for the
deployment's region. The school's own details are named in single braces, `{school_name}`, and
filled in when the message is sent (bot/nlg.py); such an item has a `when_unset` text, which
becomes the item `<key>_when_unset`, for deployments that do not set them. The generated
responses go to `var/domain/responses.yml`, next to a link to `domain.yml`, and Rasa trains and
validates with that folder as its domain.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_DIR, REGIONS, VAR_DIR, Settings, load_settings

CONTENT_DIR = PROJECT_DIR / "content"
RESOURCES_FILE = CONTENT_DIR / "resources.yml"
DOMAIN_DIR = VAR_DIR / "domain"
AUDIENCES = ("parent", "carer", "school_staff", "child", "concerned_adult")
AGE_BANDS = ("under_7", "7_to_10", "11_to_13", "14_to_17")
AGE_SLOT_VALUES = (*AGE_BANDS, "unknown")  # "I'd rather not say" gets the text for any age
MAX_MESSAGE_LENGTH = 2000  # characters; longer messages get a polite reply, not an error
_PLACEHOLDER = re.compile(r"{{\s*([a-z0-9_]+)\s*}}")
RUNTIME_SETTINGS = ("school_name", "dsl_contact")  # filled in at send time, see bot/nlg.py
WHEN_UNSET_SUFFIX = "_when_unset"
_RUNTIME_PLACEHOLDER = re.compile(rf"(?<!{{){{({'|'.join(RUNTIME_SETTINGS)})}}(?!}})")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


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

    @property
    def response_name(self) -> str:
        return f"utter_{self.key}"

    def text_for(self, age_band: str | None) -> str:
        return self.by_age.get(age_band or "", self.text)


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
    values: dict[str, str] = field(default_factory=dict)  # deployment settings content may show

    def render(self, key: str, region: str) -> str:
        """The text of item `key` with its resources filled in for `region`."""
        return self.fill(self.items[key].text, region, where=key)

    def fill(self, text: str, region: str, where: str) -> str:
        def value(match: re.Match[str]) -> str:
            if match.group(1) in self.values:
                return self.values[match.group(1)]
            resource = self.resources.get(match.group(1))
            if resource is None:
                raise ContentError(f"{where}: unknown resource {{{{{match.group(1)}}}}}")
            if region not in resource.values:
                raise ContentError(f"{where}: resource {resource.key} has no value for region {region}")
            return resource.values[region]

        return _PLACEHOLDER.sub(value, text)


def _date(raw: Any, where: str) -> dt.date:
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError as error:
        raise ContentError(f"{where}: {raw!r} is not a date (YYYY-MM-DD)") from error


def _sources(raw: Any, where: str) -> tuple[Source, ...]:
    if not raw:
        raise ContentError(f"{where}: every item needs sources")
    return tuple(Source(title=str(s["title"]), url=str(s["url"]), checked=_date(s["checked"], where)) for s in raw)


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
        item = Item(
            key=key,
            topic=topic,
            text=text,
            audiences=_listed(spec.get("audiences", raw.get("audiences")), AUDIENCES, where, "audiences"),
            by_age=_by_age(spec.get("by_age"), where),
            buttons=tuple(Button(str(b["title"]), str(b["payload"])) for b in spec.get("buttons", [])),
            sources=_sources(spec.get("sources", raw.get("sources")), where),
            review_by=_date(spec.get("review_by", raw.get("review_by")), where),
            not_to_blame=bool(spec.get("not_to_blame", False)),
        )
        content.items[key] = item
        when_unset = str(spec.get("when_unset", "")).strip()
        if runtime_settings_named(text) and not when_unset:
            raise ContentError(
                f"{where}: an item showing {sorted(runtime_settings_named(text))} needs a when_unset text"
            )
        if when_unset:
            if runtime_settings_named(when_unset):
                raise ContentError(f"{where}: the when_unset text cannot show the settings it stands in for")
            unset_key = key + WHEN_UNSET_SUFFIX
            content.items[unset_key] = dataclasses.replace(item, key=unset_key, text=when_unset, by_age={})


def deployment_values(settings: Settings) -> dict[str, str]:
    """Settings that content may show, as {{name}}."""
    return {"retention_days": str(settings.retention_days), "max_message_length": f"{MAX_MESSAGE_LENGTH:,}"}


def load_content(directory: Path = CONTENT_DIR, settings: Settings | None = None) -> Content:
    """Read every topic file and the resource registry, checking their structure."""
    values = deployment_values(settings or load_settings())
    content = Content(resources=_load_resources(directory / RESOURCES_FILE.name), values=values)
    for path in sorted(directory.glob("*.yml")):
        if path.name != RESOURCES_FILE.name:
            _load_topic(path, content)
    return content


def _variation(content: Content, item: Item, region: str, age_band: str | None) -> dict[str, Any]:
    variation: dict[str, Any] = {"text": content.fill(item.text_for(age_band), region, item.key)}
    if item.buttons:
        variation["buttons"] = [
            {"title": content.fill(b.title, region, item.key), "payload": b.payload} for b in item.buttons
        ]
    return variation


def _condition(region: str | None, age_band: str | None, by_age: bool) -> list[dict[str, Any]]:
    condition = [{"type": "slot", "name": "region", "value": region}]
    if by_age:
        condition.append({"type": "slot", "name": "age_band", "value": age_band})
    return condition


def responses(content: Content, default_region: str) -> dict[str, list[dict[str, Any]]]:
    """Rasa responses for every item, one variation per region and age band it differs for.

    Rasa prefers a variation whose conditions all match the slots, and picks at random among
    several, so the conditions are exclusive: each names the `region` slot (unset means the
    deployment's region) and, for items written per age, the `age_band` slot too. The
    unconditional variation is the deployment's region for a child of unknown age.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    for item in content.items.values():
        default = _variation(content, item, default_region, None)
        variations = [default]
        for slot_region in (None, *REGIONS):
            region = slot_region or default_region
            for age_band in (None, *AGE_SLOT_VALUES) if item.by_age else (None,):
                variation = _variation(content, item, region, age_band)
                if item.by_age or variation != default:
                    variation["condition"] = _condition(slot_region, age_band, bool(item.by_age))
                    variations.append(variation)
        out[item.response_name] = variations
    return out


def build_domain(settings: Settings, target: Path = DOMAIN_DIR) -> Path:
    """Write the generated responses beside a link to `domain.yml`; return the folder."""
    content = load_content(settings=settings)
    region = settings.region
    target.mkdir(parents=True, exist_ok=True)
    link = target / "domain.yml"
    if not link.is_symlink():
        link.unlink(missing_ok=True)
        link.symlink_to(PROJECT_DIR / "domain.yml")
    generated = {
        "version": "3.1",
        "responses": responses(content, region),
    }
    text = "# Generated from content/ by `python -m bot build`: edit content/, not this file.\n"
    text += yaml.safe_dump(generated, sort_keys=True, allow_unicode=True, width=100)
    out = target / "responses.yml"
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")
    return target
