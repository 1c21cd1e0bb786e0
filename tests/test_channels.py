"""The id a client gives its message (bot/channels.py), which lets a message sent twice be stored once."""

from __future__ import annotations

import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels import keep_client_message_id


def test_a_well_formed_client_id_becomes_the_turns_message_id():
    message = UserMessage("hello", sender_id="s", metadata={"message_id": "3f2c9a1b7d5e4c6a8b0f1e2d3c4b5a69"})
    keep_client_message_id(message)
    assert message.message_id == "3f2c9a1b7d5e4c6a8b0f1e2d3c4b5a69"


@pytest.mark.parametrize(
    "metadata",
    [None, {}, {"message_id": 42}, {"message_id": "short"}, {"message_id": "x" * 65}, {"message_id": "a b c d e"}],
)
def test_without_a_well_formed_client_id_rasa_chooses_one(metadata):
    message = UserMessage("hello", sender_id="s", metadata=metadata)
    chosen = message.message_id
    keep_client_message_id(message)
    assert message.message_id == chosen and len(chosen) == 32
