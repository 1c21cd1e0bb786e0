"""The school registry: one service for many schools (TT_SCHOOLS_FILE, see schools.example.yml).

Each school has an id (a short slug), its name, where it is (a UK nation, or a region), its
safeguarding lead's title and contact, the web origins whose pages embed its chat, and optional
widget title, colour and retention period. The server decides the school of every request from
the page's Origin header (bot/server.py, bot/channels.py), never from what the request says, and
keeps the conversation under `<school id>:<client id>`, so the same id chosen by pages of two
schools is two conversations and no page can name another school's.

Loading checks every field of every school; each problem is one line naming the file, the school
and the field. `SchoolsError` is a `SettingsError`: a bad registry stops start-up like a bad
setting, with its first problem (`python -m bot schools check` lists them all).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.settings import LEAD_TITLE_OUTSIDE_UK, LEAD_TITLES, NATIONS, REGIONS, SettingsError

# Between the school id and the client's own id in a conversation id. A school id cannot hold it,
# so the school of a conversation is the text before its first separator, whatever the client sent.
SEPARATOR = ":"
MAX_RETENTION_DAYS = 3650  # as TT_RETENTION_DAYS
_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_NEEDED = {
    "id": "a short slug such as oakfield-primary",
    "name": "the school's name, as staff are told it",
    "origins": "the web origins whose pages embed this school's chat, e.g. [https://www.oakfield.sch.uk]",
}
_NEW_FILE = (
    "# Talk Together school registry (TT_SCHOOLS_FILE). The fields are explained in schools.example.yml;\n"
    "# check it with `python -m bot schools check`.\n"
    "schools:\n"
)


class SchoolsError(SettingsError):
    """The registry has problems; `problems` holds each as one line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        more = len(problems) - 1
        tail = f" (and {more} more: python -m bot schools check lists them)" if more else ""
        super().__init__(problems[0] + tail)


@dataclass(frozen=True)
class School:
    id: str
    name: str
    region: str
    nation: str | None  # UK schools only
    lead_title: str  # "Designated Safeguarding Lead (DSL)"
    lead_short: str  # "DSL", for "tell the DSL now"
    dsl_contact: str | None
    origins: tuple[str, ...]
    widget_title: str | None = None
    widget_colour: str | None = None  # #rrggbb
    retention_days: int | None = None  # None: the deployment's TT_RETENTION_DAYS


@dataclass(frozen=True)
class SchoolRegistry:
    schools: tuple[School, ...]
    by_id: Mapping[str, School] = field(init=False, repr=False)
    by_origin: Mapping[str, School] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {s.id: s for s in self.schools})
        object.__setattr__(self, "by_origin", {o: s for s in self.schools for o in s.origins})

    def __iter__(self) -> Iterator[School]:
        return iter(self.schools)

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(self.by_origin)

    def for_origin(self, origin: str | None) -> School | None:
        """The school whose pages send this Origin header, if any (one dictionary look-up)."""
        key = normal_origin(origin) if origin else None
        return self.by_origin.get(key) if key else None

    def of_conversation(self, conversation: str) -> School | None:
        """The school a conversation id belongs to; None for one the server did not give a school."""
        school_id, separator, _ = conversation.partition(SEPARATOR)
        return self.by_id.get(school_id) if separator else None


def conversation_id(school: School, client_id: str) -> str:
    """The id a conversation of `client_id` on `school`'s pages is kept under."""
    return f"{school.id}{SEPARATOR}{client_id}"


def client_id(conversation: str) -> str:
    """The client's own id in a conversation id that `conversation_id` made."""
    return conversation.partition(SEPARATOR)[2]


def normal_origin(raw: str) -> str | None:
    """`scheme://host[:port]` as browsers send it in Origin (lower case, no default port); None
    when `raw` is not an origin: a path, '*', a query, credentials or `null` (a sandboxed page)."""
    parts = urlsplit(raw.strip().rstrip("/"))
    try:
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme not in _DEFAULT_PORTS or not host or parts.path or parts.query or parts.fragment:
        return None
    if parts.username is not None or "*" in host:
        return None
    host = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, _DEFAULT_PORTS[parts.scheme]) else "")


class _Bad(ValueError):
    """One field's value cannot be used; the text says why, without the field's name."""


def _not_allowed(value: Any, why: str) -> _Bad:
    return _Bad(f"{value!r} is not allowed: {why}")


def _text(limit: int) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise _not_allowed(value, "write it as text")
        if "\n" in value.strip() or len(value.strip()) > limit:
            raise _not_allowed(value, f"use one line of at most {limit} characters")
        if "{" in value or "}" in value:  # it is filled into replies, where a brace would show as it is
            raise _not_allowed(value, "no { or }")
        return value.strip()

    return check


def _id(value: Any) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise _not_allowed(value, "use a short slug: lower-case letters, digits and hyphens, at most 32, e.g. oakfield")
    return value


def _choice(allowed: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in allowed:
            raise _not_allowed(value, f"use one of {', '.join(allowed)}")
        return value.lower()

    return check


def _origins(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _not_allowed(value, "list origins, e.g. [https://www.oakfield.sch.uk]")
    origins = []
    for raw in value:
        origin = normal_origin(raw) if isinstance(raw, str) else None
        if origin is None:
            raise _Bad(
                f"has {raw!r}, which is not allowed: list origins as scheme://host[:port], "
                "e.g. https://www.oakfield.sch.uk (no '*', no paths)"
            )
        origins.append(origin)
    return tuple(dict.fromkeys(origins))


def _colour(value: Any) -> str:
    if not isinstance(value, str) or not _COLOUR.match(value):
        raise _not_allowed(value, "use #rrggbb, e.g. '#005ea5' (quoted: an unquoted # starts a comment)")
    return value.lower()


def _days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RETENTION_DAYS:
        raise _not_allowed(value, f"use a whole number of days from 1 to {MAX_RETENTION_DAYS}")
    return value


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "id": _id,
    "name": _text(100),
    "nation": _choice(NATIONS),
    "region": _choice(REGIONS),
    "lead_title": _text(60),
    "lead_short": _text(40),
    "dsl_contact": _text(200),
    "origins": _origins,
    "widget_title": _text(60),
    "widget_colour": _colour,
    "retention_days": _days,
}
FIELDS = tuple(_CHECKS)  # the fields of a school, in the order `add` writes them


def _school(raw: Any, number: int, source: str) -> tuple[School | None, list[str]]:
    """The school a registry entry describes, or None and its problems."""
    if not isinstance(raw, dict):
        return None, [f"{source}: school number {number} is not a set of fields like 'id: oakfield'."]
    given_id = raw.get("id")
    named = isinstance(given_id, str) and given_id
    where = f"{source}: school {given_id!r}" if named else f"{source}: school number {number}"
    problems = [
        f"{where}: unknown field {name!r}; the fields are {', '.join(FIELDS)}." for name in raw if name not in FIELDS
    ]
    values: dict[str, Any] = {}
    for name, check in _CHECKS.items():
        if name not in raw:
            if name in _NEEDED:
                problems.append(f"{where}: {name} is missing: give {_NEEDED[name]}.")
        elif raw[name] is None:
            problems.append(f"{where}: {name} is empty: give a value or leave the field out.")
        else:
            try:
                values[name] = check(raw[name])
            except _Bad as bad:
                problems.append(f"{where}: {name} {bad}.")
    nation, region = values.get("nation"), values.get("region")
    if nation and region not in (None, "uk"):
        problems.append(f"{where}: nation {nation!r} is not allowed with region {region!r}: nations are in the UK.")
    elif "nation" not in raw and ("region" not in raw or region == "uk"):
        # the lead's title depends on the nation: a UK school never gets England's by default
        problems.append(
            f"{where}: nation is missing: give a UK school's nation ({', '.join(NATIONS)}), "
            f"or the region of a school outside the UK ({', '.join(r for r in REGIONS if r != 'uk')})."
        )
    if problems:
        return None, problems
    titles = LEAD_TITLES[nation] if nation else LEAD_TITLE_OUTSIDE_UK
    lead_title = values.get("lead_title", titles[0])
    return School(
        id=values["id"],
        name=values["name"],
        region=region or "uk",
        nation=nation,
        lead_title=lead_title,
        # a title of the school's own is its own short form too, unless the file gives one
        lead_short=values.get("lead_short", lead_title if "lead_title" in values else titles[1]),
        dsl_contact=values.get("dsl_contact"),
        origins=values["origins"],
        widget_title=values.get("widget_title"),
        widget_colour=values.get("widget_colour"),
        retention_days=values.get("retention_days"),
    ), []


def parse_registry(text: str, source: str) -> SchoolRegistry:
    """The registry that `text` (a file named `source`) holds; SchoolsError lists every problem."""
    data = _read(text, source)
    entries = data.get("schools") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise SchoolsError([f"{source}: no schools: the file needs a list 'schools:' with one entry per school."])
    problems: list[str] = []
    schools: list[School] = []
    ids: set[str] = set()
    for number, raw in enumerate(entries, start=1):
        school, found = _school(raw, number, source)
        given = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(given, str) and given in ids:  # also when the first of the two has other problems
            found.append(f"{source}: school {given!r}: id {given!r} is used by two schools.")
        elif school is not None:
            schools.append(school)
        if isinstance(given, str):
            ids.add(given)
        problems += found
    problems += _origins_claimed_twice(schools, source)
    if problems:
        raise SchoolsError(problems)
    return SchoolRegistry(tuple(schools))


def _read(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise SchoolsError([f"{source}: not valid YAML{at} ({getattr(error, 'problem', None) or error})."]) from error


def _origins_claimed_twice(schools: list[School], source: str) -> list[str]:
    """An origin that two schools list: a page must belong to one school only."""
    problems = []
    origins: dict[str, School] = {}
    for school in schools:
        for origin in school.origins:
            owner = origins.setdefault(origin, school)
            if owner is not school:
                problems.append(
                    f"{source}: school {school.id!r}: origins has {origin!r}, which school {owner.id!r} lists too: "
                    "an origin belongs to one school."
                )
    return problems


def load_registry(path: Path) -> SchoolRegistry:
    return parse_registry(path.read_text(encoding="utf-8"), path.name)


class _IndentedLists(yaml.SafeDumper):
    """Writes a list under a key indented, as yamllint and the example file have it."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _item_indent(text: str) -> str:
    """How the file indents the items of its `schools:` list (two spaces if it has none yet)."""
    match = re.search(r"^schools:[ \t]*\n(?:[ \t]*(?:#.*)?\n)*( *)- ", text, re.M)
    return match.group(1) if match else "  "


def add_school(path: Path, entry: Mapping[str, Any]) -> School:
    """Append `entry` (a school's fields) to the registry at `path`, creating the file if need be.

    The entry is written as a block after the last school, so the file keeps its comments and
    layout. Nothing is written unless the registry with the new school is valid and reads back
    as the old schools followed by the new one."""
    text = path.read_text(encoding="utf-8") if path.exists() else _NEW_FILE
    block = yaml.dump([dict(entry)], Dumper=_IndentedLists, sort_keys=False, allow_unicode=True, width=1000)
    indent = _item_indent(text)
    gap = "\n" if text.rstrip().endswith("schools:") else "\n\n"  # a blank line between schools
    new_text = text.rstrip("\n") + gap + "".join(indent + line for line in block.splitlines(keepends=True))
    old = _read(text, path.name)
    try:
        new = _read(new_text, path.name)
    except SchoolsError:
        new = None  # the block landed where it breaks the file: said below
    before = (old.get("schools") or []) if isinstance(old, dict) else None
    if not isinstance(new, dict) or before is None or new.get("schools") != [*before, dict(entry)]:
        layout = "it must end with its 'schools:' list, one '- id: ...' per school"
        raise SchoolsError([f"{path.name}: cannot add a school to this file: {layout}."])
    registry = parse_registry(new_text, path.name)
    _write_atomically(path, new_text)
    return registry.schools[-1]


def _write_atomically(path: Path, text: str) -> None:
    """A server or cron job reading the registry meanwhile sees the old file or the new, never half."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
