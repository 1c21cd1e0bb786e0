"""Several identical Rasa servers behind nginx, on this machine: `make cluster`, and the
`local_cluster` of the fault tests and the cluster benchmark.

It is Rasa's own scaling model, as compose.yaml runs it on real hosts: every server reads and
writes conversations in one SQL tracker store (PostgreSQL) and takes a conversation's lock in
one lock store (Redis), so any server can take any turn. nginx (bot/nginx.py) spreads REST
messages over the servers, keeps each socket.io conversation on one server, and sends a
request that cannot reach its server to another. Each Rasa server listens on a loopback port
of its own and trusts only nginx's X-Forwarded-For; nginx listens on TT_HOST:TT_PORT, where a
single server would. All of them, the action server and the demo page are children of one
launcher (bot/launcher.py), supervised and stopped together.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from bot import nginx
from bot.launcher import ENDPOINTS_FILE, NotReady, Servers, rasa_command
from bot.local_servers import free_port, local_environ
from bot.settings import DatabaseUnavailable, Settings, environment, load_settings
from bot.training import model_path

DEFAULT_SERVERS = 2
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/talk_together"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
NGINX_ADDRESS = "127.0.0.1"  # where the Rasa servers see nginx's requests come from


def cluster_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """What the settings are read from (`.env` under `environ`), with the stores that the
    servers share where none is set: the local PostgreSQL and Redis."""
    env = environment(environ)
    for name, default in (("TT_DATABASE_URL", DEFAULT_DATABASE_URL), ("TT_REDIS_URL", DEFAULT_REDIS_URL)):
        if not env.get(name, "").strip():
            env[name] = default
    return env


@contextlib.contextmanager
def _postgres(database_url: str, doing: str) -> Iterator[tuple[sa.engine.Connection, str]]:
    """A connection to the server's `postgres` database, outside any transaction (CREATE and
    DROP DATABASE need that), and the quoted name of the database `database_url` names.
    PostgreSQL's refusal is raised with `doing` (what could not be done) and its first line."""
    url = sa.engine.make_url(database_url)
    engine = sa.create_engine(
        url.set(database="postgres"), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    try:
        with engine.connect() as connection:
            yield connection, engine.dialect.identifier_preparer.quote(url.database or "")
    except sa.exc.DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0]
        raise DatabaseUnavailable(f"TT_DATABASE_URL={url!r}: cannot {doing} ({reason}).") from error
    finally:
        engine.dispose()


def create_database(database_url: str) -> None:
    """Create the PostgreSQL database `database_url` names unless it exists."""
    name = sa.engine.make_url(database_url).database
    with _postgres(database_url, "create the database") as (connection, quoted):
        exists = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
        if not exists:
            connection.execute(sa.text(f"CREATE DATABASE {quoted}"))


def prepare_database(settings: Settings) -> None:
    """The database and its tables, made once before the servers start: each server's tracker
    store creates any table that is missing, and N servers doing it at once race on CREATE TABLE."""
    from bot.tracker_store import TalkTrackerStore  # here: it loads Rasa

    if not settings.database_is_sqlite:
        create_database(settings.database_url)
    TalkTrackerStore(url=settings.database_url).engine.dispose()


@contextlib.contextmanager
def temporary_database(server_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the PostgreSQL server of `server_url`; the database
    is dropped afterwards, with any connection still open to it."""
    url = sa.engine.make_url(server_url).set(database=f"talk_together_{uuid.uuid4().hex[:12]}")
    database_url = url.render_as_string(hide_password=False)
    create_database(database_url)
    try:
        yield database_url
    finally:
        with _postgres(database_url, "drop the database") as (connection, quoted):
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))


@dataclass
class Cluster(Servers):
    """The children of a cluster: the action server, `servers` Rasa servers named rasa-1,
    rasa-2, ..., nginx and the demo page. `base_url` and `rest_url` are nginx's."""

    servers: int = DEFAULT_SERVERS
    nginx_path: str | None = field(default_factory=nginx.executable)
    ports: tuple[int, ...] = field(init=False)  # each Rasa server's loopback port, in name order

    def __post_init__(self) -> None:
        if self.servers < 1:
            raise ValueError(f"a cluster needs at least one Rasa server, not {self.servers}")
        if self.nginx_path is None:
            raise NotReady("nginx is not installed (`make nginx` installs Debian's)")
        if self.settings.redis_url is None:
            raise ValueError("a cluster needs TT_REDIS_URL: its servers share the conversations' locks there")
        self.ports = tuple(free_port() for _ in range(self.servers))
        super().__post_init__()

    @property
    def server_names(self) -> tuple[str, ...]:
        return tuple(f"rasa-{number}" for number in range(1, self.servers + 1))

    @property
    def server_urls(self) -> dict[str, str]:
        """Each Rasa server's own address, behind nginx."""
        return {name: f"http://127.0.0.1:{port}" for name, port in zip(self.server_names, self.ports, strict=True)}

    def commands(self) -> dict[str, list[str]]:
        assert self.nginx_path is not None  # checked in __post_init__
        alone = super().commands()  # the action server and the demo page, as for one server
        rasa = rasa_command(self.model, self.run_dir / ENDPOINTS_FILE)
        return {
            "actions": alone["actions"],
            **{name: rasa for name in self.server_names},
            "nginx": nginx.command(self.nginx_path, nginx.config_path(self.run_dir)),
            "demo": alone["demo"],
        }

    def own_settings(self) -> dict[str, dict[str, str]]:
        own = {"TT_HOST": "127.0.0.1", "TT_TRUSTED_PROXIES": NGINX_ADDRESS}
        return {name: {**own, "TT_PORT": str(port)} for name, port in zip(self.server_names, self.ports, strict=True)}

    def model_urls(self) -> dict[str, str]:
        """Every server on its own, then nginx, through which the model must answer too."""
        servers = {name: f"{url}/webhooks/rest/webhook" for name, url in self.server_urls.items()}
        return {**servers, "nginx": self.rest_url}

    def start(self) -> None:
        prepare_database(self.settings)
        nginx.write_config(self.run_dir, nginx.cluster_site(self.settings.host, self.settings.port, self.ports))
        super().start()


def _running_message(cluster: Cluster) -> str:
    servers = ", ".join(f"{name} at {url}" for name, url in cluster.server_urls.items())
    return (
        f"\nTalk Together is running: {cluster.servers} Rasa servers behind nginx, on PostgreSQL and Redis.\n"
        f"  Demo school page with the chat widget:  {cluster.demo_url}\n"
        f"  REST channel:  POST {cluster.rest_url}\n"
        f"  Widget script: {cluster.base_url}/widget.js (socket.io at {cluster.base_url}/socket.io)\n"
        f"  Behind nginx: {servers} (nginx's errors: {nginx.config_path(cluster.run_dir).parent / 'error.log'})\n"
        "  Stop with Ctrl-C.\n"
    )


def run_cluster(servers: int, purge: Callable[[Settings], str]) -> int:
    """`python -m bot cluster`: start the cluster, say where to talk to it, run until Ctrl-C or
    SIGTERM (which the caller turns into KeyboardInterrupt). `purge` removes expired
    conversations and says how many, as at the start of `python -m bot run`."""
    environ = cluster_environ()
    settings = load_settings(environ)
    model = model_path()
    if not model.exists():
        print(f"No model at {model}: run `make train` first.", file=sys.stderr)
        return 1
    try:
        cluster = Cluster(settings, model, environ=environ, servers=servers)
    except NotReady as error:
        print(f"Cannot start: {error}.", file=sys.stderr)
        return 1
    try:
        cluster.start()
        print(purge(settings))  # while the servers load their model
        cluster.wait_until_ready()
        cluster.supervise()
        print(_running_message(cluster), flush=True)
        while True:  # until Ctrl-C or SIGTERM; meanwhile a crashed child is started again
            time.sleep(3600)
    except NotReady as error:
        print(f"Cannot start: {error}.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


@contextlib.contextmanager
def local_cluster(
    servers: int = DEFAULT_SERVERS, environ: Mapping[str, str] | None = None, log_file: Path | None = None
) -> Iterator[Cluster]:
    """Start the trained assistant as a cluster on free loopback ports, yield it ready and
    supervised (a killed server is started again), stop it after. Without `environ`: the
    local PostgreSQL with a database of its own, dropped afterwards, and the local Redis.

    A test reaches nginx at `cluster.rest_url`, a server at `cluster.server_urls[name]`, its
    process at `cluster.processes[name]` (a new one after each restart), and keeps a server
    down with `cluster.held_down(name)`."""
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="talk-together-cluster-")))
        # Started by root, nginx's workers run as nobody, and buffer large answers in run/nginx/.
        tmp.chmod(0o755)
        run_dir = tmp / "run"
        if environ is None:
            environ = local_environ(stack.enter_context(temporary_database(DEFAULT_DATABASE_URL)))
        env = cluster_environ(environ)
        cluster = Cluster(
            load_settings(env), model_path(), environ=env, run_dir=run_dir, log_file=log_file, servers=servers
        )
        try:
            cluster.start()
            cluster.wait_until_ready()
            cluster.supervise()
            yield cluster
        finally:
            cluster.stop()
