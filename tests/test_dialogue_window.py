"""The tracker store's window must cover every rule and story: the policies see only the window."""

from __future__ import annotations

import yaml

from bot.settings import PROJECT_DIR
from bot.tracker_store import DEFAULT_WINDOW_TURNS


def _user_turns(steps: list[dict]) -> int:
    return sum(1 for step in steps if "intent" in step or "user" in step or "or" in step)


def test_no_rule_or_story_spans_more_user_turns_than_the_window():
    longest = {}
    for path in sorted((PROJECT_DIR / "data").rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for flow in [*data.get("rules", []), *data.get("stories", [])]:
            longest[flow.get("rule") or flow.get("story")] = _user_turns(flow["steps"])
    assert longest, "no rules or stories found"
    name, turns = max(longest.items(), key=lambda kv: kv[1])
    assert turns < DEFAULT_WINDOW_TURNS, f"{name!r} spans {turns} user turns"
