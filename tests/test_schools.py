"""One service for many schools: the registry, and what the server does with the page's Origin."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
import yaml
from rasa.core.channels.channel import UserMessage
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sanic import Sanic
from sanic.compat import Header

from bot import cli
from bot.channels import Schools, input_channels
from bot.content import DOMAIN_DIR, RUNTIME_SETTINGS
from bot.nlg import school_values
from bot.readiness import ModelProbe
from bot.schools import (
    SchoolRegistry,
    SchoolsError,
    add_school,
    client_id,
    conversation_id,
    load_registry,
    normal_origin,
    parse_registry,
)
from bot.server import REST_WEBHOOK, add_request_guard, add_widget_routes, make_guards
from bot.settings import PROJECT_DIR, load_settings
from bot.tracker_store import TalkTrackerStore

OAK = {
    "id": "oak",
    "name": "Oak Primary",
    "nation": "england",
    "dsl_contact": "Ms Patel, room 4",
    "origins": ["https://oak.example"],
    "widget_title": "Oak chat",
    "widget_colour": "#005ea5",
}
GLEN = {
    "id": "glen",
    "name": "Glen Academy",
    "nation": "scotland",
    "dsl_contact": "Mr Reid",
    "origins": ["https://glen.example", "http://localhost:8081"],
    "retention_days": 90,
}
# The one-school settings, which conversations of no school in the registry still get.
DEPLOYMENT = {"TT_SCHOOL_NAME": "Deployment School", "TT_DSL_CONTACT": "Mrs Jones", "TT_NATION": "wales"}
BRIGIDS = {"id": "brigids", "name": "St Brigid's", "region": "ie", "origins": ["https://brigids.example"]}


def registry_text(*schools: dict[str, Any]) -> str:
    return yaml.safe_dump({"schools": list(schools)}, sort_keys=False)


def registry(*schools: dict[str, Any]) -> SchoolRegistry:
    return parse_registry(registry_text(*schools), "schools.yml")


def problems(*schools: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(SchoolsError) as error:
        registry(*schools)
    return error.value.problems


@pytest.fixture
def registry_file(tmp_path, monkeypatch) -> Path:
    """A registry of three schools, set as TT_SCHOOLS_FILE."""
    path = tmp_path / "schools.yml"
    path.write_text(registry_text(OAK, GLEN, BRIGIDS), encoding="utf-8")
    monkeypatch.setenv("TT_SCHOOLS_FILE", str(path))
    return path


# --- the registry -----------------------------------------------------------------------------


def test_a_valid_school_with_the_defaults_filled_in():
    oak, glen, brigids = registry(OAK, GLEN, BRIGIDS)

    assert (oak.region, oak.lead_title, oak.lead_short) == ("uk", "Designated Safeguarding Lead (DSL)", "DSL")
    assert (glen.lead_title, glen.lead_short) == ("Child Protection Coordinator", "child protection coordinator")
    assert (brigids.region, brigids.nation, brigids.lead_title) == ("ie", None, "safeguarding lead")
    assert oak.widget_colour == "#005ea5" and oak.retention_days is None and glen.retention_days == 90


def test_a_title_of_the_schools_own_is_its_short_form_too_unless_one_is_given():
    own, both = registry(
        {**OAK, "lead_title": "Head of Safeguarding"},
        {**GLEN, "lead_title": "Designated Liaison Person (DLP)", "lead_short": "DLP"},
    )

    assert (own.lead_title, own.lead_short) == ("Head of Safeguarding", "Head of Safeguarding")
    assert (both.lead_title, both.lead_short) == ("Designated Liaison Person (DLP)", "DLP")


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"id": "Oak Primary"}, "id", "short slug"),
        ({"id": "oak:glen"}, "id", "short slug"),
        ({"name": ""}, "name", "as text"),
        ({"name": "Oak {school_name}"}, "name", "no { or }"),
        ({"name": "x" * 101}, "name", "at most 100"),
        ({"nation": "cornwall"}, "nation", "england, wales, scotland, northern_ireland"),
        ({"region": "mars"}, "region", "uk, ie, us, ca, au"),
        ({"region": "ie"}, "nation", "nations are in the UK"),
        ({"lead_title": ["DSL"]}, "lead_title", "as text"),
        ({"lead_short": "DSL\nDSP"}, "lead_short", "one line"),
        ({"dsl_contact": 42}, "dsl_contact", "as text"),
        ({"origins": "https://oak.example"}, "origins", "list origins"),
        ({"origins": []}, "origins", "list origins"),
        ({"origins": ["https://oak.example/chat"]}, "origins", "no paths"),
        ({"origins": ["*"]}, "origins", "no '*'"),
        ({"origins": ["oak.example"]}, "origins", "scheme://host"),
        ({"origins": ["ftp://oak.example"]}, "origins", "scheme://host"),
        ({"widget_title": "x" * 61}, "widget_title", "at most 60"),
        ({"widget_colour": "blue"}, "widget_colour", "#rrggbb"),
        ({"widget_colour": "#05ea5"}, "widget_colour", "#rrggbb"),
        ({"widget_colour": None}, "widget_colour", "is empty"),  # what an unquoted '#005ea5' reads as
        ({"retention_days": 0}, "retention_days", "from 1 to 3650"),
        ({"retention_days": "30"}, "retention_days", "whole number"),
        ({"retention_days": True}, "retention_days", "whole number"),
        ({"colour": "#005ea5"}, "colour", "unknown field"),
    ],
)
def test_each_bad_field_is_one_line_naming_the_school_and_the_field(change, field, says):
    [problem] = problems({**OAK, **change}, GLEN)

    assert problem.startswith("schools.yml: school ")
    assert f"'{OAK['id']}'" in problem or f"'{change.get('id')}'" in problem, "the school is named"
    assert f" {field} " in problem or f" {field!r}" in problem, "the field is named"
    assert says in problem
    assert "\n" not in problem


@pytest.mark.parametrize("field", ["id", "name", "origins"])
def test_a_missing_field_that_is_needed_is_named(field):
    entry = {key: value for key, value in OAK.items() if key != field}

    [problem] = problems(entry)

    assert f"{field} is missing" in problem
    assert "school number 1" in problem if field == "id" else "school 'oak'" in problem


def test_a_uk_school_needs_its_nation_for_its_leads_title():
    entry = {key: value for key, value in OAK.items() if key != "nation"}

    assert "nation is missing" in problems(entry)[0]
    assert "nation is missing" in problems({**entry, "region": "uk"})[0]


def test_ids_and_origins_belong_to_one_school():
    assert problems(OAK, {**GLEN, "id": "oak"}) == ("schools.yml: school 'oak': id 'oak' is used by two schools.",)
    [problem] = problems(OAK, {**GLEN, "origins": ["https://glen.example", "https://OAK.example/"]})
    assert "school 'glen': origins has 'https://oak.example', which school 'oak' lists too" in problem


def test_every_problem_is_listed_and_the_error_itself_is_one_line():
    with pytest.raises(SchoolsError) as error:
        registry({**OAK, "widget_colour": "blue", "retention_days": 0}, {**GLEN, "nation": "mars"})

    assert len(error.value.problems) == 3
    assert str(error.value) == f"{error.value.problems[0]} (and 2 more: python -m bot schools check lists them)"


@pytest.mark.parametrize(
    "text", ["", "schools: []", "schools:\n  - id: [unclosed", "- id: oak", "schools:\n  - just text"]
)
def test_a_file_that_is_not_a_list_of_schools_is_one_line(text):
    with pytest.raises(SchoolsError) as error:
        parse_registry(text, "schools.yml")

    assert str(error.value).startswith("schools.yml: ") and "\n" not in str(error.value)


def test_the_example_registry_is_valid():
    assert len(load_registry(PROJECT_DIR / "schools.example.yml").schools) >= 2


# --- origins and conversation ids -------------------------------------------------------------


def test_the_school_of_a_page_is_the_one_listing_its_origin_as_browsers_send_it():
    schools = registry(OAK, GLEN)

    assert schools.for_origin("https://oak.example").id == "oak"  # type: ignore[union-attr]
    assert schools.for_origin("https://OAK.example:443/").id == "oak"  # type: ignore[union-attr]
    assert schools.for_origin("http://localhost:8081").id == "glen"  # type: ignore[union-attr]
    for unknown in ("http://oak.example", "https://oak.example:8443", "https://evil.example", "null", "", None):
        assert schools.for_origin(unknown) is None, unknown


def test_a_thousand_schools_each_found_by_each_origin():
    schools = registry(*({**OAK, "id": f"s{n}", "origins": [f"https://s{n}.example", f"https://www.s{n}.example"]}
                         for n in range(1000)))  # fmt: skip

    assert len(schools.by_origin) == 2000
    assert all(schools.for_origin(f"https://www.s{n}.example").id == f"s{n}" for n in range(1000))  # type: ignore[union-attr]


def test_a_conversation_id_names_its_school_whatever_the_client_chose():
    schools = registry(OAK, GLEN)
    oak = schools.by_id["oak"]

    chosen = conversation_id(oak, "glen:abc")

    assert chosen == "oak:glen:abc"
    assert schools.of_conversation(chosen) is oak
    assert client_id(chosen) == "glen:abc"
    assert schools.of_conversation("abc") is None and schools.of_conversation("nowhere:abc") is None


def test_normal_origins():
    assert normal_origin("HTTPS://Oak.Example:443") == "https://oak.example"
    assert normal_origin("http://[::1]:8080/") == "http://[::1]:8080"
    assert normal_origin("https://user@oak.example") is None
    assert normal_origin("https://oak.example:99999") is None


# --- python -m bot schools --------------------------------------------------------------------


def test_list_prints_a_line_per_school(registry_file, capsys):
    assert cli.main(["schools", "list"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "oak: Oak Primary (uk/england); DSL: Ms Patel, room 4; https://oak.example",
        "glen: Glen Academy (uk/scotland); child protection coordinator: Mr Reid; "
        "https://glen.example, http://localhost:8081",
        "brigids: St Brigid's (ie); safeguarding lead: contact not set; https://brigids.example",
    ]


def test_check_gives_a_summary_or_the_problems(registry_file, capsys):
    assert cli.main(["schools", "check"]) == 0
    assert "3 school(s), 4 origin(s); all valid" in capsys.readouterr().out

    registry_file.write_text(registry_text({**OAK, "widget_colour": "blue"}, {**GLEN, "id": "oak"}))
    assert cli.main(["schools", "check"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "schools.yml: school 'oak': widget_colour 'blue' is not allowed: "
        "use #rrggbb, e.g. '#005ea5' (quoted: an unquoted # starts a comment).",
        "schools.yml: school 'oak': id 'oak' is used by two schools.",
    ]


def test_add_appends_a_checked_school_and_keeps_the_file_as_it_was_written(tmp_path, capsys):
    path = tmp_path / "schools.yml"
    path.write_text((PROJECT_DIR / "schools.example.yml").read_text(encoding="utf-8"), encoding="utf-8")
    before = path.read_text(encoding="utf-8")

    code = cli.main(
        ["schools", "--file", str(path), "add", "--id", "elm", "--name", "Elm School", "--nation", "wales",
         "--origin", "https://elm.example", "--origin", "https://www.elm.example", "--widget-colour", "#AA0011",
         "--retention-days", "60"]
    )  # fmt: skip

    assert code == 0, capsys.readouterr().err
    after = path.read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n")), "comments and schools stay as they were"
    elm = load_registry(path).schools[-1]
    assert (elm.id, elm.lead_short, elm.origins) == ("elm", "DSP", ("https://elm.example", "https://www.elm.example"))
    assert (elm.widget_colour, elm.retention_days) == ("#aa0011", 60)
    assert "\n  - id: elm\n    name: Elm School\n" in after and "\n      - https://elm.example\n" in after


def test_add_writes_nothing_when_the_school_is_not_valid(registry_file, capsys):
    before = registry_file.read_text(encoding="utf-8")

    taken = cli.main(
        ["schools", "add", "--id", "elm", "--name", "Elm", "--region", "us", "--origin", "https://oak.example"]
    )
    bad = cli.main(["schools", "add", "--id", "elm", "--name", "Elm", "--nation", "wales", "--origin", "elm.example"])

    assert (taken, bad) == (1, 1)
    err = capsys.readouterr().err
    assert "which school 'oak' lists too" in err and "school 'elm': origins has 'elm.example'" in err
    assert registry_file.read_text(encoding="utf-8") == before


def test_add_creates_a_new_registry(tmp_path):
    path = tmp_path / "new.yml"

    school = add_school(path, {"id": "elm", "name": "Elm", "region": "au", "origins": ["https://elm.example"]})

    assert school.region == "au" and load_registry(path).schools == (school,)


def test_add_refuses_a_file_whose_schools_list_is_not_last(tmp_path):
    path = tmp_path / "schools.yml"
    path.write_text(registry_text(OAK) + "notes: kept here\n", encoding="utf-8")

    with pytest.raises(SchoolsError, match="must end with its 'schools:' list"):
        add_school(path, GLEN)


# --- REST: the Origin decides the school ------------------------------------------------------


def rest_request(origin: str | None, sender: str = "abc", message: str = "hello") -> SimpleNamespace:
    return SimpleNamespace(
        path=REST_WEBHOOK,
        method="POST",
        headers=Header({"origin": origin} if origin else {}),  # Sanic's: a multidict
        body=json.dumps({"sender": sender, "message": message}).encode(),
        ip="10.0.0.1",
        ctx=SimpleNamespace(),
    )


@pytest.fixture(scope="module")
def schools() -> Schools:
    return Schools(registry(OAK, GLEN, BRIGIDS), make_guards(load_settings({})))


@pytest.fixture(scope="module")
def check_request(schools):
    app = Sanic("schools_rest_test")
    add_request_guard(app, schools.guards["uk"], schools)
    return app.request_middleware[0]


async def test_the_sender_is_given_the_school_of_the_origin(check_request):
    oak, posing = rest_request("https://oak.example"), rest_request("https://oak.example", sender="glen:abc")

    assert await check_request(oak) is None and await check_request(posing) is None

    assert json.loads(oak.body)["sender"] == "oak:abc"
    assert json.loads(posing.body)["sender"] == "oak:glen:abc", "a sender cannot name another school"
    assert oak.ctx.sender == "abc"


@pytest.mark.parametrize("origin", ["https://evil.example", "null", None])
async def test_a_page_of_no_school_gets_403_with_a_reason(check_request, origin):
    answer = await check_request(rest_request(origin))

    assert answer.status == 403
    assert "origin is not one of the schools" in json.loads(answer.body)["error"]


async def test_the_servers_own_replies_give_the_schools_emergency_number(check_request):
    answer = await check_request(rest_request("https://brigids.example", message="x" * 2001))

    messages = json.loads(answer.body)
    assert messages[0]["recipient_id"] == "abc"
    assert "call 112 or 999" in messages[-1]["text"]


async def test_rest_replies_go_back_under_the_clients_own_id(schools):
    seen = []

    async def on_new_message(message: UserMessage) -> None:
        seen.append(message.sender_id)
        await message.output_channel.send_response(message.sender_id, {"text": "Hello"})

    rest = input_channels([], schools.guards["uk"], schools)[0]
    [receive] = [r.handler for r in rest.blueprint(on_new_message)._future_routes if r.uri == "/webhook"]
    reply = await receive(SimpleNamespace(json={"sender": "oak:abc", "message": "hi"}, args={}))

    assert seen == ["oak:abc"]
    assert json.loads(reply.body) == [{"recipient_id": "abc", "text": "Hello"}]


# --- socket.io: the handshake's Origin decides the school -------------------------------------


class FakeSocketServer:
    """What the channel's handlers use of python-socketio's server, kept in dictionaries."""

    def __init__(self) -> None:
        self.sessions: dict[str, dict] = {}
        self.rooms: dict[str, str] = {}
        self.emitted: list[tuple[str, Any, str | None]] = []

    async def save_session(self, sid: str, session: dict, namespace: str | None = None) -> None:
        self.sessions[sid] = session

    async def get_session(self, sid: str, namespace: str | None = None) -> dict:
        return self.sessions[sid]

    def enter_room(self, sid: str, room: str, namespace: str | None = None) -> None:
        self.rooms[sid] = room

    async def emit(self, event: str, data: Any, room: str | None = None, **_: Any) -> None:
        self.emitted.append((event, data, room))


@pytest.fixture
def socket(schools):
    """The socket.io channel's handlers with a registry, their server a FakeSocketServer."""
    received: list[str] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message.sender_id)

    channel = input_channels([], schools.guards["uk"], schools)[1]
    channel.blueprint(on_new_message)
    fake = FakeSocketServer()
    for name in ("save_session", "get_session", "enter_room", "emit"):
        setattr(channel.sio, name, getattr(fake, name))
    handlers = channel.sio.handlers["/"]  # type: ignore[union-attr]
    return SimpleNamespace(handlers=handlers, server=fake, received=received)


async def test_a_connection_from_a_page_of_no_school_is_refused(socket):
    connect = socket.handlers["connect"]

    assert await connect("s1", {"HTTP_ORIGIN": "https://evil.example"}) is False
    assert await connect("s2", {}) is False
    assert await connect("s3", {"HTTP_ORIGIN": "https://glen.example"}) is True
    assert socket.server.sessions == {"s3": {"school": "glen"}}


async def test_the_session_and_its_replies_room_are_the_schools(socket):
    await socket.handlers["connect"]("s1", {"HTTP_ORIGIN": "https://oak.example"})

    await socket.handlers["session_request"]("s1", {"session_id": "abc"})
    await socket.handlers["user_uttered"]("s1", {"message": "hello", "session_id": "abc"})
    await socket.handlers["user_uttered"]("s1", {"message": "hello", "session_id": "glen:abc"})

    assert socket.server.rooms == {"s1": "oak:abc"}, "replies to oak:abc reach this page only"
    assert ("session_confirm", "abc", "s1") in socket.server.emitted, "confirmed under the client's own id"
    assert socket.received == ["oak:abc", "oak:glen:abc"]


# --- the replies are the school's -------------------------------------------------------------


@pytest.fixture(scope="module")
def rasa_domain(domain) -> Domain:  # the `domain` fixture builds var/domain
    return Domain.load(str(DOMAIN_DIR))


async def reply(rasa_domain: Domain, response: str, sender: str) -> str:
    nlg = NaturalLanguageGenerator.create(EndpointConfig(type="bot.nlg.DeploymentNLG"), None)
    nlg.responses = rasa_domain.responses  # type: ignore[attr-defined]  # as Agent.load_model does
    message = await nlg.generate(response, DialogueStateTracker.from_events(sender, [], rasa_domain.slots), "rest")
    assert message is not None and "{" not in message["text"]
    return str(message["text"])


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("oak:abc", "At Oak Primary, the Designated Safeguarding Lead (DSL) is Ms Patel, room 4."),
        ("glen:abc", "At Glen Academy, the Child Protection Coordinator is Mr Reid."),
        ("brigids:abc", "Every school has a safeguarding lead. The school office can tell you who it is."),
        ("abc", "At Deployment School, the designated safeguarding person (DSP) is Mrs Jones."),
    ],
)
async def test_staff_are_told_their_own_schools_lead(registry_file, monkeypatch, rasa_domain, sender, expected):
    for name, value in DEPLOYMENT.items():  # a conversation of no school is the deployment's
        monkeypatch.setenv(name, value)

    assert (await reply(rasa_domain, "utter_school_contact", sender)).startswith(expected)


async def test_the_region_and_retention_are_the_schools(registry_file, monkeypatch, rasa_domain):
    monkeypatch.setenv("TT_RETENTION_DAYS", "30")

    assert (await reply(rasa_domain, "utter_danger_call_emergency", "brigids:abc")).startswith("Call 112 or 999 now")
    assert (await reply(rasa_domain, "utter_danger_call_emergency", "oak:abc")).startswith("Call 999 now")
    assert "for up to 90 days" in await reply(rasa_domain, "utter_privacy", "glen:abc")
    assert "for up to 30 days" in await reply(rasa_domain, "utter_privacy", "oak:abc")


def test_a_school_fills_in_every_runtime_setting():
    oak = registry(OAK).schools[0]

    assert set(school_values(oak, retention_days=30)) == set(RUNTIME_SETTINGS)


# --- the widget's configuration ---------------------------------------------------------------


@pytest.fixture(scope="module")
def widget_config():
    app = Sanic("schools_widget_test")
    add_widget_routes(app, load_settings({}), registry=registry(OAK, GLEN, BRIGIDS))
    [handler] = [r.handler for r in app.router.routes if r.path == "widget/config.json"]

    async def fetch(origin: str | None) -> tuple[int, dict]:
        answer = await handler(SimpleNamespace(headers={"origin": origin} if origin else {}))
        return answer.status, json.loads(answer.body)

    return fetch


async def test_the_widget_gets_its_schools_title_colour_and_emergency_number(widget_config):
    status, oak = await widget_config("https://oak.example")
    _, brigids = await widget_config("https://brigids.example")

    assert status == 200
    assert (oak["title"], oak["colour"], oak["emergency_number"]) == ("Oak chat", "#005ea5", "999")
    assert brigids["emergency_number"] == "112 or 999" and "title" not in brigids and "colour" not in brigids
    assert oak["link_addresses"], "the addresses that may become links are every school's"


@pytest.mark.parametrize("origin", ["https://evil.example", None])
async def test_the_widget_of_a_page_of_no_school_gets_403(widget_config, origin):
    status, body = await widget_config(origin)

    assert status == 403 and body["error"]


# --- purge: each school's retention -----------------------------------------------------------


async def test_purge_keeps_each_schools_conversations_for_its_own_period(registry_file, monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'tt.db'}"
    monkeypatch.setenv("TT_DATABASE_URL", url)
    monkeypatch.setenv("TT_RETENTION_DAYS", "30")
    store = TalkTrackerStore(domain=Domain.empty(), url=url)
    now = dt.datetime.now(dt.UTC)
    for sender, age in [("glen:old", 60), ("glen:older", 100), ("oak:old", 40), ("oak:new", 10), ("old", 40)]:
        said = UserUttered("hello", timestamp=(now - dt.timedelta(days=age)).timestamp())
        await store.save(DialogueStateTracker.from_events(sender, [said]))

    assert cli.main(["purge"]) == 0

    assert set(await store.keys()) == {"glen:old", "oak:new"}, "glen keeps 90 days, the others 30"


# --- the launcher's readiness probe -----------------------------------------------------------


class PageOfTheFirstSchool(BaseHTTPRequestHandler):
    """Answers like the model, to a request from the first school's page only; records the sender."""

    senders: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        allowed = self.headers.get("Origin") == OAK["origins"][0]
        PageOfTheFirstSchool.senders.append(body["sender"])
        self.send_response(200 if allowed else 403)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps([{"recipient_id": body["sender"], "text": "Hello"}]).encode())

    def log_message(self, format: str, *args: object) -> None:
        return


async def test_the_readiness_probe_talks_as_the_first_school_and_forgets_its_conversation(registry_file, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), PageOfTheFirstSchool)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"sqlite:///{tmp_path / 'tt.db'}"
    store = TalkTrackerStore(domain=Domain.empty(), url=url)
    settings = load_settings({"TT_SCHOOLS_FILE": str(registry_file), "TT_DATABASE_URL": url})
    try:
        probe = ModelProbe.for_deployment(
            f"http://127.0.0.1:{server.server_address[1]}/webhooks/rest/webhook", settings
        )
        for sender in (f"oak:{probe.sender}", probe.sender, "oak:a-parent"):
            await store.save(DialogueStateTracker.from_events(sender, [UserUttered("hello")]))

        assert probe.problem(timeout=5) is None
        probe.forget()
    finally:
        server.shutdown()
        server.server_close()

    assert PageOfTheFirstSchool.senders == [probe.sender]
    assert set(await store.keys()) == {probe.sender, "oak:a-parent"}, "the school's probe conversation is deleted"
