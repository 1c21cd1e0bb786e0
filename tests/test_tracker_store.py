"""The windowed tracker store: same dialogue state as a full read, nothing lost, nothing doubled.

Runs on SQLite and on PostgreSQL (the `postgres_url` fixture in conftest.py: skipped where no
PostgreSQL answers, a failure on CI).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import uuid

import pytest
import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.launcher import write_runtime_config
from bot.settings import DatabaseUnavailable, load_settings
from bot.tracker_store import DELETING_RESPONSE as DELETING
from bot.tracker_store import SQLEvent, StaleTrackerError, TalkTrackerStore

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, report_danger]
slots:
  region: {type: text, mappings: [{type: custom}]}
  age_band: {type: categorical, values: [under_7, 7_to_10, 11_to_13, 14_to_17], mappings: [{type: custom}]}
  requested_slot: {type: any, mappings: [{type: custom}]}
responses:
  utter_greet: [{text: hi}]
"""
)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'events.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def servers(db_url):
    """A store per server: each makes its own store, all on one database."""
    made: list[TalkTrackerStore] = []

    def make() -> TalkTrackerStore:
        made.append(TalkTrackerStore(domain=DOMAIN, url=db_url, window_turns=3))
        return made[-1]

    yield make
    for store in made:
        store.engine.dispose()


@pytest.fixture
def store(servers):
    return servers()


def _turn(number: int) -> list:
    """One user turn as Rasa logs it: the message, a reply, listening again."""
    return [
        UserUttered(f"message {number}", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("utter_greet"),
        BotUttered(f"reply {number}"),
        ActionExecuted("action_listen"),
    ]


async def _converse(store, sender: str, turns: list[list]) -> None:
    """Save turn by turn through fresh reads, as the server does for every message."""
    tracker = await store.get_or_create_tracker(sender)
    await store.save(tracker)
    for events in turns:
        tracker = await store.retrieve(sender)
        for event in events:
            tracker.update(event)
        await store.save(tracker)


def _rows(store, sender: str) -> list[str]:
    with store.sessionmaker() as session:
        query = sa.select(SQLEvent.type_name).where(SQLEvent.sender_id == sender).order_by(SQLEvent.id)
        return list(session.scalars(query))


async def test_long_conversation_keeps_every_event_once_and_reads_a_bounded_window(store):
    sender = f"test-{uuid.uuid4()}"
    turns = [_turn(n) for n in range(30)]
    turns[2] += [SlotSet("region", "ie")]
    turns[5] += [SlotSet("age_band", "11_to_13"), ActiveLoop("triage_form"), SlotSet("requested_slot", "age_band")]

    await _converse(store, sender, turns)

    full = await store.retrieve_full_tracker(sender)
    window = await store.retrieve(sender)
    assert _rows(store, sender).count("user") == 30
    assert len(_rows(store, sender)) == len(full.events)
    assert len(window.events) < 25 < len(full.events)
    assert window.current_slot_values() == full.current_slot_values()
    assert window.current_slot_values()["region"] == "ie"
    assert window.active_loop_name == full.active_loop_name == "triage_form"
    assert window.latest_message.text == full.latest_message.text == "message 29"
    assert [e.as_dict() for e in list(window.events)[-12:]] == [e.as_dict() for e in list(full.events)[-12:]]


async def test_slots_reset_and_restart_are_honoured_at_the_window_start(store):
    sender = f"test-{uuid.uuid4()}"
    turns = [_turn(n) for n in range(10)]
    turns[1] += [SlotSet("region", "us")]
    turns[3] += [AllSlotsReset(), SlotSet("age_band", "7_to_10")]
    await _converse(store, sender, turns)

    window = await store.retrieve(sender)
    assert window.get_slot("region") is None
    assert window.get_slot("age_band") == "7_to_10"

    await _converse(store, sender, [[Restarted(), ActionExecuted("action_listen")], _turn(99)])
    after_restart = await store.retrieve(sender)
    assert after_restart.get_slot("age_band") is None
    assert [e.text for e in after_restart.events if isinstance(e, UserUttered)] == ["message 99"]


async def test_a_new_session_starts_a_fresh_window(store):
    sender = f"test-{uuid.uuid4()}"
    old_session = [_turn(n) for n in range(6)]
    old_session[0] += [SlotSet("region", "au")]
    new_session = [[ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]]
    await _converse(store, sender, [*old_session, *new_session, _turn(50)])

    tracker = await store.retrieve(sender)
    assert tracker.get_slot("region") is None
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["message 50"]
    assert _rows(store, sender).count("user") == 7


def _say(tracker, events) -> None:
    for event in events:
        tracker.update(event)


async def test_a_save_from_a_stale_view_is_refused_and_nothing_of_it_is_stored(servers, caplog):
    this_server, other_server = servers(), servers()
    sender = f"test-{uuid.uuid4()}"
    await _converse(this_server, sender, [_turn(1)])
    stale, fresh = await this_server.retrieve(sender), await other_server.retrieve(sender)
    _say(fresh, _turn(2))
    await other_server.save(fresh)  # the other server took the next turn while this one stalled
    _say(stale, [UserUttered("zebra says hi", {"name": "greet", "confidence": 1.0}), ActionExecuted("utter_greet")])

    with caplog.at_level(logging.WARNING), pytest.raises(StaleTrackerError):
        await this_server.save(stale)

    assert "zebra" not in _stored_text(this_server, sender)
    assert _rows(this_server, sender).count("user") == 2
    [warning] = [record for record in caplog.records if record.name == "bot.tracker_store"]
    assert "Refused to save" in warning.getMessage()
    assert "zebra" not in caplog.text and sender not in caplog.text
    again = await this_server.retrieve(sender)  # the next turn reads afresh and is saved
    _say(again, _turn(3))
    await this_server.save(again)
    assert _rows(this_server, sender).count("user") == 3


async def test_a_new_conversation_is_refused_when_another_server_has_started_it(servers):
    this_server, other_server = servers(), servers()
    sender = f"test-{uuid.uuid4()}"
    assert await this_server.retrieve(sender) is None
    mine = this_server.init_tracker(sender)
    _say(mine, [ActionExecuted("action_listen"), *_turn(1)])
    await other_server.get_or_create_tracker(sender)

    with pytest.raises(StaleTrackerError):
        await this_server.save(mine)

    assert _rows(this_server, sender) == ["action"], "only the other server's action_listen"


async def test_saves_racing_from_one_view_store_exactly_one_of_them(servers):
    sender = f"test-{uuid.uuid4()}"
    stores = [servers() for _ in range(4)]
    await _converse(stores[0], sender, [_turn(0)])
    views = [await store.retrieve(sender) for store in stores]
    for number, view in enumerate(views, start=1):
        _say(view, _turn(number))
    start, outcomes = threading.Barrier(len(stores)), []

    def save(store, view) -> None:
        start.wait()  # all check and write at the same moment
        try:
            asyncio.run(store.save(view))
            outcomes.append("saved")
        except StaleTrackerError:
            outcomes.append("refused")

    threads = [threading.Thread(target=save, args=pair) for pair in zip(stores, views, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["refused", "refused", "refused", "saved"]
    assert _rows(stores[0], sender).count("user") == 2


async def test_a_message_delivered_again_under_its_client_id_is_stored_once(servers):
    """A server stored the turn and died before answering; the client sent it again, under the
    same id, and another server ran it again."""
    first_server, second_server = servers(), servers()
    sender = f"test-{uuid.uuid4()}"
    await _converse(first_server, sender, [_turn(1)])
    tracker = await first_server.retrieve(sender)
    again = UserUttered("she is 12", {"name": "tell_age", "confidence": 1.0}, message_id="client-0001")
    _say(tracker, [again, ActionExecuted("utter_ack")])
    await first_server.save(tracker)

    redelivered = await second_server.retrieve(sender)
    _say(redelivered, [UserUttered("she is 12", message_id="client-0001"), ActionExecuted("utter_ack")])
    await second_server.save(redelivered)
    assert _rows(second_server, sender).count("user") == 2

    following = await second_server.retrieve(sender)  # a new message, with an id of its own, is stored
    _say(following, [UserUttered("thanks", message_id="client-0002"), ActionExecuted("utter_welcome")])
    await second_server.save(following)
    assert _rows(second_server, sender).count("user") == 3


async def test_a_turn_saved_twice_appends_each_time(store):
    sender = f"test-{uuid.uuid4()}"
    tracker = await store.get_or_create_tracker(sender)  # a new conversation, saved at once
    _say(tracker, _turn(1)[:2])
    await store.save(tracker)
    _say(tracker, _turn(1)[2:])
    await store.save(tracker)

    assert _rows(store, sender) == ["action", "user", "action", "bot", "action"]


async def test_a_confirmed_deletion_from_a_stale_view_still_deletes_and_the_other_view_cannot_bring_it_back(servers):
    this_server, other_server = servers(), servers()
    sender = f"test-{uuid.uuid4()}"
    await _converse(this_server, sender, [_turn(1)])
    deleting, other = await this_server.retrieve(sender), await other_server.retrieve(sender)
    late = await other_server.retrieve(sender)
    _say(other, _turn(2))
    await other_server.save(other)
    _say(deleting, [UserUttered("yes", {"name": "affirm", "confidence": 1.0}), ActionExecuted(DELETING)])

    await this_server.save(deleting)  # the person was told it is deleted: it is, all of it

    assert _rows(this_server, sender) == []
    _say(late, _turn(3))
    with pytest.raises(StaleTrackerError):
        await other_server.save(late)
    assert _rows(this_server, sender) == []


class _Broker(EventBroker):
    def __init__(self) -> None:
        self.published: list[dict] = []

    def publish(self, event: dict) -> None:
        self.published.append(event)


async def test_only_saved_events_are_published_to_an_event_broker(db_url):
    broker = _Broker()
    this_server = TalkTrackerStore(domain=DOMAIN, url=db_url, event_broker=broker)
    other_server = TalkTrackerStore(domain=DOMAIN, url=db_url)
    sender = f"test-{uuid.uuid4()}"
    await _converse(this_server, sender, [_turn(1)])
    assert [event["event"] for event in broker.published] == ["action", "user", "action", "bot", "action"]
    stale, fresh = await this_server.retrieve(sender), await other_server.retrieve(sender)
    _say(fresh, _turn(2))
    await other_server.save(fresh)
    _say(stale, _turn(3))

    with pytest.raises(StaleTrackerError):
        await this_server.save(stale)

    assert len(broker.published) == 5, "nothing of the refused save"
    for store in (this_server, other_server):
        store.engine.dispose()


def test_the_pool_size_setting_reaches_the_postgresql_engine_through_the_endpoints_file(postgres_url, tmp_path):
    environ = {"TT_DATABASE_URL": postgres_url, "TT_DATABASE_POOL_SIZE": "3"}
    endpoints_file = write_runtime_config(load_settings(environ, env_file=tmp_path / ".env"), tmp_path)

    store = TrackerStore.create(AvailableEndpoints.read_endpoints(str(endpoints_file)).tracker_store, DOMAIN)

    assert isinstance(store, TalkTrackerStore)
    assert store.engine.pool.size() == 3
    assert store.engine.pool._max_overflow == 3, "as many again at peaks (.env.example)"
    store.engine.dispose()


async def test_keys_lists_conversations(store):
    sender = f"test-{uuid.uuid4()}"
    await _converse(store, sender, [_turn(1)])

    assert sender in await store.keys()


def test_an_unreachable_database_names_the_setting():
    with pytest.raises(DatabaseUnavailable, match=r"^TT_DATABASE_URL=.*cannot reach the database"):
        TalkTrackerStore(domain=DOMAIN, url="postgresql://postgres@127.0.0.1:1/none")


def _stored_text(store, sender: str) -> str:
    with store.sessionmaker() as session:
        return "\n".join(session.scalars(sa.select(SQLEvent.data).where(SQLEvent.sender_id == sender)))


async def test_personal_details_are_redacted_in_storage_but_not_in_memory(store):
    sender = f"test-{uuid.uuid4()}"
    text = "he's @dan_x on snap, call me on 07700 900123 or jo@example.com, we're at SW1A 1AA"
    parse_data = {"text": text, "intent": {"name": "greet", "confidence": 1.0}, "entities": []}
    tracker = await store.get_or_create_tracker(sender)
    tracker.update(UserUttered(text, parse_data["intent"], parse_data=parse_data))

    await store.save(tracker)

    assert tracker.latest_message.text == text
    stored = _stored_text(store, sender)
    for detail in ("@dan_x", "07700", "jo@example.com", "SW1A"):
        assert detail not in stored
    for placeholder in ("[handle]", "[phone]", "[email]", "[postcode]"):
        assert placeholder in stored


async def test_delete_my_conversation_removes_it_and_keeps_nothing_of_the_request(store):
    sender = f"test-{uuid.uuid4()}"
    await _converse(store, sender, [_turn(n) for n in range(3)])
    tracker = await store.retrieve(sender)
    tracker.update(UserUttered("delete my conversation", {"name": "delete_conversation", "confidence": 1.0}))
    tracker.update(ActionExecuted(DELETING))

    await store.save(tracker)

    assert _rows(store, sender) == []
    assert await store.retrieve(sender) is None


async def test_purge_removes_only_conversations_past_retention(store):
    old, recent = f"test-old-{uuid.uuid4()}", f"test-new-{uuid.uuid4()}"
    await _converse(store, old, [_turn(1)])
    await _converse(store, recent, [_turn(1)])
    with store.sessionmaker() as session:
        session.execute(sa.update(SQLEvent).where(SQLEvent.sender_id == old).values(timestamp=0.0))
        session.commit()

    removed = store.purge(dt.timedelta(days=30))

    assert removed >= 1
    assert _rows(store, old) == []
    assert _rows(store, recent)


async def test_a_failed_save_does_not_quote_the_conversation_in_its_error(tmp_path):
    """Rasa logs a failed save with the error's text, at ERROR (FailSafeTrackerStore)."""
    store = TalkTrackerStore(domain=DOMAIN, url=f"sqlite:///{tmp_path / 'events.db'}")
    with store.engine.begin() as connection:  # a write that fails, as on a full disk
        connection.execute(
            sa.text("CREATE TRIGGER full BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'full'); END")
        )
    tracker = DialogueStateTracker.from_events("s1", [UserUttered("zebra is messaging my son")], DOMAIN.slots)

    with pytest.raises(sa.exc.DBAPIError) as raised:
        await store.save(tracker)
    store.engine.dispose()

    assert "INSERT INTO events" in str(raised.value)
    assert "zebra" not in str(raised.value)
