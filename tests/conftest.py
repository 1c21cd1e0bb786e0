"""Fixtures shared by the action and bot tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.content import DOMAIN_DIR, build_domain
from bot.settings import load_settings


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The real domain, with the responses generated from content/."""
    build_domain(load_settings({"TT_REGION": "uk"}, env_file=Path("/nonexistent")))
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
