"""SQL tracker store whose cost per message does not grow with the conversation.

Rasa's `SQLTrackerStore` reads and replays every event of the session on every message and
counts them again to know what to append, so turn 300 costs many times turn 1. This store
keeps every event in the same `events` table (same schema, so Rasa's tools still read it) but

- gives the dialogue only the last `window_turns` user turns, preceded by the state that
  came before them (latest value of each slot, the active form, a pause), which is all the
  policies look at: no rule or story spans more user turns than the window
  (tests/test_tracker_store.py checks it against data/);
- appends only the events added since the tracker was read, without counting rows;
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
import itertools
import json
import logging
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

from bot.redaction import redact_event
from bot.settings import DatabaseUnavailable

logger = logging.getLogger(__name__)

SQLEvent = SQLTrackerStore.SQLEvent
# Rasa indexes only `sender_id`; the window queries filter on the event type as well.
sa.Index("ix_events_sender_id_type_name", SQLEvent.sender_id, SQLEvent.type_name)

# "Delete my conversation" is asked again first; once the person says yes, the rules send this
# response and the store forgets the conversation at once.
DELETING_RESPONSE = "utter_conversation_deleted"
DEFAULT_WINDOW_TURNS = 5  # more user turns than the longest rule or story looks back over
_BOUNDARY_TYPES = ("session_started", "restart")
_PERSISTED = "_talk_together_persisted"  # attribute on a tracker: events already stored


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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and the writer work at once; NORMAL sync keeps every committed turn
    # across a crash of the server process (not of the machine) without an fsync per turn.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_engine(url: str) -> sa.engine.Engine:
    """An engine for `url`, with the SQLite settings this store relies on.

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
        return engine
    return sa.create_engine(url, future=True, hide_parameters=True, **create_engine_kwargs(url))


class TalkTrackerStore(SQLTrackerStore):
    """Windowed, append-only SQL tracker store (see the module docstring)."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        url: str | None = None,
        event_broker: EventBroker | None = None,
        window_turns: int = DEFAULT_WINDOW_TURNS,
        **kwargs: Any,
    ) -> None:
        db_url = url or host
        if not db_url:
            raise DatabaseUnavailable("TT_DATABASE_URL is empty: the tracker store needs a database URL.")
        self.engine = create_engine(db_url)
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
            events = self._windowed_events(session, sender_id)
        if not events or self.domain is None:
            return None
        tracker = DialogueStateTracker.from_events(sender_id, [_event(data) for data in events], self.domain.slots)
        setattr(tracker, _PERSISTED, len(tracker.events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        with self.sessionmaker() as session:
            persisted = getattr(tracker, _PERSISTED, None)
            if persisted is None:  # a tracker this store did not read, e.g. a new one
                persisted = self._stored_count(session, tracker.sender_id)
            new_events = list(itertools.islice(tracker.events, persisted, None))
            if any(_asks_for_deletion(event) for event in new_events):
                # Keep nothing: not the conversation, not the request, not the reply.
                session.execute(sa.delete(SQLEvent).where(SQLEvent.sender_id == tracker.sender_id))
            else:
                session.add_all(self._row(tracker.sender_id, event.as_dict()) for event in new_events)
            session.commit()
        setattr(tracker, _PERSISTED, len(tracker.events))

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

    def _stored_count(self, session: sa.orm.Session, sender_id: str) -> int:
        boundary = self._boundary_id(session, sender_id)
        query = sa.select(sa.func.count()).where(SQLEvent.sender_id == sender_id, SQLEvent.id >= boundary)
        return int(session.scalar(query) or 0)

    @staticmethod
    def _boundary_id(session: sa.orm.Session, sender_id: str) -> int:
        """Id of the latest session start or restart: nothing before it shapes the dialogue."""
        query = sa.select(sa.func.max(SQLEvent.id)).where(
            SQLEvent.sender_id == sender_id, SQLEvent.type_name.in_(_BOUNDARY_TYPES)
        )
        return int(session.scalar(query) or 0)

    def _windowed_events(self, session: sa.orm.Session, sender_id: str) -> list[dict[str, Any]]:
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
            rows = session.scalars(sa.select(SQLEvent.data).where(*in_session).order_by(SQLEvent.id))
            return [json.loads(data) for data in rows]

        window = [
            json.loads(data)
            for data in session.scalars(
                sa.select(SQLEvent.data).where(*in_session, SQLEvent.id >= window_start).order_by(SQLEvent.id)
            )
        ]
        prefix = self._state_before(session, (*in_session, SQLEvent.id < window_start))
        # The window opens on a user message, which always follows the bot listening.
        listen = ActionExecuted("action_listen", timestamp=window[0].get("timestamp"))
        return [*prefix, listen.as_dict(), *window]

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
