"""Settings: sensible defaults, `.env` under the environment, one clear line per bad value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

NO_FILE = Path("/nonexistent/.env")


def test_defaults_are_safe_for_a_fresh_machine():
    settings = load_settings({}, env_file=NO_FILE)

    assert settings.region == "uk"
    assert (settings.nation, settings.lead) == ("england", "DSL")
    assert settings.database_is_sqlite and settings.database_url.endswith("var/talk_together.db")
    assert settings.host == "127.0.0.1"
    assert (settings.port, settings.actions_port) == (5005, 5055)
    assert settings.action_server_url == "http://127.0.0.1:5055/webhook"
    assert settings.api_enabled is False and settings.api_token is None
    assert settings.allowed_origins == ("http://localhost:8080", "http://127.0.0.1:8080")
    assert settings.school_name is None and settings.dsl_contact is None
    assert (settings.retention_days, settings.rate_limit_per_minute) == (30, 30)


def test_env_file_is_read_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("TT_REGION=ie\nTT_SCHOOL_NAME=Oak Primary\n")

    settings = load_settings({"TT_REGION": "au"}, env_file=env_file)

    assert settings.region == "au"
    assert settings.school_name == "Oak Primary"


def test_postgres_url_and_origins_are_accepted():
    settings = load_settings(
        {
            "TT_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
            "TT_ALLOWED_ORIGINS": "https://oak.sch.uk/, https://www.oak.sch.uk",
        },
        env_file=NO_FILE,
    )

    assert not settings.database_is_sqlite
    assert settings.allowed_origins == ("https://oak.sch.uk", "https://www.oak.sch.uk")


def test_api_needs_a_long_token():
    token = "x" * 40
    settings = load_settings({"TT_API_ENABLED": "true", "TT_API_TOKEN": token}, env_file=NO_FILE)

    assert settings.api_enabled and settings.api_token == token


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"TT_REGION": "mars"}, "TT_REGION"),
        ({"TT_NATION": "cornwall"}, "TT_NATION"),
        ({"TT_PORT": "70000"}, "TT_PORT"),
        ({"TT_ACTIONS_PORT": "abc"}, "TT_ACTIONS_PORT"),
        ({"TT_PORT": "6000", "TT_ACTIONS_PORT": "6000"}, "TT_ACTIONS_PORT"),
        ({"TT_DATABASE_URL": "mysql://root@localhost/db"}, "TT_DATABASE_URL"),
        ({"TT_ALLOWED_ORIGINS": "*"}, "TT_ALLOWED_ORIGINS"),
        ({"TT_ALLOWED_ORIGINS": "https://oak.sch.uk/chat"}, "TT_ALLOWED_ORIGINS"),
        ({"TT_API_ENABLED": "true"}, "TT_API_TOKEN"),
        ({"TT_API_ENABLED": "true", "TT_API_TOKEN": "short"}, "TT_API_TOKEN"),
        ({"TT_API_ENABLED": "maybe"}, "TT_API_ENABLED"),
        ({"TT_ACTION_SERVER_URL": "localhost:5055"}, "TT_ACTION_SERVER_URL"),
        ({"TT_LOG_LEVEL": "chatty"}, "TT_LOG_LEVEL"),
        ({"TT_HOST": "127.0.0.1; rm -rf /"}, "TT_HOST"),
        ({"TT_RETENTION_DAYS": "0"}, "TT_RETENTION_DAYS"),
        ({"TT_RATE_LIMIT_PER_MINUTE": "lots"}, "TT_RATE_LIMIT_PER_MINUTE"),
    ],
)
def test_a_bad_value_is_one_line_that_names_the_setting(environ, named):
    with pytest.raises(SettingsError) as error:
        load_settings(environ, env_file=NO_FILE)

    message = str(error.value)
    assert re.search(rf"\b{named}\b", message)
    assert "\n" not in message and "allowed" in message
