"""The emergency line after a lowered danger guess, with the trained model: Rasa's own message
processor, rules, tracker and our response generator answer, over our REST and socket.io
channels. Only the parse data is forced, as the safety net will write it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.utils.endpoints import EndpointConfig

from bot.training import model_path
from tests.test_emergency_line import LINE, LOWERED, over_rest, over_socketio

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def agent() -> Agent:
    return Agent.load(model_path(), generator=EndpointConfig(type="bot.nlg.DeploymentNLG"))


def parsed_as(agent: Agent, intent: str, safety_net: dict | None) -> Callable[[UserMessage], Awaitable]:
    async def on_new_message(message: UserMessage) -> None:
        message.sender_id = str(uuid.uuid4())
        message.parse_data = {"intent": {"name": intent, "confidence": 0.9}, "entities": [], "text": message.text}
        if safety_net is not None:
            message.parse_data["safety_net"] = safety_net
        await agent.handle_message(message)

    return on_new_message


@pytest.mark.parametrize("send", [over_rest, over_socketio], ids=["rest", "socketio"])
@pytest.mark.parametrize("intent", ["ask_warning_signs", "ask_capabilities"])
async def test_a_lowered_danger_guess_gets_the_line_second_and_once(agent, send, intent):
    normal = [m["text"] for m in await send(parsed_as(agent, intent, None))]
    lowered = [m["text"] for m in await send(parsed_as(agent, intent, LOWERED))]

    assert LINE not in normal
    assert lowered == [normal[0], LINE, *normal[1:]]
