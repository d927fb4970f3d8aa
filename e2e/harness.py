"""What browser tests and the widget benchmark run on.

* ``demo_slotwise``: the real server (``slotwise serve``) with the demo site;
* ``HostSite``: a foreign web site on another loopback address: pages holding
  only the snippet (and a script of ours that records the widget's DOM events
  into ``window.__events``);
* ``FakeSlotwise``: the real loader with a fake booking page, to test the loader alone;
* how to launch Debian's Chromium.

The small servers run in threads of the calling process, on loopback only.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.servers import ServerProcess, free_port


REPO = Path(__file__).resolve().parents[1]
DEMO_SITE_FILE = REPO / "examples" / "harbour-physio.toml"
SITE = "harbour-physio"

CHROMIUM = os.environ.get("SLOTWISE_CHROMIUM", "/usr/bin/chromium")  # Debian's; we run as root
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]

# Loaded before the snippet, so even `slotwise:ready` of the fastest widget is caught.
RECORD_JS = """
window.__events = [];
window.__frameLoads = [];  // iframe load events (a blocked frame fires one too, with an error page)
document.addEventListener("load", function (event) {
  if (event.target.tagName === "IFRAME") window.__frameLoads.push(event.target.src);
}, true);
["ready", "slot-selected", "booked", "error"].forEach(function (type) {
  document.addEventListener("slotwise:" + type, function (event) {
    var box = event.target;
    window.__events.push({type: event.type, detail: event.detail, container: box.id || null});
  });
});
"""

Responder = Callable[[str], tuple[int, str, bytes] | None]  # path+query -> (status, content type, body)


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        answer = self.server.respond(self.path)
        if answer is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        status, content_type, body = answer
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, respond: Responder) -> None:
        super().__init__((host, 0), _Handler)
        self.respond = respond
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
        self.server_close()


class HostSite:
    """A foreign web site: pages registered by tests, plus ``/record.js``."""

    def __init__(self, host: str) -> None:
        self._pages: dict[str, str] = {}
        self.server = LoopbackServer(host, self._respond)

    @property
    def origin(self) -> str:
        return self.server.origin

    def add_page(self, name: str, body_html: str, *, title: str = "Host page", lang: str = "en") -> str:
        """Serves a page whose body is ``body_html``; returns its URL."""
        self._pages[f"/{name}.html"] = (
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title>"
            '<script src="/record.js"></script></head>'
            f"<body><main><h1>{html.escape(title)}</h1>{body_html}</main></body></html>"
        )
        return f"{self.origin}/{name}.html"

    def _respond(self, path: str) -> tuple[int, str, bytes] | None:
        path = urlsplit(path).path
        if path == "/record.js":
            return 200, "text/javascript; charset=utf-8", RECORD_JS.encode()
        page = self._pages.get(path)
        return None if page is None else (200, "text/html; charset=utf-8", page.encode())

    def __enter__(self) -> HostSite:
        self.server.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.__exit__(*exc_info)


def snippet(base: str, site: str, **data: str) -> str:
    """The owner's snippet, with optional ``data-*`` attributes (``target="#box"`` → ``data-target="#box"``)."""
    attributes = "".join(
        f' data-{name.replace("_", "-")}="{html.escape(value)}"' for name, value in data.items()
    )
    return f'<script async src="{html.escape(base)}/widget.js" data-site="{html.escape(site)}"{attributes}></script>'


# A stand-in for /book/{site} that speaks the embed contract and nothing else:
# it announces `ready`, reports its height whenever it changes, and lets a
# test post any message through `window.fake.post(type, detail)`.
FAKE_BOOKING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fake booking page</title>
<style>html, body { margin: 0; } main { display: flow-root; } #content { height: 300px; background: #eef; }</style></head>
<body><main id="root"><h1>Fake booking page</h1><div id="content"></div></main>
<script>
(function () {
  var q = new URLSearchParams(location.search);
  var wid = q.get("wid"), host = q.get("host");
  function post(type, detail) {
    parent.postMessage({source: "slotwise", widget: wid, type: type, detail: detail || {}}, host);
  }
  var root = document.getElementById("root");
  new ResizeObserver(function () { post("resize", {height: Math.ceil(root.getBoundingClientRect().height)}); })
    .observe(root);
  window.fake = {post: post, wid: wid, grow: function (px) {
    var c = document.getElementById("content"); c.style.height = (c.offsetHeight + px) + "px";
  }};
  post("ready", {});
})();
</script></body></html>
"""


class FakeSlotwise:
    """Serves the real ``/widget.js`` and a fake ``/book/{site}``: tests the loader alone."""

    def __init__(self, host: str, loader_body: bytes) -> None:
        self.loader_body = loader_body
        self.server = LoopbackServer(host, self._respond)

    @property
    def base(self) -> str:
        return self.server.origin

    def _respond(self, path: str) -> tuple[int, str, bytes] | None:
        path = urlsplit(path).path
        if path == "/widget.js":
            return 200, "text/javascript; charset=utf-8", self.loader_body
        if path.startswith("/book/"):
            return 200, "text/html; charset=utf-8", FAKE_BOOKING_PAGE.encode()
        return None

    def __enter__(self) -> FakeSlotwise:
        self.server.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.__exit__(*exc_info)


@dataclass(frozen=True)
class RunningSlotwise:
    base: str  # http://127.0.0.1:P
    database: Path  # the SQLite file, to check what the browser did
    log: Path


def site_file_allowing(origins: list[str], target: Path) -> Path:
    """A copy of the demo site file with ``origins`` added to its ``allowed_origins``."""
    text = DEMO_SITE_FILE.read_text(encoding="utf-8")
    added = "".join(f'\n    "{origin}",' for origin in origins)
    text, count = re.subn(r"^allowed_origins = \[", lambda m: m.group(0) + added, text, count=1, flags=re.M)
    if count != 1:
        raise ValueError(f"{DEMO_SITE_FILE} has no allowed_origins list")
    target.write_text(text, encoding="utf-8")
    return target


@contextmanager
def demo_slotwise(data_dir: Path, allowed_origins: list[str],
                  env: dict[str, str] | None = None) -> Iterator[RunningSlotwise]:
    """``slotwise serve`` on a free port with the demo site, SQLite under ``data_dir``.

    ``allowed_origins`` (host pages of the test) are added to the site's list.
    Nothing else is: /demo on the base URL frames the widget from the other
    loopback name, and the server's own origin is always a permitted framer.
    ``env`` adds or overrides settings (an SMTP server to deliver to, say).
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SLOTWISE_DATA_DIR": str(data_dir),
        "SLOTWISE_DATABASE_URL": f"sqlite:///{data_dir / 'slotwise.sqlite'}",
        "SLOTWISE_BASE_URL": base,
        "SLOTWISE_SECRET_KEY": "browser-tests-secret-key-not-for-production-0123456789",
        "SLOTWISE_DEV_OUTBOX": "1",
        **(env or {}),
    }
    site_file = site_file_allowing(allowed_origins, data_dir / "site.toml")
    applied = subprocess.run([sys.executable, "-m", "slotwise.cli", "apply", str(site_file)],
                             env=env, capture_output=True, text=True, timeout=120)
    if applied.returncode != 0:
        raise RuntimeError(f"slotwise apply failed:\n{applied.stdout}{applied.stderr}")
    log = data_dir / "server.log"
    with ServerProcess(env, port=port, log=log):
        yield RunningSlotwise(base=base, database=data_dir / "slotwise.sqlite", log=log)
