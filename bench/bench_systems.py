"""The two systems under test: how to prepare, launch, watch (peak RSS) and stop each of them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psutil

PROJECT_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = PROJECT_DIR / "bench" / "out"  # git-ignored
LOG_DIR = OUT_DIR / "logs"
SYSTEMS = ("ours", "stock")

OURS_MESSAGES = (
    "hello",
    "what can you do",
    "who is the designated safeguarding lead",
    "thanks",
    "I saw abuse images online, how do I report it",
    "my son is meeting a man from the internet right now",
    "bye",
)
STOCK_MESSAGES = ("hello", "I am feeling sad", "yes", "no", "are you a bot?", "great", "bye")

_STOP_TIMEOUT_S = 20.0
_KILL_WAIT_S = 5.0
_RSS_INTERVAL_S = 0.2
_MB = 1024 * 1024


class BenchError(RuntimeError):
    """A system could not be prepared, started or stopped."""


@dataclass(frozen=True)
class Launch:
    """Everything needed to start one system and to check what it stored."""

    name: str
    command: Sequence[str]
    cwd: Path
    env: dict[str, str]
    port: int
    database: Path
    messages: Sequence[str]

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/rest/webhook"

    @property
    def log(self) -> Path:
        return LOG_DIR / f"{self.name}-server.log"


@dataclass(frozen=True)
class Stopped:
    seconds: float
    forced: bool  # True when a process had to be killed


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports (all sockets are held open until every port is picked)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", **extra}


def _run_logged(command: Sequence[str], cwd: Path, log: Path) -> float:
    """Run a preparation command with its output in `log`; return how long it took."""
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with log.open("w") as out:
        code = subprocess.run(command, cwd=cwd, env=_env(), stdout=out, stderr=subprocess.STDOUT).returncode
    if code != 0:
        raise BenchError(f"`{' '.join(command)}` failed with exit code {code}; see {log}")
    return time.perf_counter() - start


def _stock_dir(tmp: Path) -> Path:
    return tmp / "stock"


def prepare(name: str, tmp: Path) -> float:
    """Train the system's model (ours: `bot train`; stock: `rasa init`); return the seconds it took."""
    if name == "ours":
        return _run_logged([sys.executable, "-m", "bot", "train"], PROJECT_DIR, LOG_DIR / "ours-train.log")
    stock = _stock_dir(tmp)
    stock.mkdir()
    command = [sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(stock)]
    seconds = _run_logged(command, tmp, LOG_DIR / "stock-init.log")
    (stock / "endpoints.yml").write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tmp / 'stock.db'}\n")
    return seconds


def launch_spec(name: str, tmp: Path) -> Launch:
    """How to start a prepared system on fresh free ports with its own SQLite database in `tmp`."""
    if name == "ours":
        port, actions_port, widget_port = free_ports(3)
        database = tmp / "ours.db"
        env = _env(
            TT_HOST="127.0.0.1",
            TT_ACTION_SERVER_URL="",  # the default: the action server on TT_ACTIONS_PORT
            TT_PORT=str(port),
            TT_ACTIONS_PORT=str(actions_port),
            TT_WIDGET_PORT=str(widget_port),
            TT_DATABASE_URL=f"sqlite:///{database}",
            # The 100-turn conversation sends far faster than a person types: without this the
            # rate limit (30 a minute) would answer most of it with 429 and nothing would be measured.
            TT_RATE_LIMIT_PER_MINUTE="100000",
        )
        command = [sys.executable, "-m", "bot", "run", "--no-train"]
        return Launch(name, command, PROJECT_DIR, env, port, database, OURS_MESSAGES)
    (port,) = free_ports(1)
    command = [sys.executable, "-m", "rasa", "run", "--interface", "127.0.0.1", "--port", str(port)]
    command += ["--endpoints", "endpoints.yml"]
    return Launch(name, command, _stock_dir(tmp), _env(), port, tmp / "stock.db", STOCK_MESSAGES)


def tree_rss(root: psutil.Process) -> int:
    """Resident memory of `root` and all its descendants, in bytes."""
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


class RssSampler(threading.Thread):
    """Samples the RSS of a process tree every ~0.2 s and keeps the peak."""

    def __init__(self, root: psutil.Process) -> None:
        super().__init__(daemon=True)
        self._root = root
        self._done = threading.Event()
        self.peak_bytes = 0

    def run(self) -> None:
        while True:
            self.peak_bytes = max(self.peak_bytes, tree_rss(self._root))
            if self._done.wait(_RSS_INTERVAL_S):
                return

    def finish(self) -> float:
        """Stop sampling; return the peak in MB."""
        self._done.set()
        self.join()
        return self.peak_bytes / _MB


def _kill(processes: Sequence[psutil.Process]) -> bool:
    """Kill, one by one, those of `processes` that still run; return whether any did."""
    alive = [process for process in processes if _running(process)]
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(alive, timeout=_KILL_WAIT_S)
    return bool(alive)


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class RunningSystem:
    """A launched system: its process tree, its log file and its RSS sampler."""

    def __init__(self, launch: Launch) -> None:
        launch.log.parent.mkdir(parents=True, exist_ok=True)
        self.launch = launch
        self._log = launch.log.open("w")
        self.started = time.perf_counter()
        # Its own session: a Ctrl-C on the benchmark reaches the system only through `stop`.
        self._process = subprocess.Popen(
            launch.command,
            cwd=launch.cwd,
            env=launch.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._root = psutil.Process(self._process.pid)
        self._sampler = RssSampler(self._root)
        self._sampler.start()

    def alive(self) -> bool:
        return self._process.poll() is None

    def stop(self) -> tuple[Stopped, float]:
        """SIGINT the launched process, kill the tree if it hangs; return how it stopped and the peak RSS (MB)."""
        start = time.perf_counter()
        tree = [self._root, *self._descendants()]
        if self.alive():
            self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout=_STOP_TIMEOUT_S)
            forced = _kill(tree[1:])
        except subprocess.TimeoutExpired:
            forced = _kill([*tree, *self._descendants()])
            self._process.wait()
        peak_mb = self._sampler.finish()
        self._log.close()
        return Stopped(time.perf_counter() - start, forced), peak_mb

    def _descendants(self) -> list[psutil.Process]:
        try:
            return list(self._root.children(recursive=True))
        except psutil.NoSuchProcess:
            return []
