"""`python -m bot run`, as `make run` starts it, on free ports: it comes up, answers, and Ctrl-C stops it."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

import pytest

from bot.local_servers import local_environ
from bot.settings import PROJECT_DIR

pytestmark = pytest.mark.e2e
RUNNING = "Talk Together is running."


class Output:
    """The launcher's output (its children's too), read as it comes."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._reader.start()

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} after {timeout:.0f} s:\n" + "\n".join(self.lines[-30:]))
            time.sleep(0.1)

    def text(self) -> str:
        self._reader.join(timeout=10)
        return "\n".join(self.lines)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def say(url: str, sender: str, message: str) -> list[dict]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_it_runs_with_no_trace_of_its_readiness_probe_and_ctrl_c_stops_it_cleanly(tmp_path):
    database = tmp_path / "tt.db"
    environ = local_environ(f"sqlite:///{database}")
    ports = [int(environ[name]) for name in ("TT_PORT", "TT_ACTIONS_PORT", "TT_WIDGET_PORT")]
    launcher = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--no-train"],
        cwd=PROJECT_DIR,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(launcher)
    try:
        output.wait_for(RUNNING, timeout=180)  # printed once the model has answered the probe
        with sqlite3.connect(database) as db:
            assert db.execute("select count(*) from events").fetchone() == (0,), "the probe's turn is deleted"
        reply = say(f"http://127.0.0.1:{ports[0]}/webhooks/rest/webhook", str(uuid.uuid4()), "what can you do")
        assert "help" in reply[0]["text"]

        launcher.send_signal(signal.SIGINT)  # what Ctrl-C sends; SIGTERM has the same handler
        assert launcher.wait(timeout=30) == 0
    finally:
        if launcher.poll() is None:
            launcher.terminate()
            launcher.wait(timeout=30)

    assert not any(listening(port) for port in ports), "every child has stopped"
    assert "stopped with exit code" not in output.text(), "a stop is not a crash: nothing was started again"
