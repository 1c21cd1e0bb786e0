"""Run the assistant on free loopback ports with its own database, for tests, eval and bench."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from bot.launcher import Servers
from bot.settings import load_settings
from bot.training import model_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def local_environ(database_url: str, **extra: str) -> dict[str, str]:
    """The process environment with free ports and `database_url` for one local assistant."""
    return {
        **os.environ,
        "TT_HOST": "127.0.0.1",
        "TT_PORT": str(free_port()),
        "TT_ACTIONS_PORT": str(free_port()),
        "TT_WIDGET_PORT": str(free_port()),
        "TT_ACTION_SERVER_URL": "",
        "TT_DATABASE_URL": database_url,
        **extra,
    }


@contextlib.contextmanager
def local_servers(environ: Mapping[str, str] | None = None, log_file: Path | None = None) -> Iterator[Servers]:
    """Start the trained assistant (see `local_environ`), yield it ready and supervised, stop it after."""
    with tempfile.TemporaryDirectory(prefix="talk-together-") as tmp:
        env = dict(environ) if environ is not None else local_environ(f"sqlite:///{Path(tmp) / 'tt.db'}")
        settings = load_settings(env)
        servers = Servers(settings, model_path(), environ=env, run_dir=Path(tmp) / "run", log_file=log_file)
        try:
            servers.start()
            servers.wait_until_ready()
            servers.supervise()
            yield servers
        finally:
            servers.stop()
