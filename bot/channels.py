"""Input channels: Rasa's REST channel, and socket.io for the widget, open only to allowed origins.

Rasa's socket.io channel accepts any web page (it disables python-socketio's origin check,
because Sanic-CORS already adds CORS headers and two sets would break browsers). This one
refuses the connection when a browser says it comes from an origin not in TT_ALLOWED_ORIGINS.
Clients that send no Origin header are not web pages and are treated like the REST channel.
Messages get the same checks as on REST (bot/request_guard.py): polite replies to empty and
long messages, the rate limit, and an apology instead of silence. On both channels the
emergency line follows the first message of a turn whose danger guess the safety net lowered
(bot/emergency_line.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

from bot.emergency_line import EmergencyLineOutput
from bot.request_guard import Guard, clean, polite_reply

logger = logging.getLogger(__name__)


class EmergencyLineRestInput(RestInput):
    """Rasa's REST channel, with the emergency line after a turn's first message when it is due."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def with_emergency_line(message: UserMessage) -> None:
            message.output_channel = EmergencyLineOutput(message.output_channel)
            await on_new_message(message)

        return super().blueprint(with_emergency_line)


class WidgetSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with an origin check on connect."""

    def __init__(self, allowed_origins: Iterable[str], guard: Guard) -> None:
        super().__init__(session_persistence=True)
        self.allowed_origins = frozenset(allowed_origins)
        self.guard = guard

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def guarded(message: UserMessage) -> None:
            text = clean(message.text or "")
            key = polite_reply(text) if self.guard.limiter.allow(message.sender_id, None) else "rate_limited"
            if key:
                for text in self.guard.replies[key]:
                    await message.output_channel.send_text_message(message.sender_id, text)
                return
            message.text = text
            socket = message.output_channel
            counting = _CountingOutput(EmergencyLineOutput(socket))
            message.output_channel = counting
            await on_new_message(message)
            if not counting.sent:
                for text in self.guard.replies["no_reply"]:
                    await socket.send_text_message(message.sender_id, text)

        blueprint = super().blueprint(guarded)
        assert self.sio is not None  # set by the parent's blueprint()

        @self.sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: dict | None = None) -> bool:
            origin = environ.get("HTTP_ORIGIN")
            if origin is not None and origin.rstrip("/") not in self.allowed_origins:
                logger.warning("Refused a socket.io connection from an origin that is not allowed.")
                return False
            return True

        return blueprint


class _CountingOutput(OutputChannel):
    """Passes every reply on, counting them, so a silent turn can be noticed."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    @classmethod
    def name(cls) -> str:
        return SocketIOInput.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)


def input_channels(allowed_origins: Iterable[str], guard: Guard) -> list[InputChannel]:
    return [EmergencyLineRestInput(), WidgetSocketIOInput(allowed_origins, guard)]
