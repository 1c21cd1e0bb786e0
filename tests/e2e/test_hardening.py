"""Bad input, faults and privacy against the running servers, with a real database."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
import uuid

import pytest

from bot.local_servers import local_environ, local_servers
from bot.settings import PROJECT_DIR

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
    return post(url, json.dumps({"sender": sender, "message": message}).encode())


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
    sender = str(uuid.uuid4())
    say(servers.rest_url, sender, secret)
    say(servers.rest_url, sender, "/nlu_fallback")  # "did you mean": the action server gets the conversation

    logged = log_file.read_text(errors="replace")
    assert "Starting Rasa server" in logged, "the servers' output is in the log"
    assert secret.split()[0] not in logged


def test_delete_my_conversation_removes_it_at_once(servers, database):
    sender = str(uuid.uuid4())
    say(servers.rest_url, sender, "hello")
    code, reply = say(servers.rest_url, sender, "please delete my conversation")

    assert code == 200 and "deleted" in texts(reply)
    with sqlite3.connect(database) as db:
        assert db.execute("select count(*) from events where sender_id=?", (sender,)).fetchone() == (0,)


def test_with_the_action_server_down_safety_routes_still_answer(servers):
    servers.kill("actions")
    try:
        _, danger = say(servers.rest_url, str(uuid.uuid4()), "a man is outside our house waiting for my son")
        _, imagery = say(servers.rest_url, str(uuid.uuid4()), "i saw child abuse images on a website, where to report")
        _, school = say(servers.rest_url, str(uuid.uuid4()), "who is the designated safeguarding lead")
        _, unclear = say(servers.rest_url, str(uuid.uuid4()), "/nlu_fallback")  # "did you mean" needs it
    finally:
        servers.launch("actions")
        servers.wait_until_ready(only=("actions",))

    assert texts(danger).startswith("Call 999 now")
    assert "iwf.org.uk/report" in texts(imagery)
    assert "Designated Safeguarding Lead" in texts(school), "the school contact needs no action server"
    assert texts(unclear).strip() and "999" in texts(unclear)


def test_after_sigkill_every_acknowledged_turn_is_kept_and_the_conversation_continues(servers, database):
    sender = str(uuid.uuid4())
    acknowledged = ["hello", "what can you do", "how do i talk to my 9 year old about online safety"]
    for message in acknowledged:
        assert say(servers.rest_url, sender, message)[0] == 200

    servers.kill("rasa")
    servers.launch("rasa")
    servers.wait_until_ready(only=("rasa",))
    code, reply = say(servers.rest_url, sender, "thanks")

    assert code == 200 and "welcome" in texts(reply)
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
