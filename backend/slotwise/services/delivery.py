"""The outbox worker: claims due messages and hands them to the email or SMS sender.

Runs inside ``slotwise serve`` by default and alone as ``slotwise worker``, each
beside the webhook worker (``services/webhook_delivery.py``);
several may run at once (claims don't overlap, see persistence.outbox). A
booking request never waits for it: it only reads rows the booking's own
transaction wrote.

Delivery is at least once. A message is "sending" under a lease while its
worker talks to the provider; if the worker dies there, the lease runs out and
another worker sends it again with the same Message-ID, the only duplicate
SMTP itself allows. In normal operation each message is delivered once.

A sandbox site's messages (``[site] sandbox = true``) are never handed to a
provider: they end "sandboxed" and stay readable at ``/dev/messages``.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from slotwise.adapters.delivery import (
    Attachment,
    DeliveryError,
    EmailSender,
    OutgoingEmail,
    OutgoingSms,
    PermanentDeliveryError,
    RecipientOptedOut,
    SmsSender,
    TransientDeliveryError,
)
from slotwise.clock import Clock
from slotwise.domain.retry import gives_up, retry_delay
from slotwise.persistence import accounts, bookings, outbox
from slotwise.services import calendars, tokens
from slotwise.services.calendar_files import fill_calendar
from slotwise.services.tokens import MANAGE_TOKEN_PLACEHOLDER, fill_manage_token

log = logging.getLogger(__name__)

# Longer than any one send may take (aiosmtplib and Twilio time out well before).
LEASE = timedelta(minutes=2)
BATCH = 20
# Sends of one batch in flight at once: the wait for a provider's answer
# overlaps instead of adding up; low enough not to look like a flood.
IN_FLIGHT = 8
IDLE_PAUSE_SECONDS = 1.0


def email_to_json(email: OutgoingEmail) -> dict[str, Any]:
    data = asdict(email)
    data["attachments"] = [
        {**asdict(a), "content": base64.b64encode(a.content).decode()} for a in email.attachments
    ]
    return data


def email_from_json(data: dict[str, Any]) -> OutgoingEmail:
    attachments = tuple(
        Attachment(filename=a["filename"], content=base64.b64decode(a["content"]),
                   mime_type=a["mime_type"], params=dict(a["params"]))
        for a in data.get("attachments", [])
    )
    return OutgoingEmail(**{**data, "attachments": attachments})


def sms_to_json(sms: OutgoingSms) -> dict[str, Any]:
    return asdict(sms)


def sms_from_json(data: dict[str, Any]) -> OutgoingSms:
    return OutgoingSms(**data)


def with_manage_token(channel: str, content: dict[str, Any], token: str) -> dict[str, Any]:
    """Queued content with its manage-link placeholder replaced by the real token."""
    if channel == "sms":
        return {**content, "body": fill_manage_token(content["body"], token)}
    filled = {key: fill_manage_token(content[key], token) for key in ("subject", "text", "html")}
    attachments = []
    for attachment in content.get("attachments", []):
        if attachment["mime_type"] == "text/calendar":
            data = fill_calendar(base64.b64decode(attachment["content"]), MANAGE_TOKEN_PLACEHOLDER, token)
            attachment = {**attachment, "content": base64.b64encode(data).decode()}
        attachments.append(attachment)
    return {**content, **filled, "attachments": attachments}


def with_account_link(content: dict[str, Any], token: str) -> dict[str, Any]:
    """A queued invitation or reset email with its link's placeholder replaced by the real token."""
    return {**content, **{key: tokens.fill_account_link(content[key], token) for key in ("subject", "text", "html")}}


async def filled_content(row: dict[str, Any], secret_key: str) -> dict[str, Any]:
    """A queued message's content as it goes out: with the booking's working manage link,
    or the account's one-time link (invitation, reset)."""
    if row["booking"] is None:
        if tokens.ACCOUNT_LINK_PLACEHOLDER not in row["content"].get("text", ""):
            return row["content"]
        salt = await accounts.link_salt_for_message(row["uid"])
        if salt is None:  # the link's row is gone (long expired): a dead link helps nobody
            raise PermanentDeliveryError("the one-time link of this email no longer exists")
        return with_account_link(row["content"], tokens.account_link_token(secret_key, salt))
    uid, salt = await bookings.token_material(row["booking"])
    return with_manage_token(row["channel"], row["content"], tokens.manage_token(secret_key, uid, salt))


class Deliverer:
    def __init__(self, *, email: EmailSender, sms: SmsSender, clock: Clock, secret_key: str,
                 jitter: Callable[[], float] = lambda: random.uniform(-1, 1)) -> None:
        self.email = email
        self.sms = sms
        self.clock = clock
        self.secret_key = secret_key
        self.jitter = jitter

    async def deliver_due(self, limit: int = BATCH) -> int:
        """Send what is due now; returns how many messages were tried."""
        claimed = await outbox.claim_due(now=self.clock(), lease=LEASE, limit=limit)
        slots = asyncio.Semaphore(IN_FLIGHT)

        async def deliver(row: dict[str, Any]) -> None:
            async with slots:
                await self._deliver(row)

        await asyncio.gather(*(deliver(row) for row in claimed))
        return len(claimed)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; a failing round is logged, never fatal."""
        while not stop.is_set():
            try:
                tried = await self.deliver_due()
            except Exception:  # the database may be briefly away; try again shortly
                log.exception("outbox round failed")
                tried = 0
            if tried == 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=IDLE_PAUSE_SECONDS)
                except TimeoutError:
                    pass

    async def _deliver(self, row: dict[str, Any]) -> None:
        now = self.clock()
        message_id, channel = row["id"], row["channel"]
        if row.get("sandbox"):  # a sandbox site's message never reaches a provider
            await outbox.mark_sandboxed(message_id, now=now)
            return
        try:
            if channel == "sms":
                if await outbox.is_opted_out("sms", row["recipient"]):
                    await outbox.mark_failed(message_id, error="recipient opted out earlier",
                                             outcome="opted-out", now=now,
                                             then=_announce(row, "recipient opted out earlier", now))
                    return
                content = await filled_content(row, self.secret_key)
                provider_id = await self.sms.send(sms_from_json(content))
            else:
                content = await filled_content(row, self.secret_key)
                provider_id = await self.email.send(email_from_json(content))
        except RecipientOptedOut as exc:
            await outbox.record_opt_out(channel, row["recipient"], reason=str(exc), now=now)
            await outbox.mark_failed(message_id, error=_describe(exc), outcome="opted-out", now=now,
                                     then=_announce(row, _describe(exc), now))
        except PermanentDeliveryError as exc:
            await outbox.mark_failed(message_id, error=_describe(exc), outcome="permanent", now=now,
                                     then=_announce(row, _describe(exc), now))
        except (TransientDeliveryError, OSError, TimeoutError) as exc:
            if gives_up(row["created_at"], now):
                await outbox.mark_failed(message_id, error=_describe(exc), outcome="transient", now=now,
                                         then=_announce(row, _describe(exc), now))
            else:
                delay = retry_delay(row["attempts"], self.jitter())
                await outbox.mark_retry(message_id, error=_describe(exc),
                                        next_attempt_at=now + delay, now=now)
        else:
            await outbox.mark_sent(message_id, provider_id=provider_id, now=now)


def _announce(row: dict[str, Any], error: str, now):
    """The ``message.failed`` webhook event, queued in the transaction that gives the message up."""
    async def announce() -> None:
        from slotwise.services.webhooks import queue_message_failed

        await queue_message_failed({**row, "error": error}, now=now)
    return announce


def _describe(exc: BaseException) -> str:
    code = getattr(exc, "code", None) if isinstance(exc, DeliveryError) else None
    return f"{type(exc).__name__}{f' {code}' if code else ''}: {exc}"


class OutboxWorker:
    """A :class:`Deliverer` and a webhook deliverer running as background tasks of a process, and next to
    them the calendar sync and write-back (``services/calendars.run``)."""

    def __init__(self, settings, clock: Clock) -> None:
        from slotwise.adapters.senders import senders_from_settings
        from slotwise.adapters.webhook_sender import WebhookSender
        from slotwise.services.notifications import Messaging
        from slotwise.services.webhook_delivery import WebhookDeliverer

        self.email, self.sms = senders_from_settings(settings)
        self.deliverer = Deliverer(email=self.email, sms=self.sms, clock=clock,
                                   secret_key=settings.secret_key)
        self.webhook_sender = WebhookSender(allow_private=settings.allow_private_targets)
        self.webhooks = WebhookDeliverer(sender=self.webhook_sender, clock=clock, secret_key=settings.secret_key,
                                         messaging=Messaging.from_settings(settings))
        self.clock = clock
        self.calendar_outbound = calendars.Outbound.from_settings(settings)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self._stop.clear()
        self._tasks = [asyncio.create_task(self.deliverer.run(self._stop), name="slotwise-outbox"),
                       asyncio.create_task(self.webhooks.run(self._stop), name="slotwise-webhooks"),
                       asyncio.create_task(calendars.run(self._stop, outbound=self.calendar_outbound,
                                                         clock=self.clock), name="slotwise-calendars")]

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            await task
        await self.webhook_sender.aclose()
        closer = getattr(self.sms, "aclose", None)
        if closer is not None:
            await closer()


async def recent_messages(limit: int = 100) -> list[dict[str, Any]]:
    """The newest queued or sent messages, for the development outbox page."""
    return await outbox.recent_messages(limit)


async def message(uid: str) -> dict[str, Any] | None:
    return await outbox.message_by_uid(uid)
