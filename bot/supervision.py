"""Child processes that are started again when they crash.

The launcher runs the action server, the Rasa server and the demo page as children. Once the
assistant is up, a child that exits on its own is started again after a back-off (1 s, doubling
to 30 s, back to 1 s once it has stayed up a minute), and the others keep running: with the
action server down every topic still answers. One line per restart names the child and its
exit code. Only `stop()` ends the children, so a deliberate stop is never taken for a crash.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_POLL_SECONDS = 0.2
_STOP_GRACE_SECONDS = 10


@dataclass(frozen=True)
class Backoff:
    """How long to wait before starting a crashed child again."""

    first: float = 1.0
    cap: float = 30.0
    stable_after: float = 60.0  # a child up this long had recovered: its next crash waits `first` again

    def next_delay(self, previous: float | None, uptime: float) -> float:
        """The wait before the next start of a child that crashed after `uptime` seconds;
        `previous` is the wait before its last start, None if it never crashed before."""
        if previous is None or uptime >= self.stable_after:
            return self.first
        return min(previous * 2, self.cap)


def exit_description(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"exit code {code} ({signal.Signals(-code).name})"
    return f"exit code {code}"


def restart_line(name: str, code: int, delay: float, backoff: Backoff) -> str:
    line = f"Talk Together: the {name} server stopped with {exit_description(code)}; "
    if delay >= backoff.cap:
        return line + (
            f"it keeps crashing, so it is started again every {backoff.cap:g} s "
            f"until it stays up for {backoff.stable_after:g} s."
        )
    return line + f"starting it again in {delay:g} s."


def terminate(processes: Sequence[subprocess.Popen]) -> None:
    """SIGTERM each child's process group, then SIGKILL what is still running after the grace period."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_GRACE_SECONDS
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass
class Supervisor:
    """Named children, each in its own session (a terminal's Ctrl-C reaches only the launcher)."""

    commands: Mapping[str, Sequence[str]]
    env: Mapping[str, str]
    cwd: Path
    log_file: Path | None = None  # where the children and the restart lines write; default: this terminal
    envs: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # a child's own settings, over `env`
    backoff: Backoff = field(default_factory=Backoff)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    _started_at: dict[str, float] = field(default_factory=dict)
    _delays: dict[str, float] = field(default_factory=dict)  # the last back-off of each child
    _due: dict[str, float] = field(default_factory=dict)  # when a crashed child is started again
    _held: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _watcher: threading.Thread | None = None

    def start(self) -> None:
        for name in self.commands:
            self.launch(name)

    def launch(self, name: str) -> None:
        output = self.log_file.open("ab") if self.log_file else None
        self.processes[name] = subprocess.Popen(
            self.commands[name],
            cwd=self.cwd,
            env={**self.env, **self.envs.get(name, {})},
            start_new_session=True,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
        )
        self._started_at[name] = time.monotonic()
        if output:
            output.close()  # the child has its own copy

    @property
    def supervising(self) -> bool:
        return self._watcher is not None

    def supervise(self) -> None:
        """From now on, start a crashed child again. A thread of its own does it, so a signal
        that stops the launcher never lands between starting a child and recording it."""
        self._watcher = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._watcher.start()

    @contextlib.contextmanager
    def held_down(self, name: str) -> Iterator[None]:
        """Stop one child and keep it stopped for the block (to see how the others cope), then start it."""
        with self._lock:
            self._held.add(name)
            self._due.pop(name, None)
        terminate([self.processes[name]])
        try:
            yield
        finally:
            with self._lock:
                self._held.discard(name)
                self.launch(name)

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()  # no restart can start after this
        terminate(list(self.processes.values()))

    def _watch(self) -> None:
        while not self._stopping.wait(_POLL_SECONDS):
            with self._lock:
                for name in self.processes:
                    if name not in self._held:
                        self._check(name, time.monotonic())

    def _check(self, name: str, now: float) -> None:
        if name in self._due:
            if now >= self._due[name]:
                del self._due[name]
                self.launch(name)
            return
        code = self.processes[name].poll()
        if code is None:
            return
        delay = self.backoff.next_delay(self._delays.get(name), now - self._started_at[name])
        self._delays[name] = delay
        self._due[name] = now + delay
        self._report(restart_line(name, code, delay, self.backoff))

    def _report(self, line: str) -> None:
        if self.log_file is None:
            print(line, file=sys.stderr, flush=True)
        else:
            with self.log_file.open("a") as log:
                log.write(line + "\n")
