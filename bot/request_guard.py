"""Checks every message before Rasa sees it, and makes sure every message gets a reply.

- Malformed requests get 400 with a one-line reason, never a 500: a body that is not JSON or
  not UTF-8, a `message` that is not text, a missing, empty, huge or odd `sender`.
- Messages that Rasa could answer badly get a polite reply instead: empty or whitespace only,
  or longer than MAX_MESSAGE_LENGTH. NUL and other control characters are removed.
- A sender, or a client address, that sends more than the rate limit gets a friendly 429.
- A turn that produced no reply at all (an action server that is down) gets an apology with
  the helplines, so nobody is left without an answer.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from bot.content import MAX_MESSAGE_LENGTH

# What the server answers itself, without Rasa: a reply's content items, one message each. A
# message too long to read could be about a child in danger, so the emergency number follows.
SERVER_REPLIES = {
    "empty_message": ("empty_message",),
    "message_too_long": ("message_too_long", "emergency_reminder"),
    "rate_limited": ("rate_limited",),
    "no_reply": ("no_reply",),
}
# A reply the server gives itself names its SERVER_REPLIES key in this header, so a client can
# tell it from the model's answer (the launcher's readiness probe does: bot/readiness.py).
SERVER_REPLY_HEADER = "X-Talk-Together-Server-Reply"
MAX_SENDER_LENGTH = 128
_SENDER = re.compile(r"^[\w.:@-]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LOOPBACK = ("127.0.0.1", "::1")
WINDOW_SECONDS = 60.0


class BadRequest(ValueError):
    """The request cannot be a message: answered with 400 and this text."""


@dataclass(frozen=True)
class Message:
    sender: str
    text: str
    body: dict[str, Any]  # the request body, with the cleaned text


def parse(body: bytes) -> Message:
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise BadRequest("The request body must be UTF-8 text.") from error
    except json.JSONDecodeError as error:
        raise BadRequest('The request body must be JSON like {"sender": "...", "message": "..."}.') from error
    if not isinstance(data, dict):
        raise BadRequest('The request body must be a JSON object like {"sender": "...", "message": "..."}.')
    sender, text = data.get("sender"), data.get("message")
    if not isinstance(sender, str) or not sender:
        raise BadRequest('"sender" must be a non-empty string that identifies the conversation.')
    if len(sender) > MAX_SENDER_LENGTH or not _SENDER.match(sender):
        raise BadRequest(f'"sender" must be at most {MAX_SENDER_LENGTH} letters, digits or . _ - : @.')
    if not isinstance(text, str):
        raise BadRequest('"message" must be a string.')
    text = clean(text)
    return Message(sender=sender, text=text, body={**data, "message": text})


@dataclass
class RateLimiter:
    """At most `per_minute` messages per sender, and `per_address` per client address."""

    per_minute: int
    per_address: int
    _seen: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def allow(self, sender: str, address: str | None, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        keys = [(f"sender:{sender}", self.per_minute)]
        if address and address not in _LOOPBACK:  # a reverse proxy on this machine is one address
            keys.append((f"address:{address}", self.per_address))
        for key, limit in keys:
            recent = self._seen[key]
            while recent and recent[0] <= now - WINDOW_SECONDS:
                recent.popleft()
            if len(recent) >= limit:
                return False
        for key, _ in keys:
            self._seen[key].append(now)
        if len(self._seen) > 100_000:  # forget idle keys so memory stays bounded
            for key in [k for k, v in self._seen.items() if not v or v[-1] <= now - WINDOW_SECONDS]:
                del self._seen[key]
        return True


def clean(text: str) -> str:
    return _CONTROL.sub("", text)


def polite_reply(text: str) -> str | None:
    """The content key of the reply to give instead of asking Rasa, if any."""
    if not text.strip():
        return "empty_message"
    if len(text) > MAX_MESSAGE_LENGTH:
        return "message_too_long"
    return None


@dataclass
class Guard:
    """What the REST middleware and the socket.io channel share: the replies and the rate limits."""

    replies: dict[str, tuple[str, ...]]  # SERVER_REPLIES key -> its messages, for the deployment's region
    limiter: RateLimiter
