"""The deployment files: nginx's configuration, for `make cluster` and for compose (each passes
`nginx -t`, and nginx routes as several Rasa servers need), compose.yaml and the Dockerfile."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from bot import nginx as nginx_config
from bot.cluster import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, Cluster, cluster_environ
from bot.local_servers import free_port, local_environ
from bot.settings import PROJECT_DIR, load_settings

COMPOSE_FILE = PROJECT_DIR / "compose.yaml"
DOCKERFILE = PROJECT_DIR / "Dockerfile"
RASA_SERVICES = ("rasa-1", "rasa-2")


def nginx_t(nginx: str, config: Path) -> None:
    result = subprocess.run([nginx, "-t", "-q", "-c", str(config)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def test_the_cluster_nginx_configuration_passes_nginx_t(nginx: str, tmp_path: Path) -> None:
    site = nginx_config.cluster_site("127.0.0.1", free_port(), [free_port(), free_port()])

    nginx_t(nginx, nginx_config.write_config(tmp_path, site))


def test_the_compose_nginx_configuration_passes_nginx_t(nginx: str, tmp_path: Path) -> None:
    service = compose()["services"]["nginx"]
    template = PROJECT_DIR / "deploy" / "nginx" / "talk-together.conf.template"
    assert f"./{template.relative_to(PROJECT_DIR)}:/etc/nginx/templates/default.conf.template:ro" in service["volumes"]
    assert template == nginx_config.SITE_TEMPLATE, "compose gives nginx the cluster's own site template"
    site = {name: value for name, value in service["environment"].items() if name.startswith("TT_NGINX_")}
    # nginx looks up its upstream servers' names when it loads the configuration, and compose's
    # names exist only inside its network.
    for name in RASA_SERVICES:
        assert f"server {name}:" in site["TT_NGINX_SERVERS"]
        site["TT_NGINX_SERVERS"] = site["TT_NGINX_SERVERS"].replace(f"server {name}:", "server 127.0.0.1:")

    nginx_t(nginx, nginx_config.write_config(tmp_path, site))


class _Upstream(BaseHTTPRequestHandler):
    """A stand-in Rasa server: answers every request with its name and the X-Forwarded-For it got."""

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"server": self.server.name, "forwarded_for": self.headers.get("X-Forwarded-For")})  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        return


@contextlib.contextmanager
def upstream(name: str) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.name = name  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def balancer(nginx: str, tmp_path: Path) -> Iterator[str]:
    """nginx as `make cluster` runs it, in front of servers "a" and "b" and one that is dead."""
    dead = free_port()  # nothing listens there: a server killed with kill -9
    port = free_port()
    with upstream("a") as a, upstream("b") as b:
        config = nginx_config.write_config(tmp_path, nginx_config.cluster_site("127.0.0.1", port, [a, dead, b]))
        process = subprocess.Popen(nginx_config.command(nginx, config), stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 10
            while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, "nginx does not listen"
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)


def ask(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> dict:
    request = urllib.request.Request(url, body, headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_every_socketio_request_of_a_conversation_reaches_one_live_server(balancer: str) -> None:
    chosen = {}
    for number in range(30):
        session = f"{number:08d}-0000-4000-8000-000000000000"
        servers = {
            ask(f"{balancer}/socket.io/?session_id={session}&EIO=4&transport=polling&t={poll}")["server"]
            for poll in range(3)
        }
        assert len(servers) == 1, f"conversation {session} was spread over {servers}"
        chosen[session] = servers.pop()

    assert set(chosen.values()) == {"a", "b"}, "conversations are spread over the servers, the dead one's too"


def test_rest_messages_are_spread_over_the_live_servers(balancer: str) -> None:
    servers = [
        ask(f"{balancer}/webhooks/rest/webhook", b'{"sender": "s", "message": "hi"}')["server"] for _ in range(6)
    ]

    assert set(servers) == {"a", "b"}


def test_the_servers_get_the_address_nginx_sees_not_one_the_client_claims(balancer: str) -> None:
    for path in ("/webhooks/rest/webhook", "/socket.io/?session_id=x&EIO=4&transport=polling"):
        seen = ask(balancer + path, headers={"X-Forwarded-For": "203.0.113.9"})

        assert seen["forwarded_for"] == "127.0.0.1", path


def test_compose_runs_two_rasa_servers_behind_nginx_and_publishes_nothing_else() -> None:
    services = compose()["services"]
    nginx = services["nginx"]

    assert set(services) == {*RASA_SERVICES, "actions", "purge", "postgres", "redis", "nginx"}
    assert [name for name, service in services.items() if "ports" in service] == ["nginx"]
    upstreams = re.findall(r"server ([\w-]+):(\d+);", nginx["environment"]["TT_NGINX_SERVERS"])
    assert upstreams == [(name, services[name]["environment"]["TT_PORT"]) for name in RASA_SERVICES]
    network = compose()["networks"]["internal"]
    assert network["internal"] is True, "nothing behind nginx reaches beyond the host"
    assert all(service["networks"] == ["internal"] for name, service in services.items() if name != "nginx")


def test_compose_gives_the_rasa_servers_valid_shared_settings(tmp_path: Path) -> None:
    services = compose()["services"]
    nginx_address = services["nginx"]["networks"]["internal"]["ipv4_address"]
    for name in RASA_SERVICES:
        # As compose fills it in from .env.
        environ = {
            k: v.replace("${TT_POSTGRES_PASSWORD:?set it in .env}", "pw")
            for k, v in services[name]["environment"].items()
        }
        settings = load_settings(environ, env_file=tmp_path / "no.env")

        assert settings.database_url == "postgresql://talk_together:pw@postgres:5432/talk_together"
        assert settings.redis_url == "redis://redis:6379/0"
        assert settings.action_server_url == "http://actions:5055/webhook"
        assert settings.trusted_proxies == (nginx_address,)
        assert services[name]["depends_on"]["purge"] == {"condition": "service_completed_successfully"}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) for each instruction, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_the_image_is_python_311_slim_and_runs_the_rasa_server_as_a_user() -> None:
    instructions = dockerfile_instructions()
    given = {keyword: [args for k, args in instructions if k == keyword] for keyword, _ in instructions}

    assert given["FROM"] == ["python:3.11-slim"]
    assert given["USER"][-1] not in ("root", "0")
    assert instructions[-1] == ("CMD", '["python", "-m", "bot.server"]')
    assert json.loads(given["CMD"][-1]) == ["python", "-m", "bot.server"]
    assert any("RASA_TELEMETRY_ENABLED=false" in env for env in given["ENV"])


def test_the_image_installs_the_locked_dependencies_with_the_makefiles_uv() -> None:
    makefile_uv = re.search(r"^UV_VERSION := (\S+)$", (PROJECT_DIR / "Makefile").read_text(), re.M)
    instructions = dockerfile_instructions()

    assert makefile_uv is not None
    assert ("ARG", f"UV_VERSION={makefile_uv.group(1)}") in instructions
    assert any(k == "RUN" and "uv pip sync" in args and "requirements/base.lock" in args for k, args in instructions)
    ignored = (PROJECT_DIR / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored, "the settings, with their secrets, are not baked into the image"


def test_the_cluster_uses_the_local_stores_only_where_none_is_set() -> None:
    chosen = cluster_environ({"TT_DATABASE_URL": "postgresql://u@db:5432/x", "TT_REDIS_URL": " "})
    unset = cluster_environ({"TT_DATABASE_URL": "", "TT_REDIS_URL": ""})  # over anything .env says

    assert chosen["TT_DATABASE_URL"] == "postgresql://u@db:5432/x"
    assert chosen["TT_REDIS_URL"] == DEFAULT_REDIS_URL
    assert (unset["TT_DATABASE_URL"], unset["TT_REDIS_URL"]) == (DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL)


def test_each_rasa_server_of_a_cluster_has_its_own_port_and_trusts_only_nginx(tmp_path: Path) -> None:
    environ = cluster_environ(local_environ("postgresql://u@db:5432/x"))
    settings = load_settings(environ)
    cluster = Cluster(settings, tmp_path / "model.tar.gz", environ, run_dir=tmp_path, servers=3, nginx_path="nginx")
    own = cluster.own_settings()

    assert list(cluster.commands()) == ["actions", "rasa-1", "rasa-2", "rasa-3", "nginx", "demo"]
    assert [own[name]["TT_PORT"] for name in cluster.server_names] == [str(port) for port in cluster.ports]
    assert len(set(cluster.ports) | {cluster.settings.port}) == 4, "nginx listens on TT_PORT, each server elsewhere"
    assert all(own[name]["TT_HOST"] == own[name]["TT_TRUSTED_PROXIES"] == "127.0.0.1" for name in cluster.server_names)
    assert cluster.commands()["nginx"][-2:] == ["-g", "daemon off;"], "a child in the foreground"
    assert set(cluster.model_urls()) == {*cluster.server_names, "nginx"}, "ready once each answers, and nginx"
