"""Two schools on one service: the real servers with a school registry (TT_SCHOOLS_FILE).

The page's Origin decides the school, on REST and on socket.io; each school's staff are told
their own lead; the same client id from two schools' pages is two conversations, and neither
school can read or delete the other's. Without a registry, the other e2e tests cover today's
one-school behaviour.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
import socketio
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered

from bot.content import DOMAIN_DIR
from bot.local_servers import local_environ, local_servers
from bot.tracker_store import TalkTrackerStore
from tests.e2e.replies import assert_no_placeholder
from tests.e2e.test_servers import texts

pytestmark = pytest.mark.e2e

OAK, GLEN = "http://oak.example", "http://glen.example"
SCHOOLS = [
    {"id": "oak", "name": "Oak Primary", "nation": "england", "dsl_contact": "Ms Patel", "origins": [OAK]},
    {"id": "glen", "name": "Glen Academy", "nation": "scotland", "dsl_contact": "Mr Reid", "origins": [GLEN]},
]


def post(url: str, origin: str | None, sender: str, message: str) -> tuple[int, Any]:
    """The REST channel's status and answer to one message from a page of `origin`."""
    headers = {"Content-Type": "application/json", **({"Origin": origin} if origin else {})}
    body = json.dumps({"sender": sender, "message": message}).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def say(url: str, origin: str, sender: str, message: str) -> list[dict]:
    status, reply = post(url, origin, sender, message)
    assert status == 200, reply
    assert_no_placeholder(reply)
    assert {m["recipient_id"] for m in reply} == {sender}, "replies come back under the client's own id"
    return reply


@pytest.fixture(scope="module")
def environ(tmp_path_factory):
    folder = tmp_path_factory.mktemp("schools")
    registry = folder / "schools.yml"
    registry.write_text(yaml.safe_dump({"schools": SCHOOLS}, sort_keys=False), encoding="utf-8")
    return local_environ(f"sqlite:///{folder / 'tt.db'}", TT_SCHOOLS_FILE=str(registry))


@pytest.fixture(scope="module")
def servers(environ):
    with local_servers(environ) as running:
        yield running


@pytest.fixture(scope="module")
def store(environ):
    store = TalkTrackerStore(domain=Domain.load(str(DOMAIN_DIR)), url=environ["TT_DATABASE_URL"])
    yield store
    store.engine.dispose()


async def said(store: TalkTrackerStore, conversation: str) -> list[str]:
    """What the user said in a stored conversation."""
    tracker = await store.retrieve_full_tracker(conversation)
    return [e.text for e in tracker.events if isinstance(e, UserUttered)] if tracker else []


def test_each_schools_staff_are_told_their_own_lead(servers):
    oak = texts(say(servers.rest_url, OAK, str(uuid.uuid4()), "/ask_school_contact"))
    glen = texts(say(servers.rest_url, GLEN, str(uuid.uuid4()), "/ask_school_contact"))

    assert oak[0].startswith("At Oak Primary, the Designated Safeguarding Lead (DSL) is Ms Patel.")
    assert glen[0].startswith("At Glen Academy, the Child Protection Coordinator is Mr Reid.")


async def test_the_same_client_id_from_two_schools_is_two_conversations(servers, store):
    client = str(uuid.uuid4())

    say(servers.rest_url, OAK, client, "hi, we live in Ireland")
    oak = texts(say(servers.rest_url, OAK, client, "/report_danger"))
    glen = texts(say(servers.rest_url, GLEN, client, "/report_danger"))

    assert oak[0].startswith("Call 112 or 999 now"), "oak's conversation knows they are in Ireland"
    assert glen[0].startswith("Call 999 now"), "glen's conversation does not"
    assert await said(store, f"oak:{client}") == ["hi, we live in Ireland", "/report_danger"]
    assert await said(store, f"glen:{client}") == ["/report_danger"]
    assert await said(store, client) == [], "no conversation is kept without its school"
    assert not [key for key in await store.keys() if "readiness-probe" in key], "the probe's is deleted"


async def test_neither_school_can_read_or_delete_the_others_conversation(servers, store):
    client = str(uuid.uuid4())
    say(servers.rest_url, GLEN, client, "my son is being blackmailed over a photo")
    glen = await said(store, f"glen:{client}")

    say(servers.rest_url, OAK, f"glen:{client}", "what did I just tell you")  # posing as glen's conversation
    say(servers.rest_url, OAK, client, "hello")
    deleted = texts(say(servers.rest_url, OAK, client, "/confirm_delete_conversation"))
    say(servers.rest_url, OAK, f"glen:{client}", "/confirm_delete_conversation")

    assert deleted, "oak's conversation was deleted, with a reply"
    assert await said(store, f"oak:{client}") == []
    assert await said(store, f"oak:glen:{client}") == []
    assert await said(store, f"glen:{client}") == glen == ["my son is being blackmailed over a photo"]


@pytest.mark.parametrize("origin", ["http://evil.example", None], ids=["unknown origin", "no origin"])
def test_a_page_of_no_school_gets_403_on_rest(servers, origin):
    status, answer = post(servers.rest_url, origin, str(uuid.uuid4()), "hello")

    assert status == 403
    assert list(answer) == ["error"] and "\n" not in answer["error"]


async def socket_reply(base_url: str, origin: str, session_id: str, message: str) -> tuple[str, list[dict]]:
    """Connect as a page of `origin`, ask for the session, send one message: the confirmed id and the replies."""
    client = socketio.AsyncClient(reconnection=False)
    confirmed: asyncio.Queue[str] = asyncio.Queue()
    replies: asyncio.Queue[dict] = asyncio.Queue()
    client.on("session_confirm", confirmed.put_nowait)
    client.on("bot_uttered", replies.put_nowait)
    await client.connect(base_url, headers={"Origin": origin}, transports=["polling"], wait_timeout=10)
    try:
        await client.emit("session_request", {"session_id": session_id})
        session = await asyncio.wait_for(confirmed.get(), 10)
        await client.emit("user_uttered", {"message": message, "session_id": session_id})
        received = [await asyncio.wait_for(replies.get(), 30)]
        await asyncio.sleep(1)  # the rest of the turn's messages
        while not replies.empty():
            received.append(replies.get_nowait())
        return session, received
    finally:
        await client.disconnect()


async def test_the_widgets_socket_keeps_the_conversation_under_its_school(servers, store):
    session_id = str(uuid.uuid4())

    confirmed, replies = await socket_reply(servers.base_url, GLEN, session_id, "/ask_school_contact")

    assert confirmed == session_id
    assert replies[0]["text"].startswith("At Glen Academy, the Child Protection Coordinator is Mr Reid.")
    assert await said(store, f"glen:{session_id}") == ["/ask_school_contact"]


async def test_a_page_of_no_school_cannot_connect_to_the_socket(servers):
    client = socketio.AsyncClient(reconnection=False)
    refusals: list[Any] = []
    client.on("connect_error", refusals.append)

    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            servers.base_url, headers={"Origin": "http://evil.example"}, transports=["polling"], wait_timeout=5
        )

    assert refusals, "the server refused the connection, not merely left it unanswered"
    assert not client.connected


def test_the_widget_configuration_is_the_schools_and_refused_to_others(servers):
    def config(origin: str) -> int:
        request = urllib.request.Request(f"{servers.base_url}/widget/config.json", headers={"Origin": origin})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.headers["Access-Control-Allow-Origin"] == origin, "CORS allows the school's page"
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    assert config(OAK) == 200
    assert config("http://evil.example") == 403
