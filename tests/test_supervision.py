"""The supervisor starts a crashed child again with a back-off, and leaves the others running."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from bot.supervision import Backoff, Supervisor, restart_line

CRASHES = [sys.executable, "-c", "import sys; sys.exit(3)"]
STAYS_UP = [sys.executable, "-c", "import time; time.sleep(120)"]
FAST = Backoff(first=0.1, cap=0.4, stable_after=30)


def test_the_backoff_doubles_up_to_the_cap():
    backoff = Backoff(first=1, cap=30, stable_after=60)
    delays, previous = [], None
    for _ in range(8):
        previous = backoff.next_delay(previous, uptime=2)
        delays.append(previous)

    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]


def test_the_backoff_starts_over_once_a_child_stayed_up():
    backoff = Backoff(first=1, cap=30, stable_after=60)

    assert backoff.next_delay(30, uptime=59) == 30
    assert backoff.next_delay(30, uptime=60) == 1
    assert backoff.next_delay(8, uptime=3600) == 1


def test_a_restart_line_names_the_child_and_how_it_stopped():
    backoff = Backoff(first=1, cap=30, stable_after=60)

    assert restart_line("rasa", -9, 1, backoff) == (
        "Talk Together: the rasa server stopped with exit code -9 (SIGKILL); starting it again in 1 s."
    )
    assert restart_line("actions", 1, 30, backoff) == (
        "Talk Together: the actions server stopped with exit code 1; it keeps crashing, "
        "so it is started again every 30 s until it stays up for 60 s."
    )


def wait_for_lines(log: Path, count: int, timeout: float = 15.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = log.read_text().splitlines() if log.exists() else []
        if len(lines) >= count:
            return lines
        time.sleep(0.05)
    pytest.fail(f"fewer than {count} lines in {log}: {lines}")


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "children.log"


def test_a_crashing_child_is_started_again_while_the_others_keep_running(log, tmp_path):
    children = Supervisor({"crashy": CRASHES, "steady": STAYS_UP}, {}, cwd=tmp_path, log_file=log, backoff=FAST)
    children.start()
    steady = children.processes["steady"]
    children.supervise()
    try:
        lines = wait_for_lines(log, 4)
        assert children.processes["steady"] is steady and steady.poll() is None
    finally:
        children.stop()

    assert lines[:4] == [
        "Talk Together: the crashy server stopped with exit code 3; starting it again in 0.1 s.",
        "Talk Together: the crashy server stopped with exit code 3; starting it again in 0.2 s.",
        "Talk Together: the crashy server stopped with exit code 3; it keeps crashing, "
        "so it is started again every 0.4 s until it stays up for 30 s.",
        "Talk Together: the crashy server stopped with exit code 3; it keeps crashing, "
        "so it is started again every 0.4 s until it stays up for 30 s.",
    ]
    assert steady.poll() is not None, "stop() ends every child"


def test_a_stop_is_not_taken_for_a_crash(log, tmp_path):
    children = Supervisor({"one": STAYS_UP, "two": STAYS_UP}, {}, cwd=tmp_path, log_file=log, backoff=FAST)
    children.start()
    children.supervise()
    time.sleep(0.5)
    started = time.monotonic()
    children.stop()
    time.sleep(0.5)  # long enough for a restart, were one wrongly due

    assert time.monotonic() - started < 5
    assert all(process.poll() is not None for process in children.processes.values())
    assert not log.exists() or "stopped with" not in log.read_text()


def test_a_child_held_down_stays_down_until_released(log, tmp_path):
    children = Supervisor({"actions": STAYS_UP}, {}, cwd=tmp_path, log_file=log, backoff=FAST)
    children.start()
    first = children.processes["actions"]
    children.supervise()
    try:
        with children.held_down("actions"):
            time.sleep(0.6)  # several back-offs
            assert first.poll() is not None
            assert children.processes["actions"] is first, "not started again while held down"
        second = children.processes["actions"]
        assert second is not first and second.poll() is None, "started again when released"
        time.sleep(0.5)
        assert children.processes["actions"] is second, "started once, not by the supervisor as well"
    finally:
        children.stop()
    assert not log.exists() or "stopped with" not in log.read_text()
