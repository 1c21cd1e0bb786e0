"""The readiness probe: only the model's reply to a real message counts, and the probe leaves no conversation."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.readiness import PROBE_MESSAGE, ModelProbe, reply_problem
from bot.request_guard import SERVER_REPLY_HEADER, polite_reply
from bot.tracker_store import TalkTrackerStore

MODEL_REPLY = json.dumps([{"recipient_id": "x", "text": "Hello, I'm Talk Together."}]).encode()
APOLOGY = json.dumps([{"recipient_id": "x", "text": "Sorry, something went wrong."}]).encode()


def test_only_a_reply_with_text_from_the_model_counts():
    assert reply_problem(200, None, MODEL_REPLY) is None
    assert "not the model" in (reply_problem(200, "no_reply", APOLOGY) or "")
    assert "no reply with text" in (reply_problem(200, None, b"[]") or "")
    assert "no reply with text" in (reply_problem(200, None, b'[{"recipient_id": "x", "image": "a.png"}]') or "")
    assert "status 500" in (reply_problem(500, None, b"") or "")
    assert "not JSON" in (reply_problem(200, None, b"<html>") or "")


def test_the_probe_message_goes_to_the_model_not_to_the_request_guard():
    assert polite_reply(PROBE_MESSAGE) is None


class FakeRasa(BaseHTTPRequestHandler):
    """Answers like a Rasa server whose request guard apologises `apologies` times, then like its model."""

    apologies = 0
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        FakeRasa.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        if len(FakeRasa.received) <= FakeRasa.apologies:
            self.send_header(SERVER_REPLY_HEADER, "no_reply")
            body = APOLOGY
        else:
            body = MODEL_REPLY
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def rasa() -> Iterator[str]:
    FakeRasa.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/rest/webhook"
    server.shutdown()
    server.server_close()


def test_the_probe_waits_for_the_model_past_the_servers_own_apology(rasa, tmp_path):
    FakeRasa.apologies = 2
    probe = ModelProbe(rasa, f"sqlite:///{tmp_path / 'tt.db'}")

    answers = [probe.problem(timeout=5) for _ in range(3)]

    assert answers[0] and "not the model" in answers[0]
    assert answers[1] and "not the model" in answers[1]
    assert answers[2] is None
    assert FakeRasa.received == [{"sender": probe.sender, "message": PROBE_MESSAGE}] * 3


def test_a_server_that_does_not_answer_is_not_ready_and_nothing_is_deleted(tmp_path):
    probe = ModelProbe("http://127.0.0.1:9/webhooks/rest/webhook", "sqlite:////nonexistent/dir/tt.db")

    assert probe.problem(timeout=1) == "the Rasa server does not answer yet"
    probe.forget()  # the probe reached no server, so there is nothing to delete (and no database to open)


async def test_the_probe_forgets_its_conversation_and_only_its_own(rasa, tmp_path):
    FakeRasa.apologies = 0
    url = f"sqlite:///{tmp_path / 'tt.db'}"
    store = TalkTrackerStore(domain=Domain.empty(), url=url)
    probe = ModelProbe(rasa, url)
    for sender in (probe.sender, "a-parent"):
        await store.save(DialogueStateTracker.from_events(sender, [UserUttered(PROBE_MESSAGE)]))

    assert probe.problem(timeout=5) is None
    probe.forget()

    assert set(await store.keys()) == {"a-parent"}
