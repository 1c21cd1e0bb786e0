"""Two Rasa servers behind nginx, on PostgreSQL and Redis, as `make cluster` starts them
(bot/cluster.py), under faults: a server killed in the middle of 50 conversations, over REST, over
socket.io and in the widget; ten messages of one conversation sent at once to both servers; a
server stalled with SIGSTOP; the rate limit counted across servers; Redis down and PostgreSQL
restarting. Every turn is stored once, in order.

The cluster reaches PostgreSQL and Redis through stand-ins (tests/conftest.py) that a test can
take down, as a restart would, without touching the services other tests use. One cluster for
the module, since each Rasa server takes some 15 s of CPU to start; every test leaves it with both
servers and both stores up (a killed server is held down while the test talks, then started
again)."""

from __future__ import annotations

import itertools
import json
import queue
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import socketio
import sqlalchemy as sa
from playwright.sync_api import Browser, Request, expect

from bot import nginx as nginx_config
from bot.cluster import Cluster, local_cluster, temporary_database
from bot.local_servers import local_environ
from tests.browser import conftest as browser_fixtures
from tests.conftest import StandIn

pytestmark = pytest.mark.e2e

browser = browser_fixtures.browser  # Debian's Chromium, as the browser tests have it


RATE_LIMIT = 12  # messages a minute for one conversation: low, so that the test of it is short
LOCK_LIFETIME = 15  # seconds a server may hold a conversation's lock (Rasa's TICKET_LOCK_LIFETIME)


@dataclass
class Stores:
    database: StandIn
    locks: StandIn


@pytest.fixture(scope="module")
def stores(postgres_url: str, redis_url: str) -> Iterator[Stores]:
    with temporary_database(postgres_url) as database_url:
        stores = Stores(StandIn(database_url), StandIn(redis_url))
        stores.database.come_back()
        stores.locks.come_back()
        yield stores
        stores.database.close()
        stores.locks.close()


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cluster") / "servers.log"


@pytest.fixture(scope="module")
def cluster(nginx: str, stores: Stores, log_file: Path) -> Iterator[Cluster]:
    environ = local_environ(
        stores.database.url,
        TT_REDIS_URL=stores.locks.url,
        TT_RATE_LIMIT_PER_MINUTE=str(RATE_LIMIT),
        TICKET_LOCK_LIFETIME=str(LOCK_LIFETIME),
    )
    with local_cluster(2, environ, log_file) as running:
        yield running


def post(url: str, sender: str, message: str, message_id: str | None = None) -> tuple[int, list[str]]:
    """The status and the replies' texts. The message goes under an id of its own, as the widget sends it."""
    metadata = {"message_id": message_id or uuid.uuid4().hex}
    body = json.dumps({"sender": sender, "message": message, "metadata": metadata}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=90) as response:
            return response.status, [reply.get("text", "") for reply in json.loads(response.read())]
    except urllib.error.HTTPError as error:
        return error.code, []


def say(url: str, sender: str, message: str) -> list[str]:
    status, replies = post(url, sender, message)
    assert status == 200, f"{message!r} got {status}"
    return replies


def say_until_answered(url: str, sender: str, message: str, tries: int = 5) -> list[str]:
    """What a client does when its message got no answer (the server died with it): send it
    again, under the same id, so that it is stored once even if the dead server had stored it."""
    message_id = uuid.uuid4().hex
    for _ in range(tries):
        try:
            status, replies = post(url, sender, message, message_id)
        except (urllib.error.URLError, ConnectionError):
            status, replies = 0, []
        if status == 200 and replies:
            return replies
        time.sleep(1)
    pytest.fail(f"{message!r} got no answer in {tries} tries")


def stored_events(cluster: Cluster, sender: str) -> list[tuple[str, dict]]:
    """The conversation's events as PostgreSQL keeps them, in the order they were stored."""
    engine = sa.create_engine(cluster.settings.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT type_name, data FROM events WHERE sender_id = :sender ORDER BY id"),
                {"sender": sender},
            )
            return [(type_name, json.loads(data)) for type_name, data in rows]
    finally:
        engine.dispose()


def stored_user_texts(cluster: Cluster, sender: str) -> list[str]:
    """What the person said, as PostgreSQL keeps it, in the order it was stored."""
    return [data["text"] for type_name, data in stored_events(cluster, sender) if type_name == "user"]


def turns_one_after_another(events: list[tuple[str, dict]]) -> bool:
    """Whether each message's turn was stored whole before the next message: its replies, then
    listening again."""
    turns: list[list[tuple[str, dict]]] = []
    for event in events:
        if event[0] == "user":
            turns.append([])
        if turns:
            turns[-1].append(event)
    return all(
        any(kind == "bot" for kind, _ in turn)
        and turn[-1] == ("action", turn[-1][1])
        and turn[-1][1].get("name") == "action_listen"
        for turn in turns
    )


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


CONVERSATION = [
    "hello",
    "hi, we live in Ireland",
    "my daughter is 12, how do i talk to her about her phone",
    "a man from snapchat is outside our house right now",
    "thank you",
]


def test_fifty_conversations_go_on_when_a_server_is_killed_in_their_middle(cluster: Cluster) -> None:
    senders = [uuid.uuid4().hex for _ in range(50)]
    replies: dict[str, list[list[str]]] = {sender: [] for sender in senders}
    turns_taken = itertools.count(1)
    halfway = threading.Event()
    failures: list[BaseException] = []

    def converse(sender: str) -> None:
        try:
            for text in CONVERSATION:
                replies[sender].append(say_until_answered(cluster.rest_url, sender, text))
                if next(turns_taken) == len(senders) * 2:
                    halfway.set()
        except BaseException as error:  # pytest.fail included: reported below
            failures.append(error)

    threads = [threading.Thread(target=converse, args=(sender,), daemon=True) for sender in senders]
    for thread in threads:
        thread.start()
    assert halfway.wait(timeout=300), "the conversations did not get halfway"
    kill(cluster.processes["rasa-1"])  # with turns in flight on it
    with cluster.held_down("rasa-1"):  # not started again until every conversation is over
        for thread in threads:
            thread.join(timeout=600)

    assert not failures, failures[0]
    assert not [thread for thread in threads if thread.is_alive()]
    for sender in senders:
        assert replies[sender][3][0].startswith("Call 112 or 999 now"), "where they live, read from PostgreSQL"
        events = stored_events(cluster, sender)
        assert [data["text"] for kind, data in events if kind == "user"] == CONVERSATION, "each turn once, in order"
        assert turns_one_after_another(events)
    error_log = (nginx_config.config_path(cluster.run_dir).parent / "error.log").read_text()
    assert "Connection refused" in error_log, "turns nginx gave the dead server went to the other one"


def test_ten_messages_sent_at_once_to_both_servers_are_answered_one_after_another(cluster: Cluster) -> None:
    sender = uuid.uuid4().hex
    say(cluster.rest_url, sender, "hello")
    messages = [f"she is {age}" for age in range(8, 18)]
    urls = [f"{url}/webhooks/rest/webhook" for url in cluster.server_urls.values()]
    start = threading.Barrier(len(messages))
    answers: dict[str, tuple[int, list[str]]] = {}

    def send(url: str, text: str) -> None:
        start.wait()
        answers[text] = post(url, sender, text)

    threads = [threading.Thread(target=send, args=(urls[number % 2], text)) for number, text in enumerate(messages)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert all(status == 200 and texts for status, texts in answers.values()), answers
    events = stored_events(cluster, sender)
    said = [data["text"] for kind, data in events if kind == "user"]
    assert said[0] == "hello" and sorted(said[1:]) == sorted(messages), "each message once"
    assert turns_one_after_another(events), "no turn began before the one before it was stored"


def test_the_rate_limit_is_counted_across_servers(cluster: Cluster) -> None:
    sender = uuid.uuid4().hex
    urls = [f"{url}/webhooks/rest/webhook" for url in cluster.server_urls.values()]
    # Each server sees only half of the messages, fewer than the limit: the count is shared.
    statuses = [post(urls[number % 2], sender, "thank you")[0] for number in range(RATE_LIMIT + 1)]

    assert statuses == [200] * RATE_LIMIT + [429]


def test_a_stalled_server_cannot_store_its_turn_after_another_server_took_the_conversation_on(
    cluster: Cluster, log_file: Path
) -> None:
    sender = uuid.uuid4().hex
    rasa_1, rasa_2 = (f"{url}/webhooks/rest/webhook" for url in cluster.server_urls.values())
    say(rasa_1, sender, "hello")
    actions, stalled = cluster.processes["actions"], cluster.processes["rasa-1"]

    # rasa-1 reads the conversation and, holding its lock, waits for the action server (stopped);
    # then rasa-1 itself is stopped, in the middle of its turn.
    actions.send_signal(signal.SIGSTOP)
    stalled_turn = threading.Thread(target=post, args=(rasa_1, sender, "start again"), daemon=True)
    try:
        stalled_turn.start()
        time.sleep(3)
        stalled.send_signal(signal.SIGSTOP)
    finally:
        actions.send_signal(signal.SIGCONT)
    try:
        began = time.monotonic()
        taken_on = say(rasa_2, sender, "thank you")  # once rasa-1's lock has expired
        waited = time.monotonic() - began
    finally:
        stalled.send_signal(signal.SIGCONT)
    stalled_turn.join(timeout=120)  # rasa-1 goes on with its turn, and its save is refused

    assert taken_on and "welcome" in taken_on[0]
    assert waited < LOCK_LIFETIME + 15
    events = stored_events(cluster, sender)
    assert [data["text"] for kind, data in events if kind == "user"] == ["hello", "thank you"]
    assert turns_one_after_another(events)
    assert "start again" not in json.dumps([data for _, data in events]), "nothing of the stale turn"
    assert "Refused to save a turn" in log_file.read_text(), "rasa-1 came back and its save was refused"
    assert say(rasa_1, sender, "what can you do"), "rasa-1 takes the next turn from a fresh read"
    assert stored_user_texts(cluster, sender)[-1] == "what can you do"


DANGER = "a man from snapchat is outside our house right now"
IMAGERY = "i saw sexual pictures of a child on a website"


def assert_safety_routes_answer(replies: dict[str, list[str]]) -> None:
    assert replies[DANGER][0].startswith("Call 999 now")
    assert any("iwf.org.uk/report" in text for text in replies[IMAGERY])


def test_with_redis_down_the_safety_routes_answer_and_every_turn_is_stored(cluster: Cluster, stores: Stores) -> None:
    sender = uuid.uuid4().hex
    say(cluster.rest_url, sender, "hello")
    stores.locks.close()
    try:
        replies = {text: say(cluster.rest_url, sender, text) for text in (DANGER, IMAGERY)}
    finally:
        stores.locks.come_back()

    assert_safety_routes_answer(replies)
    assert stored_user_texts(cluster, sender) == ["hello", DANGER, IMAGERY], "locks kept in each server meanwhile"


def test_with_postgresql_restarting_the_safety_routes_answer_and_nothing_stored_is_lost(
    cluster: Cluster, stores: Stores
) -> None:
    sender = uuid.uuid4().hex
    for text in ("hello", "my daughter is 12"):
        say(cluster.rest_url, sender, text)
    stores.database.close()  # every connection cut and new ones refused, as while PostgreSQL restarts
    try:
        replies = {text: say(cluster.rest_url, sender, text) for text in (DANGER, IMAGERY)}
    finally:
        stores.database.come_back()

    assert_safety_routes_answer(replies)
    assert stored_user_texts(cluster, sender) == ["hello", "my daughter is 12"]
    assert say(cluster.rest_url, sender, "thank you"), "the next turn, once it is back"
    assert stored_user_texts(cluster, sender) == ["hello", "my daughter is 12", "thank you"]


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
