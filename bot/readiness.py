"""The Rasa server is ready when its model answers a real message on the REST channel.

`GET /` is not enough: when Rasa cannot load the model it logs the error, serves anyway and
answers nothing. So the launcher sends PROBE_MESSAGE as a user would and needs a reply with
text from the model. Replies the request guard gives itself (the "no reply" apology that a
server without a model gets, among others) carry SERVER_REPLY_HEADER and do not count.

The probe's conversation is then deleted through the tracker store, like any conversation whose
user asks. The probe stays an ordinary turn, stored as every turn is, so it also shows that
the database takes writes, and no sender id is special to the store (a client could use it
to keep its messages unstored).

With a school registry the server answers only pages of its schools, so the probe talks as a page
of the first school (its first origin), and its conversation is kept under that school's id.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

from bot.request_guard import SERVER_REPLY_HEADER
from bot.schools import School, conversation_id, load_registry
from bot.settings import Settings

# The guard answers only empty, overlong and too-fast messages itself; this one goes to the model.
PROBE_MESSAGE = "hello"
PROBE_SENDER_PREFIX = "readiness-probe-"


def reply_problem(status: int, server_reply: str | None, body: bytes) -> str | None:
    """None when a REST answer is the model's reply with text; otherwise what is wrong with it."""
    if status != 200:
        return f"the REST channel answered with status {status}"
    if server_reply:
        return (
            f"the server answered itself ({server_reply}), not the model: "
            "was the model loaded? See the Rasa server's output"
        )
    try:
        messages = json.loads(body)
    except ValueError:
        return "the REST channel's answer is not JSON"
    if not isinstance(messages, list) or not any(isinstance(m, dict) and m.get("text") for m in messages):
        return "the model gave no reply with text"
    return None


@dataclass
class ModelProbe:
    """Asks the model through the REST channel; forgets the conversation afterwards."""

    rest_url: str
    database_url: str
    school: School | None = None  # with a school registry: the school the probe talks as
    sender: str = field(default_factory=lambda: f"{PROBE_SENDER_PREFIX}{uuid.uuid4().hex}")
    reached_rasa: bool = False  # once true, the store may hold the probe's turns

    @classmethod
    def for_deployment(cls, rest_url: str, settings: Settings) -> ModelProbe:
        school = load_registry(settings.schools_file).schools[0] if settings.schools_file else None
        return cls(rest_url, settings.database_url, school)

    def problem(self, timeout: float) -> str | None:
        """None when the model answered the probe message; otherwise why the server is not ready."""
        body = json.dumps({"sender": self.sender, "message": PROBE_MESSAGE}).encode()
        sent = {"Content-Type": "application/json"}
        if self.school is not None:
            sent["Origin"] = self.school.origins[0]
        request = urllib.request.Request(self.rest_url, body, sent)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, headers, answer = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, answer = error.code, error.headers, error.read()
        except (urllib.error.URLError, http.client.HTTPException, OSError):
            return "the Rasa server does not answer yet"
        self.reached_rasa = True
        return reply_problem(status, headers.get(SERVER_REPLY_HEADER), answer)

    def forget(self) -> None:
        """Delete what the store keeps of the probe's conversation."""
        if not self.reached_rasa:
            return
        from bot.tracker_store import TalkTrackerStore  # here: it loads Rasa, which training does not need

        store = TalkTrackerStore(url=self.database_url)
        try:
            store.delete(conversation_id(self.school, self.sender) if self.school else self.sender)
        finally:
            store.engine.dispose()
