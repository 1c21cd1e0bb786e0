"""The one place that reads the environment (and `.env`).

Every setting is documented in `.env.example`. A bad value stops start-up with one
line that names the setting and what it allows, raised as `SettingsError`.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

PROJECT_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_DIR / "var"
REGIONS = ("uk", "ie", "us", "ca", "au")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
NATIONS = ("england", "wales", "scotland", "northern_ireland")  # UK schools follow their nation's guidance
# The person a member of staff tells, by the name each nation's guidance gives them (facts.md,
# "Schools in the four nations"): the full title, then the short form used in a sentence.
LEAD_TITLES = {
    "england": ("Designated Safeguarding Lead (DSL)", "DSL"),
    "wales": ("designated safeguarding person (DSP)", "DSP"),
    "northern_ireland": ("Designated Teacher for Child Protection", "designated teacher"),
    "scotland": ("Child Protection Coordinator", "child protection coordinator"),
}
LEAD_TITLE_OUTSIDE_UK = ("safeguarding lead", "safeguarding lead")  # facts.md names no title elsewhere
_MIN_TOKEN_LENGTH = 32


class SettingsError(ValueError):
    """A setting has a value the assistant cannot start with."""


class DatabaseUnavailable(SettingsError):
    """The database that TT_DATABASE_URL names does not answer."""


@dataclass(frozen=True)
class Settings:
    region: str
    nation: str
    database_url: str
    host: str
    port: int
    actions_port: int
    action_server_url: str
    widget_port: int
    allowed_origins: tuple[str, ...]
    api_enabled: bool
    api_token: str | None
    school_name: str | None
    dsl_contact: str | None
    log_level: str
    retention_days: int
    rate_limit_per_minute: int
    schools_file: Path | None = None  # the school registry (bot/schools.py); None: one school, from the settings above
    redis_url: str | None = None  # shared locks and rate limits for several servers; None: kept in this process
    trusted_proxies: tuple[str, ...] = ()  # addresses whose X-Forwarded-For names the client
    database_pool_size: int = 5  # connections each process keeps open to the database

    @property
    def safeguarding_lead(self) -> str:
        """The lead's full title, as staff in this deployment's schools know it."""
        return self._lead_titles[0]

    @property
    def lead(self) -> str:
        """The lead's short title, for "tell your DSL now"."""
        return self._lead_titles[1]

    @property
    def _lead_titles(self) -> tuple[str, str]:
        return LEAD_TITLES[self.nation] if self.region == "uk" else LEAD_TITLE_OUTSIDE_UK

    @property
    def database_is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip() or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SettingsError(f"{name}={raw!r} is not allowed: use a port number from 1 to 65535.")
    return int(raw)


def _whole_number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip() or str(default)
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise SettingsError(f"{name}={raw!r} is not allowed: use a whole number from {low} to {high}.")
    return int(raw)


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip() or default
    value = raw.lower() if name != "TT_LOG_LEVEL" else raw.upper()
    if value not in allowed:
        raise SettingsError(f"{name}={raw!r} is not allowed: use one of {', '.join(allowed)}.")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower() or "false"
    if raw not in ("true", "false", "1", "0", "yes", "no"):
        raise SettingsError(f"{name}={raw!r} is not allowed: use true or false.")
    return raw in ("true", "1", "yes")


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _http_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name}={raw!r} is not allowed: use an http:// or https:// address.")
    return raw


def _database_url(env: Mapping[str, str]) -> str:
    default = f"sqlite:///{VAR_DIR / 'talk_together.db'}"
    raw = env.get("TT_DATABASE_URL", "").strip() or default
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", raw):
        raise SettingsError(
            f"TT_DATABASE_URL={raw!r} is not allowed: use sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE."
        )
    return raw


def _origins(env: Mapping[str, str], widget_port: int) -> tuple[str, ...]:
    default = f"http://localhost:{widget_port},http://127.0.0.1:{widget_port}"
    raw = env.get("TT_ALLOWED_ORIGINS", "").strip() or default
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
            raise SettingsError(
                f"TT_ALLOWED_ORIGINS has {origin!r}, which is not allowed: list origins "
                "like https://school.example, separated by commas (no '*', no paths)."
            )
    return origins


def _schools_file(env: Mapping[str, str]) -> Path | None:
    raw = env.get("TT_SCHOOLS_FILE", "").strip()
    if not raw:
        return None
    path = Path(raw) if Path(raw).is_absolute() else PROJECT_DIR / raw
    if not path.is_file():
        raise SettingsError(f"TT_SCHOOLS_FILE={raw!r} is not allowed: no such file (see schools.example.yml).")
    return path


def _redis_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("TT_REDIS_URL", "").strip()
    if raw and not re.match(r"^rediss?://[^/\s]+(/\d+)?$", raw):
        raise SettingsError(
            f"TT_REDIS_URL={raw!r} is not allowed: use redis://HOST:PORT/DB, e.g. redis://127.0.0.1:6379/0."
        )
    return raw or None


def _addresses(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "").strip()
    addresses = tuple(a.strip() for a in raw.split(",") if a.strip())
    for address in addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError as error:
            raise SettingsError(
                f"{name} has {address!r}, which is not allowed: list IP addresses like 127.0.0.1, separated by commas."
            ) from error
    return addresses


def environment(environ: Mapping[str, str] | None = None, env_file: Path = PROJECT_DIR / ".env") -> dict[str, str]:
    """What the settings are read from: `env_file` overlaid by `environ` (default: the process environment)."""
    file_values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    return {**file_values, **(os.environ if environ is None else environ)}


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path = PROJECT_DIR / ".env") -> Settings:
    """Read settings from `env_file` overlaid by `environ` (default: the process environment)."""
    env = environment(environ, env_file)

    port = _port(env, "TT_PORT", 5005)
    actions_port = _port(env, "TT_ACTIONS_PORT", 5055)
    widget_port = _port(env, "TT_WIDGET_PORT", 8080)
    if len({port, actions_port, widget_port}) != 3:
        raise SettingsError(
            f"TT_PORT={port}, TT_ACTIONS_PORT={actions_port} and TT_WIDGET_PORT={widget_port} "
            "are not allowed: the three ports must differ."
        )
    action_server_url = _http_url(
        "TT_ACTION_SERVER_URL",
        env.get("TT_ACTION_SERVER_URL", "").strip() or f"http://127.0.0.1:{actions_port}/webhook",
    )

    api_enabled = _flag(env, "TT_API_ENABLED")
    api_token = _optional(env, "TT_API_TOKEN")
    if api_enabled and (api_token is None or len(api_token) < _MIN_TOKEN_LENGTH):
        raise SettingsError(
            f"TT_API_TOKEN is not allowed: with TT_API_ENABLED=true it must be at least "
            f"{_MIN_TOKEN_LENGTH} characters (try: python -c 'import secrets; print(secrets.token_urlsafe(32))')."
        )

    host = env.get("TT_HOST", "").strip() or "127.0.0.1"
    if not re.match(r"^[\w.:-]+$", host):
        raise SettingsError(f"TT_HOST={host!r} is not allowed: use an address such as 127.0.0.1 or 0.0.0.0.")

    return Settings(
        region=_choice(env, "TT_REGION", "uk", REGIONS),
        nation=_choice(env, "TT_NATION", "england", NATIONS),
        database_url=_database_url(env),
        host=host,
        port=port,
        actions_port=actions_port,
        action_server_url=action_server_url,
        widget_port=widget_port,
        allowed_origins=_origins(env, widget_port),
        api_enabled=api_enabled,
        api_token=api_token if api_enabled else None,
        school_name=_optional(env, "TT_SCHOOL_NAME"),
        dsl_contact=_optional(env, "TT_DSL_CONTACT"),
        log_level=_choice(env, "TT_LOG_LEVEL", "INFO", LOG_LEVELS),
        retention_days=_whole_number(env, "TT_RETENTION_DAYS", 30, 1, 3650),
        rate_limit_per_minute=_whole_number(env, "TT_RATE_LIMIT_PER_MINUTE", 30, 1, 100_000),
        schools_file=_schools_file(env),
        redis_url=_redis_url(env),
        trusted_proxies=_addresses(env, "TT_TRUSTED_PROXIES"),
        database_pool_size=_whole_number(env, "TT_DATABASE_POOL_SIZE", 5, 1, 100),
    )
