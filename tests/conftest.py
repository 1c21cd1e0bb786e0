"""Fixtures shared by the action and bot tests."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.content import DOMAIN_DIR, build_domain
from bot.tracker_store import postgres_problem

POSTGRES_URL = os.environ.get("TT_TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/test"
# .ci/run sets it: on CI a PostgreSQL that does not answer fails the tests instead of skipping them.
POSTGRES_REQUIRED = os.environ.get("TT_REQUIRE_POSTGRES", "") not in ("", "0")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL server that answers. Without one the test is skipped, or fails under TT_REQUIRE_POSTGRES."""
    problem = postgres_problem(POSTGRES_URL)
    if problem is not None:
        where = sa.engine.make_url(POSTGRES_URL)
        reason = (
            f"PostgreSQL is not answering on {where.host}:{where.port or 5432} (TT_TEST_POSTGRES_URL); "
            f"CI requires it ({problem})"
        )
        if POSTGRES_REQUIRED:
            pytest.fail(f"{reason}; TT_REQUIRE_POSTGRES is set", pytrace=False)
        pytest.skip(reason)
    return POSTGRES_URL


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The real domain, with the responses generated from content/."""
    build_domain()
    return Domain.load(str(DOMAIN_DIR)).as_dict()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def tracker_for() -> Callable[..., Tracker]:
    """Build an SDK tracker from a small scenario: the user's text, intent and slots."""

    def build(text: str = "", intent: str = "", slots: dict[str, Any] | None = None) -> Tracker:
        latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []}
        return Tracker(
            sender_id="test-user",
            slots=slots or {},
            latest_message=latest,
            events=[{"event": "user", "text": text, "parse_data": latest}],
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name="action_listen",
        )

    return build
