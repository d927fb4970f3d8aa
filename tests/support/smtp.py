"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for tests and benchmarks."""

from __future__ import annotations

import email
import threading
from collections.abc import Callable
from email import policy
from email.message import EmailMessage

from tests.support.servers import free_port


class Inbox:
    """An aiosmtpd handler keeping every message it accepts, parsed.

    The server runs in its own thread; ``wait_for`` lets another thread (a
    browser test, say) block until the message it expects has arrived.
    """

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted"

    def wait_for(self, wanted: Callable[[EmailMessage], bool], count: int = 1,
                 timeout: float = 30) -> list[EmailMessage]:
        """The first ``count`` messages that are ``wanted``, once that many have arrived."""
        def found() -> list[EmailMessage] | None:
            hits = [m for m in self.messages if wanted(m)]
            return hits[:count] if len(hits) >= count else None

        with self._arrived:
            hits = self._arrived.wait_for(found, timeout)
        if hits is None:
            raise TimeoutError(f"{count} wanted message(s) did not arrive within {timeout} s "
                               f"({len(self.messages)} other(s) did)")
        return hits


class SmtpServer:
    """A real SMTP server (aiosmtpd) on loopback that can be taken down and brought back on its port."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def up(self) -> SmtpServer:
        from aiosmtpd.controller import Controller  # a test dependency, not the app's

        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self) -> SmtpServer:
        return self.up()

    def __exit__(self, *exc_info: object) -> None:
        self.down()

