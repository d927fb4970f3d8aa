"""SMS through Twilio's Messages API with the official SDK's async client.

``TwilioTexter(account_sid, auth_token, api_base=...)`` is an ``SmsSender``:
``await texter.send(sms)`` returns the message SID ("SM…"). The SDK's HTTP
client (an aiohttp session) must be created inside a running event loop, so
it is made on the first ``send`` and closed by ``await texter.aclose()``
(or ``async with TwilioTexter(...)``); a later ``send`` makes a new one.

``api_base`` (``SLOTWISE_TWILIO_API_BASE``, e.g. ``http://127.0.0.1:8025``)
replaces the scheme and host of every request URL, whatever Twilio domain
the SDK chose, keeping the path and query: tests point the real SDK at a
local peer with it. A path in ``api_base`` is put in front of Twilio's path.

Errors become the delivery contract's exceptions:

- 21610 (recipient replied STOP) → ``RecipientOptedOut``
- 20429, HTTP 429 and 5xx, connection errors and timeouts → ``TransientDeliveryError``
- any other 4xx (21211 invalid number, 21614 not a mobile, 21408 region not
  enabled, 20003 bad credentials, …) → ``PermanentDeliveryError``

``code`` on the raised error is Twilio's error code as a string (or the HTTP
status when Twilio gave none).
"""

from __future__ import annotations

import asyncio
import base64
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from slotwise.adapters.delivery import (
    OutgoingSms,
    PermanentDeliveryError,
    RecipientOptedOut,
    TransientDeliveryError,
)

OPTED_OUT = 21610
TOO_MANY_REQUESTS = 20429
DEFAULT_TIMEOUT = 30.0  # seconds for one request, connection included


class RebasedAsyncHttpClient(AsyncTwilioHttpClient):
    """``AsyncTwilioHttpClient`` sending every request to ``api_base`` instead of Twilio's hosts.

    ``request`` is the SDK's own, re-done: the URL rebased, Basic auth sent as
    a header (aiohttp 3.14 deprecates ``BasicAuth``), and a real timeout (the
    SDK passes ``timeout=None``, which aiohttp reads as "wait forever").
    """

    def __init__(self, api_base: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        base = urlsplit(api_base.rstrip("/")) if api_base else None
        if base is not None and not (base.scheme in ("http", "https") and base.netloc):
            raise ValueError(f"api_base must be an absolute URL like http://127.0.0.1:8025, not {api_base!r}")
        # pool_connections=False: no session from the SDK; ours carries the timeout.
        super().__init__(pool_connections=False, timeout=timeout)
        self.api_base = base
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))

    def rebase(self, url: str) -> str:
        if self.api_base is None:
            return url
        parts = urlsplit(url)
        return urlunsplit((self.api_base.scheme, self.api_base.netloc,
                           self.api_base.path + parts.path, parts.query, parts.fragment))

    async def request(self, method: str, url: str, params: dict[str, object] | None = None,  # type: ignore[override]
                      data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
                      auth: tuple[str, str] | None = None, timeout: float | None = None,
                      allow_redirects: bool = False) -> Response:
        if timeout is not None and timeout <= 0:
            raise ValueError(timeout)
        headers = dict(headers or {})
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        kwargs: dict[str, Any] = {
            "method": method.upper(), "url": self.rebase(url), "params": params, "data": data,
            "headers": headers, "allow_redirects": allow_redirects,
        }
        if timeout is not None:
            kwargs["timeout"] = aiohttp.ClientTimeout(total=timeout)
        self.log_request(kwargs)
        assert self.session is not None
        async with self.session.request(**kwargs) as response:
            text = await response.text()
            self.log_response(response.status, response)
            return Response(response.status, text, response.headers)


def delivery_error(exc: TwilioRestException | TwilioServiceException) -> Exception:
    """The delivery-contract exception for an error Twilio answered with."""
    status = int(exc.status or 0)
    code = int(exc.code) if exc.code else None
    label = str(code if code is not None else status)
    text = f"Twilio refused the message: HTTP {status}, code {label}: {getattr(exc, 'msg', exc)}"
    if code == OPTED_OUT:
        return RecipientOptedOut(text, code=label)
    if code == TOO_MANY_REQUESTS or status == 429 or status >= 500:
        return TransientDeliveryError(text, code=label)
    if 400 <= status < 500:
        return PermanentDeliveryError(text, code=label)
    return TransientDeliveryError(text, code=label)  # anything else unexpected: try again later


class TwilioTexter:
    """Sends ``OutgoingSms`` through Twilio; an ``SmsSender``."""

    def __init__(self, account_sid: str, auth_token: str, *, api_base: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.api_base = api_base
        self.timeout = timeout
        self._http: RebasedAsyncHttpClient | None = None
        self._client: Client | None = None

    def _ensure_client(self) -> Client:
        # Synchronous, so two first sends in one loop cannot both create a client.
        if self._client is None:
            self._http = RebasedAsyncHttpClient(self.api_base, timeout=self.timeout)
            self._client = Client(self.account_sid, self._auth_token, http_client=self._http)
        return self._client

    async def send(self, sms: OutgoingSms) -> str:
        client = self._ensure_client()
        try:
            message = await client.messages.create_async(to=sms.to, from_=sms.from_number, body=sms.body)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise delivery_error(exc) from exc
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise TransientDeliveryError(f"Twilio unreachable: {type(exc).__name__}: {exc}") from exc
        if not message.sid:
            raise TransientDeliveryError("Twilio answered without a message SID")
        return message.sid

    async def aclose(self) -> None:
        http, self._http, self._client = self._http, None, None
        if http is not None:
            await http.close()

    async def __aenter__(self) -> TwilioTexter:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()
