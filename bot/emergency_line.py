"""The emergency line in a turn that must not go without it: first, or as the second message.

In a conversation whose last guidance was the danger reply (the `topic` slot is `danger`), a
follow-up ("im 14 wat do i do", "will she be in trouble") is answered with the line first: while
a child may still be in danger, 999 comes before anything else. A reply that says to call 999
itself (the `topic: danger` variants, the "not understood" reply) needs no line first.

Two other kinds of turn have it as the second message:

- the safety net lowered an unsure danger guess: the user's parse data carries
  `"safety_net": {"reason": "lowered", ...}` (bot/nlu/safety_net.py);
- self-harm or suicide was mentioned earlier in the conversation (the `concern` slot): every
  later turn, whatever it is about ("she asked me not to tell"), keeps 999 and the crisis lines
  in view. A reply that names the crisis lines itself (an item marked `crisis_reply` opens it:
  the danger reply, the self-harm reply) is not followed by the line.

The answer stays the normal one, but the emergency line, the content item `emergency_reminder`
for the conversation's region (its self-harm variant names the crisis lines), goes before or
after the turn's first message, exactly once, even when the answer is a single message:

- The response generator (bot/nlg.py) gives the turn's first response an extra key,
  `emergency_line_first` or `emergency_line_next` (`Placement`), holding the line as a message
  (`{"text": ..., "buttons": [...]}`). Rasa keeps the key in the BotUttered's metadata, so the
  conversation store records that the line was sent, and passes it to the output channel.
- `EmergencyLineOutput`, around the output channel of both the REST and the socket.io channel
  (bot/channels.py), sends the line right before or after that message; if a rule sends the
  line again later in the turn, that copy is not sent.

Only our channels send the line: Rasa's own (`rasa shell`, the HTTP API's) ignore the key. A
message a custom action sends as plain text, not as a response, goes past the generator; if it
is the turn's first, the line does not follow it.
"""

from __future__ import annotations

import functools
from enum import StrEnum
from typing import Any

from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.content import load_content
from bot.nlu.safety_net import SAFETY_NET_KEY, Reason

EMERGENCY_LINE_RESPONSE = "utter_emergency_reminder"
CONCERN_SLOT, SELF_HARM = "concern", "self_harm"
TOPIC_SLOT, DANGER = "topic", "danger"


class Placement(StrEnum):
    """Where the line goes, as the key of the first response that carries it."""

    FIRST = "emergency_line_first"
    NEXT = "emergency_line_next"


@functools.cache
def crisis_replies() -> frozenset[str]:
    """Responses that open a reply naming the crisis lines itself (`crisis_reply` in content/)."""
    return frozenset(item.response_name for item in load_content().items.values() if item.crisis_reply)


def danger_guess_lowered(tracker: DialogueStateTracker) -> bool:
    """Whether the safety net lowered an unsure danger guess for the latest user message."""
    verdict = tracker.latest_message.parse_data.get(SAFETY_NET_KEY) if tracker.latest_message else None
    return isinstance(verdict, dict) and verdict.get("reason") == Reason.LOWERED


def self_harm_mentioned(tracker: DialogueStateTracker) -> bool:
    """Whether self-harm or suicide was mentioned in this conversation, by anyone, at any point."""
    return tracker.get_slot(CONCERN_SLOT) == SELF_HARM


def first_response_of_turn(tracker: DialogueStateTracker) -> bool:
    """Whether no bot message has been sent since the latest user message."""
    for event in reversed(tracker.events):
        if isinstance(event, BotUttered):
            return False
        if isinstance(event, UserUttered):
            return True
    return False  # no user message: a session start or a reminder, not a turn


@functools.cache
def emergency_numbers() -> dict[str, str]:
    """The emergency number shown in each region (the resource registry's `emergency`)."""
    return dict(load_content().resources["emergency"].values)


def names_emergency(text: str | None, region: str | None) -> bool:
    """Whether a message already names the region's emergency number ("call 999")."""
    shown = emergency_numbers().get(region or "")
    return bool(text and shown and f"call {shown}" in text.lower())


def emergency_line_placement(utter_action: str, tracker: DialogueStateTracker, names_999: bool) -> Placement | None:
    """Where the emergency line goes around `utter_action`'s message, if this turn needs it.

    `names_999`: the message (the variation chosen for the conversation) already says to call
    the emergency number, as the danger reply and every `topic: danger` variant do.
    """
    if utter_action == EMERGENCY_LINE_RESPONSE or not first_response_of_turn(tracker):
        return None  # the line itself, first: sending it again would repeat it
    if danger_guess_lowered(tracker):
        return Placement.NEXT
    if utter_action in crisis_replies():
        return None
    if tracker.get_slot(TOPIC_SLOT) == DANGER and not names_999:
        return Placement.FIRST
    return Placement.NEXT if self_harm_mentioned(tracker) else None


class EmergencyLineOutput(OutputChannel):
    """Passes every message of one turn on, and the emergency line after the message marked for it."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.line_sent = False

    def name(self) -> str:  # the channel it wraps: Rasa picks channel-specific responses by it
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        first = message.pop(Placement.FIRST, None)
        line = message.pop(Placement.NEXT, None)
        if self.line_sent and message.get("utter_action") == EMERGENCY_LINE_RESPONSE:
            return  # the rule's own copy: the line was sent already
        if first and not self.line_sent:
            self.line_sent = True
            await self.inner.send_response(recipient_id, dict(first))
        await self.inner.send_response(recipient_id, message)
        if line and not self.line_sent:
            self.line_sent = True
            await self.inner.send_response(recipient_id, dict(line))
