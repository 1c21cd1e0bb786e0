"""A Redis connection that never holds up a message: short timeouts, then a pause after a failure.

The conversation locks (bot/lock_store.py) and the rate limits (bot/request_guard.py) are shared
through Redis when several servers run. Neither may stop the assistant answering when Redis is
down: each falls back to this process's own lock or count. So a call that Redis does not answer
within SOCKET_TIMEOUT raises `RedisDown`, and for the next RETRY_AFTER seconds every call
raises it at once, without trying: a down Redis costs one short wait every few seconds, not
one per message. One warning is logged when Redis stops answering, and one line when it is back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import redis

SOCKET_TIMEOUT = 0.25  # seconds; Redis on the same network answers in well under a millisecond
RETRY_AFTER = 5.0  # seconds between attempts while Redis does not answer

logger = logging.getLogger(__name__)
T = TypeVar("T")


class RedisDown(Exception):
    """Redis did not answer, now or within the last RETRY_AFTER seconds: use this process's own state."""


class RedisLink:
    """A Redis client for `purpose` ("conversation locks", ...) that steps aside while Redis is down."""

    def __init__(
        self, url: str, purpose: str, socket_timeout: float = SOCKET_TIMEOUT, retry_after: float = RETRY_AFTER
    ) -> None:
        # No retries (redis-py's default): a retry would double the wait on a Redis that is down.
        self.client = redis.Redis.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout)
        self.purpose = purpose
        self.retry_after = retry_after
        self._retry_at = 0.0  # time.monotonic() before which Redis is not tried
        self._down = False

    @property
    def where(self) -> str:
        """host:port/db, never the URL: it can hold a password."""
        kwargs = self.client.connection_pool.connection_kwargs
        return f"{kwargs.get('host')}:{kwargs.get('port')}/{kwargs.get('db', 0)}"

    def call(self, operation: Callable[[redis.Redis], T]) -> T:
        """`operation`'s result, or `RedisDown` when Redis does not answer (or did not, recently)."""
        if time.monotonic() < self._retry_at:
            raise RedisDown(f"Redis at {self.where} did not answer; trying again soon")
        try:
            result = operation(self.client)
        except redis.RedisError as error:  # also a refused script or command: never worth failing a message
            self._retry_at = time.monotonic() + self.retry_after
            if not self._down:
                self._down = True
                logger.warning(
                    f"Redis at {self.where} does not answer ({type(error).__name__}): {self.purpose} are kept in "
                    f"this process only until it does (trying again every {self.retry_after:g} s)."
                )
            raise RedisDown(f"Redis at {self.where} does not answer") from error
        if self._down:
            self._down = False
            logger.info(f"Redis at {self.where} answers again: {self.purpose} are shared again.")
        return result
