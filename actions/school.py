"""Actions for school staff."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.settings import load_settings


class ActionGiveSchoolContact(Action):
    """Name the school's Designated Safeguarding Lead when the deployment configures one."""

    def name(self) -> str:
        return "action_give_school_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = load_settings()
        if settings.school_name and settings.dsl_contact:
            dispatcher.utter_message(
                response="utter_school_contact_configured",
                school_name=settings.school_name,
                dsl_contact=settings.dsl_contact,
            )
        else:
            dispatcher.utter_message(response="utter_school_contact_unknown")
        return []
