"""REST-channel client: cold-start polling, one long conversation, many concurrent conversations."""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiohttp

REQUEST_TIMEOUT_S = 60.0
_POLL_INTERVAL_S = 0.15


@dataclass(frozen=True)
class Turn:
    """One message and its reply; `error` is None when the reply was a non-empty JSON list with HTTP 200."""

    text: str
    latency_s: float
    error: str | None


def new_sender() -> str:
    return str(uuid.uuid4())


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated percentile, `fraction` in [0, 1]."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def error_kinds(turns: Sequence[Turn]) -> dict[str, int]:
    """How many turns failed, by error and message."""
    return dict(Counter(f"{turn.error} to {turn.text!r}" for turn in turns if turn.error is not None))


def _session(connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
    )


def _reply_error(status: int, body: bytes) -> str | None:
    if status != 200:
        return f"HTTP {status}"
    try:
        reply = json.loads(body)
    except ValueError:
        return "reply is not JSON"
    return None if isinstance(reply, list) and reply else "empty reply"


async def send(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> Turn:
    start = time.perf_counter()
    try:
        async with session.post(url, json={"sender": sender, "message": text}) as response:
            error = _reply_error(response.status, await response.read())
    except TimeoutError:
        error = f"timeout after {REQUEST_TIMEOUT_S:.0f} s"
    except aiohttp.ClientError as exc:
        error = type(exc).__name__
    return Turn(text, time.perf_counter() - start, error)


async def _first_answer(url: str, started: float, alive: Callable[[], bool], timeout_s: float) -> float:
    sender = new_sender()
    async with _session(1) as session:
        while True:
            turn = await send(session, url, sender, "hello")
            if turn.error is None:
                return time.perf_counter() - started
            if not alive():
                raise RuntimeError("the server exited during start-up")
            if time.perf_counter() - started > timeout_s:
                raise TimeoutError(f"no answer to 'hello' after {timeout_s:.0f} s (last: {turn.error})")
            await asyncio.sleep(_POLL_INTERVAL_S)


def cold_start(url: str, started: float, alive: Callable[[], bool], timeout_s: float = 600.0) -> float:
    """Seconds from `started` (a perf_counter time) to the first non-empty reply to 'hello'."""
    return asyncio.run(_first_answer(url, started, alive, timeout_s))


async def _conversation(
    session: aiohttp.ClientSession, url: str, sender: str, messages: Sequence[str], turns: int
) -> list[Turn]:
    return [await send(session, url, sender, messages[index % len(messages)]) for index in range(turns)]


async def _one_conversation(url: str, messages: Sequence[str], turns: int) -> list[Turn]:
    async with _session(1) as session:
        return await _conversation(session, url, new_sender(), messages, turns)


def long_conversation(url: str, messages: Sequence[str], turns: int) -> list[Turn]:
    """One sender, `turns` sequential messages cycling through `messages`."""
    return asyncio.run(_one_conversation(url, messages, turns))


async def _many_conversations(
    url: str, messages: Sequence[str], senders: Sequence[str], turns: int
) -> tuple[list[Turn], float]:
    async with _session(len(senders)) as session:
        start = time.perf_counter()
        results = await asyncio.gather(*(_conversation(session, url, sender, messages, turns) for sender in senders))
        wall_s = time.perf_counter() - start
    return [turn for conversation in results for turn in conversation], wall_s


def concurrent_conversations(
    url: str, messages: Sequence[str], senders: Sequence[str], turns: int
) -> tuple[list[Turn], float]:
    """All `senders` talk at once, each sequentially for `turns` messages; return all turns and the wall time."""
    return asyncio.run(_many_conversations(url, messages, senders, turns))
