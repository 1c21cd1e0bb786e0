"""Safety properties of the rules: who is told first, and that the child is never blamed."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import yaml
from rasa.shared.core.constants import DEFAULT_ACTION_NAMES

from bot.content import load_content
from bot.settings import PROJECT_DIR

CONTENT = load_content()
HARMED_CHILD_INTENTS = [
    "report_danger",
    "report_shared_image",
    "express_anger_at_child",
    "report_sextortion",
    "disclose_as_child",
    "ask_school_disclosure",
    "ask_how_to_respond_to_disclosure",
]
NOT_TO_BLAME = re.compile(
    r"not to blame|not (your|their|his|her|your child's|the child's) fault|never the child's fault"
)


def _static(action: str) -> bool:
    """Answered by the Rasa server itself: a response or one of Rasa's built-in actions."""
    return action.startswith("utter_") or action in DEFAULT_ACTION_NAMES


def _flows() -> Iterator[tuple[str, list[dict]]]:
    for path in sorted((PROJECT_DIR / "data").rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for flow in [*data.get("rules", []), *data.get("stories", [])]:
            yield flow.get("rule") or flow.get("story"), flow


def _replies_to(intent: str) -> Iterator[tuple[str, list[str]]]:
    """For every rule or story step where the user shows `intent`: the actions that answer it."""
    for name, flow in _flows():
        steps = flow["steps"]
        for index, step in enumerate(steps):
            if step.get("intent") == intent:
                actions = []
                for following in steps[index + 1 :]:
                    if "action" not in following:
                        break
                    actions.append(following["action"])
                yield name, actions


@pytest.mark.parametrize("intent", HARMED_CHILD_INTENTS)
def test_every_reply_about_a_harmed_child_says_they_are_not_to_blame(intent):
    replies = list(_replies_to(intent))
    assert replies, f"no rule answers {intent}"
    for name, actions in replies:
        items = [CONTENT.items[a.removeprefix("utter_")] for a in actions if a.startswith("utter_")]
        assert any(item.not_to_blame and NOT_TO_BLAME.search(item.text) for item in items), name


def test_danger_is_answered_with_the_emergency_number_first_and_statically():
    for name, actions in _replies_to("report_danger"):
        assert actions[0] == "utter_danger_call_emergency", name
        assert all(a.startswith("utter_") or a in DEFAULT_ACTION_NAMES for a in actions), (
            f"{name}: needs the action server"
        )
    assert CONTENT.items["danger_call_emergency"].text.startswith("Call {{emergency}} now")


def test_imagery_is_answered_with_the_report_page_and_statically():
    for name, actions in _replies_to("report_imagery"):
        assert actions[0] == "utter_imagery_report", name
        assert all(_static(a) for a in actions), name
    assert "{{imagery_report}}" in CONTENT.items["imagery_report"].text
    assert CONTENT.render("imagery_report", "uk").count("iwf.org.uk/report") == 1


def test_no_rule_depends_on_the_start_of_the_conversation():
    # The tracker store reads a window of recent turns, so the start may not be in view.
    assert not [name for name, flow in _flows() if flow.get("conversation_start")]
