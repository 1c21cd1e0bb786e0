"""Turns that must not go without the emergency line get it, first or as the second message.

The turns run on our real REST and socket.io channels (bot/channels.py) as the server builds
them, with Rasa's own response actions, the response generator as Rasa builds it and a real
tracker; the only stand-in is the NLU, whose parse data each test chooses.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.actions.action import ActionBotResponse
from rasa.core.channels.channel import UserMessage
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.channels import input_channels
from bot.content import DOMAIN_DIR
from bot.server import make_guard
from bot.settings import load_settings

LINE = "If a child is in danger right now, call 999."
LOWERED = {"reason": "lowered", "intent": "report_danger"}  # what the safety net adds to the parse data


@pytest.fixture(scope="module")
def rasa_domain(domain) -> Domain:  # the `domain` fixture builds var/domain
    return Domain.load(str(DOMAIN_DIR))


class Conversation:
    """One user's conversation, answered the way Rasa's MessageProcessor answers a turn."""

    def __init__(self, rasa_domain: Domain, region: str | None = None) -> None:
        self.domain = rasa_domain
        self.tracker = DialogueStateTracker.from_events("parent", [], rasa_domain.slots)
        if region:
            self.tracker.update(SlotSet("region", region))
        self.nlg = NaturalLanguageGenerator.create(EndpointConfig(type="bot.nlg.DeploymentNLG"), None)
        self.nlg.responses = rasa_domain.responses  # type: ignore[attr-defined]  # as Agent.load_model does

    def turn(self, intent: str, responses: list[str], safety_net: dict | None) -> Callable[[UserMessage], Awaitable]:
        """Rasa's message handler for a message the NLU parses as `intent`, answered with `responses`."""

        async def on_new_message(message: UserMessage) -> None:
            parse_data: dict[str, Any] = {"intent": {"name": intent, "confidence": 0.6}, "entities": []}
            if safety_net is not None:
                parse_data["safety_net"] = safety_net
            self.tracker.update(UserUttered(message.text, parse_data["intent"], [], parse_data))
            for name in responses:
                events = await ActionBotResponse(name).run(message.output_channel, self.nlg, self.tracker, self.domain)
                await MessageProcessor._send_bot_messages(events, self.tracker, message.output_channel)
                self.tracker.update_with_events(events, self.domain)

        return on_new_message


async def over_rest(on_new_message: Callable[[UserMessage], Awaitable]) -> list[dict[str, Any]]:
    """The messages the REST channel answers one POST with."""
    rest = input_channels(["https://school.example"], make_guard(load_settings()))[0]
    blueprint = rest.blueprint(on_new_message)
    [receive] = [route.handler for route in blueprint._future_routes if route.uri == "/webhook"]
    request = SimpleNamespace(json={"sender": "parent", "message": "he said he would come round"}, args={})
    reply = await receive(request)
    return [{"text": m.get("text"), "buttons": m.get("buttons")} for m in json.loads(reply.body)]


async def over_socketio(on_new_message: Callable[[UserMessage], Awaitable]) -> list[dict[str, Any]]:
    """The messages the widget's socket.io channel emits for one message."""
    socket = input_channels(["https://school.example"], make_guard(load_settings()))[1]
    socket.blueprint(on_new_message)
    emitted: list[dict[str, Any]] = []

    async def emit(event: str, data: dict[str, Any], room: str | None = None) -> None:
        emitted.append(data)

    socket.sio.emit = emit  # type: ignore[attr-defined]
    handler = socket.sio.handlers["/"]["user_uttered"]  # type: ignore[attr-defined]
    await handler("sid", {"message": "he said he would come round", "session_id": "parent"})
    return [{"text": m.get("text"), "buttons": m.get("quick_replies")} for m in emitted]


CHANNELS = pytest.mark.parametrize("send", [over_rest, over_socketio], ids=["rest", "socketio"])
SIGNS = ["utter_signs_intro", "utter_signs_behaviour", "utter_signs_contacts"]


@CHANNELS
async def test_the_line_is_the_second_message_and_comes_once(rasa_domain, send):
    chat = Conversation(rasa_domain)

    reply = await send(chat.turn("ask_warning_signs", SIGNS, LOWERED))

    texts = [m["text"] for m in reply]
    assert texts[0] == rasa_domain.responses["utter_signs_intro"][0]["text"], "the first message is the answer"
    assert texts[1] == LINE
    assert texts.count(LINE) == 1
    assert len(texts) == len(SIGNS) + 1
    assert reply[1]["buttons"], "the line keeps its buttons"


@CHANNELS
async def test_a_one_message_answer_still_gets_the_line_second(rasa_domain, send):
    chat = Conversation(rasa_domain)

    reply = await send(chat.turn("ask_capabilities", ["utter_capabilities"], LOWERED))

    assert [m["text"] for m in reply][1:] == [LINE]
    assert reply[0]["text"].startswith("I can help you talk with a child")


@CHANNELS
async def test_a_rule_that_sends_the_line_too_shows_it_once(rasa_domain, send):
    chat = Conversation(rasa_domain)

    reply = await send(chat.turn("nlu_fallback", ["utter_fallback", "utter_emergency_reminder"], LOWERED))

    assert [m["text"] for m in reply] == [rasa_domain.responses["utter_fallback"][0]["text"], LINE]


@CHANNELS
@pytest.mark.parametrize(("deployment", "slot", "number"), [("ie", None, "112 or 999"), ("uk", "au", "000")])
async def test_the_line_is_for_the_conversations_region(monkeypatch, rasa_domain, send, deployment, slot, number):
    monkeypatch.setenv("TT_REGION", deployment)
    chat = Conversation(rasa_domain, region=slot)

    reply = await send(chat.turn("ask_capabilities", ["utter_capabilities"], LOWERED))

    assert reply[1]["text"] == f"If a child is in danger right now, call {number}."


@CHANNELS
@pytest.mark.parametrize("safety_net", [None, {"reason": "classifier"}], ids=["no verdict", "another reason"])
async def test_other_turns_get_no_line(rasa_domain, send, safety_net):
    chat = Conversation(rasa_domain)

    reply = await send(chat.turn("ask_warning_signs", SIGNS, safety_net))

    assert LINE not in [m["text"] for m in reply]


async def test_only_the_lowered_turn_gets_the_line(rasa_domain):
    chat = Conversation(rasa_domain)

    first = await over_rest(chat.turn("ask_capabilities", ["utter_capabilities"], LOWERED))
    second = await over_rest(chat.turn("ask_capabilities", ["utter_capabilities"], None))

    assert [m["text"] for m in first][1:] == [LINE]
    assert len(second) == 1


async def test_the_conversation_store_records_the_line_with_the_first_message(rasa_domain):
    chat = Conversation(rasa_domain)

    await over_rest(chat.turn("ask_capabilities", ["utter_capabilities"], LOWERED))

    [answer] = [e for e in chat.tracker.events if isinstance(e, BotUttered)]
    assert answer.metadata["emergency_line_next"]["text"] == LINE


SELF_HARM_LINE = "If anyone's life is at risk right now, call 999. You can also call Samaritans on 116 123"


@CHANNELS
async def test_after_self_harm_is_mentioned_every_later_turn_keeps_999_and_the_crisis_lines(rasa_domain, send):
    chat = Conversation(rasa_domain)
    chat.tracker.update(SlotSet("concern", "self_harm"))  # as the safety net's `concern` entity sets it

    reply = await send(chat.turn("ask_about_secrecy", ["utter_followup_secrecy"], None))

    texts = [m["text"] for m in reply]
    assert len(texts) == 2 and texts[1].startswith(SELF_HARM_LINE)
    assert texts[0] == rasa_domain.responses["utter_followup_secrecy"][0]["text"] or "secret" in texts[0]


async def test_a_young_person_who_mentioned_self_harm_gets_their_own_line(rasa_domain):
    chat = Conversation(rasa_domain)
    chat.tracker.update(SlotSet("concern", "self_harm"))
    chat.tracker.update(SlotSet("audience", "child"))

    reply = await over_rest(chat.turn("say_thanks", ["utter_thanks"], None))

    assert reply[-1]["text"].startswith("If you feel like hurting yourself, call 999 now")
    assert "Childline" in reply[-1]["text"]


async def test_the_danger_reply_already_names_the_crisis_lines_so_it_gets_no_line(rasa_domain):
    chat = Conversation(rasa_domain)
    chat.tracker.update(SlotSet("concern", "self_harm"))
    danger = ["utter_danger_call_emergency", "utter_danger_while_waiting", "utter_danger_not_to_blame"]

    reply = await over_rest(chat.turn("report_danger", danger, None))

    texts = [m["text"] for m in reply]
    assert len(texts) == len(danger)
    assert "Samaritans on 116 123" in texts[1]


async def test_without_self_harm_mentioned_a_calm_turn_gets_no_line(rasa_domain):
    chat = Conversation(rasa_domain)

    reply = await over_rest(chat.turn("ask_about_secrecy", ["utter_followup_secrecy"], None))

    assert len(reply) == 1


@CHANNELS
async def test_a_follow_up_to_the_danger_reply_leads_with_the_line(rasa_domain, send):
    chat = Conversation(rasa_domain)
    chat.tracker.update(SlotSet("topic", "danger"))  # the last guidance was the danger reply

    reply = await send(chat.turn("ask_about_secrecy", ["utter_followup_secrecy"], None))

    texts = [m["text"] for m in reply]
    assert texts[0] == LINE, "999 before anything else while a child may still be in danger"
    assert len(texts) == 2 and "secret" in texts[1]


async def test_a_follow_up_to_the_danger_reply_after_self_harm_leads_with_the_crisis_line_once(rasa_domain):
    chat = Conversation(rasa_domain)
    chat.tracker.update(SlotSet("topic", "danger"))
    chat.tracker.update(SlotSet("concern", "self_harm"))

    reply = await over_rest(chat.turn("ask_if_my_fault", ["utter_followup_my_fault"], None))

    texts = [m["text"] for m in reply]
    assert texts[0].startswith(SELF_HARM_LINE)
    assert len(texts) == 2 and not any(t.startswith(SELF_HARM_LINE) for t in texts[1:])


async def test_a_danger_follow_up_that_names_999_itself_gets_no_line(rasa_domain):
    chat = Conversation(rasa_domain)
    chat.tracker.update(SlotSet("topic", "danger"))

    reply = await over_rest(chat.turn("ask_next_steps", ["utter_followup_next_steps"], None))

    assert len(reply) == 1, "no line before or after it"
    assert reply[0]["text"].startswith("If the child is still in danger, call 999 now.")
