"""Input channels: Rasa's REST channel, and socket.io for the widget, open only to allowed origins.

Rasa's socket.io channel accepts any web page (it disables python-socketio's origin check,
because Sanic-CORS already adds CORS headers and two sets would break browsers). This one
refuses the connection when a browser says it comes from an origin not in TT_ALLOWED_ORIGINS.
Clients that send no Origin header are not web pages and are treated like the REST channel.

Messages get the same checks as on REST (bot/request_guard.py): polite replies to empty and
long messages, the rate limit, and an apology instead of silence. On both channels the
emergency line follows the first message of a turn whose danger guess the safety net lowered
(bot/emergency_line.py).

With a school registry (bot/schools.py) the page's Origin decides the school instead: a
connection from an origin no school lists, or with none, is refused, and the client's session
id becomes `<school id>:<session id>` before Rasa sees it, also as the socket.io room its replies
go to, so pages of two schools that choose the same id neither share a conversation nor hear
each other's replies. On REST the request guard (bot/server.py) does the same to the sender, and
the REST channel answers under the client's own id.

A client may give each message an id of its own (`metadata.message_id`: the widget does, and
sends a message again under the same id when its server died before answering). The turn keeps
it, so the tracker store stores a message delivered twice only once (bot/tracker_store.py).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint
from socketio import AsyncServer

from bot.emergency_line import EmergencyLineOutput
from bot.request_guard import Guard, clean, polite_reply
from bot.schools import School, SchoolRegistry, client_id, conversation_id

logger = logging.getLogger(__name__)
_SCHOOL = "school"  # key of the school's id in a socket.io connection's session
_CLIENT_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


def keep_client_message_id(message: UserMessage) -> None:
    """Give the turn the id the client chose for the message, when it sent a well-formed one."""
    chosen = (message.metadata or {}).get("message_id") if isinstance(message.metadata, dict) else None
    if isinstance(chosen, str) and _CLIENT_MESSAGE_ID.fullmatch(chosen):
        message.message_id = chosen


@dataclass(frozen=True)
class Schools:
    """With a school registry: the schools, and the request guard whose replies give each region's numbers."""

    registry: SchoolRegistry
    guards: Mapping[str, Guard]  # by region, all with one rate limiter

    def guard_for(self, school: School) -> Guard:
        return self.guards[school.region]


class EmergencyLineRestInput(RestInput):
    """Rasa's REST channel, with the emergency line after a turn's first message when it is due,
    and, with a school registry, the replies under the client's own id."""

    def __init__(self, by_school: bool = False) -> None:
        self.by_school = by_school

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def with_emergency_line(message: UserMessage) -> None:
            output = message.output_channel
            if self.by_school:  # the request guard gave the sender its school: bot/server.py
                output = _UnderClientId(output, client_id(message.sender_id))
            message.output_channel = EmergencyLineOutput(output)
            keep_client_message_id(message)
            await on_new_message(message)

        return super().blueprint(with_emergency_line)


class WidgetSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with an origin check on connect, and the school's conversations."""

    def __init__(self, allowed_origins: Iterable[str], guard: Guard, schools: Schools | None = None) -> None:
        super().__init__(session_persistence=True)
        self.allowed_origins = frozenset(allowed_origins)
        self.guard = guard
        self.schools = schools

    def _guard(self, conversation: str) -> Guard:
        school = self.schools.registry.of_conversation(conversation) if self.schools else None
        return self.schools.guard_for(school) if self.schools and school else self.guard

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def guarded(message: UserMessage) -> None:
            text = clean(message.text or "")
            guard = self._guard(message.sender_id)
            key = polite_reply(text) if guard.limiter.allow(message.sender_id, None) else "rate_limited"
            if key:
                for text in guard.replies[key]:
                    await message.output_channel.send_text_message(message.sender_id, text)
                return
            message.text = text
            keep_client_message_id(message)
            socket = message.output_channel
            counting = _CountingOutput(EmergencyLineOutput(socket))
            message.output_channel = counting
            await on_new_message(message)
            if not counting.sent:
                for text in guard.replies["no_reply"]:
                    await socket.send_text_message(message.sender_id, text)

        blueprint = super().blueprint(guarded)
        assert self.sio is not None  # set by the parent's blueprint()
        sio = self.sio

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: dict | None = None) -> bool:
            origin = environ.get("HTTP_ORIGIN")
            if self.schools is not None:
                school = self.schools.registry.for_origin(origin)
                if school is None:
                    logger.warning("Refused a socket.io connection from a page of no school in the registry.")
                    return False
                await sio.save_session(sid, {_SCHOOL: school.id}, namespace=self.namespace)
            elif origin is not None and origin.rstrip("/") not in self.allowed_origins:
                logger.warning("Refused a socket.io connection from an origin that is not allowed.")
                return False
            return True

        if self.schools is not None:
            self._keep_conversations_by_school(sio, self.schools.registry)
        return blueprint

    def _keep_conversations_by_school(self, sio: AsyncServer, registry: SchoolRegistry) -> None:
        """Rasa's session_request and message handlers, with the session id given the connection's school."""
        rasa_message_handler = sio.handlers[self.namespace or "/"][self.user_message_evt]

        async def conversation(sid: str, session_id: str) -> str:
            session = await sio.get_session(sid, namespace=self.namespace)  # the school `connect` decided
            return conversation_id(registry.by_id[session[_SCHOOL]], session_id)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: dict | None) -> None:
            asked = (data or {}).get("session_id")
            session_id = asked if isinstance(asked, str) and asked else uuid.uuid4().hex
            # the room replies are sent to is the conversation's: the school's, not only the client's id
            sio.enter_room(sid, await conversation(sid, session_id), namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: dict) -> None:
            if isinstance(data, dict) and data.get("session_id"):
                data = {**data, "session_id": await conversation(sid, str(data["session_id"]))}
            await rasa_message_handler(sid, data)  # without a session id, Rasa warns and drops it


class _UnderClientId(OutputChannel):
    """Passes every reply on addressed to the client's own id, not the conversation's."""

    def __init__(self, inner: OutputChannel, client: str) -> None:
        self.inner = inner
        self.client = client

    def name(self) -> str:  # the channel it wraps: Rasa picks channel-specific responses by it
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.inner.send_response(self.client, message)


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


def input_channels(allowed_origins: Iterable[str], guard: Guard, schools: Schools | None = None) -> list[InputChannel]:
    return [EmergencyLineRestInput(by_school=schools is not None), WidgetSocketIOInput(allowed_origins, guard, schools)]
