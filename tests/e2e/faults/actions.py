"""An action server package whose "did you mean" fails with what the user typed in its error,
as a bug could: the error then travels to the Rasa server in the action server's answer."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


class FailingSuggestTopics(Action):
    def name(self) -> str:
        return "action_suggest_topics"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        said = [event.get("text") for event in tracker.events if event.get("event") == "user"]
        raise ValueError(f"no topics to suggest after {said}")
