"""Responses that show the school's own details, filled in by the Rasa server itself.

A response may name a deployment setting in single braces, `{school_name}` or `{dsl_contact}`;
the settings fill it in when the message is sent, so a school sets its Designated Safeguarding
Lead in `.env` without retraining and without a call to the action server. Where a setting the
response names is not set, the item's `when_unset` text is sent instead
(`utter_<key>_when_unset`, written by bot/content.py).
"""

from __future__ import annotations

from typing import Any

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.content import RUNTIME_SETTINGS, WHEN_UNSET_SUFFIX, runtime_settings_named
from bot.settings import Settings, load_settings


def runtime_values(settings: Settings) -> dict[str, str]:
    """The runtime settings this deployment sets."""
    return {name: value for name in RUNTIME_SETTINGS if (value := getattr(settings, name))}


class DeploymentNLG(TemplatedNaturalLanguageGenerator):
    """Rasa's response generator, with the deployment's settings as response variables."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, domain: Domain | None = None) -> None:
        super().__init__((domain or Domain.empty()).responses)
        self.values = runtime_values(load_settings())
        # Decided once: which responses name a setting this deployment leaves unset.
        self.instead = {
            name: name + WHEN_UNSET_SUFFIX
            for name, variations in self.responses.items()
            if name + WHEN_UNSET_SUFFIX in self.responses
            and any(runtime_settings_named(v.get("text") or "") - set(self.values) for v in variations)
        }

    async def generate(
        self, utter_action: str, tracker: DialogueStateTracker, output_channel: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        utter_action = self.instead.get(utter_action, utter_action)
        return await super().generate(utter_action, tracker, output_channel, **{**self.values, **kwargs})
