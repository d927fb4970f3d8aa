"""The webhook worker: claims due deliveries, signs them and sends them, and keeps the log.

Runs beside the message worker, inside ``slotwise serve`` and in every
``slotwise worker``; several may run at once (claims don't overlap, see
``persistence/webhooks.claim_due``). A booking never waits for it: the booking's
transaction only wrote a row.

Each endpoint is served by its own task, at most :data:`PER_ENDPOINT`
deliveries per claim, sent one after the other in the order they were queued
(so a receiver normally sees a booking's events in order; the ``sequence`` in
the data settles the rest). While an endpoint's task runs, the worker claims
nothing more for it, so a slow or dead receiver holds one task, never the
others: up to :data:`ENDPOINTS_IN_FLIGHT` endpoints are served at once.

Signing follows Standard Webhooks: ``webhook-id`` is the event's id, the same
on every retry; ``webhook-timestamp`` and the signatures are made afresh for
each attempt (receivers refuse timestamps older than five minutes).
"""

from __future__ import annotations

import asyncio
import html
import logging
import random
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from standardwebhooks.webhooks import Webhook

from slotwise.adapters.delivery import OutgoingEmail
from slotwise.adapters.webhook_sender import SendResult, WebhookSender
from slotwise.clock import Clock
from slotwise.domain import webhooks as rules
from slotwise.i18n import N_, Formatter
from slotwise.persistence import outbox
from slotwise.persistence import webhooks as store
from slotwise.persistence.outbox import QueuedMessage
from slotwise.services.notifications import Messaging
from slotwise.services.webhooks import signing_secrets, sweep_log

log = logging.getLogger(__name__)

PER_ENDPOINT = 10
ENDPOINTS_IN_FLIGHT = 16
# Longer than one claim's sends may take: PER_ENDPOINT × the 10 s timeout, and more.
LEASE = timedelta(minutes=3)
POLL_SECONDS = 0.1
SWEEP_EVERY = timedelta(hours=1)
STOP_GRACE_SECONDS = 15.0


class WebhookDeliverer:
    def __init__(self, *, sender: WebhookSender, clock: Clock, secret_key: str, messaging: Messaging,
                 jitter: Callable[[], float] = lambda: random.uniform(-1, 1)) -> None:
        self.sender = sender
        self.clock = clock
        self.secret_key = secret_key
        self.messaging = messaging
        self.jitter = jitter
        self._last_sweep = None

    async def deliver_due(self) -> int:
        """One round: claim what is due now and send it all; returns how many deliveries were tried."""
        claimed = await store.claim_due(now=self.clock(), lease=LEASE, limit=ENDPOINTS_IN_FLIGHT * PER_ENDPOINT,
                                        per_endpoint=PER_ENDPOINT)
        await asyncio.gather(*(self._deliver_all(rows) for rows in _by_endpoint(claimed).values()))
        return len(claimed)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set, one task per endpoint being served; failures are logged, never fatal."""
        serving: dict[int, asyncio.Task] = {}
        while not stop.is_set():
            for endpoint in [e for e, task in serving.items() if task.done()]:
                serving.pop(endpoint)
            claimed: list[dict[str, Any]] = []
            free = ENDPOINTS_IN_FLIGHT - len(serving)
            try:
                await self._sweep_now_and_then()
                if free > 0:
                    claimed = await store.claim_due(now=self.clock(), lease=LEASE, limit=free * PER_ENDPOINT,
                                                    per_endpoint=PER_ENDPOINT, busy_endpoints=list(serving))
            except Exception:  # the database may be briefly away; try again shortly
                log.exception("webhook round failed")
            for endpoint, rows in _by_endpoint(claimed).items():
                serving[endpoint] = asyncio.create_task(self._deliver_all(rows), name=f"webhooks-{endpoint}")
            # Claim on a steady beat, not after every send: events made meanwhile are
            # then claimed and recorded together, and the write lock (on SQLite the
            # bookings' lock too) is taken a few times a second, not once per event.
            try:
                await asyncio.wait_for(stop.wait(), timeout=POLL_SECONDS)
            except TimeoutError:
                pass
        if serving:
            await asyncio.wait(serving.values(), timeout=STOP_GRACE_SECONDS)
            for task in serving.values():
                task.cancel()

    async def _sweep_now_and_then(self) -> None:
        now = self.clock()
        if self._last_sweep is None or now - self._last_sweep >= SWEEP_EVERY:
            self._last_sweep = now
            await sweep_log(now=now)

    async def _deliver_all(self, rows: list[dict[str, Any]]) -> None:
        """Send one endpoint's claimed deliveries in order, then record what came of them (see ``record_round``).

        If recording fails (the database away), the rows stay claimed until
        their lease runs out and are sent again: at least once, never lost.
        """
        sent: list[tuple[dict[str, Any], SendResult | None]] = []
        gone = False
        for row in rows:
            if gone and row["event_type"] != rules.WEBHOOK_TEST:
                sent.append((row, None))  # the receiver said 410: the rest wait, paused, with the endpoint
                continue
            try:
                result = await self.send(row)
            except Exception:  # a bug: the lease runs out and it is tried again
                log.exception("webhook delivery %s failed", row.get("public_id"))
                continue
            sent.append((row, result))
            gone = gone or (result is not None and result.status is not None
                            and rules.disables_endpoint(result.status) and row["event_type"] != rules.WEBHOOK_TEST)
        try:
            await self.record_round(sent)
        except Exception:
            log.exception("recording webhook deliveries failed")

    async def record_round(self, sent: list[tuple[dict[str, Any], SendResult | None]]) -> None:
        """What a round of sends to one endpoint came to: the successes in one short transaction, the rest
        (retries, failures, a disabled endpoint) in another.

        The successes, nearly every round's whole lot, are recorded together in
        three statements (on SQLite in one burst on the event loop), so the
        worker holds the write lock (on SQLite the bookings' lock too) for a
        moment, not for three statements per delivery.
        """
        succeeded = [(row, result) for row, result in sent if _succeeded(result)]
        if succeeded:
            await store.record_succeeded(succeeded[0][0]["endpoint"],
                                         [(row["id"], _attempt(result)) for row, result in succeeded],
                                         now=self.clock())
        others = [(row, result) for row, result in sent if not _succeeded(result)]
        if others:
            async with store.recording():
                for row, result in others:
                    await self.record(row, result)

    def headers(self, row: dict[str, Any]) -> dict[str, str]:
        """Standard Webhooks headers, signed now with every secret that signs (two during a rotation)."""
        now = self.clock()
        signatures = [Webhook(secret).sign(row["message_id"], now, row["payload"])
                      for secret in signing_secrets(row, secret_key=self.secret_key, now=now)]
        return {"webhook-id": row["message_id"], "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": " ".join(signatures)}

    async def send(self, row: dict[str, Any]) -> SendResult | None:
        """One attempt of one claimed delivery; None when its endpoint was disabled since it was queued."""
        if not row["endpoint_enabled"] and row["event_type"] != rules.WEBHOOK_TEST:
            return None
        try:
            headers = self.headers(row)
        except ValueError:  # sealed under another SLOTWISE_SECRET_KEY: fails like an unreachable receiver
            return SendResult("error", None, 0, "", error=(
                "the endpoint's secret cannot be opened (SLOTWISE_SECRET_KEY changed?); rotate its secret"))
        return await self.sender.send(row["url"], headers, row["payload"].encode())

    async def record(self, row: dict[str, Any], result: SendResult | None) -> None:
        """What follows from an attempt's answer; inside ``store.recording()``."""
        if result is None:
            await store.release(row["id"])  # waits, paused, until the endpoint is enabled again
            return
        is_test = row["event_type"] == rules.WEBHOOK_TEST
        now = self.clock()
        attempt = _attempt(result)
        status = result.status
        if status is not None and rules.is_success(status):
            await store.record_succeeded(row["endpoint"], [(row["id"], attempt)], now=now)
            return
        if status is not None and rules.disables_endpoint(status) and not is_test:
            await self._give_up(row, attempt, now, reason="gone")
            return
        delay = None if is_test else rules.retry_delay(
            row["attempts"], self.jitter(), rules.parse_retry_after(result.retry_after, now))
        if delay is None:
            # The schedule ran out. If the endpoint has not succeeded once since this
            # delivery was queued, it has failed for the whole schedule: disable it.
            last = row["last_success_at"]
            failing = row["attempts"] == rules.ATTEMPTS and (last is None or last < row["created_at"])
            if failing and not is_test:
                await self._give_up(row, attempt, now, reason="failing")
            else:
                await store.record_failed(row["id"], attempt, now=now)
            return
        await store.record_retry(row["id"], attempt, next_attempt_at=now + delay, now=now)

    async def _give_up(self, row: dict[str, Any], attempt: store.Attempt, now, *, reason: str) -> None:
        """Fail the delivery and disable its endpoint; if this disabled it, tell the owners (same transaction)."""
        if await store.record_failed(row["id"], attempt, now=now, disable_endpoint=(row["endpoint"], REASONS[reason])):
            await self._queue_owner_email(row, reason=reason, now=now)
            log.warning("webhook endpoint %s disabled: %s", row["endpoint"], REASONS[reason])

    async def _queue_owner_email(self, row: dict[str, Any], *, reason: str, now) -> None:
        """Email the site's notification address and owners that an endpoint was disabled (through the outbox)."""
        site = await store.site_contact(row["site"])
        endpoint = await store.endpoint_by_id(row["endpoint"])
        if site is None or endpoint is None:
            return
        recipients = [site["notify_email"]] if site["notify_email"] else []
        recipients += await store.owner_emails(row["site"])
        if not recipients:
            recipients = [site["contact_email"]] if site["contact_email"] else []
        formatter = Formatter(site["locale"] or "en")
        variables = {"url": endpoint["url"], "endpoint": endpoint["public_id"], "site": site["name"]}
        subject = formatter.gettext("Webhook disabled: %(url)s", **variables)
        why = formatter.gettext(REASONS[reason])
        text = "\n\n".join([
            formatter.gettext("Slotwise stopped sending webhooks to %(url)s (%(endpoint)s) of %(site)s.",
                              **variables),
            why,
            formatter.gettext("Check the receiver, then enable the endpoint again (PATCH with "
                              "\"enabled\": true); deliveries queued meanwhile are sent then, and failed ones "
                              "can be sent again from the delivery log."),
        ])
        body = "".join(f"<p>{html.escape(part)}</p>" for part in text.split("\n\n"))
        messages = []
        from slotwise.services.delivery import email_to_json

        for recipient in dict.fromkeys(recipients):
            uid = uuid.uuid4()
            email = OutgoingEmail(to=recipient, from_address=self.messaging.mail_from, from_name=site["name"],
                                  reply_to=None, subject=subject, text=text,
                                  html=f"<!doctype html><html><body>{body}</body></html>",
                                  message_id=self.messaging.message_id(uid))
            messages.append(QueuedMessage(uid=uid, site_id=row["site"], booking_id=None, event="webhook-disabled",
                                          channel="email", recipient=recipient, content=email_to_json(email),
                                          send_at=now))
        await outbox.queue(messages, now=now)


# Why an endpoint was disabled: stored on it, and told to its owners (msgids).
REASONS = {
    "gone": N_("The receiver answered 410 Gone, which says the endpoint no longer exists."),
    "failing": N_("Every attempt to deliver to it failed for the whole retry schedule (about three days)."),
}


def _by_endpoint(rows: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    groups: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["endpoint"], []).append(row)
    return groups


def _succeeded(result: SendResult | None) -> bool:
    return result is not None and result.status is not None and rules.is_success(result.status)


def _attempt(result: SendResult) -> store.Attempt:
    if result.outcome == "answered":
        assert result.status is not None
        outcome = "succeeded" if rules.is_success(result.status) else "failed"
        error = None if outcome == "succeeded" else f"HTTP {result.status}"
    else:
        outcome, error = result.outcome, result.error
    return store.Attempt(outcome=outcome, status_code=result.status, duration_ms=result.duration_ms,
                         response_excerpt=result.excerpt, error=error)
