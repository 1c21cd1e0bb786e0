"""Actions for the triage conversation ("I'm worried about my child")."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

TRIAGE_SLOTS = ("triage_image_shared", "triage_threatened", "age_band", "requested_slot")


class ActionResetTriage(Action):
    """Forgets the triage answers so "start again" really starts again."""

    def name(self) -> str:
        return "action_reset_triage"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return [SlotSet(slot, None) for slot in TRIAGE_SLOTS]
