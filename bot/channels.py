"""Input channels: Rasa's REST channel, and socket.io for the widget, open only to allowed origins.

Rasa's socket.io channel accepts any web page (it disables python-socketio's origin check,
because Sanic-CORS already adds CORS headers and two sets would break browsers). This one
refuses the connection when a browser says it comes from an origin not in TT_ALLOWED_ORIGINS.
Clients that send no Origin header are not web pages and are treated like the REST channel.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

logger = logging.getLogger(__name__)


class WidgetSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with an origin check on connect."""

    def __init__(self, allowed_origins: Iterable[str]) -> None:
        super().__init__(session_persistence=True)
        self.allowed_origins = frozenset(allowed_origins)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        assert self.sio is not None  # set by the parent's blueprint()

        @self.sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: dict | None = None) -> bool:
            origin = environ.get("HTTP_ORIGIN")
            if origin is not None and origin.rstrip("/") not in self.allowed_origins:
                logger.warning("Refused a socket.io connection from an origin that is not allowed.")
                return False
            return True

        return blueprint


def input_channels(allowed_origins: Iterable[str]) -> list[InputChannel]:
    return [RestInput(), WidgetSocketIOInput(allowed_origins)]
