"""Checks every message before Rasa sees it, and makes sure every message gets a reply.

- Malformed requests get 400 with a one-line reason, never a 500: a body that is not JSON or
  not UTF-8, a `message` that is not text, a missing, empty, huge or odd `sender`.
- Messages that Rasa could answer badly get a polite reply instead: empty or whitespace only,
  or longer than MAX_MESSAGE_LENGTH. NUL and other control characters are removed.
- A sender, or a client address, that sends more than the rate limit gets a friendly 429. With
  several servers (TT_REDIS_URL) the count is kept in Redis, so every server counts every
  message; while Redis does not answer, each server counts its own (bot/redis_link.py).
- The client address is the peer's, or, behind a trusted reverse proxy (TT_TRUSTED_PROXIES),
  the one the proxies add to X-Forwarded-For: anything to its left was written by the client.
- A turn that produced no reply at all (an action server that is down) gets an apology with
  the helplines, so nobody is left without an answer.
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.content import MAX_MESSAGE_LENGTH
from bot.redis_link import RETRY_AFTER, RedisDown, RedisLink
from bot.settings import Settings

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
# A school's whole network reaches the assistant from one address: it may send as many
# messages as this many busy senders.
ADDRESS_LIMIT_FACTOR = 20
RATE_KEY_PREFIX = "talk_together"


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


class Limiter(Protocol):
    def allow(self, sender: str, address: str | None, now: float | None = None) -> bool:
        """Whether the message may go on: False once the sender, or the address, sent its limit in the last minute."""


def _limits(sender: str, address: str | None, per_minute: int, per_address: int) -> list[tuple[str, int]]:
    keys = [(f"sender:{sender}", per_minute)]
    if address and address not in _LOOPBACK:  # a reverse proxy on this machine is one address
        keys.append((f"address:{address}", per_address))
    return keys


@dataclass
class RateLimiter:
    """At most `per_minute` messages per sender, and `per_address` per client address, in this process."""

    per_minute: int
    per_address: int
    _seen: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def allow(self, sender: str, address: str | None, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        keys = _limits(sender, address, self.per_minute, self.per_address)
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


# A sliding minute per key: a sorted set of message times (ms). KEYS: the keys to count against;
# ARGV[1]: now in ms, or "" for Redis's clock (the one clock all servers share); ARGV[2]: the
# window in ms; ARGV[3]: a token that makes this message's entry unique; ARGV[4...]: each key's limit.
_SLIDING_WINDOW = """
local now = tonumber(ARGV[1])
if not now then
  local clock = redis.call('TIME')
  now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
end
local window = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[3 + i]) then
    return 0
  end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window)
end
return 1
"""


class SharedRateLimiter:
    """RateLimiter's limits, counted in Redis by one script per message, so that several servers
    share them. While Redis does not answer, this process counts alone: a message is never
    refused or held up because Redis is down."""

    def __init__(
        self,
        redis_url: str,
        per_minute: int,
        per_address: int,
        key_prefix: str = RATE_KEY_PREFIX,
        retry_after: float = RETRY_AFTER,
    ) -> None:
        self.per_minute = per_minute
        self.per_address = per_address
        self.key_prefix = key_prefix
        self.redis = RedisLink(redis_url, "rate limits", retry_after=retry_after)
        self.local = RateLimiter(per_minute, per_address)
        self._script = self.redis.client.register_script(_SLIDING_WINDOW)

    def allow(self, sender: str, address: str | None, now: float | None = None) -> bool:
        limits = _limits(sender, address, self.per_minute, self.per_address)
        keys = [f"{self.key_prefix}:rate:{key}" for key, _ in limits]
        now_ms = "" if now is None else str(round(now * 1000))
        args = [now_ms, round(WINDOW_SECONDS * 1000), secrets.token_hex(8), *(limit for _, limit in limits)]
        try:
            return bool(self.redis.call(lambda client: self._script(keys=keys, args=args, client=client)))
        except RedisDown:
            return self.local.allow(sender, address, now)


def make_rate_limiter(settings: Settings) -> Limiter:
    """The deployment's rate limiter: shared through Redis when TT_REDIS_URL is set, else this process's."""
    per_minute = settings.rate_limit_per_minute
    per_address = per_minute * ADDRESS_LIMIT_FACTOR
    if settings.redis_url:
        return SharedRateLimiter(settings.redis_url, per_minute, per_address)
    return RateLimiter(per_minute, per_address)


def _ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in `text`, an IPv4 address written as IPv6 (::ffff:a.b.c.d) as IPv4; None if it is not one."""
    try:
        address = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return mapped or address


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: Iterable[str]) -> str | None:
    """Who sent the request: `peer`, the address that connected, unless it is one of the
    `trusted_proxies`; then the right-most address in X-Forwarded-For (`forwarded_for`, every
    such header joined with commas) that is not a trusted proxy. Each proxy appends the address
    it was connected from, so that one was written by our own proxy; those to its left were
    written by the client, and could be anything."""
    peer_ip = _ip(peer)
    trusted = {ip for ip in map(_ip, trusted_proxies) if ip is not None}
    if peer_ip is None:
        return peer
    if peer_ip not in trusted or not forwarded_for:
        return str(peer_ip)
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        hop_ip = _ip(hop)
        if hop_ip is None:  # not written by a proxy of ours, which writes addresses: do not trust it
            return str(peer_ip)
        if hop_ip not in trusted:
            return str(hop_ip)
    # Every hop is a proxy of ours: the request came from the first of them.
    return str(_ip(hops[0])) if hops else str(peer_ip)


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
    limiter: Limiter
