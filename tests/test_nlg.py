"""The response generator fills in the deployment's settings, built the way Rasa builds it."""

from __future__ import annotations

import pytest
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.content import DOMAIN_DIR


@pytest.fixture(scope="module")
def rasa_domain(domain) -> Domain:  # the `domain` fixture builds var/domain
    return Domain.load(str(DOMAIN_DIR))


def nlg_as_rasa_builds_it(rasa_domain: Domain) -> NaturalLanguageGenerator:
    """What rasa.core.agent does: the generator is made before the model is loaded, with no
    domain, and Agent.load_model hands it the model's responses afterwards."""
    nlg = NaturalLanguageGenerator.create(EndpointConfig(type="bot.nlg.DeploymentNLG"), None)
    nlg.responses = rasa_domain.responses  # type: ignore[attr-defined]
    return nlg


@pytest.mark.parametrize(
    ("school", "dsl", "expected"),
    [
        (
            "Oak Primary",
            "Ms Patel, room 4",
            "At Oak Primary, the Designated Safeguarding Lead (DSL) is Ms Patel, room 4.",
        ),
        ("Oak Primary", "", "Every school has a Designated Safeguarding Lead (DSL)."),
        ("", "", "Every school has a Designated Safeguarding Lead (DSL)."),
    ],
)
async def test_school_contact_comes_from_the_settings(monkeypatch, rasa_domain, school, dsl, expected):
    monkeypatch.setenv("TT_SCHOOL_NAME", school)
    monkeypatch.setenv("TT_DSL_CONTACT", dsl)
    tracker = DialogueStateTracker.from_events("staff", [], rasa_domain.slots)

    message = await nlg_as_rasa_builds_it(rasa_domain).generate("utter_school_contact", tracker, "rest")

    assert message is not None and message["text"].startswith(expected)
    assert "{" not in message["text"] and "}" not in message["text"]


@pytest.mark.parametrize(
    ("region", "nation", "expected"),
    [
        ("uk", "england", "Pass it to your Designated Safeguarding Lead (DSL) at once"),
        ("uk", "wales", "Pass it to your designated safeguarding person (DSP) at once"),
        ("uk", "northern_ireland", "Pass it to your Designated Teacher for Child Protection at once"),
        ("uk", "scotland", "Pass it to your Child Protection Coordinator at once"),
        ("ie", "england", "Pass it to your safeguarding lead at once"),
    ],
)
async def test_staff_are_told_the_lead_by_their_nations_title(monkeypatch, rasa_domain, region, nation, expected):
    monkeypatch.setenv("TT_REGION", region)
    monkeypatch.setenv("TT_NATION", nation)
    tracker = DialogueStateTracker.from_events("staff", [], rasa_domain.slots)

    message = await nlg_as_rasa_builds_it(rasa_domain).generate("utter_school_disclosure_dsl", tracker, "rest")

    assert message is not None and message["text"].startswith(expected)
    assert "{" not in message["text"]


async def test_other_responses_are_rasas_own(rasa_domain):
    tracker = DialogueStateTracker.from_events("parent", [], rasa_domain.slots)

    message = await nlg_as_rasa_builds_it(rasa_domain).generate("utter_danger_call_emergency", tracker, "rest")

    assert message is not None and message["text"].startswith("Call 999 now")


def user_in(region: str | None, rasa_domain: Domain) -> DialogueStateTracker:
    tracker = DialogueStateTracker.from_events("parent", [], rasa_domain.slots)
    if region:
        tracker.update(SlotSet("region", region))
    return tracker


@pytest.mark.parametrize(
    ("deployment", "slot", "number"),
    [("ie", None, "112 or 999"), ("uk", None, "999"), ("uk", "au", "000"), ("ie", "us", "911")],
)
async def test_an_unset_region_slot_means_the_deployments_region(monkeypatch, rasa_domain, deployment, slot, number):
    monkeypatch.setenv("TT_REGION", deployment)

    message = await nlg_as_rasa_builds_it(rasa_domain).generate(
        "utter_danger_call_emergency", user_in(slot, rasa_domain), "rest"
    )

    assert message is not None and message["text"].startswith(f"Call {number} now.")


async def test_the_retention_period_is_read_when_the_message_is_sent(monkeypatch, rasa_domain):
    monkeypatch.setenv("TT_RETENTION_DAYS", "45")

    message = await nlg_as_rasa_builds_it(rasa_domain).generate("utter_privacy", user_in(None, rasa_domain), "rest")

    assert message is not None and "for up to 45 days" in message["text"]
