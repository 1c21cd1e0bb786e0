"""The Rasa server as `rasa run` starts it, plus what a school deployment needs.

`python -m bot.server --model PATH` reads the settings, builds Rasa's Sanic app with the REST
and socket.io channels (bot/channels.py), and adds the widget's files and its configuration.
Starting Rasa from here rather than through its CLI lets the app carry our own routes and the
request guard (bot/request_guard.py), keeps what people type out of the logs at the default
level (bot/log_privacy.py), and skips the CLI's imports.

With a school registry (TT_SCHOOLS_FILE, bot/schools.py) the school of a request is the one that
lists the page's Origin header: the REST sender becomes `<school id>:<sender>` before Rasa sees
it, and `/widget/config.json` gives that school's title, colour and emergency number. A request
from an origin no school lists, or with no Origin, cannot hold a conversation (403), and CORS
allows the schools' origins only.
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
from bot.channels import Schools, input_channels
from bot.content import load_content
from bot.launcher import write_runtime_config
from bot.request_guard import (
    SERVER_REPLIES,
    SERVER_REPLY_HEADER,
    BadRequest,
    Guard,
    client_address,
    make_rate_limiter,
    parse,
    polite_reply,
)
from bot.schools import School, SchoolRegistry, conversation_id, load_registry
from bot.settings import PROJECT_DIR, REGIONS, Settings, SettingsError, load_settings
from bot.training import model_path

WIDGET_DIR = PROJECT_DIR / "widget"
_ADDRESS = re.compile(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:org|uk|gov|com|ca|au|ie)(?:/[\w/.-]*[\w/])?", re.I)
_WIDGET_FILES = {
    "/widget.js": ("widget.js", "text/javascript"),
    "/widget.css": ("widget.css", "text/css"),
    "/widget/socket.io.min.js": ("vendor/socket.io.min.js", "text/javascript"),
}

logger = logging.getLogger(__name__)


def widget_configs() -> dict[str, dict]:
    """What the widget shows and may link to, for each region: its emergency number, and the
    resource registry's addresses."""
    content = load_content()
    addresses = {a for r in content.resources.values() for v in r.values.values() for a in _ADDRESS.findall(v)}
    links = sorted(addresses, key=lambda a: (-len(a), a))
    emergency = content.resources["emergency"].values
    return {
        region: {
            "emergency_number": emergency[region],
            "emergency_text": f"Child in danger now? Call {emergency[region]}",
            "link_addresses": links,
        }
        for region in REGIONS
    }


def school_widget_config(school: School, configs: dict[str, dict]) -> dict:
    """The widget configuration of a school's pages: its region's, with its title and colour if it has them."""
    shown = {"title": school.widget_title, "colour": school.widget_colour}
    return {**configs[school.region], **{key: value for key, value in shown.items() if value}}


def _forbidden() -> response.HTTPResponse:
    """The answer to a page no school in the registry lists (or a request with no Origin)."""
    reason = "This page's origin is not one of the schools this service is for."
    return response.json({"error": reason}, status=403, headers={"Vary": "Origin"})


def add_widget_routes(
    app: Sanic, settings: Settings, widget_dir: Path = WIDGET_DIR, registry: SchoolRegistry | None = None
) -> None:
    configs = widget_configs()
    config = json.dumps(configs[settings.region]).encode()
    # Written once at start-up (a few milliseconds for a thousand schools): a request is a look-up.
    by_school = {s.id: json.dumps(school_widget_config(s, configs)).encode() for s in registry or ()}

    def serve(name: str, content_type: str):  # type: ignore[no-untyped-def]
        async def handler(_: Request) -> response.HTTPResponse:
            path = widget_dir / name
            if not path.is_file():
                return response.text("not found", status=404)
            return response.raw(path.read_bytes(), content_type=f"{content_type}; charset=utf-8")

        return handler

    for route, (name, content_type) in _WIDGET_FILES.items():
        app.add_route(serve(name, content_type), route, methods=["GET"], name=name.replace("/", "_").replace(".", "_"))

    async def config_handler(request: Request) -> response.HTTPResponse:
        if registry is None:
            return response.raw(config, content_type="application/json")
        school = registry.for_origin(request.headers.get("origin"))
        if school is None:
            return _forbidden()
        return response.raw(by_school[school.id], content_type="application/json", headers={"Vary": "Origin"})

    app.add_route(config_handler, "/widget/config.json", methods=["GET"], name="widget_config")


REST_WEBHOOK = "/webhooks/rest/webhook"
_MAX_BODY_BYTES = 1_000_000  # far above a 2,000-character message; larger bodies get 413


def make_guards(settings: Settings) -> dict[str, Guard]:
    """The request guard for each region, its replies with that region's numbers; one rate limiter for all."""
    content = load_content()
    limiter = make_rate_limiter(settings)
    return {
        region: Guard(
            replies={
                key: tuple(content.render(item, region) for item in items) for key, items in SERVER_REPLIES.items()
            },
            limiter=limiter,
        )
        for region in REGIONS
    }


def make_guard(settings: Settings) -> Guard:
    """The request guard of the deployment's region (TT_REGION)."""
    return make_guards(settings)[settings.region]


def add_request_guard(
    app: Sanic, guard: Guard, schools: Schools | None = None, trusted_proxies: tuple[str, ...] = ()
) -> None:
    """Check REST messages before Rasa sees them, and never return an empty reply (bot/request_guard.py).
    With a school registry, also decide the school from the Origin header and give the sender its id.
    Behind a reverse proxy listed in `trusted_proxies` (TT_TRUSTED_PROXIES), the rate limit counts
    the client address the proxy names, not the proxy's own."""
    app.config.REQUEST_MAX_SIZE = _MAX_BODY_BYTES

    def reply(guard: Guard, sender: str, key: str, status: int = 200) -> response.HTTPResponse:
        messages = [{"recipient_id": sender, "text": text} for text in guard.replies[key]]
        return response.json(messages, status=status, headers={SERVER_REPLY_HEADER: key})

    async def check_request(request: Request) -> response.HTTPResponse | None:
        if request.path != REST_WEBHOOK or request.method != "POST":
            return None
        school = schools.registry.for_origin(request.headers.get("origin")) if schools else None
        if schools and school is None:
            return _forbidden()
        try:
            message = parse(request.body)
        except BadRequest as error:
            return response.json({"error": str(error)}, status=400)
        # Only the Origin names the school: a sender such as "otherschool:abc" stays this school's.
        conversation = conversation_id(school, message.sender) if school else message.sender
        school_guard = schools.guard_for(school) if schools and school else guard
        forwarded_for = ",".join(request.headers.getall("x-forwarded-for", []))
        address = client_address(request.ip, forwarded_for, trusted_proxies)
        if not school_guard.limiter.allow(conversation, address):
            return reply(school_guard, message.sender, "rate_limited", status=429)
        if key := polite_reply(message.text):
            return reply(school_guard, message.sender, key)
        request.body = json.dumps({**message.body, "sender": conversation}).encode()
        request.parsed_json = None
        request.ctx.sender = message.sender
        request.ctx.guard = school_guard
        return None

    async def never_silent(request: Request, reply_to: BaseHTTPResponse) -> response.HTTPResponse | None:
        if request.path == REST_WEBHOOK and reply_to.status == 200 and reply_to.body == b"[]":
            return reply(request.ctx.guard, request.ctx.sender, "no_reply")
        return None

    app.register_middleware(check_request, "request")
    app.register_middleware(never_silent, "response")


def create_app(settings: Settings, model: Path, endpoints_file: Path) -> Sanic:
    endpoints = AvailableEndpoints.read_endpoints(str(endpoints_file))
    guards = make_guards(settings)
    guard = guards[settings.region]
    registry = load_registry(settings.schools_file) if settings.schools_file else None
    schools = Schools(registry, guards) if registry else None
    origins = registry.origins if registry else settings.allowed_origins
    app = configure_app(
        input_channels(origins, guard, schools),
        cors=list(origins),
        auth_token=settings.api_token,
        enable_api=settings.api_enabled,
        port=settings.port,
        endpoints=endpoints,
    )
    add_widget_routes(app, settings, registry=registry)
    add_request_guard(app, guard, schools, settings.trusted_proxies)
    app.register_listener(partial(load_agent_on_start, str(model), endpoints, None), "before_server_start")
    app.register_listener(close_resources, "after_server_stop")
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, help="default: the model for the current inputs (python -m bot model)")
    # A container (Dockerfile) starts the server alone, with its settings in the environment.
    parser.add_argument("--endpoints", type=Path, help="default: written from the settings into var/run/")
    args = parser.parse_args()
    model = args.model or model_path()
    if not model.is_file():  # Rasa would start anyway, with no model, and answer nothing
        parser.exit(2, f"No model at {model}: run `python -m bot train` first.\n")
    try:
        settings = load_settings()
        level = logging.getLevelName(settings.log_level)
        configure_logging_and_warnings(level)
        configure_structlog(level)
        log_privacy.install(settings.log_level)
        app = create_app(settings, model, args.endpoints or write_runtime_config(settings))
    except SettingsError as error:  # a bad setting or school registry: one line, not a traceback
        parser.exit(2, f"Cannot start: {error}\n")
    logger.info(f"Starting Rasa server on http://{settings.host}:{settings.port}")
    app.run(host=settings.host, port=settings.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
