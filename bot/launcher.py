"""Start the action server and the Rasa server as child processes, and stop them together.

The runtime endpoint and credential files are written from the settings into `var/run/`,
so the deployment is configured in one place (`.env`) and nothing is duplicated in YAML.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.settings import PROJECT_DIR, VAR_DIR, Settings

RUN_DIR = VAR_DIR / "run"
_STOP_GRACE_SECONDS = 10


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
    """The endpoints file Rasa reads: action server, tracker store and response generator."""
    run_dir.mkdir(parents=True, exist_ok=True)
    endpoints = {
        "action_endpoint": {"url": settings.action_server_url},
        "tracker_store": {"type": "bot.tracker_store.TalkTrackerStore", "url": settings.database_url},
        # the school's details go into responses in this process, not through the action server
        "nlg": {"type": "bot.nlg.DeploymentNLG"},
    }
    path = run_dir / "endpoints.yml"
    path.write_text("# Written by bot/launcher.py from the settings.\n" + yaml.safe_dump(endpoints))
    return path


def rasa_command(model: Path, endpoints: Path) -> list[str]:
    return [sys.executable, "-m", "bot.server", "--model", str(model), "--endpoints", str(endpoints)]


def demo_command(settings: Settings, assistant_url: str) -> list[str]:
    return [sys.executable, "-m", "bot.demo_site", "--port", str(settings.widget_port), "--assistant", assistant_url]


def actions_command(settings: Settings) -> list[str]:
    return [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(settings.actions_port)]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Servers:
    """The two child processes of a running assistant."""

    settings: Settings
    model: Path
    environ: Mapping[str, str] | None = None  # what the settings were read from
    run_dir: Path = RUN_DIR
    log_file: Path | None = None  # where the children write; default: this terminal
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    _commands: dict[str, list[str]] = field(default_factory=dict)
    _env: dict[str, str] = field(default_factory=dict)

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

    def start(self) -> None:
        env = child_env(self.environ)
        env["LOG_LEVEL"] = self.settings.log_level  # read by Rasa when no -v/--quiet is given
        endpoints = write_runtime_config(self.settings, self.run_dir)
        self._commands = {
            "actions": actions_command(self.settings),
            "rasa": rasa_command(self.model, endpoints),
            "demo": demo_command(self.settings, self.base_url),
        }
        self._env = env
        for name in self._commands:
            self.launch(name)

    def launch(self, name: str) -> None:
        """Start (or start again, after a crash) one of the children."""
        output = self.log_file.open("ab") if self.log_file else None
        self.processes[name] = subprocess.Popen(
            self._commands[name],
            cwd=PROJECT_DIR,
            env=self._env,
            start_new_session=True,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
        )

    def kill(self, name: str, signum: int = signal.SIGKILL) -> None:
        os.killpg(self.processes[name].pid, signum)
        self.processes[name].wait()

    def wait_until_ready(self, timeout: float = 180.0, only: tuple[str, ...] = ()) -> None:
        checks = {
            "rasa": f"{self.base_url}/",
            "actions": f"http://127.0.0.1:{self.settings.actions_port}/health",
            "demo": self.demo_url,
        }
        deadline = time.monotonic() + timeout
        pending = {name: url for name, url in checks.items() if not only or name in only}
        while pending:
            for name, url in list(pending.items()):
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"the {name} server stopped during start-up; see its output above")
                if _answers(url):
                    del pending[name]
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f} s: {', '.join(pending)}")
            time.sleep(0.2)

    def wait(self) -> int | None:
        """Block until a child exits; return its exit code."""
        while True:
            for process in self.processes.values():
                code = process.poll()
                if code is not None:
                    return code
            time.sleep(0.5)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + _STOP_GRACE_SECONDS
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
