"""Start the action server, the Rasa server and the demo page as child processes, wait until
they are ready (for the Rasa server: its model answers, bot/readiness.py), keep them running
(bot/supervision.py starts a crashed one again), and stop them together.

The runtime endpoint and credential files are written from the settings into `var/run/`,
so the deployment is configured in one place (`.env`) and nothing is duplicated in YAML.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import yaml

from bot.readiness import ModelProbe
from bot.settings import PROJECT_DIR, VAR_DIR, Settings
from bot.supervision import Supervisor, exit_description

RUN_DIR = VAR_DIR / "run"
ENDPOINTS_FILE = "endpoints.yml"
_ATTEMPT_SECONDS = 30  # the first turn of a freshly loaded model can take a few seconds


def child_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every child process: nothing leaves the machine."""
    env = dict(os.environ if environ is None else environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONWARNINGS="ignore::DeprecationWarning,ignore::PendingDeprecationWarning",
        PYTHONPATH=os.pathsep.join(p for p in (str(PROJECT_DIR), env.get("PYTHONPATH", "")) if p),
        # The action server has no authentication: only this machine may reach it.
        SANIC_HOST="127.0.0.1",
    )
    return env


def write_runtime_config(settings: Settings, run_dir: Path = RUN_DIR) -> Path:
    """The endpoints file Rasa reads: action server, tracker store, response generator and, with
    TT_REDIS_URL, the lock store that several servers share."""
    run_dir.mkdir(parents=True, exist_ok=True)
    endpoints: dict[str, dict[str, object]] = {
        "action_endpoint": {"url": settings.action_server_url},
        "tracker_store": {
            "type": "bot.tracker_store.TalkTrackerStore",
            "url": settings.database_url,
            "pool_size": settings.database_pool_size,
        },
        # the school's details go into responses in this process, not through the action server
        "nlg": {"type": "bot.nlg.DeploymentNLG"},
    }
    if settings.redis_url:  # without it Rasa locks conversations in this one process
        endpoints["lock_store"] = {
            "type": "bot.lock_store.AtomicRedisLockStore",
            "url": settings.redis_url,
            "key_prefix": "talk_together",
        }
    path = run_dir / ENDPOINTS_FILE
    path.write_text("# Written by bot/launcher.py from the settings.\n" + yaml.safe_dump(endpoints))
    return path


def rasa_command(model: Path, endpoints: Path) -> list[str]:
    return [sys.executable, "-m", "bot.server", "--model", str(model), "--endpoints", str(endpoints)]


def demo_command(settings: Settings, assistant_url: str) -> list[str]:
    return [sys.executable, "-m", "bot.demo_site", "--port", str(settings.widget_port), "--assistant", assistant_url]


def actions_command(settings: Settings) -> list[str]:
    return [sys.executable, "-m", "bot.action_server", "--actions", "actions", "--port", str(settings.actions_port)]


def _problem_at(url: str, timeout: float) -> str | None:
    """None when `url` answers 200; otherwise what is wrong."""
    try:
        with urllib.request.urlopen(url, timeout=min(timeout, 2)) as response:
            return None if response.status == 200 else f"{url} answered with status {response.status}"
    except (urllib.error.URLError, OSError):
        return f"no answer at {url} yet"


class NotReady(RuntimeError):
    """A child did not become ready: the message says which and why."""


@dataclass
class Servers:
    """The child processes of a running assistant: action server, Rasa server, demo page."""

    settings: Settings
    model: Path
    environ: Mapping[str, str] | None = None  # what the settings were read from
    run_dir: Path = RUN_DIR
    log_file: Path | None = None  # where the children write; default: this terminal
    children: Supervisor = field(init=False)

    def __post_init__(self) -> None:
        env = child_env(self.environ)
        env["LOG_LEVEL"] = self.settings.log_level  # read by Rasa when no -v/--quiet is given
        self.children = Supervisor(
            self.commands(), env, cwd=PROJECT_DIR, log_file=self.log_file, envs=self.own_settings()
        )

    def commands(self) -> dict[str, list[str]]:
        """What each child runs, by name."""
        return {
            "actions": actions_command(self.settings),
            "rasa": rasa_command(self.model, self.run_dir / ENDPOINTS_FILE),
            "demo": demo_command(self.settings, self.base_url),
        }

    def own_settings(self) -> dict[str, dict[str, str]]:
        """Settings a child has of its own, over those all children share (here none: each port has its own setting)."""
        return {}

    def model_urls(self) -> dict[str, str]:
        """The REST channel through which each Rasa server child must answer a real message to be ready."""
        return {"rasa": self.rest_url}

    def page_urls(self) -> dict[str, str]:
        """The page each other child must serve (status 200) to be ready."""
        return {"actions": f"http://127.0.0.1:{self.settings.actions_port}/health", "demo": self.demo_url}

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.settings.host in ("0.0.0.0", "::") else self.settings.host
        return f"http://{host}:{self.settings.port}"

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}/webhooks/rest/webhook"

    @property
    def demo_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.widget_port}/"

    @property
    def processes(self) -> dict[str, subprocess.Popen]:
        return self.children.processes

    def start(self) -> None:
        write_runtime_config(self.settings, self.run_dir)
        self.children.start()

    def supervise(self) -> None:
        """Start a crashed child again from now on (see bot/supervision.py). Call it once the
        assistant is ready: a child that stops during start-up is a fault to report, not retry."""
        self.children.supervise()

    @contextlib.contextmanager
    def held_down(self, name: str) -> Iterator[None]:
        """Keep one child stopped for the block, then start it and wait until it is ready."""
        with self.children.held_down(name):
            yield
        self.wait_until_ready(only=(name,))

    def wait_until_ready(self, timeout: float = 180.0, only: tuple[str, ...] = ()) -> None:
        """Return once each child (or those in `only`) does what people need from it: the Rasa
        server's model answers a real message (bot/readiness.py), the others answer HTTP."""
        probes = {name: ModelProbe.for_deployment(url, self.settings) for name, url in self.model_urls().items()}
        checks: dict[str, Callable[[float], str | None]] = {name: probe.problem for name, probe in probes.items()}
        checks.update({name: partial(_problem_at, url) for name, url in self.page_urls().items()})
        deadline = time.monotonic() + timeout
        problems = {name: "not checked yet" for name in checks if not only or name in only}
        try:
            while problems:
                for name in list(problems):
                    code = self.processes[name].poll()
                    if code is not None and not self.children.supervising:  # supervised, it is started again
                        raise NotReady(
                            f"the {name} server stopped during start-up with {exit_description(code)}; see its output"
                        )
                    attempt_timeout = min(_ATTEMPT_SECONDS, max(1.0, deadline - time.monotonic()))
                    problem = checks[name](attempt_timeout)
                    if problem is None:
                        del problems[name]
                    else:
                        problems[name] = problem
                if problems and time.monotonic() > deadline:
                    details = "; ".join(f"the {name} server: {problem}" for name, problem in problems.items())
                    raise NotReady(f"not ready after {timeout:.0f} s ({details})")
                time.sleep(0.2)
        finally:
            for probe in probes.values():
                probe.forget()

    def stop(self) -> None:
        self.children.stop()
