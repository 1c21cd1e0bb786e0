""" "Did you mean": for a message the assistant is unsure of, the topics it may have meant."""

from __future__ import annotations

from functools import cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.content import Content, load_content

MAX_SUGGESTIONS = 3


@cache
def _content() -> Content:
    return load_content()


def suggested_intents(ranking: list[dict[str, Any]], offered: dict[str, str]) -> list[str]:
    """The most likely intents that have a suggestion title, best first."""
    ordered = sorted(ranking, key=lambda r: -float(r.get("confidence") or 0.0))
    names = [r.get("name") for r in ordered if r.get("name") in offered]
    return [name for name in names if isinstance(name, str)][:MAX_SUGGESTIONS]


class ActionSuggestTopics(Action):
    """Offers up to three topics as buttons, from the classifier's ranking."""

    def name(self) -> str:
        return "action_suggest_topics"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        offered = _content().suggestions
        intents = suggested_intents(tracker.latest_message.get("intent_ranking") or [], offered)
        if intents:
            buttons = [{"title": offered[intent], "payload": f"/{intent}"} for intent in intents]
            dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
        return []
