"""SQL tracker store whose cost per message does not grow with the conversation.

Rasa's `SQLTrackerStore` reads and replays every event of the session on every message and
counts them again to know what to append, so turn 300 costs many times turn 1. This store
keeps every event in the same `events` table (same schema, so Rasa's tools still read it) but

- gives the dialogue only the last `window_turns` user turns, preceded by the state that
  came before them (latest value of each slot, the active form, a pause), which is all the
  policies look at: no rule or story spans more user turns than the window
  (tests/test_tracker_store.py checks it against data/);
- appends only the events added since the tracker was read, without counting rows;
- refuses a stale write: several servers share the store, and Rasa's lock keeps one
  conversation's turns apart only while a turn lasts less than the lock's lifetime. A server
  that stalls (overloaded, or stopped with SIGSTOP) past it comes back with a view of the
  conversation that another server has since added to. So a save first locks the conversation
  in the database and checks that its newest stored event is still the one this server read;
  if not, nothing is written and `StaleTrackerError` is raised;
- stores a message delivered twice only once: a client that got no answer (its server died
  after storing the turn, before replying) sends it again under the id it chose
  (`metadata.message_id`, bot/channels.py), and the server that takes it sees that id among
  the turns it read and stores nothing of the second run;
- never waits forever for a database that is down: start-up fails with one line that names
  `TT_DATABASE_URL`;
- stores what people type with personal details replaced by placeholders (bot/redaction.py),
  while the dialogue in memory keeps the original words;
- forgets a conversation at once when its user asks and confirms (the rules then send
  `utter_conversation_deleted`), and
  purges conversations older than the retention period.

`retrieve_full_tracker` still returns the whole conversation.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

from bot.redaction import redact_event
from bot.settings import DatabaseUnavailable

logger = logging.getLogger(__name__)

SQLEvent = SQLTrackerStore.SQLEvent
# Rasa indexes only `sender_id`; the window queries filter on the event type as well.
sa.Index("ix_events_sender_id_type_name", SQLEvent.sender_id, SQLEvent.type_name)
# Every save reads the conversation's newest event id: one lookup in this index, however long it is.
sa.Index("ix_events_sender_id_id", SQLEvent.sender_id, SQLEvent.id)

# "Delete my conversation" is asked again first; once the person says yes, the rules send this
# response and the store forgets the conversation at once.
DELETING_RESPONSE = "utter_conversation_deleted"
DEFAULT_WINDOW_TURNS = 5  # more user turns than the longest rule or story looks back over
_BOUNDARY_TYPES = ("session_started", "restart")
_PERSISTED = "_talk_together_persisted"  # attribute on a tracker: events already stored
# Attribute on a tracker: id of the newest stored event when this store read or last saved it;
# absent or None: nothing was stored. Kept on the tracker, not in the store, because the store
# serves many turns at once and each must be checked against what it read itself.
_NEWEST = "_talk_together_newest_id"
_IMMEDIATE = "talk_together_begin_immediate"  # execution option: a SQLite transaction that writes
DEFAULT_POOL_SIZE = 5


class StaleTrackerError(RuntimeError):
    """Another server saved the conversation after this one read it, so this server's view is stale
    (it stalled past its lock's lifetime, say): the save was refused and nothing of it was stored."""

    def __init__(self, sender_id: str) -> None:
        # No sender id in the text: Rasa logs it, and a REST client may choose an e-mail address as its id.
        super().__init__(
            "Refused to save a conversation that another server saved after this one read it; nothing was stored."
        )
        self.sender_id = sender_id


@functools.cache
def _event_classes() -> dict[str, type[Event]]:
    classes: dict[str, type[Event]] = {}
    for cls in all_subclasses(Event):
        classes.setdefault(cls.type_name, cls)
    return classes


def _event(data: dict[str, Any]) -> Event:
    """`Event.from_parameters`, without walking every Event subclass for every event."""
    cls = _event_classes().get(data.get("event", ""))
    event = cls._from_parameters(data) if cls else Event.from_parameters(data)
    if event is None:
        raise ValueError(f"cannot read a stored event of type {data.get('event')!r}")
    return event


def _asks_for_deletion(event: Event) -> bool:
    return isinstance(event, ActionExecuted) and event.action_name == DELETING_RESPONSE


def _delivered_before(tracker: DialogueStateTracker, new_events: list[Event]) -> bool:
    """Whether a new user message has the id of one already stored in the conversation."""
    stored = itertools.islice(tracker.events, getattr(tracker, _PERSISTED, 0))
    stored_ids = {event.message_id for event in stored if isinstance(event, UserUttered) and event.message_id}
    return any(isinstance(event, UserUttered) and event.message_id in stored_ids for event in new_events)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver would begin transactions itself, only before a write and always DEFERRED;
    # SQLAlchemy begins them instead (_sqlite_begin).
    dbapi_connection.isolation_level = None
    # WAL lets readers and the writer work at once; NORMAL sync keeps every committed turn
    # across a crash of the server process (not of the machine) without an fsync per turn.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_begin(connection: sa.engine.Connection) -> None:
    # A save begins IMMEDIATE: it takes SQLite's one write lock before it reads the conversation's
    # newest event, so no other writer can save between that check and its own write. A read
    # begins DEFERRED, and sees one snapshot for all its queries.
    immediate = connection.get_execution_options().get(_IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _advisory_lock_key(sender_id: str) -> int:
    """The conversation's PostgreSQL advisory lock (a signed 64-bit number). Two conversations
    that share one only wait for each other's saves."""
    return int.from_bytes(hashlib.blake2b(sender_id.encode(), digest_size=8).digest(), "big", signed=True)


def create_engine(url: str, pool_size: int = DEFAULT_POOL_SIZE) -> sa.engine.Engine:
    """An engine for `url`, with the SQLite settings this store relies on. On PostgreSQL it keeps
    `pool_size` connections open and opens as many again at peaks (TT_DATABASE_POOL_SIZE).

    Its errors do not quote their SQL parameters: those are the events, with what people typed,
    and Rasa logs a failed save with the error's text."""
    if url.startswith("sqlite"):
        # SQLAlchemy 1.4 opens and closes a SQLite file for every session by default; closing
        # the last connection checkpoints the WAL, which cost more than the rest of a turn.
        engine = sa.create_engine(
            url,
            future=True,
            hide_parameters=True,
            poolclass=sa.pool.QueuePool,
            pool_size=5,
            max_overflow=5,
            connect_args={"check_same_thread": False},  # the pool hands a connection to one user at a time
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    # pool_pre_ping: a connection PostgreSQL closed (it restarted) is replaced before a turn uses it,
    # so the first turn after a restart is stored like any other.
    kwargs = {**create_engine_kwargs(url), "pool_size": pool_size, "max_overflow": pool_size, "pool_pre_ping": True}
    return sa.create_engine(url, future=True, hide_parameters=True, **kwargs)


class TalkTrackerStore(SQLTrackerStore):
    """Windowed, append-only SQL tracker store (see the module docstring)."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        url: str | None = None,
        event_broker: EventBroker | None = None,
        window_turns: int = DEFAULT_WINDOW_TURNS,
        pool_size: int = DEFAULT_POOL_SIZE,
        **kwargs: Any,
    ) -> None:
        db_url = url or host
        if not db_url:
            raise DatabaseUnavailable("TT_DATABASE_URL is empty: the tracker store needs a database URL.")
        self.engine = create_engine(db_url, int(pool_size))
        try:
            self.Base.metadata.create_all(self.engine)
            for index in SQLEvent.__table__.indexes:  # also on a table an older version made
                index.create(self.engine, checkfirst=True)
        except sa.exc.SQLAlchemyError as error:
            reason = str(error.orig if hasattr(error, "orig") else error).strip().splitlines()[0]
            raise DatabaseUnavailable(
                f"TT_DATABASE_URL={self.engine.url!r}: cannot reach the database ({reason})."
            ) from error
        self.sessionmaker = sa.orm.sessionmaker(bind=self.engine, future=True)
        self.window_turns = window_turns
        TrackerStore.__init__(self, domain, event_broker, **kwargs)

    async def keys(self) -> Iterable[str]:
        with self.sessionmaker() as session:
            return list(session.scalars(sa.select(SQLEvent.sender_id).distinct()))

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        with self.sessionmaker() as session:
            events, newest = self._windowed_events(session, sender_id)
        if not events or self.domain is None:
            return None
        tracker = DialogueStateTracker.from_events(sender_id, [_event(data) for data in events], self.domain.slots)
        setattr(tracker, _PERSISTED, len(tracker.events))
        setattr(tracker, _NEWEST, newest)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the events added since the tracker was read, unless another server saved the
        conversation meanwhile (`StaleTrackerError`). A tracker this store did not read is a new
        conversation: all its events are new, and nothing may be stored yet."""
        sender_id = tracker.sender_id
        new_events = list(itertools.islice(tracker.events, getattr(tracker, _PERSISTED, 0), None))
        if not new_events:
            return
        if _delivered_before(tracker, new_events):
            logger.info("Not storing a turn again: its message was delivered before and is stored.")
            return
        with self.sessionmaker() as session, session.begin():
            self._lock_conversation(session, sender_id)
            if any(_asks_for_deletion(event) for event in new_events):
                # Keep nothing: not the conversation, not the request, not the reply. Also from a
                # stale view: the person was told it is deleted, so it must be.
                session.execute(sa.delete(SQLEvent).where(SQLEvent.sender_id == sender_id))
                newest = None
            else:
                if self._newest_id(session, sender_id) != getattr(tracker, _NEWEST, None):
                    logger.warning(
                        "Refused to save a turn: another server saved the conversation after this one read it "
                        "(this server's view is stale, e.g. it stalled past the lock's lifetime)."
                    )
                    raise StaleTrackerError(sender_id)
                rows = [self._row(sender_id, event.as_dict()) for event in new_events]
                session.add_all(rows)
                session.flush()  # gives the rows their ids
                newest = max(row.id for row in rows)
        setattr(tracker, _PERSISTED, len(tracker.events))
        setattr(tracker, _NEWEST, newest)
        if self.event_broker is not None:  # after the commit: a refused save publishes nothing
            await self._stream_new_events(self.event_broker, new_events, sender_id)

    def _lock_conversation(self, session: sa.orm.Session, sender_id: str) -> None:
        """Hold the conversation until the transaction ends, so that the stale check and the write are one step."""
        if self.engine.dialect.name == "sqlite":
            session.connection(execution_options={_IMMEDIATE: True})  # BEGIN IMMEDIATE (_sqlite_begin)
        else:
            session.execute(sa.select(sa.func.pg_advisory_xact_lock(_advisory_lock_key(sender_id))))

    @staticmethod
    def _newest_id(session: sa.orm.Session, sender_id: str) -> int | None:
        return session.scalar(sa.select(sa.func.max(SQLEvent.id)).where(SQLEvent.sender_id == sender_id))

    def delete(self, sender_id: str) -> int:
        """Remove every stored event of a conversation; return how many there were. Not async,
        like `purge`: it is called outside Rasa's event loop (the launcher's readiness probe)."""
        with self.sessionmaker() as session:
            deleted = session.execute(sa.delete(SQLEvent).where(SQLEvent.sender_id == sender_id)).rowcount
            session.commit()
        return int(deleted or 0)

    def purge(self, older_than: dt.timedelta) -> int:
        """Remove conversations whose last event is older than `older_than`; return how many."""
        cutoff = (dt.datetime.now(dt.UTC) - older_than).timestamp()
        stale = (
            sa.select(SQLEvent.sender_id)
            .group_by(SQLEvent.sender_id)
            .having(sa.func.max(SQLEvent.timestamp) < cutoff)
            .scalar_subquery()
        )
        with self.sessionmaker() as session:
            senders = set(session.scalars(sa.select(SQLEvent.sender_id).where(SQLEvent.sender_id.in_(stale))))
            session.execute(sa.delete(SQLEvent).where(SQLEvent.sender_id.in_(senders)))
            session.commit()
        return len(senders)

    def purge_by_prefix(self, older_than: dt.timedelta, kept_for: Mapping[str, dt.timedelta], separator: str) -> int:
        """`purge`, except that a conversation whose id starts with a prefix in `kept_for` (the text
        before its first `separator`: a school's id, bot/schools.py) is kept for that prefix's period."""
        now = dt.datetime.now(dt.UTC)
        shortest = min([older_than, *kept_for.values()])
        last_event = (
            sa.select(SQLEvent.sender_id, sa.func.max(SQLEvent.timestamp))
            .group_by(SQLEvent.sender_id)
            .having(sa.func.max(SQLEvent.timestamp) < (now - shortest).timestamp())
        )

        def kept(sender_id: str) -> dt.timedelta:
            prefix, found, _ = sender_id.partition(separator)
            return kept_for.get(prefix, older_than) if found else older_than

        with self.sessionmaker() as session:
            senders = {s for s, last in session.execute(last_event) if last < (now - kept(s)).timestamp()}
            session.execute(sa.delete(SQLEvent).where(SQLEvent.sender_id.in_(senders)))
            session.commit()
        return len(senders)

    @staticmethod
    def _row(sender_id: str, data: dict[str, Any]) -> Any:
        data = redact_event(data)
        return SQLEvent(
            sender_id=sender_id,
            type_name=data["event"],
            timestamp=data.get("timestamp"),
            intent_name=(data.get("parse_data") or {}).get("intent", {}).get("name"),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    @staticmethod
    def _boundary_id(session: sa.orm.Session, sender_id: str) -> int:
        """Id of the latest session start or restart: nothing before it shapes the dialogue."""
        query = sa.select(sa.func.max(SQLEvent.id)).where(
            SQLEvent.sender_id == sender_id, SQLEvent.type_name.in_(_BOUNDARY_TYPES)
        )
        return int(session.scalar(query) or 0)

    def _windowed_events(self, session: sa.orm.Session, sender_id: str) -> tuple[list[dict[str, Any]], int | None]:
        """The events the dialogue needs, and the id of the newest: the last row read, so the id
        and the events are of the same moment even while another server writes."""
        boundary = self._boundary_id(session, sender_id)
        in_session = (SQLEvent.sender_id == sender_id, SQLEvent.id >= boundary)
        window_start = session.scalar(
            sa.select(SQLEvent.id)
            .where(*in_session, SQLEvent.type_name == "user")
            .order_by(SQLEvent.id.desc())
            .offset(self.window_turns - 1)
            .limit(1)
        )
        if window_start is None:  # a short session: read all of it
            rows = session.execute(sa.select(SQLEvent.id, SQLEvent.data).where(*in_session).order_by(SQLEvent.id))
            return _events_and_newest_id(rows)

        in_window = (*in_session, SQLEvent.id >= window_start)
        window, newest = _events_and_newest_id(
            session.execute(sa.select(SQLEvent.id, SQLEvent.data).where(*in_window).order_by(SQLEvent.id))
        )
        prefix = self._state_before(session, (*in_session, SQLEvent.id < window_start))
        # The window opens on a user message, which always follows the bot listening.
        listen = ActionExecuted("action_listen", timestamp=window[0].get("timestamp"))
        return [*prefix, listen.as_dict(), *window], newest

    @staticmethod
    def _state_before(session: sa.orm.Session, before: tuple) -> list[dict[str, Any]]:
        """Events that recreate the slots, active form and pause state at the window start."""
        last_reset = session.scalar(
            sa.select(sa.func.max(SQLEvent.id)).where(*before, SQLEvent.type_name == "reset_slots")
        )
        latest_slot_ids = (
            sa.select(sa.func.max(SQLEvent.id))
            .where(*before, SQLEvent.type_name == "slot", SQLEvent.id > (last_reset or 0))
            .group_by(SQLEvent.action_name)
        )
        ids = set(session.scalars(latest_slot_ids))
        for kinds in (("active_loop",), ("pause", "resume")):
            latest = session.scalar(sa.select(sa.func.max(SQLEvent.id)).where(*before, SQLEvent.type_name.in_(kinds)))
            if latest is not None:
                ids.add(latest)
        if not ids:
            return []
        rows = session.scalars(sa.select(SQLEvent.data).where(SQLEvent.id.in_(ids)).order_by(SQLEvent.id))
        return [json.loads(data) for data in rows]


def _events_and_newest_id(rows: Iterable[Any]) -> tuple[list[dict[str, Any]], int | None]:
    """The events of (id, data) rows in id order, and the last id."""
    events: list[dict[str, Any]] = []
    newest = None
    for row in rows:
        events.append(json.loads(row.data))
        newest = row.id
    return events, newest


def postgres_problem(database_url: str) -> str | None:
    """Why PostgreSQL at `database_url` does not answer (the driver's first line), or None when it does."""
    engine = sa.create_engine(database_url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect():
            return None
    except sa.exc.OperationalError as error:
        return str(error.orig).strip().splitlines()[0]
    finally:
        engine.dispose()
