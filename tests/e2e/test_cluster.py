"""Two Rasa servers behind nginx, on PostgreSQL and Redis, as `make cluster` starts them
(bot/cluster.py): a conversation goes on when its server is killed, over REST, over socket.io
and in the widget, and every turn is stored once, in order.

One cluster for the module, since each Rasa server takes some 15 s of CPU to start; every test
leaves it with both servers up (a killed server is held down while the test talks, then started
again)."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import socketio
import sqlalchemy as sa
from playwright.sync_api import Browser, Request, expect

from bot import nginx as nginx_config
from bot.cluster import Cluster, local_cluster, temporary_database
from bot.local_servers import local_environ
from tests.browser import conftest as browser_fixtures

pytestmark = pytest.mark.e2e

browser = browser_fixtures.browser  # Debian's Chromium, as the browser tests have it


@pytest.fixture(scope="module")
def cluster(nginx: str, postgres_url: str, redis_url: str) -> Iterator[Cluster]:
    with (
        temporary_database(postgres_url) as database_url,
        local_cluster(2, local_environ(database_url, TT_REDIS_URL=redis_url)) as running,
    ):
        yield running


def say(url: str, sender: str, message: str) -> list[str]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return [reply.get("text", "") for reply in json.loads(response.read())]


def stored_user_texts(cluster: Cluster, sender: str) -> list[str]:
    """What the person said, as PostgreSQL keeps it, in the order it was stored."""
    engine = sa.create_engine(cluster.settings.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :sender AND type_name = 'user' ORDER BY id"),
                {"sender": sender},
            )
            return [json.loads(data)["text"] for (data,) in rows]
    finally:
        engine.dispose()


def kill(process: subprocess.Popen) -> None:
    """kill -9, and wait until it is gone."""
    process.kill()
    process.wait(timeout=10)


def holder_of(cluster: Cluster, engineio_sid: str) -> str:
    """The Rasa server that holds a socket.io connection: the only one that takes a packet for it
    (a pong, which changes nothing); the others do not know the connection and answer 400."""
    for name, url in cluster.server_urls.items():
        pong = urllib.request.Request(f"{url}/socket.io/?EIO=4&transport=polling&sid={engineio_sid}", b"3")
        try:
            with urllib.request.urlopen(pong, timeout=5):
                return name
        except (urllib.error.URLError, ConnectionError):  # 400, or a server that is down
            continue
    pytest.fail(f"no Rasa server holds the socket.io connection {engineio_sid}")


def test_a_rest_conversation_goes_on_when_a_server_is_killed(cluster: Cluster) -> None:
    sender = str(uuid.uuid4())
    said = ["hello", "hi, we live in Ireland"]  # round-robin: one turn on each server
    for text in said:
        assert say(cluster.rest_url, sender, text)

    kill(cluster.processes["rasa-1"])
    with cluster.held_down("rasa-1"):  # not started again until the conversation is over
        danger = say(cluster.rest_url, sender, "a man from snapchat is outside our house right now")
        thanks = [say(cluster.rest_url, sender, text) for text in ("what can you do", "thank you")][-1]
        said += ["a man from snapchat is outside our house right now", "what can you do", "thank you"]

    assert danger[0].startswith("Call 112 or 999 now"), "rasa-2 read where they live from PostgreSQL"
    assert thanks and "welcome" in thanks[0]
    error_log = (nginx_config.config_path(cluster.run_dir).parent / "error.log").read_text()
    assert "Connection refused" in error_log, "a turn nginx gave the dead server went to the other one"
    assert stored_user_texts(cluster, sender) == said


class SocketConversation:
    """A socket.io conversation held as the widget holds one: its id in the URL, and asked for
    again each time the client connects (python-socketio reconnects by itself)."""

    def __init__(self, base_url: str) -> None:
        self.session_id = uuid.uuid4().hex
        self.sessions = 0  # how many times the server confirmed the session
        self._confirmed = threading.Condition()
        self._replies: queue.Queue[str] = queue.Queue()
        self.client = socketio.Client(reconnection_delay=0.5, reconnection_delay_max=2)
        self.client.on("connect", lambda: self.client.emit("session_request", {"session_id": self.session_id}))
        self.client.on("session_confirm", self._session_confirmed)
        self.client.on("bot_uttered", lambda data: self._replies.put(data.get("text") or ""))
        self.client.connect(f"{base_url}?session_id={self.session_id}", transports=["polling"], wait_timeout=10)

    def _session_confirmed(self, _session_id: str) -> None:
        with self._confirmed:
            self.sessions += 1
            self._confirmed.notify_all()

    def wait_for_session(self, count: int, timeout: float = 60) -> None:
        with self._confirmed:
            assert self._confirmed.wait_for(lambda: self.sessions >= count, timeout), f"no session {count}"

    def say(self, text: str) -> list[str]:
        """The replies to `text`. The server acknowledges the message once its turn has run, after
        the replies (what the widget relies on to know which messages to send again)."""
        self.client.call("user_uttered", {"message": text, "session_id": self.session_id}, timeout=60)
        replies = []
        while not self._replies.empty():
            replies.append(self._replies.get_nowait())
        return replies


def test_a_socketio_conversation_survives_the_death_of_its_server(cluster: Cluster) -> None:
    conversation = SocketConversation(cluster.base_url)
    try:
        conversation.wait_for_session(1)
        assert conversation.say("hello")
        holder = holder_of(cluster, conversation.client.eio.sid)

        kill(cluster.processes[holder])
        with cluster.held_down(holder):
            conversation.wait_for_session(2)  # connected again, and nginx chose the other server
            assert holder_of(cluster, conversation.client.eio.sid) != holder
            reply = conversation.say("what can you do")
    finally:
        conversation.client.disconnect()

    assert reply and "help" in reply[0]
    assert stored_user_texts(cluster, conversation.session_id) == ["hello", "what can you do"]


def is_message_post(text: str) -> Callable[[Request], bool]:
    def matches(request: Request) -> bool:
        return request.method == "POST" and "/socket.io/" in request.url and text in (request.post_data or "")

    return matches


def test_the_widget_sends_again_what_its_dead_server_did_not_answer_and_nothing_else(
    cluster: Cluster, browser: Browser
) -> None:
    context = browser.new_context()
    page = context.new_page()
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url) if "/socket.io/" in request.url else None)
    page.goto(cluster.demo_url)
    page.click("#tt-launcher")
    page.locator("#tt-input").fill("hello")
    page.keyboard.press("Enter")
    bot = page.locator("#tt-log .tt-bot")
    expect(bot).to_have_count(2)  # the greeting and the privacy note
    session_id = page.evaluate("sessionStorage.getItem('tt-session-id')")
    sid = next(parse_qs(urlsplit(url).query)["sid"][0] for url in reversed(polls) if "sid=" in url)
    holder = holder_of(cluster, sid)

    # Stopped, its server takes the message and never runs the turn; then it dies.
    process = cluster.processes[holder]
    process.send_signal(signal.SIGSTOP)
    try:
        with page.expect_request(is_message_post("what can you do")):
            page.locator("#tt-input").fill("what can you do")
            page.keyboard.press("Enter")
    finally:
        kill(process)
    with cluster.held_down(holder):
        expect(bot).not_to_have_count(2, timeout=60_000)  # the reply, from the other server
        reply = bot.nth(2).inner_text()
        page.wait_for_timeout(2_000)  # time for a reply to come twice, if it were to
        shown = page.locator("#tt-log .tt-user").all_inner_texts()
        errors = page.locator("#tt-log .tt-error").all_inner_texts()
    context.close()

    assert "help" in reply
    assert shown == ["hello", "what can you do"]
    assert not [error for error in errors if "didn't get a reply" in error]
    assert stored_user_texts(cluster, session_id) == ["hello", "what can you do"], "same id, each message once"
