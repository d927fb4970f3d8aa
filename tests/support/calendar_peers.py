"""Calendar peers on loopback: a plain HTTP server serving ICS files, and a real Radicale CalDAV server."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.servers import free_port


class IcsServer:
    """Serves ``body`` at any path with an ETag (its SHA-256); ``status`` other than 200 answers that instead.

    Honours ``If-None-Match`` with 304. With ``status`` 302 it redirects to
    ``/moved.ics``, which serves the file. ``requests`` keeps each request's
    conditional header, so a test can see the sync asked conditionally.
    """

    def __init__(self, body: bytes = b"") -> None:
        self.body = body
        self.status = 200
        self.requests: list[dict[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                etag = '"' + hashlib.sha256(server.body).hexdigest()[:16] + '"'
                server.requests.append({"path": self.path, "if_none_match": self.headers.get("If-None-Match")})
                if server.status != 200 and not (server.status == 302 and self.path.endswith("/moved.ics")):
                    self.send_response(server.status)
                    if server.status == 302:  # to the same file at another path, which answers 200
                        self.send_header("Location", f"http://127.0.0.1:{server.httpd.server_address[1]}/moved.ics")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar; charset=utf-8")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/staff/anna.ics"

    def __enter__(self) -> IcsServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RadicaleServer:
    """Radicale (from PyPI) in a subprocess on a free loopback port, its collections in ``folder``.

    One user, ``anna`` with password ``secret-pw`` (htpasswd, plain); ``calendar_url``
    is her calendar ``work``, created on start with the ``caldav`` library.
    """

    USER, PASSWORD = "anna", "secret-pw"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.calendar_url = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> RadicaleServer:
        users = self.folder / "users"
        users.write_text(f"{self.USER}:{self.PASSWORD}\n")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{self.port}",
             "--storage-filesystem-folder", str(self.folder / "collections"),
             "--auth-type", "htpasswd", "--auth-htpasswd-filename", str(users),
             "--auth-htpasswd-encryption", "plain", "--rights-type", "owner_only",
             "--logging-level", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"radicale exited with {self.process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.__exit__()
                    raise TimeoutError("radicale did not start within 60 s") from None
                time.sleep(0.1)
        import caldav

        client = caldav.DAVClient(url=f"{self.url}{self.USER}/", username=self.USER, password=self.PASSWORD)
        self.calendar = client.principal().make_calendar(name="Work", cal_id="work")
        self.calendar_url = str(self.calendar.url)
        return self

    def events(self) -> list[str]:
        """The raw iCalendar text of every event in the calendar now."""
        return [obj.data for obj in self.calendar.events()]

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
