"""The Rasa server as `rasa run` starts it, plus what a school deployment needs.

`python -m bot.server --model PATH` reads the settings, builds Rasa's Sanic app with the REST
and socket.io channels (bot/channels.py), and adds the widget's files and its configuration.
Starting Rasa from here rather than through its CLI lets the app carry our own routes and the
request guard (bot/request_guard.py), keeps what people type out of the logs at the default
level (bot/log_privacy.py), and skips the CLI's imports.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
from functools import partial
from pathlib import Path

from rasa.core.run import close_resources, configure_app, load_agent_on_start
from rasa.core.utils import AvailableEndpoints
from rasa.utils.common import configure_logging_and_warnings
from rasa.utils.log_utils import configure_structlog
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import BaseHTTPResponse

from bot import log_privacy
from bot.channels import input_channels
from bot.content import load_content
from bot.request_guard import (
    SERVER_REPLIES,
    SERVER_REPLY_HEADER,
    BadRequest,
    Guard,
    RateLimiter,
    parse,
    polite_reply,
)
from bot.settings import PROJECT_DIR, Settings, load_settings

WIDGET_DIR = PROJECT_DIR / "widget"
_ADDRESS = re.compile(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:org|uk|gov|com|ca|au|ie)(?:/[\w/.-]*[\w/])?", re.I)
_WIDGET_FILES = {
    "/widget.js": ("widget.js", "text/javascript"),
    "/widget.css": ("widget.css", "text/css"),
    "/widget/socket.io.min.js": ("vendor/socket.io.min.js", "text/javascript"),
}

logger = logging.getLogger(__name__)


def widget_config(settings: Settings) -> dict:
    """What the widget shows and may link to: the region's emergency number, the registry's addresses."""
    content = load_content()
    emergency = content.resources["emergency"].values[settings.region]
    addresses = {a for r in content.resources.values() for v in r.values.values() for a in _ADDRESS.findall(v)}
    return {
        "emergency_number": emergency,
        "emergency_text": f"Child in danger now? Call {emergency}",
        "link_addresses": sorted(addresses, key=lambda a: (-len(a), a)),
    }


def add_widget_routes(app: Sanic, settings: Settings, widget_dir: Path = WIDGET_DIR) -> None:
    config = json.dumps(widget_config(settings))

    def serve(name: str, content_type: str):  # type: ignore[no-untyped-def]
        async def handler(_: Request) -> response.HTTPResponse:
            path = widget_dir / name
            if not path.is_file():
                return response.text("not found", status=404)
            return response.raw(path.read_bytes(), content_type=f"{content_type}; charset=utf-8")

        return handler

    for route, (name, content_type) in _WIDGET_FILES.items():
        app.add_route(serve(name, content_type), route, methods=["GET"], name=name.replace("/", "_").replace(".", "_"))

    async def config_handler(_: Request) -> response.HTTPResponse:
        return response.raw(config.encode(), content_type="application/json")

    app.add_route(config_handler, "/widget/config.json", methods=["GET"], name="widget_config")


REST_WEBHOOK = "/webhooks/rest/webhook"
_MAX_BODY_BYTES = 1_000_000  # far above a 2,000-character message; larger bodies get 413


def make_guard(settings: Settings) -> Guard:
    content = load_content()
    return Guard(
        replies={
            key: tuple(content.render(item, settings.region) for item in items) for key, items in SERVER_REPLIES.items()
        },
        limiter=RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_per_minute * 20),
    )


def add_request_guard(app: Sanic, guard: Guard) -> None:
    """Check REST messages before Rasa sees them, and never return an empty reply (bot/request_guard.py)."""
    app.config.REQUEST_MAX_SIZE = _MAX_BODY_BYTES

    def reply(sender: str, key: str, status: int = 200) -> response.HTTPResponse:
        messages = [{"recipient_id": sender, "text": text} for text in guard.replies[key]]
        return response.json(messages, status=status, headers={SERVER_REPLY_HEADER: key})

    async def check_request(request: Request) -> response.HTTPResponse | None:
        if request.path != REST_WEBHOOK or request.method != "POST":
            return None
        try:
            message = parse(request.body)
        except BadRequest as error:
            return response.json({"error": str(error)}, status=400)
        if not guard.limiter.allow(message.sender, request.remote_addr or request.ip):
            return reply(message.sender, "rate_limited", status=429)
        if key := polite_reply(message.text):
            return reply(message.sender, key)
        request.body = json.dumps(message.body).encode()
        request.parsed_json = None
        request.ctx.sender = message.sender
        return None

    async def never_silent(request: Request, reply_to: BaseHTTPResponse) -> response.HTTPResponse | None:
        if request.path == REST_WEBHOOK and reply_to.status == 200 and reply_to.body == b"[]":
            return reply(request.ctx.sender, "no_reply")
        return None

    app.register_middleware(check_request, "request")
    app.register_middleware(never_silent, "response")


def create_app(settings: Settings, model: Path, endpoints_file: Path) -> Sanic:
    endpoints = AvailableEndpoints.read_endpoints(str(endpoints_file))
    guard = make_guard(settings)
    app = configure_app(
        input_channels(settings.allowed_origins, guard),
        cors=list(settings.allowed_origins),
        auth_token=settings.api_token,
        enable_api=settings.api_enabled,
        port=settings.port,
        endpoints=endpoints,
    )
    add_widget_routes(app, settings)
    add_request_guard(app, guard)
    app.register_listener(partial(load_agent_on_start, str(model), endpoints, None), "before_server_start")
    app.register_listener(close_resources, "after_server_stop")
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--endpoints", type=Path, required=True)
    args = parser.parse_args()
    if not args.model.is_file():  # Rasa would start anyway, with no model, and answer nothing
        parser.exit(2, f"No model at {args.model}: run `python -m bot train` first.\n")
    settings = load_settings()
    level = logging.getLevelName(settings.log_level)
    configure_logging_and_warnings(level)
    configure_structlog(level)
    log_privacy.install(settings.log_level)
    app = create_app(settings, args.model, args.endpoints)
    logger.info(f"Starting Rasa server on http://{settings.host}:{settings.port}")
    app.run(host=settings.host, port=settings.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
