"""A lock store that fails for conversations whose id starts with FAILING_SENDER_PREFIX.

Rasa takes the conversation's lock outside every try of its own, so this failure reaches the
REST channel's except-branch, which logs the message (a failing tracker store would not: Rasa
falls back to an in-memory store, and it catches a failing action itself).
"""

from __future__ import annotations

from typing import Any

from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore

FAILING_SENDER_PREFIX = "fail-"


class FailingLockStore(InMemoryLockStore):
    def __init__(self, **_endpoint_config: Any) -> None:
        super().__init__()

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        if conversation_id.startswith(FAILING_SENDER_PREFIX):
            raise ConnectionError(f"the lock store is down for {conversation_id}")
        return super().issue_ticket(conversation_id, lock_lifetime)
