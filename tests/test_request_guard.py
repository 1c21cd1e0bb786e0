"""What reaches Rasa, and what is answered before it: bad requests, polite limits, rate limits."""

from __future__ import annotations

import json

import pytest

from bot.request_guard import SERVER_REPLY_HEADER, BadRequest, RateLimiter, parse, polite_reply


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "must be JSON"),
        (b"\xff\xfe\x00bad", "UTF-8"),
        (b"[1, 2]", "JSON object"),
        (body(message="hi"), '"sender"'),
        (body(sender="", message="hi"), '"sender"'),
        (body(sender=42, message="hi"), '"sender"'),
        (body(sender="x" * 129, message="hi"), "at most 128"),
        (body(sender="robert'); DROP TABLE events;--", message="hi"), "at most 128"),
        (body(sender="😀", message="hi"), "at most 128"),
        (body(sender="abc", message=42), '"message" must be a string'),
        (body(sender="abc", message=["a", "list"]), '"message" must be a string'),
        (body(sender="abc"), '"message" must be a string'),
    ],
)
def test_malformed_requests_are_refused_with_a_reason(raw, reason):
    with pytest.raises(BadRequest, match=reason):
        parse(raw)


def test_control_characters_are_removed_and_the_rest_is_kept():
    message = parse(body(sender="a-1", message="hel\x00lo\x07 <script>x</script> مرحبا 👋\nbye"))

    assert message.text == "hello <script>x</script> مرحبا 👋\nbye"
    assert message.body["message"] == message.text


@pytest.mark.parametrize(
    ("text", "key"),
    [("", "empty_message"), ("   \n\t", "empty_message"), ("x" * 2001, "message_too_long"), ("x" * 2000, None)],
)
def test_empty_and_very_long_messages_get_a_polite_reply(text, key):
    assert polite_reply(parse(body(sender="a", message=text)).text) == key


def test_rate_limit_per_sender_and_per_address_with_a_sliding_minute():
    limiter = RateLimiter(per_minute=3, per_address=5)

    assert all(limiter.allow("ann", "10.0.0.1", now=t) for t in (0, 1, 2))
    assert not limiter.allow("ann", "10.0.0.1", now=3)
    assert limiter.allow("bob", "10.0.0.1", now=3) and limiter.allow("bob", "10.0.0.1", now=4)
    assert not limiter.allow("cat", "10.0.0.1", now=5), "the address has sent 5 in the last minute"
    assert limiter.allow("ann", "10.0.0.2", now=61), "a minute later the sender may write again"


def test_loopback_is_not_limited_as_an_address():
    limiter = RateLimiter(per_minute=100, per_address=2)

    assert all(limiter.allow(f"s{n}", "127.0.0.1", now=n) for n in range(10))


async def test_a_turn_with_no_reply_gets_the_apology_with_helplines():
    from types import SimpleNamespace

    from sanic import Sanic, response

    from bot.server import REST_WEBHOOK, add_request_guard, make_guard
    from bot.settings import load_settings

    app = Sanic("never_silent_test")
    guard = make_guard(load_settings({}))
    add_request_guard(app, guard)
    [never_silent] = app.response_middleware
    request = SimpleNamespace(path=REST_WEBHOOK, ctx=SimpleNamespace(sender="parent-1"))

    apology = await never_silent(request, response.json([]))
    untouched = await never_silent(request, response.json([{"text": "hello"}]))

    [message] = json.loads(apology.body)
    assert message == {"recipient_id": "parent-1", "text": guard.replies["no_reply"][0]}
    assert "0808 800 5000" in message["text"] and "999" in message["text"]
    assert apology.headers[SERVER_REPLY_HEADER] == "no_reply", "a client can tell it from the model's reply"
    assert untouched is None
