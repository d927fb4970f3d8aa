"""A local peer speaking Twilio's Messages API, for the real SDK to talk to.

``async with FakeTwilio(failures={"+15005550009": (400, 21610)}) as peer:``
serves ``POST /2010-04-01/Accounts/{sid}/Messages.json`` on 127.0.0.1 at a
free port (``peer.base_url``). A number listed in ``failures`` gets Twilio's
error JSON with that HTTP status and code; a number in ``delays`` is answered
after that many seconds; anything else is accepted with Twilio's 201 JSON
(``status: "queued"``). Every request that reached the route is recorded in
``peer.requests`` and every accepted message in ``peer.messages``
(``ReceivedSms``: account SID from the path, Basic-auth user, To, From, Body, SID).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from aiohttp import web

from tests.support.servers import free_port

API_VERSION = "2010-04-01"


@dataclass(frozen=True, slots=True)
class ReceivedSms:
    account_sid: str
    auth_user: str | None
    to: str
    from_: str
    body: str
    sid: str | None  # None when the peer refused it


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return user, password


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
         "status": status},
        status=status,
    )


@dataclass
class FakeTwilio:
    failures: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[ReceivedSms] = field(default_factory=list)
    messages: list[ReceivedSms] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> FakeTwilio:
        app = web.Application()
        app.router.add_post(f"/{API_VERSION}/Accounts/{{sid}}/Messages.json", self._create_message)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = self.port or free_port(self.host)
        await web.TCPSite(self._runner, self.host, self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTwilio:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _create_message(self, request: web.Request) -> web.Response:
        account_sid = request.match_info["sid"]
        credentials = _basic_auth(request.headers.get("Authorization"))
        form = await request.post()
        to, from_, body = (str(form.get(name, "")) for name in ("To", "From", "Body"))
        received = ReceivedSms(account_sid, credentials[0] if credentials else None, to, from_, body, None)
        self.requests.append(received)

        if credentials is None or credentials[0] != account_sid:
            return _error(401, 20003, "Authenticate")
        if not to or not from_ or not body:
            return _error(400, 21602 if not body else 21604, "A required parameter is missing.")
        if to in self.delays:
            await asyncio.sleep(self.delays[to])
        if to in self.failures:
            status, code = self.failures[to]
            if code is None:
                return web.Response(status=status, text="upstream trouble")
            return _error(status, code, f"Refused for {to} (code {code}).")

        sid = "SM" + secrets.token_hex(16)
        self.messages.append(ReceivedSms(account_sid, received.auth_user, to, from_, body, sid))
        now = format_datetime(datetime.now(UTC), usegmt=True)
        uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}"
        return web.json_response(
            {
                "account_sid": account_sid, "api_version": API_VERSION, "body": body,
                "date_created": now, "date_sent": None, "date_updated": now,
                "direction": "outbound-api", "error_code": None, "error_message": None,
                "from": from_, "messaging_service_sid": None, "num_media": "0",
                "num_segments": "1", "price": None, "price_unit": "USD", "sid": sid,
                "status": "queued", "to": to, "uri": f"{uri}.json",
                "subresource_uris": {"media": f"{uri}/Media.json"},
            },
            status=201,
        )
