"""Ready means the model answers: a Rasa server that could not load its model is never ready."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from bot.launcher import Servers
from bot.local_servers import local_environ
from bot.settings import load_settings

pytestmark = pytest.mark.e2e


def wait_for_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    pytest.fail(f"nothing answers at {url}")


def test_a_rasa_server_whose_model_cannot_be_loaded_is_never_ready(tmp_path):
    broken = tmp_path / "talk-together-broken.tar.gz"
    broken.write_bytes(b"this is not a model")
    environ = local_environ(f"sqlite:///{tmp_path / 'tt.db'}")
    log = tmp_path / "servers.log"  # Rasa warns "No valid model found" there, and serves anyway
    servers = Servers(load_settings(environ), broken, environ=environ, run_dir=tmp_path / "run", log_file=log)
    servers.start()
    try:
        wait_for_http(f"{servers.base_url}/")  # Rasa serves, with no model
        with pytest.raises(RuntimeError, match="not ready after 5 s") as raised:
            servers.wait_until_ready(timeout=5)
    finally:
        servers.stop()

    assert "the rasa server: the server answered itself (no_reply), not the model" in str(raised.value)
