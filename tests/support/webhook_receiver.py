"""A webhook receiver on loopback that checks signatures with the ``standardwebhooks`` package's own verifier.

``async with WebhookReceiver(secrets=[secret]) as receiver:`` serves any
``POST`` on 127.0.0.1 at a free port (``receiver.url``). Each request is
recorded in ``receiver.received`` (``Received``: headers, body, parsed JSON and
which of the known secrets verified it). What it answers is scripted:
``receiver.answers`` is a list of ``Answer`` used one per request (then 200),
and an answer may ``hang`` until ``receiver.release()`` (a receiver that does
not answer), carry a ``Retry-After``, or a large body. ``stop()`` takes it down
(connections are then refused).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.support.servers import free_port


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    hang: bool = False  # wait until release() before answering


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: str
    verified_by: tuple[int, ...]  # indexes into the receiver's secrets that verify the signature

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def verified(self) -> bool:
        return bool(self.verified_by)


@dataclass
class WebhookReceiver:
    secrets: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    received: list[Received] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hooks"

    async def start(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._receive)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        self.port = self.port or free_port(self.host)
        await web.TCPSite(self._runner, self.host, self.port).start()
        return self

    async def stop(self) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def release(self) -> None:
        self._released.set()

    async def __aenter__(self) -> WebhookReceiver:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def events(self) -> list[dict[str, Any]]:
        return [r.json for r in self.received]

    async def _receive(self, request: web.Request) -> web.StreamResponse:
        body = (await request.read()).decode()
        headers = {k.lower(): v for k, v in request.headers.items()}
        verified = []
        for index, secret in enumerate(self.secrets):
            try:
                Webhook(secret).verify(body, headers)
                verified.append(index)
            except WebhookVerificationError:
                pass
        self.received.append(Received(request.path, headers, body, tuple(verified)))
        self.arrived.set()
        answer = self.answers.pop(0) if self.answers else Answer()
        if answer.hang:
            await self._released.wait()
        return web.Response(status=answer.status, headers=answer.headers, body=answer.body)
