"""nginx's configuration for `make cluster`, from the templates in deploy/nginx/.

The site template (how requests reach the Rasa servers) is the one compose.yaml gives the nginx
image, whose envsubst fills in its ${TT_NGINX_...} variables from the environment; here they are
filled in the same way, and the cluster's main template wraps the site with paths under
var/run/nginx/ for everything nginx writes.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.settings import PROJECT_DIR

TEMPLATES = PROJECT_DIR / "deploy" / "nginx"
SITE_TEMPLATE = TEMPLATES / "talk-together.conf.template"
MAIN_TEMPLATE = TEMPLATES / "cluster.conf.template"
CONVERSATION_PARAMETER = "session_id"  # widget.js puts it in the socket.io URL; the site hashes on it
_VARIABLE = re.compile(r"\$\{(TT_NGINX_\w+)\}")
_DEBIAN_PATH = Path("/usr/sbin/nginx")  # not on a normal user's PATH


def render(template: Path, values: Mapping[str, str]) -> str:
    """`template` with its ${TT_NGINX_...} variables replaced, as envsubst does; nginx's own
    $variables are left alone."""
    text = template.read_text(encoding="utf-8")
    missing = sorted(set(_VARIABLE.findall(text)) - values.keys())
    if missing:
        raise KeyError(f"{template.name} needs {', '.join(missing)}")
    return _VARIABLE.sub(lambda match: values[match.group(1)], text)


def listen_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def cluster_site(host: str, port: int, server_ports: Iterable[int]) -> dict[str, str]:
    """The site's variables for nginx on host:port in front of Rasa servers on these loopback ports."""
    return {
        "TT_NGINX_LISTEN": listen_address(host, port),
        "TT_NGINX_SERVERS": " ".join(f"server 127.0.0.1:{p};" for p in server_ports),
    }


def config_path(run_dir: Path) -> Path:
    return run_dir / "nginx" / "nginx.conf"


def write_config(run_dir: Path, site: Mapping[str, str]) -> Path:
    """Write the site filled in with `site` and the main configuration around it into
    run_dir/nginx/; return the main file, for `nginx -c`."""
    main = config_path(run_dir)
    main.parent.mkdir(parents=True, exist_ok=True)
    site_file = main.parent / "talk-together.conf"
    site_file.write_text(render(SITE_TEMPLATE, site), encoding="utf-8")
    main.write_text(
        render(MAIN_TEMPLATE, {"TT_NGINX_RUN_DIR": str(main.parent), "TT_NGINX_SITE": str(site_file)}),
        encoding="utf-8",
    )
    return main


def executable() -> str | None:
    """nginx's path, or None when it is not installed (`make nginx` installs Debian's)."""
    found = shutil.which("nginx")
    if found is None and _DEBIAN_PATH.is_file():
        found = str(_DEBIAN_PATH)
    return found


def command(nginx: str, config: Path) -> list[str]:
    """nginx in the foreground, so it is a child the launcher supervises and stops."""
    return [nginx, "-c", str(config), "-g", "daemon off;"]
