"""Fixtures shared by the action and bot tests."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import nginx as nginx_config
from bot.content import DOMAIN_DIR, build_domain
from bot.tracker_store import postgres_problem

POSTGRES_URL = os.environ.get("TT_TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/test"
# .ci/run sets it: on CI a PostgreSQL that does not answer fails the tests instead of skipping them.
POSTGRES_REQUIRED = os.environ.get("TT_REQUIRE_POSTGRES", "") not in ("", "0")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL server that answers. Without one the test is skipped, or fails under TT_REQUIRE_POSTGRES."""
    problem = postgres_problem(POSTGRES_URL)
    if problem is not None:
        where = sa.engine.make_url(POSTGRES_URL)
        reason = (
            f"PostgreSQL is not answering on {where.host}:{where.port or 5432} (TT_TEST_POSTGRES_URL); "
            f"CI requires it ({problem})"
        )
        if POSTGRES_REQUIRED:
            pytest.fail(f"{reason}; TT_REQUIRE_POSTGRES is set", pytrace=False)
        pytest.skip(reason)
    return POSTGRES_URL


# Database 15 and a key prefix per test: nothing another test, or a server running here, uses.
REDIS_URL = os.environ.get("TT_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
REDIS_REQUIRED = os.environ.get("TT_REQUIRE_REDIS", "") not in ("", "0")  # set by .ci/run


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis server that answers. Without one the test is skipped, or fails under TT_REQUIRE_REDIS."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        reason = f"Redis is not answering at {urlsplit(REDIS_URL).netloc} (TT_TEST_REDIS_URL); CI requires it ({error})"
        if REDIS_REQUIRED:
            pytest.fail(f"{reason}; TT_REQUIRE_REDIS is set", pytrace=False)
        pytest.skip(reason)
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"test{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


_DEFAULT_PORTS = {"redis": 6379, "postgresql": 5432}


class StandIn:
    """A service's address (Redis, PostgreSQL) that is down (nothing listens there: `close`),
    hangs (connections are accepted and never answered), or is back (connections are relayed to
    the service). Going down cuts every relayed connection, as a restart of the service does."""

    def __init__(self, target_url: str) -> None:
        target = urlsplit(target_url)
        scheme = target.scheme.split("+")[0]
        self.target = (target.hostname or "127.0.0.1", target.port or _DEFAULT_PORTS[scheme])
        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        user = target.netloc.rpartition("@")[0]
        address = f"127.0.0.1:{self.port}"
        self.url = target._replace(netloc=f"{user}@{address}" if user else address).geturl()
        self._sockets: list[socket.socket] = []

    def hang(self) -> None:
        self._listen()

    def come_back(self) -> None:
        threading.Thread(target=self._relay, args=(self._listen(),), daemon=True).start()

    def close(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes a thread waiting in accept() or recv()
            sock.close()

    def _listen(self) -> socket.socket:
        self.close()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._sockets = [listener]
        return listener

    def _relay(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def redis_stand_in(redis_url: str) -> Iterator[StandIn]:
    stand_in = StandIn(redis_url)
    yield stand_in
    stand_in.close()


NGINX_REQUIRED = os.environ.get("TT_REQUIRE_NGINX", "") not in ("", "0")  # set by .ci/run


@pytest.fixture(scope="session")
def nginx() -> str:
    """nginx's path. Without nginx the test is skipped, or fails under TT_REQUIRE_NGINX."""
    executable = nginx_config.executable()
    if executable is None:
        reason = "nginx is not installed (`make nginx` installs Debian's); CI requires it"
        if NGINX_REQUIRED:
            pytest.fail(f"{reason}; TT_REQUIRE_NGINX is set", pytrace=False)
        pytest.skip(reason)
    return executable


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The real domain, with the responses generated from content/."""
    build_domain()
    return Domain.load(str(DOMAIN_DIR)).as_dict()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def tracker_for() -> Callable[..., Tracker]:
    """Build an SDK tracker from a small scenario: the user's text, intent and slots."""

    def build(text: str = "", intent: str = "", slots: dict[str, Any] | None = None) -> Tracker:
        latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []}
        return Tracker(
            sender_id="test-user",
            slots=slots or {},
            latest_message=latest,
            events=[{"event": "user", "text": text, "parse_data": latest}],
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name="action_listen",
        )

    return build
