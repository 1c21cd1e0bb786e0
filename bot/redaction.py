"""Replace personal details in what people type with typed placeholders before anything is stored.

E-mail addresses, web addresses, social-media handles, payment card numbers, phone numbers
and UK postcodes become `[email]`, `[url]`, `[handle]`, `[card]`, `[phone]` and `[postcode]`.
The order matters: an e-mail address contains a handle-like `@name`, a URL may contain
digits that look like a phone number.
"""

from __future__ import annotations

import re
from typing import Any

_URL = r"\b(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|uk|io|co|me|ly|gg|tv|app)(?:/\S*)?\b"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.I)),
    ("url", re.compile(_URL, re.I)),
    ("handle", re.compile(r"(?<![\w@])@[A-Za-z0-9_.]{2,30}")),
    ("card", re.compile(r"\b(?:\d[ -]?){13,19}\b")),
    ("phone", re.compile(r"(?<!\w)(?:\+|00)?\d[\d\s().-]{8,}\d(?!\w)")),
    ("postcode", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.I)),
]


def redact(text: str) -> str:
    for kind, pattern in _PATTERNS:
        text = pattern.sub(f"[{kind}]", text)
    return text


def redact_event(data: dict[str, Any]) -> dict[str, Any]:
    """A stored event with the user's words redacted, in the text and in the parse data."""
    if data.get("event") != "user":
        return data
    data = dict(data)
    if isinstance(data.get("text"), str):
        data["text"] = redact(data["text"])
    parse_data = data.get("parse_data")
    if isinstance(parse_data, dict):
        parse_data = dict(parse_data)
        if isinstance(parse_data.get("text"), str):
            parse_data["text"] = redact(parse_data["text"])
        parse_data["entities"] = [
            {**e, "value": redact(str(e.get("value", "")))} if isinstance(e, dict) else e
            for e in parse_data.get("entities") or []
        ]
        data["parse_data"] = parse_data
    return data
