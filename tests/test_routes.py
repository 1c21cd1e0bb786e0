"""Safety properties of the rules: who is told first, and that the child is never blamed."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import pytest
import yaml
from rasa.shared.core.constants import DEFAULT_ACTION_NAMES

from bot.content import AGE_SLOT, AGE_SLOT_VALUES, WHEN_UNSET_SUFFIX, load_content
from bot.settings import PROJECT_DIR, REGIONS

CONTENT = load_content()
CUSTOM_ACTIONS = set(yaml.safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))["actions"])
# Written out here rather than read from content/resources.yml, so a wrong number there fails too.
EMERGENCY_NUMBERS = {"uk": "999", "ie": "112 or 999", "us": "911", "ca": "911", "au": "000"}
HARMED_CHILD_INTENTS = [
    "report_danger",
    "report_shared_image",
    "express_anger_at_child",
    "report_sextortion",
    # a parent's worry: includes an adult online asking the child for pictures
    "report_worrying_behaviour",
    "disclose_as_child",
    "ask_school_disclosure",
    "ask_how_to_respond_to_disclosure",
]
NOT_TO_BLAME = re.compile(
    r"not to blame|not (your|their|his|her|your child's|the child's) fault|never the child's fault"
)


def _static(action: str) -> bool:
    """Answered by the Rasa server itself: a response in content/, or a built-in action we do not override."""
    if action.startswith("utter_"):
        return action.removeprefix("utter_") in CONTENT.items
    return action in DEFAULT_ACTION_NAMES and action not in CUSTOM_ACTIONS


def _flows() -> Iterator[tuple[str, dict]]:
    for path in sorted((PROJECT_DIR / "data").rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for flow in [*data.get("rules", []), *data.get("stories", [])]:
            yield flow.get("rule") or flow.get("story"), flow


def _user_steps(step: dict) -> list[dict]:
    """What the user may say at `step`: the step itself, or its `or` alternatives; none for a bot step."""
    return [said for said in step.get("or", [step]) if "intent" in said or "user" in said]


def _ends_the_reply(step: dict) -> bool:
    return bool(_user_steps(step)) or "checkpoint" in step or step.get("action") == "action_listen"


def _replies_to(intent: str) -> Iterator[tuple[str, list[str]]]:
    """For every rule or story step where the user shows `intent`: the actions that answer it.

    The reply runs to the next user turn; loop and slot steps in between are not replies.
    """
    for name, flow in _flows():
        steps = flow["steps"]
        for index, step in enumerate(steps):
            if any(said.get("intent") == intent for said in _user_steps(step)):
                actions = []
                for following in steps[index + 1 :]:
                    if _ends_the_reply(following):
                        break
                    if "action" in following:
                        actions.append(following["action"])
                yield name, actions


def _answers_to(intent: str) -> list[tuple[str, list[str]]]:
    """`_replies_to`, failing when no rule or story answers `intent` or a reply says nothing."""
    replies = list(_replies_to(intent))
    assert replies, f"no rule or story answers {intent}"
    for name, actions in replies:
        assert actions, f"{name}: {intent} gets no reply"
    return replies


def _texts(key: str, region: str) -> list[str]:
    """Every text item `key` can send in `region`: for any age, for each age band, and when settings are unset."""
    item = CONTENT.items[key]
    texts = [CONTENT.render(key, region), *(CONTENT.fill(text, region, key) for text in item.by_age.values())]
    if key + WHEN_UNSET_SUFFIX in CONTENT.items:
        texts += _texts(key + WHEN_UNSET_SUFFIX, region)
    return texts


@pytest.mark.parametrize("intent", HARMED_CHILD_INTENTS)
def test_every_reply_about_a_harmed_child_says_they_are_not_to_blame(intent):
    for name, actions in _answers_to(intent):
        keys = [a.removeprefix("utter_") for a in actions if a.startswith("utter_")]
        assert any(
            CONTENT.items[key].not_to_blame and all(NOT_TO_BLAME.search(text) for text in _texts(key, "uk"))
            for key in keys
        ), f"{name}: no reply says, for every age, that the child is not to blame"


def test_danger_is_answered_with_the_emergency_number_first_and_statically():
    assert set(EMERGENCY_NUMBERS) == set(REGIONS), "every region needs its emergency number here"
    for name, actions in _answers_to("report_danger"):
        assert actions[0] == "utter_danger_call_emergency", name
        assert [a for a in actions if not _static(a)] == [], f"{name}: needs the action server"
    for region, number in EMERGENCY_NUMBERS.items():
        for text in _texts("danger_call_emergency", region):
            assert text.startswith(f"Call {number} now"), f"{region}: {text!r}"


def test_imagery_is_answered_with_the_report_page_and_statically():
    for name, actions in _answers_to("report_imagery"):
        assert actions[0] == "utter_imagery_report", name
        assert [a for a in actions if not _static(a)] == [], f"{name}: needs the action server"
    for region in REGIONS:
        address = CONTENT.resources["imagery_report"].values[region]
        for text in _texts("imagery_report", region):
            assert address in text, f"{region}: {text!r} does not give {address}"
    for text in _texts("imagery_report", "uk"):  # the IWF's report page, written out like the numbers above
        assert text.count("iwf.org.uk/report") == 1, f"uk: {text!r}"


def test_no_rule_depends_on_the_start_of_the_conversation():
    # The tracker store reads a window of recent turns, so the start may not be in view.
    flows = list(_flows())
    assert flows, "no rules or stories found in data/"
    assert not [name for name, flow in flows if flow.get("conversation_start")]


# The topics of a conversation about a child who was groomed, tricked, pressured, threatened or
# whose image was shared, and who may be asking: every follow-up says the child is not to blame.
HARMED_CHILD_TOPICS = ["sextortion", "shared_image", "ai_images", "child", "disclosure"]
ASKERS = [None, "parent", "carer", "school_staff", "child"]


@pytest.mark.parametrize("key", sorted(k for k in CONTENT.items if k.startswith("followup_")))
def test_every_follow_up_about_a_harmed_child_says_they_are_not_to_blame(key):
    item = CONTENT.items[key]
    for topic, audience, age in itertools.product(HARMED_CHILD_TOPICS, ASKERS, (None, *AGE_SLOT_VALUES)):
        slots = {"topic": topic, "audience": audience, AGE_SLOT: age}
        text = CONTENT.fill(item.variant_for(slots).text, "uk", key)
        assert NOT_TO_BLAME.search(text), (slots, text)
