"""A demo school website that embeds the widget, served on its own port (its own origin).

`python -m bot.demo_site --port 8080 --assistant http://127.0.0.1:5005` serves
widget/demo/index.html with the assistant's address filled in, as a school's site would
embed it: from another origin, so the browser applies the same rules as in production.
"""

from __future__ import annotations

import argparse
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bot.settings import PROJECT_DIR

DEMO_PAGE = PROJECT_DIR / "widget" / "demo" / "index.html"


class DemoHandler(BaseHTTPRequestHandler):
    def __init__(self, *args: object, page: bytes, **kwargs: object) -> None:
        self.page = page
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def do_GET(self) -> None:
        if self.path.split("?")[0] not in ("/", "/index.html"):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, format: str, *args: object) -> None:  # quiet: no request logs
        return


def page_for(assistant_url: str) -> bytes:
    return DEMO_PAGE.read_text(encoding="utf-8").replace("{{ASSISTANT_URL}}", assistant_url.rstrip("/")).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--assistant", required=True, help="the assistant's public address")
    args = parser.parse_args()
    handler = partial(DemoHandler, page=page_for(args.assistant))
    ThreadingHTTPServer(("127.0.0.1", args.port), handler).serve_forever()


if __name__ == "__main__":
    main()
