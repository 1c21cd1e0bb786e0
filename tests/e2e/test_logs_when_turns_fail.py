"""At the default log level no log line holds what people typed, even when a turn fails.

The servers run as `make run` runs them, but with a lock store that fails for some senders
(tests/e2e/faults/lock_store.py) and a "did you mean" action that fails quoting the user
(tests/e2e/faults/actions.py), so Rasa's error paths really run.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot import launcher
from bot.local_servers import local_environ, local_servers
from tests.e2e.faults.lock_store import FAILING_SENDER_PREFIX

pytestmark = pytest.mark.e2e


def say(url: str, sender: str, message: str) -> list[dict]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def secret() -> str:
    return f"zebra{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def log_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("privacy") / "servers.log"


@pytest.fixture(scope="module")
def servers(tmp_path_factory, log_file) -> Iterator[launcher.Servers]:
    write_runtime_config, actions_command = launcher.write_runtime_config, launcher.actions_command

    def with_failing_lock_store(settings, run_dir):
        path = write_runtime_config(settings, run_dir)
        endpoints = yaml.safe_load(path.read_text())
        endpoints["lock_store"] = {"type": "tests.e2e.faults.lock_store.FailingLockStore"}
        path.write_text(yaml.safe_dump(endpoints))
        return path

    def with_failing_actions(settings):
        command = actions_command(settings)
        command[command.index("--actions") + 1] = "tests.e2e.faults.actions"
        return command

    database = tmp_path_factory.mktemp("privacy-db") / "tt.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(launcher, "write_runtime_config", with_failing_lock_store)
        patch.setattr(launcher, "actions_command", with_failing_actions)
        with local_servers(local_environ(f"sqlite:///{database}"), log_file=log_file) as running:
            yield running


def test_a_failed_turn_is_logged_without_the_message(servers, log_file):
    typed = secret()
    reply = say(servers.rest_url, f"{FAILING_SENDER_PREFIX}{uuid.uuid4()}", f"{typed} is blackmailing my son")

    logged = log_file.read_text(errors="replace")
    assert "999" in reply[0]["text"], "the user still gets the apology with the helplines"
    assert "rest.message.received.failure" in logged, "the failure itself is logged"
    assert "ConnectionError" in logged, "with the kind of error"
    assert typed not in logged


def test_a_failed_custom_action_is_logged_without_the_conversation(servers, log_file):
    sender, typed = str(uuid.uuid4()), secret()
    say(servers.rest_url, sender, f"my daughter's friend {typed} sent her a photo")
    say(servers.rest_url, sender, "/nlu_fallback")  # runs the failing "did you mean" action

    logged = log_file.read_text(errors="replace")
    assert "Encountered an exception while running action 'action_suggest_topics'" in logged
    assert "ValueError" in logged, "the action server names the error"
    assert typed not in logged
