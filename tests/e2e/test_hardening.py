"""Bad input, faults and privacy against the running servers, with a real database."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
import uuid

import pytest

from actions.triage import TRIAGE_SLOTS
from bot.local_servers import local_environ, local_servers
from bot.settings import PROJECT_DIR
from tests.e2e.replies import assert_no_placeholder

pytestmark = pytest.mark.e2e
PERSONAL = "my email is jo.bloggs@example.com, phone 07700 900123, he is @creep_77, see www.bad-site.com, SW1A 1AA"


def post(url: str, body: bytes) -> tuple[int, object]:
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def say(url: str, sender: str, message: object) -> tuple[int, object]:
    code, reply = post(url, json.dumps({"sender": sender, "message": message}).encode())
    if isinstance(reply, list):  # a 400's reason is a dict, not messages
        assert_no_placeholder(reply)
    return code, reply


def texts(reply: object) -> str:
    assert isinstance(reply, list)
    return "\n".join(m.get("text", "") for m in reply)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return tmp_path_factory.mktemp("hardening") / "tt.db"


@pytest.fixture(scope="module")
def log_file(tmp_path_factory):
    return tmp_path_factory.mktemp("logs") / "servers.log"


@pytest.fixture(scope="module")
def servers(database, log_file):
    environ = local_environ(f"sqlite:///{database}", TT_RATE_LIMIT_PER_MINUTE="40")
    with local_servers(environ, log_file=log_file) as running:
        yield running


BAD_INPUTS = [
    ("empty message", {"message": ""}, 200, "looks empty"),
    ("whitespace only", {"message": "  \n\t "}, 200, "looks empty"),
    ("100 KB message", {"message": "a" * 100_000}, 200, "too long"),
    ("long story of a child in danger", {"message": "he is outside her school now. " * 80}, 200, "call 999"),
    ("NUL bytes", {"message": "hel\u0000lo"}, 200, "Talk Together"),
    ("emoji", {"message": "😢😢😢"}, 200, ""),
    ("right-to-left text", {"message": "ابني في خطر"}, 200, "English"),
    ("HTML and script", {"message": "<b>hi</b><script>alert(1)</script>"}, 200, ""),
    ("SQL-looking text", {"message": "'; DROP TABLE events; --"}, 200, ""),
    ("message as a number", {"message": 42}, 400, None),
    ("message as a list", {"message": ["hi"]}, 400, None),
]


@pytest.mark.parametrize(("name", "fields", "status", "expected"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_gets_a_clear_answer(servers, name, fields, status, expected):
    code, reply = say(servers.rest_url, str(uuid.uuid4()), **{"message": fields["message"]})

    assert code == status, name
    if status == 200:
        assert texts(reply).strip(), f"{name}: every message gets a reply"
        assert expected in texts(reply)
        assert "<script" not in texts(reply)
    else:
        assert isinstance(reply, dict) and reply["error"]


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("malformed JSON", b'{"sender": "x", "message": '),
        ("invalid UTF-8", b'{"sender": "x", "message": "\xff\xfe"}'),
        ("missing sender", b'{"message": "hello"}'),
        ("huge sender id", json.dumps({"sender": "x" * 10_000, "message": "hi"}).encode()),
        ("odd sender id", json.dumps({"sender": "../../etc/passwd", "message": "hi"}).encode()),
        ("not an object", b'"hello"'),
    ],
)
def test_malformed_requests_get_400_not_500(servers, name, raw):
    code, reply = post(servers.rest_url, raw)

    assert code == 400, name
    assert isinstance(reply, dict) and reply["error"]


def test_other_conversations_are_unaffected_by_bad_input(servers, database):
    sender = str(uuid.uuid4())
    say(servers.rest_url, sender, "hello")
    for _, fields, _, _ in BAD_INPUTS:
        say(servers.rest_url, str(uuid.uuid4()), fields["message"])
    code, reply = say(servers.rest_url, sender, "what can you do")

    assert code == 200 and "help" in texts(reply)
    with sqlite3.connect(database) as db:
        users = db.execute("select count(*) from events where sender_id=? and type_name='user'", (sender,)).fetchone()
    assert users == (2,)


def test_a_fast_sender_is_slowed_down_politely(servers):
    sender = str(uuid.uuid4())
    codes = [say(servers.rest_url, sender, "thanks")[0] for _ in range(45)]
    code, reply = say(servers.rest_url, sender, "thanks")

    assert codes[:40] == [200] * 40
    assert code == 429 and "very quickly" in texts(reply)


def test_personal_details_never_reach_the_database(servers, database):
    sender = str(uuid.uuid4())
    code, _ = say(servers.rest_url, sender, PERSONAL)

    assert code == 200
    with sqlite3.connect(database) as db:
        stored = "\n".join(row[0] for row in db.execute("select data from events where sender_id=?", (sender,)))
    assert stored
    for detail in ("jo.bloggs", "07700", "@creep_77", "bad-site", "SW1A"):
        assert detail not in stored
    assert "[email]" in stored and "[phone]" in stored


def test_logs_at_the_default_level_contain_no_message_text(servers, log_file):
    secret = f"zebra{uuid.uuid4().hex[:8]} worried about my nephew"
    after_a_slash = f"/ zebra{uuid.uuid4().hex[:8]} is messaging my son"  # Rasa reads it as an intent, and fails
    sender = str(uuid.uuid4())
    say(servers.rest_url, sender, secret)
    say(servers.rest_url, sender, "/nlu_fallback")  # "did you mean": the action server gets the conversation
    say(servers.rest_url, sender, after_a_slash)

    logged = log_file.read_text(errors="replace")
    assert "Starting Rasa server" in logged, "the servers' output is in the log"
    assert secret.split()[0] not in logged
    assert after_a_slash.split()[1] not in logged


def _stored(database, sender: str) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("select count(*) from events where sender_id=?", (sender,)).fetchone()[0])


def test_delete_my_conversation_asks_first_and_deletes_only_on_yes(servers, database):
    sender = str(uuid.uuid4())
    say(servers.rest_url, sender, "hello")
    _, asked = say(servers.rest_url, sender, "please delete my conversation")

    assert "I've deleted" not in texts(asked) and _stored(database, sender) > 0, "nothing is deleted unasked"
    assert "/confirm_delete_conversation" in [b["payload"] for m in asked for b in m.get("buttons", [])]
    _, deleted = say(servers.rest_url, sender, "yes")
    assert "I've deleted" in texts(deleted) and _stored(database, sender) == 0


def test_no_keeps_the_conversation(servers, database):
    sender = str(uuid.uuid4())
    say(servers.rest_url, sender, "delete this chat")
    _, kept = say(servers.rest_url, sender, "no")

    # The kept reply says "I haven't deleted anything": look for the deleting reply's words instead.
    assert "haven't deleted" in texts(kept) and "I've deleted" not in texts(kept)
    assert _stored(database, sender) > 0


def test_getting_a_picture_deleted_is_image_removal_not_deleting_the_chat(servers, database):
    sender = str(uuid.uuid4())
    say(servers.rest_url, sender, "someone shared a nude of my daughter")
    _, reply = say(servers.rest_url, sender, "how do i get it deleted")

    assert "report remove" in texts(reply).lower() and _stored(database, sender) > 0


def test_with_the_action_server_down_safety_routes_still_answer(servers):
    with servers.held_down("actions"):
        _, danger = say(servers.rest_url, str(uuid.uuid4()), "a man is outside our house waiting for my son")
        _, imagery = say(servers.rest_url, str(uuid.uuid4()), "i saw child abuse images on a website, where to report")
        _, school = say(servers.rest_url, str(uuid.uuid4()), "who is the designated safeguarding lead")
        _, unclear = say(servers.rest_url, str(uuid.uuid4()), "/nlu_fallback")  # "did you mean" needs it

    assert texts(danger).startswith("Call 999 now")
    assert "iwf.org.uk/report" in texts(imagery)
    assert "Designated Safeguarding Lead" in texts(school), "the school contact needs no action server"
    assert texts(unclear).strip() and "999" in texts(unclear)


def crash(servers, name: str) -> subprocess.Popen:
    """kill -9 one server, as a crash would end it; return its old process."""
    process = servers.processes[name]
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    return process


def test_a_crashed_action_server_is_started_again_and_the_others_keep_running(servers, log_file):
    others = {name: servers.processes[name] for name in ("rasa", "demo")}
    crashed = crash(servers, "actions")
    servers.wait_until_ready(only=("actions",), timeout=60)

    assert servers.processes["actions"] is not crashed
    assert all(servers.processes[name] is process and process.poll() is None for name, process in others.items())
    assert "the actions server stopped with exit code -9 (SIGKILL); starting it again in 1 s." in log_file.read_text()
    assert triage_reset_events(servers) == [{"event": "slot", "name": slot} for slot in TRIAGE_SLOTS]
    code, reply = say(servers.rest_url, str(uuid.uuid4()), "what can you do")
    assert code == 200 and "help" in texts(reply)


def triage_reset_events(servers) -> list[dict]:
    """Run the triage reset on the action server, as the Rasa server does."""
    tracker = {"sender_id": "x", "slots": {}, "latest_message": {}, "events": [], "paused": False}
    tracker |= {"followup_action": None, "active_loop": {}, "latest_action_name": None}
    body = {"next_action": "action_reset_triage", "sender_id": "x", "tracker": tracker, "domain": {}}
    code, result = post(f"http://127.0.0.1:{servers.settings.actions_port}/webhook", json.dumps(body).encode())
    assert code == 200 and isinstance(result, dict)
    return [{k: v for k, v in event.items() if k in ("event", "name")} for event in result["events"]]


def test_after_a_crash_of_the_rasa_server_it_is_started_again_and_keeps_every_acknowledged_turn(
    servers, database, log_file
):
    sender = str(uuid.uuid4())
    acknowledged = ["hello", "what can you do", "how do i talk to my 9 year old about online safety"]
    for message in acknowledged:
        assert say(servers.rest_url, sender, message)[0] == 200
    others = {name: servers.processes[name] for name in ("actions", "demo")}

    crash(servers, "rasa")
    servers.wait_until_ready(only=("rasa",))
    code, reply = say(servers.rest_url, sender, "thanks")

    assert code == 200 and "welcome" in texts(reply)
    assert "the rasa server stopped with exit code -9 (SIGKILL); starting it again in 1 s." in log_file.read_text()
    assert all(servers.processes[name] is process and process.poll() is None for name, process in others.items())
    with sqlite3.connect(database) as db:
        rows = db.execute("select data from events where sender_id=? and type_name='user' order by id", (sender,))
        said = [json.loads(row[0])["text"] for row in rows]
    assert said == [*acknowledged, "thanks"]


def test_an_unreachable_database_at_start_up_names_the_setting():
    environ = local_environ("postgresql://postgres@127.0.0.1:1/nothing")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--no-train"],
        cwd=PROJECT_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("Cannot start: TT_DATABASE_URL=")
