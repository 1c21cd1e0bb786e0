"""Responses filled in from the deployment's settings, or its school's, by the Rasa server itself.

The domain holds every region's text and names the settings in single braces, `{school_name}`,
`{dsl_contact}`, `{retention_days}` (bot/content.py), so one model serves every deployment and
a setting changed in `.env` needs no retraining and no call to the action server:

- of the variations whose conditions all hold, the most specific is sent, not one at random
  (bot/content.py `specificity`: who is talking, then the topic, then the age, then the region);
- an unset `region` slot means the deployment's region (TT_REGION) when the variation is
  picked; someone who said where they are ("I'm in Ireland") gets that country's numbers;
- the settings fill their placeholders when the message is sent;
- where a setting the response names is not set, the item's `when_unset` text is sent instead
  (`utter_<key>_when_unset`);
- with a school registry (bot/schools.py), a conversation of a school's pages (its id starts
  with the school's id) gets that school's region, name, lead, contact and retention period,
  and the `when_unset` texts for what that school does not set; any other conversation the
  deployment's;
- the first response of a turn that must not go without the emergency line carries it, for the
  channel to send first or next (bot/emergency_line.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.nlg.generator import ResponseVariationFilter
from rasa.shared.constants import RESPONSE_CONDITION
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.content import REGION_SLOT, RUNTIME_SETTINGS, WHEN_UNSET_SUFFIX, runtime_settings_named, specificity
from bot.emergency_line import EMERGENCY_LINE_RESPONSE, emergency_line_placement, names_emergency
from bot.schools import School, load_registry
from bot.settings import Settings, load_settings

Responses = dict[str, list[dict[str, Any]]]


def runtime_values(settings: Settings) -> dict[str, str]:
    """The runtime settings this deployment sets, as they are shown."""
    return {name: str(value) for name in RUNTIME_SETTINGS if (value := getattr(settings, name))}


def school_values(school: School, retention_days: int) -> dict[str, str]:
    """The runtime settings of one school of a registry, as they are shown; `retention_days` is
    the deployment's, for a school that sets none."""
    values = {
        "school_name": school.name,
        "retention_days": str(school.retention_days or retention_days),
        "safeguarding_lead": school.lead_title,
        "lead": school.lead_short,
    }
    return {**values, "dsl_contact": school.dsl_contact} if school.dsl_contact else values


@dataclass(frozen=True)
class Filling:
    """What one school's replies (or the deployment's) are sent with."""

    region: str
    values: dict[str, str]
    shown: frozenset[str] = field(init=False)  # the settings that are set, which decide the stand-ins

    def __post_init__(self) -> None:
        object.__setattr__(self, "shown", frozenset(self.values))


class DeploymentNLG(TemplatedNaturalLanguageGenerator):
    """Rasa's response generator, with the deployment's region and settings, or the school's."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, domain: Domain | None = None) -> None:
        settings = load_settings()
        self.deployment = Filling(settings.region, runtime_values(settings))
        self.registry = load_registry(settings.schools_file) if settings.schools_file else None
        self.schools = {s.id: Filling(s.region, school_values(s, settings.retention_days)) for s in self.registry or ()}
        super().__init__((domain or Domain.empty()).responses)

    @property
    def responses(self) -> Responses:
        return self._responses

    @responses.setter
    def responses(self, responses: Responses) -> None:
        # Rasa creates the generator before it loads the model, with no responses, and sets
        # them here once the model is loaded (Agent.load_model): the stand-ins are decided anew.
        self._responses = responses
        self._stand_ins: dict[frozenset[str], dict[str, str]] = {}

    def stand_ins(self, shown: frozenset[str]) -> dict[str, str]:
        """Response -> its when_unset response, for those naming a setting not in `shown`. Worked
        out once for each set of settings that are set (a few, however many schools), not per message."""
        if shown not in self._stand_ins:
            self._stand_ins[shown] = {
                name: name + WHEN_UNSET_SUFFIX
                for name, variations in self.responses.items()
                if name + WHEN_UNSET_SUFFIX in self.responses
                and any(runtime_settings_named(v.get("text") or "") - shown for v in variations)
            }
        return self._stand_ins[shown]

    def filling_for(self, conversation: str) -> Filling:
        """The school's filling for a conversation of its pages; the deployment's for any other."""
        school = self.registry.of_conversation(conversation) if self.registry else None
        return self.schools[school.id] if school else self.deployment

    def _random_response_for(
        self, utter_action: str, output_channel: str, filled_slots: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Not at random: the most specific variation whose conditions hold (the first of equals)."""
        holding = [
            v
            for v in self.responses.get(utter_action, [])
            if ResponseVariationFilter._matches_filled_slots(filled_slots, v)
        ]
        return max(holding, key=_specificity, default=None)

    async def generate(
        self, utter_action: str, tracker: DialogueStateTracker, output_channel: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        filling = self.filling_for(tracker.sender_id)
        slots = tracker.current_slot_values()
        slots[REGION_SLOT] = slots.get(REGION_SLOT) or filling.region
        variables = {**filling.values, **kwargs}
        message = self.generate_from_slots(
            self.stand_ins(filling.shown).get(utter_action, utter_action), slots, output_channel, **variables
        )
        if message is None:
            return None
        names_999 = names_emergency(message.get("text"), slots[REGION_SLOT])
        if placement := emergency_line_placement(utter_action, tracker, names_999):
            line = self.generate_from_slots(EMERGENCY_LINE_RESPONSE, slots, output_channel, **variables)
            if line is not None:
                line.pop(RESPONSE_CONDITION, None)  # which variation it was is no part of the message
                message[placement.value] = line
        return message


def _specificity(variation: dict[str, Any]) -> tuple[int, int]:
    return specificity((c.get("name"), c.get("value")) for c in variation.get(RESPONSE_CONDITION) or [])
