"""What reaches Rasa, and what is answered before it: bad requests, polite limits, rate limits."""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest

from bot.request_guard import (
    SERVER_REPLY_HEADER,
    BadRequest,
    RateLimiter,
    SharedRateLimiter,
    client_address,
    make_rate_limiter,
    parse,
    polite_reply,
)
from bot.settings import load_settings


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


def test_two_servers_share_one_count_per_sender_and_per_address(redis_url, redis_prefix):
    one, two = (SharedRateLimiter(redis_url, per_minute=3, per_address=5, key_prefix=redis_prefix) for _ in "12")

    assert one.allow("ann", "10.0.0.1", now=0) and two.allow("ann", "10.0.0.1", now=1)
    assert one.allow("ann", "10.0.0.1", now=2)
    assert not two.allow("ann", "10.0.0.1", now=3), "the other server counted ann's first and third"
    assert two.allow("bob", "10.0.0.1", now=3) and one.allow("bob", "10.0.0.1", now=4)
    assert not two.allow("cat", "10.0.0.1", now=5), "the address has sent 5 in the last minute"
    assert one.allow("ann", "10.0.0.2", now=61), "a minute later the sender may write again"


def test_servers_counting_at_once_let_exactly_the_limit_through(redis_url, redis_prefix):
    servers = [SharedRateLimiter(redis_url, per_minute=7, per_address=100, key_prefix=redis_prefix) for _ in range(4)]
    start, allowed = threading.Barrier(len(servers)), []

    def send(limiter: SharedRateLimiter) -> None:
        start.wait()
        allowed.extend(limiter.allow("ann", "10.0.0.1") for _ in range(5))

    threads = [threading.Thread(target=send, args=(limiter,)) for limiter in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert allowed.count(True) == 7 and len(allowed) == 20


def test_with_redis_down_this_server_counts_alone_and_shares_again_when_it_is_back(
    redis_stand_in, redis_url, redis_prefix, caplog
):
    caplog.set_level(logging.INFO, logger="bot.redis_link")
    this = SharedRateLimiter(redis_stand_in.url, per_minute=2, per_address=10, key_prefix=redis_prefix, retry_after=0.3)
    other = SharedRateLimiter(redis_url, per_minute=2, per_address=10, key_prefix=redis_prefix)

    assert this.allow("ann", "10.0.0.1") and this.allow("ann", "10.0.0.1")
    assert not this.allow("ann", "10.0.0.1"), "still limited, by this process alone"
    assert other.allow("bob", "10.0.0.2")
    [warning] = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert "rate limits are kept in this process only" in warning.getMessage()

    redis_stand_in.come_back()
    time.sleep(0.35)  # the back-off
    assert this.allow("bob", "10.0.0.2"), "counted in Redis: bob's second"
    assert not other.allow("bob", "10.0.0.2"), "the other server sees it"
    assert "answers again" in caplog.text


def test_a_redis_that_hangs_costs_one_short_wait_every_few_seconds(redis_stand_in, redis_prefix):
    redis_stand_in.hang()
    limiter = SharedRateLimiter(redis_stand_in.url, 100, 100, key_prefix=redis_prefix, retry_after=0.5)

    def timed() -> float:
        started = time.monotonic()
        assert limiter.allow("ann", "10.0.0.1")
        return time.monotonic() - started

    assert 0.2 < timed() < 0.6, "one socket timeout"
    assert max(timed() for _ in range(20)) < 0.05, "no more waits during the back-off"
    time.sleep(0.5)
    assert 0.2 < timed() < 0.6, "then one more try"


def test_the_server_gets_a_shared_limiter_only_with_redis(tmp_path):
    local = make_rate_limiter(load_settings({"TT_RATE_LIMIT_PER_MINUTE": "4"}, env_file=tmp_path / ".env"))
    shared = make_rate_limiter(
        load_settings({"TT_RATE_LIMIT_PER_MINUTE": "4", "TT_REDIS_URL": "redis://127.0.0.1:6379/2"}, tmp_path / ".env")
    )

    assert isinstance(local, RateLimiter) and (local.per_minute, local.per_address) == (4, 80)
    assert isinstance(shared, SharedRateLimiter) and (shared.per_minute, shared.per_address) == (4, 80)
    assert shared.redis.where == "127.0.0.1:6379/2"


PROXIES = ("10.0.0.1", "10.0.0.2")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "client"),
    [
        ("203.0.113.7", None, PROXIES, "203.0.113.7"),
        ("203.0.113.7", "198.51.100.1", PROXIES, "203.0.113.7"),  # not from a proxy: the header is the client's
        ("10.0.0.1", "198.51.100.1", (), "10.0.0.1"),  # no proxy trusted
        ("10.0.0.1", "198.51.100.1", PROXIES, "198.51.100.1"),
        ("10.0.0.1", "6.6.6.6, 198.51.100.1", PROXIES, "198.51.100.1"),  # the left one was written by the client
        ("10.0.0.1", "6.6.6.6, 198.51.100.1, 10.0.0.2", PROXIES, "198.51.100.1"),  # two proxies
        ("10.0.0.1", "10.0.0.2", PROXIES, "10.0.0.2"),  # sent by a proxy itself
        ("10.0.0.1", None, PROXIES, "10.0.0.1"),
        ("10.0.0.1", "198.51.100.1, unknown", PROXIES, "10.0.0.1"),  # not an address: not from our proxy
        ("::ffff:10.0.0.1", "2001:DB8:0::1", PROXIES, "2001:db8::1"),  # one spelling per address
        (None, "198.51.100.1", PROXIES, None),
    ],
)
def test_the_client_address_is_the_peer_or_what_a_trusted_proxy_says(peer, forwarded_for, trusted, client):
    assert client_address(peer, forwarded_for, trusted) == client


async def test_a_turn_with_no_reply_gets_the_apology_with_helplines():
    from types import SimpleNamespace

    from sanic import Sanic, response

    from bot.server import REST_WEBHOOK, add_request_guard, make_guard
    from bot.settings import load_settings

    app = Sanic("never_silent_test")
    guard = make_guard(load_settings({}))
    add_request_guard(app, guard)
    [never_silent] = app.response_middleware
    request = SimpleNamespace(path=REST_WEBHOOK, ctx=SimpleNamespace(sender="parent-1", guard=guard))

    apology = await never_silent(request, response.json([]))
    untouched = await never_silent(request, response.json([{"text": "hello"}]))

    [message] = json.loads(apology.body)
    assert message == {"recipient_id": "parent-1", "text": guard.replies["no_reply"][0]}
    assert "0808 800 5000" in message["text"] and "999" in message["text"]
    assert apology.headers[SERVER_REPLY_HEADER] == "no_reply", "a client can tell it from the model's reply"
    assert untouched is None


async def test_behind_a_trusted_proxy_the_limit_counts_each_client_not_the_proxy():
    from types import SimpleNamespace

    from sanic import Sanic
    from sanic.compat import Header

    from bot.request_guard import Guard, RateLimiter
    from bot.server import REST_WEBHOOK, add_request_guard

    replies = {key: ("slow down",) for key in ("rate_limited", "empty_message", "no_reply")}
    guard = Guard(replies=replies, limiter=RateLimiter(per_minute=100, per_address=2))
    app = Sanic("trusted_proxy_test")
    add_request_guard(app, guard, trusted_proxies=("10.0.0.2",))
    [check_request] = app.request_middleware

    async def status(client: str, sender: str) -> int:
        request = SimpleNamespace(
            path=REST_WEBHOOK,
            method="POST",
            ip="10.0.0.2",  # the proxy connects; X-Forwarded-For names the client
            headers=Header({"X-Forwarded-For": client}),
            body=json.dumps({"sender": sender, "message": "hello"}).encode(),
            ctx=SimpleNamespace(),
        )
        refused = await check_request(request)
        return 200 if refused is None else int(refused.status)

    statuses = [await status("198.51.100.1", f"a{i}") for i in range(3)] + [await status("198.51.100.2", "b0")]

    assert statuses == [200, 200, 429, 200]
