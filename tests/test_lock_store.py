"""The Redis lock store: one conversation's turns never overlap, across processes, and the
assistant keeps answering when Redis does not.

Against the real Redis (the `redis_url` fixture in conftest.py: skipped where none answers, a
failure on CI), on database 15 with a key prefix of each test's own.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from rasa.core.lock_store import LockStore
from rasa.core.utils import AvailableEndpoints
from rasa.utils.endpoints import EndpointConfig

from bot.launcher import write_runtime_config
from bot.lock_store import AtomicRedisLockStore
from bot.settings import load_settings


def _store(url: str, prefix: str, **options: Any) -> AtomicRedisLockStore:
    return AtomicRedisLockStore(EndpointConfig(url=url, key_prefix=prefix, **options))


def _tickets(client: redis.Redis, prefix: str, conversation: str) -> list[int]:
    return sorted(int(number) for number in client.hkeys(f"{prefix}:lock:{conversation}"))


@pytest.fixture
def direct(redis_url: str) -> redis.Redis:
    """A plain client, to see what the store left in Redis."""
    return redis.Redis.from_url(redis_url)


def test_the_launcher_configures_it_and_rasa_loads_it_from_the_endpoints_file(tmp_path: Path):
    settings = load_settings({"TT_REDIS_URL": "redis://127.0.0.1:6379/3"}, env_file=tmp_path / ".env")
    endpoints = AvailableEndpoints.read_endpoints(str(write_runtime_config(settings, tmp_path)))

    store = LockStore.create(endpoints.lock_store)

    assert isinstance(store, AtomicRedisLockStore)
    assert store.key_prefix == "talk_together"
    assert store.redis.where == "127.0.0.1:6379/3"
    one_server = load_settings({}, env_file=tmp_path / ".env")
    assert AvailableEndpoints.read_endpoints(str(write_runtime_config(one_server, tmp_path))).lock_store is None


def test_an_unknown_option_is_refused_with_the_allowed_ones():
    with pytest.raises(ValueError, match="db, which is not allowed: use url, key_prefix"):
        AtomicRedisLockStore(EndpointConfig(url="redis://127.0.0.1:6379/0", db=1))


def _take_turns(url: str, prefix: str, turns: int, start: Any, results: Any) -> None:
    """One server: `turns` turns of the same conversation, each holding the lock for 10 ms."""
    store = _store(url, prefix)

    async def run() -> None:
        for _ in range(turns):
            async with store.lock("shared", wait_time_in_seconds=0.005) as held:
                entered = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process
                time.sleep(0.01)  # work that blocks, like the database calls of a turn
                results.put((held.now_serving, entered, time.monotonic()))

    start.wait()  # every process issues its first ticket at the same moment
    asyncio.run(run())


def test_servers_taking_turns_at_once_get_distinct_tickets_served_in_order_one_at_a_time(redis_url, redis_prefix):
    processes, turns = 4, 5
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(processes), context.Queue()
    servers = [
        context.Process(target=_take_turns, args=(redis_url, redis_prefix, turns, start, results))
        for _ in range(processes)
    ]
    for server in servers:
        server.start()
    held = sorted((results.get(timeout=10) for _ in range(processes * turns)), key=lambda turn: turn[1])
    for server in servers:
        server.join(timeout=30)

    assert [server.exitcode for server in servers] == [0] * processes, "no server failed to get the lock"
    tickets = [ticket for ticket, _, _ in held]
    assert len(set(tickets)) == processes * turns, "every turn had a ticket of its own"
    assert tickets == sorted(tickets), "turns were served in the order their tickets were issued"
    for (_, _, left), (_, entered, _) in itertools.pairwise(held):
        assert left <= entered, "no two servers held the conversation at once"
    assert _tickets(redis.Redis.from_url(redis_url), redis_prefix, "shared") == [], "nothing left behind"


async def test_an_expired_ticket_is_skipped_and_a_dead_servers_lock_vanishes(redis_url, redis_prefix, direct):
    store = _store(redis_url, redis_prefix)
    dead = store.issue_ticket("c", lock_lifetime=0.3)  # a server that died holding the conversation
    assert 0 < direct.pttl(f"{redis_prefix}:lock:c") <= 300

    started = time.monotonic()
    async with store.lock("c", lock_lifetime=5, wait_time_in_seconds=0.02) as held:
        waited = time.monotonic() - started
        assert held.now_serving > dead
        assert _tickets(direct, redis_prefix, "c") == [held.now_serving]
    assert 0.25 <= waited < 1.5

    store.issue_ticket("gone", lock_lifetime=0.1)
    await asyncio.sleep(0.2)
    assert not direct.exists(f"{redis_prefix}:lock:gone"), "Redis forgets the lock by itself"


async def test_a_release_removes_only_its_own_ticket_and_the_last_leaves_nothing(redis_url, redis_prefix, direct):
    store = _store(redis_url, redis_prefix)
    first, second = store.issue_ticket("c"), store.issue_ticket("c")

    store.cleanup("c", first)
    lock = store.get_lock("c")
    assert lock is not None and [ticket.number for ticket in lock.tickets] == [second]
    assert not lock.is_locked(second)

    store.cleanup("c", second)
    assert store.get_lock("c") is None
    assert not direct.exists(f"{redis_prefix}:lock:c")


async def test_a_late_release_by_a_stalled_server_does_not_free_the_next_holder(redis_url, redis_prefix, direct):
    stalled, other = _store(redis_url, redis_prefix), _store(redis_url, redis_prefix)
    stale = stalled.issue_ticket("c", lock_lifetime=0.1)
    await asyncio.sleep(0.15)  # it stalls past its ticket's lifetime
    async with other.lock("c", wait_time_in_seconds=0.01) as held:
        current = held.now_serving
        waiting = other.issue_ticket("c")

        stalled.cleanup("c", stale)  # it wakes up and releases what it thinks it holds

        assert current != stale, "ticket numbers are never issued twice"
        assert _tickets(direct, redis_prefix, "c") == [current, waiting]
        lock = other.get_lock("c")
        assert lock is not None and lock.is_locked(waiting)
    other.cleanup("c", waiting)


async def test_a_turn_cancelled_while_waiting_gives_its_ticket_back(redis_url, redis_prefix, direct):
    server_a, server_b = _store(redis_url, redis_prefix), _store(redis_url, redis_prefix)
    async with server_a.lock("c", wait_time_in_seconds=0.01) as held:
        waiter = asyncio.create_task(server_b.lock("c", wait_time_in_seconds=0.01).__aenter__())
        await asyncio.sleep(0.05)
        assert len(_tickets(direct, redis_prefix, "c")) == 2
        waiter.cancel()  # the client went away
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert _tickets(direct, redis_prefix, "c") == [held.now_serving]


async def test_with_redis_down_turns_are_kept_in_order_in_this_process_and_redis_is_used_again_when_back(
    redis_stand_in, redis_prefix, direct, caplog
):
    caplog.set_level(logging.INFO, logger="bot.redis_link")
    store = _store(redis_stand_in.url, redis_prefix, retry_after=0.3)
    order: list[str] = []

    async def turn(name: str) -> None:
        async with store.lock("c", wait_time_in_seconds=0.01):
            order.append(f"{name} in")
            await asyncio.sleep(0.05)
            order.append(f"{name} out")

    await asyncio.gather(turn("a"), turn("b"), turn("c"))

    assert order == ["a in", "a out", "b in", "b out", "c in", "c out"]
    [warning] = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert "does not answer" in warning.getMessage() and "conversation locks" in warning.getMessage()

    redis_stand_in.come_back()
    await asyncio.sleep(0.35)  # the back-off
    async with store.lock("c") as held:
        assert _tickets(direct, redis_prefix, "c") == [held.now_serving], "the ticket is in Redis again"
    assert not direct.exists(f"{redis_prefix}:lock:c")
    assert "answers again" in caplog.text


async def test_a_turn_waiting_when_redis_stops_answering_goes_on_with_this_processs_lock(
    redis_stand_in, redis_url, redis_prefix, direct
):
    redis_stand_in.come_back()
    other_server = _store(redis_url, redis_prefix)
    this_server = _store(redis_stand_in.url, redis_prefix)
    async with other_server.lock("c"):
        waiting = asyncio.create_task(_hold_briefly(this_server))
        await asyncio.sleep(0.1)
        assert not waiting.done(), "it waits for the other server's turn"
        assert len(_tickets(direct, redis_prefix, "c")) == 2

        redis_stand_in.close()  # Redis stops answering this server

        await asyncio.wait_for(waiting, timeout=2)


async def _hold_briefly(store: AtomicRedisLockStore) -> None:
    async with store.lock("c", wait_time_in_seconds=0.02):
        await asyncio.sleep(0.01)
