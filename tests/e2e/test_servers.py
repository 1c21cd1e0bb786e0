"""The real action server and Rasa server, started as `make run` starts them, on free ports."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered

from bot.content import DOMAIN_DIR
from bot.local_servers import local_environ, local_servers
from bot.tracker_store import TalkTrackerStore
from tests.e2e.replies import assert_no_placeholder

pytestmark = pytest.mark.e2e


def say(url: str, sender: str, message: str) -> list[dict]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        reply = json.loads(response.read())
    assert_no_placeholder(reply)
    return reply


def texts(reply: list[dict]) -> list[str]:
    return [message.get("text", "") for message in reply]


def status(url: str, method: str = "GET", headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


@pytest.fixture(scope="module")
def environ(tmp_path_factory):
    database = tmp_path_factory.mktemp("e2e") / "tt.db"
    return local_environ(f"sqlite:///{database}", TT_SCHOOL_NAME="Oak Primary", TT_DSL_CONTACT="Ms Patel")


@pytest.fixture(scope="module")
def servers(environ):
    with local_servers(environ) as running:
        yield running


def test_hello_gets_the_greeting_and_privacy_note(servers):
    reply = texts(say(servers.rest_url, str(uuid.uuid4()), "hello"))

    assert "Talk Together" in reply[0]
    assert "no person watches this chat" in reply[1]


def test_danger_gets_the_emergency_number_in_the_first_message(servers):
    reply = texts(say(servers.rest_url, str(uuid.uuid4()), "my daughter is meeting a man from snapchat tonight"))

    assert reply[0].startswith("Call 999 now")
    assert any("not to blame" in text for text in reply)


def test_someone_in_another_country_gets_that_countrys_numbers(servers):
    sender = str(uuid.uuid4())
    say(servers.rest_url, sender, "hi, we live in Ireland")
    reply = texts(say(servers.rest_url, sender, "a man from snapchat is outside our house right now"))

    assert reply[0].startswith("Call 112 or 999 now")


def test_talk_guidance_follows_the_childs_age(servers):
    reply = texts(say(servers.rest_url, str(uuid.uuid4()), "how do i talk to my 6 year old about the internet"))

    assert "young children" in reply[0]


def test_imagery_is_routed_to_the_iwf(servers):
    reply = texts(say(servers.rest_url, str(uuid.uuid4()), "where do I report child abuse images I saw online"))

    assert "iwf.org.uk/report" in reply[0]


def test_the_server_names_the_configured_school_contact(servers):
    reply = texts(say(servers.rest_url, str(uuid.uuid4()), "who is the designated safeguarding lead"))

    assert reply == [
        "At Oak Primary, the Designated Safeguarding Lead (DSL) is Ms Patel. Tell them at once about any worry."
    ]


def test_http_api_is_off_and_cors_only_for_allowed_origins(servers, environ):
    base = servers.rest_url.rsplit("/webhooks", 1)[0]
    allowed = environ.get("TT_ALLOWED_ORIGINS") or f"http://localhost:{environ['TT_WIDGET_PORT']}"

    assert status(f"{base}/conversations/anyone/tracker")[0] == 404
    assert status(f"{base}/status")[0] == 404
    _, headers = status(servers.rest_url, "OPTIONS", {"Origin": "https://evil.example"})
    assert headers.get("Access-Control-Allow-Origin") is None
    _, headers = status(servers.rest_url, "OPTIONS", {"Origin": allowed.split(",")[0]})
    assert headers.get("Access-Control-Allow-Origin") == allowed.split(",")[0]


async def test_a_conversation_survives_a_restart_of_the_server(servers, environ):
    sender = str(uuid.uuid4())
    say(servers.rest_url, sender, "hello")
    say(servers.rest_url, sender, "what can you do")
    servers.stop()

    with local_servers(environ) as restarted:
        reply = texts(say(restarted.rest_url, sender, "thank you"))

    assert reply and "welcome" in reply[0]
    store = TalkTrackerStore(domain=Domain.load(str(DOMAIN_DIR)), url=environ["TT_DATABASE_URL"])
    tracker = await store.retrieve_full_tracker(sender)
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["hello", "what can you do", "thank you"]


def test_the_api_needs_its_token_when_enabled(tmp_path):
    token = uuid.uuid4().hex * 2
    environ = local_environ(f"sqlite:///{tmp_path / 'api.db'}", TT_API_ENABLED="true", TT_API_TOKEN=token)
    with local_servers(environ) as running:
        base = running.rest_url.rsplit("/webhooks", 1)[0]
        assert status(f"{base}/status")[0] == 401
        assert status(f"{base}/status?token={token}")[0] == 200
