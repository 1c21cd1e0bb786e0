"""A Rasa lock store in Redis whose tickets are issued and released atomically across servers.

Rasa takes a conversation's lock around every turn, so that two messages of one conversation
never interleave. Its open-source `RedisLockStore` reads the whole lock (a JSON list of
tickets), changes it in Python and writes it back (Rasa issue #9213): two servers issuing a
ticket at once both read the same list, both get the same number, and both think they hold the
conversation; a release that checks "anyone waiting?" before deleting the lock deletes a ticket
issued in between. Here every change is one Lua script or one command, run by Redis alone:

- a conversation's tickets are one hash, `<prefix>:lock:<conversation>`: ticket number -> the
  time it expires, on Redis's clock (servers' clocks may differ; Redis's is the one clock all
  of them share);
- numbers come from one counter that is never reset, so tickets are served in the order they
  were issued and a number is never issued twice: a late release by a server whose ticket
  expired cannot free the lock of the ticket after it;
- an expired ticket (a server that died, or stalled, mid-turn) is forgotten by the next script
  that reads the hash, so the next ticket is served; the hash itself expires with its last
  ticket, so a dead server leaves nothing behind;
- a release is one HDEL: Redis removes the hash with its last field, so there is no separate
  "delete the lock if nobody waits" step to race with.

Rasa's `lock()` context manager is kept (it issues a ticket, polls `get_lock` until the ticket
is served, then releases it), inside an in-process lock: when Redis does not answer
(bot/redis_link.py), that lock alone holds the conversation, so the assistant keeps answering
and turns on one server stay in order; a stale write from another server is then refused by
the tracker store (bot/tracker_store.py). `save_lock` (writing back a whole lock read earlier)
and `delete_lock` (which drops the tickets of everyone waiting) are what this store exists to
avoid: they are not offered (Rasa's base raises), and nothing in Rasa calls them here.

Configured in endpoints.yml (bot/launcher.py writes it when TT_REDIS_URL is set):

    lock_store:
      type: bot.lock_store.AtomicRedisLockStore
      url: redis://127.0.0.1:6379/0
      key_prefix: talk_together     # optional; also socket_timeout and retry_after, in seconds
"""

from __future__ import annotations

import contextlib
import re
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockStore
from rasa.utils.endpoints import EndpointConfig

from bot.redis_link import RETRY_AFTER, SOCKET_TIMEOUT, RedisDown, RedisLink

DEFAULT_KEY_PREFIX = "talk_together"
_KEY_PREFIX = re.compile(r"^[A-Za-z0-9_-]+$")

# Redis's clock in ms, and the conversation's live tickets, forgetting the expired ones.
_PRELUDE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local function live_tickets(key)
  local live = {}
  local fields = redis.call('HGETALL', key)
  for i = 1, #fields, 2 do
    local left = tonumber(fields[i + 1]) - now
    if left <= 0 then
      redis.call('HDEL', key, fields[i])
    else
      table.insert(live, tonumber(fields[i]))
      table.insert(live, left)
    end
  end
  return live
end
"""
# KEYS[1]: the conversation's tickets; KEYS[2]: the ticket counter. ARGV[1]: lifetime in ms.
_ISSUE = (
    _PRELUDE
    + """
live_tickets(KEYS[1])
local ticket = redis.call('INCR', KEYS[2])
local expires = now + tonumber(ARGV[1])
redis.call('HSET', KEYS[1], ticket, expires)
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 or now + ttl < expires then
  redis.call('PEXPIREAT', KEYS[1], expires)
end
return ticket
"""
)
# KEYS[1]: the conversation's tickets. Returns number, ms left, number, ms left, ...
_LIVE = _PRELUDE + "return live_tickets(KEYS[1])\n"


class AtomicRedisLockStore(LockStore):
    """Rasa's ticket lock, kept in Redis with atomic issue and release (see the module docstring)."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        """Rasa's `LockStore.create` passes the endpoints.yml entry as `endpoint_config`."""
        options = dict(endpoint_config.kwargs)
        key_prefix = str(options.pop("key_prefix", DEFAULT_KEY_PREFIX))
        socket_timeout = float(options.pop("socket_timeout", SOCKET_TIMEOUT))
        retry_after = float(options.pop("retry_after", RETRY_AFTER))
        if options:
            raise ValueError(
                f"lock_store has {', '.join(sorted(options))}, which is not allowed: "
                "use url, key_prefix, socket_timeout and retry_after."
            )
        if not endpoint_config.url:
            raise ValueError("lock_store needs a url like redis://127.0.0.1:6379/0.")
        if not _KEY_PREFIX.match(key_prefix):
            raise ValueError(f"lock_store key_prefix {key_prefix!r} is not allowed: use letters, digits, _ and -.")
        self.redis = RedisLink(endpoint_config.url, "conversation locks", socket_timeout, retry_after)
        self.key_prefix = key_prefix
        self.local = InMemoryLockStore()  # while Redis does not answer
        self._issue = self.redis.client.register_script(_ISSUE)
        self._live = self.redis.client.register_script(_LIVE)
        super().__init__()

    def _key(self, conversation_id: str) -> str:
        return f"{self.key_prefix}:lock:{conversation_id}"

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation for the block, after the tickets issued before this one (Rasa's
        `lock()`). This process's own lock is taken first, so that its turns stay in order also
        while Redis stops answering or comes back; then, unless Redis does not answer, the shared one."""
        async with self.local.lock(conversation_id, lock_lifetime, wait_time_in_seconds) as local:
            shared = await self._shared_lock(conversation_id, lock_lifetime, wait_time_in_seconds)
            if shared is None:
                yield local
                return
            ticket, held = shared
            try:
                yield held
            finally:
                self.cleanup(conversation_id, ticket)

    async def _shared_lock(
        self, conversation_id: str, lock_lifetime: float, wait_time_in_seconds: float
    ) -> tuple[int, TicketLock] | None:
        try:
            ticket = self.issue_ticket(conversation_id, lock_lifetime)
        except RedisDown:
            return None
        try:
            return ticket, await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        except RedisDown:
            return None  # the ticket cannot be released now; it expires after its lifetime
        except BaseException:
            # Not served (the request was cancelled while waiting, say): the turns after it must not wait for it.
            self.cleanup(conversation_id, ticket)
            raise

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """The next ticket for the conversation, valid for `lock_lifetime` seconds."""
        keys = [self._key(conversation_id), f"{self.key_prefix}:lock-ticket-counter"]
        lifetime_ms = max(1, round(lock_lifetime * 1000))
        return int(self.redis.call(lambda client: self._issue(keys=keys, args=[lifetime_ms], client=client)))

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """The conversation's live tickets in issue order, or None when there are none."""
        flat = self.redis.call(lambda client: self._live(keys=[self._key(conversation_id)], client=client))
        now = time.time()  # expiry on this server's clock: how long each ticket has left, from now
        tickets = sorted(
            (Ticket(int(number), now + int(left) / 1000) for number, left in zip(flat[::2], flat[1::2], strict=True)),
            key=lambda ticket: ticket.number,
        )
        return TicketLock(conversation_id, deque(tickets)) if tickets else None

    def update_lock(self, conversation_id: str) -> None:
        """Forget expired tickets (Rasa's version writes back a lock it read earlier)."""
        self.redis.call(lambda client: self._live(keys=[self._key(conversation_id)], client=client))

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Remove the ticket: one HDEL, which also removes the lock with its last ticket."""
        self.redis.call(lambda client: client.hdel(self._key(conversation_id), str(ticket_number)))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Release the ticket. Rasa's version then deletes the lock if nobody waits, which would
        delete a ticket issued in between; here the release alone leaves nothing behind."""
        with contextlib.suppress(RedisDown):  # then the ticket expires after its lifetime
            self.finish_serving(conversation_id, ticket_number)
