"""What every reply of the running assistant must satisfy, whichever helper sent the message."""

from __future__ import annotations

from typing import Any


def has_placeholder(shown: str) -> bool:
    """A brace in what the user sees is a setting or resource that was not filled in."""
    return "{" in shown or "}" in shown


def assert_no_placeholder(reply: list[dict[str, Any]]) -> None:
    """Fail the test if any reply text or button title still holds a placeholder."""
    shown = [m.get("text") or "" for m in reply]
    shown += [b.get("title") or "" for m in reply for b in m.get("buttons") or []]
    unfilled = [text for text in shown if has_placeholder(text)]
    assert not unfilled, f"placeholders reached the user: {unfilled}"
