"""The school's details are filled in by the Rasa server from the settings, with no action server."""

from __future__ import annotations

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.content import DOMAIN_DIR
from bot.nlg import DeploymentNLG


@pytest.fixture(scope="module")
def rasa_domain(domain) -> Domain:  # the `domain` fixture builds var/domain
    return Domain.load(str(DOMAIN_DIR))


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

    message = await DeploymentNLG(domain=rasa_domain).generate("utter_school_contact", tracker, "rest")

    assert message is not None and message["text"].startswith(expected)
    assert "{" not in message["text"]


async def test_other_responses_are_rasas_own(rasa_domain):
    tracker = DialogueStateTracker.from_events("parent", [], rasa_domain.slots)

    message = await DeploymentNLG(domain=rasa_domain).generate("utter_danger_call_emergency", tracker, "rest")

    assert message is not None and message["text"].startswith("Call 999 now")
